"""Read a projection x-ray DICOM image (MG, DX or CR) into an :class:`~ductogram.core.Image`.

:func:`read_image` accepts any single-frame greyscale MG/DX/CR image file:

- **Intent**: PresentationIntentType (or, when absent, the SOP class: the *For Processing*
  DX/MG/IO classes) gives :attr:`Image.kind`; CR and images without either are
  FOR PRESENTATION.
- **Pixel values**: stored values, MONOCHROME1 inverted first (``v -> 2**BitsStored - 1 - v``
  unsigned, ``-1 - v`` signed) so that larger is brighter (more attenuation) as for
  MONOCHROME2, then RescaleSlope/RescaleIntercept applied; returned as float32 (exact for
  16-bit integers). No VOI window is applied.
- **Geometry**: pixel spacing from ImagerPixelSpacing (the detector pitch, preferred) or else
  PixelSpacing; magnification from EstimatedRadiographicMagnificationFactor (default 1).
- **View and side**: laterality from ImageLaterality or else Laterality; the view from
  ViewPosition or else the first ViewCodeSequence code (SCT 399162004/399260004/399368009/
  399352003 or the SNOMED-RT R-10242/R-10224/R-10226/R-10228 for CC/ML/MLO/LM); any other
  view is None.
- **Dose** (``Image.dose``): ``kvp`` (KVP), ``mas`` (ExposureInuAs / 1000, else Exposure),
  ``incident_air_kerma_mgy`` (EntranceDoseInmGy), ``mgd_mgy`` (OrganDose, dGy, x 100),
  ``compressed_thickness_mm`` (BodyPartThickness), ``source_to_image_mm``
  (DistanceSourceToDetector), where present.
- **Compressed transfer syntaxes**: whatever pydicom can decode here: RLE natively; JPEG
  lossless, JPEG baseline/extended, JPEG-LS and JPEG 2000 with ``pylibjpeg``,
  ``pylibjpeg-libjpeg`` and ``pylibjpeg-openjpeg`` (or ``pyjpegls`` for JPEG-LS).

Orientation (the image frame: rows run away from the chest wall, towards the nipple;
columns run towards lateral in CC and towards the head in ML, MLO and LM; the frame that
:func:`ductogram.io.hanging_orientation` undoes). PatientOrientation ``(row, column)`` names
the patient direction along a row (increasing column index) and down a column. Supported:

- exactly one of the two values starts with ``A`` or ``P`` (the chest wall-nipple axis): it
  becomes the image rows, flipped when it reads ``P`` (so rows run towards anterior);
- the other value is the across axis: when it contains ``H`` or ``F`` the columns are made
  to run towards ``H``; when it starts with ``L`` or ``R`` (CC) the columns are made to run
  towards the breast's lateral side (``L`` for a left breast, ``R`` for a right one), which
  needs the laterality.

That covers what ductogram writes (``A\\R``, ``P\\L``, ``A\\F``, ``P\\F``) and the usual
hanging conventions (``A\\R``, ``P\\L``, ``A\\FR``, ``P\\FL``, ``A\\L``, ...). Anything else
(missing, both or neither axis A/P, an across axis that cannot be told) keeps the **stored
orientation**: ``metadata["frame"]`` is ``"stored"`` and ``metadata["orientation_note"]``
says why (with a warning when ``warn``); otherwise ``metadata["frame"]`` is ``"image"``.
Pixel spacing follows the axes (swapped when the image is transposed).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..core.enums import Laterality, ViewPosition
from ..core.errors import DuctogramError
from ..core.image import Image, PixelKind

__all__ = ["ImageReadError", "ImageReadWarning", "read_image"]

#: Modalities read as projection x-ray images.
PROJECTION_MODALITIES = ("MG", "DX", "CR")

_FOR_PROCESSING_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # DX For Processing
    "1.2.840.10008.5.1.4.1.1.1.2.1",  # MG For Processing
    "1.2.840.10008.5.1.4.1.1.1.3.1",  # Intra-oral For Processing
}
_VIEW_CODE_VALUES = {
    "399162004": ViewPosition.CC,
    "R-10242": ViewPosition.CC,
    "399260004": ViewPosition.ML,
    "R-10224": ViewPosition.ML,
    "399368009": ViewPosition.MLO,
    "R-10226": ViewPosition.MLO,
    "399352003": ViewPosition.LM,
    "R-10228": ViewPosition.LM,
}
#: What to install to decode a transfer syntax pydicom cannot decode by itself.
_PLUGINS = {
    "1.2.840.10008.1.2.4.50": "pylibjpeg and pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.51": "pylibjpeg and pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.57": "pylibjpeg and pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.70": "pylibjpeg and pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.80": "pylibjpeg and pylibjpeg-libjpeg (or pyjpegls)",
    "1.2.840.10008.1.2.4.81": "pylibjpeg and pylibjpeg-libjpeg (or pyjpegls)",
    "1.2.840.10008.1.2.4.90": "pylibjpeg and pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.91": "pylibjpeg and pylibjpeg-openjpeg",
}


class ImageReadError(DuctogramError, ValueError):
    """A file cannot be read as an image; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple:
        # Rebuilt from its parts (the default would pass the message alone).
        return type(self), (self.path, self.problem), self.__dict__


