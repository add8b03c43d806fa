"""FHIR R5 Bundle of the report: validates, passes our own checks, and reads back."""

from __future__ import annotations

import json

import pytest

from ductogram.report import report_from
from ductogram.report.fhir import bundle_from_report, check_bundle, read_bundle, write_bundle


@pytest.fixture
def report(completed, doses, defect, cutoff, study):
    return report_from(completed, doses, [defect, cutoff], study_uids=study)


def _types(data):
    return [e["resource"]["resourceType"] for e in data["entry"]]


def test_bundle_has_the_episode_resources(report):
    data = json.loads(bundle_from_report(report).model_dump_json())
    assert _types(data) == [
        "Patient",
        "ServiceRequest",
        "QuestionnaireResponse",
        "Consent",
        "Procedure",
        "ImagingStudy",
        "Observation",
        "Observation",
        "Observation",
        "DiagnosticReport",
    ]
    assert check_bundle(data) == []
    diag = data["entry"][-1]["resource"]
    assert diag["status"] == "preliminary"
    assert diag["conclusionCode"][0]["coding"][0]["code"] == "397144001"  # BI-RADS 4
    assert len(diag["result"]) == 3
    study = data["entry"][5]["resource"]
    assert study["identifier"][0]["value"] == f"urn:oid:{report.inputs.study.study_instance_uid}"


def test_round_trip(report, tmp_path):
    path = write_bundle(report, tmp_path / "bundle.json")
    back = read_bundle(path)
    assert back["problems"] == [] and back["birads"] == 4
    for got, sent in zip(back["findings"], report.findings, strict=True):
        assert got.model_dump(exclude={"key_images", "confidence", "unknown", "notes"}) == (
            sent.model_dump(exclude={"key_images", "confidence", "unknown", "notes"})
        )


def test_failed_exam_bundle(failed, tmp_path):
    data = json.loads(bundle_from_report(report_from(failed, [], [])).model_dump_json())
    assert "ImagingStudy" not in _types(data)
    procedure = next(
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Procedure"
    )
    assert procedure["status"] == "stopped"
    assert check_bundle(data) == []


@pytest.mark.parametrize(
    ("break_it", "problem"),
    [
        (lambda d: d["entry"][-1]["resource"].update(status="finished-ish"), "status"),
        (lambda d: d["entry"][1]["resource"]["bodySite"][0]["coding"][0].pop("system"), "system"),
        (lambda d: d["entry"][2]["resource"]["subject"].update(reference="urn:uuid:x"), "not in"),
        (
            lambda d: d["entry"][6]["resource"]["code"]["coding"][0].update(code="999"),
            "lexicon",
        ),
    ],
)
def test_our_checks_catch_what_fhir_resources_accepts(report, break_it, problem):
    data = json.loads(bundle_from_report(report).model_dump_json())
    break_it(data)
    from fhir.resources.bundle import Bundle

    Bundle.model_validate(data)  # still valid for fhir.resources
    problems = check_bundle(data)
    assert len(problems) == 1 and problem in problems[0]
