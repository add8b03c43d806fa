"""The exam as a FHIR R5 Bundle (fhir.resources), with checks of what it does not check.

Resources (ecosystem.md §3.1): Patient (synthetic), ServiceRequest (the order: SCT 18102001
mammary ductogram, reason from CID 6055, body site), QuestionnaireResponse (the screening
decisions), Consent (when asked), Procedure, ImagingStudy (when images were taken), one
Observation per finding (CID 6057 code; size, distance from the nipple, clock face and
depth as components), one BI-RADS Observation (DCM 111005, SCT 39714x) and the
DiagnosticReport (LOINC 18748-4) that holds them. References are ``urn:uuid:`` full URLs
inside a ``collection`` Bundle.

fhir.resources validates structure and types but not terminology bindings (ecosystem.md
§3.2); :func:`check_bundle` adds our checks: every Coding has a system, statuses are
among the codes their required bindings allow, every reference resolves inside the
bundle, the finding and assessment codes are the report lexicon's.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fhir.resources.bundle import Bundle

from ..core import ParameterError
from ..core.files import write_text_atomic
from ..exam import ProcedureOutcome
from ..exam.patient import DischargeColour
from .model import BIRADS_MEANINGS, CODES, FHIR_SYSTEMS, Code, Report, ReportFinding

__all__ = ["STATUSES", "bundle_from_report", "check_bundle", "read_bundle", "write_bundle"]

SCT, DCM, LN = FHIR_SYSTEMS["SCT"], FHIR_SYSTEMS["DCM"], FHIR_SYSTEMS["LN"]
UCUM = "http://unitsofmeasure.org"

#: Allowed status codes (FHIR R5 required bindings).
STATUSES: dict[str, tuple[str, ...]] = {
    "ServiceRequest": (
        "draft",
        "active",
        "on-hold",
        "revoked",
        "completed",
        "entered-in-error",
        "unknown",
    ),
    "QuestionnaireResponse": ("in-progress", "completed", "amended", "entered-in-error", "stopped"),
    "Consent": ("draft", "active", "inactive", "not-done", "entered-in-error", "unknown"),
    "Procedure": (
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    ),
    "ImagingStudy": ("registered", "available", "cancelled", "entered-in-error", "unknown"),
    "Observation": (
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    ),
    "DiagnosticReport": (
        "registered",
        "partial",
        "preliminary",
        "modified",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    ),
}
_SIDE = {"L": ("80248007", "Left breast"), "R": ("73056007", "Right breast")}
_LATERALITY = {"L": ("7771000", "Left"), "R": ("24028007", "Right")}
_DUCTOGRAM = {"system": SCT, "code": "18102001", "display": "Mammary ductogram"}
_ASSESSMENT = {"system": DCM, "code": "111005", "display": "Assessment Category"}
_SIZE = {"system": SCT, "code": "81827009", "display": "Diameter"}
_DISTANCE = {"system": DCM, "code": "121242", "display": "Distance from nipple"}
_CLOCK = {"system": DCM, "code": "111014", "display": "Clockface or region"}
_DEPTH = {"system": DCM, "code": "111020", "display": "Depth"}
_CLOCK_CODES = {
    1: "129772004",
    2: "129773009",
    3: "129774003",
    4: "129775002",
    5: "129776001",
    6: "129777005",
    7: "129778000",
    8: "129779008",
    9: "129780006",
    10: "129781005",
    11: "129782003",
    12: "129783008",
}  # CID 6018
_DEPTH_CODES = {
    "anterior": (SCT, "255549009", "Anterior"),
    "middle": (FHIR_SYSTEMS["NCIt"], "C25569", "Middle"),
    "posterior": (SCT, "255551008", "Posterior"),
}  # CID 6024


def _coding(code: Code) -> dict:
    return {"system": code.system, "code": code.value, "display": code.meaning}


def _cc(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _reason(report: Report) -> dict:
    colour = report.procedure.patient.discharge.colour
    if colour == DischargeColour.BLOODY:
        return _cc(SCT, "290113009", "Bloody nipple discharge")
    if colour in (DischargeColour.SEROUS, DischargeColour.CLEAR):
        return _cc(DCM, "111478", "Non-bloody discharge (from nipple)")
    return _cc(SCT, "162164007", "Nipple discharge symptom")


def bundle_from_report(report: Report) -> Bundle:
    """The FHIR R5 Bundle of one report (validated by fhir.resources and :func:`check_bundle`).

    Raises
    ------
    ParameterError
        If our own checks find a problem (which would be a bug here).
    """
    p = report.procedure
    ids = {
        name: f"urn:uuid:{uuid.uuid4()}"
        for name in (
            "Patient",
            "ServiceRequest",
            "QuestionnaireResponse",
            "Consent",
            "Procedure",
            "ImagingStudy",
            "birads",
            "DiagnosticReport",
        )
    }
    subject = {"reference": ids["Patient"]}
    side = report.laterality
    body_site = _cc(SCT, *_SIDE[side])
    entries: list[tuple[str, dict]] = []
    entries.append(
        (
            ids["Patient"],
            {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:ductogram:patient", "value": report.patient_id}],
                "gender": {"female": "female", "male": "male"}.get(p.patient.sex.value, "other"),
            },
        )
    )
    entries.append(
        (
            ids["ServiceRequest"],
            {
                "resourceType": "ServiceRequest",
                "status": "completed" if report.performed else "revoked",
                "intent": "order",
                "code": {"concept": {"coding": [_DUCTOGRAM]}},
                "subject": subject,
                "reason": [{"concept": _reason(report)}],
                "bodySite": [body_site],
            },
        )
    )
    entries.append(
        (
            ids["QuestionnaireResponse"],
            {
                "resourceType": "QuestionnaireResponse",
                "questionnaire": "urn:ductogram:questionnaire:screening",
                "status": "completed",
                "subject": subject,
                "basedOn": [{"reference": ids["ServiceRequest"]}],
                "item": [
                    {
                        "linkId": d.rule,
                        "text": d.title,
                        "answer": [{"valueString": f"{d.decision.value}: {d.reason}"}],
                    }
                    for d in p.screening.decisions
                ]
                or [{"linkId": "outcome", "answer": [{"valueString": p.screening.outcome.value}]}],
            },
        )
    )
    if p.consent is not None:
        entries.append(
            (
                ids["Consent"],
                {
                    "resourceType": "Consent",
                    "status": "active" if p.consent.given else "inactive",
                    "category": [_cc(LN, "59284-0", "Consent Document")],
                    "subject": subject,
                    "decision": "permit" if p.consent.given else "deny",
                    "regulatoryBasis": [
                        _cc("urn:ductogram:consent", "informed", "Informed consent")
                    ],
                },
            )
        )
    outcome = ProcedureOutcome(p.outcome)
    proc_status = (
        "completed"
        if report.performed
        else (
            "stopped" if outcome == ProcedureOutcome.INCOMPLETE_CANNULATION_FAILED else "not-done"
        )
    )
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": proc_status,
        "code": {"coding": [_DUCTOGRAM]},
        "subject": subject,
        "basedOn": [{"reference": ids["ServiceRequest"]}],
        "bodySite": [body_site],
        "note": [{"text": report.technique.text}],
    }
    if not report.performed:
        procedure["statusReason"] = {"text": p.outcome_reason}
    if p.agent is not None:
        procedure["used"] = [{"concept": {"text": f"{p.agent.product}, {p.injected_ml:.2f} mL"}}]
    if p.complications:
        procedure["complication"] = [
            {"concept": {"text": f"{c.kind.value}: {c.detail}"}} for c in p.complications
        ]
    entries.append((ids["Procedure"], procedure))
    study = report.inputs.study
    derived_from = []
    if study is not None and study.images:
        series: dict[str, dict] = {}
        for ref in study.images:
            s = series.setdefault(
                ref.series_instance_uid,
                {
                    "uid": ref.series_instance_uid,
                    "modality": _cc(DCM, "MG", "Mammography"),
                    "laterality": _cc(SCT, *_LATERALITY[ref.laterality]),
                    "instance": [],
                },
            )
            s["instance"].append(
                {
                    "uid": ref.sop_instance_uid,
                    "sopClass": {
                        "system": "urn:ietf:rfc:3986",
                        "code": f"urn:oid:{ref.sop_class_uid}",
                    },
                    "title": ref.view,
                }
            )
        entries.append(
            (
                ids["ImagingStudy"],
                {
                    "resourceType": "ImagingStudy",
                    "status": "available",
                    "identifier": [
                        {"system": "urn:dicom:uid", "value": f"urn:oid:{study.study_instance_uid}"}
                    ],
                    "modality": [_cc(DCM, "MG", "Mammography")],
                    "subject": subject,
                    "basedOn": [{"reference": ids["ServiceRequest"]}],
                    "procedure": [{"reference": {"reference": ids["Procedure"]}}],
                    "series": list(series.values()),
                },
            )
        )
        derived_from = [{"reference": ids["ImagingStudy"]}]
    obs_status = "preliminary" if report.status == "preliminary" else "final"
    if report.status == "amended":
        obs_status = "amended"
    category = [
        _cc("http://terminology.hl7.org/CodeSystem/observation-category", "imaging", "Imaging")
    ]
    results = []
    for f in report.findings:
        url = f"urn:uuid:{uuid.uuid4()}"
        results.append({"reference": url})
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "status": obs_status,
            "category": category,
            "code": {"coding": [_coding(f.code or CODES[f.kind])], "text": f.kind},
            "subject": subject,
            "bodySite": _cc(SCT, *_SIDE[f.laterality or side]),
            "valueString": f.location or "location not determined",
            "note": [{"text": n} for n in [*f.unknown, *f.notes]] or None,
            "component": _components(f) or None,
            "partOf": [{"reference": ids["Procedure"]}],
            "derivedFrom": derived_from or None,
        }
        entries.append((url, {k2: v for k2, v in obs.items() if v is not None}))
    value, meaning = BIRADS_MEANINGS[report.assessment.birads]
    entries.append(
        (
            ids["birads"],
            {
                "resourceType": "Observation",
                "status": obs_status,
                "category": category,
                "code": {"coding": [_ASSESSMENT]},
                "subject": subject,
                "valueCodeableConcept": _cc(SCT, value, meaning),
                "note": [{"text": r} for r in report.assessment.reasons] or None,
                **({"derivedFrom": derived_from} if derived_from else {}),
            },
        )
    )
    if entries[-1][1]["note"] is None:
        del entries[-1][1]["note"]
    results.append({"reference": ids["birads"]})
    report_status = {"preliminary": "preliminary", "final": "final", "amended": "amended"}[
        report.status
    ]
    diag: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": report_status,
        "category": [_cc("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology")],
        "code": _cc(LN, "18748-4", "Diagnostic imaging study"),
        "subject": subject,
        "basedOn": [{"reference": ids["ServiceRequest"]}],
        "result": results,
        "conclusion": " ".join(report.impression),
        "conclusionCode": [_cc(SCT, value, meaning)],
    }
    if derived_from:
        diag["study"] = derived_from
    entries.append((ids["DiagnosticReport"], diag))
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": url, "resource": res} for url, res in entries],
    }
    bundle = Bundle.model_validate(data)
    problems = check_bundle(json.loads(bundle.model_dump_json()))
    if problems:
        raise ParameterError("bundle", problems[0], "a bundle that passes check_bundle")
    return bundle


def _components(f: ReportFinding) -> list[dict]:
    out = []
    if f.size_mm is not None:
        out.append(
            {
                "code": {"coding": [_SIZE]},
                "valueQuantity": {
                    "value": round(f.size_mm, 2),
                    "unit": "mm",
                    "system": UCUM,
                    "code": "mm",
                },
            }
        )
    if f.distance_from_nipple_cm is not None:
        out.append(
            {
                "code": {"coding": [_DISTANCE]},
                "valueQuantity": {
                    "value": f.distance_from_nipple_cm,
                    "unit": "cm",
                    "system": UCUM,
                    "code": "cm",
                },
            }
        )
    if f.clock_hour is not None:
        out.append(
            {
                "code": {"coding": [_CLOCK]},
                "valueCodeableConcept": _cc(
                    SCT, _CLOCK_CODES[f.clock_hour], f"{f.clock_hour} o'clock position"
                ),
            }
        )
    if f.depth is not None:
        out.append(
            {"code": {"coding": [_DEPTH]}, "valueCodeableConcept": _cc(*_DEPTH_CODES[f.depth])}
        )
    return out


def _walk(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{path}[{i}]")


def check_bundle(data: dict) -> list[str]:
    """Problems that fhir.resources does not catch, as messages (empty: none).

    Checks: every Coding (an object with ``code`` inside a ``coding`` list, or a
    ``sopClass``) has a ``system``; each resource's ``status`` is allowed by its binding
    (:data:`STATUSES`); every ``reference`` resolves to an entry's ``fullUrl``; each
    Observation's code is a report-lexicon code or the BI-RADS assessment code, and the
    BI-RADS value is one of the CID 6027 SNOMED codes.
    """
    problems = []
    urls = {e.get("fullUrl") for e in data.get("entry", [])}
    for path, node in _walk(data):
        if path.endswith(".coding") and isinstance(node, list):
            for i, c in enumerate(node):
                if not c.get("system"):
                    problems.append(f"{path}[{i}] has no system")
        if isinstance(node, dict) and "reference" in node and isinstance(node["reference"], str):
            if node["reference"] not in urls:
                problems.append(f"{path} refers to {node['reference']}, not in the bundle")
    lexicon = {(c.system, c.value) for c in CODES.values()}
    birads = {v for v, _ in BIRADS_MEANINGS.values()}
    for k, e in enumerate(data.get("entry", [])):
        res = e.get("resource", {})
        kind = res.get("resourceType")
        if kind in STATUSES and res.get("status") not in STATUSES[kind]:
            problems.append(f"entry[{k}] {kind}.status = {res.get('status')!r} not allowed")
        if kind == "Observation":
            coding = res.get("code", {}).get("coding", [{}])[0]
            key = (coding.get("system"), coding.get("code"))
            if key == (DCM, "111005"):
                value = res.get("valueCodeableConcept", {}).get("coding", [{}])[0]
                if (value.get("system"), value.get("code")) not in {(SCT, b) for b in birads}:
                    problems.append(f"entry[{k}] BI-RADS value {value} not a CID 6027 code")
            elif key not in lexicon:
                problems.append(f"entry[{k}] Observation.code {key} not a report-lexicon code")
    return problems


def write_bundle(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write the report's Bundle as JSON, atomically."""
    bundle = bundle_from_report(report)
    return write_text_atomic(path, bundle.model_dump_json(indent=2) + "\n")


