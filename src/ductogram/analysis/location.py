"""Where a finding is: laterality, clock hour, depth third and distance from the nipple.

A finding seen in one view is a point (row, col) in that view's image; a finding seen in a
CC and an ML (or MLO) view of the same exam is one lesion with a 3-D position. This module
turns either into a :class:`Location`, written as radiologists write it (clinical.md §2.2:
laterality → clock face → depth → distance from the nipple in whole cm).

Frames
------
*Image frame* (:mod:`ductogram.core.image`): ``(row, col)`` pixels. Where the chest wall is
and which way the across axis runs are an :class:`ImageOrientation`, decided in one place,
:func:`image_orientation`:

- an ``ImageOrientation`` (or its fields as a dict) in ``image.metadata["image_orientation"]``;
- else the DICOM PatientOrientation (0020,0020) in ``image.metadata["patient_orientation"]``
  (two values: the patient direction along a row, then down a column);
- else, when ``image.metadata["frame"] == "stored"`` (a file whose orientation could not be
  told), the chest wall from the landmarks and the across direction unknown;
- else the image frame of :mod:`ductogram.core.image` and :mod:`ductogram.io.dicom_read`:
  the chest wall at the top (row 0; rows run towards the nipple), columns towards
  **lateral** in CC and towards **superior** (the head) in ML, MLO and LM. (The simulator's
  compressed frame, :mod:`ductogram.anatomy.compression`, has the across axis along
  ``w = x̂ × c``: lateral in CC, superior in ML, superolateral in MLO; image columns run
  along it.)

*Breast frame* (as in :mod:`ductogram.anatomy.breast`): origin at the nipple base, ``x``
posterior (towards the chest wall), ``y`` superior, ``z`` lateral; mm. A position here is
``(posterior_mm, superior_mm, lateral_mm)``.

Model
-----
1. In a view, a point's offset from the nipple, divided by the magnification, gives its
   distance behind the nipple along the nipple axis ``a`` and its offset across ``u``
   (object scale, in the compressed breast). Compression stretches the breast in the image
   plane by ``s = sqrt(H / T)`` (``T`` the compressed thickness, ``H`` the uncompressed
   extent along the compression axis; a homogeneous incompressible deformation
   [model assumption], as in :mod:`ductogram.anatomy.compression`), so
   ``x = a / s - NIPPLE_LENGTH_MM`` (the skin line's nipple is the nipple's tip) and
   ``u / s`` is the uncompressed offset: lateral (CC), superior (ML), ``sin θ superior +
   cos θ lateral`` (MLO, ``θ = MLO_OBLIQUITY_DEG``).
2. ``H`` from the images: the breast's width across the image is ``s`` times its
   uncompressed width. With a CC and an ML view (widths ``W_cc``, ``W_ml``, thicknesses
   ``T_cc``, ``T_ml``), the uncompressed height ``h`` and width ``w`` solve
   ``W_cc² T_cc = h w²`` and ``W_ml² T_ml = w h²``; with one view, ``h = HEIGHT_TO_WIDTH w``
   is assumed. Without the compressed thickness (``image.dose["compressed_thickness_mm"]``,
   DICOM BodyPartThickness) no correction is made (``s = 1``) and the location says so.
3. Clock hour from the angle of (lateral, superior) seen facing the patient: 12 superior,
   3 o'clock lateral on the left breast and medial on the right. Depth third from
   ``x / D``, ``D`` the posterior nipple line (nipple base to chest wall along the nipple
   axis). Distance from the nipple: ``|(x, y, z)|`` with two views; with one view the
   distance in its plane, a lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy.optimize import linear_sum_assignment

from ..core.enums import Laterality, ViewPosition
from ..core.errors import ParameterError
from ..core.image import Image

__all__ = [
    "DEPTH_THIRDS",
    "HEIGHT_TO_WIDTH",
    "MLO_OBLIQUITY_DEG",
    "NIPPLE_LENGTH_MM",
    "PAIR_TOLERANCE_MM",
    "ImageOrientation",
    "LocatedFinding",
    "Location",
    "ViewFinding",
    "ViewFrame",
    "clock_hour",
    "compression_stretch",
    "correlate",
    "image_orientation",
    "locate",
    "locate_pair",
    "view_frame",
]

#: MLO beam angle from vertical towards lateral (degrees); 45° is the usual obliquity
#: (30-70° in practice, anatomy.compression.OBLIQUITY_RANGE_DEG).
MLO_OBLIQUITY_DEG = 45.0
#: Findings of the same kind in two views are one lesion when their distances behind the
#: nipple agree within this (mm) [estimate: compression and the nipple's place differ
#: between views by a few mm; lesions of one tree are rarely closer than this].
PAIR_TOLERANCE_MM = 10.0
#: How far the nipple's tip (what the skin line shows) stands in front of its base (mm),
#: uncompressed [estimate: 3-6 mm in life; the phantom's default is 4 mm].
NIPPLE_LENGTH_MM = 4.0
#: Uncompressed breast height over width, assumed when one view alone must give the
#: compression stretch [estimate: 0.85-1.0 on simulated breasts].
HEIGHT_TO_WIDTH = 0.9
#: Depth thirds: anterior below 1/3 of the posterior nipple line, posterior above 2/3.
DEPTH_THIRDS = ("anterior", "middle", "posterior")
#: Distances from the nipple are rounded to whole cm, never below this (cm).
MIN_REPORTED_CM = 0

_EDGES = ("top", "bottom", "left", "right")
_ACROSS = ("lateral", "medial", "superior", "inferior")
NEEDS_TWO_VIEWS = "needs a CC and an ML/MLO view"


class ImageOrientation(BaseModel):
    """Where the chest wall is in an image and which way its across axis runs.

    ``chest_wall`` is the image edge at the chest wall. The *across index* is the column
    when the chest wall is at the top or bottom, the row when it is at the left or right;
    ``across_towards`` is the patient direction in which it increases: ``"lateral"`` or
    ``"medial"`` in a CC view, ``"superior"`` or ``"inferior"`` in an ML, MLO (along the
    oblique) or LM view; None when it cannot be told.
    """

    model_config = ConfigDict(frozen=True)

    chest_wall: Literal["top", "bottom", "left", "right"] = "top"
    across_towards: Literal["lateral", "medial", "superior", "inferior"] | None = None
    source: str = Field("image frame", description="where the orientation came from")


class ViewFinding(BaseModel):
    """A finding seen in one view (image frame), as the findings module reports it."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="e.g. filling defect, cut-off, ectasia, cyst")
    row: float = Field(description="centre row (pixels)")
    col: float = Field(description="centre column (pixels)")
    size_mm: float = Field(0.0, ge=0.0, description="largest dimension, object scale (mm)")
    view: str = Field(description="CC, ML, MLO or LM")
    generation: int | None = Field(None, description="duct generation it sits in, if known")

    @field_validator("view")
    @classmethod
    def _view(cls, value: str) -> str:
        try:
            return ViewPosition(str(value).upper()).value
        except ValueError as exc:
            raise ValueError(f"view = {value!r}: expected one of CC, ML, MLO, LM") from exc


