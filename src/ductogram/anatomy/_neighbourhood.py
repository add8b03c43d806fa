"""The ducts around a lesion site: how much room there is, and whether a changed duct
touches another. Used to place lesions where they fit (see :func:`.lesions.place_lesion`)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ._collisions import capsule_contacts_between
from ._growth import path_gaps_mm, tree_capsules
from .ducts import DuctTree
from .lesions import LesionKind

SEARCH_MM = 12.0


class DuctNeighbourhood:
    """The other duct systems of a breast, indexed once for the lesions of one system.

    Parameters
    ----------
    others : list of DuctTree
        Every system but the one that receives the lesion.
    """

    def __init__(self, others: list[DuctTree]) -> None:
        self.others = others
        caps = [tree_capsules(t) for t in others]
        if caps:
            self._caps = tuple(np.concatenate([c[k] for c in caps]) for k in (1, 2, 3))
            self._pos = np.vstack([t.positions_mm for t in others])
            self._rad = np.concatenate([t.radii_mm for t in others])
            self._kd = cKDTree(self._pos)
        else:
            self._caps = None

    def clearance(self, tree: DuctTree, nodes: np.ndarray, exclude_path_mm: float) -> np.ndarray:
        """Free radius (mm) around each of ``nodes``' centre points: distance to the nearest
        surface of another system's duct, or of one of the tree's own ducts farther than
        ``exclude_path_mm`` along the ducts (capped at 12 mm). Nodes are ≤ 1 mm apart, so
        the figure is within 0.5 mm of the exact one."""
        nodes = np.asarray(nodes, dtype=np.int64)
        pts = tree.positions_mm[nodes]
        best = np.full(len(nodes), SEARCH_MM)
        if self._caps is not None:
            d, j = self._kd.query(pts, k=8, distance_upper_bound=SEARCH_MM)
            valid = np.isfinite(d)
            surf = np.where(valid, d - self._rad[np.minimum(j, len(self._rad) - 1)], SEARCH_MM)
            best = np.minimum(best, surf.min(axis=1))
        own = cKDTree(tree.positions_mm)
        lists = own.query_ball_point(pts, SEARCH_MM)
        ii = np.repeat(np.arange(len(nodes)), [len(x) for x in lists])
        jj = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=len(ii))
        if len(ii):
            gap = path_gaps_mm(tree.parent, tree.positions_mm, nodes[ii], jj)
            far = gap > exclude_path_mm
            surf = np.linalg.norm(pts[ii] - tree.positions_mm[jj], axis=1) - tree.radii_mm[jj]
            np.minimum.at(best, ii[far], surf[far])
        return best

    def touches(self, tree: DuctTree, nodes: np.ndarray) -> bool:
        """Whether the ducts the tree's last lesion changed (``nodes``), or the cyst it made,
        touch a duct they are not next to."""
        lesion = tree.lesions[-1]
        node_of, starts, ends, radii = tree_capsules(tree)
        if lesion.kind == LesionKind.CYST:
            cavity = lesion.cavities[0]
            probe = (
                cavity.centre_mm[None],
                cavity.centre_mm[None],
                cavity.semi_axes_mm[None, :1] + 0.3,
            )
            probe = (probe[0], probe[1], probe[2][:, 0])
            own = np.isin(node_of, tree.path_to_root(lesion.segment))
            _, j = capsule_contacts_between(probe, (starts[~own], ends[~own], radii[~own]))
            return bool(len(j)) or self._touches_others(probe)
        changed = np.isin(node_of, nodes) | np.isin(tree.parent[node_of], nodes)
        if not changed.any():
            return False
        mine = (starts[changed], ends[changed], radii[changed])
        i, j = capsule_contacts_between(mine, (starts, ends, radii))
        if len(i):
            a, b = node_of[changed][i], node_of[j]
            lengths = np.linalg.norm(mine[1][i] - mine[0][i], axis=1) + np.linalg.norm(
                ends[j] - starts[j], axis=1
            )
            gap = path_gaps_mm(tree.parent, tree.positions_mm, a, b)
            if np.any(gap > lengths + 2.5 * (mine[2][i] + radii[j])):
                return True
        return self._touches_others(mine)

    def _touches_others(self, caps) -> bool:
        if self._caps is None:
            return False
        i, _ = capsule_contacts_between(caps, self._caps)
        return bool(len(i))
