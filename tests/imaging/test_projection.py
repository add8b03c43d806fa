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


def test_culling_loses_nothing_far_off_the_axis():
    # Steep tubes (rising 3–6 mm) and large ellipsoids 10–15° off the beam's axis, 2 × 2
    # rays per pixel: each body's box holds every pixel one of whose rays meets it (all
    # pixels of a wide window around the body, traced one by one).
    g = Geometry(pixel_mm=0.1, rows=1600, cols=2200)
    rng = np.random.default_rng(3)
    rows, cols = np.meshgrid(np.arange(-120, 121), np.arange(-120, 121), indexing="ij")
    for _ in range(8):
        a = np.array([rng.uniform(100, 140), rng.uniform(-90, 90), rng.uniform(10, 40)])
        b = a + np.array([*rng.normal(0, 1.0, 2), rng.uniform(3, 6) * rng.choice([-1, 1])])
        r0, r1 = rng.uniform(0.1, 1.0, (2, 1))
        semi = rng.uniform(0.5, 8.0, (1, 3))
        rot = _rotation(rng)
        tube = project_segments(g, a[None], b[None], r0, r1, supersample=2)
        ball = project_ellipsoids(g, a[None], semi, rot[None], supersample=2)
        centre = np.round(g.to_pixel(g.to_detector(a))).astype(int)
        r, c = rows.ravel() + centre[0], cols.ravel() + centre[1]
        tube_rays = ball_rays = 0.0
        for dr in (-0.25, 0.25):
            for dc in (-0.25, 0.25):
                target = g.pixel_centres_mm(r + dr, c + dc)
                tube_rays += frustum_chords(g.source_mm, target, a[None], b[None], r0, r1) / 4
                ball_rays += ellipsoid_chords(g.source_mm, target, a, semi[0], rot) / 4
        np.testing.assert_allclose(tube[r, c], tube_rays, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ball[r, c], ball_rays, rtol=0, atol=1e-12)
        assert tube.sum() == pytest.approx(tube_rays.sum(), rel=1e-12)  # nothing outside
        assert ball.sum() == pytest.approx(ball_rays.sum(), rel=1e-12)


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


# --- where tubes meet: the union (mitred at a bend), not the sum ----------------------------


def _inside_any_tube(x, a, b, r0, r1, mitred=False) -> np.ndarray:
    """Whether each point of ``x`` (..., 3) lies in one of the tapered tubes at least.
    ``mitred``: two tubes that meet at a bend (``b[0] == a[1]``), each also continued
    (with its taper) past the node on to the plane that bisects the bend."""
    inside = np.zeros(x.shape[:-1], dtype=bool)
    if mitred:
        node = b[0]
        u_in = (b[0] - a[0]) / np.linalg.norm(b[0] - a[0])
        u_out = (b[1] - a[1]) / np.linalg.norm(b[1] - a[1])
        normal = (u_in + u_out) / np.linalg.norm(u_in + u_out)  # the bisecting plane's
        ahead = (x - node) @ normal
    for k in range(len(a)):
        length = np.linalg.norm(b[k] - a[k])
        e = (b[k] - a[k]) / length
        w = x - a[k]
        s = w @ e
        radius = r0[k] + (r1[k] - r0[k]) * s / length
        lengthwise = (s >= 0) & (s <= length)
        if mitred:  # ... or on to the bisecting plane, past the flat end at the node
            lengthwise |= (ahead <= 0) & (s >= 0) if k == 0 else (ahead >= 0) & (s <= length)
        inside |= lengthwise & (radius >= 0) & ((w * w).sum(-1) - s * s <= radius * radius)
    return inside


def _union_by_sampling(g, rows, cols, a, b, r0, r1, mitred=False, samples=4001) -> np.ndarray:
    """Length (mm) of the ray from the focal spot to each detector point (continuous pixel
    indices) inside the union of the tubes: points along the part of the ray at the tubes'
    heights, each tested against every tube (midpoint rule)."""
    source = g.source_mm
    reach = max(r0.max(), r1.max())
    z_lo = min(a[:, 2].min(), b[:, 2].min()) - reach
    z_hi = max(a[:, 2].max(), b[:, 2].max()) + reach
    t_lo, t_hi = 1.0 - z_hi / source[2], 1.0 - z_lo / source[2]  # z = z_source (1 - t)
    dt = (t_hi - t_lo) / samples
    t = t_lo + (np.arange(samples) + 0.5) * dt
    targets = g.pixel_centres_mm(rows, cols)
    out = np.empty(len(targets))
    for start in range(0, len(targets), 64):
        ray = targets[start : start + 64] - source
        x = source + t[None, :, None] * ray[:, None, :]
        hits = _inside_any_tube(x, a, b, r0, r1, mitred).sum(axis=1)
        out[start : start + 64] = hits * dt * np.linalg.norm(ray, axis=1)
    return out


