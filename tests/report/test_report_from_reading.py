"""The adapter from an exam reading (analysis.assessment.ExamReading) to the report's inputs."""

from __future__ import annotations

import importlib.util

import pytest

from ductogram.core import ParameterError
from ductogram.report import inputs_from_exam_reading, report_from
from ductogram.report.sr import build_measurement_report

READING = {
    "views": [
        {
            "index": 0,
            "view": "CC",
            "laterality": "L",
            "found": True,
            "total_length_mm": 182.4,
            "segments": 40,
            "max_generation": 7,
            "findings": [],
            "quality": [
                {
                    "code": "air_bubbles",
                    "description": "air bubbles: round lucencies",
                    "action": "flush the cannula",
                }
            ],
        },
        {
            "index": 1,
            "view": "ML",
            "laterality": "L",
            "found": True,
            "total_length_mm": 170.0,
            "segments": 38,
            "max_generation": 6,
            "findings": [],
            "quality": [],
        },
    ],
    "lesions": [
        {
            "kind": "filling defect",
            "code": {"value": "111425", "scheme": "DCM", "meaning": "Intraluminal filling defect"},
            "confidence": 0.9,
            "size_mm": 4.4,
            "views": ["CC", "ML"],
            "findings": [
                {
                    "kind": "filling defect",
                    "view": "CC",
                    "row": 40.0,
                    "col": 30.0,
                    "size_mm": 4.4,
                    "confidence": 0.7,
                    "evidence": "lumen 1.8x wider, 0.5x the contrast",
                },
                {
                    "kind": "filling defect",
                    "view": "ML",
                    "row": 50.0,
                    "col": 35.0,
                    "size_mm": 4.0,
                    "confidence": 0.6,
                },
            ],
            "location": "left breast, 11 o'clock, anterior depth, at least 2 cm from the nipple",
            "distance_from_nipple_cm": 2.3,
            "counted": True,
        },
        {
            "kind": "duct ectasia",
            "code": None,
            "confidence": 0.4,
            "size_mm": 2.2,
            "views": ["CC"],
            "findings": [],
            "location": "left breast, lateral half",
            "distance_from_nipple_cm": None,
            "counted": False,
        },
    ],
    "birads": 4,
    "birads_code": {"value": "397144001", "scheme": "SCT", "meaning": "4 - Suspicious"},
    "normal": False,
    "reasons": ["filling defect (left breast, 11 o'clock): tissue diagnosis"],
    "recommendation": "tissue diagnosis",
    "notes": [],
}


def _check(findings, assessment, measurements):
    assert [f.kind for f in findings] == ["filling defect"]
    f = findings[0]
    assert (f.laterality, f.clock_hour, f.depth, f.distance_from_nipple_cm) == (
        "L",
        11,
        "anterior",
        2,
    )
    assert f.code.value == "111425" and f.size_mm == pytest.approx(4.4)
    assert [(k.view, k.row, k.col) for k in f.key_images] == [("CC", 40, 30), ("ML", 50, 35)]
    assert any("lower bound" in n for n in f.notes)
    assert assessment.birads == 4 and assessment.abnormal
    assert "1 candidate finding(s) below the calling confidence" in assessment.reasons[-1]
    assert [q.name for q in assessment.qc] == ["CC air_bubbles"]
    assert not assessment.qc[0].makes_incomplete
    assert [m.value for m in measurements] == [182.4, 7.0, 170.0, 6.0]


def test_adapter_from_a_mapping(completed, doses, study):
    findings, assessment, measurements = inputs_from_exam_reading(READING)
    _check(findings, assessment, measurements)
    report = report_from(
        completed, doses, findings, assessment, study_uids=study, measurements=measurements
    )
    assert report.assessment.birads == report.derived_birads == 4
    sr = build_measurement_report(report)  # measurements go into the TID 1500 report
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"


@pytest.mark.skipif(
    importlib.util.find_spec("ductogram.analysis.assessment") is None,
    reason="ductogram.analysis.assessment is not there",
)
def test_adapter_from_an_exam_reading():
    from ductogram.analysis.assessment import ExamReading

    _check(*inputs_from_exam_reading(ExamReading.model_validate(READING)))


def test_adapter_rejects_other_objects():
    with pytest.raises(ParameterError, match="exam_reading"):
        inputs_from_exam_reading({"views": []})
    bad = {**READING, "lesions": [{**READING["lesions"][0], "kind": "tumour"}]}
    with pytest.raises(ParameterError, match="lesion"):
        inputs_from_exam_reading(bad)


def test_a_one_view_bound_of_zero_is_no_distance():
    # A finding over the nipple in its one view: the reading's lesion has no distance (a
    # bound of 0 cm tells nothing), and the report says the distance is unknown, not
    # "retroareolar"; two views at 0 cm are retroareolar.
    from ductogram.analysis.assessment import ExamReading, _lesion
    from ductogram.analysis.findings import Finding
    from ductogram.analysis.location import ImageOrientation, ViewFrame, locate, locate_pair

    def frame(view):  # nipple at (100, 50), 1 mm pixels, rows towards the nipple
        across = "lateral" if view == "CC" else "superior"
        return ViewFrame(
            view=view,
            laterality="L",
            nipple_rc=(100.0, 50.0),
            orientation=ImageOrientation(across_towards=across),
            spacing_mm=(1.0, 1.0),
            image_shape=(120, 100),
        )

    finding = Finding(kind="filling defect", view="CC", row=99, col=50, size_mm=4.0)
    reading = ExamReading.model_validate(READING).model_dump()
    for location, expected in (
        (locate(99.0, 50.0, frame("CC")), None),
        (locate_pair((99.0, 50.0), frame("CC"), (99.0, 50.0), frame("ML")), 0),
    ):
        lesion = _lesion([finding], location.text(), location).model_dump()
        reading["lesions"] = [{**lesion, "counted": True}]
        (f,) = inputs_from_exam_reading(reading)[0]
        assert f.distance_from_nipple_cm == expected
        assert ("distance from the nipple" in f.unknown) == (expected is None)
