"""Branch-level descriptors of any rooted tree: Horton–Strahler orders, R-matrix, tortuosity.

The phantom's duct trees (:mod:`ductogram.anatomy.topology`) and the trees read from images
(:mod:`ductogram.analysis.graph`) are described with the same code, so that a reading can
be compared with its truth number for number.

Notation: B branches (chains of segments between branch points, or a root or a free end);
``parent_branch[b]`` is the branch that branch ``b`` leaves, -1 for a branch that starts at
the root, and ``parent_branch[b] < b`` (parents are numbered before their children, as a
breadth-first or depth-first numbering from the root gives). K is the highest order.
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError

__all__ = [
    "ramification_counts",
    "ramification_matrix",
    "strahler_orders",
    "tortuosity",
]


def _check_parents(parent_branch: object) -> np.ndarray:
    p = np.asarray(parent_branch)
    if p.ndim != 1 or (p.size and not np.issubdtype(p.dtype, np.integer)):
        raise ParameterError(
            "parent_branch", getattr(p, "shape", p), "a 1-D integer array (B,) of branch indices"
        )
    p = p.astype(np.int64)
    if np.any(p >= np.arange(len(p))) or np.any(p < -1):
        raise ParameterError(
            "parent_branch",
            p.tolist() if len(p) <= 20 else f"array of {len(p)}",
            "-1 or an index below each branch's own (parents numbered before children)",
        )
    return p


def strahler_orders(parent_branch: np.ndarray) -> np.ndarray:
    """Horton–Strahler order of each branch of a rooted tree.

    Terminal branches have order 1. A branch whose children have orders k_1, ..., k_C has
    order max(k) when the maximum occurs once, and max(k) + 1 when it occurs at least twice.

    Parameters
    ----------
    parent_branch : (B,) int array
        Parent branch of each branch, -1 at the root; ``parent_branch[b] < b``.

    Returns
    -------
    (B,) int array
        Order of each branch.

    Raises
    ------
    ParameterError
        If ``parent_branch`` is not a 1-D integer array numbered parents first.

    References
    ----------
    .. [1] Strahler AN. Quantitative analysis of watershed geomorphology. Trans Am Geophys
       Union 38(6):913–920 (1957).

    Examples
    --------
    A main duct that divides into two, one of which divides again:

    >>> from ductogram.core.trees import strahler_orders
    >>> strahler_orders([-1, 0, 0, 1, 1]).tolist()
    [2, 2, 1, 1, 1]
    """
    p = _check_parents(parent_branch)
    n_br = len(p)
    n_children = np.bincount(p[p >= 0], minlength=n_br).tolist()
    parents = p.tolist()
    # Children have higher indices than their parent: one backward sweep sees every child
    # before its parent. Keep, per branch, the highest child order and how often it occurs.
    max_child = [0] * n_br
    n_max = [0] * n_br
    order = [0] * n_br
    for b in range(n_br - 1, -1, -1):
        o = 1 if n_children[b] == 0 else max_child[b] + (n_max[b] >= 2)
        order[b] = o
        q = parents[b]
        if q >= 0:
            if o > max_child[q]:
                max_child[q], n_max[q] = o, 1
            elif o == max_child[q]:
                n_max[q] += 1
    return np.asarray(order, dtype=np.int64)


def ramification_counts(parent_branch: np.ndarray, order: np.ndarray) -> np.ndarray:
    """How each order-k branch bifurcates (the counts behind the R-matrix).

    Parameters
    ----------
    parent_branch : (B,) int array
        Parent branch of each branch, -1 at the root; ``parent_branch[b] < b``.
    order : (B,) int array
        Horton–Strahler order of each branch (:func:`strahler_orders`).

    Returns
    -------
    (K, K) int array
        ``counts[k - 1, k - 1]``: order-k branches that split into two order-(k − 1)
        branches; ``counts[k - 1, j - 1]`` (j < k): order-k branches that split into one
        order-k and one order-j branch. Only bifurcations (exactly two children) count.
        A tree without branches gives a (0, 0) array.

    Examples
    --------
    >>> from ductogram.core.trees import ramification_counts, strahler_orders
    >>> p = [-1, 0, 0, 1, 1]
    >>> ramification_counts(p, strahler_orders(p)).tolist()
    [[0, 0], [1, 1]]
    """
    p = _check_parents(parent_branch)
    order = np.asarray(order, dtype=np.int64)
    if order.shape != p.shape:
        raise ParameterError("order", order.shape, f"one order per branch, shape {p.shape}")
    if len(order) == 0:
        return np.zeros((0, 0), dtype=np.int64)
    n_br = len(p)
    k_max = int(order.max())
    counts = np.zeros((k_max, k_max), dtype=np.int64)
    child = np.flatnonzero(p >= 0)
    if len(child) == 0:
        return counts
    n_children = np.bincount(p[child], minlength=n_br)
    parent = p[child]
    lo = np.full(n_br, k_max + 1, dtype=np.int64)
    hi = np.zeros(n_br, dtype=np.int64)
    np.minimum.at(lo, parent, order[child])
    np.maximum.at(hi, parent, order[child])
    bif = np.flatnonzero(n_children == 2)
    k = order[bif]
    # Two equal children (k-1, k-1): column k; children (k, j) with j < k: column j.
    col = np.where(lo[bif] == hi[bif], k, lo[bif])
    np.add.at(counts, (k - 1, col - 1), 1)
    return counts


def ramification_matrix(counts: np.ndarray) -> np.ndarray:
    """Ramification (R) matrix of Bakic, Albert & Maidment (2003) from its counts.

    Parameters
    ----------
    counts : (K, K) int array
        From :func:`ramification_counts`.

    Returns
    -------
    (K, K) float array
        Each row divided by its sum; rows with no bifurcating branch are all NaN.

    References
    ----------
    .. [1] Bakic PR, Albert M, Maidment ADA. Classification of galactograms with
       ramification matrices: preliminary results. Acad Radiol 10(2):198–204 (2003).

    Examples
    --------
    >>> import numpy as np
    >>> from ductogram.core.trees import ramification_matrix
    >>> ramification_matrix(np.array([[0, 0], [1, 3]]))
    array([[ nan,  nan],
           [0.25, 0.75]])
    """
    counts = np.asarray(counts)
    total = counts.sum(axis=1, keepdims=True)
    out = np.full(counts.shape, np.nan)
    has = total[:, 0] > 0 if counts.size else np.zeros(0, dtype=bool)
    out[has] = counts[has] / total[has]
    return out


def tortuosity(length_mm: np.ndarray, chord_mm: np.ndarray) -> np.ndarray:
    """Tortuosity of branches: path length over chord length (dimensionless).

    Parameters
    ----------
    length_mm, chord_mm : (B,) float arrays
        Path length along each branch and distance between its two ends (mm).

    Returns
    -------
    (B,) float array
        1 for a straight branch, larger for a winding one; ``inf`` where the chord is 0
        and the length is not, NaN where both are 0.

    Examples
    --------
    >>> from ductogram.core.trees import tortuosity
    >>> tortuosity([10.0, 5.0], [5.0, 5.0]).tolist()
    [2.0, 1.0]
    """
    length = np.asarray(length_mm, dtype=float)
    chord = np.asarray(chord_mm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return length / chord
