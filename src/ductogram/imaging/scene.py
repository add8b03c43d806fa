"""The scene of one view: how much of each material every ray crosses, and the truth.

:func:`build_scene` turns a phantom (and the contrast fill of its cannulated system) into
per-pixel path lengths (mm) of each material along the ray from the focal spot to the pixel
centre, in the cone-beam geometry of :mod:`ductogram.imaging.geometry`:

- **breast tissue**: the compressed breast of the view (:mod:`ductogram.anatomy.compression`).
  Each ray is taken to cross it as the column through its point at mid-thickness does
  (exact on the contact region, where the breast fills the compressed height), lengthened
  by the ray's obliquity; the column's height is found exactly in the breast frame (the
  compression is affine, so the column is a straight line there). The nipple is included.
  Two skin layers (top and bottom) and the rest split into glandular and adipose tissue by
  a glandular-fraction map (uniform unless one is given).
- **the paddle**: ``PADDLE_PMMA_MM`` of PMMA over the whole field.
- **contrast**: the filled part of every duct segment as an exact tapered tube (where
  segments meet at a node, the union of their tubes: the lumen they share is crossed once),
  TDLUs as ellipsoids (acinar share), a filled cyst, extravasated contrast (a sphere of
  soaked tissue), less the intraluminal masses and air bubbles; contrast replaces tissue.
- **the cannula** (30 G steel, 0.31/0.16 mm) in the orifice and its contrast-filled tubing.

Tissue is incompressible (the compression has det J = 1), and so are the bodies in it: a
duct segment stretched to ``λ`` times its length narrows by ``1 / sqrt(λ)``, and so does
a mass inside its lumen (it keeps its share of the lumen: the contrast around it still
outlines it as a filling defect), while an ellipsoid in the tissue (cyst, TDLU,
extravasated contrast) becomes its affine image, so every volume — and the iodine in
it — is conserved [model]. Air bubbles stay round. Materials are named
as in :mod:`ductogram.imaging.materials`; ``"contrast"`` is iodinated contrast at the
scene's concentration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import ConvexHull

from ..anatomy import Phantom
from ..anatomy.compression import Compression
from ..core import ViewPosition
from ..exam.filling import ACINAR_SHARE, TISSUE_POROSITY
from ._backend import device_namespace, ndimage_module, to_host
from .geometry import Geometry
from .projection import project_ellipsoids, project_segments
from .spectra import PADDLE_PMMA_MM

COLUMN_GRID_MM = 1.0  # spacing of the exactly computed tissue columns (bilinear between)
CANNULA_OUTER_MM = 0.31  # 30 G blunt cannula (clinical.md §1.4): outer diameter
CANNULA_INNER_MM = 0.16  # and inner diameter
CANNULA_INSERTED_MM = 3.0  # depth in the orifice [estimate]
CANNULA_OUTSIDE_MM = 12.0
TUBING_OUTER_MM = 1.0  # extension tubing to the syringe [estimate]
TUBING_INNER_MM = 0.5
TUBING_LENGTH_MM = 40.0


@dataclass(frozen=True)
class ViewTruth:
    """What a perfect reader would see in one view (image frame: row, col in pixels).

    ``centreline_px`` (S, 2, 2): the two ends (row, col) of each filled duct segment's
    projection, ``radius_px`` (S,) its projected lumen radius, ``segment`` (S,) its node
    index, ``generation`` (S,); ``lesions``: per lesion, its kind, centre (row, col) and
    outline (V, 2); ``bubbles_px`` (B, 3): row, col, radius; ``nipple_px`` (2,).
    """

    contrast_mask: np.ndarray
    breast_mask: np.ndarray
    centreline_px: np.ndarray
    radius_px: np.ndarray
    segment: np.ndarray
    generation: np.ndarray
    lesions: tuple[dict, ...] = ()
    bubbles_px: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    nipple_px: np.ndarray = field(default_factory=lambda: np.zeros(2))


@dataclass(frozen=True, eq=False)
class Scene:
    """Per-pixel path lengths (mm) of each material for one view, and its truth."""

    view: ViewPosition
    geometry: Geometry
    compression: Compression
    paths: dict[str, np.ndarray]
    concentration_mgi_per_ml: float
    truth: ViewTruth

    @property
    def thickness_mm(self) -> float:
        return self.compression.thickness_mm


_GOLDEN = 0.5 * (np.sqrt(5.0) - 1.0)
# Steps of the column searches over a bracket of ~±150 mm: the minimum to 0.618^32 of it
# (a few µm: it only has to be inside the breast), each skin crossing to 2^-32 of it (< 0.1 µm).
GOLDEN_STEPS = 32
BISECTION_STEPS = 32


def _column_search(xp, cy: float, cz: float, n: float):
    """The superellipse norm ``f`` of a section along a line, one golden-section step
    towards its minimum, and one bisection step towards ``f = 1``. On a GPU each step is one
    fused kernel (the search runs a hundred steps on small arrays)."""

    def f(lam, py, pz, a_y, a_z):
        return xp.abs((py + lam * cy) / a_y) ** n + xp.abs((pz + lam * cz) / a_z) ** n

    def golden_step(lo, hi, py, pz, a_y, a_z):
        m1 = hi - _GOLDEN * (hi - lo)
        m2 = lo + _GOLDEN * (hi - lo)
        left = f(m1, py, pz, a_y, a_z) < f(m2, py, pz, a_y, a_z)
        return xp.where(left, lo, m1), xp.where(left, m2, hi)

    def bisect_step(a, b, py, pz, a_y, a_z):
        m = 0.5 * (a + b)
        ok = f(m, py, pz, a_y, a_z) <= 1.0
        return xp.where(ok, m, a), xp.where(ok, b, m)

    if xp is np:
        return f, golden_step, bisect_step
    return f, xp.fuse(golden_step), xp.fuse(bisect_step)


def _column_heights(
    phantom: Phantom, comp: Compression, anterior: np.ndarray, across: np.ndarray, xp=np
):
    """Compressed height of the breast (nipple included) along the column through each
    compressed point (anterior, across) at mid-thickness. The grid's points are mapped on
    the host; the searches along the columns run on ``xp``'s device."""
    br = phantom.breast
    t = comp.thickness_mm
    q = np.stack([np.full(anterior.shape, 0.5 * t), anterior, across], axis=-1)
    p = comp.to_breast(q)
    c = comp.compression_axis
    x = p[..., 0]
    s = br.profile(x)
    a_y = br.semi_height_mm * s
    a_z = br.semi_width_mm * s
    yc = br.section_centre_y(x)
    n = br.section_exponent
    p1, py, pz = xp.asarray(p[..., 1]), xp.asarray(p[..., 1] - yc), xp.asarray(p[..., 2])
    a_y, a_z, s, x = (xp.asarray(v) for v in (a_y, a_z, s, x))
    cy, cz = float(c[1]), float(c[2])

    f, golden_step, bisect_step = _column_search(xp, cy, cz, n)
    reach = xp.hypot(py, pz) + xp.maximum(a_y, a_z) + 1.0
    lo, hi = -reach, reach.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(GOLDEN_STEPS):  # the section's norm is convex along the line: its minimum
            lo, hi = golden_step(lo, hi, py, pz, a_y, a_z)
        best = 0.5 * (lo + hi)
        inside = (f(best, py, pz, a_y, a_z) <= 1.0) & (s > 0) & (x >= 0) & (x <= br.depth_mm)

        def edge(start, stop):
            a, b = start, stop  # f(a) <= 1 < f(b)
            for _ in range(BISECTION_STEPS):
                a, b = bisect_step(a, b, py, pz, a_y, a_z)
            return 0.5 * (a + b)

        chord = xp.where(inside, edge(best, best + reach) - edge(best, best - reach), 0.0)
    # The nipple: a cylinder around the x axis in front of x = 0.
    in_front = (x < 0) & (x >= -br.nipple_length_mm)
    d2 = p1**2 + pz**2 - (p1 * cy + pz * cz) ** 2
    nipple = xp.where(
        in_front & (d2 < br.nipple_radius_mm**2),
        2 * xp.sqrt(xp.maximum(br.nipple_radius_mm**2 - d2, 0)),
        0.0,
    )
    return comp.compression_ratio * xp.maximum(chord, nipple)


