"""Exact line integrals through the bodies of a ductogram, per ray.

Ducts are chains of tapered tubes (truncated cones with flat ends); masses, bubbles, cysts,
TDLUs and extravasated contrast are ellipsoids. For a ray from the focal spot ``S`` to a
point ``P`` on the detector, the length of the ray inside each body is found in closed form
(a quadratic in the ray parameter), not by voxelising: the projection is exact at any
resolution, and anti-aliased by averaging several rays per pixel.

Truncated cone (axis from ``a`` to ``b``, length ``L``, unit axis ``e``, radius
``r(s) = r0 + k s`` with ``k = (r1 - r0) / L``): with ``w(t) = S + t (P - S) - a`` and
``s = w · e``, a point is inside when ``0 <= s <= L`` and

    |w|² - (1 + k²) s² - 2 r0 k s - r0² <= 0,

a quadratic ``A t² + B t + C <= 0`` along the ray. The frustum is convex, so the inside of a
line is one interval: the quadratic's interval intersected with the slab ``0 <= s <= L``.

Ellipsoid (centre ``c``, rotation ``R`` with the axes as columns, semi-axes ``q``): with
``u(t) = R^T (S + t (P - S) - c) / q`` the inside is ``|u|² <= 1``.

All functions take arrays of ray pairs, so a caller evaluates only the rays near each
body (see :func:`project_segments`). Frames: any Cartesian frame in mm; the imaging
geometry (:mod:`ductogram.imaging.geometry`) uses the detector frame.
"""

from __future__ import annotations

import numpy as np


def frustum_chords(
    source_mm: np.ndarray,
    target_mm: np.ndarray,
    a_mm: np.ndarray,
    b_mm: np.ndarray,
    r0_mm: np.ndarray,
    r1_mm: np.ndarray,
) -> np.ndarray:
    """Length (mm) of each ray inside a truncated cone.

    Parameters
    ----------
    source_mm, target_mm : (M, 3) or (3,) arrays
        Ray start (focal spot) and end (detector point); the ray is the segment between.
    a_mm, b_mm : (M, 3) arrays
        Ends of the cone's axis.
    r0_mm, r1_mm : (M,) arrays
        Radii at ``a`` and ``b`` (> 0).

    Returns
    -------
    (M,) array
        Chord length inside the frustum (mm); 0 for rays that miss it.

    Examples
    --------
    A cylinder of radius 1 along x, crossed by a ray along y through its axis: 2 mm.

    >>> frustum_chords(np.array([5.0, -10, 0]), np.array([[5.0, 10, 0]]),
    ...                np.array([[0.0, 0, 0]]), np.array([[10.0, 0, 0]]),
    ...                np.array([1.0]), np.array([1.0])).round(9)
    array([2.])
    """
    s0 = np.asarray(source_mm, dtype=float)
    d = np.asarray(target_mm, dtype=float) - s0
    terms = _frustum_terms(s0, a_mm, b_mm, r0_mm, r1_mm)
    return _frustum_chords_from_terms(d, terms)


def _frustum_terms(source, a_mm, b_mm, r0_mm, r1_mm) -> tuple[np.ndarray, ...]:
    """What a frustum's chord needs that does not depend on the ray's direction (the rays
    all start at ``source``): (e, w0, s_0, length, r0, k, q, qc)."""
    a = np.asarray(a_mm, dtype=float)
    axis = np.asarray(b_mm, dtype=float) - a
    length = np.linalg.norm(axis, axis=-1)
    e = axis / np.maximum(length, 1e-12)[..., None]
    r0 = np.asarray(r0_mm, dtype=float)
    k = (np.asarray(r1_mm, dtype=float) - r0) / np.maximum(length, 1e-12)
    w0 = np.asarray(source, dtype=float) - a
    s_0 = np.einsum("...i,...i->...", w0, e)
    q = 1.0 + k * k
    qc = np.einsum("...i,...i->...", w0, w0) - q * s_0 * s_0 - 2.0 * r0 * k * s_0 - r0 * r0
    return e, w0, s_0, length, r0, k, q, qc


