"""The structured report and the inputs it is built from.

A :class:`Report` is made by :func:`ductogram.report.report_from` from four inputs, kept in
:class:`ReportInputs` inside the report: the procedure record
(:class:`~ductogram.exam.Procedure`), the dose of each view (:class:`ViewDose`), the
findings (:class:`ReportFinding`) and the assessment (:class:`AssessmentInput`), plus the
references of the images in the study (:class:`StudyRefs`). Everything else in a report
(indication, technique, findings text, impression, recommendation, letter) is derived from
them, so that a radiologist edits findings and assessment, never text, and the report is
rebuilt (:meth:`Report.rebuild`, :func:`ductogram.report.rebuild_report_file`).

Coordinates of key images are in the image frame of the view (row, column in pixels of the
:class:`~ductogram.core.Image`, before the DICOM hanging orientation); the DICOM writers
convert them (:func:`ductogram.report.sr.to_stored_frame`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core import ParameterError
from ..exam import Procedure

__all__ = [
    "BIRADS_MEANINGS",
    "CODES",
    "DEPTHS",
    "FHIR_SYSTEMS",
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
    "Signature",
    "StudyRefs",
    "Technique",
    "ViewDose",
    "location_text",
]


class Code(BaseModel):
    """A coded concept, DICOM PS3.16 style: code value, coding scheme designator, meaning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: str = Field(min_length=1)
    scheme: str = Field(description="DCM, SCT, LN, or 99DUCTOGRAM (this project's codes)")
    meaning: str = Field(min_length=1, max_length=64)

    @field_validator("scheme")
    @classmethod
    def _known_scheme(cls, scheme: str) -> str:
        if scheme not in FHIR_SYSTEMS:
            raise ParameterError("code.scheme", scheme, f"one of {sorted(FHIR_SYSTEMS)}")
        return scheme

    @property
    def system(self) -> str:
        """The FHIR code system URI of the scheme."""
        return FHIR_SYSTEMS[self.scheme]


#: FHIR code system of each DICOM coding scheme designator (FHIR R5 terminology pages;
#: DICOM PS3.16 Table 8-1 for DCM). 99DUCTOGRAM is this project's own local scheme, for the
#: two lexicon terms that have no code in DICOM CID 6057 (wall irregularity, air bubble).
FHIR_SYSTEMS: dict[str, str] = {
    "DCM": "http://dicom.nema.org/resources/ontology/DCM",
    "SCT": "http://snomed.info/sct",
    "LN": "http://loinc.org",
    "NCIt": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "99DUCTOGRAM": "urn:ductogram:finding",
}

#: The report lexicon (clinical.md §2.1) with its codes: DICOM CID 6057 "Ductography Finding
#: for Breast" (ecosystem.md §1.4), the same table as ``ductogram.analysis.findings.CODES``;
#: the two terms CID 6057 lacks get a local code.
CODES: dict[str, Code] = {
    "filling defect": Code(value="111425", scheme="DCM", meaning="Intraluminal filling defect"),
    "multiple filling defects": Code(
        value="111426", scheme="DCM", meaning="Multiple filling defect"
    ),
    "abrupt duct termination": Code(
        value="111427", scheme="DCM", meaning="Abrupt duct termination"
    ),
    "extravasation": Code(value="111428", scheme="DCM", meaning="Extravasation"),
    "duct narrowing": Code(value="111429", scheme="DCM", meaning="Duct narrowing"),
    "cyst fill": Code(value="111430", scheme="DCM", meaning="Cyst fill"),
    "duct ectasia": Code(value="22049009", scheme="SCT", meaning="Mammary duct ectasia"),
    "normal arborisation": Code(value="111287", scheme="DCM", meaning="Normal breast tissue"),
    "wall irregularity": Code(
        value="WALLIRR", scheme="99DUCTOGRAM", meaning="Duct wall irregularity"
    ),
    "air bubble": Code(value="AIRBUBBLE", scheme="99DUCTOGRAM", meaning="Air bubble (mimic)"),
}
LEXICON: tuple[str, ...] = tuple(CODES)
DEPTHS = ("anterior", "middle", "posterior")

