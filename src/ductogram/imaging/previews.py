"""Writing simulated views: PNG previews, the images as arrays, and their truth.

Per view ``<lat><view>`` (e.g. ``LCC``):

- ``LCC.png``: the for-presentation image, shown as a mammogram is hung (chest wall at the
  left edge for a left breast, at the right for a right breast);
- ``LCC.npz``: ``for_processing`` (integer detector units) and ``for_presentation``
  (12-bit), both uint16 in the image frame, and the truth arrays ``contrast_mask``,
  ``breast_mask``, ``centreline_px``, ``radius_px``, ``segment``, ``generation``,
  ``bubbles_px``, ``nipple_px``;

and for all views ``views.json`` (technique, dose, magnification, lesion truth per view,
the exam's total MGD). DICOM output is :mod:`ductogram.io`'s job.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.files import write_bytes_atomic, write_text_atomic
from .presentation import to_uint16
from .views import SimulatedView


def display_orientation(pixels: np.ndarray, laterality: str) -> np.ndarray:
    """Image frame (rows from the chest wall) → hanging orientation: columns from the
    chest wall, which is at the left edge for a left breast and at the right for a right;
    the across axis upwards (lateral up in CC, superior up in ML and MLO)."""
    shown = np.asarray(pixels).T[::-1]
    return shown if laterality == "L" else shown[:, ::-1]


def _png(pixels: np.ndarray) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import image as mimage

    buf = io.BytesIO()
    mimage.imsave(buf, np.clip(pixels, 0.0, 1.0), cmap="gray", vmin=0.0, vmax=1.0, format="png")
    return buf.getvalue()


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _savez_fast(buf, **arrays) -> None:
    """``numpy.savez_compressed`` at zlib level 1: a third of the time of the default level
    for images and masks, a few per cent larger; ``numpy.load`` reads it as any ``.npz``."""
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def write_views(views: Sequence[SimulatedView], folder: str | Path) -> list[Path]:
    """Write each view's preview, arrays and truth, and ``views.json``, into ``folder``."""
    folder = Path(folder)
    written: list[Path] = []
    summary = []
    for sv in views:
        image = sv.presentation
        lat = image.laterality.value if image.laterality else "L"
        name = f"{lat}{image.view.value}"
        written.append(
            write_bytes_atomic(folder / f"{name}.png", _png(display_orientation(image.pixels, lat)))
        )
        t = sv.scene.truth
        buf = io.BytesIO()
        _savez_fast(
            buf,
            # Integer detector units, as a detector reads out; 12-bit display values.
            for_processing=np.clip(np.rint(sv.processing.pixels), 0, 65535).astype(np.uint16),
            for_presentation=to_uint16(image.pixels, 12),
            contrast_mask=t.contrast_mask,
            breast_mask=t.breast_mask,
            centreline_px=t.centreline_px,
            radius_px=t.radius_px,
            segment=t.segment,
            generation=t.generation,
            bubbles_px=t.bubbles_px,
            nipple_px=t.nipple_px,
        )
        written.append(write_bytes_atomic(folder / f"{name}.npz", buf.getvalue()))
        summary.append(
            {
                "name": name,
                "view": image.view.value,
                "laterality": lat,
                "rows": image.shape[0],
                "cols": image.shape[1],
                "pixel_spacing_mm": list(image.pixel_spacing_mm),
                "magnification": image.magnification,
                "exposure": _jsonable(sv.exposure),
                "dose": _jsonable(sv.dose),
                "lesions": _jsonable([dict(les) for les in t.lesions]),
                "bubbles": len(t.bubbles_px),
            }
        )
    total = float(sum(v["dose"]["mgd_mgy"] for v in summary))
    text = json.dumps({"views": summary, "exam_mgd_mgy": total}, indent=2)
    written.append(write_text_atomic(folder / "views.json", text + "\n"))
    return written