def _junction(node, directions, lengths, radii_at_node, radii_far):
    """Tubes that meet at ``node``: the first ends there (a parent), the others start there
    (its children). Returns a, b, r0, r1 and the node labels (the node is label 0)."""
    directions = np.asarray(directions, dtype=float)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    far = node + np.asarray(lengths, dtype=float)[:, None] * directions
    a, b = far.copy(), far.copy()
    a[1:] = node
    b[0] = node
    r_near, r_far = np.asarray(radii_at_node, float), np.asarray(radii_far, float)
    r0 = np.where(np.arange(len(far)) == 0, r_far, r_near)
    r1 = np.where(np.arange(len(far)) == 0, r_near, r_far)
    nodes = np.full((len(far), 2), -1)
    nodes[0, 1] = 0
    nodes[1:, 0] = 0
    return a, b, r0, r1, nodes


def _y_shape(node, half_angle_deg, radius, length=3.0, tilt=0.0):
    t = np.radians(half_angle_deg)
    return _junction(
        node,
        [[-1.0, 0, 0], [np.cos(t), np.sin(t), tilt], [np.cos(t), -np.sin(t), -tilt]],
        [length] * 3,
        [radius] * 3,
        [radius] * 3,
    )


def test_a_ray_through_a_duct_junction_crosses_the_union_of_the_tubes_once():
    # A Y of three cylinders lying flat (radius 0.4 mm, children at ±30°): every ray's path
    # is the union's, found by testing points along it; the old sum doubled it in the crotch.
    g = Geometry(pixel_mm=0.05, rows=500, cols=300)
    node = np.array([20.0, 2.0, 30.0])
    a, b, r0, r1, nodes = _y_shape(node, 30.0, 0.4)
    union = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=1)
    summed = project_segments(g, a, b, r0, r1, supersample=1)
    centre = g.to_pixel(g.to_detector(node))
    rows, cols = np.nonzero(summed > 0)
    near = np.hypot(rows - centre[0], cols - centre[1]) < 1.6 * g.magnification_at(30) / 0.05
    rows, cols = rows[near], cols[near]
    expected = _union_by_sampling(g, rows, cols, a, b, r0, r1)
    np.testing.assert_allclose(union[rows, cols], expected, atol=2e-3)
    # The knot: the peak path at the node was about twice the duct's diameter; now it is
    # the diameter (rays lean by < 2° here).
    assert summed.max() / 0.8 > 1.9
    assert union.max() / 0.8 == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize(
    "directions, radii_at_node, radii_far",
    [
        # A Y leaning out of the detector's plane, tapered.
        ([[-1.0, 0.2, -0.3], [1, 0.6, 0.4], [1, -0.5, 0.1]], [0.4, 0.35, 0.3], [0.5, 0.3, 0.2]),
        # Children 12° apart: they share a long stretch.
        ([[-1.0, 0.1, 0], [1, 0.1, 0.2], [1, -0.1, 0.2]], [0.3, 0.3, 0.3], [0.35, 0.25, 0.25]),
        # Three children (four tubes at the node), one bending back along the parent.
        (
            [[-1.0, 0, 0.2], [1, 0.8, 0], [1, -0.8, 0.3], [-0.7, 0.5, -0.4]],
            [0.3, 0.3, 0.25, 0.2],
            [0.35, 0.2, 0.2, 0.15],
        ),
        # A bend of a chain: the inner side of the elbow is shared, the outer mitred.
        ([[-1.0, 0, 0], [1, 0.7, 0.2]], [0.3, 0.3], [0.3, 0.25]),
        # A sharp bend, tapering away from the node on both sides.
        ([[-1.0, 0.3, 0.4], [0.2, -1, 0.1]], [0.4, 0.4], [0.45, 0.2]),
    ],
)
def test_junction_paths_match_the_union_for_every_ray_of_every_pixel(
    directions, radii_at_node, radii_far
):
    # Off the beam's axis (rays lean by ~12°) and 2 × 2 rays per pixel: each pixel is the
    # mean of its rays' paths through the union, and no pixel with a shared path is missed.
    g = Geometry(pixel_mm=0.1, rows=1400, cols=1400)
    node = np.array([120.0, -60.0, 35.0])
    lengths = np.linspace(1.5, 2.5, len(directions))
    a, b, r0, r1, nodes = _junction(node, directions, lengths, radii_at_node, radii_far)
    union = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=2)
    summed = project_segments(g, a, b, r0, r1, supersample=2)
    bend = len(a) == 2  # mitred: rays through the wedges differ from the sum too
    rows, cols = np.nonzero((summed > 0) | (union > 0))
    expected = np.zeros(len(rows))
    for dr in (-0.25, 0.25):
        for dc in (-0.25, 0.25):
            target = g.pixel_centres_mm(rows + dr, cols + dc)
            chords = np.stack(
                [
                    frustum_chords(g.source_mm, target, a[k][None], b[k][None], r0[k], r1[k])
                    for k in range(len(a))
                ]
            )
            path = chords.sum(axis=0)
            shared = (np.count_nonzero(chords > 0, axis=0) >= 2) | bend  # only these can differ
            path[shared] = _union_by_sampling(
                g, rows[shared] + dr, cols[shared] + dc, a, b, r0, r1, mitred=bend
            )
            expected += path / 4
    np.testing.assert_allclose(union[rows, cols], expected, atol=2e-3)
    assert (summed - union).max() > 0.05  # what the sum counted twice
    if bend:
        assert (union - summed).max() > 0.05  # the wedge the mitre fills
    else:
        assert np.all(union[summed == 0] == 0)