class Location(BaseModel):
    """Where a finding is, as the report writes it.

    ``position_mm`` is (posterior, superior, lateral) in the breast frame (origin at the
    nipple base, uncompressed); components one view cannot give are None. ``unknown``
    lists what the views used cannot tell.
    """

    model_config = ConfigDict(frozen=True)

    laterality: Literal["left", "right"] | None
    clock_hour: int | None = Field(None, ge=1, le=12)
    depth: Literal["anterior", "middle", "posterior"] | None = None
    distance_from_nipple_cm: int | None = Field(
        None, ge=0, description="whole cm; None when unknown or a lower bound of 0 cm"
    )
    distance_mm: float | None = Field(None, ge=0.0)
    distance_is_lower_bound: bool = False
    position_mm: tuple[float | None, float | None, float | None] = (None, None, None)
    side: str | None = Field(
        None, description="the half one view tells: lateral/medial (CC), upper/lower (ML)"
    )
    views: tuple[str, ...] = ()
    unknown: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def text(self) -> str:
        """The radiology phrase, e.g. ``left breast, 2 o'clock, middle depth, 3 cm from
        the nipple``; what is unknown is left out (or, for the distance, marked "at least":
        one view shows it foreshortened; 0 cm is "retroareolar").
        """
        parts = [f"{self.laterality} breast" if self.laterality else "breast side unknown"]
        if self.clock_hour is not None:
            parts.append(f"{self.clock_hour} o'clock")
        elif self.side is not None:
            parts.append(f"{self.side} half")
        if self.depth is not None:
            parts.append(f"{self.depth} depth")
        cm = self.distance_from_nipple_cm
        if cm == 0:  # under half a centimetre: behind the areola, as the report says it
            parts.append("retroareolar")
        elif cm is not None:
            at_least = "at least " if self.distance_is_lower_bound else ""
            parts.append(f"{at_least}{cm} cm from the nipple")
        return ", ".join(parts)


