"""The evaluation harness: the case mix, scoring against truth, and the files it writes."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest

from ductogram.analysis.graph import build_tree
from ductogram.analysis.reading import reading_from_tree
from ductogram.core import Image, ParameterError
from ductogram.evaluate.harness import LESIONS, draw_cases, evaluate, score_reading


def _y_truth(shape=(160, 160)):
    """A Y of tubes (stem 7 px wide, arms 5 px) as a simulator truth: centrelines from
    parent to child, radii in pixels, the painted contrast mask."""
    centre = np.array(
        [
            [[10.4, 80.3], [50.4, 80.3]],
            [[50.4, 80.3], [60.4, 80.3]],  # a chain node at row 50
            [[60.4, 80.3], [140.4, 40.3]],
            [[60.4, 80.3], [140.4, 120.3]],
        ]
    )
    radius = np.array([3.5, 3.5, 2.5, 2.5])
    r, c = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    mask = np.zeros(shape, bool)
    for (a, b), rad in zip(centre, radius, strict=True):
        v = b - a
        t = np.clip(((r - a[0]) * v[0] + (c - a[1]) * v[1]) / (v @ v), 0, 1)
        mask |= np.hypot(r - a[0] - t * v[0], c - a[1] - t * v[1]) <= rad
    return SimpleNamespace(
        contrast_mask=mask,
        breast_mask=np.ones(shape, bool),
        centreline_px=centre,
        radius_px=radius,
        generation=np.array([1, 1, 2, 2]),
    )


def test_perfect_reading_scores_perfectly():
    truth = _y_truth()
    image = Image(np.zeros(truth.contrast_mask.shape), (0.1, 0.1), truth=truth)
    tree = build_tree(truth.contrast_mask, (10.4, 80.3), pixel_mm=0.1)
    s = score_reading(image, reading_from_tree(image, tree, truth.contrast_mask))
    assert s["dice"] == 1.0 and s["cl_dice"] == 1.0
    assert (s["bifurcation_true"], s["bifurcation_read"], s["bifurcation_f1"]) == (1, 1, 1.0)
    assert (s["end_true"], s["end_read"], s["end_f1"]) == (2, 2, 1.0)
    # Stem 0.7 mm and arms 0.5 mm are scored (>= 0.5 mm), within a pixel (0.1 mm).
    assert s["calibre_matched"] > 20
    assert s["calibre_error_median_mm"] < 0.05
    assert s["calibre_pairs"].shape == (s["calibre_matched"], 2)


def test_shifted_reading_loses_points_and_overlap():
    truth = _y_truth()
    image = Image(np.zeros(truth.contrast_mask.shape), (0.1, 0.1), truth=truth)
    moved = np.roll(truth.contrast_mask, 15, axis=1)  # 1.5 mm to the side
    tree = build_tree(moved, (10.4, 95.3), pixel_mm=0.1)
    s = score_reading(image, reading_from_tree(image, tree, moved))
    assert s["bifurcation_f1"] == 0.0 and s["end_f1"] == 0.0
    assert s["dice"] < 0.5


def test_no_tree_scores_zero():
    truth = _y_truth()
    image = Image(np.zeros(truth.contrast_mask.shape), (0.1, 0.1), truth=truth)
    empty = np.zeros(truth.contrast_mask.shape, bool)
    s = score_reading(image, reading_from_tree(image, build_tree(empty, None, 0.1), empty))
    assert s["dice"] == 0.0 and s["bifurcation_recall"] == 0.0 and s["end_recall"] == 0.0
    assert s["message"] == "no contrast-filled duct found"
    assert np.isnan(s["calibre_error_median_mm"])


def test_score_needs_truth():
    image = Image(np.zeros((10, 10)), (0.1, 0.1))
    tree = build_tree(np.zeros((10, 10), bool), None, 0.1)
    with pytest.raises(ParameterError, match="truth"):
        score_reading(image, reading_from_tree(image, tree, np.zeros((10, 10), bool)))


def test_case_mix_is_seeded_and_varied():
    a = draw_cases(60, seed=4)
    assert a == draw_cases(60, seed=4)
    assert a[:10] == draw_cases(10, seed=4)
    assert a != draw_cases(60, seed=5)
    assert {c.view for c in a} == {"CC", "ML", "MLO"}
    assert {c.lesion for c in a} - {None} <= set(LESIONS)
    assert None in {c.lesion for c in a} and len({c.lesion for c in a}) >= 5
    assert all(0.3 <= c.fill_ml <= 2.0 for c in a)
    assert any(c.bubbles for c in a) and any(c.deodorant for c in a)
    with pytest.raises(ParameterError, match="cases"):
        draw_cases(0, seed=1)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "run"
    small = {"lobes": 8, "orifices": 4, "tdlus_per_lobe": 40}
    summary = evaluate(2, 7, out, pixel_mm=0.2, supersample=1, phantom=small)
    return out, summary


def test_writes_csv_summary_and_plots(small_run):
    out, summary = small_run
    assert sorted(p.name for p in out.iterdir()) == [
        "calibre.png",
        "cases.csv",
        "metrics.png",
        "summary.json",
    ]
    rows = list(csv.DictReader((out / "cases.csv").open()))
    assert len(rows) == 2
    for row in rows:
        assert 0.0 <= float(row["dice"]) <= 1.0
        assert float(row["read_s"]) > 0
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == summary
    assert summary["cases"] == 2 and summary["pixel_mm"] == 0.2
    assert set(summary["targets"]) == {
        "dice_mean",
        "cl_dice_mean",
        "bifurcation_f1_pooled",
        "calibre_error_median_mm",
    }
    # A real reading of a simulated view finds part of the tree.
    assert summary["figures"]["dice_mean"] > 0.3
    assert summary["figures"]["bifurcation_f1_pooled"] > 0.1


def test_refuses_a_full_folder_and_bad_values(small_run, tmp_path):
    out, _ = small_run
    with pytest.raises(FileExistsError, match="not empty"):
        evaluate(1, 7, out, pixel_mm=0.2, supersample=1)
    with pytest.raises(ParameterError, match="pixel_mm"):
        evaluate(1, 7, tmp_path / "x", pixel_mm=0.01)
    with pytest.raises(ParameterError, match="supersample"):
        evaluate(1, 7, tmp_path / "x", pixel_mm=0.2, supersample=9)
    assert not (tmp_path / "x").exists()


def test_injection_stops_when_the_system_is_full_unless_overfilled():
    from dataclasses import replace

    from ductogram.evaluate.harness import case_setup

    small = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30, "volume_ml": 350}
    spec = replace(draw_cases(1, seed=3)[0], fill_ml=2.0, bubbles=False, lesion=None)
    _, fill, _, _ = case_setup(spec, 0.2, 1, small)
    assert fill.injected_ml < 2.0
    assert fill.injected_ml == pytest.approx(fill.held_ml, rel=1e-9)
    assert fill.refluxed_ml == 0.0
    assert fill.extravasated_ml == 0.0 and not fill.extravasations
    _, over, _, _ = case_setup(replace(spec, overfilled=True), 0.2, 1, small)
    assert over.injected_ml == pytest.approx(2.0)
    assert over.held_ml == pytest.approx(fill.held_ml, rel=1e-6)
    assert over.refluxed_ml + over.extravasated_ml == pytest.approx(2.0 - over.held_ml)
    assert sum(c.overfilled for c in draw_cases(200, seed=1)) in range(3, 20)
