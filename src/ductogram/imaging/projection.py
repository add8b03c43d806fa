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

A pixel's path is the sum of its chords through the bodies, with one exception: where duct
segments meet at a node (a parent's end, its children's starts), their tubes overlap near
it, and there the path is the chord through their union, the shared lumen counted once,
and where a duct bends the wedge between its flat-ended tubes is filled (a mitre joint;
:func:`project_segments` with ``nodes``). Each body's inside along a ray is one interval
of the ray, so the joint's chord is the length of a union of intervals, found for the rays
near each node only.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._backend import array_namespace, scatter_add


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
    return _frustum_chords_from_terms((d[..., 0], d[..., 1], d[..., 2]), terms)


#: How many arrays :func:`_frustum_terms` gives per tube.
_FRUSTUM_TERM_COUNT = 12


def _frustum_terms(source, a_mm, b_mm, r0_mm, r1_mm) -> tuple[np.ndarray, ...]:
    """What a frustum's chord needs that does not depend on the ray's direction (the rays
    all start at ``source``): (e_x, e_y, e_z, w0_x, w0_y, w0_z, s_0, length, r0, k, q, qc),
    vectors by component so that the per-ray work is plain elementwise arithmetic."""
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
    return (*np.moveaxis(e, -1, 0), *np.moveaxis(w0, -1, 0), s_0, length, r0, k, q, qc)


