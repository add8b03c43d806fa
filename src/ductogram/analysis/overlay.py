"""A picture of a reading: the duct tree drawn over its image.

Segments are coloured by generation and drawn as wide as their calibre; the root, the
branch points and the free ends are marked. A reading with no tree shows its message.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ..core import Image, PixelKind
from ..core.files import write_bytes_atomic
from .reading import Reading

__all__ = ["draw_overlay", "overlay_figure"]

DISPLAY_PERCENTILES = (1.0, 99.5)  # grey levels mapped to black and white
MAX_INCHES = 10.0  # long side of the picture
DPI = 110
GENERATION_COLOURS = "viridis"


def _display(image: Image) -> np.ndarray:
    """Grey levels in [0, 1] with the contrast-filled ducts bright."""
    px = np.asarray(image.pixels, dtype=np.float64)
    if image.kind == PixelKind.FOR_PROCESSING:
        px = -np.log(np.maximum(px, np.finfo(float).tiny))
    finite = px[np.isfinite(px)]
    if finite.size == 0:
        return np.zeros(px.shape)
    step = max(1, finite.size // 250_000)
    lo, hi = np.percentile(finite[::step], DISPLAY_PERCENTILES)
    return np.clip((px - lo) / max(hi - lo, 1e-12), 0.0, 1.0)


def overlay_figure(image: Image, reading: Reading):
    """The overlay as a :class:`matplotlib.figure.Figure` (not shown, not saved). A reading
    whose contrast stopped in a pool at the root (no tree) shows the pool's outline and an
    x where it stops; one with nothing read, its message.

    Parameters
    ----------
    image : Image
        The view that was read.
    reading : Reading
        Its reading (:func:`~ductogram.analysis.reading.read_view`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import BoundaryNorm
    from matplotlib.figure import Figure

    rows, cols = image.shape
    scale = MAX_INCHES / max(rows, cols)
    fig = Figure(figsize=(max(cols * scale, 3.0), max(rows * scale, 3.0)), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(_display(image), cmap="gray", interpolation="antialiased")
    ax.set_axis_off()
    tree = reading.tree
    points_per_px = 72.0 * MAX_INCHES / max(rows, cols)
    if tree is not None and tree.n_segments:
        gmax = int(tree.generation.max())
        cmap = colormaps[GENERATION_COLOURS].resampled(max(gmax, 2))
        norm = BoundaryNorm(np.arange(0.5, max(gmax, 2) + 1.5), cmap.N)
        lines = [p[:, ::-1] + 0.0 for p in tree.paths_rc]  # (x, y) = (col, row)
        width_px = tree.calibre_mm * tree.magnification / tree.pixel_mm
        lc = LineCollection(
            lines,
            cmap=cmap,
            norm=norm,
            linewidths=np.maximum(width_px * points_per_px, 0.6),
            alpha=0.85,
            capstyle="round",
        )
        lc.set_array(tree.generation.astype(float))
        ax.add_collection(lc)
        bp = tree.node_rc[tree.branch_points]
        ep = tree.node_rc[tree.end_points]
        rp = tree.node_rc[tree.root]
        ax.plot(bp[:, 1], bp[:, 0], "o", ms=3, mfc="none", mec="#ee3377", mew=0.8)
        ax.plot(ep[:, 1], ep[:, 0], "s", ms=2.5, mfc="none", mec="#33bbee", mew=0.8)
        ax.plot(rp[:, 1], rp[:, 0], "*", ms=9, color="#ee7733")
        cbar = fig.colorbar(lc, ax=ax, fraction=0.03, pad=0.01, location="right")
        cbar.set_label("generation")
        text = (
            f"{len(reading.segments)} segments, {reading.n_branch_points} branch points, "
            f"generation {reading.max_generation}, confidence {reading.confidence:.2f}"
        )
    elif reading.pooled:
        # Contrast that stopped in a pool at the root: its outline and where it stops.
        ax.contour(reading.mask_array(), levels=[0.5], colors="#ee7733", linewidths=0.8)
        end = reading.pool_end_rc
        ax.plot(end[1], end[0], "x", ms=10, mew=1.5, color="#ee3377")
        text = f"{reading.message} (width {reading.pool_width_mm:.1f} mm; x: where it stops)"
    else:
        text = reading.message or "no duct tree"
    ax.text(
        0.01,
        0.99,
        text,
        transform=ax.transAxes,
        va="top",
        ha="left",
        color="white",
        fontsize=9,
        bbox={"facecolor": "black", "alpha": 0.6, "pad": 3, "edgecolor": "none"},
    )
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    return fig


def draw_overlay(image: Image, reading: Reading, path: str | os.PathLike[str]) -> Path:
    """Draw the reading over its image and write it as a PNG, atomically.

    Parameters
    ----------
    image : Image
        The view that was read.
    reading : Reading
        Its reading.
    path : str or path-like
        The PNG to write (its folder must exist).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError
        If ``image`` is not an :class:`Image` or ``reading`` not a :class:`Reading`.
    ParameterError
        If the reading is of an image of another shape.
    """
    from ..core import ParameterError

    if not isinstance(image, Image):
        raise TypeError(f"image must be a ductogram.core.Image, got {type(image).__name__}")
    if not isinstance(reading, Reading):
        raise TypeError(f"reading must be a Reading, got {type(reading).__name__}")
    if tuple(reading.image_shape) != tuple(image.shape):
        raise ParameterError(
            "reading.image_shape", reading.image_shape, f"the image's shape {image.shape}"
        )
    fig = overlay_figure(image, reading)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return write_bytes_atomic(path, buf.getvalue())
