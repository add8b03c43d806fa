"""The image every reader sees: pixels, their spacing, the view, and (when simulated) truth.

:class:`Image` is what the simulator makes, what DICOM and PNG readers return, and what the
analysis reads; it lives in ``core`` because the analysis must never import the simulator.

Image frame: ``pixels[row, col]``; for a mammographic view, rows run away from the chest
wall (towards the nipple) and columns across the breast. ``pixel_spacing_mm`` is the
detector pitch (row, col); a feature's true size is its size on the detector divided by
``magnification``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from .enums import Laterality, ViewPosition
from .errors import ParameterError


class PixelKind(StrEnum):
    """DICOM Presentation Intent: linear detector signal, or processed for display."""

    FOR_PROCESSING = "FOR PROCESSING"
    FOR_PRESENTATION = "FOR PRESENTATION"


@dataclass(frozen=True, eq=False)
class Image:
    """One 2-D x-ray image and what is known about it.

    Parameters
    ----------
    pixels : (rows, cols) float array
        Pixel values; for FOR PRESENTATION images, larger is brighter (more attenuation).
    pixel_spacing_mm : (float, float)
        Detector pitch along rows and columns (mm).
    view : ViewPosition or None
    laterality : Laterality or None
    magnification : float
        Geometric magnification of the breast's mid-plane (1 for a contact view).
    kind : PixelKind
    dose : dict
        Exposure and dose figures (kVp, mAs, anode/filter, air kerma, MGD, ...).
    truth : object or None
        Simulator truth (:class:`ductogram.imaging.scene.ViewTruth`), None for real images.
    metadata : dict
        Anything else (source file, patient/study identifiers, ...).
    """

    pixels: np.ndarray
    pixel_spacing_mm: tuple[float, float]
    view: ViewPosition | None = None
    laterality: Laterality | None = None
    magnification: float = 1.0
    kind: PixelKind = PixelKind.FOR_PRESENTATION
    dose: dict[str, Any] = field(default_factory=dict)
    truth: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pixels = self.pixels
        if not isinstance(pixels, np.ndarray):
            raise TypeError(f"pixels must be a numpy array, got {type(pixels).__name__}")
        if pixels.ndim != 2 or min(pixels.shape) < 2:
            raise ParameterError("pixels", pixels.shape, "a 2-D array of at least 2 x 2 pixels")
        spacing = tuple(float(s) for s in np.broadcast_to(self.pixel_spacing_mm, 2))
        if not all(0.01 <= s <= 2.0 for s in spacing):
            raise ParameterError("pixel_spacing_mm", spacing, "spacings in [0.01, 2] mm")
        if not 1.0 <= self.magnification <= 3.0:
            raise ParameterError("magnification", self.magnification, "a factor in [1, 3]")
        object.__setattr__(self, "pixel_spacing_mm", spacing)
        if self.view is not None:
            object.__setattr__(self, "view", ViewPosition(self.view))
        if self.laterality is not None:
            object.__setattr__(self, "laterality", Laterality(self.laterality))
        object.__setattr__(self, "kind", PixelKind(self.kind))

    @property
    def shape(self) -> tuple[int, int]:
        return self.pixels.shape  # type: ignore[return-value]

    @property
    def object_spacing_mm(self) -> tuple[float, float]:
        """Pixel spacing at the breast's mid-plane (detector spacing / magnification)."""
        return (
            self.pixel_spacing_mm[0] / self.magnification,
            self.pixel_spacing_mm[1] / self.magnification,
        )
