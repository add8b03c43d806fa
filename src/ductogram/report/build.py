"""Building the report from the record: :func:`report_from` and :func:`rebuild_report_file`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..core import ParameterError
from ..core.files import write_json_atomic
from ..exam import Procedure, ProcedureOutcome
from ..exam.record import words
from .model import (
    AssessmentInput,
    DuctMeasurement,
    KeyImage,
    Report,
    ReportFinding,
    ReportInputs,
    StudyRefs,
    Technique,
    ViewDose,
)
from .recommend import KIND_CATEGORY, derive_assessment, recommend

__all__ = ["load_report", "rebuild_report_file", "report_from"]

_SIDE = {"L": "left", "R": "right"}
MIN_KEY_RADIUS_MM = 2.0  # smallest circle drawn around a finding on a key image


def _indication(p: Procedure) -> str:
    d = p.patient.discharge
    side = {"L": "left", "R": "right", "bilateral": "bilateral"}[d.laterality.value]
    kind = "spontaneous" if d.spontaneous else "expressed-only"
    text = (
        f"{p.patient.age_years:g}-year-old {p.patient.sex.value} patient with {kind} "
        f"{d.colour.value} {side} nipple discharge from "
        + ("a single duct" if d.ducts.value == "single" else "multiple ducts")
    )
    if d.cytology.value != "not_done":
        text += f"; discharge cytology {words(d.cytology)}"
    text += f". {p.screening.outcome_reason}"
    return text


def _technique(p: Procedure, views_dose: Sequence[ViewDose]) -> Technique:
    doses = {f"{v.laterality}{v.view}": v.mgd_mgy for v in views_dose}
    known = [v for v in doses.values() if v is not None]
    total = round(sum(known), 4) if known and len(known) == len(doses) else None
    views = [
        f"{v.laterality.value}{v.view.value}{' magnified' if v.magnification else ''}"
        for v in p.views
    ]
    magnified = any(v.magnification for v in p.views) or any(v.magnification for v in views_dose)
    t = Technique(
        duct=p.duct.name if p.duct else None,
        cannula=(f"{p.cannula.gauge} G {p.cannula.tip} {p.cannula.kind}" if p.cannula else None),
        agent=(
            f"{p.agent.product} ({p.agent.generic_name}, {p.agent.concentration_mgi_per_ml:g} "
            f"mgI/mL)"
            if p.agent
            else None
        ),
        volume_ml=p.injected_ml,
        views=views,
        magnification=magnified,
        dose_per_view_mgy=doses,
        total_dose_mgy=total,
    )
    if not p.cannulated:
        if p.duct is not None and p.cannulated is False:
            text = (
                f"Cannulation of the {p.duct.name} duct was attempted with a {t.cannula} "
                "and failed; no contrast was injected and no views were taken."
            )
        else:
            text = f"Not performed ({words(p.outcome)}): {p.outcome_reason}"
        return t.model_copy(update={"text": text})
    parts = [
        f"After cleansing and expression of the discharge, the {t.duct} duct was cannulated "
        f"with a {t.cannula}"
    ]
    if t.agent and t.volume_ml is not None:
        parts.append(f"{t.volume_ml:.2f} mL of {t.agent} was injected")
    if views:
        parts.append(
            f"{len(views)} view{'s' if len(views) != 1 else ''} ({', '.join(views)})"
            + (" with magnification" if magnified else ", contact")
        )
    text = "; ".join(parts) + "."
    if doses:
        per = ", ".join(
            f"{k} {v:.2f} mGy" if v is not None else f"{k} not recorded" for k, v in doses.items()
        )
        text += f" Mean glandular dose per view: {per}"
        text += f"; total {total:.2f} mGy." if total is not None else "."
    return t.model_copy(update={"text": text})


def _sentence(text: str) -> str:
    """A note as a sentence: capitalised, ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _finding_sentence(k: int, f: ReportFinding) -> str:
    text = f"{k}. {f.kind.capitalize()}"
    if f.size_mm:
        text += f", {f.size_mm:.0f} mm"
    if f.location:
        text += f", {f.location}"
    views = sorted({ki.view for ki in f.key_images})
    if views:
        text += f" (seen on {', '.join(views)})"
    text += "."
    if f.unknown:
        text += " Not determined: " + "; ".join(f.unknown) + "."
    if f.notes:
        text += " " + " ".join(_sentence(n) for n in f.notes)
    if f.confidence < 1.0:
        text += f" Reader confidence {f.confidence:.0%}."
    return text


