"""Matching detected points (branch points, end points) with true ones.

Each true point is paired with at most one detected point and the other way round, by the
assignment of least total distance (Hungarian algorithm,
:func:`scipy.optimize.linear_sum_assignment`) among pairs closer than a tolerance. A pair
farther apart does not count. Precision is matched / detected, recall matched / true.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ..core import ParameterError

__all__ = ["PointMatch", "TreePoints", "match_points", "segment_tree_points"]

CLEAR_TREE_FACTOR = 3.0  # a segment within reach of a branch point is its own tree's when
# an end of it is this many reaches away along the tree, or nearer [estimate]


@dataclass(frozen=True, eq=False)
class PointMatch:
    """The outcome of :func:`match_points`.

    Parameters
    ----------
    pairs : (M, 2) int array
        Index of the detected point and of the true point of each match.
    distances : (M,) float array
        Distance of each matched pair, in the units of the points.
    n_detected, n_true : int
        Number of detected and of true points.
    """

    pairs: np.ndarray
    distances: np.ndarray
    n_detected: int
    n_true: int

    @property
    def n_matched(self) -> int:
        """Number of matched pairs, M."""
        return len(self.pairs)

    @property
    def precision(self) -> float:
        """Matched / detected; 1 when nothing was detected."""
        return self.n_matched / self.n_detected if self.n_detected else 1.0

    @property
    def recall(self) -> float:
        """Matched / true; 1 when there was nothing to find."""
        return self.n_matched / self.n_true if self.n_true else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (1 when both sets are empty)."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _points(name: str, value: object) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] < 1 or not np.all(np.isfinite(arr)):
        raise ParameterError(name, getattr(arr, "shape", arr), "an (N, D) array of finite numbers")
    return arr


def match_points(detected: np.ndarray, true: np.ndarray, max_distance: float) -> PointMatch:
    """Pair detected points with true points one to one, within ``max_distance``.

    Parameters
    ----------
    detected : (P, D) float array
        Detected points (for example row, col in pixels).
    true : (T, D) float array
        True points, in the same units.
    max_distance : float
        Largest distance of a pair that counts (same units), > 0.

    Returns
    -------
    PointMatch
        Pairs of least total distance; precision, recall and F1.

    Raises
    ------
    ParameterError
        If a point set is not an (N, D) array of finite numbers, the dimensions differ,
        or ``max_distance`` is not positive.

    Examples
    --------
    >>> from ductogram.evaluate.points import match_points
    >>> m = match_points([[0, 0], [10, 0], [50, 50]], [[0, 1], [10, 2], [30, 0]], 3.0)
    >>> m.n_matched, round(m.precision, 3), round(m.recall, 3), round(m.f1, 3)
    (2, 0.667, 0.667, 0.667)
    """
    det = _points("detected", detected)
    tru = _points("true", true)
    if len(det) and len(tru) and det.shape[1] != tru.shape[1]:
        raise ParameterError(
            "detected",
            det.shape,
            f"points with as many coordinates as the true ones ({tru.shape[1]})",
        )
    if not np.isfinite(max_distance) or max_distance <= 0:
        raise ParameterError("max_distance", max_distance, "a positive distance")
    empty = PointMatch(np.zeros((0, 2), dtype=np.int64), np.zeros(0), len(det), len(tru))
    if len(det) == 0 or len(tru) == 0:
        return empty
    # Only pairs within reach enter the assignment (a sparse problem for large sets).
    near = cKDTree(det).sparse_distance_matrix(cKDTree(tru), max_distance, output_type="ndarray")
    if len(near) == 0:
        return empty
    rows = np.unique(near["i"])
    cols = np.unique(near["j"])
    big = 1e6 * max_distance
    cost = np.full((len(rows), len(cols)), big)
    cost[np.searchsorted(rows, near["i"]), np.searchsorted(cols, near["j"])] = near["v"]
    r, c = linear_sum_assignment(cost)
    ok = cost[r, c] <= max_distance
    pairs = np.column_stack([rows[r[ok]], cols[c[ok]]]).astype(np.int64)
    return PointMatch(pairs, cost[r[ok], c[ok]], len(det), len(tru))


@dataclass(frozen=True, eq=False)
class TreePoints:
    """Branch points, free ends and roots of a tree given as straight segments.

    Parameters
    ----------
    branch_rc : (B, 2) float array
        Points where the tree divides.
    end_rc : (E, 2) float array
        Free ends (the far end of a segment that no segment leaves).
    root_rc : (R, 2) float array
        Starts of segments that no segment leads to (the orifice).
    branch_clear : (B,) bool array or None
        Whether each branch point stands clear of the other ducts' images (see
        :func:`segment_tree_points`, ``clear_within``); None when not asked for.
    """

    branch_rc: np.ndarray
    end_rc: np.ndarray
    root_rc: np.ndarray
    branch_clear: np.ndarray | None = None


def segment_tree_points(
    ends: np.ndarray,
    tolerance: float = 1e-3,
    min_branch_length: float = 0.0,
    clear_within: float = 0.0,
) -> TreePoints:
    """The branch points, free ends and roots of segments drawn from parent to child.

    Segment ``s`` runs from ``ends[s, 0]`` (the parent's end) to ``ends[s, 1]``. Ends
    closer than ``tolerance`` are the same node. A node where two or more segments start
    is a branch point (wherever it lies: the end of a parent, or the root); a node where a
    segment ends and none starts is a free end; a node where segments start and none ends
    is a root.

    Parameters
    ----------
    ends : (S, 2, D) float array
        Start and end of each segment (for example the simulator's projected
        centrelines, row and col in pixels).
    tolerance : float, optional
        Distance under which two ends are one node (default 1e-3).
    min_branch_length : float, optional
        Side branches whose whole subtree is shorter than this (in the units of
        ``ends``) are left out first, as they cannot be seen (a duct filled for a
        fraction of a millimetre past a branch point); default 0 keeps all.
    clear_within : float, optional
        When > 0, also tell which branch points stand clear (``TreePoints.branch_clear``):
        no segment passes within ``clear_within`` of the point unless one of its ends is
        within ``CLEAR_TREE_FACTOR`` x ``clear_within`` of it along the tree. A branch
        point that another duct's image crosses or touches (a projection overlap) is not
        clear: no reader can place it there. Default 0: not computed.

    Returns
    -------
    TreePoints

    Examples
    --------
    A Y: one segment that two segments leave.

    >>> from ductogram.evaluate.points import segment_tree_points
    >>> tp = segment_tree_points([[[0, 0], [10, 0]], [[10, 0], [20, -5]], [[10, 0], [20, 5]]])
    >>> tp.branch_rc.tolist(), tp.end_rc.tolist(), tp.root_rc.tolist()
    ([[10.0, 0.0]], [[20.0, -5.0], [20.0, 5.0]], [[0.0, 0.0]])
    """
    seg = np.asarray(ends, dtype=float)
    if seg.size == 0:
        z = np.zeros((0, 2))
        return TreePoints(z, z, z)
    if seg.ndim != 3 or seg.shape[1] != 2:
        raise ParameterError("ends", seg.shape, "an (S, 2, D) array: start and end of each segment")
    s, _, d = seg.shape
    pts = seg.reshape(-1, d)
    # Nodes: clusters of ends within the tolerance (union of close pairs).
    pairs = cKDTree(pts).query_pairs(tolerance, output_type="ndarray")
    label = np.arange(len(pts))
    for _ in range(64):
        if len(pairs) == 0:
            break
        lo = np.minimum(label[pairs[:, 0]], label[pairs[:, 1]])
        new = label.copy()
        np.minimum.at(new, pairs[:, 0], lo)
        np.minimum.at(new, pairs[:, 1], lo)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    _, node = np.unique(label, return_inverse=True)
    node = node.reshape(s, 2)
    n = int(node.max()) + 1
    first = np.zeros((n, d))
    first[node.reshape(-1)[::-1]] = pts[::-1]  # a representative position per node
    if min_branch_length > 0:
        keep = _visible(node, np.hypot(*(seg[:, 1] - seg[:, 0]).T), n, min_branch_length)
        node = node[keep]
    starts = np.bincount(node[:, 0], minlength=n)
    arrivals = np.bincount(node[:, 1], minlength=n)
    branch = np.flatnonzero(starts >= 2)
    end = np.flatnonzero((arrivals >= 1) & (starts == 0))
    root = np.flatnonzero((starts >= 1) & (arrivals == 0))
    clear = None
    if clear_within > 0:
        kept = seg if min_branch_length <= 0 else seg[keep]
        clear = _clear(kept, node, first, branch, float(clear_within))
    return TreePoints(first[branch], first[end], first[root], clear)


def _clear(
    seg: np.ndarray, node: np.ndarray, pos: np.ndarray, branch: np.ndarray, radius: float
) -> np.ndarray:
    """Whether each branch node has no foreign segment within ``radius``: one whose ends
    are both farther than ``CLEAR_TREE_FACTOR * radius`` from it along the tree."""
    length = np.hypot(*(seg[:, 1] - seg[:, 0]).T)
    g = nx.Graph()
    for (a, b), w in zip(node.tolist(), length.tolist(), strict=True):
        if a != b and (not g.has_edge(a, b) or g[a][b]["length"] > w):
            g.add_edge(a, b, length=w)
    # Points along every segment, at most half the radius apart.
    steps = np.maximum(np.ceil(2.0 * length / radius).astype(int), 1)
    owner = np.repeat(np.arange(len(seg)), steps + 1)
    t = np.concatenate([np.linspace(0.0, 1.0, k + 1) for k in steps])
    pts = seg[owner, 0] + t[:, None] * (seg[owner, 1] - seg[owner, 0])
    near = cKDTree(pts).query_ball_point(pos[branch], radius + 0.5 * radius)
    clear = np.ones(len(branch), dtype=bool)
    for i, (b, idx) in enumerate(zip(branch.tolist(), near, strict=True)):
        if not idx:
            continue
        near_segs = np.unique(owner[idx])
        hit = near_segs[_segment_distance(pos[b], seg[near_segs]) <= radius]
        local = nx.single_source_dijkstra_path_length(
            g, b, cutoff=CLEAR_TREE_FACTOR * radius, weight="length"
        )
        for s in hit.tolist():
            if int(node[s, 0]) not in local and int(node[s, 1]) not in local:
                clear[i] = False
                break
    return clear


def _segment_distance(p: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """(K,) distance from the point p (D,) to each segment (K, 2, D)."""
    a, v = seg[:, 0], seg[:, 1] - seg[:, 0]
    vv = np.maximum(np.einsum("kd,kd->k", v, v), 1e-12)
    t = np.clip(np.einsum("kd,kd->k", p - a, v) / vv, 0.0, 1.0)
    return np.linalg.norm(a + t[:, None] * v - p, axis=1)


def _visible(node: np.ndarray, length: np.ndarray, n: int, min_length: float) -> np.ndarray:
    """Segments left once side subtrees shorter than ``min_length`` are cut off."""
    children: dict[int, list[int]] = {}
    for k, a in enumerate(node[:, 0].tolist()):
        children.setdefault(a, []).append(k)
    # Subtree length below each segment, leaves first (a depth-first order from the roots).
    order: list[int] = []
    arrivals = set(node[:, 1].tolist())
    stack = [k for a in set(node[:, 0].tolist()) - arrivals for k in children[a]]
    while stack:
        k = stack.pop()
        order.append(k)
        stack.extend(children.get(int(node[k, 1]), ()))
    below = length.astype(float).copy()
    for k in reversed(order):
        for j in children.get(int(node[k, 1]), ()):
            below[k] += below[j]
    keep = np.ones(len(node), dtype=bool)
    for k in order:
        if not keep[k]:
            for j in children.get(int(node[k, 1]), ()):
                keep[j] = False
            continue
        sibs = children.get(int(node[k, 0]), [])
        if len(sibs) >= 2 and below[k] < min_length:
            keep[k] = False
            for j in children.get(int(node[k, 1]), ()):
                keep[j] = False
    return keep