#: BI-RADS categories with the short CID 6027 meanings (≤ 64 characters, ecosystem.md §1.4)
#: and their SNOMED CT codes; category 6 has no core SNOMED code (the LT breast IG uses an
#: extension code), so it is coded in the ACR BI-RADS scheme's term only in text.
BIRADS_MEANINGS: dict[int, tuple[str, str]] = {
    0: ("397138000", "0 - Incomplete"),
    1: ("397140005", "1 - Negative"),
    2: ("397141009", "2 - Benign"),
    3: ("397143007", "3 - Probably Benign"),
    4: ("397144001", "4 - Suspicious"),
    5: ("397145000", "5 - Highly suggestive of malignancy"),
    6: ("6111000179101", "6 - Known biopsy-proven malignancy"),
}

_SIDE = {"L": "left", "R": "right"}


def _laterality(value: Any, field: str) -> str | None:
    if value is None:
        return None
    text = str(getattr(value, "value", value)).strip().lower()
    if text in ("l", "left"):
        return "L"
    if text in ("r", "right"):
        return "R"
    raise ParameterError(field, value, "L, R, left or right")


class ImageRef(BaseModel):
    """One image of the study: what a DICOM reference to it needs.

    ``image_shape`` is the (rows, cols) of the view's image frame; the stored DICOM pixels
    are in the hanging orientation (``hanging=True``, :func:`ductogram.io.hanging_orientation`)
    unless the image was stored as is.
    """

    model_config = ConfigDict(extra="forbid")

    view: str
    laterality: Literal["L", "R"]
    sop_instance_uid: str
    sop_class_uid: str
    series_instance_uid: str
    image_shape: tuple[int, int] = Field(description="rows, cols of the image frame")
    pixel_spacing_mm: tuple[float, float] | None = None
    hanging: bool = True
    for_presentation: bool = True


class StudyRefs(BaseModel):
    """The study the report is about: its UID and its images."""

    model_config = ConfigDict(extra="forbid")

    study_instance_uid: str
    accession_number: str | None = None
    study_datetime: dt.datetime | None = None
    patient_name: str = Field("", description="as in the images (DICOM PN)")
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_id: str = ""
    study_date: str = Field("", description="DICOM DA (YYYYMMDD)")
    study_time: str = Field("", description="DICOM TM")
    images: list[ImageRef] = Field(default_factory=list)

    def find(self, view: str, laterality: str | None = None) -> ImageRef | None:
        """The image of a view (a For Presentation one first), or None."""
        hits = [
            i
            for i in self.images
            if i.view == view and (laterality is None or i.laterality == laterality)
        ]
        hits.sort(key=lambda i: not i.for_presentation)
        return hits[0] if hits else None


class KeyImage(BaseModel):
    """Where a finding shows: a view and a point in its image frame."""

    model_config = ConfigDict(extra="forbid")

    view: str = Field(description="CC, ML, MLO or LM")
    row: float = Field(description="centre row (pixels, image frame)")
    col: float = Field(description="centre column (pixels, image frame)")
    radius_px: float | None = Field(None, ge=0.0, description="drawn/region radius (pixels)")
    sop_instance_uid: str | None = None


class ReportFinding(BaseModel):
    """One finding as reported: lexicon term, code, size, location and key images.

    ``unknown`` lists what could not be determined (e.g. "clock hour: one view only"),
    shown in the report as such rather than guessed.
    """

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description=f"one of the lexicon terms: {', '.join(LEXICON)}")
    code: Code | None = Field(None, description="default: the lexicon's code (CODES)")
    size_mm: float | None = Field(None, ge=0.0, description="largest dimension (mm)")
    laterality: Literal["L", "R"] | None = None
    clock_hour: int | None = Field(None, ge=1, le=12)
    depth: Literal["anterior", "middle", "posterior"] | None = None
    distance_from_nipple_cm: int | None = Field(None, ge=0, description="whole cm")
    location: str = Field("", description="default: written from the fields above")
    key_images: list[KeyImage] = Field(default_factory=list)
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    unknown: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @field_validator("kind", mode="before")
    @classmethod
    def _lexicon(cls, kind: Any) -> str:
        text = str(kind).strip().lower()
        if text not in CODES:
            raise ParameterError("finding.kind", kind, f"a lexicon term ({', '.join(LEXICON)})")
        return text

    @field_validator("laterality", mode="before")
    @classmethod
    def _side(cls, value: Any) -> str | None:
        return _laterality(value, "finding.laterality")

    @model_validator(mode="after")
    def _defaults(self) -> ReportFinding:
        if self.code is None:
            object.__setattr__(self, "code", CODES[self.kind])
        if not self.location:
            object.__setattr__(self, "location", location_text(self))
        return self

    @property
    def label(self) -> str:
        """The finding in words with its size, e.g. "filling defect, 4 mm"."""
        size = f", {self.size_mm:.0f} mm" if self.size_mm else ""
        return f"{self.kind}{size}"


