"""Mammography imaging geometry: where the focal spot, the breast and the detector are.

Detector frame (mm), the frame of every imaging computation: origin on the detector surface
at the middle of its chest-wall edge; ``x`` along the detector away from the chest wall
(towards the nipple: image rows), ``y`` across the detector (image columns), ``z`` up,
towards the focal spot. The focal spot sits above the chest-wall edge,
``(0, 0, source_to_image_mm)``: the half-cone geometry of mammography, whose central ray
runs along the chest wall.

The compressed frame of a view (:mod:`ductogram.anatomy.compression`: height above the
breast support, distance forwards from the chest wall, across) maps to it by a shift in
height: the breast support lies ``support_to_detector_mm`` above the detector, and for a
magnification view a platform lifts the breast so that its mid-plane is magnified by the
requested factor (1.5–1.8 in practice).

Image frame: pixel ``(row, col)`` has its centre at
``x = (row + 0.5) p``, ``y = (col + 0.5 - cols / 2) p`` on the detector (``p`` the pixel
pitch). This module is the one place where the frames are converted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import ParameterError

SOURCE_TO_IMAGE_MM = 650.0  # issue 4: source-to-image distance about 650 mm
SUPPORT_TO_DETECTOR_MM = 20.0  # breast support above the detector surface [estimate]
DETECTOR_MM = (240.0, 300.0)  # a 24 x 30 cm mammography detector: (from the chest wall, along it)


@dataclass(frozen=True)
class Geometry:
    """Cone-beam geometry of one exposure (detector frame, see the module docstring).

    Parameters
    ----------
    pixel_mm : float
        Detector pixel pitch, in [0.05, 0.2] mm (70–100 µm in practice).
    rows, cols : int
        Detector size in pixels (rows along x, away from the chest wall).
    source_to_image_mm : float
        Focal spot to detector surface.
    lift_mm : float
        Height of the breast support above the detector: ``SUPPORT_TO_DETECTOR_MM`` for a
        contact view, more on a magnification platform.
    focal_spot_mm : float
        Nominal focal-spot size (0.3 contact, 0.1 magnification).
    """

    pixel_mm: float
    rows: int
    cols: int
    source_to_image_mm: float = SOURCE_TO_IMAGE_MM
    lift_mm: float = SUPPORT_TO_DETECTOR_MM
    focal_spot_mm: float = 0.3

    def __post_init__(self) -> None:
        if not 0.05 <= self.pixel_mm <= 0.2:
            raise ParameterError("pixel_mm", self.pixel_mm, "a pitch in [0.05, 0.2] mm")
        if not (1 <= self.rows <= 20000 and 1 <= self.cols <= 20000):
            raise ParameterError("rows/cols", (self.rows, self.cols), "1-20000 pixels each")
        if not 300.0 <= self.source_to_image_mm <= 1000.0:
            raise ParameterError(
                "source_to_image_mm", self.source_to_image_mm, "a distance in [300, 1000] mm"
            )
        if not 0.0 <= self.lift_mm < 0.8 * self.source_to_image_mm:
            raise ParameterError("lift_mm", self.lift_mm, "a height in [0, 0.8 SID) mm")

    @classmethod
    def for_breast(
        cls,
        anterior_extent_mm: float,
        across_extent_mm: float,
        thickness_mm: float,
        *,
        pixel_mm: float = 0.085,
        magnification: float = 1.0,
        margin_mm: float = 5.0,
    ) -> Geometry:
        """A geometry whose detector holds a compressed breast of the given extents (or as
        much of it as a 24 × 30 cm detector does: a magnified breast overflows it).

        Parameters
        ----------
        anterior_extent_mm : float
            Largest distance of the breast (nipple included) from the chest wall.
        across_extent_mm : float
            Largest ``|across|`` of the breast.
        thickness_mm : float
            Compressed thickness.
        magnification : float
            1 for a contact view, or the magnification of the breast's mid-plane
            (1.5–1.8 for a magnification view).
        """
        if not (magnification == 1.0 or 1.2 <= magnification <= 2.0):
            raise ParameterError("magnification", magnification, "1 (contact) or in [1.2, 2.0]")
        sid = SOURCE_TO_IMAGE_MM
        if magnification == 1.0:
            lift, spot = SUPPORT_TO_DETECTOR_MM, 0.3
        else:  # the breast's mid-plane at z = sid (1 - 1/m)
            lift, spot = sid * (1.0 - 1.0 / magnification) - 0.5 * thickness_mm, 0.1
        top = lift + thickness_mm
        m_max = sid / (sid - top)
        # No larger than the detector: 24 cm from the chest wall, 30 cm along it.
        rows = int(np.ceil(min(anterior_extent_mm * m_max + margin_mm, DETECTOR_MM[0]) / pixel_mm))
        half = min(across_extent_mm * m_max + margin_mm, 0.5 * DETECTOR_MM[1])
        cols = 2 * int(np.ceil(half / pixel_mm))
        return cls(pixel_mm=pixel_mm, rows=rows, cols=cols, lift_mm=lift, focal_spot_mm=spot)

    @property
    def source_mm(self) -> np.ndarray:
        return np.array([0.0, 0.0, self.source_to_image_mm])

    def from_compressed(self, points_mm: np.ndarray) -> np.ndarray:
        """Compressed-frame points (height, anterior, across) → detector frame (x, y, z)."""
        p = np.asarray(points_mm, dtype=float)
        return np.stack([p[..., 1], p[..., 2], p[..., 0] + self.lift_mm], axis=-1)

    def magnification_at(self, z_mm: np.ndarray) -> np.ndarray:
        """Geometric magnification of a point at height ``z_mm`` above the detector."""
        return self.source_to_image_mm / (self.source_to_image_mm - np.asarray(z_mm, dtype=float))

    def to_detector(self, points_mm: np.ndarray) -> np.ndarray:
        """Where the ray from the focal spot through each point (detector frame) meets the
        detector: (..., 2) positions (x, y) in mm."""
        p = np.asarray(points_mm, dtype=float)
        return p[..., :2] * self.magnification_at(p[..., 2])[..., None]

    def to_pixel(self, xy_mm: np.ndarray) -> np.ndarray:
        """Detector positions (x, y) → continuous pixel coordinates (row, col)."""
        xy = np.asarray(xy_mm, dtype=float)
        return np.stack(
            [xy[..., 0] / self.pixel_mm - 0.5, xy[..., 1] / self.pixel_mm + 0.5 * self.cols - 0.5],
            axis=-1,
        )

    def pixel_centres_mm(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Detector points (x, y, 0) of pixel centres (continuous indices allowed)."""
        r = np.asarray(rows, dtype=float)
        c = np.asarray(cols, dtype=float)
        return np.stack(
            [
                (r + 0.5) * self.pixel_mm,
                (c + 0.5 - 0.5 * self.cols) * self.pixel_mm,
                np.zeros_like(r),
            ],
            axis=-1,
        )