class ImageReadWarning(UserWarning):
    """Something about a readable image is doubtful (orientation unknown, spacing guessed)."""


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _text(value: Any) -> str:
    return str(value).strip().upper() if value is not None else ""


def _view(ds: Any) -> ViewPosition | None:
    position = _text(ds.get("ViewPosition"))
    if position in ViewPosition.__members__:
        return ViewPosition(position)
    for item in ds.get("ViewCodeSequence") or []:
        code = str(item.get("CodeValue", "")).strip()
        if code in _VIEW_CODE_VALUES:
            return _VIEW_CODE_VALUES[code]
    # Tolerated: digitised-film sets such as CBIS-DDSM put the view in PatientOrientation
    # ("C\C" for CC, "M\L\O" for MLO) and have no ViewPosition.
    orientation = ds.get("PatientOrientation")
    joined = "".join(str(v).strip().upper() for v in (orientation or []))
    if joined in ("CC", "MLO", "ML", "LM"):
        return ViewPosition(joined)
    return None


def _laterality(ds: Any) -> Laterality | None:
    for keyword in ("ImageLaterality", "Laterality"):
        value = _text(ds.get(keyword))
        if value in ("L", "R"):
            return Laterality(value)
    return None


def _kind(ds: Any) -> PixelKind:
    intent = _text(ds.get("PresentationIntentType"))
    if intent in (PixelKind.FOR_PROCESSING.value, PixelKind.FOR_PRESENTATION.value):
        return PixelKind(intent)
    if str(ds.get("SOPClassUID", "")) in _FOR_PROCESSING_SOP_CLASSES:
        return PixelKind.FOR_PROCESSING
    return PixelKind.FOR_PRESENTATION


def _dose(ds: Any) -> dict[str, float]:
    dose: dict[str, float] = {}
    pairs = {
        "kvp": ("KVP", 1.0),
        "incident_air_kerma_mgy": ("EntranceDoseInmGy", 1.0),
        "mgd_mgy": ("OrganDose", 100.0),  # dGy -> mGy
        "compressed_thickness_mm": ("BodyPartThickness", 1.0),
        "source_to_image_mm": ("DistanceSourceToDetector", 1.0),
    }
    for key, (keyword, factor) in pairs.items():
        value = _float(ds.get(keyword))
        if value is not None:
            dose[key] = value * factor
    uas = _float(ds.get("ExposureInuAs"))
    mas = _float(ds.get("Exposure"))
    if uas is not None:
        dose["mas"] = uas / 1000.0
    elif mas is not None:
        dose["mas"] = mas
    return dose


def _to_image_frame(
    stored: np.ndarray,
    spacing: tuple[float, float],
    orientation: list[str],
    laterality: Laterality | None,
) -> tuple[np.ndarray, tuple[float, float], str | None]:
    """Stored pixels → the image frame; returns (pixels, spacing, None) or, when the
    orientation cannot be told, (stored, spacing, why)."""
    if len(orientation) != 2:
        return stored, spacing, f"PatientOrientation {orientation!r} is not two values"
    along_row, down_column = (_text(v) for v in orientation)
    ap = [bool(v) and v[0] in "AP" for v in (along_row, down_column)]
    if ap.count(True) != 1:
        return (
            stored,
            spacing,
            (
                f"PatientOrientation {along_row}\\{down_column}: expected exactly one value "
                "starting with A or P"
            ),
        )
    if ap[0]:  # the chest wall-nipple axis runs along the stored rows: transpose
        pixels, new_spacing = stored.T, (spacing[1], spacing[0])
        away, across = along_row, down_column
    else:
        pixels, new_spacing, away, across = stored, spacing, down_column, along_row
    if "H" in across or "F" in across:
        flip_across = "F" in across
    elif across[:1] in ("L", "R"):
        if laterality is None:
            return (
                stored,
                spacing,
                (
                    f"PatientOrientation {along_row}\\{down_column}: the across axis is "
                    "left-right and the laterality is unknown"
                ),
            )
        flip_across = across[0] != laterality.value
    else:
        return (
            stored,
            spacing,
            (f"PatientOrientation {along_row}\\{down_column}: the across axis is not H/F/L/R"),
        )
    if away[0] == "P":
        pixels = pixels[::-1]
    if flip_across:
        pixels = pixels[:, ::-1]
    return pixels, new_spacing, None


