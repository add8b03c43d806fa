"""Duct systems as arrays: :class:`DuctTree`.

Notation (breast frame, mm; see :mod:`ductogram.anatomy.breast`):

- N nodes. Node 0 is the duct orifice on the nipple tip (the cannulation target).
- Segment ``i`` (``1 <= i < N``) is the straight piece of duct from node ``parent[i]`` to node
  ``i``; its lumen radius goes linearly from ``radii_mm[parent[i]]`` to ``radii_mm[i]``
  (a tapered tube). ``parent[i] < i`` always, so a forward loop visits parents first.
- A *branch* is a chain of segments between two branch points (or the orifice, or a
  terminal end). The main duct, from the orifice to the first branch point, is generation 1;
  the children of a generation-g branch are generation g + 1.
- K terminal ducts end in K TDLUs (terminal duct lobular units), ellipsoids placed beyond
  the terminal node, along the terminal duct.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..core import ParameterError
from .lesions import Lesion


@dataclass(frozen=True, eq=False)
class DuctTree:
    """One duct system: the ducts drained by one nipple orifice, as arrays.

    Parameters
    ----------
    system : int
        Index of the orifice (duct system) in its breast.
    positions_mm : (N, 3) float array
        Node positions in the breast frame.
    radii_mm : (N,) float array
        Lumen radius at each node.
    parent : (N,) int array
        Parent node of each node, -1 for the orifice (node 0); ``parent[i] < i``.
    generation : (N,) int array
        Branch generation of the segment that ends at each node (1 = main duct).
    lobe : (N,) int array
        Lobe whose territory each node drains; -1 on a trunk shared by several lobes.
    tdlu_node : (K,) int array
        Terminal node of each TDLU.
    tdlu_centre_mm : (K, 3) float array
    tdlu_axis : (K, 3) float array
        Unit vector along the terminal duct, the TDLU's long axis.
    tdlu_semi_axes_mm : (K, 2) float array
        Semi-axes of each TDLU ellipsoid: along its axis, and across.
    lesions : tuple of Lesion
        Lesions attached to this system's ducts (their effect is already in ``radii_mm``).
    """

    system: int
    positions_mm: np.ndarray
    radii_mm: np.ndarray
    parent: np.ndarray
    generation: np.ndarray
    lobe: np.ndarray
    tdlu_node: np.ndarray
    tdlu_centre_mm: np.ndarray
    tdlu_axis: np.ndarray
    tdlu_semi_axes_mm: np.ndarray
    lesions: tuple[Lesion, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        pos = np.array(self.positions_mm, dtype=float)  # copies: the tree owns its arrays
        n = len(pos)
        if pos.ndim != 2 or pos.shape[1] != 3 or n < 2:
            raise ParameterError("positions_mm", pos.shape, "an (N, 3) array with N >= 2")
        arrays = {
            "positions_mm": pos,
            "radii_mm": np.array(self.radii_mm, dtype=float),
            "parent": np.array(self.parent, dtype=np.int64),
            "generation": np.array(self.generation, dtype=np.int64),
            "lobe": np.array(self.lobe, dtype=np.int64),
            "tdlu_node": np.array(self.tdlu_node, dtype=np.int64).reshape(-1),
            "tdlu_centre_mm": np.array(self.tdlu_centre_mm, dtype=float).reshape(-1, 3),
            "tdlu_axis": np.array(self.tdlu_axis, dtype=float).reshape(-1, 3),
            "tdlu_semi_axes_mm": np.array(self.tdlu_semi_axes_mm, dtype=float).reshape(-1, 2),
        }
        for name in ("radii_mm", "parent", "generation", "lobe"):
            if arrays[name].shape != (n,):
                raise ParameterError(name, arrays[name].shape, f"shape ({n},), one per node")
        k = len(arrays["tdlu_node"])
        for name in ("tdlu_centre_mm", "tdlu_axis", "tdlu_semi_axes_mm"):
            if len(arrays[name]) != k:
                raise ParameterError(name, arrays[name].shape, f"{k} rows, one per TDLU")
        parent = arrays["parent"]
        if parent[0] != -1 or np.any(parent[1:] < 0) or np.any(parent[1:] >= np.arange(1, n)):
            raise ParameterError(
                "parent", "not a rooted tree", "parent[0] = -1, 0 <= parent[i] < i"
            )
        tdlu = arrays["tdlu_node"]
        if len(tdlu) and (tdlu.min() < 0 or tdlu.max() >= n):
            raise ParameterError("tdlu_node", tdlu.tolist(), f"node indices in [0, {n - 1}]")
        if not np.all(np.isfinite(pos)) or not np.all(arrays["radii_mm"] > 0):
            raise ParameterError("radii_mm", "non-positive or non-finite", "radii > 0 mm")
        for name, arr in arrays.items():
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "lesions", tuple(self.lesions))

    # ------------------------------------------------------------------ sizes
    @property
    def n_nodes(self) -> int:
        return len(self.positions_mm)

    @property
    def n_segments(self) -> int:
        return self.n_nodes - 1

    @cached_property
    def n_children(self) -> np.ndarray:
        """(N,) number of children of each node."""
        return np.bincount(self.parent[1:], minlength=self.n_nodes)

    @cached_property
    def branch_points(self) -> np.ndarray:
        """Indices of the nodes where a duct divides (two or more children)."""
        return np.flatnonzero(self.n_children >= 2)

    @cached_property
    def terminal_nodes(self) -> np.ndarray:
        """Indices of the terminal (leaf) nodes."""
        return np.flatnonzero(self.n_children == 0)

    @property
    def n_branches(self) -> int:
        """Number of branches: segments that start at the orifice or at a branch point."""
        starts = self.parent[1:]
        return int(np.count_nonzero((starts == 0) | (self.n_children[starts] >= 2)))

    @property
    def max_generation(self) -> int:
        return int(self.generation.max())

    @cached_property
    def distance_from_nipple_mm(self) -> np.ndarray:
        """(N,) distance along the ducts from the nipple base (negative inside the nipple).

        The main duct crosses the nipple base at ``x = 0``; distances are path lengths
        from that crossing."""
        x = self.positions_mm[:, 0]
        path = self.path_length_mm
        main = np.flatnonzero(x[1:] >= 0.0)
        if len(main) == 0:
            return path
        i = int(main[0]) + 1  # first node at or behind the nipple base
        p = int(self.parent[i])
        # Linear interpolation of the crossing on the segment p -> i.
        t = (0.0 - x[p]) / (x[i] - x[p]) if x[i] != x[p] else 1.0
        crossing = path[p] + t * (path[i] - path[p])
        return path - crossing

    # ------------------------------------------------------------------ geometry
    @cached_property
    def segment_lengths_mm(self) -> np.ndarray:
        """(N,) length of the segment ending at each node (0 for the orifice)."""
        d = np.zeros(self.n_nodes)
        d[1:] = np.linalg.norm(self.positions_mm[1:] - self.positions_mm[self.parent[1:]], axis=1)
        return d

    @cached_property
    def path_length_mm(self) -> np.ndarray:
        """(N,) distance along the ducts from the orifice to each node."""
        out = self.segment_lengths_mm.copy()
        for i in range(1, self.n_nodes):  # parent[i] < i: parents are done first
            out[i] += out[self.parent[i]]
        return out

    def subtree(self, node: int) -> np.ndarray:
        """Indices of ``node`` and every node downstream of it (sorted)."""
        if not 0 <= node < self.n_nodes:
            raise ParameterError("node", node, f"a node index in [0, {self.n_nodes - 1}]")
        inside = np.zeros(self.n_nodes, dtype=bool)
        inside[node] = True
        for i in range(node + 1, self.n_nodes):
            inside[i] = inside[self.parent[i]]
        return np.flatnonzero(inside)

    def path_to_root(self, node: int) -> np.ndarray:
        """Node indices from ``node`` up to the orifice (inclusive)."""
        if not 0 <= node < self.n_nodes:
            raise ParameterError("node", node, f"a node index in [0, {self.n_nodes - 1}]")
        path = [node]
        while path[-1] != 0:
            path.append(int(self.parent[path[-1]]))
        return np.asarray(path)

    @property
    def lumen_volume_ml(self) -> float:
        """Volume of the duct lumen: sum of the truncated cones of all segments (mL)."""
        r0 = self.radii_mm[self.parent[1:]]
        r1 = self.radii_mm[1:]
        h = self.segment_lengths_mm[1:]
        return float(np.sum(np.pi * h * (r0**2 + r0 * r1 + r1**2) / 3.0) / 1000.0)

    def with_changes(self, **changes: object) -> DuctTree:
        """A copy with some fields replaced (arrays are validated again)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return DuctTree(**values)
