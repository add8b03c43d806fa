"""Read a PNG or TIFF mammogram, whose pixel spacing the user gives, into an
:class:`~ductogram.core.Image`.

The file is read with Pillow: 8- or 16-bit greyscale (``L``, ``I;16``, ``I``), greyscale with
alpha (alpha dropped), RGB/RGBA (converted to grey with the ITU-R 601 luma weights
0.299/0.587/0.114), or 32-bit float (``F``). Values are returned as float32, unscaled
(an 8-bit file gives 0-255, a 16-bit one 0-65535). The pixels are kept as stored: a raster
says nothing about the orientation, so ``metadata["frame"]`` is ``"stored"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.enums import Laterality, ViewPosition
from ..core.errors import DuctogramError, ParameterError
from ..core.image import Image, PixelKind
from .dicom_read import ImageReadError

__all__ = ["read_raster"]

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float64)


def _spacing(value: float | tuple[float, float]) -> tuple[float, float]:
    try:
        arr = np.asarray(value, dtype=np.float64)
        pair = np.broadcast_to(arr, 2) if arr.ndim == 0 else arr
    except (TypeError, ValueError):
        pair = None
    if pair is None or pair.shape != (2,) or not np.all(np.isfinite(pair)):
        raise ParameterError("pixel_spacing_mm", value, "one or two spacings in [0.01, 2] mm")
    if not np.all((pair >= 0.01) & (pair <= 2.0)):
        raise ParameterError("pixel_spacing_mm", value, "spacings in [0.01, 2] mm")
    return float(pair[0]), float(pair[1])


def read_raster(
    path: str | os.PathLike[str],
    pixel_spacing_mm: float | tuple[float, float],
    *,
    laterality: Laterality | str | None = None,
    view: ViewPosition | str | None = None,
) -> Image:
    """Read a PNG or TIFF image (see the module doc).

    Parameters
    ----------
    path : str or path-like
    pixel_spacing_mm : float or (float, float)
        Pixel spacing (row, column), required: a raster does not carry one reliably.
    laterality : Laterality or str, optional
    view : ViewPosition or str, optional

    Returns
    -------
    Image
        FOR PRESENTATION, magnification 1, ``metadata`` with ``source``, ``format``,
        ``mode`` and ``frame`` = ``"stored"``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ParameterError
        For a spacing outside [0.01, 2] mm, or an unknown laterality or view.
    ImageReadError
        If the file is not a readable PNG/TIFF, or not a single 2-D image of a known mode.
    """
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    spacing = _spacing(pixel_spacing_mm)
    try:
        lat = Laterality(laterality) if laterality is not None else None
    except ValueError:
        raise ParameterError("laterality", laterality, "L or R") from None
    try:
        pos = ViewPosition(view) if view is not None else None
    except ValueError:
        raise ParameterError("view", view, "one of CC, ML, MLO, LM") from None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with PILImage.open(path) as im:
            fmt, mode = im.format, im.mode
            if fmt not in ("PNG", "TIFF"):
                raise ImageReadError(path, f"format {fmt}: expected PNG or TIFF")
            im.load()
            if mode in ("RGB", "RGBA", "P", "LA", "PA", "CMYK", "1"):
                arr = np.asarray(im.convert("RGB"), dtype=np.float64) @ _LUMA
            else:
                arr = np.asarray(im)
    except UnidentifiedImageError:
        raise ImageReadError(path, "not an image Pillow can read (expected PNG or TIFF)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(path, f"truncated or corrupt image file ({exc})") from None
    if arr.ndim == 3 and arr.shape[2] in (1, 2):  # grey (+ alpha) returned as planes
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise ImageReadError(path, f"image of shape {arr.shape} (mode {mode}): expected 2-D")
    try:
        return Image(
            pixels=np.ascontiguousarray(arr, dtype=np.float32),
            pixel_spacing_mm=spacing,
            view=pos,
            laterality=lat,
            kind=PixelKind.FOR_PRESENTATION,
            metadata={"source": str(path), "format": fmt, "mode": mode, "frame": "stored"},
        )
    except DuctogramError as exc:
        raise ImageReadError(path, str(exc)) from None