def test_a_straight_chain_of_tubes_has_no_seam():
    # A tapered tube cut in two where the pieces meet projects as the whole tube.
    g = Geometry(pixel_mm=0.05, rows=500, cols=300)
    start, end = np.array([18.0, -2.0, 28.0]), np.array([23.0, 3.0, 31.0])
    middle = 0.6 * start + 0.4 * end
    whole = project_segments(g, start[None], end[None], np.array([0.5]), np.array([0.3]))
    chain = project_segments(
        g,
        np.array([start, middle]),
        np.array([middle, end]),
        np.array([0.5, 0.42]),
        np.array([0.42, 0.3]),
        nodes=np.array([[-1, 7], [7, -1]]),
    )
    np.testing.assert_allclose(chain, whole, rtol=0, atol=1e-7)  # mm: grazing rays' rounding


def test_a_bent_duct_has_no_seam_at_its_joint():
    # Two cylinders lying flat meet at a 40° bend: the wedge between their flat ends on the
    # outer side (2 r sin 20° = 0.55 mm wide at the rim) is mitred, so every ray within
    # 0.8 r of the bent centre line crosses at least the lumen there (rays lean by < 2°: a
    # point at d from the axis has 2 sqrt(r² - d²) of lumen above it).
    g = Geometry(pixel_mm=0.05, rows=500, cols=300)
    node, r = np.array([20.0, 2.0, 30.0]), 0.8
    t = np.radians(40.0)
    a, b, r0, r1, nodes = _junction(
        node, [[-1.0, 0, 0], [np.cos(t), np.sin(t), 0]], [3.0, 3.0], [r, r], [r, r]
    )
    path = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=1)
    plain = project_segments(g, a, b, r0, r1, supersample=1)
    rows, cols = np.mgrid[: g.rows, : g.cols]
    at = g.pixel_centres_mm(rows.ravel(), cols.ravel())  # detector points
    # Each pixel's ray where it crosses the duct's plane.
    p = g.source_mm + (at - g.source_mm) * (g.source_mm[2] - node[2]) / g.source_mm[2]
    d = np.full(len(p), np.inf)
    for k in range(2):
        e = (b[k] - a[k]) / np.linalg.norm(b[k] - a[k])
        s = np.clip((p - a[k]) @ e, 0.0, np.linalg.norm(b[k] - a[k]))
        d = np.minimum(d, np.linalg.norm(p - (a[k] + s[:, None] * e), axis=1))
    # Within 0.8 r of the centre line, and away from the tubes' flat far ends.
    inner = ((d <= 0.8 * r) & (np.linalg.norm(p - node, axis=1) <= 2.0)).reshape(g.rows, g.cols)
    floor = 2 * np.sqrt(r * r - (0.8 * r) ** 2) * 0.99
    assert inner.sum() > 1000
    assert path[inner].min() >= floor
    assert plain[inner].min() < 0.1  # the seam the flat ends left
    # A cylinder bent by a mitre holds the volume of the straight one, π r² × 6 mm.
    volume = path.sum() * g.pixel_mm**2 / g.magnification_at(node[2]) ** 2
    assert volume == pytest.approx(np.pi * r * r * 6.0, rel=2e-3)


