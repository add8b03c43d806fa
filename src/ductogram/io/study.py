"""The simulated views of one exam as one DICOM study: MG images and their truth SEGs.

Layout of the folder (``<lat><view>`` as in the previews, e.g. ``LCC``)::

    MG_PRES_LCC.dcm   series 1: the For Presentation images, one per view
    MG_PROC_LCC.dcm   series 2: the For Processing images (``for_processing=True``)
    SEG_LCC.dcm       series 100: the contrast-filled duct of each view, over its
                      For Presentation image

All files share the StudyInstanceUID and the synthetic patient of ``study``; each series
has one SeriesInstanceUID; every file has its own SOPInstanceUID.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydicom.uid import generate_uid

from ..core.files import write_bytes_atomic
from ..imaging.views import SimulatedView
from .dicom_mg import (
    DEFAULT_COMPRESSION_FORCE_N,
    ContrastBolus,
    StudyInfo,
    build_mg_dataset,
    dataset_bytes,
)
from .dicom_seg import build_seg_dataset

__all__ = ["PRESENTATION_SERIES", "PROCESSING_SERIES", "SEG_SERIES", "write_study"]

PRESENTATION_SERIES = 1
PROCESSING_SERIES = 2
SEG_SERIES = 100


def write_study(
    views: Sequence[SimulatedView],
    folder: str | os.PathLike[str],
    *,
    patient_id: str | None = None,
    study: StudyInfo | None = None,
    procedure: Any = None,
    contrast: ContrastBolus | None = None,
    for_processing: bool = True,
    segmentation: bool = True,
    compression_force_n: float = DEFAULT_COMPRESSION_FORCE_N,
) -> list[Path]:
    """Write one study: per view an MG For Presentation (and For Processing) and a SEG.

    Parameters
    ----------
    views : sequence of SimulatedView
        The views of one exam (one breast).
    folder : str or path-like
        Existing folder; files are written into it one by one, each atomically.
    patient_id : str, optional
        The case's identifier; needed unless ``study`` is given.
    study : StudyInfo, optional
        Patient and study; by default a new study for ``patient_id``.
    procedure : Procedure, optional
        The exam record: the contrast bolus, and the patient's age when ``study`` is
        not given.
    contrast : ContrastBolus, optional
        The bolus, when there is no procedure record.
    for_processing : bool, optional
        Also write the For Processing images (default True).
    segmentation : bool, optional
        Also write the truth SEG of each view (default True).
    compression_force_n : float, optional
        CompressionForce (N), a typical value (the simulator does not model force).

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Raises
    ------
    ValueError
        If neither ``patient_id`` nor ``study`` is given, or two views share a name.
    """
    if study is None:
        if patient_id is None:
            raise ValueError("write_study needs patient_id or study")
        patient = getattr(procedure, "patient", None)
        study = StudyInfo(
            patient_id=patient_id, patient_age_years=getattr(patient, "age_years", None)
        )
    if contrast is None and procedure is not None:
        contrast = ContrastBolus.from_procedure(procedure)
    folder = Path(folder)
    names = [_name(sv) for sv in views]
    if len(set(names)) != len(names):
        raise ValueError(f"views must differ in laterality and view, got {names}")
    series = {PRESENTATION_SERIES: generate_uid(), PROCESSING_SERIES: generate_uid()}
    seg_series = generate_uid()
    common = {"study": study, "contrast": contrast, "compression_force_n": compression_force_n}
    written: list[Path] = []
    for number, (sv, name) in enumerate(zip(views, names, strict=True), start=1):
        kinds = [(sv.presentation, PRESENTATION_SERIES, "PRES")]
        if for_processing:
            kinds.append((sv.processing, PROCESSING_SERIES, "PROC"))
        shown = None
        for image, series_number, tag in kinds:
            image = dataclasses.replace(
                image, metadata={**image.metadata, "lift_mm": sv.scene.geometry.lift_mm}
            )
            ds = build_mg_dataset(
                image,
                series_uid=series[series_number],
                series_number=series_number,
                instance_number=number,
                **common,
            )
            written.append(write_bytes_atomic(folder / f"MG_{tag}_{name}.dcm", dataset_bytes(ds)))
            shown = ds if tag == "PRES" else shown
        if segmentation:
            seg = build_seg_dataset(
                sv.scene.truth.contrast_mask,
                shown,
                series_uid=seg_series,
                series_number=SEG_SERIES,
                instance_number=number,
            )
            written.append(write_bytes_atomic(folder / f"SEG_{name}.dcm", dataset_bytes(seg)))
    return written


def _name(sv: SimulatedView) -> str:
    image = sv.presentation
    lat = image.laterality.value if image.laterality else "L"
    return f"{lat}{image.view.value}"
