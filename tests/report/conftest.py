"""Shared report fixtures: two procedure records (completed, failed cannulation) of one small
phantom, findings built by hand, and study references of a two-view study (no pixels)."""

from __future__ import annotations

import pytest
from pydicom.uid import generate_uid

from ductogram.anatomy import generate_phantom
from ductogram.exam import run_exam
from ductogram.report import ImageRef, KeyImage, ReportFinding, StudyRefs, ViewDose

PATIENT = {
    "id": "SYN-0001",
    "age_years": 48,
    "discharge": {
        "spontaneous": True,
        "laterality": "L",
        "ducts": "single",
        "colour": "bloody",
        "present_today": True,
        "cytology": "benign",
    },
}
SHAPE = (120, 100)  # image frame of the test views (rows, cols)


@pytest.fixture(scope="session")
def phantom():
    return generate_phantom(
        {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30, "lesions": [{"kind": "papilloma"}]},
        seed=3,
    )


@pytest.fixture(scope="session")
def completed(phantom):
    procedure, _ = run_exam(PATIENT, phantom, {"cannulation_failure_probability": 0.0}, rng=1)
    assert procedure.outcome == "completed"
    return procedure


@pytest.fixture(scope="session")
def failed(phantom):
    procedure, _ = run_exam(PATIENT, phantom, {"cannulation_failure_probability": 1.0}, rng=1)
    assert procedure.outcome == "incomplete_cannulation_failed"
    return procedure


@pytest.fixture(scope="session")
def doses():
    return [
        ViewDose(view="CC", laterality="L", mgd_mgy=1.25),
        ViewDose(view="ML", laterality="L", mgd_mgy=1.5),
    ]


@pytest.fixture(scope="session")
def study():
    series = generate_uid()
    return StudyRefs(
        study_instance_uid=generate_uid(),
        accession_number="DUCTO0001",
        patient_name="SYNTHETIC^DUCTOGRAM",
        patient_sex="F",
        study_id="1",
        study_date="20260101",
        study_time="090000",
        images=[
            ImageRef(
                view=view,
                laterality="L",
                sop_instance_uid=generate_uid(),
                sop_class_uid="1.2.840.10008.5.1.4.1.1.1.2",
                series_instance_uid=series,
                image_shape=SHAPE,
                pixel_spacing_mm=(0.2, 0.2),
            )
            for view in ("CC", "ML")
        ],
    )


@pytest.fixture
def defect():
    """A 4 mm filling defect seen on both views, fully located."""
    return ReportFinding(
        kind="filling defect",
        size_mm=4.2,
        laterality="L",
        clock_hour=11,
        depth="anterior",
        distance_from_nipple_cm=2,
        key_images=[
            KeyImage(view="CC", row=40.0, col=30.0, radius_px=6.0),
            KeyImage(view="ML", row=50.0, col=35.0, radius_px=6.0),
        ],
        confidence=0.8,
    )


@pytest.fixture
def cutoff():
    return ReportFinding(
        kind="abrupt duct termination",
        size_mm=1.5,
        clock_hour=2,
        distance_from_nipple_cm=4,
        key_images=[KeyImage(view="CC", row=70.0, col=60.0)],
        unknown=["depth: one view only"],
    )