def _resolve_key_images(
    findings: Sequence[ReportFinding], study: StudyRefs | None, laterality: str
) -> list[ReportFinding]:
    if study is None:
        return list(findings)
    out = []
    for f in findings:
        keys = []
        for ki in f.key_images:
            ref = study.find(ki.view, f.laterality or laterality)
            if ref is not None:
                update: dict[str, Any] = {}
                if ki.sop_instance_uid is None:
                    update["sop_instance_uid"] = ref.sop_instance_uid
                if ki.radius_px is None and ref.pixel_spacing_mm and f.size_mm:
                    # a circle around the finding: its half-size and a margin, at least 2 mm
                    mm = max(0.75 * f.size_mm, MIN_KEY_RADIUS_MM)
                    update["radius_px"] = round(mm / min(ref.pixel_spacing_mm), 1)
                if update:
                    ki = KeyImage(**{**ki.model_dump(), **update})
            keys.append(ki)
        out.append(f.model_copy(update={"key_images": keys}))
    return out


def report_from(
    procedure: Procedure,
    views_dose: Sequence[ViewDose] | None,
    findings: Sequence[ReportFinding] | None,
    assessment: AssessmentInput | None = None,
    study_uids: StudyRefs | None = None,
    *,
    measurements: Sequence[DuctMeasurement] = (),
    comparison: str = "None available.",
) -> Report:
    """The structured report of one exam, built from its record.

    Parameters
    ----------
    procedure : Procedure
        The exam record (``ductogram exam``/``run_exam``).
    views_dose : sequence of ViewDose or None
        The dose of each view taken.
    findings : sequence of ReportFinding or None
        The findings (lexicon terms, location, key images); none for a normal duct or an
        exam not done. A completed exam with no finding is read as normal arborisation.
    assessment : AssessmentInput, optional
        The reader's BI-RADS category with reasons and QC flags; None derives it from the
        record and findings (:func:`~.recommend.derive_assessment`).
    study_uids : StudyRefs, optional
        The study's UIDs and images: key images get their SOP Instance UIDs from it.
    measurements : sequence of DuctMeasurement
        Measurements of the filled tree (written to the TID 1500 report).
    comparison : str
        Prior studies compared.

    Returns
    -------
    Report

    Raises
    ------
    ParameterError
        If an argument has the wrong type, or a finding's laterality is not the examined
        breast.
    """
    if not isinstance(procedure, Procedure):
        raise ParameterError("procedure", type(procedure).__name__, "a Procedure record")
    views_dose = list(views_dose or [])
    findings = list(findings or [])
    for name, items, cls in (
        ("views_dose", views_dose, ViewDose),
        ("findings", findings, ReportFinding),
        ("measurements", list(measurements), DuctMeasurement),
    ):
        for k, item in enumerate(items):
            if not isinstance(item, cls):
                raise ParameterError(f"{name}.{k}", type(item).__name__, cls.__name__)
    if assessment is not None and not isinstance(assessment, AssessmentInput):
        raise ParameterError("assessment", type(assessment).__name__, "an AssessmentInput")
    if study_uids is not None and not isinstance(study_uids, StudyRefs):
        raise ParameterError("study_uids", type(study_uids).__name__, "StudyRefs or None")
    p = procedure
    side = p.laterality.value
    for k, f in enumerate(findings):
        if f.laterality is not None and f.laterality != side:
            raise ParameterError(
                f"findings.{k}.laterality", f.laterality, f"the examined breast ({side})"
            )
    performed = bool(p.cannulated) and ProcedureOutcome(p.outcome) == ProcedureOutcome.COMPLETED
    if not performed and findings:
        raise ParameterError(
            "findings",
            [f.kind for f in findings],
            f"no findings for an exam not done ({p.outcome})",
        )
    if performed and not findings and (assessment is None or assessment.birads == 1):
        findings = [ReportFinding(kind="normal arborisation", laterality=side)]
    findings = [
        f if f.laterality else f.model_copy(update={"laterality": side, "location": ""})
        for f in findings
    ]
    findings = [ReportFinding.model_validate(f.model_dump()) for f in findings]  # locations
    findings = _resolve_key_images(findings, study_uids, side)
    derived = derive_assessment(p, findings, assessment.qc if assessment else ())
    final = assessment or derived
    recs = recommend(p, findings, final)

    if performed and findings:
        findings_text = [_finding_sentence(k, f) for k, f in enumerate(findings, start=1)]
    elif performed:
        findings_text = ["No finding could be read on the images."]
    else:
        findings_text = ["No images were obtained."]
    for q in final.qc:
        findings_text.append(f"Quality: {q.message}" + (f" Action: {q.action}" if q.action else ""))

    impression = []
    if not performed:
        impression.append(f"Ductography not completed: {p.outcome_reason}")
    else:
        abnormal = [f for f in findings if KIND_CATEGORY.get(f.kind, 1) != 1]
        if not findings:
            impression.append("The ductogram could not be read.")
        elif abnormal:
            impression += [
                f"{f.label.capitalize()}" + (f", {f.location}" if f.location else "") + "."
                for f in abnormal
            ]
        else:
            impression.append(
                f"Normal {_SIDE[side]} ductogram of the {p.duct.name if p.duct else ''} duct."
            )
    impression.append(f"{final.category_text}.")
    if assessment is not None and assessment.birads != derived.birads:
        impression.append(
            f"The reader assigned BI-RADS {assessment.birads}; the findings alone imply "
            f"{derived.birads}."
        )
    impression.append("Recommendation: " + "; ".join(r.kind for r in recs) + ".")

    complications = [
        f"{words(c.kind).capitalize()}: {c.detail} {c.action}" for c in p.complications
    ]
    if performed and not complications:
        complications = ["None."]
    aftercare = [i.text for i in p.aftercare.instructions] if p.aftercare else []
    title = f"{_SIDE[side].capitalize()} ductography (galactography)"
    if p.duct is not None:
        title += f", {p.duct.name} duct"
    return Report(
        inputs=ReportInputs(
            procedure=p,
            views_dose=views_dose,
            findings=findings,
            assessment=assessment,
            measurements=list(measurements),
            study=study_uids,
            comparison=comparison,
        ),
        patient_id=p.patient.id,
        laterality=side,
        performed=performed,
        title=title,
        indication=_indication(p),
        technique=_technique(p, views_dose),
        findings_text=findings_text,
        comparison=comparison,
        impression=impression,
        assessment=final,
        derived_birads=derived.birads,
        recommendations=recs,
        complications=complications,
        aftercare=aftercare,
    )


