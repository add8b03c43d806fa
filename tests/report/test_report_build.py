"""The report follows its record: BI-RADS and recommendations from the findings and the
outcome, the technique from the procedure, rebuilding after edits, bad input."""

from __future__ import annotations

import json

import pytest

from ductogram.core import ParameterError
from ductogram.report import (
    AssessmentInput,
    QCFlag,
    ReportFinding,
    load_report,
    rebuild_report_file,
    report_from,
)


def _kinds(report):
    return [r.kind for r in report.recommendations]


def test_cut_off_gives_birads_4_and_a_tissue_diagnosis(completed, doses, cutoff):
    report = report_from(completed, doses, [cutoff])
    assert report.assessment.birads == 4
    assert report.assessment.subcategory == "4B"
    assert report.assessment.abnormal
    assert _kinds(report)[:3] == [
        "ultrasound-guided biopsy",
        "duct excision",
        "preoperative localisation",
    ]
    excision = report.recommendations[1]
    assert f"microdochectomy of the {completed.duct.name} duct" in excision.text
    assert "BI-RADS 4B: Suspicious." in report.impression
    assert any("Not determined: depth: one view only" in s for s in report.findings_text)


def test_solitary_defect_is_4_without_subcategory(completed, doses, defect):
    report = report_from(completed, doses, [defect])
    assert (report.assessment.birads, report.assessment.subcategory) == (4, None)
    assert report.findings_text[0].startswith(
        "1. Filling defect, 4 mm, left breast, 11 o'clock, anterior third, 2 cm from the nipple"
    )


def test_failed_cannulation_gives_0_with_repeat_or_mri(failed):
    report = report_from(failed, [], [])
    assert not report.performed
    assert report.assessment.birads == 0
    assert _kinds(report) == ["repeat ductography", "breast MRI"]
    assert report.recommendations[0].code.value == "18102001"
    assert "failed" in report.technique.text
    assert report.findings_text == ["No images were obtained."]


def test_completed_without_findings_is_normal_with_follow_up(completed, doses):
    report = report_from(completed, doses, None)
    assert [f.kind for f in report.findings] == ["normal arborisation"]
    assert report.assessment.birads == 1 and not report.assessment.abnormal
    assert _kinds(report)[0] == "clinical follow-up"


def test_unreadable_exam_is_not_called_normal(completed, doses):
    qc = QCFlag(name="CC no_contrast", message="no contrast-filled duct", makes_incomplete=True)
    report = report_from(completed, doses, [], AssessmentInput(birads=0, qc=[qc]))
    assert report.findings == []
    assert report.findings_text[0] == "No finding could be read on the images."
    assert "The ductogram could not be read." in report.impression
    assert report.derived_birads == 0 and _kinds(report)[0] == "repeat ductography"


def test_ectasia_is_benign(completed, doses):
    report = report_from(completed, doses, [ReportFinding(kind="duct ectasia", size_mm=3.2)])
    assert report.assessment.birads == 2
    assert "Duct ectasia can explain the discharge." == report.recommendations[0].reason


def test_extravasation_alone_is_incomplete_with_repeat_in_7_to_14_days(completed, doses):
    report = report_from(completed, doses, [ReportFinding(kind="extravasation")])
    assert report.assessment.birads == 0
    assert report.recommendations[0].interval_days == (7, 14)


def test_qc_flag_that_spoils_the_exam_gives_0(completed, doses):
    qc = QCFlag(
        name="underfilled",
        message="Only the main duct filled.",
        action="Repeat with 1 mL.",
        makes_incomplete=True,
    )
    report = report_from(completed, doses, [], AssessmentInput(birads=0, qc=[qc]))
    assert report.derived_birads == 0
    assert _kinds(report) == ["repeat ductography", "breast MRI"]
    assert "Repeat with 1 mL." in report.recommendations[0].reason


def test_key_images_get_their_uid_and_a_radius_from_the_size(completed, doses, cutoff, study):
    report = report_from(completed, doses, [cutoff], study_uids=study)
    (key,) = report.findings[0].key_images
    assert key.sop_instance_uid == study.find("CC").sop_instance_uid
    assert key.radius_px == pytest.approx(2.0 / 0.2)  # 1.5 mm cut-off: the 2 mm minimum


def test_technique_from_the_record_and_doses(completed, doses):
    t = report_from(completed, doses, []).technique
    assert t.duct == completed.duct.name
    assert t.cannula.startswith("30 G blunt")
    assert t.volume_ml == pytest.approx(completed.injected_ml)
    assert t.views == ["LCC", "LML"]
    assert t.dose_per_view_mgy == {"LCC": 1.25, "LML": 1.5}
    assert t.total_dose_mgy == pytest.approx(2.75)
    assert "total 2.75 mGy" in t.text


def test_reader_category_is_kept_and_the_disagreement_shown(completed, doses, cutoff):
    report = report_from(completed, doses, [cutoff], AssessmentInput(birads=2))
    assert report.assessment.birads == 2 and report.derived_birads == 4
    assert any("findings alone imply 4" in s for s in report.impression)


def test_rebuild_from_edited_findings(completed, doses, defect):
    report = report_from(completed, doses, [defect]).sign("Reader^Anna")
    assert report.status == "final"
    edited = report.rebuild(findings=[ReportFinding(kind="duct ectasia", size_mm=3.0)])
    assert edited.assessment.birads == 2
    assert edited.status == "amended" and edited.signature is None
    again = edited.rebuild(assessment=AssessmentInput(birads=3))
    assert again.assessment.birads == 3
    assert again.rebuild(assessment="derive").assessment.birads == 2


def test_rebuild_report_file_ignores_edited_text(completed, doses, defect, tmp_path):
    path = tmp_path / "report.json"
    report = report_from(completed, doses, [defect])
    data = report.model_dump(mode="json")
    data["impression"] = ["edited text that must not survive"]
    data["inputs"]["findings"][0]["kind"] = "cyst fill"  # the radiologist's edit
    path.write_text(json.dumps(data))
    rebuilt = rebuild_report_file(path)
    assert rebuilt.assessment.birads == 2
    assert "edited text that must not survive" not in rebuilt.impression
    assert load_report(path).findings[0].kind == "cyst fill"
    again = rebuild_report_file(path, {"assessment": {"birads": 4}})
    assert again.assessment.birads == 4


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: ReportFinding(kind="papilloma-ish"), "finding.kind"),
        (lambda: ReportFinding(kind="cyst fill", laterality="up"), "finding.laterality"),
        (lambda: AssessmentInput(birads=2, subcategory="4A"), "assessment.subcategory"),
    ],
)
def test_bad_values_are_named(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_bad_calls_raise_parameter_error(completed, failed, doses, defect):
    with pytest.raises(ParameterError, match="procedure"):
        report_from({"outcome": "completed"}, doses, [])
    with pytest.raises(ParameterError, match=r"findings\.0\.laterality"):
        report_from(completed, doses, [defect.model_copy(update={"laterality": "R"})])
    with pytest.raises(ParameterError, match="findings"):
        report_from(failed, [], [defect])
    with pytest.raises(ParameterError, match=r"signature\.by"):
        report_from(completed, doses, []).sign("  ")
