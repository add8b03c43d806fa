"""DICOM SR of the report: TID 1500 and TID 4200 pass dciodvfy with no errors and read back
to the same findings; key-image points map to the stored (hanging) pixel frame."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pydicom
import pytest

from ductogram.io import hanging_orientation
from ductogram.report import ReportFinding, report_from
from ductogram.report.sr import (
    from_stored_frame,
    read_breast_imaging_report,
    read_measurement_report,
    to_stored_frame,
    write_sr,
)


def _dciodvfy(path):
    tool = shutil.which("dciodvfy")
    if tool is None:
        pytest.skip(
            "dciodvfy (Debian package dicom3tools) is not installed; `make test` installs it"
        )
    out = subprocess.run([tool, str(path)], capture_output=True, text=True)
    lines = (out.stdout + out.stderr).splitlines()
    return [s for s in lines if s.startswith("Error")]


@pytest.fixture
def written(completed, doses, defect, cutoff, study, tmp_path):
    findings = [defect, cutoff, ReportFinding(kind="duct ectasia", size_mm=3.4)]
    report = report_from(completed, doses, findings, study_uids=study).sign("Reader^Anna")
    return report, write_sr(report, tmp_path)


def test_both_srs_pass_dciodvfy_with_no_errors(written):
    _, paths = written
    assert [p.name for p in paths] == ["SR_TID1500.dcm", "SR_TID4200.dcm"]
    for path in paths:
        assert _dciodvfy(path) == [], path.name


def test_sop_classes_template_and_study(written, study):
    _, (tid1500, tid4200) = written
    a, b = pydicom.dcmread(tid1500), pydicom.dcmread(tid4200)
    assert a.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert b.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.22"  # Enhanced SR
    assert a.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    assert b.ContentTemplateSequence[0].TemplateIdentifier == "4200"
    assert a.StudyInstanceUID == b.StudyInstanceUID == study.study_instance_uid
    assert b.VerificationFlag == "VERIFIED" and b.PreliminaryFlag == "FINAL"
    referenced = {
        s.ReferencedSOPInstanceUID
        for e in a.CurrentRequestedProcedureEvidenceSequence
        for r in e.ReferencedSeriesSequence
        for s in r.ReferencedSOPSequence
    }
    assert referenced == {i.sop_instance_uid for i in study.images}


def test_tid1500_round_trip(written, study):
    report, (tid1500, _) = written
    back = read_measurement_report(tid1500, study)
    assert [f.kind for f in back] == [f.kind for f in report.findings]
    for got, sent in zip(back, report.findings, strict=True):
        assert got.code == sent.code
        assert got.size_mm == pytest.approx(sent.size_mm) if sent.size_mm else got.size_mm is None
        assert (got.laterality, got.clock_hour, got.depth, got.distance_from_nipple_cm) == (
            sent.laterality,
            sent.clock_hour,
            sent.depth,
            sent.distance_from_nipple_cm,
        )
        assert [(k.view, k.row, k.col) for k in got.key_images] == [
            (k.view, pytest.approx(k.row), pytest.approx(k.col)) for k in sent.key_images
        ]
        assert {k.sop_instance_uid for k in got.key_images} == {
            study.find(k.view).sop_instance_uid for k in sent.key_images
        }


def test_tid4200_round_trip(written):
    report, (_, tid4200) = written
    back = read_breast_imaging_report(tid4200)
    assert back["procedure"] == "18102001" and back["laterality"] == "L"
    assert back["birads"] == report.assessment.birads == 4
    assert [r.code for r in report.recommendations] == back["follow_up"]
    for got, sent in zip(back["findings"], report.findings, strict=True):
        assert (got.kind, got.code, got.clock_hour, got.depth, got.distance_from_nipple_cm) == (
            sent.kind,
            sent.code,
            sent.clock_hour,
            sent.depth,
            sent.distance_from_nipple_cm,
        )


@pytest.mark.parametrize("side", ["L", "R"])
def test_stored_frame_matches_the_mg_writer(study, side):
    ref = study.images[0].model_copy(update={"laterality": side})
    image = np.zeros(ref.image_shape)
    image[17, 83] = 1.0
    stored = hanging_orientation(image, side)
    (i,), (j,) = np.nonzero(stored)
    assert to_stored_frame(17, 83, ref) == (j + 0.5, i + 0.5)  # SCOORD: (column, row)
    assert from_stored_frame(j + 0.5, i + 0.5, ref) == (17, 83)


def test_no_images_no_sr(failed, tmp_path):
    assert write_sr(report_from(failed, [], []), tmp_path) == []