def _carried(comp: Compression, geometry: Geometry, points_mm: np.ndarray) -> np.ndarray:
    return geometry.from_compressed(comp.to_compressed(points_mm))


_TO_DETECTOR_AXES = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)


def _carried_ellipsoids(
    comp: Compression, geometry: Geometry, centres, semi_axes, rotations
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ellipsoids (breast frame) deformed by the compression: the affine image of an
    ellipsoid is an ellipsoid of the same volume (det J = 1). Returns centres, semi-axes
    and rotations in the detector frame."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 3)
    semi = np.asarray(semi_axes, dtype=float).reshape(-1, 3)
    rots = np.asarray(rotations, dtype=float).reshape(-1, 3, 3)
    shape = comp.jacobian @ rots * semi[:, None, :]  # J R diag(q)
    u, s, _ = np.linalg.svd(shape)
    return _carried(comp, geometry, centres), s, _TO_DETECTOR_AXES @ u


def _carried_in_lumen(
    comp: Compression, geometry: Geometry, centres, semi_axes, rotations
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ellipsoids inside a duct's lumen (intraluminal masses; their first axis along the
    duct) carried as the lumen is (:func:`contrast_tubes`): stretched ``λ = |J e|`` along
    the duct and narrowed by ``1 / sqrt(λ)`` across it, so a mass keeps its share of the
    round lumen it fills (the affine image would flatten it across the beam and widen it
    past the duct's wall). Volume is conserved. Returns centres, semi-axes and rotations
    in the detector frame."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 3)
    semi = np.asarray(semi_axes, dtype=float).reshape(-1, 3)
    rots = np.asarray(rotations, dtype=float).reshape(-1, 3, 3)
    if len(centres) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3))
    along = np.einsum("ij,kj->ki", comp.jacobian, rots[:, :, 0])  # J e, breast frame
    stretch = np.linalg.norm(along, axis=1)
    e = along / stretch[:, None]
    # The cross-section's first axis: the body's second axis carried, made normal to e.
    v = np.einsum("ij,kj->ki", comp.jacobian, rots[:, :, 1])
    v -= np.sum(v * e, axis=1, keepdims=True) * e
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    w = np.cross(e, v)
    frame = np.stack([e, v, w], axis=2)
    thin = 1.0 / np.sqrt(stretch)
    semi_c = semi * np.column_stack([stretch, thin, thin])
    return _carried(comp, geometry, centres), semi_c, _TO_DETECTOR_AXES @ frame