def location_text(finding: ReportFinding) -> str:
    """Location in the reporting order: laterality, clock face, depth, distance from the
    nipple (clinical.md §2.2). Parts not known are left out.

    Examples
    --------
    >>> location_text(ReportFinding(kind="filling defect", laterality="L", clock_hour=11,
    ...     depth="anterior", distance_from_nipple_cm=2))
    "left breast, 11 o'clock, anterior third, 2 cm from the nipple"
    >>> location_text(ReportFinding(kind="cyst fill", distance_from_nipple_cm=0))
    'retroareolar'
    """
    parts = []
    if finding.laterality:
        parts.append(f"{_SIDE[finding.laterality]} breast")
    if finding.clock_hour is not None:
        parts.append(f"{finding.clock_hour} o'clock")
    if finding.depth is not None:
        parts.append(f"{finding.depth} third")
    if finding.distance_from_nipple_cm is not None:
        d = finding.distance_from_nipple_cm
        parts.append("retroareolar" if d == 0 else f"{d} cm from the nipple")
    return ", ".join(parts)


class QCFlag(BaseModel):
    """An image-quality or completeness flag with the action it calls for."""

    model_config = ConfigDict(extra="forbid")

    name: str
    message: str
    action: str = ""
    makes_incomplete: bool = Field(
        False, description="the exam is non-diagnostic because of it (BI-RADS 0)"
    )


class AssessmentInput(BaseModel):
    """The reader's assessment: BI-RADS category with its reasons, QC flags."""

    model_config = ConfigDict(extra="forbid")

    birads: int = Field(ge=0, le=6)
    subcategory: Literal["4A", "4B", "4C"] | None = None
    reasons: list[str] = Field(default_factory=list)
    abnormal: bool | None = Field(None, description="default: birads not in (1, 2)")
    qc: list[QCFlag] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> AssessmentInput:
        if self.subcategory is not None and self.birads != 4:
            raise ParameterError("assessment.subcategory", self.subcategory, "only with BI-RADS 4")
        if self.abnormal is None:
            object.__setattr__(self, "abnormal", self.birads not in (1, 2))
        return self

    @property
    def category_text(self) -> str:
        return f"BI-RADS {self.subcategory or self.birads}: {BIRADS_MEANINGS[self.birads][1][4:]}"


class ViewDose(BaseModel):
    """One view's exposure and dose (from the AEC and dose model, or the DICOM header)."""

    model_config = ConfigDict(extra="forbid")

    view: str
    laterality: Literal["L", "R"]
    magnification: bool = False
    mgd_mgy: float | None = Field(None, ge=0.0, description="mean glandular dose (mGy)")
    kvp: float | None = Field(None, gt=0.0)
    mas: float | None = Field(None, ge=0.0)
    anode: str | None = None
    filter: str | None = None

    @field_validator("laterality", mode="before")
    @classmethod
    def _side(cls, value: Any) -> str | None:
        return _laterality(value, "view_dose.laterality")

    @classmethod
    def from_dose(cls, view: str, laterality: str, dose: dict, *, magnification: bool = False):
        """From a simulated view's ``dose`` dict (``mgd_mgy``, ``kvp``, ``mas``, ...)."""
        return cls(
            view=view,
            laterality=laterality,
            magnification=magnification,
            mgd_mgy=dose.get("mgd_mgy"),
            kvp=dose.get("kvp"),
            mas=dose.get("mas"),
            anode=dose.get("anode"),
            filter=dose.get("filter"),
        )