def _cut_short(ds: Any) -> str | None:
    """Why the file ends inside its last element, or None (pydicom reads such files
    silently, keeping the bytes that are there)."""
    if not len(ds):
        return None
    tag = max(ds.keys())
    raw = ds._dict.get(tag)
    length = getattr(raw, "length", None)
    value = getattr(raw, "value", None)
    if isinstance(value, bytes) and length is not None and length != 0xFFFFFFFF:
        if len(value) < length:
            name = _keyword(tag) or str(tag)
            return f"truncated: the file ends inside {name} ({len(value)} of {length} bytes)"
    return None


def _keyword(tag: Any) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag)


def _pixel_data_problem(ds: Any) -> str | None:
    """Why the (native, uncompressed) pixel data is short, or None."""
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if syntax is None or not syntax.is_transfer_syntax or syntax.is_compressed:
        return None
    try:
        expected = (
            int(ds.Rows)
            * int(ds.Columns)
            * int(ds.get("SamplesPerPixel", 1))
            * int(ds.get("NumberOfFrames", 1) or 1)
            * (int(ds.BitsAllocated) // 8)
        )
    except (AttributeError, TypeError, ValueError):
        return None
    got = len(ds.PixelData)
    if got < expected:
        return f"truncated: pixel data has {got} of {expected} bytes"
    return None


def read_image(
    path: str | os.PathLike[str],
    *,
    warn: bool = True,
    pixel_spacing_mm: float | tuple[float, float] | None = None,
) -> Image:
    """Read one MG, DX or CR DICOM image file (see the module doc for what is read how).

    Parameters
    ----------
    path : str or path-like
    warn : bool, optional
        Emit :class:`ImageReadWarning` for doubtful things (orientation unknown, spacing
        taken from PixelSpacing or from ``pixel_spacing_mm``); they are always recorded in
        ``metadata`` too.
    pixel_spacing_mm : float or (float, float), optional
        Spacing (row, column of the stored image) to use when the file has neither
        ImagerPixelSpacing nor PixelSpacing; without it such a file is an error.

    Returns
    -------
    Image
        ``truth`` is None; ``metadata`` holds ``source``, ``sop_instance_uid``,
        ``study_instance_uid``, ``modality``, ``transfer_syntax``, ``patient_orientation``,
        ``photometric_interpretation``, ``spacing_source`` and ``frame`` (``image`` or
        ``stored``, with ``orientation_note`` when stored).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ImageReadError
        Not DICOM, truncated, no pixel data, not a projection x-ray modality, a transfer
        syntax that cannot be decoded here (naming the plugin to install), colour or
        multi-frame pixels, no pixel spacing.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError as exc:
        raise ImageReadError(path, f"not a DICOM file ({exc})") from None
    except (EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise ImageReadError(path, f"truncated or corrupt DICOM file ({exc})") from None

    cut = _cut_short(ds)
    if cut:
        raise ImageReadError(path, cut)
    notes: list[str] = []
    modality = _text(ds.get("Modality"))
    if modality not in PROJECTION_MODALITIES:
        shown = modality or "(missing)"
        raise ImageReadError(
            path, f"modality {shown} is not a projection x-ray (expected MG, DX or CR)"
        )
    if "PixelData" not in ds:
        raise ImageReadError(path, "no pixel data (the file has no PixelData element)")
    samples = int(ds.get("SamplesPerPixel", 1))
    photometric = _text(ds.get("PhotometricInterpretation"))
    if samples != 1 or photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ImageReadError(
            path,
            f"photometric interpretation {photometric or '(missing)'} with {samples} "
            "samples per pixel: expected greyscale MONOCHROME1 or MONOCHROME2",
        )
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames != 1:
        raise ImageReadError(path, f"{frames} frames: expected a single-frame image")

    syntax = ds.file_meta.get("TransferSyntaxUID")
    syntax_name = getattr(syntax, "name", str(syntax))
    if syntax is not None:
        from pydicom.pixels import get_decoder

        try:
            decoder = get_decoder(syntax)
        except NotImplementedError:
            raise ImageReadError(
                path, f"transfer syntax {syntax_name} ({syntax}) is not supported"
            ) from None
        if not decoder.is_available:
            plugin = _PLUGINS.get(str(syntax), "a pydicom pixel data plugin")
            raise ImageReadError(
                path,
                f"transfer syntax {syntax_name} ({syntax}) cannot be decoded here: "
                f"install {plugin}",
            )
    short = _pixel_data_problem(ds)
    if short:
        raise ImageReadError(path, short)
    try:
        stored = ds.pixel_array
    except Exception as exc:  # decoders raise many kinds; name the syntax and the cause
        raise ImageReadError(
            path, f"pixel data in {syntax_name} ({syntax}) cannot be decoded: {exc}"
        ) from None

    values = np.asarray(stored)
    if photometric == "MONOCHROME1":
        bits = int(ds.get("BitsStored", values.dtype.itemsize * 8))
        if int(ds.get("PixelRepresentation", 0)) == 0:
            values = ((1 << bits) - 1) - values.astype(np.int64)
        else:
            values = -1 - values.astype(np.int64)
    pixels = values.astype(np.float32)
    slope = _float(ds.get("RescaleSlope"))
    intercept = _float(ds.get("RescaleIntercept"))
    if slope is not None and slope != 1.0:
        pixels *= np.float32(slope)
    if intercept is not None and intercept != 0.0:
        pixels += np.float32(intercept)

    spacing_source = "ImagerPixelSpacing"
    raw_spacing = ds.get("ImagerPixelSpacing")
    if not raw_spacing:
        spacing_source, raw_spacing = "PixelSpacing", ds.get("PixelSpacing")
    if not raw_spacing and pixel_spacing_mm is not None:
        spacing_source = "given"
        raw_spacing = list(np.broadcast_to(pixel_spacing_mm, 2))
        notes.append("pixel spacing not in the file: the spacing given was used")
    if not raw_spacing:
        raise ImageReadError(
            path,
            "no pixel spacing (neither ImagerPixelSpacing nor PixelSpacing); "
            "pass pixel_spacing_mm=",
        )
    spacing_values = [_float(v) for v in np.atleast_1d(raw_spacing)]
    if len(spacing_values) != 2 or any(v is None or v <= 0 for v in spacing_values):
        raise ImageReadError(path, f"{spacing_source} {list(raw_spacing)!r} is not two spacings")
    spacing = (float(spacing_values[0]), float(spacing_values[1]))
    if spacing_source == "PixelSpacing":
        notes.append("no ImagerPixelSpacing: PixelSpacing used as the detector pitch")

    magnification = _float(ds.get("EstimatedRadiographicMagnificationFactor")) or 1.0
    laterality = _laterality(ds)
    orientation = [str(v) for v in (ds.get("PatientOrientation") or [])]
    pixels, spacing, why = _to_image_frame(pixels, spacing, orientation, laterality)
    metadata: dict[str, Any] = {
        "source": str(path),
        "sop_instance_uid": str(ds.get("SOPInstanceUID", "")),
        "study_instance_uid": str(ds.get("StudyInstanceUID", "")),
        "series_instance_uid": str(ds.get("SeriesInstanceUID", "")),
        "modality": modality,
        "transfer_syntax": str(syntax) if syntax is not None else "",
        "patient_orientation": orientation,
        "photometric_interpretation": photometric,
        "spacing_source": spacing_source,
        "frame": "stored" if why else "image",
    }
    if why:
        metadata["orientation_note"] = f"{why}; the stored orientation was kept"
        notes.append(metadata["orientation_note"])
    if notes:
        metadata["notes"] = notes
        if warn:
            for note in notes:
                warnings.warn(f"{path}: {note}", ImageReadWarning, stacklevel=2)
    try:
        return Image(
            pixels=np.ascontiguousarray(pixels),
            pixel_spacing_mm=spacing,
            view=_view(ds),
            laterality=laterality,
            magnification=magnification,
            kind=_kind(ds),
            dose=_dose(ds),
            metadata=metadata,
        )
    except DuctogramError as exc:
        raise ImageReadError(path, str(exc)) from None