class LocatedFinding(BaseModel):
    """One lesion: its findings in the views (one or two) and its location."""

    model_config = ConfigDict(frozen=True)

    kind: str
    location: Location
    findings: tuple[ViewFinding, ...]
    mismatch_mm: float | None = Field(
        None, description="difference of the two views' distances behind the nipple (mm)"
    )


class ViewFrame(BaseModel):
    """What locating a point in one view needs (image frame, object-scale mm).

    Parameters
    ----------
    view, laterality : str or None
    nipple_rc : (float, float)
        The nipple (its tip on the skin line), image frame.
    orientation : ImageOrientation
    spacing_mm : (float, float)
        Pixel spacing at object scale (detector pitch / magnification), (row, col).
    image_shape : (int, int)
    thickness_mm : float or None
        Compressed thickness.
    across_extent_mm : float or None
        The breast's largest width across the image (object scale).
    width_cut : bool
        Whether the breast runs off the image across (the width is then a lower bound).
    """

    model_config = ConfigDict(frozen=True)

    view: str | None
    laterality: str | None
    nipple_rc: tuple[float, float]
    orientation: ImageOrientation
    spacing_mm: tuple[float, float]
    image_shape: tuple[int, int]
    thickness_mm: float | None = None
    across_extent_mm: float | None = None
    width_cut: bool = False

    def offsets_mm(self, row: float, col: float) -> tuple[float, float | None]:
        """(behind the nipple, across towards ``across_towards``) of a point, in mm in the
        compressed breast (object scale); across is None when its direction is unknown."""
        d_row = (row - self.nipple_rc[0]) * self.spacing_mm[0]
        d_col = (col - self.nipple_rc[1]) * self.spacing_mm[1]
        wall = self.orientation.chest_wall
        behind = {"top": -d_row, "bottom": d_row, "left": -d_col, "right": d_col}[wall]
        across = d_col if wall in ("top", "bottom") else d_row
        towards = self.orientation.across_towards
        if towards is None:
            return behind, None
        return behind, across if towards in ("lateral", "superior") else -across

    @property
    def nipple_line_mm(self) -> float:
        """Nipple tip to the chest-wall edge along the nipple axis (compressed, mm)."""
        r, c = self.nipple_rc
        rows, cols = self.image_shape
        wall = self.orientation.chest_wall
        px = {"top": r + 0.5, "bottom": rows - 0.5 - r, "left": c + 0.5, "right": cols - 0.5 - c}
        step = self.spacing_mm[0] if wall in ("top", "bottom") else self.spacing_mm[1]
        return float(px[wall] * step)


def _laterality(value: Any) -> str | None:
    if value is None:
        return None
    return {"L": "left", "R": "right"}[Laterality(str(value)).value]


