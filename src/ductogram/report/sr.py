"""The report as DICOM Structured Reports: TID 1500 and TID 4200.

- :func:`build_measurement_report`: a **TID 1500 Measurement Report** (highdicom
  ``MeasurementReport`` in a Comprehensive SR). Each finding seen on an image is one
  TID 1410 planar ROI group: its region (SCOORD CIRCLE on the MG For Presentation image,
  centre and radius in the stored pixel frame), its finding type (CID 6057 code), its
  site (breast with laterality), its size (SCT 81827009 Diameter, mm), its distance from
  the nipple (DCM 121242, cm) and, as qualitative evaluations, its clock face (DCM 111014,
  CID 6018 codes) and depth (DCM 111020, CID 6024 codes). The duct measurements are one
  TID 1501 group.
- :func:`build_breast_imaging_report`: a **TID 4200 Breast Imaging Report** in Enhanced SR,
  built from highdicom content items (highdicom has no TID 4200 class, ecosystem.md §1.5,
  §1.7): the narrative (TID 4202, sections from CID 6052) and the supplementary data
  (TID 4208): procedure reported (TID 4201: SCT 18102001 with laterality and reason),
  the findings (TID 4206) and the overall assessment (TID 4203: BI-RADS from CID 6027,
  recommended follow-up from CID 6028). dciodvfy checks the IOD, not the template rows.

:func:`read_measurement_report` and :func:`read_breast_imaging_report` read the findings
back. Both SRs reference the images of the study as evidence, so they need a
:class:`~.model.StudyRefs` with at least one image: an exam without images gets no SR.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from highdicom.sr import (
    CodeContentItem,
    ContainerContentItem,
    NumContentItem,
    RelationshipTypeValues,
    TextContentItem,
)
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code as PyCode
from pydicom.uid import generate_uid

from ..core import ParameterError
from ..core.files import write_bytes_atomic
from .model import (
    BIRADS_MEANINGS,
    CODES,
    Code,
    ImageRef,
    KeyImage,
    Report,
    ReportFinding,
    StudyRefs,
)

__all__ = [
    "SR_SERIES_NUMBER",
    "build_breast_imaging_report",
    "build_measurement_report",
    "read_breast_imaging_report",
    "read_measurement_report",
    "study_refs_from_files",
    "to_stored_frame",
    "write_sr",
]

SR_SERIES_NUMBER = 200
_MANUFACTURER = "ductogram"
_CLOCK = {h: getattr(codes.cid6018, f"_{h}OClockPosition") for h in range(1, 13)}
_DEPTH = {
    "anterior": codes.cid6024.Anterior,
    "middle": codes.cid6024.Middle,
    "posterior": codes.cid6024.Posterior,
}
_SIDE_CODE = {"L": codes.cid244.Left, "R": codes.cid244.Right}
_BREAST_CODE = {"L": codes.cid6022.LeftBreast, "R": codes.cid6022.RightBreast}
_DUCTOGRAM = codes.cid6050.MammaryDuctogram  # SCT 18102001
_DISTANCE_FROM_NIPPLE = codes.cid6165.DistanceFromNipple  # DCM 121242
_DIAMETER = codes.cid6165.Diameter  # SCT 81827009
_DEFAULT_RADIUS_PX = 10.0


def _py(code: Code) -> PyCode:
    return PyCode(code.value, code.scheme, code.meaning)


def _own(concept) -> Code:
    return Code(
        value=str(concept.value), scheme=str(concept.scheme_designator), meaning=concept.meaning
    )


def to_stored_frame(row: float, col: float, ref: ImageRef) -> tuple[float, float]:
    """A point of the image frame → SCOORD (column, row) on the stored DICOM pixels.

    The image frame puts pixel centres at whole numbers; SCOORD puts the top-left corner of
    the top-left pixel at 0.0\\0.0, so its centre at 0.5\\0.5 (PS3.3, the PIXEL units of
    Graphic Annotation, which SCOORD Graphic Data shares). The MG writer stores pixels in
    the hanging orientation (:func:`ductogram.io.hanging_orientation`): the stored pixel
    ``(i, j)`` of a left breast is the image pixel ``(j, C - 1 - i)``; a right breast also
    flips the stored columns.

    Examples
    --------
    >>> ref = ImageRef(view="CC", laterality="L", sop_instance_uid="1.2", sop_class_uid="1.2",
    ...     series_instance_uid="1.2", image_shape=(2, 3))
    >>> to_stored_frame(0, 0, ref)  # the centre of stored pixel (row 2, column 0)
    (0.5, 2.5)
    """
    if not ref.hanging:
        return float(col) + 0.5, float(row) + 0.5
    rows, cols = ref.image_shape
    i = (cols - 1) - col
    j = row if ref.laterality == "L" else (rows - 1) - row
    return float(j) + 0.5, float(i) + 0.5


def from_stored_frame(x: float, y: float, ref: ImageRef) -> tuple[float, float]:
    """Inverse of :func:`to_stored_frame`: SCOORD (column, row) → image frame (row, col)."""
    x, y = float(x) - 0.5, float(y) - 0.5
    if not ref.hanging:
        return y, x
    rows, cols = ref.image_shape
    col = (cols - 1) - y
    row = x if ref.laterality == "L" else (rows - 1) - x
    return float(row), float(col)


def study_refs_from_files(paths: Sequence[str | os.PathLike[str]]) -> StudyRefs:
    """The study's references from its MG files (``write_study``'s output; SEG and other
    files are skipped). Reads headers only.

    Raises
    ------
    ParameterError
        If no MG file is given or the files belong to different studies.
    """
    images: list[ImageRef] = []
    study_uid = None
    first: Dataset | None = None
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if ds.get("Modality") != "MG":
            continue
        if study_uid is not None and ds.StudyInstanceUID != study_uid:
            raise ParameterError("paths", str(path), f"files of one study ({study_uid})")
        study_uid = ds.StudyInstanceUID
        first = first or ds
        hanging = len(str(ds.get("PatientOrientation", "")).strip()) > 0
        shape = (int(ds.Columns), int(ds.Rows)) if hanging else (int(ds.Rows), int(ds.Columns))
        spacing = ds.get("ImagerPixelSpacing")
        images.append(
            ImageRef(
                view=str(ds.ViewPosition),
                laterality=str(ds.get("ImageLaterality", "L")),
                sop_instance_uid=str(ds.SOPInstanceUID),
                sop_class_uid=str(ds.SOPClassUID),
                series_instance_uid=str(ds.SeriesInstanceUID),
                image_shape=shape,
                pixel_spacing_mm=(float(spacing[1]), float(spacing[0])) if spacing else None,
                hanging=hanging,
                for_presentation=str(ds.get("PresentationIntentType", "")) == "FOR PRESENTATION",
            )
        )
    if first is None:
        raise ParameterError("paths", [str(p) for p in paths], "at least one MG file")
    return StudyRefs(
        study_instance_uid=str(study_uid),
        accession_number=str(first.get("AccessionNumber", "")) or None,
        patient_name=str(first.get("PatientName", "")),
        patient_birth_date=str(first.get("PatientBirthDate", "")),
        patient_sex=str(first.get("PatientSex", "")),
        study_id=str(first.get("StudyID", "")),
        study_date=str(first.get("StudyDate", "")),
        study_time=str(first.get("StudyTime", "")),
        images=images,
    )


def _evidence(report: Report) -> list[Dataset]:
    study = report.inputs.study
    if study is None or not study.images:
        raise ParameterError(
            "report.inputs.study", None, "the study's image references (an exam with images)"
        )
    out = []
    for ref in study.images:
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientID = report.patient_id
        ds.PatientName = study.patient_name
        ds.PatientBirthDate = study.patient_birth_date
        ds.PatientSex = study.patient_sex
        ds.AccessionNumber = study.accession_number or ""
        ds.StudyID = study.study_id
        ds.StudyDate = study.study_date
        ds.StudyTime = study.study_time
        ds.ReferringPhysicianName = ""
        ds.StudyInstanceUID = study.study_instance_uid
        ds.SeriesInstanceUID = ref.series_instance_uid
        ds.SOPInstanceUID = ref.sop_instance_uid
        ds.SOPClassUID = ref.sop_class_uid
        out.append(ds)
    return out


def _person_name(name: str) -> str:
    """A DICOM PN: a name without components is taken as the family name."""
    return name if "^" in name else f"{name}^"


def _observation_context(report: Report) -> hd.sr.ObservationContext:
    sig = report.signature
    person = hd.sr.ObserverContext(
        observer_type=codes.cid270.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name=_person_name(sig.by) if sig else "Unsigned^Reader"
        ),
    )
    device = hd.sr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(), name="ductogram reading", manufacturer_name=_MANUFACTURER
        ),
    )
    return hd.sr.ObservationContext(observer_person_context=person, observer_device_context=device)


def _finding_items(k: int, f: ReportFinding, lat: str):
    site = hd.sr.FindingSite(anatomic_location=codes.SCT.Breast, laterality=_SIDE_CODE[lat])
    measurements = []
    if f.size_mm is not None:
        measurements.append(
            hd.sr.Measurement(name=_DIAMETER, value=float(f.size_mm), unit=codes.UCUM.Millimeter)
        )
    if f.distance_from_nipple_cm is not None:
        measurements.append(
            hd.sr.Measurement(
                name=_DISTANCE_FROM_NIPPLE,
                value=float(f.distance_from_nipple_cm),
                unit=codes.UCUM.Centimeter,
            )
        )
    evaluations = []
    if f.clock_hour is not None:
        evaluations.append(
            hd.sr.QualitativeEvaluation(
                name=codes.DCM.ClockfaceOrRegion, value=_CLOCK[f.clock_hour]
            )
        )
    if f.depth is not None:
        evaluations.append(hd.sr.QualitativeEvaluation(name=codes.DCM.Depth, value=_DEPTH[f.depth]))
    return site, measurements, evaluations


def build_measurement_report(report: Report) -> hd.sr.ComprehensiveSR:
    """The TID 1500 Measurement Report of a report (Comprehensive SR).

    Raises
    ------
    ParameterError
        If the report has no study references (no images to point to).
    """
    evidence = _evidence(report)
    study = report.inputs.study
    assert study is not None
    lat = report.laterality
    groups: list = []
    for k, f in enumerate(report.findings, start=1):
        site, measurements, evaluations = _finding_items(k, f, f.laterality or lat)
        placed = False
        for ki in f.key_images:
            ref = _ref_of(study, ki, f.laterality or lat)
            if ref is None:
                continue
            x, y = to_stored_frame(ki.row, ki.col, ref)
            radius = float(ki.radius_px or _DEFAULT_RADIUS_PX)
            region = hd.sr.ImageRegion(
                graphic_type=hd.sr.GraphicTypeValues.CIRCLE,
                graphic_data=np.array([[x, y], [x + radius, y]]),
                source_image=hd.sr.SourceImageForRegion(
                    referenced_sop_class_uid=ref.sop_class_uid,
                    referenced_sop_instance_uid=ref.sop_instance_uid,
                ),
            )
            groups.append(
                hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                    tracking_identifier=hd.sr.TrackingIdentifier(
                        uid=generate_uid(), identifier=f"finding {k} {ki.view}"
                    ),
                    referenced_region=region,
                    finding_type=_py(f.code or CODES[f.kind]),
                    finding_sites=[site],
                    measurements=measurements or None,
                    qualitative_evaluations=evaluations or None,
                )
            )
            placed = True
        if not placed:
            groups.append(
                hd.sr.MeasurementsAndQualitativeEvaluations(
                    tracking_identifier=hd.sr.TrackingIdentifier(
                        uid=generate_uid(), identifier=f"finding {k}"
                    ),
                    finding_type=_py(f.code or CODES[f.kind]),
                    finding_sites=[site],
                    measurements=measurements or None,
                    qualitative_evaluations=evaluations or None,
                )
            )
    if report.inputs.measurements:
        groups.append(
            hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(
                    uid=generate_uid(), identifier="duct measurements"
                ),
                finding_type=codes.SCT.Breast,
                finding_sites=[
                    hd.sr.FindingSite(
                        anatomic_location=codes.SCT.Breast, laterality=_SIDE_CODE[lat]
                    )
                ],
                measurements=[
                    hd.sr.Measurement(
                        name=_py(m.code),
                        value=float(m.value),
                        unit=PyCode(m.unit, "UCUM", m.unit),
                    )
                    for m in report.inputs.measurements
                ],
            )
        )
    doc = hd.sr.MeasurementReport(
        observation_context=_observation_context(report),
        procedure_reported=_DUCTOGRAM,
        imaging_measurements=groups,
    )
    return hd.sr.ComprehensiveSR(
        evidence=evidence,
        content=doc,
        series_instance_uid=generate_uid(),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=_MANUFACTURER,
        series_description="Ductogram measurements (TID 1500)",
        **_flags(report),
    )


def _declare_local_scheme(ds: Dataset, report: Report) -> Dataset:
    """Declare this project's local coding scheme (SOP Common Coding Scheme Identification)."""
    used = [f.code or CODES[f.kind] for f in report.findings]
    used += [m.code for m in report.inputs.measurements]
    if any(c.scheme == "99DUCTOGRAM" for c in used):
        item = Dataset()
        item.CodingSchemeDesignator = "99DUCTOGRAM"
        item.CodingSchemeName = "ductogram local finding codes"
        item.CodingSchemeResponsibleOrganization = "ductogram project"
        ds.CodingSchemeIdentificationSequence = [item]
    return ds


