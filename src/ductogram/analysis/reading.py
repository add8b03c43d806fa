"""The reading of one ductogram view: the duct tree graph, its mask, and how sure it is.

:func:`read_view` runs the reading chain on one :class:`~ductogram.core.Image`:
landmarks (:func:`~ductogram.analysis.landmarks.find_landmarks`: the breast, the nipple,
the cannula tip) → the duct scale (:func:`~ductogram.analysis.landmarks.duct_scale`) →
the duct mask (:func:`~ductogram.analysis.segmentation.segment_ducts`, rooted at the
cannula tip or the nipple) → the rooted tree (:func:`~ductogram.analysis.graph.build_tree`),
and returns a :class:`Reading`.

An image that cannot be read (no breast, no contrast in the ducts, a pixel spacing a
ductogram cannot have) gives a :class:`Reading` with no tree and a ``message`` that says
why; a wrong argument (not an :class:`Image`) raises.

The reading is a pydantic model: ``reading.model_dump_json()`` writes the graph (nodes,
segments and their descriptors, image frame and mm), the confidence and the message, and
the duct mask run-length encoded (``mask_rle``; :meth:`Reading.mask_array` decodes it),
and the duct lumen, the mask with its edge where the contrast is (``lumen_rle``,
:meth:`Reading.lumen_array`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ..core import Image
from .graph import DuctTree, build_tree

__all__ = ["NodeRecord", "Reading", "SegmentRecord", "read_view", "reading_from_tree"]

READABLE_PIXEL_MM = (0.02, 0.3)  # detector pitches a ductogram can be read at [estimate:
# mammography detectors are 0.05-0.1 mm, CR plates up to 0.2 mm; coarser hides the ducts]
MAX_ANISOTROPY = 1.05  # row and column pitches may differ by this factor at most
NO_DUCT = "no contrast-filled duct found"
MIN_TREE_MM = 10.0  # less duct than this is no ductogram: the main duct alone is longer
# (first branch point 2-30 mm, mean 8 mm, from the orifice: Ramsay 2005) [estimate]
# A shorter rooted mask that holds a pool of contrast is a duct filled only up to an
# obstruction near the orifice (a papilloma in the lactiferous sinus), not a failed
# injection: a pool covers at least POOL_MIN_MM2 and is at least POOL_MIN_WIDTH_MM wide
# [measured: with nothing injected the rooted mask is the cannula, at most 4.2 mm2 and
# 0.8 mm wide (12 of the 36 no-contrast views of quality_eval seeds 1000-1139 and
# 8000-8139 read one; none of the under-filled views of those seeds read less than 13 mm
# of tree); papillomas that stop the contrast in the sinus (draw_cases(30, 24), 4 views)
# leave pools of 10.6-14.7 mm2, 1.8-3.3 mm wide]
# Where the root's own piece of the mask covers less than FAR_TREE_MIN_MM2, the tree may lie
# beyond a stretch the segmentation missed (a wide, bright ectatic main duct by the
# nipple): the largest piece within FAR_SEARCH_MM of the root joins it when it adds at
# least FAR_TREE_MIN_MM2 [measured: with nothing injected no piece of the mask covers more
# than 24 mm2 anywhere, nor 4.2 mm2 within 25 mm of the root (36 no-contrast views of
# quality_eval seeds 1000-1139 and 8000-8139); in the 4 views where a papilloma stopped
# the contrast in the sinus no other piece covers more than 9.9 mm2; ectatic trees whose
# main duct was missed over 9-15.5 mm covered 279-675 mm2 (three FOR PRESENTATION views:
# their root's pieces 8-14 mm2)]
FAR_SEARCH_MM = 20.0
FAR_TREE_MIN_MM2 = 100.0
POOL_MIN_MM2 = 8.0
POOL_MIN_WIDTH_MM = 1.5
NO_DUCT_BEYOND_POOL = "contrast stops in a pool at the duct's opening: no duct beyond it filled"


class NodeRecord(BaseModel):
    """One node of the read tree (image frame)."""

    model_config = ConfigDict(frozen=True)

    index: int
    row: float = Field(description="row (pixels)")
    col: float = Field(description="column (pixels)")
    degree: int = Field(description="segments meeting here")
    kind: str = Field(
        description="root, branch, end, overlap (where one duct's image touches or crosses "
        "another's, and the end of the path let go there), or chain (where two paths meet)"
    )


class SegmentRecord(BaseModel):
    """One segment of the read tree: a chain of duct between two nodes (sizes in mm)."""

    model_config = ConfigDict(frozen=True)

    index: int
    start: int = Field(description="node at the root side")
    end: int = Field(description="node at the far side")
    parent: int = Field(description="segment it leaves, -1 at a root")
    generation: int = Field(description="1 for a segment leaving a root")
    strahler_order: int
    length_mm: float = Field(description="path length, object scale (mm)")
    calibre_mm: float = Field(description="median lumen diameter, object scale (mm)")
    tortuosity: float | None = Field(description="path length / chord; None if undefined")


def _finite(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _rle(mask: np.ndarray) -> list[int]:
    """Run lengths of a flattened (C order) boolean mask, starting with a run of False."""
    flat = np.asarray(mask, dtype=bool).ravel()
    if flat.size == 0:
        return []
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    return runs if not flat[0] else [0, *runs]


class Reading(BaseModel):
    """What was read from one view.

    Positions are in the image frame (row, col in pixels); lengths and calibres in mm at
    object scale (detector size / magnification), in the image plane.

    ``confidence`` in [0, 1] is the product of three shares, each in [0, 1] (see
    ``confidence_basis``): how clearly the skeleton stands out in the segmentation (mean
    duct probability on it), how tree-like the skeleton was (segments kept over segments
    kept, loops opened and faint paths pruned), and how the root was found (cannula tip 1,
    nipple 0.8, widest end 0.6). It is 0 when nothing was read.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    image_shape: tuple[int, int]
    pixel_spacing_mm: tuple[float, float]
    magnification: float
    view: str | None = None
    laterality: str | None = None
    root_rc: tuple[float, float] | None = None
    root_source: str | None = Field(
        None, description="cannula tip, nipple, or widest end (none given)"
    )
    root_gap_mm: float | None = Field(
        None,
        description="a tree read beyond a gap: how far (object mm) its start lies from the "
        "root; path lengths from the root add it",
    )
    nodes: list[NodeRecord] = Field(default_factory=list)
    segments: list[SegmentRecord] = Field(default_factory=list)
    ramification_matrix: list[list[float | None]] = Field(default_factory=list)
    loops_cut: int = 0
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    confidence_basis: str = ""
    message: str | None = None
    pool_area_mm2: float | None = Field(
        None, description="with no tree: the contrast pooled at the root (object mm2)"
    )
    pool_width_mm: float | None = Field(
        None, description="with no tree: the pool's widest lumen (object mm)"
    )
    pool_end_rc: tuple[float, float] | None = Field(
        None, description="with no tree: where the pool's contrast stops, farthest from the root"
    )
    mask_rle: list[int] = Field(
        default_factory=list,
        description="the duct mask, run-length encoded (C order, first run False)",
        repr=False,
    )
    lumen_rle: list[int] = Field(
        default_factory=list,
        description="the duct lumen: the duct mask with its edge where the contrast is "
        "(segmentation.sharpen_edges), run-length encoded; empty: the duct mask",
        repr=False,
    )
    mask: np.ndarray | None = Field(None, exclude=True, repr=False)
    lumen: np.ndarray | None = Field(None, exclude=True, repr=False)
    tree: DuctTree | None = Field(None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _encode_mask(self) -> Reading:
        for name in ("mask", "lumen"):
            value = getattr(self, name)
            if value is None:
                continue
            mask = np.asarray(value, dtype=bool)
            if mask.shape != tuple(self.image_shape):
                raise ValueError(
                    f"{name} has shape {mask.shape}, the image {tuple(self.image_shape)}"
                )
            if not getattr(self, f"{name}_rle"):
                setattr(self, f"{name}_rle", _rle(mask))
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n_branch_points(self) -> int:
        """Nodes where the tree divides."""
        return sum(1 for n in self.nodes if n.kind == "branch") + sum(
            1 for n in self.nodes if n.kind == "root" and n.degree >= 2
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def n_end_points(self) -> int:
        """Free ends of the tree."""
        return sum(1 for n in self.nodes if n.kind == "end")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_length_mm(self) -> float:
        """Sum of the segment lengths (mm)."""
        return float(sum(s.length_mm for s in self.segments))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_generation(self) -> int:
        """Highest generation read (0 when no tree)."""
        return max((s.generation for s in self.segments), default=0)

    @property
    def found(self) -> bool:
        """Whether a duct tree was read."""
        return bool(self.segments)

    @property
    def pooled(self) -> bool:
        """Whether, with no tree read, the contrast stopped in a pool at the root."""
        return not self.segments and self.pool_width_mm is not None

    def mask_array(self) -> np.ndarray:
        """The duct mask as a (rows, cols) bool array (decoded from ``mask_rle`` when
        the reading was loaded from JSON)."""
        if self.mask is not None:
            return self.mask
        return mask_from_rle(self.mask_rle, self.image_shape)

    def lumen_array(self) -> np.ndarray:
        """The duct lumen as a (rows, cols) bool array: the duct mask with its edge
        pixels that hold too little contrast taken off (the mask to compare with a true
        lumen); the duct mask itself where none was made (no tree read)."""
        if self.lumen is not None:
            return self.lumen
        if self.lumen_rle:
            return mask_from_rle(self.lumen_rle, self.image_shape)
        return self.mask_array()

    def to_networkx(self) -> nx.DiGraph:
        """The tree as a directed graph, edges pointing away from the root; node and edge
        attributes are the fields of :class:`NodeRecord` and :class:`SegmentRecord`."""
        g = nx.DiGraph()
        for n in self.nodes:
            g.add_node(n.index, **n.model_dump(exclude={"index"}))
        for s in self.segments:
            g.add_edge(s.start, s.end, segment=s.index, **s.model_dump(exclude={"index"}))
        return g


def mask_from_rle(runs: list[int], shape: tuple[int, int]) -> np.ndarray:
    """Decode :attr:`Reading.mask_rle` into a (rows, cols) bool array.

    Examples
    --------
    >>> import numpy as np
    >>> from ductogram.analysis.reading import _rle, mask_from_rle
    >>> m = np.array([[0, 1, 1], [1, 0, 0]], bool)
    >>> _rle(m), bool((mask_from_rle(_rle(m), m.shape) == m).all())
    ([1, 3, 2], True)
    """
    size = int(np.prod(shape))
    if not runs:
        return np.zeros(shape, dtype=bool)
    values = np.arange(len(runs)) % 2 == 1
    flat = np.repeat(values, runs)
    if flat.size != size:
        raise ValueError(f"mask_rle covers {flat.size} pixels, the image has {size}")
    return flat.reshape(shape)


def _base(image: Image) -> dict[str, Any]:
    return {
        "image_shape": tuple(int(s) for s in image.shape),
        "pixel_spacing_mm": tuple(float(s) for s in image.pixel_spacing_mm),
        "magnification": float(image.magnification),
        "view": None if image.view is None else str(image.view.value),
        "laterality": None if image.laterality is None else str(image.laterality.value),
    }


def reading_from_tree(
    image: Image,
    tree: DuctTree,
    mask: np.ndarray,
    *,
    probability: np.ndarray | None = None,
    root_rc: tuple[float, float] | None = None,
    root_source: str | None = None,
    lumen: np.ndarray | None = None,
    root_gap_mm: float | None = None,
) -> Reading:
    """A :class:`Reading` of ``image`` from its tree and mask.

    Parameters
    ----------
    image : Image
        The view read.
    tree : DuctTree
        From :func:`~ductogram.analysis.graph.build_tree`.
    mask : (rows, cols) bool array
        The duct mask the tree was read from.
    probability : (rows, cols) float array, optional
        Duct probability of the segmentation, in [0, 1]; without it the first share of
        the confidence is 1.
    root_rc : (float, float), optional
        The root given to the tree (row, col).
    root_source : str, optional
        Where the root came from: "cannula tip", "nipple" or None.
    lumen : (rows, cols) bool array, optional
        The mask with its edge where the contrast is
        (:func:`~ductogram.analysis.segmentation.sharpen_edges`); default: the mask.
    root_gap_mm : float, optional
        For a tree read beyond a gap (its start is not ``root_rc``): the gap (object mm).

    Returns
    -------
    Reading
        With ``message = "no contrast-filled duct found"`` when the tree is empty.
    """
    base = _base(image)
    if tree.n_segments == 0:
        return Reading(**base, mask=mask, message=NO_DUCT, confidence_basis="nothing read")
    nodes = [
        NodeRecord(
            index=i,
            row=float(r),
            col=float(c),
            degree=int(tree.degree[i]),
            kind=tree.node_kind(i),
        )
        for i, (r, c) in enumerate(tree.node_rc.tolist())
    ]
    order = tree.strahler_order
    tort = tree.tortuosity
    segments = [
        SegmentRecord(
            index=s,
            start=int(tree.start[s]),
            end=int(tree.end[s]),
            parent=int(tree.parent[s]),
            generation=int(tree.generation[s]),
            strahler_order=int(order[s]),
            length_mm=float(tree.length_mm[s]),
            calibre_mm=float(tree.calibre_mm[s]),
            tortuosity=_finite(tort[s]),
        )
        for s in range(tree.n_segments)
    ]
    rmat = [[_finite(v) for v in row] for row in tree.ramification_matrix.tolist()]

    sk = tree.skeleton_rc
    if probability is not None and len(sk):
        clear = float(np.clip(np.mean(probability[sk[:, 0], sk[:, 1]]), 0.0, 1.0))
    else:
        clear = 1.0
    tree_like = tree.n_segments / (tree.n_segments + tree.loops_cut)
    if len(tree.root) > 1:  # pieces not connected to the root's
        # Times the share of the skeleton in the main piece.
        main = _piece_of_segments(tree)[tree.skeleton_segment] == 0
        tree_like *= float(main.mean())
    rooted = {"cannula tip": 1.0, "nipple": 0.8}.get(root_source or "", 0.6)
    confidence = clear * tree_like * rooted
    basis = (
        f"duct probability on the skeleton {clear:.2f} x tree-likeness {tree_like:.2f} "
        f"(segments kept / (kept + loops opened + faint paths pruned), share of the skeleton "
        f"connected to the root) "
        f"x root from the {root_source or 'widest end'} {rooted:.1f}"
    )
    return Reading(
        **base,
        root_rc=None if root_rc is None else (float(root_rc[0]), float(root_rc[1])),
        root_source=root_source or "widest end",
        root_gap_mm=None if root_gap_mm is None else round(float(root_gap_mm), 2),
        nodes=nodes,
        segments=segments,
        ramification_matrix=rmat,
        loops_cut=int(tree.loops_cut),
        confidence=float(np.clip(confidence, 0.0, 1.0)),
        confidence_basis=basis,
        mask=mask,
        lumen=lumen,
        tree=tree,
    )


def _piece_of_segments(tree: DuctTree) -> np.ndarray:
    """(S,) index of the connected piece (0: the main tree) of each segment."""
    piece = np.zeros(tree.n_segments, dtype=np.int64)
    root_index = {int(n): k for k, n in enumerate(tree.root.tolist())}
    for s in range(tree.n_segments):
        p = int(tree.parent[s])
        piece[s] = root_index.get(int(tree.start[s]), 0) if p < 0 else piece[p]
    return piece


def _unreadable(image: Image) -> str | None:
    spacing = image.pixel_spacing_mm
    lo, hi = READABLE_PIXEL_MM
    if not all(lo <= s <= hi for s in spacing):
        return (
            f"pixel spacing {spacing[0]:g} x {spacing[1]:g} mm is outside what a "
            f"ductogram can be read at ({lo:g}-{hi:g} mm): check the spacing"
        )
    if max(spacing) / min(spacing) > MAX_ANISOTROPY:
        return (
            f"pixel spacing {spacing[0]:g} x {spacing[1]:g} mm is not square: "
            "resample the image first"
        )
    if not np.all(np.isfinite(image.pixels)):
        return "the image holds values that are not finite numbers (NaN or infinity)"
    return None


def _far_piece(
    near: Any, scale: np.ndarray, mm: float, root: tuple[float, float]
) -> tuple[np.ndarray, tuple[int, int], float] | None:
    """The root's own piece of the duct mask (``near``: the segmentation rooted with the
    usual search) joined with the largest piece within ``FAR_SEARCH_MM`` of the root, that
    piece's pixel nearest the root (where its tree starts) and the gap to it (mm), when
    that piece adds at least ``FAR_TREE_MIN_MM2``; None otherwise."""
    from .segmentation import reroot

    far = reroot(near, scale, mm, root, search_mm=FAR_SEARCH_MM)
    if far.root_rc is None or float((far.mask & ~near.mask).sum()) * mm * mm < FAR_TREE_MIN_MM2:
        return None
    gap = float(np.hypot(far.root_rc[0] - root[0], far.root_rc[1] - root[1])) * mm
    return near.mask | far.mask, far.root_rc, gap


def _root_pool(
    mask: np.ndarray, root_rc: tuple[float, float] | None, nipple_rc: Any, mm: float
) -> tuple[float, float, tuple[float, float]] | None:
    """The pool of contrast in a rooted mask too short for a tree: its area (mm2), its
    widest lumen (mm; twice the largest distance to the mask's edge) and where it stops
    (the mask pixel farthest from the nipple, or from the root without one: the mask
    holds the cannula too, which runs from the root towards the nipple); None when the
    mask is no pool (``POOL_MIN_MM2``, ``POOL_MIN_WIDTH_MM``) or there is no root."""
    from scipy import ndimage as ndi

    if root_rc is None or not mask.any():
        return None
    area = float(mask.sum()) * mm * mm
    if area < POOL_MIN_MM2:
        return None
    rows, cols = ndi.find_objects(mask.astype(np.int8))[0]
    box = np.pad(mask[rows, cols], 1)  # the mask's box, with background all round
    width = 2.0 * float(ndi.distance_transform_edt(box).max()) * mm
    if width < POOL_MIN_WIDTH_MM:
        return None
    rr, cc = np.nonzero(mask)
    origin = root_rc if nipple_rc is None else nipple_rc
    k = int(np.argmax(np.hypot(rr - origin[0], cc - origin[1])))
    return area, width, (float(rr[k]), float(cc[k]))


def read_view(image: Image, landmarks: Any = None) -> Reading:
    """Read the contrast-filled duct tree of one ductogram view.

    Parameters
    ----------
    image : Image
        One view, FOR PROCESSING or FOR PRESENTATION, simulated or real.
    landmarks : Landmarks, optional
        The view's :func:`~ductogram.analysis.landmarks.find_landmarks`, when already
        found; found otherwise.

    Returns
    -------
    Reading
        The tree, the mask and the confidence; when nothing can be read, no tree and a
        ``message``: the landmarks' (e.g. "no breast found: ..."), "no contrast-filled
        duct found", or why the pixel spacing cannot be read. Contrast that stops in a
        pool at the root (an obstruction at the duct's opening) gives no tree either, but
        the message :data:`NO_DUCT_BEYOND_POOL`, the pool's mask and its measures
        (``pool_area_mm2``, ``pool_width_mm``, ``pool_end_rc``).

    Raises
    ------
    TypeError
        If ``image`` is not a :class:`~ductogram.core.Image`.

    Examples
    --------
    A blank image has no breast and so no ducts:

    >>> import numpy as np
    >>> from ductogram.core import Image
    >>> from ductogram.analysis.reading import read_view
    >>> r = read_view(Image(np.zeros((64, 64)), (0.1, 0.1)))
    >>> r.found, r.message.startswith("no breast found")
    (False, True)
    """
    if not isinstance(image, Image):
        raise TypeError(
            f"image must be a ductogram.core.Image, got {type(image).__name__}; "
            "wrap a pixel array as Image(pixels, pixel_spacing_mm=(row_mm, col_mm))"
        )
    from .landmarks import contrast_scale, duct_scale, find_landmarks
    from .segmentation import segment_ducts, sharpen_edges

    why = _unreadable(image)
    if why is not None:
        return Reading(**_base(image), message=why, confidence_basis="nothing read")
    marks = find_landmarks(image) if landmarks is None else landmarks
    if not marks.breast_mask.any():
        return Reading(
            **_base(image),
            message=marks.message or "no breast found",
            confidence_basis="nothing read",
        )
    if marks.cannula_tip_rc is not None:
        root, source = marks.cannula_tip_rc, "cannula tip"
    elif marks.nipple_rc is not None:
        root, source = marks.nipple_rc, "nipple"
    else:
        root, source = None, None
    pixel_mm = float(np.mean(image.pixel_spacing_mm))
    scale = duct_scale(image)
    mm = pixel_mm / image.magnification  # object mm per pixel
    root_rc = None if root is None else (float(root[0]), float(root[1]))
    seg = segment_ducts(scale, mm, bright=True, region=marks.breast_mask, root_rc=root)
    # The tree starts at the root, or beyond a gap at the far piece's pixel nearest it
    # (there the tree's own piece is the far one; the root's pool is a piece apart).
    start, gap = root, None
    if root is not None and float(seg.mask.sum()) * mm * mm < FAR_TREE_MIN_MM2:
        far = _far_piece(seg, scale, mm, root)
        if far is not None:
            mask, start, gap = far
            seg = replace(seg, mask=mask, message=None)
            # The root's share of the confidence falls from the cannula tip's (or the
            # nipple's) to a widest end's: this source is neither (reading_from_tree).
            source = f"{source}, {gap:.0f} mm from the tree"
    if seg.message is not None or not seg.mask.any():
        return Reading(
            **_base(image),
            root_rc=root_rc,
            root_source=source,
            mask=seg.mask,
            message=seg.message or NO_DUCT,
            confidence_basis="nothing read",
        )
    # Calibres from the signal across each duct over its background: exact where the
    # pixels are linear in the attenuation (for processing); on simulated views at 85 µm
    # the error is a third of the mask width's (0.13-0.29 against 0.24-0.90 mm on four
    # views). A display curve compresses the top of its range, where the wide ducts lie:
    # their peak falls more than their cross-section and they read wide, so a FOR
    # PRESENTATION view's calibres are read with that top expanded again, as its findings
    # are (landmarks.contrast_scale) [measured on the 0.2 mm FOR PRESENTATION
    # views of 12 normal exams of draw_cases(140, 61), 47 segments of 5 mm or more on one
    # true duct, read calibre over true diameter, median: ducts 0.8-1.2 mm 1.10 -> 0.98,
    # 1.2-1.6 mm 1.09 -> 0.97, 1.6-2.5 mm 1.07 -> 0.94; FOR PROCESSING views 1.00-1.03].
    tree = build_tree(
        seg.mask,
        start,
        pixel_mm,
        image.magnification,
        intensity=contrast_scale(scale, image.kind),
        probability=seg.probability,
    )
    if tree.total_length_mm < MIN_TREE_MM:
        short = (
            f"{tree.total_length_mm:.1f} mm of duct-like structure, less than the "
            f"{MIN_TREE_MM:g} mm of a filled main duct"
        )
        pool = _root_pool(seg.mask, root_rc, marks.nipple_rc, mm)
        if pool is not None:
            area, width, end = pool
            return Reading(
                **_base(image),
                root_rc=root_rc,
                root_source=source,
                mask=seg.mask,
                message=NO_DUCT_BEYOND_POOL,
                pool_area_mm2=round(area, 2),
                pool_width_mm=round(width, 2),
                pool_end_rc=end,
                confidence_basis=f"no tree: {short}, but a pool of contrast "
                f"{width:.1f} mm wide ({area:.1f} mm2) at the root",
            )
        return Reading(
            **_base(image),
            root_rc=root_rc,
            root_source=source,
            mask=np.zeros(image.shape, dtype=bool),
            message=NO_DUCT,
            confidence_basis=f"nothing read: {short}",
        )
    # The lumen: the mask's edge where the contrast is, as the classifier's mask spreads
    # a pixel or two past it (segmentation.EDGE_SHARE). The tree, the findings and the
    # quality flags are read from the mask as segmented, which their thresholds were
    # measured on: read from the lumen instead, 15 of 200 simulated exams (0.2 mm,
    # draw_cases(200, 1)) changed BI-RADS category and case accuracy fell from 0.738 to
    # 0.718 (fewer findings called), pending their retuning.
    return reading_from_tree(
        image,
        tree,
        seg.mask,
        probability=seg.probability,
        root_rc=root,
        root_source=source,
        lumen=sharpen_edges(seg.mask, scale, mm),
        root_gap_mm=gap,
    )