def build_scene(
    phantom: Phantom,
    view: ViewPosition | str,
    *,
    fill=None,
    pixel_mm: float = 0.085,
    magnification: float = 1.0,
    supersample: int = 2,
    glandular_map: np.ndarray | None = None,
    cannula: bool = True,
    device: str = "cpu",
) -> Scene:
    """Path lengths and truth of one view of a phantom (see the module docstring).

    Parameters
    ----------
    phantom : Phantom
    view : ViewPosition or str
        CC, ML, MLO or LM.
    fill : ContrastFill, optional
        Contrast in the cannulated system (:func:`ductogram.exam.filling.fill_ducts`);
        without it the ducts hold no contrast (a plain mammogram).
    pixel_mm : float
        Detector pitch (0.07–0.1 mm in practice).
    magnification : float
        1 for a contact view, 1.5–1.8 for a magnification view.
    supersample : int
        Rays per pixel along each axis for the ducts and bodies (anti-aliasing).
    glandular_map : (rows, cols) array, optional
        Glandular volume fraction of the tissue along each ray; default the breast's
        glandular fraction everywhere.
    cannula : bool
        Whether the cannula and its tubing are in the picture (with a fill).
    device : {"cpu", "cuda"}
        Where the per-pixel maps are computed and kept: NumPy arrays on the CPU, CuPy arrays
        on the GPU ("cuda"). The per-body geometry and the truth stay on the host.

    Returns
    -------
    Scene
    """
    xp = device_namespace(device)
    view = ViewPosition(view)
    comp = phantom.compression(view)
    t = comp.thickness_mm
    br = phantom.breast
    # Extent of the compressed breast, from a sample of its points (and the nipple tip).
    pts = br.sample_volume(4000, np.random.default_rng(0))
    tip = np.array([[-br.nipple_length_mm, 0.0, 0.0]])
    q = comp.to_compressed(np.vstack([pts, tip]))
    anterior_max = float(q[:, 1].max()) + 2.0
    across_max = float(np.abs(q[:, 2]).max()) + 5.0
    geometry = Geometry.for_breast(
        anterior_max
        + (CANNULA_OUTSIDE_MM + TUBING_LENGTH_MM if fill is not None and cannula else 0.0),
        across_max,
        t,
        pixel_mm=pixel_mm,
        magnification=magnification,
    )
    rows, cols = geometry.rows, geometry.cols

    # Tissue columns on a coarse grid, then along each pixel's ray.
    ga = np.arange(0.0, anterior_max + COLUMN_GRID_MM, COLUMN_GRID_MM)
    gc = np.arange(-across_max, across_max + COLUMN_GRID_MM, COLUMN_GRID_MM)
    A, C = np.meshgrid(ga, gc, indexing="ij")
    heights = _column_heights(phantom, comp, A, C, xp)
    # Pixel centres are separable: x by row, y by column. The ray through a pixel meets the
    # mid-plane at (x, y) t_mid; the column grid is regular, so the lookup is an affine map.
    x = (xp.arange(rows) + 0.5) * geometry.pixel_mm
    y = (xp.arange(cols) + 0.5 - 0.5 * cols) * geometry.pixel_mm
    z_mid = geometry.lift_mm + 0.5 * t
    t_mid = 1.0 - z_mid / geometry.source_to_image_mm
    sid = geometry.source_to_image_mm
    obliquity = xp.sqrt(x[:, None] ** 2 + y[None, :] ** 2 + sid**2) / sid
    scale = geometry.pixel_mm * t_mid / COLUMN_GRID_MM
    offset = (
        0.5 * geometry.pixel_mm * t_mid / COLUMN_GRID_MM,
        ((0.5 - 0.5 * cols) * geometry.pixel_mm * t_mid + across_max) / COLUMN_GRID_MM,
    )
    columns = ndimage_module(xp).affine_transform(
        heights,
        xp.asarray([scale, scale]),
        offset=offset,
        output_shape=(rows, cols),
        order=1,
        cval=0.0,
    )
    tissue = columns * obliquity
    breast_mask = tissue > 0.05
    skin = xp.minimum(tissue, 2.0 * br.skin_mm * obliquity)
    interior = tissue - skin
    g = br.glandular_fraction if glandular_map is None else xp.asarray(glandular_map)
    paths = {
        "skin": skin,
        "glandular": interior * g,
        "adipose": interior * (1.0 - g),
        "pmma": PADDLE_PMMA_MM * obliquity,
    }

    contrast = xp.zeros((rows, cols))
    glandular_extra = xp.zeros((rows, cols))
    truth_kwargs: dict = {}
    concentration = 0.0
    tree = None
    if fill is not None:
        tree = phantom.trees[fill.system]
        concentration = fill.concentration_mgi_per_ml
        contrast, glandular_extra, truth_kwargs = _contrast(
            comp, geometry, tree, fill, supersample, xp
        )
        if cannula:
            steel, in_line = _cannula(comp, geometry, tree, supersample, xp)
            paths["cannula"] = steel[0]
            paths["polyethylene"] = steel[1]
            contrast = contrast + in_line
    # Contrast (and masses) replace tissue along the ray.
    body = xp.minimum(contrast, paths["glandular"] + paths["adipose"])
    share = xp.where(interior > 0, paths["glandular"] / xp.maximum(interior, 1e-12), 0.0)
    paths["glandular"] = xp.maximum(paths["glandular"] - body * share, 0.0) + glandular_extra
    paths["adipose"] = xp.maximum(paths["adipose"] - body * (1.0 - share), 0.0)
    paths["contrast"] = contrast
    # Path maps are smooth, positive and at most ~15 cm: float32 holds them to < 0.01 µm,
    # and image formation runs faster on them.
    paths = {name: xp.asarray(value, dtype=np.float32) for name, value in paths.items()}

    nipple = _carried(comp, geometry, tip)[0]
    nipple_px = geometry.to_pixel(geometry.to_detector(nipple))
    truth = ViewTruth(
        contrast_mask=to_host(contrast > 1e-3),
        breast_mask=to_host(breast_mask),
        nipple_px=nipple_px,
        **(truth_kwargs or _empty_truth()),
    )
    return Scene(
        view=view,
        geometry=geometry,
        compression=comp,
        paths=paths,
        concentration_mgi_per_ml=concentration,
        truth=truth,
    )


