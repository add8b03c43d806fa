"""The radiology report of a ductogram: structured report, renderings, letter, DICOM SR, FHIR.

:func:`report_from` builds a :class:`Report` from the procedure record, the dose of each
view, the findings and the assessment (or derives the assessment); :meth:`Report.rebuild`
and :func:`rebuild_report_file` re-make it after a radiologist edits findings or
assessment. :func:`write_report` writes every output of a report into a folder.
"""

from .build import load_report, rebuild_report_file, report_from
from .from_reading import inputs_from_exam_reading
from .model import (
    BIRADS_MEANINGS,
    CODES,
    LEXICON,
    AssessmentInput,
    Code,
    DuctMeasurement,
    ImageRef,
    KeyImage,
    QCFlag,
    Recommendation,
    Report,
    ReportFinding,
    ReportInputs,
    StudyRefs,
    Technique,
    ViewDose,
    location_text,
)
from .recommend import derive_assessment, recommend

__all__ = [
    "BIRADS_MEANINGS",
    "CODES",
    "LEXICON",
    "AssessmentInput",
    "Code",
    "DuctMeasurement",
    "ImageRef",
    "KeyImage",
    "QCFlag",
    "Recommendation",
    "Report",
    "ReportFinding",
    "ReportInputs",
    "StudyRefs",
    "Technique",
    "ViewDose",
    "derive_assessment",
    "inputs_from_exam_reading",
    "load_report",
    "location_text",
    "rebuild_report_file",
    "recommend",
    "report_from",
]