def _flags(report: Report) -> dict:
    signed = report.signature is not None
    out = {"is_complete": True, "is_final": signed and report.status != "preliminary"}
    if signed:
        out.update(
            is_verified=True,
            verifying_observer_name=_person_name(report.signature.by),
            verifying_organization="ductogram",
        )
    return out


def _ref_of(study: StudyRefs, ki: KeyImage, lat: str) -> ImageRef | None:
    if ki.sop_instance_uid is not None:
        for ref in study.images:
            if ref.sop_instance_uid == ki.sop_instance_uid:
                return ref
    return study.find(ki.view, lat)


def _text(name, value: str, rel=RelationshipTypeValues.CONTAINS) -> TextContentItem:
    return TextContentItem(name=name, value=value[:10000] or "-", relationship_type=rel)


def _laterality_item(lat: str) -> CodeContentItem:
    return CodeContentItem(
        name=codes.SCT.Laterality,
        value=_BREAST_CODE[lat],
        relationship_type=RelationshipTypeValues.HAS_CONCEPT_MOD,
    )


def _complaint(report: Report) -> PyCode:
    """The reason for the exam from CID 6055 (bloody, non-bloody discharge, or discharge)."""
    colour = report.procedure.patient.discharge.colour.value
    if colour == "bloody":
        return PyCode("290113009", "SCT", "Bloody nipple discharge")
    if colour in ("serous", "clear"):
        return PyCode("111478", "DCM", "Non-bloody discharge (from nipple)")
    return PyCode("162164007", "SCT", "Nipple discharge symptom")