def _three_kinds_of_node():
    """A bend, a Y and a four-tube node far apart, each as (a, b, r0, r1, nodes)."""
    t = np.radians(35.0)
    return [
        _junction(
            np.array([8.0, -10.0, 30.0]),
            [[-1.0, 0, 0], [np.cos(t), np.sin(t), 0]],
            [2.0, 2.5],
            [0.5, 0.5],
            [0.5, 0.4],
        ),
        _y_shape(np.array([20.0, 0.0, 30.0]), 30.0, 0.4),
        _junction(
            np.array([30.0, 10.0, 28.0]),
            [[-1.0, 0, 0.2], [1, 0.8, 0], [1, -0.8, 0.3], [-0.7, 0.5, -0.4]],
            [2.0] * 4,
            [0.3, 0.3, 0.25, 0.2],
            [0.35, 0.2, 0.2, 0.15],
        ),
    ]


def test_nodes_of_every_kind_in_one_call_project_as_each_alone():
    # A bend, a Y and a four-tube node far apart, labelled in one call: the same image as
    # the three projected one by one (the groups are told apart by their own labels).
    g = Geometry(pixel_mm=0.1, rows=400, cols=400)
    parts = _three_kinds_of_node()
    alone = sum(project_segments(g, *part[:4], nodes=part[4], supersample=1) for part in parts)
    a, b, r0, r1 = (np.concatenate([part[i] for part in parts]) for i in range(4))
    nodes = np.concatenate(
        [np.where(part[4] >= 0, part[4] + 10 * i, -1) for i, part in enumerate(parts)]
    )
    together = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=1)
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-9)


def test_the_projected_volume_of_a_junction_is_the_volume_of_the_union():
    # Over the detector, path × pixel area adds up to the volume × m² (a flat Y at one
    # height); the union's volume by Monte Carlo, 4 million points.
    g = Geometry(pixel_mm=0.05, rows=500, cols=300)
    z = 30.0
    a, b, r0, r1, nodes = _y_shape(np.array([20.0, 2.0, z]), 25.0, 0.5)
    projected = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=3)
    volume = projected.sum() * g.pixel_mm**2 / g.magnification_at(z) ** 2
    rng = np.random.default_rng(0)
    lo = np.minimum(a, b).min(axis=0) - 0.5
    hi = np.maximum(a, b).max(axis=0) + 0.5
    hits = sum(
        np.count_nonzero(_inside_any_tube(rng.uniform(lo, hi, (1_000_000, 3)), a, b, r0, r1))
        for _ in range(4)
    )
    union = hits / 4e6 * np.prod(hi - lo)
    assert volume == pytest.approx(union, rel=4e-3)
    assert 3 * np.pi * 0.5**2 * 3.0 > 1.03 * union  # the sum of the tubes is well above it


def test_nodes_must_label_both_ends_of_every_tube():
    g = Geometry(pixel_mm=0.1, rows=100, cols=100)
    a, b, r0, r1, nodes = _y_shape(np.array([5.0, 0.0, 30.0]), 30.0, 0.3, length=2.0)
    with pytest.raises(ParameterError, match=r"nodes = .*\(3, 2\) integer node labels"):
        project_segments(g, a, b, r0, r1, nodes=nodes[:, :1])
    with pytest.raises(ParameterError, match="nodes = 'a tube with one label at both ends'"):
        project_segments(g, a, b, r0, r1, nodes=np.array([[0, 0], [0, -1], [0, -1]]))
    with pytest.raises(ParameterError, match="ends 1 mm apart"):
        moved = b.copy()
        moved[0, 0] += 1.0  # the parent's end, off the node
        project_segments(g, a, moved, r0, r1, nodes=nodes)
    with pytest.raises(ParameterError, match="weights"):
        project_segments(g, a, b, r0, r1, nodes=nodes, weights=np.array([1.0, 1.0, 0.5]))
    # One weight at the node: the union, weighted.
    np.testing.assert_allclose(
        project_segments(g, a, b, r0, r1, nodes=nodes, weights=np.full(3, 2.0)),
        2 * project_segments(g, a, b, r0, r1, nodes=nodes),
    )


