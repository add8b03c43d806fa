"""Analytic projection: chords through tubes and ellipsoids against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.imaging.geometry import Geometry
from ductogram.imaging.projection import (
    ellipsoid_chords,
    frustum_chords,
    project_ellipsoids,
    project_segments,
)


def _rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q


@pytest.mark.parametrize("angle_deg", [90.0, 60.0, 30.0, 10.0])
@pytest.mark.parametrize("offset", [0.0, 0.3, 0.9])
def test_cylinder_chord_matches_the_closed_form_at_any_angle(angle_deg, offset):
    # Cylinder of radius 1 along a random axis; a ray at angle θ to the axis passing at
    # distance d from it: chord 2 sqrt(R² - d²) / sin θ.
    rng = np.random.default_rng(int(angle_deg * 10 + offset * 100))
    rot = _rotation(rng)
    axis, side, normal = rot[:, 0], rot[:, 1], rot[:, 2]
    centre = rng.uniform(-5, 5, 3)
    theta = np.radians(angle_deg)
    direction = np.cos(theta) * axis + np.sin(theta) * side
    through = centre + offset * normal
    source, target = through - 50 * direction, through + 50 * direction
    chord = frustum_chords(
        source,
        target[None],
        (centre - 40 * axis)[None],
        (centre + 40 * axis)[None],
        np.array([1.0]),
        np.array([1.0]),
    )[0]
    assert chord == pytest.approx(2 * np.sqrt(1 - offset**2) / np.sin(theta), rel=1e-9)


def test_ray_along_the_axis_of_a_cone_crosses_its_length():
    chord = frustum_chords(
        np.array([-5.0, 0, 0]),
        np.array([[20.0, 0, 0]]),
        np.array([[0.0, 0, 0]]),
        np.array([[7.0, 0, 0]]),
        np.array([0.4]),
        np.array([1.2]),
    )
    assert chord[0] == pytest.approx(7.0)


def test_frustum_chords_agree_with_dense_sampling():
    rng = np.random.default_rng(3)
    for _ in range(200):
        a = rng.uniform(-2, 2, 3)
        b = a + rng.normal(0, 3, 3)
        r0, r1 = rng.uniform(0.1, 1.5, 2)
        s = rng.uniform(-20, 20, 3)
        p = a + rng.normal(0, 1.5, 3) + (a - s) * rng.uniform(0.5, 2)
        t = np.linspace(0, 1, 100001)
        x = s + np.outer(t, p - s)
        e = (b - a) / np.linalg.norm(b - a)
        along = (x - a) @ e
        radial = np.sqrt(np.maximum(((x - a) ** 2).sum(1) - along**2, 0))
        length = np.linalg.norm(b - a)
        inside = (along >= 0) & (along <= length) & (radial <= r0 + (r1 - r0) * along / length)
        expected = inside.mean() * np.linalg.norm(p - s)
        got = frustum_chords(s, p[None], a[None], b[None], np.array([r0]), np.array([r1]))[0]
        assert got == pytest.approx(expected, abs=2e-3 * np.linalg.norm(p - s) / 100 + 1e-3)


@pytest.mark.parametrize("offset", [0.0, 0.5, 1.9])
def test_sphere_and_ellipsoid_chords(offset):
    rng = np.random.default_rng(1)
    rot = _rotation(rng)
    c = np.array([1.0, 2.0, 3.0])
    d = rot[:, 0]
    through = c + offset * rot[:, 1]
    sphere = ellipsoid_chords(through - 30 * d, through + 30 * d, c, np.full(3, 2.0), rot)
    assert sphere == pytest.approx(2 * np.sqrt(4 - offset**2), rel=1e-12)
    # Along an ellipsoid's axis of semi-length 3 through its centre: 6 mm.
    ell = ellipsoid_chords(c - 30 * d, c + 30 * d, c, np.array([3.0, 1.0, 0.5]), rot)
    assert ell == pytest.approx(6.0, rel=1e-12)


def test_projection_conserves_volume_times_magnification_squared():
    # Over the detector, chord × area integrates to ∫ m(z)² dV; for a small body at height z
    # that is its volume × m(z)².
    g = Geometry(pixel_mm=0.085, rows=300, cols=300)
    z = 30.0
    m2 = g.magnification_at(z) ** 2
    tubes = project_segments(
        g,
        np.array([[12.0, -5, z]]),
        np.array([[12.0, 5, z]]),
        np.array([0.5]),
        np.array([0.3]),
        supersample=3,
    )
    volume = np.pi * 10 * (0.5**2 + 0.5 * 0.3 + 0.3**2) / 3
    assert tubes.sum() * g.pixel_mm**2 == pytest.approx(volume * m2, rel=5e-3)
    balls = project_ellipsoids(
        g, np.array([[12.0, 0, z]]), np.array([[1.0, 0.7, 0.5]]), np.eye(3)[None], supersample=3
    )
    assert balls.sum() * g.pixel_mm**2 == pytest.approx(4 / 3 * np.pi * 0.35 * m2, rel=5e-3)


def test_culling_loses_nothing():
    # The footprint boxes hold every ray that meets a tube: compare with all pixels.
    g = Geometry(pixel_mm=0.1, rows=60, cols=60)
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.uniform(1, 5, 20), rng.uniform(-2, 2, 20), rng.uniform(5, 40, 20)])
    b = a + rng.normal(0, 1.0, (20, 3))
    r0, r1 = rng.uniform(0.05, 0.4, 20), rng.uniform(0.05, 0.4, 20)
    image = project_segments(g, a, b, r0, r1, supersample=1)
    rows, cols = np.meshgrid(np.arange(g.rows), np.arange(g.cols), indexing="ij")
    target = g.pixel_centres_mm(rows.ravel(), cols.ravel())
    full = np.zeros(g.rows * g.cols)
    for k in range(20):
        full += frustum_chords(
            g.source_mm, target, a[k][None], b[k][None], r0[k : k + 1], r1[k : k + 1]
        )
    assert np.allclose(image.ravel(), full, atol=1e-12)


def test_geometry_refuses_nonsense():
    with pytest.raises(
        ParameterError, match=r"pixel_mm = 1.0: expected a pitch in \[0.05, 0.2\] mm"
    ):
        Geometry(pixel_mm=1.0, rows=10, cols=10)
    with pytest.raises(ParameterError, match=r"magnification = 3"):
        Geometry.for_breast(100, 80, 50, magnification=3)


def test_magnification_view_magnifies_the_mid_plane():
    g = Geometry.for_breast(100, 80, 50, magnification=1.8)
    assert g.magnification_at(g.lift_mm + 25.0) == pytest.approx(1.8)
    assert g.focal_spot_mm == 0.1


def test_the_detector_is_never_larger_than_a_real_one():
    g = Geometry.for_breast(200, 140, 60, magnification=1.8, pixel_mm=0.085)
    assert g.rows * g.pixel_mm <= 240.0 + g.pixel_mm
    assert g.cols * g.pixel_mm <= 300.0 + 2 * g.pixel_mm