def _empty_truth() -> dict:
    return {
        "centreline_px": np.zeros((0, 2, 2)),
        "radius_px": np.zeros(0),
        "segment": np.zeros(0, dtype=np.int64),
        "generation": np.zeros(0, dtype=np.int64),
    }


def contrast_tubes(comp: Compression, geometry: Geometry, tree, fill):
    """The contrast-filled part of every duct segment as a tapered tube in the detector
    frame: (segment node indices, a, b, r0, r1). A segment stretched by the compression
    narrows (incompressible duct); a partly filled segment is cut at its fill fraction."""
    par = tree.parent
    seg = np.flatnonzero(fill.fill_fraction > 0)
    seg = seg[seg > 0]
    f = fill.fill_fraction[seg]
    r = fill.radii_mm
    a = tree.positions_mm[par[seg]]
    b = a + f[:, None] * (tree.positions_mm[seg] - a)
    r0 = r[par[seg]]
    r1 = r0 + f * (r[seg] - r0)
    a_d = _carried(comp, geometry, a)
    b_d = _carried(comp, geometry, b)
    stretch = np.linalg.norm(b_d - a_d, axis=1) / np.maximum(np.linalg.norm(b - a, axis=1), 1e-12)
    thin = 1.0 / np.sqrt(np.where(stretch > 0, stretch, 1.0))
    return seg, a_d, b_d, r0 * thin, r1 * thin


