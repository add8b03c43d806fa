"""Scoring findings against the simulator's truth: FROC, lesion matching, a tiny run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.evaluate.findings_eval import (
    _location_errors,
    _near_lesion,
    _sensitivity_at,
    evaluate_findings,
    froc,
    froc_interval,
)
from ductogram.evaluate.metrics import proportion_ci


def test_froc_counts_lesions_once_and_false_positives_per_view():
    exams = [
        # Lesion 0 found twice (counts once), a false positive at 0.4, a detection on a
        # non-target lesion (None: neither).
        {"detections": [(0.9, 0), (0.8, 0), (0.4, -1), (0.7, None)], "targets": 1, "views": 2},
        # A missed lesion, a false positive at 0.95.
        {"detections": [(0.95, -1)], "targets": 1, "views": 2},
    ]
    c = froc(exams)
    assert c["threshold"] == [0.95, 0.9, 0.8, 0.7, 0.4]
    assert c["sensitivity"] == [0.0, 0.5, 0.5, 0.5, 0.5]
    assert c["fp_per_view"] == [0.25, 0.25, 0.25, 0.25, 0.5]
    assert c["sensitivity_at_0.25_fp_per_view"] == 0.5
    assert c["targets"] == 2 and c["views"] == 4


def test_froc_without_targets_or_detections():
    c = froc([{"detections": [], "targets": 0, "views": 2}])
    assert c["threshold"] == [] and c["sensitivity_at_0.25_fp_per_view"] == 0.0
    c = froc([{"detections": [(0.5, -1)], "targets": 0, "views": 2}])
    assert math.isnan(c["sensitivity"][0]) and c["fp_per_view"] == [0.5]


def _random_scores(rng, n):
    scores = []
    for _ in range(n):
        t = int(rng.integers(0, 3))
        hits = [-1, None, *range(t)]
        dets = [
            (round(float(rng.random()), 1), hits[int(rng.integers(len(hits)))])
            for _ in range(int(rng.integers(0, 6)))
        ]
        scores.append({"detections": dets, "targets": t, "views": 2})
    return scores


def _froc_by_definition(scores):
    """The FROC curve counted as it is defined, threshold by threshold: the lesions with a
    hit at or above it, the false positives at or above it."""
    n_targets = sum(s["targets"] for s in scores)
    n_views = sum(s["views"] for s in scores)
    curve = []
    for t in sorted({c for s in scores for c, _ in s["detections"]}, reverse=True):
        found = sum(
            len({h for c, h in s["detections"] if c >= t and h is not None and h >= 0})
            for s in scores
        )
        fps = sum(1 for s in scores for c, h in s["detections"] if c >= t and h == -1)
        curve.append((t, found / n_targets if n_targets else np.nan, fps / n_views))
    return curve


def test_froc_and_its_weighted_sensitivity_count_as_defined():
    """froc's curve is the definition's; an exam of weight k counts as k copies of it in
    the resampled figure (NaN where the copies hold no target, which froc gives as 0)."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        scores = _random_scores(rng, int(rng.integers(1, 8)))
        c = froc(scores)
        expected = np.array(_froc_by_definition(scores), dtype=float).reshape(-1, 3)
        got_curve = np.array([c["threshold"], c["sensitivity"], c["fp_per_view"]]).T
        np.testing.assert_allclose(got_curve.reshape(-1, 3), expected, rtol=1e-12)
        w = rng.integers(0, 4, size=(3, len(scores)))
        got = _sensitivity_at(scores, w, 0.25)
        for row, value in zip(w, got, strict=True):
            copies = [s for s, k in zip(scores, row, strict=True) for _ in range(k)]
            curve = _froc_by_definition(copies)
            if sum(s["targets"] for s in copies) == 0:
                assert np.isnan(value)
            else:
                ok = [sens for _, sens, fpv in curve if fpv <= 0.25]
                assert value == pytest.approx(max(ok, default=0.0))


def test_froc_interval_of_a_binomial_sensitivity():
    """400 exams of one target each, 340 found, no false positive: the resampled
    sensitivity is binomial, its 95 % interval 0.85 -/+ 1.96 sqrt(0.85 0.15 / 400)."""
    scores = [
        {"detections": [(0.9, 0)] if k < 340 else [], "targets": 1, "views": 2} for k in range(400)
    ]
    lo, hi = froc_interval(scores, resamples=4000)
    half = 1.959964 * np.sqrt(0.85 * 0.15 / 400)
    assert lo == pytest.approx(0.85 - half, abs=0.008)
    assert hi == pytest.approx(0.85 + half, abs=0.008)
    # False positives in every exam above the hits: none is found at 0.25 per view.
    # False positives in every exam above the hits: none is found at 0.25 per view, and
    # every resample says so; the interval is Wilson's for 0 of 400.
    crowded = [{**s, "detections": [*s["detections"], (0.95, -1)]} for s in scores]
    assert froc_interval(crowded) == pytest.approx(proportion_ci(0, 400))
    # All 20 found: the resamples all read 1, the interval is Wilson's 0.84-1, which
    # does not settle a target of 0.9.
    twenty = [{"detections": [(0.9, 0)], "targets": 1, "views": 2}] * 20 + [
        {"detections": [], "targets": 0, "views": 2}
    ] * 180
    lo, hi = froc_interval(twenty)
    assert lo == pytest.approx(proportion_ci(20, 20)[0]) and lo < 0.9 and hi == 1.0
    # One exam with a target among four without: the resamples without any are left out
    # (they would read 0), so the interval is 1 to 1, widened to Wilson's for 1 of 1.
    few = [{"detections": [(0.9, 0)], "targets": 1, "views": 2}] + [
        {"detections": [], "targets": 0, "views": 2}
    ] * 4
    assert froc_interval(few) == pytest.approx(proportion_ci(1, 1))