def _parse_patient_orientation(
    values: Sequence[str], laterality: str | None
) -> ImageOrientation | None:
    """DICOM PatientOrientation (along a row, down a column) → ImageOrientation, or None
    when it cannot be told (both or neither axis A/P)."""
    if len(values) != 2:
        return None
    along_row, down_col = (str(v).strip().upper() for v in values)
    ap = [bool(v) and v[0] in "AP" for v in (along_row, down_col)]
    if ap.count(True) != 1:
        return None
    if ap[1]:  # rows run along the nipple axis
        wall, across = ("top" if down_col[0] == "A" else "bottom"), along_row
    else:
        wall, across = ("left" if along_row[0] == "A" else "right"), down_col
    towards: str | None = None
    if "H" in across:
        towards = "superior"
    elif "F" in across:
        towards = "inferior"
    elif across[:1] in ("L", "R") and laterality is not None:
        towards = "lateral" if across[0] == laterality[0].upper() else "medial"
    return ImageOrientation(chest_wall=wall, across_towards=towards, source="PatientOrientation")


def image_orientation(image: Image, chest_wall: str | None = None) -> ImageOrientation:
    """The orientation of an image (see the module docstring for the order of sources).

    Parameters
    ----------
    image : Image
    chest_wall : str, optional
        The chest-wall edge the landmarks found; used when the file's orientation is
        unknown (``metadata["frame"] == "stored"``).

    Examples
    --------
    >>> import numpy as np
    >>> from ductogram.core import Image
    >>> image_orientation(Image(np.zeros((4, 4)), (0.1, 0.1), view="CC")).across_towards
    'lateral'
    >>> im = Image(np.zeros((4, 4)), (0.1, 0.1), view="CC", laterality="L",
    ...            metadata={"patient_orientation": ["P", "L"]})
    >>> o = image_orientation(im); o.chest_wall, o.across_towards
    ('right', 'lateral')
    """
    meta = image.metadata or {}
    given = meta.get("image_orientation")
    if isinstance(given, ImageOrientation):
        return given
    if isinstance(given, dict):
        return ImageOrientation(**given)
    if meta.get("patient_orientation") is not None:
        parsed = _parse_patient_orientation(
            list(meta["patient_orientation"]),
            None if image.laterality is None else image.laterality.value,
        )
        if parsed is not None:
            return parsed
    if meta.get("frame") == "stored":
        wall = chest_wall if chest_wall in _EDGES else "top"
        return ImageOrientation(chest_wall=wall, across_towards=None, source="unknown")
    view = image.view
    if view is None:
        towards = None
    else:
        towards = "lateral" if view == ViewPosition.CC else "superior"
    return ImageOrientation(chest_wall="top", across_towards=towards, source="image frame")


def _across_extent(mask: np.ndarray, wall: str, step_mm: float) -> tuple[float, bool]:
    """Largest width of the breast across the image (mm) and whether it is cut off."""
    axis = 0 if wall in ("top", "bottom") else 1
    occupied = np.flatnonzero(mask.any(axis=axis))
    if len(occupied) == 0:
        return 0.0, False
    width = (occupied[-1] - occupied[0] + 1) * step_mm
    n = mask.shape[1 - axis]
    return float(width), bool(occupied[0] == 0 or occupied[-1] == n - 1)


