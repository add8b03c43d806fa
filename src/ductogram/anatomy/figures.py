"""Pictures of a phantom that a galactographer would recognise.

:func:`draw_projection` draws the duct systems of a phantom as one mammographic view sees
them: every segment is projected along the view's beam and drawn as a line whose width is
the lumen diameter, to scale (so a 2 mm main duct is ten times as wide as a 0.2 mm terminal
duct), over the breast as the view shows it. With ``compressed=True`` (the default) the
points go through the view's compression (:meth:`Phantom.compression`), so the picture has
the footprint, stretch and nipple position of the compressed breast.

Display follows the clinical hanging convention: the chest wall at the image edge, the
nipple pointing to the right for a left breast and to the left for a right breast
(back-to-back hanging); lateral up on CC, superior up on ML, MLO and LM.

Two styles:

- ``"galactogram"``: white, contrast-filled ducts on the grey breast, air black, as the
  x-ray shows them; thin ducts are fainter (less iodine along the ray), ducts beyond an
  obstructing lesion are left almost dark (no contrast passes the cut-off);
- ``"anatomy"``: ducts coloured by duct system on a light breast outline, for seeing how
  the systems share the breast.

Lesion masses (papillomas, carcinoma) are drawn as filled ellipses in a warm colour, cysts
as contrast-filled ellipses with a warm rim; each is the exact projection of its ellipsoid.

The figures are :class:`matplotlib.figure.Figure` objects made without :mod:`matplotlib.pyplot`
(no global figure state) and drawn with the Agg renderer.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Arc, Ellipse, Polygon
from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar
from scipy.ndimage import gaussian_filter
from scipy.spatial import ConvexHull

from ..core import Laterality, ParameterError, ViewPosition
from ..core.files import write_bytes_atomic
from .compression import MIN_THICKNESS_MM, compress
from .lesions import Ellipsoid, LesionKind

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .phantom import Phantom

__all__ = ["choose_system", "draw_projection", "phantom_figure", "save_figures", "system_figure"]

Style = Literal["galactogram", "anatomy"]

# Colours. Galactogram: air black, ducts white; anatomy: tab10 per system on white.
AIR = "#000000"
DUCT_CONTRAST = "#f7f7f2"
MASS_COLOUR = "#ff6a2b"  # warm orange-red
MASS_EDGE = "#ffd0a8"
CYST_RIM = "#ffb000"
ANATOMY_BACKGROUND = "#ffffff"
ANATOMY_BREAST = "#f3ede6"
ANATOMY_OUTLINE = "#8c7b6b"
FIGURE_BACKGROUND = "#1a1a1a"
SYSTEM_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#7f7f7f",
)

MIN_LINE_WIDTH_PT = 0.25  # thinnest line drawn, so that terminal ducts stay visible
TISSUE_PIXEL_MM = 0.5  # pixel size of the breast background image
TISSUE_SAMPLES = 250_000  # points sampled in the breast for its projected thickness
MARGIN_MM = 8.0  # air around the breast, except at the chest wall


# ----------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class _Projection:
    """Breast frame (x, y, z) mm -> image plane (anterior, across) mm of one view."""

    view: ViewPosition
    matrix: np.ndarray  # (2, 3)
    offset: np.ndarray  # (2,)
    stretch: float  # how much a duct's width grows in the image plane
    compressed: bool

    def __call__(self, points_mm: np.ndarray) -> np.ndarray:
        return np.asarray(points_mm, dtype=float) @ self.matrix.T + self.offset

    def ellipse(self, e: Ellipsoid) -> tuple[np.ndarray, float, float, float]:
        """Centre, width, height (mm) and angle (degrees) of the projected ellipsoid.

        The ellipsoid is ``{c + R diag(a) u : |u| <= 1}``; its image under the linear map
        ``B`` is the ellipse with shape matrix ``B R diag(a)² Rᵀ Bᵀ``.
        """
        m = self.matrix @ e.rotation * e.semi_axes_mm  # (2, 3)
        w, v = np.linalg.eigh(m @ m.T)
        w = np.sqrt(np.maximum(w, 0.0))
        angle = float(np.degrees(np.arctan2(v[1, 1], v[0, 1])))
        return self(e.centre_mm), 2.0 * float(w[1]), 2.0 * float(w[0]), angle


def _projection(phantom: Phantom, view: ViewPosition, compressed: bool) -> _Projection:
    if compressed:
        comp = phantom.compression(view)
        return _Projection(
            view, comp.jacobian[1:], comp.offset_mm[1:], float(comp.stretch), compressed=True
        )
    # Uncompressed: the same axes without the deformation (the axes do not depend on the
    # thickness, so the thinnest allowed one is used to build them).
    axes = compress(phantom.breast, view, MIN_THICKNESS_MM)
    matrix = np.stack([np.array([-1.0, 0.0, 0.0]), axes.across_axis])
    return _Projection(
        view, matrix, np.array([phantom.breast.depth_mm, 0.0]), 1.0, compressed=False
    )


def _as_view(view: ViewPosition | str) -> ViewPosition:
    try:
        return ViewPosition(view)
    except ValueError as exc:
        choices = ", ".join(repr(v.value) for v in ViewPosition)
        raise ParameterError("view", view, f"one of {choices}") from exc


def _as_systems(phantom: Phantom, systems: int | Iterable[int] | None) -> list[int]:
    if systems is None:
        return list(range(len(phantom.trees)))
    if isinstance(systems, int | np.integer):
        systems = [int(systems)]
    out = [int(s) for s in systems]
    for s in out:
        phantom.tree(s)  # raises ParameterError naming the bad index
    return out


# ----------------------------------------------------------------------------- artists


class _MillimetreLines(LineCollection):
    """Line segments whose widths are given in data units (mm), set when drawn.

    The width in points is recomputed from the axes' data-to-display scale at every draw,
    so the calibres stay to scale whatever the figure size, layout or output dpi.
    """

    def __init__(self, segments: np.ndarray, widths_mm: np.ndarray, **kwargs) -> None:
        super().__init__(segments, **kwargs)
        self._widths_mm = np.asarray(widths_mm, dtype=float)

    def draw(self, renderer) -> None:
        if self.axes is not None and len(self._widths_mm):
            trans = self.axes.transData
            (x0, y0), (x1, y1) = trans.transform([(0.0, 0.0), (1.0, 0.0)])
            px_per_mm = float(np.hypot(x1 - x0, y1 - y0))
            pt_per_mm = px_per_mm * 72.0 / self.figure.dpi
            self.set_linewidths(np.maximum(self._widths_mm * pt_per_mm, MIN_LINE_WIDTH_PT))
        super().draw(renderer)


def _duct_segments(phantom: Phantom, proj: _Projection, systems: list[int]):
    """(M, 2, 2) projected segments, (M,) widths in mm, (M,) system, (M,) filled flag."""
    segs, widths, owner, filled = [], [], [], []
    for s in systems:
        tree = phantom.trees[s]
        q = proj(tree.positions_mm)
        child = np.arange(1, tree.n_nodes)
        par = tree.parent[1:]
        segs.append(np.stack([q[par], q[child]], axis=1))
        # Mean lumen diameter of the tapered segment, widened by the in-plane stretch.
        widths.append((tree.radii_mm[par] + tree.radii_mm[child]) * proj.stretch)
        owner.append(np.full(len(child), s))
        ok = np.ones(tree.n_nodes, dtype=bool)
        for lesion in tree.lesions:
            if lesion.obstructs and lesion.stop_node is not None:
                ok[tree.subtree(int(lesion.stop_node))] = False
        filled.append(ok[child])
    if not segs:
        return np.zeros((0, 2, 2)), np.zeros(0), np.zeros(0, int), np.zeros(0, bool)
    return (
        np.concatenate(segs),
        np.concatenate(widths),
        np.concatenate(owner),
        np.concatenate(filled),
    )


class _Scene:
    """What the pictures of one phantom share: the breast sampled once (breast frame,
    mm), and the tissue image of each (view, compressed) pair, made when first asked for.
    """

    def __init__(self, phantom: Phantom) -> None:
        self.phantom = phantom
        self.seed = 0 if phantom.seed is None else int(phantom.seed)
        rng = np.random.default_rng([self.seed, 1])
        b = phantom.breast
        body = b.sample_volume(TISSUE_SAMPLES, rng)
        nipple_ml = np.pi * b.nipple_radius_mm**2 * b.nipple_length_mm / 1000.0
        m = max(round(TISSUE_SAMPLES * nipple_ml / b.volume_ml), 50)
        r = b.nipple_radius_mm * np.sqrt(rng.uniform(size=m))
        phi = rng.uniform(0.0, 2.0 * np.pi, size=m)
        x = -b.nipple_length_mm * rng.uniform(size=m)
        nipple = np.stack([x, r * np.cos(phi), r * np.sin(phi)], axis=1)
        self.tissue_mm = np.concatenate([body, nipple])  # uniform by volume
        self.gland_mm = b.sample_parenchyma(TISSUE_SAMPLES // 2, rng)
        # Fibroglandular tissue thins out towards the retromammary fat [display choice].
        back_mm = b.depth_mm - b.retromammary_mm
        self.gland_weight = np.clip((back_mm - self.gland_mm[:, 0]) / (0.3 * back_mm), 0.25, 1.0)
        self._images: dict[tuple[ViewPosition, bool], tuple] = {}

    def tissue_image(self, proj: _Projection):
        """Projected breast as an x-ray would grey it, and its outline.

        Returns (image (rows, cols) in [0, 1], extent (x0, x1, y0, y1) mm, hull (K, 2)
        mm). The grey level is the tissue path length along the beam (points per pixel)
        plus the fibroglandular share, with a faint cloudy texture in the parenchyma.
        """
        key = (proj.view, proj.compressed)
        if key not in self._images:
            self._images[key] = self._make_image(proj)
        return self._images[key]

    def _make_image(self, proj: _Projection):
        b = self.phantom.breast
        rng = np.random.default_rng([self.seed, 2, list(ViewPosition).index(proj.view)])
        pts = proj(self.tissue_mm)
        gland = proj(self.gland_mm)
        hull = pts[ConvexHull(pts).vertices]
        lo = pts.min(axis=0) - MARGIN_MM
        hi = pts.max(axis=0) + MARGIN_MM
        lo[0] = 0.0  # the chest wall is the image edge
        bins = [
            np.arange(lo[0], hi[0] + TISSUE_PIXEL_MM, TISSUE_PIXEL_MM),
            np.arange(lo[1], hi[1] + TISSUE_PIXEL_MM, TISSUE_PIXEL_MM),
        ]
        fat, _, _ = np.histogram2d(pts[:, 0], pts[:, 1], bins=bins)
        dense, _, _ = np.histogram2d(gland[:, 0], gland[:, 1], bins=bins, weights=self.gland_weight)
        fat = gaussian_filter(fat, 2.0)
        dense = gaussian_filter(dense, 3.0)
        fat /= max(np.percentile(fat[fat > 0], 90), 1e-9)
        if np.any(dense > 0):
            dense /= max(np.percentile(dense[dense > 0], 95), 1e-9)
        # Parenchymal texture: noise with a falling power spectrum (a sum of octaves), the
        # cloudy look of fibroglandular tissue; kept faint so the ducts stay the brightest.
        texture = sum(
            gaussian_filter(rng.normal(size=fat.shape), sigma) * sigma for sigma in (2.0, 4.0, 8.0)
        )
        texture /= max(float(np.std(texture)), 1e-9)
        glandular = np.clip(dense, 0.0, 1.2) * (0.10 + 0.30 * b.glandular_fraction)
        img = 0.32 * np.clip(fat, 0.0, 1.05) + glandular * (1.0 + 0.45 * texture)
        img = np.clip(img, 0.0, 1.0)
        extent = tuple(float(v) for v in (bins[0][0], bins[0][-1], bins[1][0], bins[1][-1]))
        return img.T, extent, hull


def _orient(ax: Axes, laterality: Laterality, view: ViewPosition) -> None:
    """Clinical display: nipple right for a left breast, left for a right breast; LM's
    across axis points inferior, so it is turned to put superior up."""
    if Laterality(laterality) is Laterality.R:
        ax.invert_xaxis()
    if view is ViewPosition.LM:
        ax.invert_yaxis()


def _draw_lesions(ax: Axes, phantom: Phantom, proj: _Projection, systems, style: Style) -> None:
    for s in systems:
        for lesion in phantom.trees[s].lesions:
            for e in lesion.masses:
                xy, w, h, angle = proj.ellipse(e)
                ax.add_patch(
                    Ellipse(
                        xy,
                        w,
                        h,
                        angle=angle,
                        facecolor=to_rgba(MASS_COLOUR, 0.85),
                        edgecolor=MASS_EDGE if style == "galactogram" else "#7a2300",
                        linewidth=0.6,
                        zorder=4,
                    )
                )
            for e in lesion.cavities:
                xy, w, h, angle = proj.ellipse(e)
                fill = DUCT_CONTRAST if style == "galactogram" else SYSTEM_COLOURS[s % 10]
                ax.add_patch(
                    Ellipse(
                        xy,
                        w,
                        h,
                        angle=angle,
                        facecolor=to_rgba(fill, 0.9),
                        edgecolor=CYST_RIM,
                        linewidth=1.0,
                        zorder=4,
                    )
                )
            if style == "galactogram":
                xy = proj(lesion.centre_mm)
                kind = LesionKind(lesion.kind).value.replace("_", " ")
                ax.annotate(
                    f"{kind} {lesion.size_mm:.1f} mm",
                    xy=xy,
                    xytext=(0, -22),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                    color=MASS_EDGE,
                    arrowprops={"arrowstyle": "-", "color": MASS_EDGE, "lw": 0.6},
                    zorder=5,
                )


def draw_projection(
    phantom: Phantom,
    view: ViewPosition | str,
    ax: Axes,
    *,
    systems: int | Iterable[int] | None = None,
    compressed: bool = True,
    style: Style = "galactogram",
    scale_bar: bool = True,
) -> Axes:
    """Draw duct systems of ``phantom`` as ``view`` projects them.

    Parameters
    ----------
    phantom : Phantom
        The phantom (breast frame, mm).
    view : {'CC', 'ML', 'MLO', 'LM'} or ViewPosition
        The view; its beam direction projects the ducts (MLO at 45°).
    ax : matplotlib.axes.Axes
        Where to draw. Its limits, aspect (equal: 1 mm is 1 mm both ways), orientation
        and background are set.
    systems : int or iterable of int, optional
        Duct systems (orifice indices) to draw; all of them by default.
    compressed : bool, optional
        Draw the compressed breast of the view (default) or the uncompressed breast
        projected along the same beam.
    style : {'galactogram', 'anatomy'}, optional
        White ducts on the grey breast (default), or ducts coloured by system on a light
        outline (see the module docstring).
    scale_bar : bool, optional
        Add a 10 mm scale bar (default True).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``. Data coordinates are the view's image plane in mm: x is ``anterior_mm``
        (0 at the chest wall), y is ``across_mm`` (see :mod:`.compression`).

    Raises
    ------
    ParameterError
        If ``view`` or ``style`` is unknown, a system index is out of range, or the
        breast is thinner than the compressed thickness along the view's axis.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from ductogram.anatomy import generate_phantom
    >>> ph = generate_phantom({"lobes": 3, "orifices": 2, "tdlus_per_lobe": 10}, seed=4)
    >>> ax = Figure().add_subplot()
    >>> _ = draw_projection(ph, "CC", ax, systems=0)
    >>> float(ax.get_xlim()[0])  # the chest wall is the image edge
    0.0
    """
    return _draw(
        _Scene(phantom),
        view,
        ax,
        systems=systems,
        compressed=compressed,
        style=style,
        scale_bar=scale_bar,
    )


def _draw(
    scene: _Scene,
    view: ViewPosition | str,
    ax: Axes,
    *,
    systems: int | Iterable[int] | None = None,
    compressed: bool = True,
    style: Style = "galactogram",
    scale_bar: bool = True,
) -> Axes:
    phantom = scene.phantom
    view = _as_view(view)
    if style not in ("galactogram", "anatomy"):
        raise ParameterError("style", style, "'galactogram' or 'anatomy'")
    chosen = _as_systems(phantom, systems)
    proj = _projection(phantom, view, compressed)
    img, extent, hull = scene.tissue_image(proj)

    if style == "galactogram":
        ax.set_facecolor(AIR)
        ax.imshow(
            img,
            extent=extent,
            origin="lower",
            cmap="gray",
            vmin=0.0,
            vmax=1.0,
            interpolation="bilinear",
            zorder=0,
        )
    else:
        ax.set_facecolor(ANATOMY_BACKGROUND)
        ax.add_patch(
            Polygon(hull, closed=True, facecolor=ANATOMY_BREAST, edgecolor=ANATOMY_OUTLINE, lw=1.0)
        )

    segs, widths, owner, filled = _duct_segments(phantom, proj, chosen)
    order = np.argsort(widths, kind="stable")  # thick ducts on top
    segs, widths, owner, filled = segs[order], widths[order], owner[order], filled[order]
    if style == "galactogram":
        # Brightness follows the iodine along the ray: thin ducts are greyer. Opaque
        # colours, so that the round caps of consecutive segments do not bead.
        level = np.clip(0.55 + 0.45 * widths / 1.0, 0.55, 0.97)
        level[~filled] = 0.28  # beyond an obstruction: no contrast
        colours = np.ones((len(segs), 4))
        colours[:, :3] = level[:, None] * np.array(to_rgba(DUCT_CONTRAST)[:3])
    else:
        colours = np.array([to_rgba(SYSTEM_COLOURS[s % 10]) for s in owner]).reshape(-1, 4)
        colours[~filled, :3] = 0.6 + 0.4 * colours[~filled, :3]  # paler beyond a block
    ax.add_collection(
        _MillimetreLines(segs, widths, colors=colours, capstyle="round", zorder=2),
        autolim=False,
    )

    # Nipple: its profile in front of the nipple base (length and radius from the breast).
    b = phantom.breast
    base = proj(np.zeros(3))
    length = float(np.linalg.norm(proj(np.array([-b.nipple_length_mm, 0.0, 0.0])) - base))
    half = b.nipple_radius_mm * proj.stretch
    if style == "galactogram":
        ax.add_patch(
            Arc(base, 2.0 * length, 2.0 * half, theta1=-90, theta2=90, color="#8a8a8a", lw=0.8)
        )
    else:
        ax.add_patch(
            Ellipse(
                base,
                2.0 * length,
                2.0 * half,
                facecolor=ANATOMY_BREAST,
                edgecolor=ANATOMY_OUTLINE,
                linewidth=1.0,
                zorder=1,
            )
        )
    _draw_lesions(ax, phantom, proj, chosen, style)

    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    _orient(ax, phantom.breast.laterality, view)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    fg = "white" if style == "galactogram" else "black"
    left = Laterality(phantom.breast.laterality) is Laterality.L
    # The view marker and the scale bar sit in the air in front of the nipple: on the
    # right of a left breast's image, on the left of a right breast's.
    ax.text(
        0.97 if left else 0.03,
        0.97,
        f"{'L' if left else 'R'}{view.value}",
        transform=ax.transAxes,
        ha="right" if left else "left",
        va="top",
        color=fg,
        fontsize=11,
        fontweight="bold",
        family="monospace",
        zorder=6,
    )
    if scale_bar:
        bar = AnchoredSizeBar(
            ax.transData,
            10.0,
            "10 mm",
            "lower right" if left else "lower left",
            pad=0.4,
            color=fg,
            frameon=False,
            size_vertical=0.6,
            fontproperties={"size": 7},
        )
        ax.add_artist(bar)
    return ax


# ----------------------------------------------------------------------------- figures


def choose_system(phantom: Phantom) -> int:
    """The duct system to show on its own: the first one with a lesion, else the one
    with the most branches (ties: the lowest index)."""
    for tree in phantom.trees:
        if tree.lesions:
            return int(tree.system)
    counts = [tree.n_branches for tree in phantom.trees]
    return int(np.argmax(counts))


def _title(phantom: Phantom) -> str:
    p = phantom.parameters
    side = "left" if Laterality(p.laterality) is Laterality.L else "right"
    seed = "none" if phantom.seed is None else phantom.seed
    return (
        f"Phantom (seed {seed}): {side} breast, {p.volume_ml:.0f} mL, "
        f"glandular {100 * p.glandular_fraction:.0f} %, compressed to "
        f"{p.compressed_thickness_mm:.0f} mm\n{p.lobes} lobes, {p.orifices} duct systems, "
        f"{phantom.n_branches} branches"
    )


def _system_title(phantom: Phantom, system: int, view: ViewPosition) -> str:
    tree = phantom.trees[system]
    kinds = ", ".join(LesionKind(les.kind).value.replace("_", " ") for les in tree.lesions)
    extra = f"; {kinds}" if kinds else ""
    return f"System {system} {view.value}: {tree.n_branches} branches{extra}"


def _dark_axes(ax: Axes) -> None:
    ax.title.set_color("#dddddd")


def _panel_size_in(axes_list, height_in: float) -> float:
    """Width (inches) of a panel ``height_in`` tall that fits the widest drawn view."""
    ratios = []
    for ax in axes_list:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        ratios.append(abs(x1 - x0) / abs(y1 - y0))
    return height_in * max(ratios)


def _system_legend(fig: Figure, phantom: Phantom) -> None:
    handles = [
        Polygon(
            np.zeros((3, 2)),
            facecolor=SYSTEM_COLOURS[t.system % 10],
            label=f"system {t.system}: {len(phantom.lobes.lobes_of_system(t.system))} "
            f"lobe{'s' if len(phantom.lobes.lobes_of_system(t.system)) != 1 else ''}, "
            f"{t.n_branches} branches",
        )
        for t in phantom.trees
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 3),
        fontsize=8,
        frameon=False,
        labelcolor="#dddddd",
    )


def phantom_figure(phantom: Phantom, *, system: int | None = None) -> Figure:
    """A 2 × 2 overview of a phantom.

    Top: CC and ML of every duct system, coloured by system ("anatomy" style). Bottom:
    CC and ML of one system as its galactogram would show it (white ducts on the grey
    breast), with its lesions.

    Parameters
    ----------
    phantom : Phantom
    system : int, optional
        The system of the bottom row; by default :func:`choose_system` (the first with a
        lesion, else the one with the most branches).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to :mod:`matplotlib.pyplot`; save it with ``fig.savefig``.

    Raises
    ------
    ParameterError
        If ``system`` is out of range.
    """
    return _phantom_figure(_Scene(phantom), system)


def _phantom_figure(scene: _Scene, system: int | None) -> Figure:
    phantom = scene.phantom
    chosen = choose_system(phantom) if system is None else _as_systems(phantom, system)[0]
    fig = Figure(layout="constrained", facecolor=FIGURE_BACKGROUND)
    axes = fig.subplots(2, 2)
    for col, view in enumerate((ViewPosition.CC, ViewPosition.ML)):
        top, bottom = axes[0, col], axes[1, col]
        _draw(scene, view, top, style="anatomy")
        top.set_title(f"All {len(phantom.trees)} duct systems, {view.value}", fontsize=10)
        _draw(scene, view, bottom, systems=chosen, style="galactogram")
        bottom.set_title(_system_title(phantom, chosen, view), fontsize=10)
        for ax in (top, bottom):
            _dark_axes(ax)
    panel_h = 4.8
    panel_w = _panel_size_in(axes.ravel(), panel_h)
    fig.set_size_inches(max(2.0 * panel_w + 0.5, 8.0), 2.0 * panel_h + 1.6)
    _system_legend(fig, phantom)
    fig.suptitle(_title(phantom), color="white", fontsize=11)
    return fig


def system_figure(phantom: Phantom, system: int) -> Figure:
    """CC and ML galactogram-style projections of one duct system, side by side.

    Parameters
    ----------
    phantom : Phantom
    system : int
        The duct system (orifice index).

    Raises
    ------
    ParameterError
        If ``system`` is out of range.
    """
    return _system_figure(_Scene(phantom), system)


def _system_figure(scene: _Scene, system: int) -> Figure:
    phantom = scene.phantom
    system = _as_systems(phantom, system)[0]
    fig = Figure(layout="constrained", facecolor=FIGURE_BACKGROUND)
    axes = fig.subplots(1, 2)
    for ax, view in zip(axes, (ViewPosition.CC, ViewPosition.ML), strict=True):
        _draw(scene, view, ax, systems=system, style="galactogram")
        ax.set_title(_system_title(phantom, system, view), fontsize=10)
        _dark_axes(ax)
    panel_h = 6.0
    panel_w = _panel_size_in(axes, panel_h)
    fig.set_size_inches(max(2.0 * panel_w + 0.4, 7.0), panel_h + 0.9)
    lesions = "\n".join(les.description for les in phantom.trees[system].lesions)
    fig.suptitle(lesions or f"System {system}: no lesion", color="white", fontsize=9)
    return fig


def _png_bytes(fig: Figure, dpi: float) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor=fig.get_facecolor())
    return buf.getvalue()


def save_figures(
    phantom: Phantom,
    out_dir: str | os.PathLike[str],
    *,
    system: int | None = None,
    dpi: float = 150.0,
) -> list[Path]:
    """Write the phantom's pictures as PNG files.

    Writes ``phantom.png`` (:func:`phantom_figure`) and ``system_XX_cc_ml.png`` (CC and
    ML galactograms of the chosen system, ``XX`` its index on two digits). Each file is
    written to a temporary name and renamed into place, so none is ever half-written.

    Parameters
    ----------
    phantom : Phantom
    out_dir : str or path-like
        Folder for the files; created if missing.
    system : int, optional
        The system shown on its own; by default :func:`choose_system`.
    dpi : float, optional
        Resolution of the PNG files (default 150).

    Returns
    -------
    list of pathlib.Path
        The two files written.

    Raises
    ------
    ParameterError
        If ``system`` is out of range.
    """
    chosen = choose_system(phantom) if system is None else _as_systems(phantom, system)[0]
    folder = Path(out_dir)
    scene = _Scene(phantom)
    overview = _png_bytes(_phantom_figure(scene, chosen), dpi)
    single = _png_bytes(_system_figure(scene, chosen), dpi)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_bytes_atomic(folder / "phantom.png", overview),
        write_bytes_atomic(folder / f"system_{chosen:02d}_cc_ml.png", single),
    ]
