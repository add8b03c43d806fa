"""The scene of a view: tissue, contrast and truth, against what they must add up to."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import ACINAR_SHARE, fill_ducts
from ductogram.imaging.scene import build_scene

BASE = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 60, "compressed_thickness_mm": 50}


@pytest.fixture(scope="module")
def phantom():
    return generate_phantom(
        {**BASE, "lesions": [{"kind": "papilloma", "system": 1, "obstructs": False}]}, seed=2
    )


@pytest.fixture(scope="module")
def plain_cc(phantom):
    return build_scene(phantom, "CC", pixel_mm=0.2, supersample=1)


def test_the_compressed_breast_is_as_thick_as_the_paddle_allows(phantom, plain_cc):
    sc = plain_cc
    tissue = sc.paths["skin"] + sc.paths["glandular"] + sc.paths["adipose"]
    rr, cc = np.meshgrid(np.arange(sc.geometry.rows), np.arange(sc.geometry.cols), indexing="ij")
    ray = sc.geometry.pixel_centres_mm(rr, cc) - sc.geometry.source_mm
    obliquity = np.linalg.norm(ray, axis=-1) / sc.geometry.source_to_image_mm
    vertical = tissue / obliquity
    # The compressed breast fills the height between support and paddle, never more.
    assert vertical.max() == pytest.approx(phantom.compressed_thickness_mm, rel=0.01)
    assert np.all(vertical <= phantom.compressed_thickness_mm * 1.01)
    # Its volume, seen through the cone beam: sum of paths x pixel area = V m(mid)^2.
    m = sc.geometry.magnification_at(sc.geometry.lift_mm + 0.5 * sc.thickness_mm)
    volume = vertical.sum() * sc.geometry.pixel_mm**2 / m**2 / 1000.0
    assert volume == pytest.approx(phantom.breast.volume_ml, rel=0.03)
    assert sc.paths["contrast"].max() == 0 and "cannula" not in sc.paths


def test_glandular_share_follows_the_breast(phantom, plain_cc):
    g = plain_cc.paths["glandular"].sum() / (
        plain_cc.paths["glandular"].sum() + plain_cc.paths["adipose"].sum()
    )
    assert g == pytest.approx(phantom.breast.glandular_fraction, rel=1e-6)


def test_projected_contrast_adds_up_to_the_contrast_held(phantom):
    tree = phantom.trees[0]
    fill = fill_ducts(tree, 0.1)
    assert fill.extravasated_ml == 0 and not fill.bubbles
    sc = build_scene(phantom, "CC", fill=fill, pixel_mm=0.1, supersample=2, cannula=False)
    g = sc.geometry
    # Expected: each segment's contrast times the magnification squared at its height.
    par = tree.parent
    mid = 0.5 * (tree.positions_mm[par[1:]] + tree.positions_mm[1:])
    z = g.from_compressed(sc.compression.to_compressed(mid))[:, 2]
    expected = np.sum(fill.segment_contrast_ml[1:] * 1000 * g.magnification_at(z) ** 2)
    semi = tree.tdlu_semi_axes_mm
    tdlu = ACINAR_SHARE * 4 / 3 * np.pi * semi[:, 0] * semi[:, 1] ** 2 * fill.tdlu_fill
    zt = g.from_compressed(sc.compression.to_compressed(tree.tdlu_centre_mm))[:, 2]
    expected += np.sum(tdlu * g.magnification_at(zt) ** 2)
    got = sc.paths["contrast"].sum() * g.pixel_mm**2
    assert got == pytest.approx(expected, rel=0.03)


def test_contrast_replaces_tissue(phantom, plain_cc):
    fill = fill_ducts(phantom.trees[0], 0.3)
    sc = build_scene(phantom, "CC", fill=fill, pixel_mm=0.2, supersample=1, cannula=False)
    before = plain_cc.paths["glandular"] + plain_cc.paths["adipose"]
    after = sc.paths["glandular"] + sc.paths["adipose"] + sc.paths["contrast"]
    inside = plain_cc.truth.breast_mask & (before > 5)
    assert np.allclose(after[inside], before[inside], rtol=1e-5, atol=1e-5)  # float32 paths


def test_truth_marks_the_ducts_the_lesion_and_the_nipple(phantom):
    lesion = phantom.lesions[0]
    tree = phantom.trees[lesion.system]
    fill = fill_ducts(tree, 0.5, flushed=False, rng=3)
    sc = build_scene(phantom, "ML", fill=fill, pixel_mm=0.1, supersample=1)
    t = sc.truth
    assert len(t.segment) == np.count_nonzero(fill.fill_fraction[1:] > 0)
    mids = t.centreline_px.mean(axis=1).round().astype(int)
    ok = (
        (mids[:, 0] >= 0)
        & (mids[:, 0] < sc.geometry.rows)
        & (mids[:, 1] >= 0)
        & (mids[:, 1] < sc.geometry.cols)
    )
    assert ok.all()
    assert t.contrast_mask[mids[:, 0], mids[:, 1]].mean() > 0.95
    (entry,) = t.lesions
    assert entry["kind"] == "papilloma" and len(entry["outline_px"]) >= 3
    # The nipple is the breast's most anterior point.
    rows = np.flatnonzero(t.breast_mask.any(axis=1))
    assert abs(t.nipple_px[0] - rows.max()) < 2.0 / sc.geometry.pixel_mm
    assert len(t.bubbles_px) == len(fill.bubbles)
    assert sc.paths["cannula"].max() > 0


def test_a_mass_in_a_duct_is_carried_as_its_lumen_and_shows_as_a_filling_defect(phantom):
    """Compression stretches a duct and narrows it by 1/sqrt(stretch); a papilloma in it
    follows its lumen, so it keeps its volume, lies along the carried duct, fills the
    same share of the lumen's width as before, and the contrast around it outlines it:
    at its centre the beam crosses about half the contrast of the widened lumen next to
    it (its affine image, flattened across the beam, displaced a seventh)."""
    from ductogram.imaging.scene import _carried_in_lumen, contrast_tubes

    tree = phantom.trees[1]
    lesion = tree.lesions[0]
    mass = lesion.masses[0]
    fill = fill_ducts(tree, 1.0)
    sc = build_scene(phantom, "CC", fill=fill, pixel_mm=0.1, supersample=1)
    comp = phantom.compression("CC")
    _, q, rot = _carried_in_lumen(
        comp, sc.geometry, mass.centre_mm, mass.semi_axes_mm, mass.rotation
    )
    assert np.prod(q) == pytest.approx(np.prod(mass.semi_axes_mm), rel=1e-9)
    seg, a_d, b_d, _, r1 = contrast_tubes(comp, sc.geometry, tree, fill)
    (i,) = np.flatnonzero(seg == lesion.segment)
    duct = (b_d[i] - a_d[i]) / np.linalg.norm(b_d[i] - a_d[i])
    assert abs(rot[0][:, 0] @ duct) == pytest.approx(1.0, abs=1e-9)
    share = mass.semi_axes_mm[1:] / fill.radii_mm[lesion.segment]
    np.testing.assert_allclose(q[0][1:] / r1[i], share, rtol=1e-9)
    r, c = np.round(sc.truth.lesions[0]["centre_px"]).astype(int)
    contrast = sc.paths["contrast"]
    assert contrast[r, c] < 0.6 * contrast[r - 15 : r + 16, c - 15 : c + 16].max()