def view_frame(image: Image, landmarks: Any = None) -> ViewFrame | None:
    """The :class:`ViewFrame` of an image, or None when its nipple cannot be found.

    Parameters
    ----------
    image : Image
    landmarks : Landmarks, optional
        From :func:`~ductogram.analysis.landmarks.find_landmarks` (found when not given).

    Raises
    ------
    ParameterError
        If ``image`` is not an :class:`~ductogram.core.Image`.
    """
    if not isinstance(image, Image):
        raise ParameterError("image", type(image).__name__, "a ductogram.core.Image")
    if landmarks is None:
        from .landmarks import find_landmarks

        landmarks = find_landmarks(image)
    if landmarks.nipple_rc is None:
        return None
    orientation = image_orientation(image, landmarks.chest_wall)
    spacing = image.object_spacing_mm
    wall = orientation.chest_wall
    step = spacing[1] if wall in ("top", "bottom") else spacing[0]
    extent, cut = _across_extent(np.asarray(landmarks.breast_mask, bool), wall, step)
    thickness = (image.dose or {}).get("compressed_thickness_mm")
    thickness = float(thickness) if thickness and np.isfinite(thickness) else None
    return ViewFrame(
        view=None if image.view is None else image.view.value,
        laterality=None if image.laterality is None else image.laterality.value,
        nipple_rc=(float(landmarks.nipple_rc[0]), float(landmarks.nipple_rc[1])),
        orientation=orientation,
        spacing_mm=(float(spacing[0]), float(spacing[1])),
        image_shape=(int(image.shape[0]), int(image.shape[1])),
        thickness_mm=thickness,
        across_extent_mm=extent if extent > 0 else None,
        width_cut=cut,
    )


def compression_stretch(
    frame: ViewFrame, other: ViewFrame | None = None
) -> tuple[float, str | None]:
    """The in-plane stretch ``s`` of ``frame``'s compressed breast (model step 2).

    Returns
    -------
    (float, str or None)
        ``s`` (1 when it cannot be estimated) and a note on how it was had (None when from
        two views with nothing doubtful).

    Examples
    --------
    A 100 mm high, 120 mm wide breast compressed to 50 mm in CC (s = sqrt(100/50)) and in
    ML (s = sqrt(120/50)):

    >>> def f(view, width, t):
    ...     return ViewFrame(view=view, laterality="L", nipple_rc=(0.0, 0.0),
    ...                      orientation=ImageOrientation(), spacing_mm=(0.1, 0.1),
    ...                      image_shape=(10, 10), thickness_mm=t, across_extent_mm=width)
    >>> cc, ml = f("CC", 120 * 2 ** 0.5, 50.0), f("ML", 100 * 2.4 ** 0.5, 50.0)
    >>> round(compression_stretch(cc, ml)[0] ** 2, 6), round(compression_stretch(ml, cc)[0] ** 2, 6)
    (2.0, 2.4)
    """
    notes = []
    if frame.thickness_mm is None or frame.across_extent_mm is None:
        return 1.0, "no compressed thickness or breast width: distances as seen (compressed)"
    if frame.width_cut:
        notes.append("the breast runs off the image: the stretch is underestimated")
    w_self = frame.across_extent_mm
    usable_other = (
        other is not None
        and other.thickness_mm is not None
        and other.across_extent_mm is not None
        and other.view is not None
        and frame.view is not None
        and (frame.view == "CC") != (other.view == "CC")
    )
    if usable_other:
        assert other is not None
        p = w_self**2 * frame.thickness_mm  # = H_self W_other_uncompressed²
        q = other.across_extent_mm**2 * other.thickness_mm
        hw = (p * q) ** (1.0 / 3.0)
        h_self = q / hw
    else:
        notes.append(f"one view: uncompressed height/width taken as {HEIGHT_TO_WIDTH:g}")
        ratio = HEIGHT_TO_WIDTH if frame.view == "CC" else 1.0 / HEIGHT_TO_WIDTH
        # W² T = H w² with w = H / ratio  =>  H³ = ratio² W² T.
        h_self = (ratio**2 * w_self**2 * frame.thickness_mm) ** (1.0 / 3.0)
    s = math.sqrt(max(h_self / frame.thickness_mm, 1.0))
    return s, "; ".join(notes) or None


