"""DICOM out (and later in): mammography images, their truth as DICOM SEG, whole studies.

- :func:`write_mg`: one :class:`~ductogram.core.Image` as a Digital Mammography X-Ray Image
  (For Presentation or For Processing), written with pydicom;
- :func:`write_seg`: a binary mask as DICOM SEG (highdicom) referencing that image;
- :func:`write_study`: the simulated views of one exam as one study, MG + SEG per view.
"""

from .dicom_mg import ContrastBolus, StudyInfo, hanging_orientation, write_mg
from .dicom_seg import write_seg
from .study import write_study

__all__ = [
    "ContrastBolus",
    "StudyInfo",
    "hanging_orientation",
    "write_mg",
    "write_seg",
    "write_study",
]

from .dicom_read import ImageReadError, ImageReadWarning, read_image
from .raster import read_raster

__all__ += ["ImageReadError", "ImageReadWarning", "read_image", "read_raster"]