class DuctMeasurement(BaseModel):
    """A measurement of the filled duct tree (e.g. calibre of the main duct)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description='e.g. "main duct calibre"')
    value: float
    unit: str = Field(description="UCUM unit: mm, {branches}, 1")
    code: Code = Field(description="CID 6165 Breast Linear Measurement or similar")
    view: str | None = None


class ReportInputs(BaseModel):
    """What a report is built from: the record that a radiologist edits."""

    model_config = ConfigDict(extra="forbid")

    procedure: Procedure
    views_dose: list[ViewDose] = Field(default_factory=list)
    findings: list[ReportFinding] = Field(default_factory=list)
    assessment: AssessmentInput | None = Field(
        None, description="null: derived from the findings and the record"
    )
    measurements: list[DuctMeasurement] = Field(default_factory=list)
    study: StudyRefs | None = None
    comparison: str = "None available."


class Recommendation(BaseModel):
    """One management step, coded from DICOM CID 6028 where a code exists."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="tissue diagnosis, excision, localisation, ... (recommend.py)")
    text: str
    code: Code | None = None
    reason: str = ""
    interval_days: tuple[int, int] | None = None


class Technique(BaseModel):
    """How the exam was done, from the record."""

    model_config = ConfigDict(extra="forbid")

    duct: str | None = None
    cannula: str | None = None
    agent: str | None = None
    volume_ml: float | None = None
    views: list[str] = Field(default_factory=list)
    magnification: bool = False
    dose_per_view_mgy: dict[str, float | None] = Field(default_factory=dict)
    total_dose_mgy: float | None = None
    text: str = ""


class Signature(BaseModel):
    """Who signed the report and when."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1)
    at: dt.datetime


class Report(BaseModel):
    """The structured ductography report.

    Built by :func:`ductogram.report.report_from`; every text field is derived from
    ``inputs``. ``status`` is ``preliminary`` until :meth:`sign` makes it ``final``.
    """

    model_config = ConfigDict(extra="forbid")

    format: str = Field("ductogram.report", pattern=r"^ductogram\.report$")
    version: int = Field(1, ge=1, le=1)
    inputs: ReportInputs
    patient_id: str
    laterality: Literal["L", "R"]
    performed: bool = Field(description="contrast was injected and views taken")
    title: str
    indication: str
    technique: Technique
    findings_text: list[str]
    comparison: str
    impression: list[str]
    assessment: AssessmentInput
    derived_birads: int = Field(description="the category the findings alone imply")
    recommendations: list[Recommendation]
    complications: list[str]
    aftercare: list[str]
    status: Literal["preliminary", "final", "amended"] = "preliminary"
    signature: Signature | None = None

    @property
    def findings(self) -> list[ReportFinding]:
        return self.inputs.findings

    @property
    def procedure(self) -> Procedure:
        return self.inputs.procedure

    def rebuild(
        self,
        findings: list[ReportFinding] | None = None,
        assessment: AssessmentInput | Literal["derive"] | None = None,
    ) -> Report:
        """The report re-made from this one's record with edited findings and/or
        assessment (``"derive"``: drop the given assessment and derive it from the
        findings). A signed report comes back ``amended`` and unsigned."""
        from .build import report_from  # import here: build imports this module

        inputs = self.inputs
        new_findings = inputs.findings if findings is None else findings
        if assessment == "derive":
            new_assessment = None
        elif assessment is None:
            new_assessment = inputs.assessment
        else:
            new_assessment = assessment
        out = report_from(
            inputs.procedure,
            inputs.views_dose,
            new_findings,
            new_assessment,
            study_uids=inputs.study,
            measurements=inputs.measurements,
            comparison=inputs.comparison,
        )
        if self.status != "preliminary":
            out = out.model_copy(update={"status": "amended"})
        return out

    def sign(self, by: str, at: dt.datetime | None = None) -> Report:
        """The report signed (status final, or amended if it was signed before)."""
        if not by or not str(by).strip():
            raise ParameterError("signature.by", by, "the name of the signing radiologist")
        when = at or dt.datetime.now(dt.UTC)
        status = "final" if self.status == "preliminary" else "amended"
        return self.model_copy(
            update={"signature": Signature(by=str(by).strip(), at=when), "status": status}
        )