def _frustum_chords_from_terms(d: np.ndarray, terms: tuple[np.ndarray, ...]) -> np.ndarray:
    e, w0, s_0, length, r0, k, q, qc = terms
    sd = np.einsum("...i,...i->...", d, e)
    qa = np.einsum("...i,...i->...", d, d) - q * sd * sd
    qb = 2.0 * (np.einsum("...i,...i->...", w0, d) - q * s_0 * sd - r0 * k * sd)
    # Slab 0 <= s <= L along the ray.
    with np.errstate(divide="ignore", invalid="ignore"):
        t_a = np.where(sd != 0, (0.0 - s_0) / sd, -np.inf)
        t_b = np.where(sd != 0, (length - s_0) / sd, np.inf)
    lo = np.minimum(t_a, t_b)
    hi = np.maximum(t_a, t_b)
    parallel = sd == 0
    inside_slab = (s_0 >= 0) & (s_0 <= length)
    lo = np.where(parallel, np.where(inside_slab, -np.inf, np.inf), lo)
    hi = np.where(parallel, np.where(inside_slab, np.inf, -np.inf), hi)
    # Interval of the quadric.
    disc = qb * qb - 4.0 * qa * qc
    sq = np.sqrt(np.maximum(disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-qb - sq) / (2.0 * qa)
        t2 = (-qb + sq) / (2.0 * qa)
    r1 = np.minimum(t1, t2)
    r2 = np.maximum(t1, t2)
    eps = 1e-12 * np.maximum(np.abs(qb), 1.0)
    positive = qa > eps
    negative = qa < -eps
    flat = ~positive & ~negative

    def piece(start, stop):
        """Length, in ray parameter, of [start, stop] within the ray's [0, 1]."""
        return np.maximum(np.minimum(stop, 1.0) - np.maximum(start, 0.0), 0.0)

    # qa > 0: inside between the roots.
    inside = np.where(positive & (disc >= 0), piece(np.maximum(lo, r1), np.minimum(hi, r2)), 0.0)
    if negative.any():
        # qa < 0: inside outside the roots (everywhere if no real roots); the frustum is
        # convex, so within the slab at most one of the two pieces is met.
        both = piece(lo, np.minimum(hi, r1)) + piece(np.maximum(lo, r2), hi)
        inside = np.where(negative, np.where(disc < 0, piece(lo, hi), both), inside)
    if flat.any():
        # qa ~ 0: the quadric is linear, B t + C <= 0.
        with np.errstate(divide="ignore", invalid="ignore"):
            t_lin = np.where(qb != 0, -qc / qb, np.nan)
        linear = np.where(
            qb > 0,
            piece(lo, np.minimum(hi, t_lin)),
            np.where(
                qb < 0, piece(np.maximum(lo, t_lin), hi), np.where(qc <= 0, piece(lo, hi), 0.0)
            ),
        )
        inside = np.where(flat, linear, inside)
    chord = inside * np.sqrt(np.einsum("...i,...i->...", d, d))
    return np.nan_to_num(chord, nan=0.0)


def ellipsoid_chords(
    source_mm: np.ndarray,
    target_mm: np.ndarray,
    centre_mm: np.ndarray,
    semi_axes_mm: np.ndarray,
    rotation: np.ndarray,
) -> np.ndarray:
    """Length (mm) of each ray inside an ellipsoid.

    Parameters
    ----------
    source_mm, target_mm : (M, 3) or (3,) arrays
        Ray ends.
    centre_mm : (M, 3) or (3,) array
    semi_axes_mm : (M, 3) or (3,) array
    rotation : (M, 3, 3) or (3, 3) array
        The ellipsoid's axes as columns.

    Examples
    --------
    A sphere of radius 2 crossed 1 mm off its centre: ``2 sqrt(4 - 1)``.

    >>> c = ellipsoid_chords(np.array([-10.0, 1, 0]), np.array([10.0, 1, 0]),
    ...                      np.zeros(3), np.full(3, 2.0), np.eye(3))
    >>> bool(np.isclose(c, 2 * np.sqrt(3)))
    True
    """
    s0 = np.asarray(source_mm, dtype=float)
    d = np.asarray(target_mm, dtype=float) - s0
    rot = np.asarray(rotation, dtype=float)
    q = np.asarray(semi_axes_mm, dtype=float)
    w0 = s0 - np.asarray(centre_mm, dtype=float)
    u0 = np.einsum("...ji,...j->...i", rot, w0) / q
    ud = np.einsum("...ji,...j->...i", rot, d) / q
    qa = np.einsum("...i,...i->...", ud, ud)
    qb = 2.0 * np.einsum("...i,...i->...", u0, ud)
    qc = np.einsum("...i,...i->...", u0, u0) - 1.0
    disc = qb * qb - 4.0 * qa * qc
    sq = np.sqrt(np.maximum(disc, 0.0))
    t1 = np.clip((-qb - sq) / (2.0 * qa), 0.0, 1.0)
    t2 = np.clip((-qb + sq) / (2.0 * qa), 0.0, 1.0)
    return np.where(disc > 0, (t2 - t1) * np.linalg.norm(d, axis=-1), 0.0)


def _footprints(geometry, lo_xyz: np.ndarray, hi_xyz: np.ndarray, reach_mm: np.ndarray):
    """Pixel boxes (row0, row1, col0, col1), inclusive-exclusive, that hold the shadow of
    each body, given points bounding it and how far its surface reaches beyond them."""
    corners = np.stack([lo_xyz, hi_xyz], axis=0)
    xy = geometry.to_detector(corners)
    m = geometry.magnification_at(np.maximum(lo_xyz[..., 2], hi_xyz[..., 2]) + reach_mm)
    pad = reach_mm * m + geometry.pixel_mm
    pix_lo = geometry.to_pixel(xy.min(axis=0) - pad[:, None])
    pix_hi = geometry.to_pixel(xy.max(axis=0) + pad[:, None])
    r0 = np.clip(np.floor(pix_lo[:, 0]).astype(np.int64), 0, geometry.rows)
    r1 = np.clip(np.ceil(pix_hi[:, 0]).astype(np.int64) + 1, 0, geometry.rows)
    c0 = np.clip(np.floor(pix_lo[:, 1]).astype(np.int64), 0, geometry.cols)
    c1 = np.clip(np.ceil(pix_hi[:, 1]).astype(np.int64) + 1, 0, geometry.cols)
    return r0, r1, c0, c1


def _pairs(r0, r1, c0, c1, chunk: int):
    """(body index, row, col) of every pixel in each body's box, in chunks of bodies."""
    counts = (r1 - r0) * (c1 - c0)
    counts = np.where((r1 > r0) & (c1 > c0), counts, 0)
    start = 0
    n = len(counts)
    while start < n:
        stop = start
        total = 0
        while stop < n and (total + counts[stop] <= chunk or stop == start):
            total += counts[stop]
            stop += 1
        idx = np.arange(start, stop)
        cnt = counts[idx]
        body = np.repeat(idx, cnt)
        local = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        width = (c1 - c0)[body]
        yield (
            body,
            r0[body] + local // np.maximum(width, 1),
            c0[body] + local % np.maximum(width, 1),
        )
        start = stop


def _subpixel_offsets(supersample: int) -> np.ndarray:
    k = (np.arange(supersample) + 0.5) / supersample - 0.5
    return np.array([(a, b) for a in k for b in k])


def project_segments(
    geometry,
    a_mm: np.ndarray,
    b_mm: np.ndarray,
    r0_mm: np.ndarray,
    r1_mm: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    supersample: int = 2,
    chunk: int = 2_000_000,
) -> np.ndarray:
    """Sum over tapered tubes of (weight ×) the chord of each pixel's rays through them.

    Parameters
    ----------
    geometry : Geometry
        The exposure geometry; the tubes are given in its detector frame.
    a_mm, b_mm : (M, 3) arrays
        Axis ends of each tube (detector frame, mm).
    r0_mm, r1_mm : (M,) arrays
        Radii at ``a`` and ``b``.
    weights : (M,) array, optional
        Factor per tube (a concentration, say); default 1.
    supersample : int
        Rays per pixel along each axis (anti-aliasing); their chords are averaged.

    Returns
    -------
    (rows, cols) float array
        Weighted path length (mm) through the tubes, per pixel.
    """
    a = np.asarray(a_mm, dtype=float)
    b = np.asarray(b_mm, dtype=float)
    r0 = np.asarray(r0_mm, dtype=float)
    r1 = np.asarray(r1_mm, dtype=float)
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    image = np.zeros(geometry.rows * geometry.cols)
    reach = np.maximum(r0, r1)
    boxes = _footprints(geometry, np.minimum(a, b), np.maximum(a, b), reach)
    offsets = _subpixel_offsets(supersample)
    source = geometry.source_mm
    terms = _frustum_terms(source, a, b, r0, r1)
    for body, rows, cols in _pairs(*boxes, chunk=max(chunk // len(offsets), 1)):
        acc = np.zeros(len(body))
        mine = tuple(t[body] for t in terms)
        for dr, dc in offsets:
            d = geometry.pixel_centres_mm(rows + dr, cols + dc) - source
            acc += _frustum_chords_from_terms(d, mine)
        image += np.bincount(
            rows * geometry.cols + cols, weights=acc * w[body] / len(offsets), minlength=image.size
        )
    return image.reshape(geometry.rows, geometry.cols)


def project_ellipsoids(
    geometry,
    centres_mm: np.ndarray,
    semi_axes_mm: np.ndarray,
    rotations: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    supersample: int = 2,
    chunk: int = 2_000_000,
) -> np.ndarray:
    """Sum over ellipsoids of (weight ×) each pixel's chord through them (mm); the
    ellipsoids are given in the detector frame (see :func:`project_segments`)."""
    c = np.asarray(centres_mm, dtype=float).reshape(-1, 3)
    q = np.asarray(semi_axes_mm, dtype=float).reshape(-1, 3)
    rot = np.asarray(rotations, dtype=float).reshape(-1, 3, 3)
    w = np.ones(len(c)) if weights is None else np.asarray(weights, dtype=float)
    image = np.zeros(geometry.rows * geometry.cols)
    if len(c) == 0:
        return image.reshape(geometry.rows, geometry.cols)
    reach = q.max(axis=1)
    boxes = _footprints(geometry, c, c, reach)
    offsets = _subpixel_offsets(supersample)
    source = geometry.source_mm
    for body, rows, cols in _pairs(*boxes, chunk=max(chunk // len(offsets), 1)):
        acc = np.zeros(len(body))
        for dr, dc in offsets:
            target = geometry.pixel_centres_mm(rows + dr, cols + dc)
            acc += ellipsoid_chords(source, target, c[body], q[body], rot[body])
        image += np.bincount(
            rows * geometry.cols + cols, weights=acc * w[body] / len(offsets), minlength=image.size
        )
    return image.reshape(geometry.rows, geometry.cols)
