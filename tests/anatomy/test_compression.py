"""Tests of the compressed view geometry (ductogram.anatomy.compression)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from ductogram.anatomy.breast import Breast
from ductogram.anatomy.compression import Compression, compress
from ductogram.core import Laterality, ParameterError, ViewPosition

# (view, obliquity) pairs covering every view and both MLO limits.
VIEWS = [("CC", None), ("ML", None), ("LM", None), ("MLO", 30.0), ("MLO", 45.0), ("MLO", 70.0)]


@pytest.fixture
def ellipsoid() -> Breast:
    """Half ellipsoid with exact extents: 100 mm along y, 140 mm along z, depth 60 mm."""
    return Breast(Laterality.L, depth_mm=60.0, semi_height_mm=50.0, semi_width_mm=70.0)


@pytest.fixture
def ptotic() -> Breast:
    """An asymmetric breast: sagging, squarer sections, fuller profile; right side."""
    return Breast.from_volume(
        700.0,
        laterality="R",
        ptosis_fraction=0.3,
        section_exponent=3.0,
        profile_exponent=2.5,
        height_to_width=0.8,
    )


def _compress(breast: Breast, view: str, obliquity: float | None, thickness_mm: float = 45.0):
    return compress(breast, view, thickness_mm, obliquity_deg=obliquity)


# ---------------------------------------------------------------------- exact answers
def test_cc_known_answer(ellipsoid: Breast) -> None:
    cc = compress(ellipsoid, "CC", 50.0)
    assert cc.extent_mm == (-50.0, 50.0)
    assert cc.compression_ratio == pytest.approx(0.5)
    assert cc.stretch == pytest.approx(np.sqrt(2.0))
    # height = k (y + 50), anterior = s (60 - x), across = s z (lateral positive)
    q = cc.to_compressed([30.0, 10.0, 20.0])
    np.testing.assert_allclose(q, [30.0, np.sqrt(2) * 30.0, np.sqrt(2) * 20.0], rtol=1e-12)


def test_ml_known_answer(ellipsoid: Breast) -> None:
    ml = compress(ellipsoid, ViewPosition.ML, 35.0)
    assert ml.uncompressed_thickness_mm == pytest.approx(140.0)
    assert ml.compression_ratio == pytest.approx(0.25)
    assert ml.stretch == pytest.approx(2.0)
    # height = k (70 - z) (medial is up), anterior = 2 (60 - x), across = 2 y (superior)
    np.testing.assert_allclose(ml.to_compressed([30.0, 10.0, 20.0]), [12.5, 60.0, 20.0])


def test_beam_directions(ellipsoid: Breast) -> None:
    np.testing.assert_array_equal(compress(ellipsoid, "CC", 40.0).beam_direction, [0, -1, 0])
    np.testing.assert_array_equal(compress(ellipsoid, "ML", 40.0).beam_direction, [0, 0, 1])
    np.testing.assert_array_equal(compress(ellipsoid, "LM", 40.0).beam_direction, [0, 0, -1])
    for theta in (30.0, 45.0, 70.0):
        b = compress(ellipsoid, "MLO", 40.0, obliquity_deg=theta).beam_direction
        t = np.deg2rad(theta)
        # superomedial -> inferolateral, theta from vertical towards lateral
        np.testing.assert_allclose(b, [0.0, -np.cos(t), np.sin(t)], atol=1e-15)
        assert np.linalg.norm(b) == pytest.approx(1.0)


def test_mlo_default_obliquity_is_45(ellipsoid: Breast) -> None:
    assert compress(ellipsoid, "MLO", 40.0).obliquity_deg == 45.0


# ---------------------------------------------------------------------- invariants
@pytest.mark.parametrize(("view", "obliquity"), VIEWS)
def test_round_trip(ptotic: Breast, view: str, obliquity: float | None) -> None:
    comp = _compress(ptotic, view, obliquity)
    rng = np.random.default_rng(1)
    p = rng.uniform(-150.0, 150.0, size=(50, 4, 3))
    np.testing.assert_allclose(comp.to_breast(comp.to_compressed(p)), p, atol=1e-10)
    np.testing.assert_allclose(comp.to_compressed(comp.to_breast(p)), p, atol=1e-10)


@pytest.mark.parametrize(("view", "obliquity"), VIEWS)
def test_jacobian_det_one_and_matches_map(ptotic: Breast, view: str, obliquity) -> None:
    comp = _compress(ptotic, view, obliquity)
    j = comp.jacobian
    assert j.shape == (3, 3)
    assert np.linalg.det(j) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(comp.inverse_jacobian @ j, np.eye(3), atol=1e-12)
    # columns of J are the images of unit steps along x, y, z
    p0 = np.array([20.0, -5.0, 7.0])
    steps = comp.to_compressed(p0 + np.eye(3)) - comp.to_compressed(p0)
    np.testing.assert_allclose(steps.T, j, atol=1e-12)
    # J = diag(k, s, s) R with R a proper rotation (right-handed compressed frame)
    r = np.diag([1 / comp.compression_ratio, 1 / comp.stretch, 1 / comp.stretch]) @ j
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


@pytest.mark.parametrize(("view", "obliquity"), VIEWS)
def test_ratio_and_stretch(ptotic: Breast, view: str, obliquity) -> None:
    comp = _compress(ptotic, view, obliquity, thickness_mm=52.0)
    low, high = ptotic.extent_along(comp.compression_axis)
    assert comp.uncompressed_thickness_mm == pytest.approx(high - low, abs=0.05)
    assert comp.compression_ratio == pytest.approx(52.0 / comp.uncompressed_thickness_mm)
    assert comp.stretch == pytest.approx(comp.compression_ratio**-0.5)
    assert 0 < comp.compression_ratio < 1 < comp.stretch


@pytest.mark.parametrize(("view", "obliquity"), VIEWS)
def test_sampled_breast_fills_zero_to_thickness(ptotic: Breast, view: str, obliquity) -> None:
    comp = _compress(ptotic, view, obliquity, thickness_mm=48.0)
    q = comp.to_compressed(ptotic.sample_volume(100_000, rng=3))
    height = q[..., 0]
    assert height.min() >= -0.01
    assert height.max() <= 48.0 + 0.01
    assert height.min() == pytest.approx(0.0, abs=0.5)
    assert height.max() == pytest.approx(48.0, abs=0.5)
    assert q[..., 1].min() >= -1e-9  # nothing behind the chest wall


@pytest.mark.parametrize(("view", "obliquity"), [("CC", None), ("MLO", 45.0), ("LM", None)])
def test_volume_preserved_monte_carlo(ptotic: Breast, view: str, obliquity) -> None:
    """Independent of det J: count points of the compressed bounding box that map back
    into the breast."""
    comp = _compress(ptotic, view, obliquity, thickness_mm=50.0)
    s = comp.stretch
    w_low, w_high = ptotic.extent_along(comp.across_axis, n_samples=201 * 400)
    low = np.array([0.0, 0.0, s * w_low])
    high = np.array([50.0, s * ptotic.depth_mm, s * w_high])
    rng = np.random.default_rng(11)
    n = 300_000
    q = rng.uniform(low, high, size=(n, 3))
    inside = ptotic.contains(comp.to_breast(q), include_nipple=False)
    volume_ml = inside.mean() * np.prod(high - low) / 1000.0
    assert inside.mean() > 0.2  # the box is not loose
    assert volume_ml == pytest.approx(ptotic.volume_ml, rel=0.015)


@pytest.mark.parametrize(("view", "obliquity"), VIEWS)
def test_chest_wall_fixed_and_nipple_forward(ptotic: Breast, view: str, obliquity) -> None:
    comp = _compress(ptotic, view, obliquity)
    d, s = ptotic.depth_mm, comp.stretch
    rng = np.random.default_rng(5)
    wall = np.column_stack([np.full(20, d), rng.uniform(-60, 60, (20, 2))])
    np.testing.assert_allclose(comp.to_compressed(wall)[:, 1], 0.0, atol=1e-12)
    nipple = comp.nipple_compressed_mm
    np.testing.assert_allclose(nipple, comp.to_compressed([0.0, 0.0, 0.0]))
    assert nipple[1] - d == pytest.approx(d * (s - 1.0))
    assert nipple[2] == pytest.approx(0.0, abs=1e-12)
    assert 0.0 < nipple[0] < comp.thickness_mm


def test_cc_and_ml_agree_on_anterior_order(ptotic: Breast) -> None:
    cc = compress(ptotic, "CC", 45.0)
    ml = compress(ptotic, "ML", 45.0)
    assert cc.stretch != pytest.approx(ml.stretch)  # different stretches, same order
    p = ptotic.sample_volume(2000, rng=7)
    a_cc = cc.to_compressed(p)[:, 1]
    a_ml = ml.to_compressed(p)[:, 1]
    order = np.argsort(p[:, 0])  # chest-wall-most last
    assert np.all(np.diff(a_cc[order]) <= 0)
    assert np.all(np.diff(a_ml[order]) <= 0)
    np.testing.assert_array_equal(np.argsort(a_cc), np.argsort(a_ml))


def test_ml_and_lm_are_mirror_images(ptotic: Breast) -> None:
    ml = compress(ptotic, "ML", 55.0)
    lm = compress(ptotic, "LM", 55.0)
    p = ptotic.sample_volume(1000, rng=8)
    q_ml, q_lm = ml.to_compressed(p), lm.to_compressed(p)
    np.testing.assert_allclose(q_ml[:, 0] + q_lm[:, 0], 55.0, atol=1e-9)
    np.testing.assert_allclose(q_ml[:, 1], q_lm[:, 1], atol=1e-12)
    np.testing.assert_allclose(q_ml[:, 2], -q_lm[:, 2], atol=1e-12)


@pytest.mark.parametrize(
    ("view", "obliquity", "up", "across"),
    [
        # up: the direction that rises towards the paddle; across: positive across_mm
        ("CC", None, [0, 1, 0], [0, 0, 1]),  # superior up, lateral across
        ("ML", None, [0, 0, -1], [0, 1, 0]),  # medial up, superior across
        ("LM", None, [0, 0, 1], [0, -1, 0]),  # lateral up, inferior across
        ("MLO", 45.0, [0, 1, -1], [0, 1, 1]),  # superomedial up, superolateral across
    ],
)
def test_documented_directions(ellipsoid: Breast, view, obliquity, up, across) -> None:
    comp = compress(ellipsoid, view, 40.0, obliquity_deg=obliquity)
    p = np.array([30.0, 0.0, 0.0])
    dq_up = comp.to_compressed(p + 5.0 * np.array(up, float)) - comp.to_compressed(p)
    dq_across = comp.to_compressed(p + 5.0 * np.array(across, float)) - comp.to_compressed(p)
    assert dq_up[0] > 0 and abs(dq_up[2]) < 1e-12
    assert dq_across[2] > 0 and abs(dq_across[0]) < 1e-12


def test_same_point_consistent_across_views(ptotic: Breast) -> None:
    """A duct point seen in CC is found at the right place in MLO through the breast."""
    cc = compress(ptotic, "CC", 45.0)
    mlo = compress(ptotic, "MLO", 50.0, obliquity_deg=55.0)
    p = ptotic.sample_parenchyma(200, rng=9)
    via_cc = mlo.to_compressed(cc.to_breast(cc.to_compressed(p)))
    np.testing.assert_allclose(via_cc, mlo.to_compressed(p), atol=1e-9)


# ---------------------------------------------------------------------- arrays
def test_shapes_dtypes_and_inputs_untouched(ellipsoid: Breast) -> None:
    comp = compress(ellipsoid, "MLO", 40.0)
    p = np.arange(24, dtype=np.float64).reshape(2, 4, 3)
    before = p.copy()
    assert comp.to_compressed(p).shape == (2, 4, 3)
    assert comp.to_breast(p).shape == (2, 4, 3)
    np.testing.assert_array_equal(p, before)
    assert comp.to_compressed([1.0, 2.0, 3.0]).shape == (3,)
    assert comp.to_compressed(p.astype(np.float32)).dtype == np.float32
    assert comp.to_breast(p.astype(np.float32)).dtype == np.float32
    assert comp.to_compressed(p.astype(np.int64)).dtype == np.float64
    assert comp.to_compressed(p.astype(np.float16)).dtype == np.float64
    np.testing.assert_allclose(
        comp.to_compressed(p.astype(np.float32)), comp.to_compressed(p), rtol=1e-5, atol=1e-4
    )
    # returned axes are fresh arrays: changing them does not change the map
    comp.jacobian[0, 0] = 99.0
    comp.beam_direction[:] = 0.0
    assert np.linalg.det(comp.jacobian) == pytest.approx(1.0)


def test_bad_point_shape(ellipsoid: Breast) -> None:
    comp = compress(ellipsoid, "CC", 40.0)
    with pytest.raises(ValueError, match=re.escape("shape (4, 2): expected an array of shape")):
        comp.to_compressed(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="expected an array of shape"):
        comp.to_breast(1.0)


# ---------------------------------------------------------------------- construction
def test_construction(ellipsoid: Breast) -> None:
    comp = compress(ellipsoid, "CC", 40)
    assert comp.view is ViewPosition.CC
    assert isinstance(comp.thickness_mm, float)
    assert comp.obliquity_deg == 0.0
    assert compress(ellipsoid, "LM", 40.0).obliquity_deg == -90.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        comp.thickness_mm = 30.0  # type: ignore[misc]
    rebuilt = Compression(**{f.name: getattr(comp, f.name) for f in dataclasses.fields(comp)})
    assert rebuilt == comp
    direct = Compression("ML", 35.0, 90.0, 60.0, (-70.0, 70.0))
    assert direct == compress(ellipsoid, "ML", 35.0)


def test_thickness_not_less_than_extent(ellipsoid: Breast) -> None:
    with pytest.raises(ParameterError, match=r"thickness_mm = 100\.0: .*less than .*H = 100\.0"):
        compress(ellipsoid, "CC", 100.0)
    with pytest.raises(ParameterError, match=r"thickness_mm = 150\.0: expected .*\[10, 140\.0\)"):
        compress(ellipsoid, "ML", 150.0)


def test_thickness_at_least_10(ellipsoid: Breast) -> None:
    compress(ellipsoid, "CC", 10.0)
    with pytest.raises(ParameterError, match=r"thickness_mm = 9\.5: expected .*at least 10 mm"):
        compress(ellipsoid, "CC", 9.5)
    with pytest.raises(ParameterError, match=r"thickness_mm = nan"):
        compress(ellipsoid, "CC", float("nan"))


def test_unknown_view(ellipsoid: Breast) -> None:
    with pytest.raises(ParameterError, match=r"view = 'XCCL': expected one of 'CC', 'ML'"):
        compress(ellipsoid, "XCCL", 40.0)
    with pytest.raises(ParameterError, match=r"view = 'cc'"):
        compress(ellipsoid, "cc", 40.0)


@pytest.mark.parametrize("theta", [29.9, 70.1, 0.0, 90.0, float("nan")])
def test_obliquity_out_of_range(ellipsoid: Breast, theta: float) -> None:
    with pytest.raises(ParameterError, match=r"obliquity_deg = .*\[30, 70\] degrees for MLO"):
        compress(ellipsoid, "MLO", 40.0, obliquity_deg=theta)


def test_obliquity_only_for_mlo(ellipsoid: Breast) -> None:
    with pytest.raises(ParameterError, match=r"obliquity_deg = 45\.0: expected 0 degrees for CC"):
        compress(ellipsoid, "CC", 40.0, obliquity_deg=45.0)
    assert compress(ellipsoid, "ML", 40.0, obliquity_deg=90.0).obliquity_deg == 90.0


def test_direct_construction_validates() -> None:
    with pytest.raises(ParameterError, match=r"extent_mm = \(5\.0, 5\.0\)"):
        Compression("CC", 40.0, 0.0, 60.0, (5.0, 5.0))
    with pytest.raises(ParameterError, match=r"depth_mm = -1\.0"):
        Compression("CC", 40.0, 0.0, -1.0, (-50.0, 50.0))
    with pytest.raises(ParameterError, match=r"thickness_mm = 120\.0"):
        Compression("CC", 120.0, 0.0, 60.0, (-50.0, 50.0))