def tube_nodes(tree, fill, seg: np.ndarray) -> np.ndarray:
    """(S, 2) tree-node labels of the two ends of each filled tube of
    :func:`contrast_tubes` (its segments ``seg``), for ``project_segments(nodes=)``.
    Segments meet at their tree nodes: a segment starts at its parent node and, when it
    is filled to the end, ends at its own, where its children start (-1: a column's
    front, which meets nothing). The lumen they share there is crossed once."""
    seg = np.asarray(seg, dtype=np.int64)
    return np.column_stack([tree.parent[seg], np.where(fill.fill_fraction[seg] >= 1.0, seg, -1)])


def _contrast(comp, geometry, tree, fill, supersample, xp=np):
    seg, a_d, b_d, r0, r1 = contrast_tubes(comp, geometry, tree, fill)
    nodes = tube_nodes(tree, fill, seg)
    contrast = project_segments(
        geometry, a_d, b_d, r0, r1, nodes=nodes, supersample=supersample, xp=xp
    )

    def ellipsoids(items, carry=_carried_ellipsoids):
        """(centres, semi-axes, rotations) in the detector frame, carried by ``carry``."""
        if not items:
            return np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3))
        return carry(
            comp,
            geometry,
            [e.centre_mm for e in items],
            [e.semi_axes_mm for e in items],
            [e.rotation for e in items],
        )

    # TDLUs (lobular blush), cysts, extravasation: add contrast.
    k = np.flatnonzero(fill.tdlu_fill > 0)
    if len(k):
        axis = tree.tdlu_axis[k]
        helper = np.where(np.abs(axis[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[0.0, 1.0, 0.0]])
        side = np.cross(axis, helper)
        side /= np.linalg.norm(side, axis=1, keepdims=True)
        rot = np.stack([axis, side, np.cross(axis, side)], axis=2)
        semi = np.column_stack(
            [
                tree.tdlu_semi_axes_mm[k, 0],
                tree.tdlu_semi_axes_mm[k, 1],
                tree.tdlu_semi_axes_mm[k, 1],
            ]
        )
        centres, semi, rots = _carried_ellipsoids(comp, geometry, tree.tdlu_centre_mm[k], semi, rot)
        contrast += project_ellipsoids(
            geometry,
            centres,
            semi,
            rots,
            weights=ACINAR_SHARE * fill.tdlu_fill[k],
            supersample=supersample,
            xp=xp,
        )
    cysts = [c for c, share in fill.cyst_fill if share > 0]
    if cysts:
        c, s, rt = ellipsoids(cysts)
        contrast += project_ellipsoids(
            geometry,
            c,
            s,
            rt,
            weights=np.array([share for _, share in fill.cyst_fill if share > 0]),
            supersample=supersample,
            xp=xp,
        )
    if fill.extravasations:
        radii = np.array([e.radius_mm for e in fill.extravasations])
        centres, semi, rots = _carried_ellipsoids(
            comp,
            geometry,
            [e.centre_mm for e in fill.extravasations],
            np.repeat(radii[:, None], 3, axis=1),
            np.repeat(np.eye(3)[None], len(radii), 0),
        )
        contrast += project_ellipsoids(
            geometry,
            centres,
            semi,
            rots,
            weights=np.full(len(radii), TISSUE_POROSITY),
            supersample=supersample,
            xp=xp,
        )
    # Masses and bubbles displace contrast; a mass is tissue (glandular), a bubble air.
    c, s, rt = ellipsoids(list(fill.defects), _carried_in_lumen)
    masses = project_ellipsoids(geometry, c, s, rt, supersample=supersample, xp=xp)
    bubbles = xp.zeros_like(contrast)
    bubble_truth = np.zeros((0, 3))
    if fill.bubbles:
        centres = _carried(comp, geometry, np.array([b.centre_mm for b in fill.bubbles]))
        radii = np.array([b.radius_mm for b in fill.bubbles])
        bubbles = project_ellipsoids(
            geometry,
            centres,
            np.repeat(radii[:, None], 3, axis=1),
            np.repeat(np.eye(3)[None], len(radii), 0),
            supersample=supersample,
            xp=xp,
        )
        px = geometry.to_pixel(geometry.to_detector(centres))
        m = geometry.magnification_at(centres[:, 2])
        bubble_truth = np.column_stack([px, radii * m / geometry.pixel_mm])
    removed = xp.minimum(masses + bubbles, contrast)
    mass_share = xp.where(masses + bubbles > 0, masses / xp.maximum(masses + bubbles, 1e-12), 0.0)
    contrast = contrast - removed
    glandular_extra = removed * mass_share

    # Truth: centrelines, lesions.
    ends = np.stack(
        [
            geometry.to_pixel(geometry.to_detector(a_d)),
            geometry.to_pixel(geometry.to_detector(b_d)),
        ],
        axis=1,
    )
    m_mid = geometry.magnification_at(0.5 * (a_d[:, 2] + b_d[:, 2]))
    lesions = []
    for lesion in tree.lesions:
        # Masses sit in the lumen and are carried as it is; cavities as the tissue.
        bodies = [(m, _carried_in_lumen) for m in lesion.masses]
        bodies += [(cavity, _carried_ellipsoids) for cavity in lesion.cavities]
        centre = _carried(comp, geometry, lesion.centre_mm[None])[0]
        entry = {
            "kind": lesion.kind.value,
            "centre_px": geometry.to_pixel(geometry.to_detector(centre)),
            "obstructs": lesion.obstructs,
            "size_mm": lesion.size_mm,
        }
        if bodies:
            outline = []
            u = np.random.default_rng(0).normal(size=(256, 3))
            u /= np.linalg.norm(u, axis=1, keepdims=True)
            for body, carry in bodies:
                c_d, q_d, r_d = carry(
                    comp, geometry, body.centre_mm, body.semi_axes_mm, body.rotation
                )
                surf = c_d[0] + (u * q_d[0]) @ r_d[0].T
                outline.append(geometry.to_pixel(geometry.to_detector(surf)))
            pts2 = np.vstack(outline)
            hull = ConvexHull(pts2)
            entry["outline_px"] = pts2[hull.vertices]
        lesions.append(entry)
    truth = {
        "centreline_px": ends,
        "radius_px": 0.5 * (r0 + r1) * m_mid / geometry.pixel_mm,
        "segment": seg,
        "generation": tree.generation[seg],
        "lesions": tuple(lesions),
        "bubbles_px": bubble_truth,
    }
    return contrast, glandular_extra, truth


def _cannula(comp, geometry, tree, supersample, xp=np):
    """The cannula in the orifice and its tubing (outside the breast, along -x)."""
    orifice = tree.positions_mm[0]
    inward = np.array([1.0, 0.0, 0.0])
    tip = orifice + CANNULA_INSERTED_MM * inward
    hub = orifice - CANNULA_OUTSIDE_MM * inward
    end = hub - TUBING_LENGTH_MM * np.array([1.0, 0.0, 0.25]) / np.linalg.norm([1.0, 0.0, 0.25])
    a = _carried(comp, geometry, np.array([tip, hub]))
    b = _carried(comp, geometry, np.array([hub, end]))

    def tubes(starts, ends, diameters, weights):
        radii = np.asarray(diameters, dtype=float) / 2
        return project_segments(
            geometry,
            starts,
            ends,
            radii,
            radii,
            weights=np.asarray(weights, dtype=float),
            supersample=supersample,
            xp=xp,
        )

    # Walls: outer minus inner cylinder; the lumen of both holds contrast.
    steel = tubes(a[[0, 0]], a[[1, 1]], [CANNULA_OUTER_MM, CANNULA_INNER_MM], [1, -1])
    tubing = tubes(b[[0, 0]], b[[1, 1]], [TUBING_OUTER_MM, TUBING_INNER_MM], [1, -1])
    in_line = tubes(
        np.vstack([a[:1], b[:1]]),
        np.vstack([a[1:], b[1:]]),
        [CANNULA_INNER_MM, TUBING_INNER_MM],
        [1, 1],
    )
    return (xp.maximum(steel, 0.0), xp.maximum(tubing, 0.0)), in_line