def build_breast_imaging_report(report: Report) -> hd.sr.EnhancedSR:
    """The TID 4200 Breast Imaging Report of a report (Enhanced SR).

    Raises
    ------
    ParameterError
        If the report has no study references.
    """
    evidence = _evidence(report)
    lat = report.laterality
    contains = RelationshipTypeValues.CONTAINS
    # TID 4202 narrative, as in the PS3.17 Annex Q examples: one container per CID 6052
    # section, holding TEXT items named as the section's element (Finding, Impression, ...).
    sections = [
        (
            codes.cid6052.ProcedureReported,
            codes.DCM.ProcedureReported,
            [report.title, report.technique.text],
        ),
        (codes.cid6052.IndicationsForProcedure, codes.DCM.ReasonForProcedure, [report.indication]),
        (
            codes.cid6052.ComparisonToPreviousStudies,
            codes.DCM.ComparisonToPreviousStudies,
            [report.comparison],
        ),
        (codes.cid6052.Findings, codes.DCM.Finding, report.findings_text),
        (codes.cid6052.Impressions, codes.DCM.Impression, report.impression),
        (
            codes.cid6052.Recommendations,
            codes.DCM.Recommendation,
            [r.text for r in report.recommendations],
        ),
        (
            codes.cid6052.OverallAssessment,
            codes.DCM.OverallAssessment,
            [report.assessment.category_text, *report.assessment.reasons],
        ),
    ]
    narrative = ContainerContentItem(name=codes.DCM.NarrativeSummary, relationship_type=contains)
    narrative.ContentSequence = []
    for name, element, texts in sections:
        section = ContainerContentItem(name=name, relationship_type=contains)
        section.ContentSequence = [_text(element, t) for t in texts]
        narrative.ContentSequence.append(section)
    # TID 4208 supplementary data: TID 4201 procedure reported with laterality and reason
    # (the clinical finding, CID 6055, with its laterality).
    procedure = CodeContentItem(
        name=codes.DCM.ProcedureReported, value=_DUCTOGRAM, relationship_type=contains
    )
    reason = CodeContentItem(
        name=codes.DCM.ReasonForProcedure,
        value=codes.cid6051.ClinicalFinding,
        relationship_type=RelationshipTypeValues.HAS_CONCEPT_MOD,
    )
    complaint = CodeContentItem(
        name=codes.DCM.ClinicalFinding,
        value=_complaint(report),
        relationship_type=RelationshipTypeValues.HAS_CONCEPT_MOD,
    )
    complaint.ContentSequence = [_laterality_item(lat)]
    reason.ContentSequence = [complaint]
    procedure.ContentSequence = [_laterality_item(lat), reason]
    supplementary = ContainerContentItem(
        name=codes.DCM.SupplementaryData, relationship_type=contains
    )
    items: list = [procedure]
    findings_section = ContainerContentItem(name=codes.cid6052.Findings, relationship_type=contains)
    findings_section.ContentSequence = []
    for f in report.findings:
        item = CodeContentItem(
            name=codes.DCM.Finding, value=_py(f.code or CODES[f.kind]), relationship_type=contains
        )
        mods = [_laterality_item(f.laterality or lat)]
        if f.clock_hour is not None:
            mods.append(
                CodeContentItem(
                    name=codes.DCM.ClockfaceOrRegion,
                    value=_CLOCK[f.clock_hour],
                    relationship_type=RelationshipTypeValues.HAS_PROPERTIES,
                )
            )
        if f.depth is not None:
            mods.append(
                CodeContentItem(
                    name=codes.DCM.Depth,
                    value=_DEPTH[f.depth],
                    relationship_type=RelationshipTypeValues.HAS_PROPERTIES,
                )
            )
        if f.size_mm is not None:
            mods.append(
                NumContentItem(
                    name=_DIAMETER,
                    value=float(f.size_mm),
                    unit=codes.UCUM.Millimeter,
                    relationship_type=RelationshipTypeValues.HAS_PROPERTIES,
                )
            )
        if f.distance_from_nipple_cm is not None:
            mods.append(
                NumContentItem(
                    name=_DISTANCE_FROM_NIPPLE,
                    value=float(f.distance_from_nipple_cm),
                    unit=codes.UCUM.Centimeter,
                    relationship_type=RelationshipTypeValues.HAS_PROPERTIES,
                )
            )
        item.ContentSequence = mods
        findings_section.ContentSequence.append(item)
    if findings_section.ContentSequence:
        items.append(findings_section)
    value, meaning = BIRADS_MEANINGS[report.assessment.birads]
    assessment = ContainerContentItem(name=codes.DCM.OverallAssessment, relationship_type=contains)
    assessment.ContentSequence = [
        CodeContentItem(
            name=codes.DCM.AssessmentCategory,
            value=PyCode(value, "SCT", meaning),
            relationship_type=contains,
        ),
        *[
            CodeContentItem(
                name=codes.DCM.RecommendedFollowUp, value=_py(r.code), relationship_type=contains
            )
            for r in report.recommendations
            if r.code is not None
        ],
    ]
    items.append(assessment)
    supplementary.ContentSequence = items
    root = ContainerContentItem(name=codes.DCM.BreastImagingReport, template_id="4200")
    root.ContentSequence = [
        *hd.sr.LanguageOfContentItemAndDescendants(hd.sr.templates.DEFAULT_LANGUAGE),
        *_observation_context(report),
        narrative,
        supplementary,
    ]
    return hd.sr.EnhancedSR(
        evidence=evidence,
        content=root,
        series_instance_uid=generate_uid(),
        series_number=SR_SERIES_NUMBER + 1,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer=_MANUFACTURER,
        series_description="Ductogram report (TID 4200)",
        **_flags(report),
    )


