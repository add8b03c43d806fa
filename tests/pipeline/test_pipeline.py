"""The whole exam in one call, and the commands around it (run, demo, report, read)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from ductogram.cli import app
from ductogram.core import ParameterError
from ductogram.core.cases import CaseFileError
from ductogram.pipeline import DEMO_CASES, load_case_file, run_case


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo case (a papilloma) at 0.2 mm pixels: the whole chain, small and quick."""
    out = tmp_path_factory.mktemp("run") / "demo"
    return run_case("papilloma", out, seed=7, pixel_mm=0.2)


def test_the_folder_tells_the_case_from_patient_to_report(demo_run):
    folder = demo_run.folder
    for rel in (
        "index.html",
        "procedure.json",
        "phantom.json",
        "LCC.png",
        "LML.npz",
        "reading/reading.json",
        "reading/LCC_overlay.png",
        "reading/LML.json",
        "report/report.html",
        "report/report.pdf",
        "report/letter.html",
        "report/fhir_bundle.json",
        "report/SR_TID1500.dcm",
        "report/SR_TID4200.dcm",
    ):
        assert (folder / rel).is_file(), rel
    assert len(list((folder / "dicom").glob("MG_*.dcm"))) == 4  # two views, two intents
    # Every local link and picture of index.html is there.
    page = (folder / "index.html").read_text()
    targets = re.findall(r'(?:href|src)="([^"#:]+)"', page)
    assert len(targets) > 10
    for rel in targets:
        assert (folder / rel).exists(), rel
    assert (folder / "report" / "report.pdf").read_bytes().startswith(b"%PDF")


def test_the_report_follows_the_reading(demo_run):
    reading, report = demo_run.reading, demo_run.report
    assert reading is not None and len(reading.views) == 2
    assert all(v.found for v in reading.views)  # a duct tree in both views
    assert report.performed and report.laterality == "L"
    assert report.assessment.birads == reading.birads
    if reading.birads >= 4:
        assert any("tissue" in r.kind or "biopsy" in r.text for r in report.recommendations)
    bundle = json.loads((demo_run.folder / "report" / "fhir_bundle.json").read_text())
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"ServiceRequest", "Procedure", "ImagingStudy", "DiagnosticReport"} <= kinds


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not found")
def test_the_report_sr_passes_dciodvfy(demo_run):
    for name in ("SR_TID1500.dcm", "SR_TID4200.dcm"):
        result = subprocess.run(
            ["dciodvfy", str(demo_run.folder / "report" / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert errors == [], (name, errors)


def test_an_exam_not_done_is_reported_as_incomplete(tmp_path):
    run = run_case("no-discharge", tmp_path / "out", seed=1)
    assert run.views == [] and run.reading is None
    assert run.report.assessment.birads == 0
    assert not (tmp_path / "out" / "dicom").exists()
    assert (tmp_path / "out" / "index.html").is_file()


def test_demo_cases_and_bad_cases():
    for name in DEMO_CASES:
        assert {"patient", "phantom"} <= set(load_case_file(name))
    with pytest.raises(CaseFileError, match="does not exist"):
        load_case_file("no-such-case.yaml")
    with pytest.raises(ParameterError, match="pixel_mm"):
        run_case("papilloma", "/nonexistent/never", pixel_mm=2.0)


def test_demo_command_refuses_an_unknown_case(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--case", "nope", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "case = 'nope'" in result.output
    assert not (tmp_path / "o").exists()


def test_report_command_rebuilds_from_the_edited_record(demo_run, tmp_path):
    record = demo_run.folder / "report" / "report.json"
    data = json.loads(record.read_text())
    data["inputs"]["findings"] = []
    data["inputs"]["assessment"] = {"birads": 1, "reasons": ["edited: normal arborisation"]}
    edited = tmp_path / "report" / "report.json"
    edited.parent.mkdir()
    edited.write_text(json.dumps(data))
    result = CliRunner().invoke(app, ["report", str(edited)])
    assert result.exit_code == 0, result.output
    assert "BI-RADS 1" in result.output
    rebuilt = json.loads(edited.read_text())
    assert rebuilt["assessment"]["birads"] == 1
    assert (tmp_path / "report" / "report.pdf").is_file()


def test_read_command_reads_the_dicom_study(demo_run, tmp_path):
    presentation = sorted(str(p) for p in (demo_run.folder / "dicom").glob("MG_PRES_*.dcm"))
    assert len(presentation) == 2
    result = CliRunner().invoke(app, ["read", *presentation, "--out", str(tmp_path / "read")])
    assert result.exit_code == 0, result.output
    assert "Assessment: BI-RADS" in result.output
    assert (tmp_path / "read" / "reading.json").is_file()