def test_froc_interval_without_targets_and_bad_arguments():
    assert all(math.isnan(x) for x in froc_interval([{"detections": [], "targets": 0, "views": 2}]))
    s = [{"detections": [(0.9, 0)], "targets": 1, "views": 2}]
    with pytest.raises(ParameterError, match="resamples"):
        froc_interval(s, resamples=10)
    with pytest.raises(ParameterError, match="confidence"):
        froc_interval(s, confidence=95)


def test_a_detection_on_the_outline_or_within_reach_finds_the_lesion():
    square = {
        "centre_px": np.array([10.0, 10.0]),
        "outline_px": np.array([[5.0, 5.0], [5.0, 15.0], [15.0, 15.0], [15.0, 5.0]]),
    }
    assert _near_lesion(10, 10, square, 1.0)  # inside
    assert _near_lesion(10, 16.5, square, 2.0)  # 1.5 px outside, reach 2
    assert not _near_lesion(10, 18.5, square, 2.0)  # 3.5 px outside
    no_outline = {"centre_px": np.array([0.0, 0.0])}
    assert _near_lesion(3, 4, no_outline, 5.0) and not _near_lesion(3, 4, no_outline, 4.9)


def test_evaluate_findings_writes_its_files(tmp_path):
    out = tmp_path / "findings"
    summary = evaluate_findings(
        1,
        seed=5,
        out=out,
        phantom={"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30, "volume_ml": 350},
        lesion="papilloma",
    )
    assert summary["exams"] + summary["failed_simulations"] == 1
    assert summary["mix"] == "every exam with papilloma"
    assert {p.name for p in out.iterdir()} == {
        "exams.csv",
        "froc.json",
        "summary.json",
        "froc.png",
    }
    saved = json.loads((out / "summary.json").read_text())
    assert saved["exams"] == summary["exams"] and saved["seed"] == 5
    assert set(saved["targets"]) == {
        "sensitivity_at_0.25_fp_per_view",
        "case_accuracy",
        "bubbles_called_papilloma_rate",
        "distance_error_mm_median",
        "clock_within_1h",
        "read_s_median",
    }
    assert 0.0 <= saved["case_accuracy"] <= 1.0
    accuracy = saved["targets"]["case_accuracy"]
    lo, hi = accuracy["ci95"]
    assert lo <= saved["case_accuracy"] <= hi and accuracy["settled"] == (not lo <= 0.93 <= hi)
    assert "ci95" not in saved["targets"]["read_s_median"]
    rows = (out / "exams.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[0].startswith("case,seed,lesion")
    assert rows[1].split(",")[2] == "papilloma"
    with pytest.raises(FileExistsError):
        evaluate_findings(1, seed=5, out=out)


def test_bad_arguments():
    with pytest.raises(ParameterError, match="workers"):
        evaluate_findings(1, seed=1, workers=0)
    with pytest.raises(ParameterError, match="cases"):
        evaluate_findings(0, seed=1)
    with pytest.raises(ParameterError, match="lesion"):
        evaluate_findings(1, seed=1, lesion="polyp")


def test_location_of_a_found_lesion_against_its_true_centre():
    """A lesion 30 mm behind the nipple and 10 mm lateral in a left breast is 31.6 mm
    from the nipple at 3 o'clock (lateral on the left, facing the patient)."""
    from types import SimpleNamespace

    lesion = SimpleNamespace(centre_mm=np.array([30.0, 0.0, 10.0]))
    phantom = SimpleNamespace(
        trees=[SimpleNamespace(lesions=[lesion, lesion])],
        breast=SimpleNamespace(laterality=SimpleNamespace(value="L"), depth_mm=90.0),
    )
    located = {
        0: {"distance_cm": 3.5, "clock_hour": 4},
        1: {"distance_cm": None, "clock_hour": None},
    }
    e = _location_errors(phantom, located)
    assert e[0]["distance_error_mm"] == pytest.approx(35.0 - np.sqrt(1000.0))
    assert e[0]["clock_error_h"] == 1
    assert e[1] == {"lesion": 1, "distance_error_mm": None, "clock_error_h": None}