def write_sr(report: Report, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``SR_TID1500.dcm`` and ``SR_TID4200.dcm`` into a folder, each atomically.
    Returns the paths written (none for an exam without images)."""
    if report.inputs.study is None or not report.inputs.study.images:
        return []
    folder = Path(folder)
    out = []
    for name, build in (
        ("SR_TID1500.dcm", build_measurement_report),
        ("SR_TID4200.dcm", build_breast_imaging_report),
    ):
        ds = _declare_local_scheme(build(report), report)

        buffer = BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        out.append(write_bytes_atomic(folder / name, buffer.getvalue()))
    return out


# --------------------------------------------------------------------------- reading back


def _kind_of(code: Code) -> str:
    for kind, c in CODES.items():
        if c.value == code.value and c.scheme == code.scheme:
            return kind
    raise ParameterError("finding code", code.value, "a code of the report lexicon")


def read_measurement_report(
    path: str | os.PathLike[str], study: StudyRefs | None = None
) -> list[ReportFinding]:
    """The findings of a TID 1500 report: kind, size, location and key images.

    Groups of one finding on several views (``finding k VIEW``) are merged; key-image
    points come back in the image frame when ``study`` is given (else in the stored
    frame, as (row, col)).
    """
    sr = hd.sr.srread(path)
    merged: dict[str, ReportFinding] = {}
    lat_of = {"7771000": "L", "24028007": "R"}
    groups = list(sr.content.get_planar_roi_measurement_groups()) + [
        g
        for g in sr.content.get_image_measurement_groups()
        if str(g.tracking_identifier) != "duct measurements"
    ]
    for g in groups:
        ident = str(g.tracking_identifier).split()
        key = " ".join(ident[:2])
        code = _own(g.finding_type)
        size = dist = None
        for m in g.get_measurements():
            if m.name == _DIAMETER:
                size = float(m.value)
            elif m.name == _DISTANCE_FROM_NIPPLE:
                dist = round(float(m.value))
        clock = depth = None
        for e in g.get_qualitative_evaluations():
            if e.name == codes.DCM.ClockfaceOrRegion:
                clock = next(h for h, c in _CLOCK.items() if c == e.value)
            elif e.name == codes.DCM.Depth:
                depth = next(d for d, c in _DEPTH.items() if c == e.value)
        lat = None
        for site in g.finding_sites:
            if site.laterality is not None:
                lat = lat_of.get(site.laterality.value)
        keys = []
        roi = getattr(g, "roi", None)
        if roi is not None:
            data = roi.value
            uid = roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
            x, y = float(data[0][0]), float(data[0][1])
            radius = float(np.hypot(*(np.asarray(data[1]) - np.asarray(data[0]))))
            row, col = y, x
            view = ident[2] if len(ident) > 2 else ""
            if study is not None:
                ref = next((r for r in study.images if r.sop_instance_uid == uid), None)
                if ref is not None:
                    row, col = from_stored_frame(x, y, ref)
                    view = ref.view
            keys.append(
                KeyImage(view=view, row=row, col=col, radius_px=radius, sop_instance_uid=uid)
            )
        if key in merged:
            old = merged[key]
            merged[key] = old.model_copy(update={"key_images": old.key_images + keys})
        else:
            merged[key] = ReportFinding(
                kind=_kind_of(code),
                code=code,
                size_mm=size,
                laterality=lat,
                clock_hour=clock,
                depth=depth,
                distance_from_nipple_cm=dist,
                key_images=keys,
            )
    return [merged[k] for k in sorted(merged, key=lambda s: int(s.split()[1]))]


def _items(seq):
    yield from seq or []


def _finding_of(sub: Dataset, lat_of: dict) -> ReportFinding:
    c = sub.ConceptCodeSequence[0]
    code = Code(value=c.CodeValue, scheme=c.CodingSchemeDesignator, meaning=c.CodeMeaning)
    fields: dict = {"kind": _kind_of(code), "code": code}
    for mod in _items(sub.get("ContentSequence")):
        m = mod.ConceptNameCodeSequence[0].CodeValue
        if m == codes.SCT.Laterality.value:
            fields["laterality"] = lat_of[mod.ConceptCodeSequence[0].CodeValue]
        elif m == codes.DCM.ClockfaceOrRegion.value:
            v = mod.ConceptCodeSequence[0].CodeValue
            fields["clock_hour"] = next(h for h, c in _CLOCK.items() if c.value == v)
        elif m == codes.DCM.Depth.value:
            v = mod.ConceptCodeSequence[0].CodeValue
            fields["depth"] = next(d for d, c in _DEPTH.items() if c.value == v)
        elif m == _DIAMETER.value:
            fields["size_mm"] = float(mod.MeasuredValueSequence[0].NumericValue)
        elif m == _DISTANCE_FROM_NIPPLE.value:
            fields["distance_from_nipple_cm"] = round(
                float(mod.MeasuredValueSequence[0].NumericValue)
            )
    return ReportFinding(**fields)


def read_breast_imaging_report(path: str | os.PathLike[str]) -> dict:
    """The coded content of a TID 4200 report: ``procedure`` (code), ``laterality``,
    ``findings`` (list of ReportFinding, without key images), ``birads`` (int) and
    ``follow_up`` (codes)."""
    ds = pydicom.dcmread(path)
    if ds.ContentTemplateSequence[0].TemplateIdentifier != "4200":
        raise ParameterError(
            "TemplateIdentifier", ds.ContentTemplateSequence[0].TemplateIdentifier, "4200"
        )
    lat_of = {"7771000": "L", "24028007": "R", "80248007": "L", "73056007": "R"}
    out: dict = {"findings": [], "follow_up": []}
    for item in _items(ds.ContentSequence):
        name = item.ConceptNameCodeSequence[0].CodeValue
        if name != codes.DCM.SupplementaryData.value:
            continue
        for sub in _items(item.ContentSequence):
            sub_name = sub.ConceptNameCodeSequence[0].CodeValue
            if sub_name == codes.DCM.ProcedureReported.value:
                out["procedure"] = sub.ConceptCodeSequence[0].CodeValue
                for mod in _items(sub.get("ContentSequence")):
                    if mod.ConceptNameCodeSequence[0].CodeValue == codes.SCT.Laterality.value:
                        out["laterality"] = lat_of[mod.ConceptCodeSequence[0].CodeValue]
            elif sub_name == codes.cid6052.Findings.value:
                out["findings"] += [
                    _finding_of(f, lat_of)
                    for f in _items(sub.get("ContentSequence"))
                    if f.ConceptNameCodeSequence[0].CodeValue == codes.DCM.Finding.value
                ]
            elif sub_name == codes.DCM.OverallAssessment.value:
                for a in _items(sub.ContentSequence):
                    an = a.ConceptNameCodeSequence[0].CodeValue
                    v = a.ConceptCodeSequence[0]
                    if an == codes.DCM.AssessmentCategory.value:
                        out["birads"] = next(
                            k for k, (val, _) in BIRADS_MEANINGS.items() if val == v.CodeValue
                        )
                    elif an == codes.DCM.RecommendedFollowUp.value:
                        out["follow_up"].append(
                            Code(
                                value=v.CodeValue,
                                scheme=v.CodingSchemeDesignator,
                                meaning=v.CodeMeaning,
                            )
                        )
    return out