def clock_hour(superior_mm: float, lateral_mm: float, laterality: str) -> int:
    """Clock hour (1-12) of a direction seen facing the patient.

    12 is superior; 3 o'clock is lateral on the left breast and medial on the right.

    Examples
    --------
    >>> clock_hour(0.0, 10.0, "left"), clock_hour(0.0, 10.0, "right")
    (3, 9)
    >>> clock_hour(10.0, 10.0, "left"), clock_hour(-10.0, 0.0, "right")
    (2, 6)
    """
    lat = _laterality(laterality[0].upper()) if laterality else None
    if lat is None:
        raise ParameterError("laterality", laterality, "left/right (L/R)")
    towards_viewer_right = lateral_mm if lat == "left" else -lateral_mm
    angle = math.degrees(math.atan2(towards_viewer_right, superior_mm)) % 360.0
    hour = math.floor(angle / 30.0 + 0.5) % 12
    return 12 if hour == 0 else hour


def _depth(posterior_mm: float, nipple_line_mm: float) -> str | None:
    if nipple_line_mm <= 0:
        return None
    f = posterior_mm / nipple_line_mm
    return DEPTH_THIRDS[0] if f < 1 / 3 else DEPTH_THIRDS[1] if f < 2 / 3 else DEPTH_THIRDS[2]


def _cm(mm: float, lower_bound: bool) -> int | None:
    """Whole cm from the nipple; None for a lower bound that rounds to 0 (it tells
    nothing: the finding lies over the nipple in projection)."""
    cm = max(MIN_REPORTED_CM, math.floor(mm / 10.0 + 0.5))
    return None if lower_bound and cm == 0 else cm


def _uncompressed(
    frame: ViewFrame, row: float, col: float, s: float
) -> tuple[float, float | None, float]:
    """(posterior from the nipple base, across, nipple line from the base), uncompressed."""
    behind, across = frame.offsets_mm(row, col)
    posterior = behind / s - NIPPLE_LENGTH_MM
    line = frame.nipple_line_mm / s - NIPPLE_LENGTH_MM
    return posterior, None if across is None else across / s, line


def _check_point(row: float, col: float, frame: ViewFrame) -> None:
    for name, v in (("row", row), ("col", col)):
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v)):
            raise ParameterError(name, v, "a finite pixel coordinate")
    if not isinstance(frame, ViewFrame):
        raise ParameterError("frame", type(frame).__name__, "a ViewFrame (see view_frame)")


def locate(row: float, col: float, frame: ViewFrame) -> Location:
    """Location of a point seen in one view; what one view cannot tell is listed.

    Parameters
    ----------
    row, col : float
        The point (image frame, pixels).
    frame : ViewFrame

    Returns
    -------
    Location
        Depth and the distance in the view's plane (a lower bound of the 3-D distance);
        no clock hour (the half of the breast instead).
    """
    _check_point(row, col, frame)
    s, note = compression_stretch(frame)
    posterior, across, line = _uncompressed(frame, row, col, s)
    lat = _laterality(frame.laterality)
    view = frame.view or "unknown view"
    unknown = [f"clock hour: {NEEDS_TWO_VIEWS}"]
    unknown.append(f"distance from the nipple: {NEEDS_TWO_VIEWS} (one view gives a lower bound)")
    side = None
    superior = lateral = None
    if across is None:
        unknown.append("which half of the breast: the image orientation is unknown")
    elif view == "CC":
        lateral = across
        side = "lateral" if across >= 0 else "medial"
        unknown.append("superior/inferior position: not seen in a CC view")
    elif view in ("ML", "LM"):
        superior = across
        side = "upper" if across >= 0 else "lower"
        unknown.append("medial/lateral position: not seen in an ML/LM view")
    else:
        unknown.append("superior and lateral offsets: mixed along the MLO's oblique")
    if lat is None:
        unknown.append("laterality: not recorded with the image")
    pos = max(posterior, 0.0)
    dist = math.hypot(pos, across or 0.0)
    notes = [f"compression stretch {s:.2f}"] + ([note] if note else [])
    return Location(
        laterality=lat,
        clock_hour=None,
        depth=_depth(pos, line),
        distance_from_nipple_cm=_cm(dist, True),
        distance_mm=round(dist, 2),
        distance_is_lower_bound=True,
        position_mm=(round(posterior, 2), superior, lateral),
        side=side,
        views=(view,),
        unknown=unknown,
        notes=notes,
    )


