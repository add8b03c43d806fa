"""Branch-level descriptors of a duct tree: branches, Strahler orders, R-matrices, angles.

Notation (see :mod:`ductogram.anatomy.ducts`):

- N nodes, segment ``i`` runs from node ``parent[i]`` to node ``i``.
- A node with exactly one child is a *chain* node; a node with two or more children is a
  *branch point*.
- B branches. A branch is a maximal chain of segments: it starts at the orifice (node 0) or at
  a branch point (its *start node*) and ends at a branch point or a terminal node (its *end
  node*). Every segment belongs to exactly one branch.
- Branches are numbered by the index of their first segment, so ``parent_branch[b] < b``
  and branch 0 is the main duct, which starts at the orifice.
- K is the highest Horton–Strahler order in the tree.

All lengths are in millimetres (breast frame), angles in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..core import ParameterError, trees
from .ducts import DuctTree

__all__ = [
    "Branches",
    "branch_angles_deg",
    "branches",
    "murray_residuals",
    "ramification_counts",
    "ramification_matrix",
    "strahler_orders",
    "tortuosity",
]


@dataclass(frozen=True, eq=False)
class Branches:
    """The branches of one :class:`~ductogram.anatomy.ducts.DuctTree`, as arrays.

    Build it with :func:`branches`; the arrays are read-only.

    Parameters
    ----------
    start_node : (B,) int array
        Node where each branch starts: the orifice (node 0) or a branch point.
    first_node : (B,) int array
        Node at the end of each branch's first segment (``parent[first_node] == start_node``).
    end_node : (B,) int array
        Node where each branch ends: a branch point or a terminal node.
    parent_branch : (B,) int array
        Branch that each branch leaves, -1 for a branch that starts at the orifice;
        ``parent_branch[b] < b``.
    generation : (B,) int array
        ``tree.generation`` of each branch's end node (1 = main duct).
    length_mm : (B,) float array
        Path length along each branch (mm).
    nodes : tuple of B int arrays
        Node indices of each branch in order from start to end, start node included.
    node_branch : (N,) int array
        Branch that holds the segment ending at each node; -1 for the orifice (node 0).
    """

    start_node: np.ndarray
    first_node: np.ndarray
    end_node: np.ndarray
    parent_branch: np.ndarray
    generation: np.ndarray
    length_mm: np.ndarray
    nodes: tuple[np.ndarray, ...]
    node_branch: np.ndarray

    def __post_init__(self) -> None:
        for name in (
            "start_node",
            "first_node",
            "end_node",
            "parent_branch",
            "generation",
            "length_mm",
            "node_branch",
        ):
            getattr(self, name).setflags(write=False)
        for arr in self.nodes:
            arr.setflags(write=False)

    @property
    def n_branches(self) -> int:
        """Number of branches, B."""
        return len(self.start_node)

    @cached_property
    def n_children(self) -> np.ndarray:
        """(B,) number of child branches of each branch."""
        has_parent = self.parent_branch >= 0
        return np.bincount(self.parent_branch[has_parent], minlength=self.n_branches)

    @cached_property
    def _child_csr(self) -> tuple[np.ndarray, np.ndarray]:
        # Child branches grouped by parent (ascending within a parent), with CSR offsets.
        has_parent = np.flatnonzero(self.parent_branch >= 0)
        order = has_parent[np.argsort(self.parent_branch[has_parent], kind="stable")]
        offsets = np.concatenate(([0], np.cumsum(self.n_children)))
        return order, offsets

    def children(self, branch: int) -> np.ndarray:
        """Indices of the branches that leave the end of ``branch`` (ascending).

        Parameters
        ----------
        branch : int
            A branch index in ``[0, B - 1]``.

        Returns
        -------
        (C,) int array
            Child branch indices; empty for a terminal branch.

        Raises
        ------
        ParameterError
            If ``branch`` is out of range.
        """
        if not 0 <= branch < self.n_branches:
            raise ParameterError("branch", branch, f"a branch index in [0, {self.n_branches - 1}]")
        order, offsets = self._child_csr
        return order[offsets[branch] : offsets[branch + 1]]

    @property
    def root_branches(self) -> np.ndarray:
        """Branches that start at the orifice (normally just branch 0)."""
        return np.flatnonzero(self.parent_branch < 0)


def _check_tree(tree: object) -> DuctTree:
    if not isinstance(tree, DuctTree):
        raise TypeError(
            f"tree must be a DuctTree, got {type(tree).__name__}; "
            "build one with DuctTree(...) or ductogram.anatomy.truth.tree_from_dict"
        )
    return tree


def branches(tree: DuctTree) -> Branches:
    """Split a duct tree into branches (chains of segments between branch points).

    Chain nodes (one child) lie inside a branch; a branch ends at a node with no child or with
    two or more children, and each child of a branch point starts a new branch. If the
    orifice itself divides, each of its children starts a branch with ``parent_branch = -1``.

    Parameters
    ----------
    tree : DuctTree
        The duct system (positions in mm, breast frame).

    Returns
    -------
    Branches
        B branches, numbered so that ``parent_branch[b] < b``; branch 0 is the main duct,
        starting at the orifice (node 0).

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    Notes
    -----
    Runs in O(N log N) array operations (pointer jumping up the chains), no Python loop
    over nodes.

    Examples
    --------
    A 2 mm main duct with a chain node that divides into two 1 mm branches:

    >>> import numpy as np
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.topology import branches
    >>> tree = DuctTree(
    ...     system=0,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [2, 1, 0]],
    ...     radii_mm=[1.0, 1.0, 1.0, 0.8, 0.8],
    ...     parent=[-1, 0, 1, 2, 2],
    ...     generation=[1, 1, 1, 2, 2],
    ...     lobe=[0, 0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> br = branches(tree)
    >>> br.n_branches, br.parent_branch.tolist(), br.length_mm.tolist()
    (3, [-1, 0, 0], [2.0, 1.0, 1.0])
    >>> br.nodes[0].tolist()
    [0, 1, 2]
    """
    tree = _check_tree(tree)
    n = tree.n_nodes
    parent = tree.parent
    idx = np.arange(n)

    # A node starts a branch when its segment leaves the orifice or a branch point.
    starts = np.zeros(n, dtype=bool)
    starts[1:] = (parent[1:] == 0) | (tree.n_children[parent[1:]] >= 2)

    # head[i]: first node of the branch holding segment i. Chain nodes point to their parent,
    # which is in the same branch; pointer jumping reaches the first node in log2(length) steps.
    head = np.where(starts, idx, parent)
    head[0] = 0
    while True:
        jumped = head[head]
        if np.array_equal(jumped, head):
            break
        head = jumped

    first_node = np.flatnonzero(starts)  # ascending: a parent branch comes first
    n_br = len(first_node)
    branch_of_first = np.full(n, -1, dtype=np.int64)
    branch_of_first[first_node] = np.arange(n_br)
    node_branch = branch_of_first[head]
    node_branch[0] = -1

    start_node = parent[first_node]
    parent_branch = np.where(start_node == 0, -1, node_branch[start_node])

    # Group the nodes of each branch; inside a chain, indices increase from start to end.
    member = np.argsort(node_branch[1:], kind="stable") + 1
    counts = np.bincount(node_branch[1:], minlength=n_br)
    ends = np.cumsum(counts)
    end_node = member[ends - 1]
    length_mm = np.bincount(
        node_branch[1:], weights=tree.segment_lengths_mm[1:], minlength=n_br
    ).astype(float)
    chains = np.split(member, ends[:-1])
    nodes = tuple(
        np.concatenate(([s], c)).astype(np.int64)
        for s, c in zip(start_node.tolist(), chains, strict=True)
    )
    return Branches(
        start_node=start_node.astype(np.int64),
        first_node=first_node.astype(np.int64),
        end_node=end_node.astype(np.int64),
        parent_branch=parent_branch.astype(np.int64),
        generation=tree.generation[end_node].astype(np.int64),
        length_mm=length_mm,
        nodes=nodes,
        node_branch=node_branch,
    )


def _strahler(br: Branches) -> np.ndarray:
    return trees.strahler_orders(br.parent_branch)


def strahler_orders(tree: DuctTree) -> np.ndarray:
    """Horton–Strahler order of each branch.

    Terminal branches have order 1. A branch whose children have orders k_1, ..., k_C has
    order max(k) when the maximum occurs once, and max(k) + 1 when it occurs at least twice
    (for a bifurcation: the larger order if they differ, k + 1 if both are k).

    Parameters
    ----------
    tree : DuctTree
        The duct system.

    Returns
    -------
    (B,) int array
        Order of each branch, in the numbering of :func:`branches`.

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    References
    ----------
    .. [1] Strahler AN. Quantitative analysis of watershed geomorphology. Trans Am Geophys
       Union 38(6):913–920 (1957).

    Examples
    --------
    A main duct that divides into two terminal branches has order 2:

    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.topology import strahler_orders
    >>> tree = DuctTree(
    ...     system=0,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]],
    ...     radii_mm=[1.0, 1.0, 0.8, 0.8], parent=[-1, 0, 1, 1],
    ...     generation=[1, 1, 2, 2], lobe=[0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> strahler_orders(tree).tolist()
    [2, 1, 1]
    """
    return _strahler(branches(tree))


def _ramification_counts(br: Branches, order: np.ndarray) -> np.ndarray:
    return trees.ramification_counts(br.parent_branch, order)


def ramification_counts(tree: DuctTree) -> np.ndarray:
    """Counts behind the ramification matrix: how each order-k branch bifurcates.

    Parameters
    ----------
    tree : DuctTree
        The duct system.

    Returns
    -------
    (K, K) int array
        ``counts[k - 1, k - 1]``: order-k branches that split into two order-(k − 1)
        branches; ``counts[k - 1, j - 1]`` (j < k): order-k branches that split into one
        order-k and one order-j branch. Only bifurcations (exactly two children) are
        counted; branches that divide into three or more are left out. Entries above the
        diagonal, and row 0 (order-1 branches are terminal), are always 0.

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    See Also
    --------
    ramification_matrix : the counts normalised per row.
    """
    br = branches(tree)
    return _ramification_counts(br, _strahler(br))


def _normalise_rows(counts: np.ndarray) -> np.ndarray:
    return trees.ramification_matrix(counts)


def ramification_matrix(tree: DuctTree) -> np.ndarray:
    """Ramification (R) matrix of Bakic, Albert & Maidment (2003).

    Branches are ordered by Horton–Strahler (:func:`strahler_orders`). For an order-k branch
    that bifurcates, ``r[k, k]`` is the probability that it splits into two order-(k − 1)
    branches and ``r[k, j]`` (j < k) the probability that it splits into one order-k and one
    order-j branch. Row k is therefore defined for k >= 2 only.

    Parameters
    ----------
    tree : DuctTree
        The duct system.

    Returns
    -------
    (K, K) float array
        ``R[k - 1, j - 1] = r[k, j]`` (orders are 1-based, array rows and columns 0-based),
        K = highest Strahler order. Each row with at least one bifurcating order-k branch
        sums to 1 and is 0 above the diagonal. Rows with no bifurcating order-k branch are
        all NaN: always row 0 (order-1 branches are terminal), and a row whose branches all
        divide into three or more (these are not counted; see :func:`ramification_counts`).

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    References
    ----------
    .. [1] Bakic PR, Albert M, Maidment ADA. Classification of galactograms with
       ramification matrices: preliminary results. Acad Radiol 10(2):198–204 (2003).

    Examples
    --------
    A main duct dividing into two terminal branches: the order-2 branch always splits into
    two order-1 branches.

    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.topology import ramification_matrix
    >>> tree = DuctTree(
    ...     system=0,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]],
    ...     radii_mm=[1.0, 1.0, 0.8, 0.8], parent=[-1, 0, 1, 1],
    ...     generation=[1, 1, 2, 2], lobe=[0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> ramification_matrix(tree)
    array([[nan, nan],
           [ 0.,  1.]])
    """
    return _normalise_rows(ramification_counts(tree))


def _angles_deg(tree: DuctTree, br: Branches) -> np.ndarray:
    pos = tree.positions_mm
    start = br.start_node
    out = np.full(br.n_branches, np.nan)
    child = np.flatnonzero(br.parent_branch >= 0)
    s = start[child]
    # The parent branch ends at the start node: its last segment is parent[s] -> s.
    u = pos[s] - pos[tree.parent[s]]
    v = pos[br.first_node[child]] - pos[s]
    norm = np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("ij,ij->i", u, v) / norm
    out[child] = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return out


def branch_angles_deg(tree: DuctTree) -> np.ndarray:
    """Branching angle of each branch against the duct it leaves (degrees).

    The angle is between the direction of the parent branch's last segment and the
    direction of the child's first segment: 0 for a straight continuation, 90 for a branch
    at a right angle.

    Parameters
    ----------
    tree : DuctTree
        The duct system.

    Returns
    -------
    (B,) float array
        Angle in [0, 180] degrees for each branch; NaN for branches that start at the
        orifice (the main duct has no parent) and where a segment has zero length.

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    Examples
    --------
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.topology import branch_angles_deg
    >>> tree = DuctTree(
    ...     system=0,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]],
    ...     radii_mm=[1.0, 1.0, 0.8, 0.8], parent=[-1, 0, 1, 1],
    ...     generation=[1, 1, 2, 2], lobe=[0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> branch_angles_deg(tree).round(6).tolist()
    [nan, 0.0, 90.0]
    """
    tree = _check_tree(tree)
    return _angles_deg(tree, branches(tree))


def _tortuosity(tree: DuctTree, br: Branches) -> np.ndarray:
    pos = tree.positions_mm
    chord = np.linalg.norm(pos[br.end_node] - pos[br.start_node], axis=1)
    return trees.tortuosity(br.length_mm, chord)


def tortuosity(tree: DuctTree) -> np.ndarray:
    """Tortuosity of each branch: path length over chord length (dimensionless).

    Parameters
    ----------
    tree : DuctTree
        The duct system.

    Returns
    -------
    (B,) float array
        ``length_mm / |p_end - p_start|``; 1 for a straight branch, larger for a winding
        one. ``inf`` for a branch whose ends coincide (a loop back), NaN if it has zero
        length.

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    Examples
    --------
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.topology import tortuosity
    >>> tree = DuctTree(
    ...     system=0, positions_mm=[[0, 0, 0], [3, 4, 0], [6, 0, 0]],
    ...     radii_mm=[1.0, 1.0, 1.0], parent=[-1, 0, 1], generation=[1, 1, 1],
    ...     lobe=[0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> tortuosity(tree).tolist()
    [1.6666666666666667]
    """
    tree = _check_tree(tree)
    return _tortuosity(tree, branches(tree))


def murray_residuals(tree: DuctTree) -> np.ndarray:
    """Relative departure from Murray's law at each branch point (dimensionless).

    Convention (the phantom generator follows it): the radius stored at a branch node is the
    parent duct's end radius, r_p; each child's own radius is the radius stored at its first
    node after the branch node, r_c. Murray's law, r_p^3 = Σ r_c^3, gives the residual

        (r_p^3 − Σ_c r_c^3) / r_p^3,

    0 when the law holds, > 0 when the children are too narrow and < 0 when too wide.

    Parameters
    ----------
    tree : DuctTree
        The duct system (radii in mm).

    Returns
    -------
    (P,) float array
        One residual per node of ``tree.branch_points`` (nodes with two or more children,
        the orifice included if it divides), in that order.

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    References
    ----------
    .. [1] Murray CD. The physiological principle of minimum work: I. The vascular system
       and the cost of blood volume. Proc Natl Acad Sci USA 12(3):207–214 (1926).
       doi:10.1073/pnas.12.3.207

    Examples
    --------
    Two children of radius 2^(-1/3) mm on a 1 mm duct satisfy the law:

    >>> import numpy as np
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.topology import murray_residuals
    >>> rc = 2 ** (-1 / 3)
    >>> tree = DuctTree(
    ...     system=0,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]],
    ...     radii_mm=[1.0, 1.0, rc, rc], parent=[-1, 0, 1, 1],
    ...     generation=[1, 1, 2, 2], lobe=[0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> bool(np.abs(murray_residuals(tree)).max() < 1e-12)
    True
    """
    tree = _check_tree(tree)
    r3 = tree.radii_mm**3
    child_sum = np.bincount(tree.parent[1:], weights=r3[1:], minlength=tree.n_nodes)
    bp = tree.branch_points
    return (r3[bp] - child_sum[bp]) / r3[bp]