@pytest.mark.parametrize(("k", "wedges"), [(2, True), (2, False), (3, False)])
def test_joint_intervals_are_the_chords(k, wedges):
    """The joints' intervals (written without branches, every case computed and one picked
    per ray, so that the GPU can fuse them) are as long as the chords of the separate
    chord code (with branches), for tubes lying flat, rays parallel to a tube's slab or
    along its side, hairpins, and rays that miss everything; nothing on the way is NaN or
    infinite; and the joint functions made of them see overlaps and, with wedges, more
    added than shared."""
    from ductogram.imaging.projection import (
        _FRUSTUM_TERM_COUNT,
        _frustum_chords_from_terms,
        _frustum_intervals,
        _frustum_quadric,
        _joint_excess,
        _near_joint,
        _random_joints,
    )

    d, terms = _random_joints(np.random.default_rng(10 + k), k, wedges, joints=120, rays=60)
    one = tuple(c[0] for c in d)
    # The cases are there: qa < 0, qa = 0 with qb zero and not, rays parallel to a slab.
    _, _, lo, _, qb, _, _, _, _, _, negative, flat = _frustum_quadric(one, terms[:12])
    assert negative.any() and np.isinf(lo).any()
    assert (flat & (qb == 0)).any() and (flat & (qb > 0)).any() and (flat & (qb < 0)).any()
    norm = np.sqrt(one[0] ** 2 + one[1] ** 2 + one[2] ** 2)
    for m in range(k):
        own = terms[m * _FRUSTUM_TERM_COUNT : (m + 1) * _FRUSTUM_TERM_COUNT]
        with np.errstate(all="raise"):  # no NaN, no infinity on the way
            start, stop = _frustum_intervals(np, one, own)
        assert (0 <= start).all() and (start <= stop).all() and (stop <= 1).all()
        chord = _frustum_chords_from_terms(one, own)
        assert np.count_nonzero(chord) > 0.05 * chord.size
        np.testing.assert_allclose((stop - start) * norm, chord, rtol=1e-9, atol=1e-12)
    with np.errstate(all="raise"):
        near, excess = _near_joint(k, *one, *terms), _joint_excess(k, *d, *terms)
    assert 0.05 < near.mean() < 0.5
    assert np.count_nonzero(excess) > 0.05 * excess.size
    assert (excess < 0).any() == wedges  # where the wedges add more than the tubes share


@pytest.mark.parametrize("k", [2, 3])
def test_joint_intervals_through_an_apex(k):
    """Where a ray runs along the axis of a double cone (a radius through zero; no duct is
    one, but the formulas allow it) through its apex, qa < 0 and the discriminant is about
    0, of either sign by rounding: the interval is the whole slab, or the longer of the two
    pieces that the chord code adds up."""
    from ductogram.imaging.projection import (
        _frustum_intervals,
        _frustum_quadric,
        _frustum_terms,
        _joint_excess,
        _near_joint,
    )

    rng = np.random.default_rng(k)
    n = 400
    source = np.array([0.0, 0.0, 650.0])
    node = np.column_stack([np.zeros((n, 2)), rng.uniform(5, 40, n)])
    u = rng.normal(size=(n, k, 3))
    u[:, 0] = (0.0, 0.0, 1.0)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    far = node[:, None] + rng.uniform(0.5, 4.0, (n, k, 1)) * u
    r = rng.uniform(0.05, 1.0, (n, k))
    r0 = np.where(np.arange(k) == 0, -r, r)
    terms = [
        t for m in range(k) for t in _frustum_terms(source, node, far[:, m], r0[:, m], r[:, m])
    ]
    d = tuple(2.0 * (node - source).T)
    _, _, lo, hi, _, _, disc, r1, r2, _, negative, _ = _frustum_quadric(d, terms[:12])
    assert (negative & (disc < 0)).any() and (negative & (disc >= 0)).any()
    assert negative.all()

    def span(a, b):
        return np.maximum(np.minimum(b, 1.0) - np.maximum(a, 0.0), 0.0)

    longer = np.maximum(span(lo, np.minimum(hi, r1)), span(np.maximum(lo, r2), hi))
    want = np.where(disc < 0, span(lo, hi), longer)
    with np.errstate(all="raise"):
        start, stop = _frustum_intervals(np, d, terms[:12])
    np.testing.assert_allclose(stop - start, want, rtol=1e-9, atol=1e-12)
    with np.errstate(all="raise"):
        near, excess = _near_joint(k, *d, *terms), _joint_excess(k, *d, *terms)
    assert near.any()
    assert np.count_nonzero(excess) > n // 4