def locate_pair(
    point_cc: tuple[float, float],
    frame_cc: ViewFrame,
    point_ml: tuple[float, float],
    frame_ml: ViewFrame,
    *,
    obliquity_deg: float = MLO_OBLIQUITY_DEG,
) -> Location:
    """Location of one lesion seen in a CC view and in an ML (or MLO, or LM) view.

    Parameters
    ----------
    point_cc, point_ml : (float, float)
        Its centre (row, col) in each view (image frame, pixels).
    frame_cc, frame_ml : ViewFrame
    obliquity_deg : float
        The MLO beam angle (used when ``frame_ml.view`` is MLO).

    Returns
    -------
    Location
        The 3-D position (the posterior offset is the mean of the two views'), the clock
        hour, the depth third and the 3-D distance from the nipple base.
    """
    _check_point(*point_cc, frame_cc)
    _check_point(*point_ml, frame_ml)
    if frame_cc.view != "CC" or frame_ml.view not in ("ML", "MLO", "LM"):
        raise ParameterError(
            "views", (frame_cc.view, frame_ml.view), "a CC frame and an ML, MLO or LM frame"
        )
    if not 0.0 < obliquity_deg <= 90.0:
        raise ParameterError("obliquity_deg", obliquity_deg, "an angle in (0, 90] degrees")
    s_cc, note_cc = compression_stretch(frame_cc, frame_ml)
    s_ml, note_ml = compression_stretch(frame_ml, frame_cc)
    post_cc, lateral, line_cc = _uncompressed(frame_cc, *point_cc, s_cc)
    post_ml, across_ml, line_ml = _uncompressed(frame_ml, *point_ml, s_ml)
    posterior = 0.5 * (post_cc + post_ml)
    line = 0.5 * (line_cc + line_ml)
    unknown: list[str] = []
    superior = None
    if across_ml is not None:
        if frame_ml.view == "MLO":
            theta = math.radians(obliquity_deg)
            lat_part = (lateral or 0.0) * math.cos(theta)
            superior = (across_ml - lat_part) / math.sin(theta)
        else:
            superior = across_ml
    lat_name = _laterality(frame_cc.laterality or frame_ml.laterality)
    if frame_cc.laterality and frame_ml.laterality and frame_cc.laterality != frame_ml.laterality:
        raise ParameterError(
            "laterality", (frame_cc.laterality, frame_ml.laterality), "two views of one breast"
        )
    hour = None
    if lateral is None or superior is None:
        unknown.append("clock hour: the image orientation of a view is unknown")
    elif lat_name is None:
        unknown.append("clock hour: the laterality is not recorded with the images")
    else:
        hour = clock_hour(superior, lateral, lat_name)
    pos = max(posterior, 0.0)
    dist = math.sqrt(pos**2 + (superior or 0.0) ** 2 + (lateral or 0.0) ** 2)
    lower = lateral is None or superior is None
    if lower:
        unknown.append("distance from the nipple: a lower bound (an offset is unknown)")
    notes = [f"compression stretch {s_cc:.2f} (CC), {s_ml:.2f} ({frame_ml.view})"]
    notes += [n for n in (note_cc, note_ml) if n]
    notes.append(f"posterior offsets {post_cc:.1f} mm (CC), {post_ml:.1f} mm ({frame_ml.view})")
    return Location(
        laterality=lat_name,
        clock_hour=hour,
        depth=_depth(pos, line),
        distance_from_nipple_cm=_cm(dist, lower),
        distance_mm=round(dist, 2),
        distance_is_lower_bound=lower,
        position_mm=(
            round(posterior, 2),
            None if superior is None else round(superior, 2),
            None if lateral is None else round(lateral, 2),
        ),
        views=("CC", str(frame_ml.view)),
        unknown=unknown,
        notes=notes,
    )