def read_bundle(path: str | os.PathLike[str]) -> dict:
    """Read a Bundle back: ``findings`` (ReportFinding list), ``birads`` (int),
    ``problems`` (:func:`check_bundle`). Parsed and validated by fhir.resources."""
    text = Path(path).read_text(encoding="utf-8")
    bundle = Bundle.model_validate_json(text)
    data = json.loads(bundle.model_dump_json())
    systems = {v: k for k, v in FHIR_SYSTEMS.items()}
    findings = []
    birads = None
    for e in data.get("entry", []):
        res = e["resource"]
        if res["resourceType"] != "Observation":
            continue
        c = res["code"]["coding"][0]
        if c["system"] == DCM and c["code"] == "111005":
            v = res["valueCodeableConcept"]["coding"][0]["code"]
            birads = next(k for k, (val, _) in BIRADS_MEANINGS.items() if val == v)
            continue
        code = Code(value=c["code"], scheme=systems[c["system"]], meaning=c["display"])
        fields: dict[str, Any] = {"kind": res["code"]["text"], "code": code}
        site = res["bodySite"]["coding"][0]["code"]
        fields["laterality"] = "L" if site == _SIDE["L"][0] else "R"
        for comp in res.get("component", []):
            cc = comp["code"]["coding"][0]["code"]
            if cc == _SIZE["code"]:
                fields["size_mm"] = comp["valueQuantity"]["value"]
            elif cc == _DISTANCE["code"]:
                fields["distance_from_nipple_cm"] = int(comp["valueQuantity"]["value"])
            elif cc == _CLOCK["code"]:
                v = comp["valueCodeableConcept"]["coding"][0]["code"]
                fields["clock_hour"] = next(h for h, x in _CLOCK_CODES.items() if x == v)
            elif cc == _DEPTH["code"]:
                v = comp["valueCodeableConcept"]["coding"][0]["code"]
                fields["depth"] = next(d for d, x in _DEPTH_CODES.items() if x[1] == v)
        findings.append(ReportFinding(**fields))
    return {"findings": findings, "birads": birads, "problems": check_bundle(data)}
