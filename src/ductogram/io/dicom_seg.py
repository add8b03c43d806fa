"""A binary truth mask as DICOM SEG (highdicom), referencing the MG image it belongs to.

One segment, "contrast-filled duct": segmented property category *Substance* (SCT 105590001,
CID 7150) and type *Contrast agent* (SCT 7140000), both in pydicom's code dictionary. The
mask marks where the projected lumen holds contrast, so a substance code states exactly what
is segmented; the "lactiferous duct" SNOMED id suggested in ecosystem.md §1.6 (80340009) is
unverified and is not used. The anatomic region is the breast (SCT 76752008).

The segment is the simulator's ground truth: algorithm type AUTOMATIC, algorithm
"ductogram simulator truth", family coded in a private scheme (``99DUCTOGRAM``), since no
DICOM algorithm family (CID 7162) describes a simulator.

The mask is given in the image frame and stored in the MG's hanging orientation
(:func:`~ductogram.io.dicom_mg.hanging_orientation`), so that it overlays the MG pixel for
pixel. highdicom does not copy PatientOrientation from the source image (ecosystem.md
§1.6), so it is set here.
"""

from __future__ import annotations

import os
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from .. import __version__
from ..core.errors import ParameterError
from ..core.files import write_bytes_atomic
from .dicom_mg import dataset_bytes, hanging_orientation

__all__ = ["SEGMENT_LABEL", "build_seg_dataset", "write_seg"]

SEGMENT_LABEL = "contrast-filled duct"
_ALGORITHM_FAMILY = hd.sr.CodedConcept("SIMTRUTH", "99DUCTOGRAM", "Simulator ground truth")


def build_seg_dataset(
    mask: np.ndarray,
    source: Dataset,
    *,
    series_uid: str | None = None,
    series_number: int = 100,
    instance_number: int = 1,
    sop_instance_uid: str | None = None,
) -> Dataset:
    """The DICOM SEG of a binary mask over one MG image.

    Parameters
    ----------
    mask : (rows, cols) bool array
        In the image frame (rows away from the chest wall), the shape of the image the
        source was written from.
    source : pydicom.dataset.Dataset
        The MG dataset (as written by :func:`~ductogram.io.write_mg`).
    series_uid, sop_instance_uid : str, optional
        Generated when not given.
    series_number, instance_number : int, optional

    Returns
    -------
    highdicom.seg.Segmentation

    Raises
    ------
    ParameterError
        If the mask's shape does not match the source image.
    """
    lat = str(source.ImageLaterality)
    shown = np.ascontiguousarray(hanging_orientation(np.asarray(mask, dtype=bool), lat))
    if shown.shape != (source.Rows, source.Columns):
        raise ParameterError(
            "mask.shape",
            np.asarray(mask).shape,
            f"the image-frame shape of the source ({source.Columns}, {source.Rows})",
        )
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=SEGMENT_LABEL,
        segmented_property_category=codes.SCT.Substance,
        segmented_property_type=codes.SCT.ContrastAgent,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name="ductogram simulator truth", family=_ALGORITHM_FAMILY, version=__version__
        ),
        anatomic_regions=[codes.SCT.Breast],
    )
    seg = hd.seg.Segmentation(
        source_images=[source],
        pixel_array=shown.astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=series_uid or generate_uid(),
        series_number=int(series_number),
        sop_instance_uid=sop_instance_uid or generate_uid(),
        instance_number=int(instance_number),
        manufacturer="ductogram",
        manufacturer_model_name="ductogram simulator",
        software_versions=__version__,
        device_serial_number="0",
        series_description="Contrast-filled duct (simulator truth)",
        omit_empty_frames=False,
    )
    seg.PatientOrientation = source.PatientOrientation
    return seg


def write_seg(
    mask: np.ndarray,
    source: Dataset,
    path: str | os.PathLike[str],
    **kwargs,
) -> Path:
    """Write the DICOM SEG of ``mask`` over ``source`` to ``path``, atomically.

    Parameters
    ----------
    mask : (rows, cols) bool array
        In the image frame.
    source : pydicom.dataset.Dataset
        The MG dataset it was made from.
    path : str or path-like
        Target file; its folder must exist.
    **kwargs
        Passed to :func:`build_seg_dataset` (UIDs and numbers).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    seg = build_seg_dataset(mask, source, **kwargs)
    return write_bytes_atomic(path, dataset_bytes(seg))
