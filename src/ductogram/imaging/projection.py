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


def _frustum_chords_from_terms(d: tuple, terms: tuple) -> object:
    """Chords of rays ``source + t d`` (t in [0, 1], ``d`` by components) through the
    frustums of ``terms`` (see :func:`_frustum_terms`). Any array namespace."""
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
        with np.errstate(divide="ignore", invalid="ignore"):
            t_lin = xp.where(qb != 0, -qc / qb, xp.nan)
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

    def dot(u, v):
        return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]

    def span(start, stop):
        """Length of [start, stop] within the ray's [0, 1]."""
        return xp.maximum(xp.minimum(stop, 1.0) - xp.maximum(start, 0.0), 0.0)

    def frustum(dx, dy, dz, ex, ey, ez, wx, wy, wz, s_0, length, r0, k, q, qc):
        d, e, w0 = (dx, dy, dz), (ex, ey, ez), (wx, wy, wz)
        sd = dot(d, e)
        dd = dot(d, d)
        qa = dd - q * sd * sd
        qb = 2.0 * (dot(w0, d) - q * s_0 * sd - r0 * k * sd)
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
        r1 = xp.minimum(t1, t2)
        r2 = xp.maximum(t1, t2)
        whole = span(lo, hi)
        between = span(xp.maximum(lo, r1), xp.minimum(hi, r2))
        outside = span(lo, xp.minimum(hi, r1)) + span(xp.maximum(lo, r2), hi)
        t_lin = -qc / xp.where(qb == 0.0, 1.0, qb)
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
        ud = (dot((a00, a01, a02), d), dot((a10, a11, a12), d), dot((a20, a21, a22), d))
        qa = dot(ud, ud)
        qb = 2.0 * dot(u0, ud)
        qc = dot(u0, u0) - 1.0
        disc = qb * qb - 4.0 * qa * qc
        sq = xp.sqrt(xp.maximum(disc, 0.0))
        t1 = (-qb - sq) / (2.0 * qa)
        t2 = (-qb + sq) / (2.0 * qa)
        return xp.where(disc > 0.0, span(t1, t2) * xp.sqrt(dot(d, d)), 0.0)

    return frustum, ellipsoid


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
    key = xp.__name__
    if key not in _FUSED:
        plain = _branchless_kernels(xp)
        try:
            fused = tuple(xp.fuse(k) for k in plain)
            ok = _kernels_agree(xp, plain, fused)
        except Exception:  # a CuPy without fusion of these functions: run them unfused
            ok = False
        if not ok:
            warnings.warn("fused chord kernels disagree: unfused ones used", stacklevel=2)
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
    supersample: int = 2,
    chunk: int | None = None,
    xp=np,
):
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
    chunk : int, optional
        Ray evaluations held in memory at once (bounds the memory): default
        :data:`CHUNK_CPU` on the CPU, :data:`CHUNK_GPU` on a GPU.
    xp : module
        ``numpy`` (CPU) or ``cupy`` (GPU): where the pixels are computed and returned.

    Returns
    -------
    (rows, cols) float array of ``xp``
        Weighted path length (mm) through the tubes, per pixel.
    """
    a = np.asarray(a_mm, dtype=float).reshape(-1, 3)
    b = np.asarray(b_mm, dtype=float).reshape(-1, 3)
    r0 = np.asarray(r0_mm, dtype=float).reshape(-1)
    r1 = np.asarray(r1_mm, dtype=float).reshape(-1)
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    image = xp.zeros(geometry.rows * geometry.cols)
    if len(a) == 0:
        return image.reshape(geometry.rows, geometry.cols)
    reach = np.maximum(r0, r1)
    boxes = _footprints(geometry, np.minimum(a, b), np.maximum(a, b), reach)
    offsets = _subpixel_offsets(supersample)
    terms = _device(xp, *_frustum_terms(geometry.source_mm, a, b, r0, r1))
    (w_dev,) = _device(xp, w)
    chunk = _chunk(chunk, xp)
    chords = _chord_kernels(xp)[0]
    for body, rows, cols in _pairs(*boxes, chunk=max(chunk // len(offsets), 1), xp=xp):
        acc = _summed_chords(chords, geometry, rows, cols, offsets, tuple(t[body] for t in terms))
        scatter_add(image, rows * geometry.cols + cols, acc * (w_dev[body] / len(offsets)))
    return image.reshape(geometry.rows, geometry.cols)


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
    reach = q.max(axis=1)
    boxes = _footprints(geometry, c, c, reach)
    offsets = _subpixel_offsets(supersample)
    terms = _device(xp, *_ellipsoid_terms(geometry.source_mm, c, q, rot))
    (w_dev,) = _device(xp, w)
    chunk = _chunk(chunk, xp)
    chords = _chord_kernels(xp)[1]
    for body, rows, cols in _pairs(*boxes, chunk=max(chunk // len(offsets), 1), xp=xp):
        acc = _summed_chords(chords, geometry, rows, cols, offsets, tuple(t[body] for t in terms))
        scatter_add(image, rows * geometry.cols + cols, acc * (w_dev[body] / len(offsets)))
    return image.reshape(geometry.rows, geometry.cols)