def load_report(path: str | os.PathLike[str]) -> Report:
    """Read a ``report.json``.

    Raises
    ------
    ParameterError
        If the file is not a valid report, naming the first bad field.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ParameterError(
            ".".join(str(x) for x in err["loc"]), err.get("input"), err["msg"]
        ) from exc


def rebuild_report_file(
    path: str | os.PathLike[str],
    edits: Mapping[str, Any] | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
) -> Report:
    """Re-make a report from its record after the radiologist's edits.

    ``path`` is a ``report.json``; its ``inputs`` (findings, assessment) may have been edited
    in place. ``edits`` may also give ``findings`` (a list of finding mappings) and/or
    ``assessment`` (a mapping, or None to derive it). Text fields of the file are ignored:
    everything is rebuilt from the record. Written atomically to ``out`` (default: ``path``).
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "inputs" not in data:
        raise ParameterError("report", str(path), "a report.json with an 'inputs' section")
    edits = dict(edits or {})
    unknown = set(edits) - {"findings", "assessment"}
    if unknown:
        raise ParameterError(f"edits.{sorted(unknown)[0]}", "...", "findings or assessment")
    try:
        inputs = ReportInputs.model_validate({**data["inputs"], **edits})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ParameterError(
            "inputs." + ".".join(str(x) for x in err["loc"]), err.get("input"), err["msg"]
        ) from exc
    report = report_from(
        inputs.procedure,
        inputs.views_dose,
        inputs.findings,
        inputs.assessment,
        inputs.study,
        measurements=inputs.measurements,
        comparison=inputs.comparison,
    )
    if data.get("status") in ("final", "amended"):
        report = report.model_copy(update={"status": "amended"})
    write_json_atomic(out or path, report.model_dump(mode="json"))
    return report