def _dot(u: tuple, v: tuple):
    """Dot product of two vectors given by components (arrays or scalars)."""
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def _frustum_quadric(d: tuple, terms: tuple) -> tuple:
    """What the inside of rays ``source + t d`` (``d`` by components) in the frustums of
    ``terms`` (see :func:`_frustum_terms`) is made of: the slab ``lo <= t <= hi``, the
    quadric ``qa t² + qb t + qc <= 0`` with its roots ``r1 <= r2`` and discriminant, the
    sign of ``qa`` (positive, negative, flat) and ``|d|²``. Any array namespace."""
    xp = array_namespace(*d)
    e, w0, (s_0, length, r0, k, q, qc) = terms[0:3], terms[3:6], terms[6:]
    sd = _dot(d, e)
    dd = _dot(d, d)
    qa = dd - q * sd * sd
    qb = 2.0 * (_dot(w0, d) - q * s_0 * sd - r0 * k * sd)
    # Slab 0 <= s <= L along the ray.
    with np.errstate(divide="ignore", invalid="ignore"):
        t_a = xp.where(sd != 0, (0.0 - s_0) / sd, -xp.inf)
        t_b = xp.where(sd != 0, (length - s_0) / sd, xp.inf)
    lo = xp.minimum(t_a, t_b)
    hi = xp.maximum(t_a, t_b)
    parallel = sd == 0
    inside_slab = (s_0 >= 0) & (s_0 <= length)
    lo = xp.where(parallel, xp.where(inside_slab, -xp.inf, xp.inf), lo)
    hi = xp.where(parallel, xp.where(inside_slab, xp.inf, -xp.inf), hi)
    # Interval of the quadric.
    disc = qb * qb - 4.0 * qa * qc
    sq = xp.sqrt(xp.maximum(disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-qb - sq) / (2.0 * qa)
        t2 = (-qb + sq) / (2.0 * qa)
    r1 = xp.minimum(t1, t2)
    r2 = xp.maximum(t1, t2)
    eps = 1e-12 * xp.maximum(xp.abs(qb), 1.0)
    positive = qa > eps
    negative = qa < -eps
    flat = ~positive & ~negative
    return xp, dd, lo, hi, qb, qc, disc, r1, r2, positive, negative, flat


def _linear_root(xp, qb, qc):
    """Where ``qb t + qc`` vanishes (NaN where ``qb == 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where(qb != 0, -qc / qb, xp.nan)


def _frustum_chords_from_terms(d: tuple, terms: tuple) -> object:
    """Chords of rays ``source + t d`` (t in [0, 1], ``d`` by components) through the
    frustums of ``terms`` (see :func:`_frustum_terms`). Any array namespace."""
    xp, dd, lo, hi, qb, qc, disc, r1, r2, positive, negative, flat = _frustum_quadric(d, terms)

    def piece(start, stop):
        """Length, in ray parameter, of [start, stop] within the ray's [0, 1]."""
        return xp.maximum(xp.minimum(stop, 1.0) - xp.maximum(start, 0.0), 0.0)

    # qa > 0: inside between the roots.
    inside = xp.where(positive & (disc >= 0), piece(xp.maximum(lo, r1), xp.minimum(hi, r2)), 0.0)
    if bool(negative.any()):
        # qa < 0: inside outside the roots (everywhere if no real roots); the frustum is
        # convex, so within the slab at most one of the two pieces is met.
        both = piece(lo, xp.minimum(hi, r1)) + piece(xp.maximum(lo, r2), hi)
        inside = xp.where(negative, xp.where(disc < 0, piece(lo, hi), both), inside)
    if bool(flat.any()):
        # qa ~ 0: the quadric is linear, B t + C <= 0.
        t_lin = _linear_root(xp, qb, qc)
        linear = xp.where(
            qb > 0,
            piece(lo, xp.minimum(hi, t_lin)),
            xp.where(
                qb < 0, piece(xp.maximum(lo, t_lin), hi), xp.where(qc <= 0, piece(lo, hi), 0.0)
            ),
        )
        inside = xp.where(flat, linear, inside)
    chord = inside * xp.sqrt(dd)
    return xp.nan_to_num(chord, nan=0.0)


def _branchless_kernels(xp):
    """The frustum and ellipsoid chords written without branches or reductions (every case
    computed, the right one picked per ray) on the namespace ``xp``, so that CuPy can fuse
    each into one kernel. Arguments: the ray direction's components, then the terms."""

    def span(start, stop):
        """Length of [start, stop] within the ray's [0, 1]."""
        return xp.maximum(xp.minimum(stop, 1.0) - xp.maximum(start, 0.0), 0.0)

    def frustum(dx, dy, dz, ex, ey, ez, wx, wy, wz, s_0, length, r0, k, q, qc):
        d = (dx, dy, dz)
        terms = (ex, ey, ez, wx, wy, wz, s_0, length, r0, k, q, qc)
        dd, lo, hi, qb, qc, disc, r1, r2, t_lin, positive, negative = _branchless_quadric(
            xp, d, terms
        )
        whole = span(lo, hi)
        between = span(xp.maximum(lo, r1), xp.minimum(hi, r2))
        outside = span(lo, xp.minimum(hi, r1)) + span(xp.maximum(lo, r2), hi)
        linear = xp.where(
            qb > 0.0,
            span(lo, xp.minimum(hi, t_lin)),
            xp.where(qb < 0.0, span(xp.maximum(lo, t_lin), hi), xp.where(qc <= 0.0, whole, 0.0)),
        )
        inside = xp.where(
            positive,
            xp.where(disc >= 0.0, between, 0.0),
            xp.where(negative, xp.where(disc < 0.0, whole, outside), linear),
        )
        return inside * xp.sqrt(dd)

    def ellipsoid(dx, dy, dz, u0x, u0y, u0z, a00, a01, a02, a10, a11, a12, a20, a21, a22):
        d, u0 = (dx, dy, dz), (u0x, u0y, u0z)
        ud = (_dot((a00, a01, a02), d), _dot((a10, a11, a12), d), _dot((a20, a21, a22), d))
        qa = _dot(ud, ud)
        qb = 2.0 * _dot(u0, ud)
        qc = _dot(u0, u0) - 1.0
        disc = qb * qb - 4.0 * qa * qc
        sq = xp.sqrt(xp.maximum(disc, 0.0))
        t1 = (-qb - sq) / (2.0 * qa)
        t2 = (-qb + sq) / (2.0 * qa)
        return xp.where(disc > 0.0, span(t1, t2) * xp.sqrt(_dot(d, d)), 0.0)

    return frustum, ellipsoid


def _branchless_quadric(xp, d: tuple, terms: tuple) -> tuple:
    """:func:`_frustum_quadric` for the branchless kernels: the slab's ends at ``±_BIG``
    where the ray runs parallel to it, every division guarded on its denominator (no NaN,
    no infinity), and the linear root ``t_lin`` of the flat case (where ``qa`` is about 0
    the roots ``r1``, ``r2`` mean nothing; where ``qb`` is 0 neither does ``t_lin``). Gives
    ``(dd, lo, hi, qb, qc, disc, r1, r2, t_lin, positive, negative)``."""
    e, w0, (s_0, length, r0, k, q, qc) = terms[0:3], terms[3:6], terms[6:]
    sd = _dot(d, e)
    dd = _dot(d, d)
    qa = dd - q * sd * sd
    qb = 2.0 * (_dot(w0, d) - q * s_0 * sd - r0 * k * sd)
    parallel = sd == 0.0
    safe_sd = xp.where(parallel, 1.0, sd)
    t_a = (0.0 - s_0) / safe_sd
    t_b = (length - s_0) / safe_sd
    in_slab = (s_0 >= 0.0) & (s_0 <= length)
    lo = xp.where(parallel, xp.where(in_slab, -_BIG, _BIG), xp.minimum(t_a, t_b))
    hi = xp.where(parallel, xp.where(in_slab, _BIG, -_BIG), xp.maximum(t_a, t_b))
    disc = qb * qb - 4.0 * qa * qc
    sq = xp.sqrt(xp.maximum(disc, 0.0))
    eps = 1e-12 * xp.maximum(xp.abs(qb), 1.0)
    positive = qa > eps
    negative = qa < -eps
    safe_qa = xp.where(positive | negative, qa, 1.0)
    t1 = (-qb - sq) / (2.0 * safe_qa)
    t2 = (-qb + sq) / (2.0 * safe_qa)
    r1, r2 = xp.minimum(t1, t2), xp.maximum(t1, t2)
    t_lin = -qc / xp.where(qb == 0.0, 1.0, qb)
    return dd, lo, hi, qb, qc, disc, r1, r2, t_lin, positive, negative


#: Stands for an infinite ray parameter in the branchless kernels (rays run over [0, 1]).
_BIG = 1e30  # finite in float32 too
_FUSED: dict = {}


def _chord_kernels(xp):
    """(frustum, ellipsoid) chord functions taking components. NumPy: the plain functions
    (their branches skip work on the CPU). CuPy: the branchless ones, each fused into one
    kernel, checked once against the unfused ones on known rays (else those are used)."""
    if xp is np:

        def frustum(dx, dy, dz, *terms):
            return _frustum_chords_from_terms((dx, dy, dz), terms)

        def ellipsoid(dx, dy, dz, *terms):
            return _ellipsoid_chords((dx, dy, dz), terms)

        return frustum, ellipsoid
    plain = _branchless_kernels(xp)
    return _fused_kernels(
        xp, xp.__name__, plain, lambda fused: _kernels_agree(xp, plain, fused), "chord kernels"
    )


def _fused_kernels(xp, key, plain: tuple, agree, what: str) -> tuple:
    """The branchless functions ``plain`` each fused into one CuPy kernel, made once per
    ``key`` and kept in :data:`_FUSED`, when ``agree(fused)`` finds that they give what
    the unfused ones give; else (with a warning that names ``what``) the unfused ones."""
    if key not in _FUSED:
        try:
            fused = tuple(xp.fuse(f) for f in plain)
            ok = agree(fused)
        except Exception:  # a CuPy without fusion of these functions: run them unfused
            ok = False
        if not ok:
            warnings.warn(f"fused {what} disagree: unfused ones used", stacklevel=3)
        _FUSED[key] = fused if ok else plain
    return _FUSED[key]


def _kernels_agree(xp, plain, fused) -> bool:
    """Whether projections made with the fused kernels equal those made with the plain ones
    (a small view of random tubes and ellipsoids, run the way a scene runs them)."""
    from .geometry import Geometry

    rng = np.random.default_rng(0)
    g = Geometry.for_breast(40, 20, 40, pixel_mm=0.2)
    n = 200
    a = np.column_stack([rng.uniform(2, 38, n), rng.uniform(-18, 18, n), rng.uniform(5, 40, n)])
    b = a + rng.normal(0, 3, (n, 3))
    b[:20, 2] = a[:20, 2]  # tubes lying flat
    r = rng.uniform(0.05, 1.0, (2, n))
    rot = np.linalg.qr(rng.normal(size=(n, 3, 3)))[0]
    q = rng.uniform(0.2, 2, (n, 3))
    results = []
    for kernels in (plain, fused):
        _FUSED[xp.__name__] = kernels
        results.append(
            (
                project_segments(g, a, b, r[0], r[1], xp=xp),
                project_ellipsoids(g, a, q, rot, xp=xp),
            )
        )
    for want, got in zip(*results, strict=True):
        # Fused multiply-adds round grazing rays differently: agree to 0.1 nm.
        if not bool(xp.all(xp.isfinite(got))) or not bool(xp.any(want > 0)):
            return False
        if not bool(xp.allclose(got, want, rtol=1e-7, atol=1e-7)):
            return False
    return True


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
    terms = _ellipsoid_terms(s0, centre_mm, semi_axes_mm, rotation)
    return _ellipsoid_chords((d[..., 0], d[..., 1], d[..., 2]), terms)


def _ellipsoid_terms(source, centre_mm, semi_axes_mm, rotation) -> tuple[np.ndarray, ...]:
    """What an ellipsoid's chord needs that does not depend on the ray's direction: the
    source in the unit-sphere frame ``u0 = R^T (S - c) / q`` and the map ``A = diag(1/q) R^T``
    of directions into it, by component: (u0_x, u0_y, u0_z, A_00, A_01, ..., A_22)."""
    rot = np.asarray(rotation, dtype=float)
    q = np.asarray(semi_axes_mm, dtype=float)
    w0 = np.asarray(source, dtype=float) - np.asarray(centre_mm, dtype=float)
    u0 = np.einsum("...ji,...j->...i", rot, w0) / q
    a = np.swapaxes(rot, -1, -2) / q[..., :, None]
    return (*np.moveaxis(u0, -1, 0), *(a[..., i, j] for i in range(3) for j in range(3)))


def _ellipsoid_chords(d: tuple, terms: tuple):
    """Chords of rays ``source + t d`` (t in [0, 1], ``d`` by components) through the
    ellipsoids of ``terms`` (see :func:`_ellipsoid_terms`). Any array namespace."""
    xp = array_namespace(*d)
    u0, a = terms[0:3], terms[3:]
    ud = (_dot(a[0:3], d), _dot(a[3:6], d), _dot(a[6:9], d))
    qa = _dot(ud, ud)
    qb = 2.0 * _dot(u0, ud)
    qc = _dot(u0, u0) - 1.0
    disc = qb * qb - 4.0 * qa * qc
    sq = xp.sqrt(xp.maximum(disc, 0.0))
    t1 = xp.clip((-qb - sq) / (2.0 * qa), 0.0, 1.0)
    t2 = xp.clip((-qb + sq) / (2.0 * qa), 0.0, 1.0)
    return xp.where(disc > 0, (t2 - t1) * xp.sqrt(_dot(d, d)), 0.0)


def _ball_shadows(geometry, centre_mm: np.ndarray, reach_mm: np.ndarray):
    """Where the shadow of each ball (centre ``C`` and radius ``R``, detector frame, mm)
    lies on the detector: its least and greatest continuous pixel coordinates, (M, 2) each
    (row, col).

    The shadow is bounded along ``x`` by the two planes through the focal spot
    ``x = f (SID - z)`` tangent to the ball: ``(C_x - f D)² = R² (1 + f²)`` with
    ``D = SID - C_z``, so ``f = (C_x D ± R sqrt(D² + C_x² - R²)) / (D² - R²)`` and the
    shadow's edges are at ``x = SID f`` [derived here]; the same along ``y``."""
    centre = np.asarray(centre_mm, dtype=float).reshape(-1, 3)
    reach = np.asarray(reach_mm, dtype=float).reshape(-1, 1)
    sid = geometry.source_to_image_mm
    depth = sid - centre[:, 2:3]
    across = centre[:, :2]
    half = reach * np.sqrt(depth * depth + across * across - reach * reach)
    scale = sid / (depth * depth - reach * reach)
    return (
        geometry.to_pixel((across * depth - half) * scale),
        geometry.to_pixel((across * depth + half) * scale),
    )


def _pixel_boxes(geometry, lo_px: np.ndarray, hi_px: np.ndarray, offset: float):
    """Pixel boxes (row0, row1, col0, col1), inclusive-exclusive, of the pixels one of whose
    rays (at most ``offset`` pixels from the pixel's centre along each axis) meets a shadow
    that lies between the continuous pixel coordinates ``lo_px`` and ``hi_px`` (M, 2)."""
    lo = np.ceil(lo_px - offset - 1e-6).astype(np.int64)
    hi = np.floor(hi_px + offset + 1e-6).astype(np.int64) + 1
    return (
        np.clip(lo[:, 0], 0, geometry.rows),
        np.clip(hi[:, 0], 0, geometry.rows),
        np.clip(lo[:, 1], 0, geometry.cols),
        np.clip(hi[:, 1], 0, geometry.cols),
    )


def _ball_boxes(geometry, centre_mm: np.ndarray, reach_mm: np.ndarray, offset: float):
    """Pixel boxes (see :func:`_pixel_boxes`) that hold the shadow of each ball."""
    return _pixel_boxes(geometry, *_ball_shadows(geometry, centre_mm, reach_mm), offset)


def _tube_boxes(geometry, a_mm, b_mm, reach_mm, offset: float):
    """Pixel boxes (see :func:`_pixel_boxes`) that hold the shadow of each tube: a tube
    lies in the convex hull of the balls of radius ``reach_mm`` around its axis ends, whose
    shadow is the convex hull of the balls' shadows."""
    lo_a, hi_a = _ball_shadows(geometry, a_mm, reach_mm)
    lo_b, hi_b = _ball_shadows(geometry, b_mm, reach_mm)
    return _pixel_boxes(geometry, np.minimum(lo_a, lo_b), np.maximum(hi_a, hi_b), offset)


def _pairs(r0, r1, c0, c1, chunk: int, xp=np):
    """(body index, row, col) of every pixel in each body's box, in chunks of bodies.

    The boxes are host arrays; the chunks are cut on the host and the pairs are built on
    ``xp``'s device (no per-pixel array crosses between host and device)."""
    counts = (r1 - r0) * (c1 - c0)
    counts = np.where((r1 > r0) & (c1 > c0), counts, 0)
    width = np.maximum(c1 - c0, 1)
    n = len(counts)
    ends = np.cumsum(counts)
    start = 0
    while start < n:
        # The longest run of bodies from ``start`` whose pixels fit in ``chunk`` (at least one).
        base = ends[start] - counts[start]
        stop = max(int(np.searchsorted(ends, base + chunk, side="right")), start + 1)
        total = int(ends[stop - 1] - base)
        if total:
            cum = xp.asarray(ends[start:stop] - base)
            k = xp.arange(total, dtype=cum.dtype)
            body = xp.searchsorted(cum, k, side="right")
            local = k - (cum[body] - xp.asarray(counts[start:stop])[body])
            body += start
            w = xp.asarray(width)[body]
            yield body, xp.asarray(r0)[body] + local // w, xp.asarray(c0)[body] + local % w
        start = stop


#: Ray evaluations per chunk: about 0.5 GB of temporaries on the CPU; on a GPU, one chunk
#: for a whole duct tree (fewer, larger kernels).
CHUNK_CPU = 2_000_000
CHUNK_GPU = 64_000_000


def _chunk(chunk: int | None, xp) -> int:
    if chunk is None:
        return CHUNK_CPU if xp is np else CHUNK_GPU
    if not (isinstance(chunk, int | np.integer) and chunk >= 1):
        from ..core.errors import ParameterError

        raise ParameterError("chunk", chunk, "a positive number of ray evaluations")
    return int(chunk)


def _subpixel_offsets(supersample: int) -> np.ndarray:
    k = (np.arange(supersample) + 0.5) / supersample - 0.5
    return np.array([(a, b) for a in k for b in k])


def _ray_directions(geometry, rows, cols, dr: float, dc: float):
    """Vectors from the focal spot to the detector points at pixel (rows + dr, cols + dc),
    on the arrays' own device, by component (x, y, z)."""
    p = geometry.pixel_mm
    s = geometry.source_mm
    xp = array_namespace(rows)
    x = (rows + (dr + 0.5)) * p - float(s[0])
    y = (cols + (dc + 0.5 - 0.5 * geometry.cols)) * p - float(s[1])
    return x, y, xp.full(x.shape, -float(s[2]))


def _summed_chords(chords, geometry, rows, cols, offsets: np.ndarray, terms: tuple):
    """Sum over the sub-pixel offsets of each pair's chord. NumPy: offset by offset (the
    temporaries stay one chunk long). CuPy: all offsets in one (offsets × pairs) kernel."""
    xp = array_namespace(rows)
    if xp is np:
        acc = np.zeros(len(rows))
        for dr, dc in offsets:
            acc += chords(*_ray_directions(geometry, rows, cols, dr, dc), *terms)
        return acc
    dr, dc = (xp.asarray(offsets[:, k : k + 1]) for k in (0, 1))
    return chords(*_ray_directions(geometry, rows, cols, dr, dc), *terms).sum(axis=0)


def _device(xp, *arrays):
    return tuple(xp.asarray(a) for a in arrays)


def project_segments(
    geometry,
    a_mm: np.ndarray,
    b_mm: np.ndarray,
    r0_mm: np.ndarray,
    r1_mm: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    nodes: np.ndarray | None = None,
    supersample: int = 2,
    chunk: int | None = None,
    xp=np,
):
    """Sum over tapered tubes of (weight ×) the chord of each pixel's rays through them;
    where tubes meet at a node, the chord through their union (mitred where a duct bends).

    Parameters
    ----------
    geometry : Geometry
        The exposure geometry; the tubes are given in its detector frame.
    a_mm, b_mm : (M, 3) arrays
        Axis ends of each tube (detector frame, mm).
    r0_mm, r1_mm : (M,) arrays
        Radii at ``a`` and ``b``.
    weights : (M,) array, optional
        Factor per tube (a concentration, say); default 1. Tubes that meet at a node
        must have the same weight.
    nodes : (M, 2) int array, optional
        A label for the node at each tube's ends ``a`` and ``b``; -1 for an end that meets
        no other tube. Tubes whose ends carry the same label meet there (a duct tree's
        node: the parent segment's end, its children's starts): a ray crosses the lumen
        they share near it once, and where just two meet, one ending and one starting (a
        bend), their joint is mitred (see :func:`_join_at_nodes`). Default: every tube on
        its own, their chords summed.
    supersample : int
        Rays per pixel along each axis (anti-aliasing); their chords are averaged.
    chunk : int, optional
        Ray evaluations held in memory at once (bounds the memory): default
        :data:`CHUNK_CPU` on the CPU, :data:`CHUNK_GPU` on a GPU.
    xp : module
        ``numpy`` (CPU) or ``cupy`` (GPU): where the pixels are computed and returned.

    Returns
    -------
    (rows, cols) float array of ``xp``
        Weighted path length (mm) through the tubes, per pixel.

    Raises
    ------
    ParameterError
        For ``nodes`` of the wrong shape, a tube meeting itself, tubes labelled to meet
        whose ends are apart, or tubes of different weights meeting at a node.
    """
    a = np.asarray(a_mm, dtype=float).reshape(-1, 3)
    b = np.asarray(b_mm, dtype=float).reshape(-1, 3)
    r0 = np.asarray(r0_mm, dtype=float).reshape(-1)
    r1 = np.asarray(r1_mm, dtype=float).reshape(-1)
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    image = xp.zeros(geometry.rows * geometry.cols)
    if len(a) == 0:
        return image.reshape(geometry.rows, geometry.cols)
    # The nodes are checked before the tubes are projected, not after.
    junctions = None if nodes is None else list(_junctions(nodes, a, b, r0, r1))
    for tube, *_ in junctions or ():
        if np.any(w[tube] != w[tube][:, :1]):
            from ..core.errors import ParameterError

            raise ParameterError("weights", "different at a node", "one weight per node's tubes")
    offsets = _subpixel_offsets(supersample)
    boxes = _tube_boxes(geometry, a, b, np.maximum(r0, r1), float(np.abs(offsets).max()))
    terms = _device(xp, *_frustum_terms(geometry.source_mm, a, b, r0, r1))
    (w_dev,) = _device(xp, w)
    chunk = _chunk(chunk, xp)
    chords = _chord_kernels(xp)[0]
    for body, rows, cols in _pairs(*boxes, chunk=max(chunk // len(offsets), 1), xp=xp):
        acc = _summed_chords(chords, geometry, rows, cols, offsets, tuple(t[body] for t in terms))
        scatter_add(image, rows * geometry.cols + cols, acc * (w_dev[body] / len(offsets)))
    if junctions:
        _join_at_nodes(image, geometry, junctions, a, b, r0, r1, w, terms, offsets, chunk)
    return image.reshape(geometry.rows, geometry.cols)


def _junctions(nodes, a: np.ndarray, b: np.ndarray, r0: np.ndarray, r1: np.ndarray):
    """The tubes that meet at each node (their ends labelled alike in ``nodes``, at one
    point), grouped by how many meet there.

    Yields, per count ``k >= 2`` (and for ``k = 2``, bends and others apart),
    ``(members, centre_mm, reach_mm, mitre)``: ``(J, k)`` tube indices, ``(J, 3)`` node
    positions, ``(J,)`` radii of a ball around each node that holds every point shared by
    two of its tubes and the mitre's wedges (same frame as ``a`` and ``b``), and for bends
    the wedges (:func:`_mitre`; None for other nodes).

    The ball [derived here]: tube ``A`` leaves the node along the unit axis ``u`` for
    ``L_A`` with radius at most ``ρ_A``, tube ``B`` along ``v`` with ``ρ_B``, and
    ``c = u · v = cos θ``. A common point ``y`` (from the node) has ``s_A = y · u`` in
    ``[0, L_A]`` and lies within ``ρ_A`` of ``A``'s axis, so ``|y|² <= s_A² + ρ_A²``; writing
    ``y = s_B v + w`` with ``|w| <= ρ_B``, ``w ⊥ v`` gives ``s_A <= c s_B + ρ_B sin θ``, and
    the same with ``A``, ``B`` swapped. Hence ``s_A <= ρ_B sin θ`` when ``c <= 0``, and
    ``s_A <= (c ρ_A + ρ_B) / sin θ`` when ``c > 0``.
    """
    from ..core.errors import ParameterError

    labels = np.asarray(nodes)
    if labels.shape != (len(a), 2) or labels.dtype.kind not in "iu":
        raise ParameterError(
            "nodes", f"array of shape {labels.shape}", f"({len(a)}, 2) integer node labels"
        )
    if np.any((labels[:, 0] == labels[:, 1]) & (labels[:, 0] >= 0)):
        raise ParameterError("nodes", "a tube with one label at both ends", "two nodes per tube")
    flat = labels.ravel()  # end 2 i is a[i], end 2 i + 1 is b[i]
    ends = np.flatnonzero(flat >= 0)
    ends = ends[np.argsort(flat[ends], kind="stable")]
    _, first, counts = np.unique(flat[ends], return_index=True, return_counts=True)
    for k in np.unique(counts[counts >= 2]):
        end = ends[first[counts == k][:, None] + np.arange(k)]  # (J, k)
        tube, at_b = end // 2, (end % 2 == 1)[..., None]
        near = np.where(at_b, b[tube], a[tube])
        apart = np.linalg.norm(near - near[:, :1], axis=-1).max()
        if apart > 1e-6 * (1.0 + np.abs(near).max()):
            raise ParameterError(
                "nodes", f"tubes meeting at a node with ends {apart:.3g} mm apart", "one point"
            )
        axis = np.where(at_b, a[tube], b[tube]) - near
        length = np.linalg.norm(axis, axis=-1)
        u = axis / np.maximum(length, 1e-12)[..., None]
        rho = np.maximum(r0, r1)[tube]
        reach = np.zeros(len(tube))
        # A bend: two tubes, one ending and one starting there.
        bend = at_b[:, 0, 0] != at_b[:, -1, 0] if k == 2 else np.zeros(len(tube), bool)
        if bend.any():
            ending = at_b[bend, :, 0]
            mitre, reach[bend] = _mitre(u[bend], length[bend], tube[bend], ending, r0, r1)
        for i in range(k):
            for j in range(i + 1, k):
                c = np.einsum("ni,ni->n", u[:, i], u[:, j])
                sin = np.sqrt(np.maximum(1.0 - c * c, 0.0))
                with np.errstate(divide="ignore", invalid="ignore"):
                    s_i = np.where(c > 0, (c * rho[:, i] + rho[:, j]) / sin, rho[:, j] * sin)
                    s_j = np.where(c > 0, (c * rho[:, j] + rho[:, i]) / sin, rho[:, i] * sin)
                own = np.hypot(np.minimum(s_i, length[:, i]), rho[:, i])
                other = np.hypot(np.minimum(s_j, length[:, j]), rho[:, j])
                reach = np.maximum(reach, np.minimum(own, other))
        if bend.any():
            yield tube[bend], near[bend, 0], reach[bend], mitre
        if not bend.all():
            yield tube[~bend], near[~bend, 0], reach[~bend], None


def _mitre(u, length, tube, at_b, r0, r1):
    """The wedges that fill the outer side of bends, where two tubes meet at a node with
    their flat ends at an angle: per bend, each tube continued past the node (with its
    taper) and cut by the plane that bisects the bend, on the tube's own side. With the
    two tubes they make a mitre joint, which for cylinders of one radius is the bent
    cylinder exactly [derived here: both tubes cut the bisecting plane in one ellipse].

    For a bend of ``θ`` (``cos θ = -u_A · u_B``, the axes ``u`` leading away from the node)
    the wedge opens ``2 r sin(θ / 2)`` at the rim and the bisecting plane stands at most
    ``e = r tan(θ / 2)`` past a tube's end (``r`` at ``e``, the taper continued), so each
    continuation is that long, but no longer than the shorter tube (a wedge stays in its
    node's neighbourhood and meets no tube of another node there; a bend sharper than its
    tubes are long is filled in part).

    Returns the wedges, ``(offset, r_node, r_far, normal)``: each continuation's far end
    from the node ``(J, 2, 3)``, its radii at the node and there ``(J, 2)``, and the
    normal ``(J, 2, 3)`` of its plane (a wedge is where ``n · (x - node) <= 0``); and the
    radius ``(J,)`` of a ball around each node that holds its wedges."""
    cos_bend = np.clip(-np.einsum("ni,ni->n", u[:, 0], u[:, 1]), -1.0, 1.0)
    tan_half = np.sqrt((1.0 - cos_bend) / np.maximum(1.0 + cos_bend, 1e-12))
    at_node = np.where(at_b, r1[tube], r0[tube])  # (J, 2)
    far = np.where(at_b, r0[tube], r1[tube])
    slope = (far - at_node) / np.maximum(length, 1e-12)  # growth per mm away from the node
    # The plane stands e = r(e) tan(θ / 2) past the end at the rim, the radius continued
    # past the node r(e) = r - slope e; at least a micrometre (no degenerate continuation).
    grow = 1.0 + slope * tan_half[:, None]
    with np.errstate(divide="ignore"):
        run = np.where(grow > 0, at_node * tan_half[:, None] / grow, np.inf)
    run = np.clip(run, 1e-3, length.min(axis=1, keepdims=True))
    end_radius = np.maximum(at_node - slope * run, 0.0)
    across = u[:, ::-1] - u  # the bisecting plane's normal, towards the other tube
    size = np.linalg.norm(across, axis=-1, keepdims=True)
    normal = np.where(size > 1e-9, across / np.maximum(size, 1e-12), -u)  # hairpin: the end
    reach = np.hypot(run, np.maximum(at_node, end_radius)).max(axis=1)
    return (-run[..., None] * u, at_node, end_radius, normal), reach


def _join_at_nodes(image, geometry, junctions, a, b, r0, r1, w, terms, offsets, chunk):
    """Replace in ``image`` (flat, on the device), where tubes meet, the sum of their
    chords by the chord of their joint (per pixel, Σ chords − chord of the joint, taken
    away), over the tubes of each node (``junctions``: the groups :func:`_junctions`
    yields) and the rays that pass within the ball around it. The joint is the union of
    the tubes and, at a bend, of the wedges that mitre it (:func:`_mitre`): without them
    a bent duct shows a lucent seam at every node, as wide as a bubble in an ectatic duct.

    Each body's inside along a ray is one interval (the frustums, and the wedges cut from
    them by a plane, are convex), so the joint's length is that of a union of intervals:
    sorted by start, interval ``i`` adds the part of it beyond the furthest end ``m`` of
    those before it, and Σ lengths − union = Σ_i max(0, min(stop_i, m) − start_i), exact
    for any number of intervals (the one-dimensional measure of a union of intervals: V.
    Klee, "Can the measure of ∪[a_i, b_i] be computed in less than O(n log n) steps?",
    Amer. Math. Monthly 84 (1977) 284–285; for two or three the same as
    inclusion–exclusion). Here the order comes from pairwise comparisons (no sort: the
    count is small and every step is elementwise). Overlaps of tubes that do not share a
    node (crossing ducts, a tube with its grandparent) are left summed.

    Most rays near a node cross no shared lumen and no wedge: a pixel is kept only when
    its central ray crosses a shared part of the tubes or a wedge, each widened by how far
    the pixel's other rays pass from it (:func:`_widened`), and only kept pixels have all
    their rays traced.
    """
    xp = array_namespace(image)
    # A pixel's rays pass at most this far (mm) from its central ray anywhere between the
    # source and the detector (their separation shrinks by 1 / m towards the source).
    spread = float(np.abs(offsets).max()) * np.sqrt(2.0) * geometry.pixel_mm + 1e-6
    wide = _device(xp, *_frustum_terms(geometry.source_mm, *_widened(a, b, r0, r1, spread)))
    for tube, centre, reach, mitre in junctions:
        weight = w[tube]
        k = tube.shape[1]
        boxes = _ball_boxes(geometry, centre, reach + spread, 0.0)
        members, w_dev = _device(xp, tube, weight[:, 0])
        wedges = wide_wedges = ()
        if mitre is not None:
            wedges = _device(xp, *_wedge_terms(geometry.source_mm, centre, *mitre, 0.0))
            wide_wedges = _device(xp, *_wedge_terms(geometry.source_mm, centre, *mitre, spread))
        near_joint, excess = _joint_kernels(xp, k, mitre is not None)
        size = max(chunk // (len(offsets) * (k + 2)), 1)
        for node, rows, cols in _pairs(*boxes, chunk=size, xp=xp):
            own = tuple(t[members[node, m]] for m in range(k) for t in wide)
            own = (*own, *(t[node] for t in wide_wedges))
            ray = _ray_directions(geometry, rows, cols, 0.0, 0.0)
            near = near_joint(*ray, *own)
            node, rows, cols = node[near], rows[near], cols[near]
            if not len(node):  # known on the host once picked: no sync of its own on a GPU
                continue
            own = tuple(t[members[node, m]] for m in range(k) for t in terms)
            own = (*own, *(t[node] for t in wedges))
            acc = _summed_chords(excess, geometry, rows, cols, offsets, own)
            scatter_add(image, rows * geometry.cols + cols, -acc * (w_dev[node] / len(offsets)))


_PLANE_TERM_COUNT = 4
_WEDGE_TERM_COUNT = _FRUSTUM_TERM_COUNT + _PLANE_TERM_COUNT


def _wedge_terms(source, node, offset, r_node, r_far, normal, margin: float) -> tuple:
    """What the wedges of :func:`_mitre` at ``node`` (J, 3) need along a ray that does not
    depend on its direction, grown by ``margin`` (mm): per node, the first wedge's frustum
    terms (:func:`_frustum_terms`) and plane terms ``(n_x, n_y, n_z, n · (S - node) -
    margin)``, then the second's."""
    out = []
    for i in range(2):
        tube = (node, node + offset[:, i], r_node[:, i], r_far[:, i])
        if margin > 0:
            tube = _widened(*tube, margin)
        n = normal[:, i]
        height = np.einsum("ni,ni->n", n, np.asarray(source, dtype=float) - node) - margin
        out += [*_frustum_terms(source, *tube), *n.T, height]
    return tuple(out)


def _wedge_spans(xp, d: tuple, terms: tuple) -> list:
    """The intervals of rays ``source + t d`` in the wedges of ``terms``
    (:func:`_wedge_terms`): each frustum's interval (:func:`_frustum_intervals`) cut by
    its half-space ``n · (x - node) <= 0``, that is ``h + t n · d <= 0``."""
    n = _FRUSTUM_TERM_COUNT
    spans = []
    for m in range(0, len(terms), _WEDGE_TERM_COUNT):
        start, stop = _frustum_intervals(xp, d, terms[m : m + n])
        plane = terms[m + n : m + _WEDGE_TERM_COUNT]
        nd, h = _dot(d, plane[:3]), plane[3]
        root = -h / xp.where(nd == 0, 1.0, nd)
        never = (nd == 0) & (h > 0)
        lo = xp.where(nd < 0, root, xp.where(never, 1.0, 0.0))
        hi = xp.where(nd > 0, root, xp.where(never, 0.0, 1.0))
        start = xp.maximum(start, xp.clip(lo, 0.0, 1.0))
        stop = xp.maximum(xp.minimum(stop, xp.clip(hi, 0.0, 1.0)), start)
        spans.append((start, stop))
    return spans


def _tube_spans(xp, d: tuple, terms: tuple) -> list:
    """The intervals (:func:`_frustum_intervals`) of the frustums whose terms are given one
    tube after the other."""
    n = _FRUSTUM_TERM_COUNT
    return [_frustum_intervals(xp, d, terms[m : m + n]) for m in range(0, len(terms), n)]


def _widened(a, b, r0, r1, margin: float):
    """Tubes (axis ends, radii) that hold every point within ``margin`` (mm) of the tubes
    ``a``–``b`` of radii ``r0``, ``r1``: the axis lengthened by the margin at both ends,
    the radius ``r(s)`` (slope ``k``) raised by ``margin (sqrt(1 + k²) + |k|)`` [derived
    here: a normal offset of the cone's side raises its radius by ``margin sqrt(1 + k²)``,
    and the ends' rims stay inside the lengthened tube]."""
    axis = b - a
    length = np.maximum(np.linalg.norm(axis, axis=1), 1e-12)
    e = axis / length[:, None]
    k = (r1 - r0) / length
    grow = margin * (np.sqrt(1.0 + k * k) + np.abs(k))
    return a - margin * e, b + margin * e, r0 - k * margin + grow, r1 + k * margin + grow


def _joint_excess(k: int, dx, dy, dz, *terms, xp=None):
    """Σ chords of the ``k`` frustums − chord of the union of them and the wedges, for rays
    ``source + t d``, t in [0, 1]: ``terms`` are the frustums' (:func:`_frustum_terms`,
    one tube after the other), then the wedges' (:func:`_wedge_terms`), if any. Negative
    where the wedges add more than the tubes share. ``xp``: the rays' namespace (given by
    :func:`_joint_kernels`, for CuPy's fusion, whose arguments are no arrays)."""
    d = (dx, dy, dz)
    xp = xp or array_namespace(dx)
    n = k * _FRUSTUM_TERM_COUNT
    spans = _tube_spans(xp, d, terms[:n])
    wedges = _wedge_spans(xp, d, terms[n:])
    added = sum(stop - start for start, stop in wedges)
    return (_overlap_in_union(xp, [*spans, *wedges]) - added) * xp.sqrt(_dot(d, d))


def _near_joint(k: int, dx, dy, dz, *terms, xp=None):
    """Whether rays ``source + t d`` cross a part that two of the ``k`` frustums share, or a
    wedge (arguments as in :func:`_joint_excess`)."""
    d = (dx, dy, dz)
    xp = xp or array_namespace(dx)
    n = k * _FRUSTUM_TERM_COUNT
    near = _overlap_in_union(xp, _tube_spans(xp, d, terms[:n])) > 0
    for start, stop in _wedge_spans(xp, d, terms[n:]):
        near = near | (stop > start)
    return near


def _overlap_in_union(xp, spans: list) -> object:
    """Σ lengths − length of the union of intervals ``[(start, stop), ...]`` (arrays, one
    interval of each per ray, within [0, 1]): see :func:`_join_at_nodes`. Elementwise."""
    total = 0.0
    for i, (start_i, stop_i) in enumerate(spans):
        furthest = None  # the furthest end of the intervals before i (by start, then index)
        for j, (start_j, stop_j) in enumerate(spans):
            if j == i:
                continue
            before = start_j < start_i
            if j < i:
                before = before | (start_j == start_i)
            end = xp.where(before, stop_j, -_BIG)  # none before: i overlaps nothing
            furthest = end if furthest is None else xp.maximum(furthest, end)
        total = total + xp.maximum(xp.minimum(stop_i, furthest) - start_i, 0.0)
    return total


def _frustum_intervals(xp, d: tuple, terms: tuple) -> tuple:
    """The inside of rays ``source + t d`` (``d`` by components) in the frustums of
    ``terms`` (see :func:`_frustum_terms`) as one interval of the ray parameter per ray:
    ``(start, stop)`` within [0, 1], ``stop >= start`` (``stop == start``: the ray misses).
    The cases of :func:`_frustum_chords_from_terms`, whose chord is ``(stop - start) |d|``
    (where ``qa < 0`` the longer of its two pieces: a frustum is convex, so within the
    slab one at most is met). Written without branches, infinities or NaN (every case
    computed, the right one picked per ray; see :func:`_branchless_quadric`), so that CuPy
    can fuse the joint functions made of it; on the CPU it costs what a version with
    branches did [measured: the joins of an 85 µm CC scene, 0.16-0.18 s against 0.15-0.16
    s, of 1.4-3.5 s]. Where the ray runs parallel to the slab the longer piece of
    ``qa < 0`` is picked as with infinities, ``_BIG`` swallowing the roots."""
    _, lo, hi, qb, qc, disc, r1, r2, t_lin, positive, negative = _branchless_quadric(xp, d, terms)
    first = xp.minimum(hi, r1) - lo >= hi - xp.maximum(lo, r2)
    start = xp.where(
        positive,
        xp.maximum(lo, r1),
        xp.where(
            negative,
            xp.where((disc < 0.0) | first, lo, xp.maximum(lo, r2)),
            xp.where(qb < 0.0, xp.maximum(lo, t_lin), lo),
        ),
    )
    stop = xp.where(
        positive,
        xp.minimum(hi, r2),
        xp.where(
            negative,
            xp.where((disc >= 0.0) & first, xp.minimum(hi, r1), hi),
            xp.where(
                qb > 0.0,
                xp.minimum(hi, t_lin),
                xp.where((qb < 0.0) | (qc <= 0.0), hi, -_BIG),
            ),
        ),
    )
    start = xp.clip(start, 0.0, 1.0)
    return start, xp.maximum(xp.clip(stop, 0.0, 1.0), start)


def _branchless_joint_kernels(xp, k: int) -> tuple:
    """(near, excess): :func:`_near_joint` and :func:`_joint_excess` for ``k`` tubes on
    ``xp``, with or without a mitre's wedges (told by the count of terms): a fixed count
    of elementwise steps per count of terms (the loops over tubes and wedges run in
    Python, once, while CuPy traces the function), so that CuPy can fuse each into one
    kernel."""

    def near(dx, dy, dz, *terms):
        return _near_joint(k, dx, dy, dz, *terms, xp=xp)

    def excess(dx, dy, dz, *terms):
        return _joint_excess(k, dx, dy, dz, *terms, xp=xp)

    near.__name__, excess.__name__ = f"near_joint_{k}", f"joint_excess_{k}"  # kernel names
    return near, excess


def _joint_kernels(xp, k: int, wedges: bool) -> tuple:
    """(near, excess) functions of :func:`_join_at_nodes` for nodes of ``k`` tubes, mitred
    (``wedges``) or not, taking components. NumPy: as they are. CuPy: each fused into one
    kernel per ``k`` and ``wedges``, checked once against the unfused ones on random
    joints (else those)."""
    plain = _branchless_joint_kernels(xp, k)
    if xp is np:
        return plain
    return _fused_kernels(
        xp,
        (xp.__name__, "joint", k, wedges),
        plain,
        lambda fused: _joint_kernels_agree(xp, k, wedges, plain, fused),
        f"joint kernels ({k} tubes{', mitred' if wedges else ''})",
    )


def _random_joints(rng, k: int, wedges: bool, joints: int = 60, rays: int = 40):
    """A test case for the joint functions: ``joints`` nodes of ``k`` random tubes (with
    ``wedges``, bends of two with their mitre), ``rays`` rays per node from a focal spot
    650 mm up, aimed near it, and their terms, as :func:`_join_at_nodes` passes them.

    Each sixth of the nodes is a kind: random; tubes lying flat (across the beam); the
    first tube along x, the rays across it (``d · e = 0``: parallel to its slab); the
    first tube straight up under the focal spot, a cylinder or a cone, half the rays
    along it (``qa`` zero with ``qb`` zero, or negative); with wedges, a hairpin (the duct
    turned back on itself); a cone that half the rays meet along its side (``qa`` zero,
    ``qb`` not; the numbers exact). Every tenth ray misses the node by far. Gives the
    directions, by component, of two rays per (node, pixel) pair, ``(2, J rays)`` (as a
    pixel's sub-pixel rays: the second is the first moved 0.05 mm), and the terms
    ``(J rays,)``, host arrays."""
    source = np.array([0.0, 0.0, 650.0])
    kind = np.arange(joints) % 6
    node = np.column_stack(
        [rng.uniform(10, 60, joints), rng.uniform(-20, 20, joints), rng.uniform(5, 40, joints)]
    )
    node[kind == 2, 0] = rng.uniform(-1.0, 1.0, np.count_nonzero(kind == 2))
    node[kind == 3, :2] = 0.0
    u = rng.normal(size=(joints, k, 3))
    u[kind == 1, :, 2] = 0.0
    u[kind == 2, 0] = (1.0, 0.0, 0.0)
    u[(kind == 3) | (kind == 5), 0] = (0.0, 0.0, 1.0)
    u[(kind == 5) & (np.arange(joints) % 12 == 5), 0] = (0.0, 0.0, -1.0)
    # The rays from the focal spot along (3, 0, -4) run along the side of a cone of slope
    # 3/4 about z; these cross its axis halfway along it, at ``aim`` (1 mm from the node).
    aim = node.copy()
    height = 2.0 + 4.0 * rng.integers(0, 10, np.count_nonzero(kind == 5))
    aim[kind == 5] = np.column_stack([0.75 * (650.0 - height), np.zeros_like(height), height])
    node[kind == 5] = aim[kind == 5] - u[kind == 5, 0]
    if wedges:
        u[kind == 4, 1] = u[kind == 4, 0]
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    length = rng.uniform(0.5, 4.0, (joints, k))
    r_node, r_far = rng.uniform(0.05, 1.0, (2, joints, k))
    cylinder = (kind == 3) & (np.arange(joints) % 12 == 3)
    r_far[cylinder, 0] = r_node[cylinder, 0]
    length[kind == 5, 0], r_node[kind == 5, 0], r_far[kind == 5, 0] = 2.0, 0.5, 2.0
    far = node[:, None] + length[..., None] * u
    ending = np.zeros((joints, k), bool)
    ending[:, 0] = True  # the first tube ends at the node, the others start there
    a = np.where(ending[..., None], far, node[:, None])
    b = np.where(ending[..., None], node[:, None], far)
    r0, r1 = np.where(ending, r_far, r_node), np.where(ending, r_node, r_far)
    terms = [
        t for m in range(k) for t in _frustum_terms(source, a[:, m], b[:, m], r0[:, m], r1[:, m])
    ]
    if wedges:
        tube = np.arange(2 * joints).reshape(joints, 2)
        mitre, _ = _mitre(u, length, tube, ending, r0.ravel(), r1.ravel())
        terms += _wedge_terms(source, node, *mitre, 0.0)
    which = np.repeat(np.arange(joints), rays)
    exact = (np.isin(kind[which], (3, 5))) & (np.arange(len(which)) % 2 == 0)
    aim = np.where(exact[:, None], aim[which], aim[which] + rng.normal(0, 1, (len(which), 3)))
    aim[kind[which] == 2, 0] = source[0]
    aim[::10, :2] += 30.0
    d = 2.0 * (aim - source)
    d = np.stack([d, d + 2.0 * np.array([0.05, 0.05, 0.0])])
    return tuple(d[..., i] for i in range(3)), tuple(t[which] for t in terms)


def _joint_kernels_agree(xp, k: int, wedges: bool, plain, fused) -> bool:
    """Whether the fused joint functions give what the unfused ones give on random joints
    (:func:`_random_joints`), called as :func:`_join_at_nodes` calls them: near on one ray
    per pair, excess on a pixel's rays (directions ``(2, N)``, terms ``(N,)``)."""
    d, terms = _random_joints(np.random.default_rng(k), k, wedges)
    d, terms = _device(xp, *d), _device(xp, *terms)
    want, got = (f(*d, *terms) for f in (plain[1], fused[1]))
    # Fused multiply-adds round grazing rays differently: agree to 0.1 nm.
    if not bool(xp.all(xp.isfinite(got))) or not bool(xp.any(want != 0)):
        return False
    if not bool(xp.allclose(got, want, rtol=1e-7, atol=1e-7)):
        return False
    one = tuple(c[0] for c in d)
    near, near_fused = (f(*one, *terms) for f in (plain[0], fused[0]))
    return bool(near.any()) and not bool(xp.any(_near_differs(xp, near, near_fused, want[0])))


def _near_differs(xp, near, other, excess) -> object:
    """Where two answers of the near test differ other than by rounding: a ray along which
    tubes (or a tube and a wedge) only touch may fall either side when rounded otherwise,
    but there the union is the sum of the chords (``excess`` under 0.1 nm)."""
    return (near != other) & (xp.abs(excess) > 1e-7)  # mm


def project_ellipsoids(
    geometry,
    centres_mm: np.ndarray,
    semi_axes_mm: np.ndarray,
    rotations: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    supersample: int = 2,
    chunk: int | None = None,
    xp=np,
):
    """Sum over ellipsoids of (weight ×) each pixel's chord through them (mm); the
    ellipsoids are given in the detector frame (see :func:`project_segments`)."""
    c = np.asarray(centres_mm, dtype=float).reshape(-1, 3)
    q = np.asarray(semi_axes_mm, dtype=float).reshape(-1, 3)
    rot = np.asarray(rotations, dtype=float).reshape(-1, 3, 3)
    w = np.ones(len(c)) if weights is None else np.asarray(weights, dtype=float)
    image = xp.zeros(geometry.rows * geometry.cols)
    if len(c) == 0:
        return image.reshape(geometry.rows, geometry.cols)
    offsets = _subpixel_offsets(supersample)
    boxes = _ball_boxes(geometry, c, q.max(axis=1), float(np.abs(offsets).max()))
    terms = _device(xp, *_ellipsoid_terms(geometry.source_mm, c, q, rot))
    (w_dev,) = _device(xp, w)
    chunk = _chunk(chunk, xp)
    chords = _chord_kernels(xp)[1]
    for body, rows, cols in _pairs(*boxes, chunk=max(chunk // len(offsets), 1), xp=xp):
        acc = _summed_chords(chords, geometry, rows, cols, offsets, tuple(t[body] for t in terms))
        scatter_add(image, rows * geometry.cols + cols, acc * (w_dev[body] / len(offsets)))
    return image.reshape(geometry.rows, geometry.cols)