def correlate(
    findings_cc: Sequence[ViewFinding],
    findings_ml: Sequence[ViewFinding],
    frame_cc: ViewFrame | None,
    frame_ml: ViewFrame | None,
    *,
    tolerance_mm: float = PAIR_TOLERANCE_MM,
    obliquity_deg: float = MLO_OBLIQUITY_DEG,
) -> list[LocatedFinding]:
    """Pair the findings of a CC and an ML/MLO view into lesions, and locate each.

    Findings of the same kind whose distances behind the nipple base (uncompressed)
    differ by at most ``tolerance_mm`` may pair; among those, the pairing with the least
    total difference is chosen (Hungarian assignment, scipy's
    ``linear_sum_assignment``); a generation difference, when both are known, adds 2 mm
    per generation. Unpaired findings are located from their one view.

    Parameters
    ----------
    findings_cc, findings_ml : sequence of ViewFinding
    frame_cc, frame_ml : ViewFrame or None
        The views' frames (:func:`view_frame`); a view without one (no nipple found) has
        its findings left out.
    tolerance_mm : float
    obliquity_deg : float

    Returns
    -------
    list of LocatedFinding
        The pairs first (in CC order), then unpaired CC findings, then unpaired ML ones.
    """
    if not (math.isfinite(tolerance_mm) and tolerance_mm > 0):
        raise ParameterError("tolerance_mm", tolerance_mm, "a distance > 0 mm")
    cc = [f for f in findings_cc] if frame_cc is not None else []
    ml = [f for f in findings_ml] if frame_ml is not None else []
    for name, items in (("findings_cc", cc), ("findings_ml", ml)):
        for f in items:
            if not isinstance(f, ViewFinding):
                raise ParameterError(name, type(f).__name__, "ViewFinding records")
    pairs: list[tuple[int, int, float]] = []
    if cc and ml:
        assert frame_cc is not None and frame_ml is not None
        s_cc, _ = compression_stretch(frame_cc, frame_ml)
        s_ml, _ = compression_stretch(frame_ml, frame_cc)
        p_cc = np.array([_uncompressed(frame_cc, f.row, f.col, s_cc)[0] for f in cc])
        p_ml = np.array([_uncompressed(frame_ml, f.row, f.col, s_ml)[0] for f in ml])
        diff = np.abs(p_cc[:, None] - p_ml[None, :])
        cost = diff.copy()
        for i, a in enumerate(cc):
            for j, b in enumerate(ml):
                if a.kind != b.kind:
                    cost[i, j] = np.inf
                elif a.generation is not None and b.generation is not None:
                    cost[i, j] += 2.0 * abs(a.generation - b.generation)
        allowed = np.isfinite(cost) & (diff <= tolerance_mm)
        big = 1e6
        rows, cols = linear_sum_assignment(np.where(allowed, cost, big))
        pairs = [
            (int(i), int(j), float(diff[i, j]))
            for i, j in zip(rows, cols, strict=True)
            if allowed[i, j]
        ]
    out = []
    for i, j, d in pairs:
        loc = locate_pair(
            (cc[i].row, cc[i].col),
            frame_cc,  # type: ignore[arg-type]
            (ml[j].row, ml[j].col),
            frame_ml,  # type: ignore[arg-type]
            obliquity_deg=obliquity_deg,
        )
        out.append(
            LocatedFinding(
                kind=cc[i].kind, location=loc, findings=(cc[i], ml[j]), mismatch_mm=round(d, 2)
            )
        )
    used_cc = {i for i, _, _ in pairs}
    used_ml = {j for _, j, _ in pairs}
    for items, used, frame in ((cc, used_cc, frame_cc), (ml, used_ml, frame_ml)):
        for k, f in enumerate(items):
            if k not in used:
                loc = locate(f.row, f.col, frame)  # type: ignore[arg-type]
                out.append(LocatedFinding(kind=f.kind, location=loc, findings=(f,)))
    return out
