"""The duct tree read from a mask: skeleton → rooted graph with lengths, calibres and orders.

:func:`build_tree` turns a binary mask of the contrast-filled ducts (image frame: row, col)
into a rooted tree of *segments* (chains of skeleton pixels between two nodes: the root, a
branch point or a free end), with the descriptors the phantom's truth has
(:mod:`ductogram.core.trees`): length and calibre (mm, object scale), generation from the
root, Horton–Strahler order, tortuosity, and the ramification (R) matrix.

Notation: N nodes, S segments. Segment ``s`` runs from node ``start[s]`` (nearer the root)
to node ``end[s]``; ``parent[s]`` is the segment it leaves (-1 at a root) and
``parent[s] < s`` (breadth-first numbering from the root). The main duct is generation 1.

Steps: skeletonize the mask (:func:`skimage.morphology.skeletonize`), trace it into paths
with skan (:class:`skan.Skeleton`), merge junction pixels that touch, prune spurs shorter
than about the local calibre, join pieces within ``BRIDGE_MM`` of the tree by straight
paths, open loops (where one duct's image touches or crosses another's; below), prune
free-ended paths that hold too little contrast for their width to be a filled duct
(segmentation blobs on the background; given the image), orient breadth-first from the
root, and cut free ends back to where a terminal duct widens into a lobular blush (filled
acini are not duct).

Loops: a loop is opened by letting one path go of a node, one pixel short: the duct is
kept whole, hanging from its other end, and the node and the freed end are *overlaps*,
neither branch points nor end points. Where a loop is opened decides which junctions
count as divisions, so it is opened first where the projection crosses: four arms (at
one junction, or at two a duct's width or more apart, as ducts crossing at an angle
show) that pair into two straight ducts of like width, each on one line. At a division
the children leave the parent at an angle and no such pairing exists. Of the two ducts,
the one that reaches the crossing from the root by the longer way is let go of it. Next
at touches: a junction of three where two arms are one straight duct (the third ends on
it or runs into it); these come after the crossings, as a duct going on straight past a
side branch looks the same. On 16 simulated tuning views this took the pooled
branch-point F1 from 0.582 (a shortest-path tree from the root alone) to 0.591.

Loops left are opened at their narrowest path. Ducts taper away from the nipple, so
where two ducts' images meet, round a loop, is where its thinnest duct ends on another:
the tree kept is the maximum spanning tree by the paths' widths, and each path off it is
let go of its end where the other ducts are wider (a thin duct ending on a wider one's
image). The shortest-path tree let go wherever the two ways round the loop met by
length, often at a division on the longer way, which then lost its branch point. On the
true contrast masks of 16 simulated tuning views (draw_cases(16, 31), 85 µm) the pooled
branch-point F1 went from 0.584 to 0.604 (recall 0.714 to 0.757); on their readings
from 0.594 to 0.603, and 0.432 to 0.462 for the branch points clear of overlaps.

Calibre: each mask pixel is given to its nearest skeleton pixel; the local diameter is the
area so gathered over the skeleton length that gathers it, over a window along the segment.
For a straight digital tube this is the width to within a few hundredths of a pixel at any
angle, where twice the distance-transform value on the skeleton is off by up to a pixel
(one pixel is 40 % of a 0.2 mm duct at 85 µm). Given the image (``intensity``), the
diameter comes from the signal instead: for a round lumen of diameter d the excess over
the background across the duct is the chord 2 sqrt(r² − x²) times a contrast factor, whose
integral is π d² / 4 and peak d (times the same factor), so d = (4 / π) ∫ excess / peak,
whatever the iodine concentration. The mask's edge depends on a threshold; this does
not. The excess is taken over a local background wider than any duct; what the tissue
right next to the duct adds (the mean excess in a ring just outside the rim the
cross-section is summed over) is taken off both the cross-section and its peak: without
it, calibres on simulated 85 µm views came out 0.06 mm wide (median), with it 0.03.
Blur keeps the integral but lowers the peak, so ducts only a few pixels wide still come
out somewhat wide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import cKDTree
from skimage.morphology import skeletonize

from ..core import ParameterError
from ..core import trees as _trees
from .stats import median

__all__ = ["DuctTree", "build_tree"]

JUNCTION_MERGE_PX = 2.5  # junction pixels closer than this along the skeleton are one node
SPUR_RADII = 1.5  # a spur is pruned when shorter than this many radii at its junction ...
SPUR_MIN_PX = 3.0  # ... plus this many pixels [estimate; tuned on simulated views]
CALIBRE_WINDOW_PX = 7  # skeleton pixels over which the local area/length is taken
RING_PX = 3  # width of the ring outside the rim whose mean excess is the duct's pedestal
MIN_COMPONENT_MM = 1.0  # skeleton pieces shorter than this (object scale) are left out
BACKGROUND_MM = 3.0  # the local background: a grey opening this wide (wider than any duct)
BACKGROUND_PITCH_MM = 0.35  # ... computed on a grid this coarse (it is smooth)
BRIDGE_MM = 2.0  # pieces this close to the tree are joined to it (a gap in the filling or
# in the mask: a ductogram is one tree) [estimate; twice the segmentation's root gap]
FAINT_PROBABILITY = 0.8  # ... or with a mean duct probability below this [estimate]
FAINT_SHARE = 0.3  # a free-ended path with less contrast for its width than this share
# of the tree's typical is not a duct [estimate; tuned on simulated views]
BLUSH_WIDENING = 1.3  # a terminal duct ends where it widens past this many duct calibres
BLUSH_DUCT_MAX_MM = 0.8  # ... a terminal duct: 0.1-0.5 mm across (clinical.md §3), with
# the blur of the mask
BLUSH_MIN_WIDENING = 2.5  # ... into a blush at least this many calibres wide [estimate;
# both tuned on simulated views, where TDLUs fill beyond the terminal duct]
CROSSING_SPAN_RADII = 4.0  # junctions closer than this many summed radii are one place
CROSSING_ANGLE_DEG = 15.0  # two arms within this of opposite are one duct through it
CROSSING_WIDTH_RATIO = 1.5  # ... and no wider than this times the other (+ 1 pixel)
CROSSING_OFFSET_RADII = 2.0  # ... and their lines no farther apart than this many radii
TOUCH_ANGLE_DEG = 10.0  # at a junction of three, two arms within this are one duct
CROSSING_ARM_RADII = (1.5, 5.0)  # an arm's direction: between these many junction radii
CROSSING_ARM_MIN_PX = 6.0  # ... over at least this many pixels [estimates; tuned on
# simulated views]


def _blush_start(
    local: np.ndarray, radius: np.ndarray, max_duct_radius: float = np.inf
) -> int | None:
    """Index where a terminal path widens into a lobular blush (acini filled beyond the
    terminal duct), or None. The duct calibre is the median of the path's first 60 %;
    the blush is the run at the free end wider than ``BLUSH_WIDENING`` times it, kept
    only if it reaches ``BLUSH_MIN_WIDENING`` times, is at most half the path, and is
    wider inside (distance to the wall, ``radius``) than the duct: a plain round end
    also gathers its cap's area at its last pixels, but narrows. Only a terminal duct
    (radius at most ``max_duct_radius``, pixels) ends in a blush: a wider duct that ends
    in a bulb stops at an obstruction (a papilloma's cup), which is kept."""
    n = len(local)
    if n < 8:
        return None
    duct = float(median(local[1 : max(int(0.6 * n), 2)]))
    if duct <= 0:
        return None
    wide = local > BLUSH_WIDENING * duct
    if not wide[-1]:
        return None
    k = n - 1
    while k > 0 and wide[k]:
        k -= 1
    if n - 1 - k > n // 2 or local[k + 1 :].max() < BLUSH_MIN_WIDENING * duct:
        return None
    duct_r = float(median(radius[1 : max(int(0.6 * n), 2)]))
    if duct_r > max_duct_radius or radius[k + 1 :].max() < 1.5 * duct_r + 0.5:
        return None
    return k


@dataclass(frozen=True, eq=False)
class DuctTree:
    """A duct tree read from an image (image frame: row, col in pixels; sizes in mm).

    Build it with :func:`build_tree`. Lengths and calibres are at object scale (detector
    size divided by the magnification), in the image plane (a projection: true 3-D lengths
    are longer).

    Parameters
    ----------
    node_rc : (N, 2) float array
        Node positions (row, col), pixels.
    degree : (N,) int array
        Number of segments at each node (1: a free end or a root, >= 3: a branch point).
    root : (R,) int array
        Root node of each connected piece, the main tree's first (empty for an empty tree).
    start, end : (S,) int arrays
        Node at the root side and at the far side of each segment.
    parent : (S,) int array
        Segment each segment leaves, -1 for one that starts at a root; ``parent[s] < s``.
    generation : (S,) int array
        1 for a segment that starts at a root, parent's + 1 otherwise.
    paths_rc : tuple of S (P, 2) int arrays
        Skeleton pixels of each segment, from start to end.
    calibre_profile_mm : tuple of S (P,) float arrays
        Local lumen diameter along each path (mm).
    length_mm : (S,) float array
        Path length of each segment (mm).
    calibre_mm : (S,) float array
        Median diameter of each segment away from its branch points (mm).
    pixel_mm : float
        Detector pixel pitch (mm).
    magnification : float
        Geometric magnification (>= 1).
    loops_cut : int
        Loops opened to make the graph a tree (overlaps in the projection), and faint
        paths pruned.
    blush_ends : int
        Free ends cut back to where the duct widens into a lobular blush.
    bridges : int
        Gaps of at most ``BRIDGE_MM`` bridged by a straight path to join a piece to
        the tree.
    overlap : (N,) bool array, optional
        Nodes of the projection's overlaps: a junction where a loop was opened (one
        duct's image touches or crosses another's there), and the free end of the path
        let go of it. They are neither branch points nor end points. Default: none.
    """

    node_rc: np.ndarray
    degree: np.ndarray
    root: np.ndarray
    start: np.ndarray
    end: np.ndarray
    parent: np.ndarray
    generation: np.ndarray
    paths_rc: tuple[np.ndarray, ...]
    calibre_profile_mm: tuple[np.ndarray, ...]
    length_mm: np.ndarray
    calibre_mm: np.ndarray
    pixel_mm: float
    magnification: float
    loops_cut: int = 0
    blush_ends: int = 0
    bridges: int = 0
    overlap: np.ndarray | None = None

    def __post_init__(self) -> None:
        overlap = np.zeros(len(self.node_rc), dtype=bool)
        if self.overlap is not None:
            overlap = np.asarray(self.overlap, dtype=bool).reshape(-1)
            if overlap.shape != (len(self.node_rc),):
                raise ParameterError(
                    "overlap", overlap.shape, f"one flag per node ({len(self.node_rc)},)"
                )
        object.__setattr__(self, "overlap", overlap)

    @property
    def n_nodes(self) -> int:
        """Number of nodes, N."""
        return len(self.node_rc)

    @property
    def n_segments(self) -> int:
        """Number of segments, S."""
        return len(self.start)

    @cached_property
    def n_children(self) -> np.ndarray:
        """(S,) number of segments leaving the far end of each segment."""
        has = self.parent >= 0
        return np.bincount(self.parent[has], minlength=self.n_segments)

    @property
    def branch_points(self) -> np.ndarray:
        """Indices of the nodes where the tree divides (degree >= 3, or a root with two
        or more segments), overlaps of the projection left out."""
        roots = np.zeros(self.n_nodes, dtype=bool)
        roots[self.root] = True
        divides = (self.degree >= 3) | (roots & (self.degree >= 2))
        return np.flatnonzero(divides & ~self.overlap)

    @property
    def end_points(self) -> np.ndarray:
        """Indices of the free ends (degree 1; roots and the ends let go at an overlap
        left out)."""
        ends = (self.degree == 1) & ~self.overlap
        ends[self.root] = False
        return np.flatnonzero(ends)

    def node_kind(self, i: int) -> str:
        """What node ``i`` is: "root", "branch", "end", "overlap" (see ``overlap``) or
        "chain" (two paths meet)."""
        if bool(np.any(self.root == i)):
            return "root"
        if self.overlap[i]:
            return "overlap"
        return "branch" if self.degree[i] >= 3 else "end" if self.degree[i] == 1 else "chain"

    @property
    def total_length_mm(self) -> float:
        """Sum of the segment lengths (mm)."""
        return float(self.length_mm.sum())

    @cached_property
    def strahler_order(self) -> np.ndarray:
        """(S,) Horton–Strahler order of each segment (terminal segments: 1)."""
        return _trees.strahler_orders(self.parent)

    @cached_property
    def chord_mm(self) -> np.ndarray:
        """(S,) straight distance between the two ends of each segment (mm)."""
        d = self.node_rc[self.end] - self.node_rc[self.start]
        return np.hypot(d[:, 0], d[:, 1]) * self.pixel_mm / self.magnification

    @cached_property
    def tortuosity(self) -> np.ndarray:
        """(S,) path length over chord length of each segment."""
        return _trees.tortuosity(self.length_mm, self.chord_mm)

    @cached_property
    def ramification_counts(self) -> np.ndarray:
        """(K, K) bifurcation counts by Strahler order (see :mod:`ductogram.core.trees`)."""
        return _trees.ramification_counts(self.parent, self.strahler_order)

    @cached_property
    def ramification_matrix(self) -> np.ndarray:
        """(K, K) R-matrix of Bakic et al. (2003); rows with no bifurcation are NaN."""
        return _trees.ramification_matrix(self.ramification_counts)

    @cached_property
    def skeleton_rc(self) -> np.ndarray:
        """(P, 2) all skeleton pixels of the tree (row, col), segment after segment."""
        if not self.paths_rc:
            return np.zeros((0, 2), dtype=np.int64)
        return np.concatenate(self.paths_rc)

    @cached_property
    def skeleton_calibre_mm(self) -> np.ndarray:
        """(P,) local diameter (mm) at each pixel of :attr:`skeleton_rc`."""
        if not self.calibre_profile_mm:
            return np.zeros(0)
        return np.concatenate(self.calibre_profile_mm)

    @cached_property
    def skeleton_segment(self) -> np.ndarray:
        """(P,) segment of each pixel of :attr:`skeleton_rc`."""
        return np.repeat(np.arange(self.n_segments), [len(p) for p in self.paths_rc])

    def to_networkx(self) -> nx.DiGraph:
        """The tree as a directed graph, edges pointing away from the root.

        Nodes carry ``row``, ``col`` (pixels), ``degree`` and ``kind`` (root, branch,
        end); edges carry ``segment``, ``length_mm``, ``calibre_mm``, ``generation``,
        ``strahler`` and ``tortuosity``.
        """
        g = nx.DiGraph()
        for i, (r, c) in enumerate(self.node_rc.tolist()):
            g.add_node(i, row=r, col=c, degree=int(self.degree[i]), kind=self.node_kind(i))
        for s in range(self.n_segments):
            g.add_edge(
                int(self.start[s]),
                int(self.end[s]),
                segment=s,
                length_mm=float(self.length_mm[s]),
                calibre_mm=float(self.calibre_mm[s]),
                generation=int(self.generation[s]),
                strahler=int(self.strahler_order[s]),
                tortuosity=float(self.tortuosity[s]),
            )
        return g


def _empty(pixel_mm: float, magnification: float) -> DuctTree:
    z = np.zeros(0, dtype=np.int64)
    return DuctTree(
        node_rc=np.zeros((0, 2)),
        degree=z,
        root=z,
        start=z,
        end=z,
        parent=z,
        generation=z,
        paths_rc=(),
        calibre_profile_mm=(),
        length_mm=np.zeros(0),
        calibre_mm=np.zeros(0),
        pixel_mm=pixel_mm,
        magnification=magnification,
    )


def _check_mask(mask: object) -> np.ndarray:
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask must be a numpy array, got {type(mask).__name__}")
    if mask.ndim != 2 or min(mask.shape) < 3:
        raise ParameterError("mask", mask.shape, "a 2-D array (rows, cols) of at least 3 x 3")
    if mask.dtype != bool:
        if not (np.issubdtype(mask.dtype, np.integer) or np.issubdtype(mask.dtype, np.floating)):
            raise TypeError(f"mask must hold booleans or numbers, got dtype {mask.dtype}")
        mask = mask > 0
    return mask


def _smoothed(coords: np.ndarray) -> np.ndarray:
    """Pixel path with the staircase taken out: a moving average of 5, ends kept."""
    c = coords.astype(float)
    if len(c) < 5:
        return c
    k = np.ones(5) / 5.0
    pad = np.vstack([c[:1], c[:1], c, c[-1:], c[-1:]])
    out = np.column_stack(
        [np.convolve(pad[:, 0], k, mode="valid"), np.convolve(pad[:, 1], k, mode="valid")]
    )
    out[0], out[-1] = c[0], c[-1]
    return out


def _steps(coords: np.ndarray) -> np.ndarray:
    """Skeleton length each path pixel stands for: half of each (smoothed) step to its
    neighbours. An 8-connected staircase is up to 8 % longer than the line it follows."""
    if len(coords) < 2:
        return np.ones(len(coords))
    d = np.hypot(*np.diff(_smoothed(coords), axis=0).T)
    w = np.zeros(len(coords))
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


def _smooth_length(coords: np.ndarray) -> float:
    """Length of a pixel path with the staircase taken out."""
    if len(coords) < 2:
        return 0.0
    return float(np.hypot(*np.diff(_smoothed(coords), axis=0).T).sum())


class _Graph:
    """A multigraph of skeleton nodes (pixel ids) with paths (pixel id arrays) as edges."""

    def __init__(self, coords: np.ndarray, radius: np.ndarray) -> None:
        self.coords = coords
        self.radius = radius
        self.edges: dict[int, np.ndarray] = {}
        self.ends: dict[int, tuple[int, int]] = {}  # each path's first and last node
        self.lengths: dict[int, float] = {}
        self.adj: dict[int, set[int]] = {}
        self._next = 0
        self.rings_opened = 0

    def add(self, path: np.ndarray) -> int:
        k = self._next
        self._next += 1
        self.edges[k] = path
        a, b = self.ends[k] = int(path[0]), int(path[-1])
        pts = self.coords[path].astype(float)
        self.lengths[k] = float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(pts) > 1 else 0.0
        self.adj.setdefault(a, set()).add(k)
        self.adj.setdefault(b, set()).add(k)
        return k

    def remove(self, k: int) -> np.ndarray:
        path = self.edges.pop(k)
        self.lengths.pop(k, None)
        for n in set(self.ends.pop(k)):
            self.adj[n].discard(k)
            if not self.adj[n]:
                del self.adj[n]
        return path

    def degree(self, n: int) -> int:
        ks = self.adj.get(n, ())
        # A self-loop counts twice.
        return sum(2 if self.ends[k][0] == self.ends[k][1] else 1 for k in ks)

    def length(self, k: int) -> float:
        return self.lengths[k]

    def other(self, k: int, n: int) -> int:
        a, b = self.ends[k]
        return b if a == n else a

    def merge_through(self, n: int, keep: set[int]) -> bool:
        """Join the two paths at a node of degree 2 into one (not at nodes in keep)."""
        if n in keep or n not in self.adj or len(self.adj[n]) != 2:
            return False
        a, b = sorted(self.adj[n])
        pa, pb = self.edges[a], self.edges[b]
        if int(pa[0]) == int(pa[-1]) or int(pb[0]) == int(pb[-1]):
            return False
        pa = pa if int(pa[-1]) == n else pa[::-1]
        pb = pb if int(pb[0]) == n else pb[::-1]
        self.remove(a)
        self.remove(b)
        self.add(np.concatenate([pa, pb[1:]]))
        return True

    def contract(self, k: int) -> None:
        """Merge the two end nodes of a short edge into its first node."""
        path = self.remove(k)
        keep, gone = int(path[0]), int(path[-1])
        if keep == gone:
            return
        for j in list(self.adj.get(gone, ())):
            p = self.remove(j).copy()
            if int(p[0]) == gone:
                p[0] = keep
            if int(p[-1]) == gone:
                p[-1] = keep
            self.add(p)


def _trace(skel: np.ndarray, radius_img: np.ndarray) -> _Graph | None:
    from skan import Skeleton

    if skel.sum() < 2:
        return None
    s = Skeleton(skel, keep_images=False)
    coords = np.asarray(s.coordinates).astype(np.int64)
    radius = radius_img[coords[:, 0], coords[:, 1]]
    g = _Graph(coords, radius)
    for p in s.paths_list():
        p = np.asarray(p, dtype=np.int64)
        if len(p) < 2:
            continue
        if int(p[0]) == int(p[-1]):
            # A closed ring at one node: open it at its far point into two arms.
            if len(p) >= 5:
                mid = len(p) // 2
                g.add(p[: mid + 1])
                g.add(p[mid + 1 :][::-1])
                g.rings_opened += 1
            continue
        g.add(p)
    return g


def _simplify(g: _Graph, keep: set[int]) -> None:
    """Merge touching junctions, prune spurs, join paths through degree-2 nodes."""
    # Junction clusters: short edges between two branch nodes.
    changed = True
    while changed:
        changed = False
        for k in list(g.edges):
            p = g.edges.get(k)
            if p is None:
                continue
            a, b = int(p[0]), int(p[-1])
            if a != b and g.degree(a) >= 3 and g.degree(b) >= 3:
                if g.length(k) <= JUNCTION_MERGE_PX:
                    g.contract(k)
                    changed = True

    def spur(k: int, free: int, junction: int) -> bool:
        radius = float(g.radius[junction])
        return g.degree(junction) >= 3 and g.length(k) < SPUR_RADII * radius + SPUR_MIN_PX

    for _ in range(20):
        changed = bool(_prune_free_ends(g, keep, spur))
        for n in list(g.adj):
            if g.merge_through(n, keep):
                changed = True
        if not changed:
            break


def _prune_free_ends(
    g: _Graph, keep: set[int], drop: Callable[[int, int, int], bool]
) -> list[tuple[int, int, bool]]:
    """One pass over the paths with a free end (degree 1, not in ``keep``): remove each
    that ``drop(path, free end, other end)`` picks, and join the paths at its other end
    when two are left there. Returns (free end, other end, joined) per path removed."""
    removed = []
    for k in list(g.edges):
        p = g.edges.get(k)
        if p is None:
            continue
        a, b = int(p[0]), int(p[-1])
        if a == b:
            continue
        if g.degree(a) == 1 and a not in keep:
            free, other = a, b
        elif g.degree(b) == 1 and b not in keep:
            free, other = b, a
        else:
            continue
        if drop(k, free, other):
            g.remove(k)
            removed.append((free, other, g.merge_through(other, keep)))
    return removed


def _excess(intensity: np.ndarray, scale_mm: float) -> np.ndarray:
    """The image less its local background: a grey opening wider than any duct
    (``BACKGROUND_MM``), on a grid of about ``BACKGROUND_PITCH_MM``, smoothed and
    brought back to full size."""
    img = np.asarray(intensity, dtype=np.float64)
    f = max(int(BACKGROUND_PITCH_MM / scale_mm), 1)
    h, w = img.shape
    hh, ww = -(-h // f) * f, -(-w // f) * f
    padded = np.pad(img, ((0, hh - h), (0, ww - w)), mode="edge")
    small = padded.reshape(hh // f, f, ww // f, f).mean(axis=(1, 3))
    k = max(int(np.ceil(BACKGROUND_MM / (scale_mm * f))), 3) | 1
    bg = ndi.uniform_filter(ndi.grey_opening(small, size=(k, k)), k, mode="nearest")
    bg = np.repeat(np.repeat(bg, f, axis=0), f, axis=1)[:h, :w]
    return img - bg


def _prune_faint(
    g: _Graph,
    keep: set[int],
    overlaps: set[int],
    excess: np.ndarray,
    probability: np.ndarray | None = None,
) -> int:
    """Prune free-ended paths that hold too little contrast for their width to be a
    filled duct; return how many.

    A filled lumen's excess over its background is its path length through the contrast
    times the iodine's attenuation, so along the tree the central excess over the mask's
    width (twice the distance to its edge) is about one number, whatever the calibre.
    A path at its free end below ``FAINT_SHARE`` of the tree's median (weighted by
    length) is a blob of the segmentation on the background, not a duct; so is one whose
    mean duct probability (when given) is below ``FAINT_PROBABILITY``. Pruned paths
    expose their parents, which are tested in turn."""

    def ratio(k: int) -> float:
        p = g.edges[k]
        c = g.coords[p]
        width = 2.0 * float(median(g.radius[p]))
        return float(median(excess[c[:, 0], c[:, 1]])) / max(width, 1.0)

    ratios = {k: ratio(k) for k in g.edges}
    if not ratios:
        return 0
    keys = np.array(list(ratios))
    r = np.array([ratios[k] for k in keys])
    w = np.array([g.length(k) for k in keys])
    order = np.argsort(r)
    cum = np.cumsum(w[order])
    typical = float(r[order][np.searchsorted(cum, 0.5 * cum[-1])])
    if typical <= 0:
        return 0
    faint: dict[int, bool] = {}  # path keys are never reused: a joined path is new

    def is_faint(k: int, free: int, other: int) -> bool:
        if k not in faint:
            c = g.coords[g.edges[k]]
            weak = probability is not None and (
                float(np.mean(probability[c[:, 0], c[:, 1]])) < FAINT_PROBABILITY
            )
            faint[k] = weak or (ratios[k] if k in ratios else ratio(k)) < FAINT_SHARE * typical
        return faint[k]

    pruned = 0
    while removed := _prune_free_ends(g, keep, is_faint):
        pruned += len(removed)
        for free, other, joined in removed:
            overlaps.discard(free)
            if joined:
                overlaps.discard(other)
    return pruned


def _pieces(g: _Graph) -> list[tuple[set[int], np.ndarray, float]]:
    """The connected pieces of ``g``: each one's nodes, its pixels (sorted ids) and its
    paths' summed length; in the order of their first node among the paths' ends (as
    networkx's ``connected_components`` gives them)."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    keys = list(g.edges)
    if not keys:
        return []
    paths = [g.edges[k] for k in keys]
    ends = np.array([(p[0], p[-1]) for p in paths], np.int64)
    nodes, first, index = np.unique(ends.ravel(), return_index=True, return_inverse=True)
    index = index.reshape(-1, 2)
    links = coo_array(
        (np.ones(len(keys)), (index[:, 0], index[:, 1])), shape=(len(nodes), len(nodes))
    )
    count, label = connected_components(links, directed=False)
    start = np.full(count, len(first))
    np.minimum.at(start, label, first)
    rank = np.empty(count, np.int64)
    rank[np.argsort(start)] = np.arange(count)
    piece_of_path = rank[label[index[:, 0]]]
    length = np.bincount(piece_of_path, weights=[g.lengths[k] for k in keys], minlength=count)
    pixels = np.concatenate(paths)
    owner = np.repeat(piece_of_path, [len(p) for p in paths])
    order = np.lexsort((pixels, owner))
    owner, pixels = owner[order], pixels[order]
    new = np.r_[True, (np.diff(owner) != 0) | (np.diff(pixels) != 0)]
    owner, pixels = owner[new], pixels[new]
    bounds = np.searchsorted(owner, np.arange(count + 1))
    members = [set() for _ in range(count)]
    for n, r in zip(nodes.tolist(), rank[label].tolist(), strict=True):
        members[r].add(n)
    return [(members[r], pixels[bounds[r] : bounds[r + 1]], float(length[r])) for r in range(count)]


def _split_at(g: _Graph, pixel: int) -> None:
    """Make a skeleton pixel a node: split the path that runs through it."""
    if pixel in g.adj:
        return
    for k, p in list(g.edges.items()):
        hit = np.flatnonzero(p == pixel)
        if len(hit) and 0 < hit[0] < len(p) - 1:
            g.remove(k)
            g.add(p[: hit[0] + 1])
            g.add(p[hit[0] :])
            return


def _bridge(g: _Graph, keep: set[int], max_px: float, min_piece_px: float) -> int:
    """Join pieces to the piece of the root (or the longest) across gaps of at most
    ``max_px``, nearest first, with straight paths; return how many were bridged."""
    from skimage.draw import line

    bridged = 0
    while True:
        members = _pieces(g)
        if len(members) < 2:
            return bridged
        main = next((m for m in members if keep & m[0]), None) or max(members, key=lambda m: m[2])
        tree_pix = main[1]
        kd = cKDTree(g.coords[tree_pix])
        best = None
        for comp, pix, length in members:
            if comp is main[0] or length < min_piece_px:
                continue
            d, i = kd.query(g.coords[pix])
            j = int(np.argmin(d))
            if d[j] <= max_px and (best is None or d[j] < best[0]):
                best = (float(d[j]), int(tree_pix[i[j]]), int(pix[j]))
        if best is None:
            return bridged
        _, a, b = best
        _split_at(g, a)
        _split_at(g, b)
        rr, cc = line(*g.coords[a].tolist(), *g.coords[b].tolist())
        inner = np.column_stack([rr, cc])[1:-1]
        ids = np.arange(len(g.coords), len(g.coords) + len(inner))
        g.coords = np.vstack([g.coords, inner]) if len(inner) else g.coords
        r = min(float(g.radius[a]), float(g.radius[b]))
        g.radius = np.concatenate([g.radius, np.full(len(inner), r)])
        g.add(np.concatenate([[a], ids, [b]]).astype(np.int64))
        bridged += 1


def _piece_of(g: _Graph, root: int) -> tuple[set[int], set[int]]:
    """Nodes and path keys of the connected piece that holds ``root``."""
    nodes, keys, stack = {root}, set(), [root]
    while stack:
        n = stack.pop()
        for k in g.adj.get(n, ()):
            keys.add(k)
            m = g.other(k, n)
            if m not in nodes:
                nodes.add(m)
                stack.append(m)
    return nodes, keys


def _reach(g: _Graph, root: int, skip: set[int] = frozenset()) -> Callable[[int], float]:
    """Shortest distances (pixels, along the paths) from ``root`` through the paths of
    ``g``, nodes in ``skip`` left out: a lookup that gives ``inf`` for a node not reached.
    (scipy's Dijkstra on the paths as a sparse graph, of parallel paths the shortest.)"""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import dijkstra

    keys = list(g.edges)
    ends = np.array([(g.edges[k][0], g.edges[k][-1]) for k in keys], np.int64).reshape(-1, 2)
    length = np.array([g.lengths[k] for k in keys], float)
    use = ends[:, 0] != ends[:, 1]
    if skip:
        use &= ~np.isin(ends, np.fromiter(skip, np.int64, len(skip))).any(axis=1)
    ends, length = np.sort(ends[use], axis=1), length[use]
    # Of parallel paths the shortest (a sparse matrix would add them up).
    order = np.lexsort((length, ends[:, 1], ends[:, 0]))
    ends, length = ends[order], length[order]
    first = np.r_[True, (np.diff(ends, axis=0) != 0).any(axis=1)] if len(ends) else use[:0]
    ends, length = ends[first], length[first]
    nodes, index = np.unique(np.r_[ends.ravel(), root], return_inverse=True)
    index = index[:-1].reshape(-1, 2)
    matrix = coo_array((length, (index[:, 0], index[:, 1])), shape=(len(nodes), len(nodes)))
    start = int(np.searchsorted(nodes, root))
    dist = dijkstra(matrix.tocsr(), directed=False, indices=start)

    def lookup(n: int) -> float:
        i = int(np.searchsorted(nodes, n))
        return float(dist[i]) if i < len(nodes) and nodes[i] == n else np.inf

    return lookup


def _arm(g: _Graph, k: int, n: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Direction (unit, row-col) in which path ``k`` leaves node ``n``, taken past the
    junction's blob (from ``CROSSING_ARM_RADII[0]`` to ``[1]`` junction radii, at least
    ``CROSSING_ARM_MIN_PX`` long), the path's median half-width (pixels) there, and
    where that stretch begins (row, col)."""
    p = g.edges[k]
    p = p if int(p[0]) == n else p[::-1]
    c = g.coords[p].astype(float)
    arc = np.r_[0.0, np.cumsum(np.hypot(*np.diff(c, axis=0).T))]
    r = max(float(g.radius[n]), 1.0)
    s0 = CROSSING_ARM_RADII[0] * r
    s1 = max(CROSSING_ARM_RADII[1] * r, s0 + CROSSING_ARM_MIN_PX)
    if arc[-1] < s1:
        s1 = arc[-1]
        s0 = min(s0, 0.5 * s1)
    a = np.array([np.interp(s0, arc, c[:, 0]), np.interp(s0, arc, c[:, 1])])
    b = np.array([np.interp(s1, arc, c[:, 0]), np.interp(s1, arc, c[:, 1])])
    d = b - a
    norm = float(np.hypot(*d))
    window = (arc >= s0) & (arc <= s1)
    width = float(median(g.radius[p[window]])) if window.any() else float(g.radius[p].mean())
    return (d / norm if norm > 0 else d), width, a


def _deviation(first: tuple, second: tuple) -> float:
    """How far (degrees) two arms (:func:`_arm`'s direction, half-width, start) are
    from one straight duct through the junction: the angle between one's direction and
    the other's reversed; infinite where their widths differ by more than
    ``CROSSING_WIDTH_RATIO`` (+ 1 pixel) or their lines lie more than
    ``CROSSING_OFFSET_RADII`` radii (+ 1 pixel) apart."""
    (u, w, a), (v, x, b) = first, second
    if max(w, x) > CROSSING_WIDTH_RATIO * min(w, x) + 1.0:
        return np.inf
    # The two stretches lie on one line, not side by side (a duct with side branches
    # leaving it a little apart on either side pairs them straight, but offset).
    d = b - a
    offset = 0.5 * (abs(d[0] * u[1] - d[1] * u[0]) + abs(d[0] * v[1] - d[1] * v[0]))
    if offset > CROSSING_OFFSET_RADII * 0.5 * (w + x) + 1.0:
        return np.inf
    return float(np.degrees(np.arccos(np.clip(-(u @ v), -1.0, 1.0))))


def _whole(g: _Graph, group: set[int], arms: list[tuple[int, int]]) -> bool:
    """Whether the junctions ``group`` hold just the ``arms`` (path, node), and the
    paths that join them in a chain."""
    if any(k not in g.edges for k, _ in arms):
        return False
    return sum(g.degree(n) for n in group) == len(arms) + 2 * (len(group) - 1)


def _crossings(g: _Graph, nodes: set[int]) -> list[tuple[float, set[int], list]]:
    """Places of a piece where one duct's image crosses or touches another's.

    A crossing is a junction of four arms (path, node), or two junctions of three
    joined by a path shorter than ``CROSSING_SPAN_RADII`` times their summed radii
    (ducts crossing at an angle show so, a duct's width or more apart), whose four
    outer arms pair into two straight ducts through it: each pair within
    ``CROSSING_ANGLE_DEG`` of opposite directions and of like width. A touch is a
    junction of three where two arms are one straight duct within ``TOUCH_ANGLE_DEG``
    (the third ends on it or runs into it). At a division the children leave the
    parent at an angle: no such pairing. Returns (worst pair's deviation in degrees,
    junctions, pairs) per place: two pairs at a crossing, at a touch the straight pair
    and the third arm alone; crossings first, then touches (a duct that goes on
    straight past a side branch looks like a touch), each straightest first."""
    junctions = [n for n in nodes if g.degree(n) >= 3]
    groups = [{n} for n in junctions]
    for n in junctions:
        for k in g.adj[n]:
            m = g.other(k, n)
            span = CROSSING_SPAN_RADII * (float(g.radius[n]) + float(g.radius[m]))
            if n < m and g.degree(n) == g.degree(m) == 3 and g.length(k) <= span:
                groups.append({n, m})
    seen: dict[tuple[int, int], tuple[np.ndarray, float, np.ndarray]] = {}

    def deviation(first: tuple[int, int], second: tuple[int, int]) -> float:
        for arm in (first, second):
            if arm not in seen:
                seen[arm] = _arm(g, *arm)
        return _deviation(seen[first], seen[second])

    out = []
    for group in groups:
        arms = [(k, n) for n in group for k in g.adj[n] if not group >= set(g.ends[k])]
        if not _whole(g, group, arms):
            continue  # a ring, or junctions joined twice
        if len(arms) == 4:
            pairings = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))
            worst, (i, j, k, m) = min(
                (max(deviation(arms[q[0]], arms[q[1]]), deviation(arms[q[2]], arms[q[3]])), q)
                for q in pairings
            )
            if worst <= CROSSING_ANGLE_DEG:
                out.append((worst, group, [[arms[i], arms[j]], [arms[k], arms[m]]]))
        elif len(arms) == 3:
            worst, third = min(
                (deviation(arms[i], arms[j]), 3 - i - j) for i, j in ((0, 1), (0, 2), (1, 2))
            )
            if worst <= TOUCH_ANGLE_DEG:
                through = [arms[i] for i in range(3) if i != third]
                out.append((worst, group, [through, [arms[third]]]))
    return sorted(out, key=lambda t: (-len(t[2][1]), t[0]))


def _on_loop(g: _Graph, k: int) -> bool:
    """Whether path ``k`` closes a loop: its ends are joined without it."""
    a, b = g.ends[k]
    seen, stack = {a}, [a]
    while stack:
        n = stack.pop()
        for j in g.adj.get(n, ()):
            if j == k:
                continue
            m = g.other(j, n)
            if m == b:
                return True
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return a == b


def _let_go(g: _Graph, k: int, n: int, overlaps: set[int]) -> None:
    """Let path ``k`` go of node ``n``, one pixel short: the duct is kept whole, hanging
    from its other end; the node and the freed end are overlaps."""
    p = g.remove(k)
    if int(p[-1]) != n:
        p = p[::-1]
    if len(p) >= 3:
        g.add(p[:-1])
        overlaps.update((n, int(p[-2])))


def _open_loops(g: _Graph, root: int, overlaps: set[int]) -> int:
    """Open the loops of the piece that holds ``root`` (where one duct's image touches
    or crosses another's); return how many.

    First where ducts cross or touch (:func:`_crossings`), straightest first, each
    while it still closes a loop: at a crossing, of the two ducts through it, the one
    that reaches it from the root by the longer way (not through it) is let go of it
    (:func:`_let_go`), and its junctions are overlaps; at a touch, the third duct is
    let go of the straight one. Loops left are opened at their narrowest path: the
    maximum spanning tree by path width (:func:`_path_width`) is kept, and each path off
    it is let go of its end where the other paths are widest."""
    nodes, keys = _piece_of(g, root)
    if len(keys) - len(nodes) + 1 <= 0:  # no loop
        return 0
    opened = 0
    for _, group, pairs in _crossings(g, nodes):
        if root in group or not _whole(g, group, [arm for pair in pairs for arm in pair]):
            continue  # a loop opened here already changed it
        if len(pairs[1]) == 1:
            (k, n) = pairs[1][0]
            if not _on_loop(g, k):
                continue
        else:
            reach = _reach(g, root, group)
            arrive = []
            for pair in pairs:
                d = [reach(g.other(k, n)) + g.length(k) for k, n in pair]
                i = int(np.argmin(d))
                arrive.append((d[i], pair[i]))
            if not (np.isfinite(arrive[0][0]) and np.isfinite(arrive[1][0])):
                continue
            k, n = max(arrive, key=lambda t: t[0])[1]
        _let_go(g, k, n, overlaps)
        overlaps.update(group)
        opened += 1
    _, keys = _piece_of(g, root)
    # Ducts taper away from the nipple: the widest spanning tree is kept, and each path
    # off it (the thinnest of its loop) let go of the end where it meets wider ducts.
    width = {k: _path_width(g, k) for k in sorted(keys)}
    multi = nx.MultiGraph()
    for k, w in width.items():
        a, b = g.ends[k]
        if a != b:
            multi.add_edge(a, b, key=k, weight=w)
    kept = {k for _, _, k in nx.maximum_spanning_edges(multi, keys=True, data=False)}

    def widest_other(n: int, k: int) -> float:
        for j in g.adj.get(n, ()):
            if j not in width:  # a path let go is added again, one pixel short
                width[j] = _path_width(g, j)
        return max((width[j] for j in g.adj.get(n, ()) if j != k), default=0.0)

    for k in sorted(keys - kept):
        a, b = g.ends[k]
        _let_go(g, k, a if widest_other(a, k) > widest_other(b, k) else b, overlaps)
        opened += 1
    return opened


def _path_width(g: _Graph, k: int) -> float:
    """Median radius (pixels) along path ``k``, its ends' junction blobs left out (as
    many pixels as the wider end's radius, while a third of the path remains)."""
    r = g.radius[g.edges[k]].astype(float)
    cut = int(min(max(r[0], r[-1]), len(r) // 3))
    return float(median(r[cut : len(r) - cut] if cut else r))


def build_tree(
    mask: np.ndarray,
    root_rc: tuple[float, float] | None,
    pixel_mm: float,
    magnification: float = 1.0,
    *,
    blush: bool = True,
    intensity: np.ndarray | None = None,
    probability: np.ndarray | None = None,
) -> DuctTree:
    """Read the rooted duct tree of a mask of contrast-filled ducts.

    Parameters
    ----------
    mask : (rows, cols) bool array
        The contrast-filled ducts (image frame). Numbers are read as ``mask > 0``.
    root_rc : (float, float) or None
        Where the tree starts (the cannula tip or the nipple; row, col in pixels). The
        root is the skeleton point nearest it. Without it, the end of the widest
        segment of the largest piece.
    pixel_mm : float
        Detector pixel pitch (mm), in [0.01, 2].
    magnification : float, optional
        Geometric magnification, in [1, 3] (default 1): sizes are divided by it.
    blush : bool, optional
        Cut free ends back to where the duct widens into a lobular blush (default
        True): the terminal duct ends there, the blush is acini, not duct.
    intensity : (rows, cols) float array, optional
        The image on a scale where contrast is bright and proportional to the iodine
        along the ray (the attenuation, :func:`~ductogram.analysis.landmarks.duct_scale`
        of a for-processing image). When given, calibres come from the cross-section's
        excess over the local background, ``d = (4 / π) ∫ excess / peak`` (exact for a
        round lumen, whatever the contrast; see the module docstring), and the
        mask only says where the ducts are; otherwise from the mask's area.
    probability : (rows, cols) float array, optional
        The segmentation's duct probability, in [0, 1]: with ``intensity``, free-ended
        paths whose mean probability is below ``FAINT_PROBABILITY`` are pruned.

    Returns
    -------
    DuctTree
        Empty (no segments) when the mask holds no duct longer than
        ``MIN_COMPONENT_MM``. Pieces not connected to the root's are kept, each rooted at
        its node nearest the root.

    Raises
    ------
    TypeError
        If ``mask`` is not a numpy array of booleans or numbers.
    ParameterError
        If ``mask`` is not 2-D, or ``pixel_mm``, ``magnification`` or ``root_rc`` make no
        sense.

    Examples
    --------
    A Y: a 40-pixel stem dividing into two arms.

    >>> import numpy as np
    >>> from skimage.draw import line
    >>> from ductogram.analysis.graph import build_tree
    >>> m = np.zeros((80, 80), bool)
    >>> for r0, c0, r1, c1 in [(5, 40, 45, 40), (45, 40, 70, 15), (45, 40, 70, 65)]:
    ...     m[line(r0, c0, r1, c1)] = True
    >>> t = build_tree(m, (5, 40), pixel_mm=0.1)
    >>> t.n_segments, len(t.branch_points), len(t.end_points), t.generation.tolist()
    (3, 1, 2, [1, 2, 2])
    """
    mask = _check_mask(mask)
    if intensity is not None:
        intensity = np.asarray(intensity)
        if intensity.shape != mask.shape or not np.issubdtype(intensity.dtype, np.number):
            raise ParameterError(
                "intensity", intensity.shape, f"a numeric array of the mask's shape {mask.shape}"
            )
    if not np.isfinite(pixel_mm) or not 0.01 <= float(pixel_mm) <= 2.0:
        raise ParameterError("pixel_mm", pixel_mm, "a pixel pitch in [0.01, 2] mm")
    if not np.isfinite(magnification) or not 1.0 <= float(magnification) <= 3.0:
        raise ParameterError("magnification", magnification, "a factor in [1, 3]")
    if root_rc is not None:
        root_arr = np.asarray(root_rc, dtype=float)
        if root_arr.shape != (2,) or not np.all(np.isfinite(root_arr)):
            raise ParameterError("root_rc", root_rc, "a (row, col) pair of finite numbers")
    pixel_mm = float(pixel_mm)
    magnification = float(magnification)
    scale = pixel_mm / magnification  # mm (object) per pixel
    if not mask.any():
        return _empty(pixel_mm, magnification)

    # Work on the bounding box only, with a margin for the rim and ring of the calibres.
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    pad = 3 + RING_PX
    r0, r1 = max(rows[0] - pad, 0), min(rows[-1] + 1 + pad, mask.shape[0])
    c0, c1 = max(cols[0] - pad, 0), min(cols[-1] + 1 + pad, mask.shape[1])
    sub = np.zeros((r1 - r0 + 2, c1 - c0 + 2), dtype=bool)
    sub[1:-1, 1:-1] = mask[r0:r1, c0:c1]
    offset = np.array([r0 - 1, c0 - 1])

    edt = ndi.distance_transform_edt(sub)
    skel = skeletonize(sub)
    g = _trace(skel, edt)
    if g is None or not g.edges:
        return _empty(pixel_mm, magnification)

    # The root: the skeleton pixel nearest root_rc; a new node if it lies inside a path.
    root_local = None if root_rc is None else np.asarray(root_rc, dtype=float) - offset
    keep: set[int] = set()
    if root_local is not None:
        best = None
        for k, p in g.edges.items():
            d2 = ((g.coords[p] - root_local) ** 2).sum(axis=1)
            i = int(np.argmin(d2))
            if best is None or d2[i] < best[0]:
                best = (float(d2[i]), k, i)
        _, k, i = best
        p = g.edges[k]
        # Snap to an end of the path when within a calibre of it.
        r = max(float(g.radius[p[i]]), 2.0)
        length_before = np.hypot(*np.diff(g.coords[p[: i + 1]].astype(float), axis=0).T).sum()
        length_after = np.hypot(*np.diff(g.coords[p[i:]].astype(float), axis=0).T).sum()
        if length_before <= r:
            root_node = int(p[0])
        elif length_after <= r:
            root_node = int(p[-1])
        else:
            g.remove(k)
            g.add(p[: i + 1])
            g.add(p[i:])
            root_node = int(p[i])
        keep.add(root_node)

    _simplify(g, keep)
    if not g.edges:
        return _empty(pixel_mm, magnification)
    bridges = _bridge(g, keep, BRIDGE_MM / scale, MIN_COMPONENT_MM / scale)
    if bridges:
        for n in list(g.adj):
            g.merge_through(n, keep)

    # Connected pieces; drop the short ones, root each one.
    nxg = nx.MultiGraph()
    for k, p in g.edges.items():
        nxg.add_edge(int(p[0]), int(p[-1]), key=k, length=g.length(k))
    pieces = []
    for comp in nx.connected_components(nxg):
        sub_g = nxg.subgraph(comp)
        total = sum(d["length"] for _, _, d in sub_g.edges(data=True)) * scale
        pieces.append((comp, total))
    main_root = None
    if keep:
        main_root = next(iter(keep))
    else:
        # The widest piece's end: the end node of the largest piece with the widest edge.
        comp, _ = max(pieces, key=lambda t: t[1])
        ends = [n for n in comp if g.degree(n) == 1] or list(comp)
        main_root = max(
            ends, key=lambda n: (float(median(g.radius[g.edges[next(iter(g.adj[n]))]])), -n)
        )
    root_pos = g.coords[main_root].astype(float)

    roots: list[int] = []
    loops = g.rings_opened
    overlaps: set[int] = set()  # junctions where a loop was opened, and the ends let go
    ordered = sorted(
        pieces,
        key=lambda t: (
            main_root not in t[0],
            float(min(np.hypot(*(g.coords[list(t[0])] - root_pos).T))),
        ),
    )
    for comp, total in ordered:
        if total < MIN_COMPONENT_MM:
            for _, _, k in nxg.subgraph(comp).edges(keys=True):
                g.remove(k)
            continue
        if main_root in comp:
            root = main_root
        else:
            nodes = list(comp)
            ends = [n for n in nodes if g.degree(n) == 1] or nodes
            d = np.hypot(*(g.coords[ends] - root_pos).T)
            root = int(ends[int(np.argmin(d))])
        loops += _open_loops(g, root, overlaps)
        roots.append(root)
    excess = None
    if intensity is not None:
        # The background needs context beyond the ducts' box: a margin as wide as it.
        m = int(np.ceil(2 * BACKGROUND_MM / scale))
        a0, a1 = max(r0 - m, 0), min(r1 + m, mask.shape[0])
        b0, b1 = max(c0 - m, 0), min(c1 + m, mask.shape[1])
        excess = np.zeros(sub.shape)
        around = _excess(intensity[a0:a1, b0:b1], scale)
        excess[1:-1, 1:-1] = around[r0 - a0 : r1 - a0, c0 - b0 : c1 - b0]
        prob = None
        if probability is not None:
            prob = np.zeros(sub.shape)
            prob[1:-1, 1:-1] = np.asarray(probability, dtype=float)[r0:r1, c0:c1]
        loops += _prune_faint(g, set(roots), overlaps, excess, prob)
    if loops:
        for n in list(g.adj):
            g.merge_through(n, set(roots))
    if not g.edges:
        return _empty(pixel_mm, magnification)

    # Calibre: every mask pixel is given to its nearest skeleton pixel.
    kept = np.zeros(sub.shape, dtype=bool)
    seg_paths = list(g.edges.values())
    for p in seg_paths:
        kept[g.coords[p, 0], g.coords[p, 1]] = True
    _, (ir, ic) = ndi.distance_transform_edt(~kept, return_indices=True)
    owner_r, owner_c = ir[sub], ic[sub]
    size = sub.shape[0] * sub.shape[1]
    area = np.bincount(owner_r * sub.shape[1] + owner_c, minlength=size).reshape(sub.shape)
    area = area.astype(np.float64)
    integral = None
    if excess is not None:
        # The lumen's signal spreads past the mask's edge (blur): take a 2-pixel rim.
        rim = ndi.binary_dilation(sub, iterations=2)
        ring = ndi.binary_dilation(rim, iterations=RING_PX) & ~rim
        owner_rim = ir[rim] * sub.shape[1] + ic[rim]
        owner_ring = ir[ring] * sub.shape[1] + ic[ring]
        integral = np.bincount(owner_rim, weights=excess[rim], minlength=size)
        rim_n = np.bincount(owner_rim, minlength=size).astype(np.float64)
        ring_sum = np.bincount(owner_ring, weights=excess[ring], minlength=size)
        ring_n = np.bincount(owner_ring, minlength=size).astype(np.float64)
        integral, rim_n, ring_sum, ring_n = (
            v.reshape(sub.shape) for v in (integral, rim_n, ring_sum, ring_n)
        )

    # Orient breadth-first from each root.
    node_ids: dict[int, int] = {}
    starts: list[int] = []
    ends_: list[int] = []
    parents: list[int] = []
    gens: list[int] = []
    paths: list[np.ndarray] = []
    seg_of_end: dict[int, int] = {}
    for root in roots:
        node_ids.setdefault(root, len(node_ids))
        queue = [root]
        seen = {root}
        while queue:
            n = queue.pop(0)
            for k in sorted(g.adj.get(n, ())):
                m = g.other(k, n)
                if m in seen:
                    continue
                seen.add(m)
                node_ids.setdefault(m, len(node_ids))
                p = g.edges[k]
                p = p if int(p[0]) == n else p[::-1]
                par = seg_of_end.get(n, -1)
                starts.append(node_ids[n])
                ends_.append(node_ids[m])
                parents.append(par)
                gens.append(1 if par < 0 else gens[par] + 1)
                paths.append(p)
                seg_of_end[m] = len(paths) - 1
                queue.append(m)
    order = sorted(node_ids, key=node_ids.get)
    node_rc = g.coords[order].astype(float) + offset
    degree = np.array([g.degree(n) for n in order], dtype=np.int64)
    overlap = np.array([n in overlaps for n in order], dtype=bool)

    lengths = np.empty(len(paths))
    calibres = np.empty(len(paths))
    profiles = []
    out_paths = []
    blushes = 0
    for s, p in enumerate(paths):
        c = g.coords[p]
        a = area[c[:, 0], c[:, 1]]
        w = _steps(c)
        num = ndi.uniform_filter1d(a, CALIBRE_WINDOW_PX, mode="nearest")
        den = ndi.uniform_filter1d(w, CALIBRE_WINDOW_PX, mode="nearest")
        local = num / np.maximum(den, 1e-9)
        if integral is not None:

            def along(v: np.ndarray, c: np.ndarray = c) -> np.ndarray:
                return ndi.uniform_filter1d(v[c[:, 0], c[:, 1]], CALIBRE_WINDOW_PX)

            # The background's own rise next to the duct (a ring just outside the rim)
            # is taken off the cross-section and its peak.
            rn = along(ring_n)
            h = np.where(rn > 0, along(ring_sum) / np.maximum(rn, 1e-9), 0.0)
            across = along(integral) - h * along(rim_n)
            peak = along(excess) - h
            with np.errstate(divide="ignore", invalid="ignore"):
                measured = 4.0 / np.pi * (across / np.maximum(den, 1e-9)) / peak
            # Where the lumen does not stand out of its background, keep the mask's width.
            ok = (peak > 0) & (across > 0) & np.isfinite(measured)
            local_d = np.where(ok, measured, local)
        else:
            local_d = local
        if degree[ends_[s]] == 1 and blush and not overlap[ends_[s]]:
            cut = _blush_start(local, g.radius[p], 0.5 * BLUSH_DUCT_MAX_MM / scale)
            if cut is not None:
                c, local, local_d = c[: cut + 1], local[: cut + 1], local_d[: cut + 1]
                node_rc[ends_[s]] = c[-1] + offset
                blushes += 1
        lengths[s] = _smooth_length(c) * scale
        # Away from the nodes (within a radius of a branch point the area is shared).
        rad = g.radius[p[: len(c)]]
        dist = np.cumsum(np.r_[0.0, np.hypot(*np.diff(c.astype(float), axis=0).T)])
        away = (dist > rad[0] + 1) & (dist < dist[-1] - rad[-1] - 1)
        inner = local_d[away] if away.any() else local_d
        profiles.append(local_d * scale)
        calibres[s] = float(median(inner)) * scale
        out_paths.append((c + offset).astype(np.int64))

    return DuctTree(
        node_rc=node_rc,
        degree=degree,
        root=np.array([node_ids[r] for r in roots], dtype=np.int64),
        start=np.array(starts, dtype=np.int64),
        end=np.array(ends_, dtype=np.int64),
        parent=np.array(parents, dtype=np.int64),
        generation=np.array(gens, dtype=np.int64),
        paths_rc=tuple(out_paths),
        calibre_profile_mm=tuple(profiles),
        length_mm=lengths,
        calibre_mm=calibres,
        pixel_mm=pixel_mm,
        magnification=magnification,
        loops_cut=loops,
        overlap=overlap,
        blush_ends=blushes,
        bridges=bridges,
    )
