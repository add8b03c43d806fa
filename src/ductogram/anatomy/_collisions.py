"""Contacts between duct segments, seen as capsules (a segment swept by a sphere).

Two segments touch when the distance between their centre lines is less than the sum of
their radii. Candidate pairs come from k-d trees on segment midpoints, one pass for the
thin segments (most of them) and one for the few thick ones, so that the search radius
stays small.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def segment_distances(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> np.ndarray:
    """Shortest distances between segments ``p0→p1`` and ``q0→q1`` (rows of (M, 3) arrays).

    Closed-form closest points of two segments, clamped to both (Ericson, *Real-Time
    Collision Detection*, 2005, §5.1.9); degenerate (zero-length) segments are handled.

    Examples
    --------
    >>> a0, a1 = np.array([[0., 0, 0]]), np.array([[1., 0, 0]])
    >>> b0, b1 = np.array([[0.5, 1, -1]]), np.array([[0.5, 1, 1]])
    >>> segment_distances(a0, a1, b0, b1)
    array([1.])
    """
    d1 = p1 - p0
    d2 = q1 - q0
    r = p0 - q0
    a = np.einsum("ij,ij->i", d1, d1)
    e = np.einsum("ij,ij->i", d2, d2)
    f = np.einsum("ij,ij->i", d2, r)
    c = np.einsum("ij,ij->i", d1, r)
    b = np.einsum("ij,ij->i", d1, d2)
    eps = 1e-12
    denom = a * e - b * b
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(denom > eps, np.clip((b * f - c * e) / denom, 0.0, 1.0), 0.0)
        t = np.where(e > eps, (b * s + f) / e, 0.0)
        # Clamp t to [0, 1] and recompute s for the clamped t.
        s = np.where(t < 0.0, np.where(a > eps, np.clip(-c / a, 0.0, 1.0), 0.0), s)
        s = np.where(t > 1.0, np.where(a > eps, np.clip((b - c) / a, 0.0, 1.0), 0.0), s)
    t = np.clip(t, 0.0, 1.0)
    closest_p = p0 + d1 * s[:, None]
    closest_q = q0 + d2 * t[:, None]
    return np.linalg.norm(closest_p - closest_q, axis=1)


def capsule_contacts(
    starts: np.ndarray, ends: np.ndarray, radii: np.ndarray, *, thick_mm: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs of capsules that overlap.

    Parameters
    ----------
    starts, ends : (M, 3) arrays
        Segment end points (mm).
    radii : (M,) array
        Capsule radius of each segment (mm): the larger of its two end radii.
    thick_mm : float
        Segments thicker than this are searched in a second, wider pass.

    Returns
    -------
    i, j : (P,) int arrays
        Indices of overlapping pairs, ``i < j``.
    gap : (P,) float array
        Centre-line distance minus the sum of the radii (negative: overlap depth).
    """
    m = len(starts)
    if m < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    mid = 0.5 * (starts + ends)
    half = 0.5 * np.linalg.norm(ends - starts, axis=1)
    reach = half + radii
    thin = radii <= thick_mm
    pairs: list[np.ndarray] = []
    if thin.any():
        idx = np.flatnonzero(thin)
        tree = cKDTree(mid[idx])
        found = tree.query_pairs(2.0 * reach[idx].max(), output_type="ndarray")
        if len(found):
            pairs.append(idx[found])
    thick = np.flatnonzero(~thin)
    if len(thick):
        lists = cKDTree(mid).query_ball_point(mid[thick], reach[thick] + reach.max())
        k = np.repeat(thick, [len(x) for x in lists])
        nb = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=len(k))
        keep = (nb != k) & (thin[nb] | (nb > k))
        pairs.append(np.stack([k[keep], nb[keep]], axis=1))
    if not pairs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    # The thin pass gives each thin-thin pair once; the thick pass each pair with a thick
    # segment once (partner thin, or thick with a larger index): no duplicates.
    both = np.sort(np.concatenate(pairs), axis=1)
    i, j = both[:, 0], both[:, 1]
    gap = segment_distances(starts[i], ends[i], starts[j], ends[j]) - radii[i] - radii[j]
    hit = gap < 0.0
    return i[hit], j[hit], gap[hit]


def capsule_contacts_between(
    a: tuple[np.ndarray, np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (index in a, index in b) of overlapping capsules, each given as
    (starts (M, 3), ends (M, 3), radii (M,))."""
    a0, a1, ar = a
    b0, b1, br = b
    empty = np.zeros(0, dtype=np.int64)
    if len(a0) == 0 or len(b0) == 0:
        return empty, empty
    amid, bmid = 0.5 * (a0 + a1), 0.5 * (b0 + b1)
    areach = 0.5 * np.linalg.norm(a1 - a0, axis=1) + ar
    breach = 0.5 * np.linalg.norm(b1 - b0, axis=1) + br
    lists = cKDTree(bmid).query_ball_point(amid, areach + breach.max())
    ii = np.repeat(np.arange(len(a0)), [len(x) for x in lists])
    jj = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=len(ii))
    if len(ii) == 0:
        return empty, empty
    gap = segment_distances(a0[ii], a1[ii], b0[jj], b1[jj]) - ar[ii] - br[jj]
    hit = gap < 0.0
    return ii[hit], jj[hit]
