"""DICOM writing: MG (both intents) and SEG pass dciodvfy, the study is consistent (dcentvfy),
the check can fail, and what is written reads back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from ductogram.core.image import PixelKind
from ductogram.io import ContrastBolus, StudyInfo, hanging_orientation, write_mg, write_study
from ductogram.io.dicom_mg import build_mg_dataset
from ductogram.io.dicom_seg import SEGMENT_LABEL

BOLUS = ContrastBolus("iohexol", 0.5, 300.0, "Omnipaque 300")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} (Debian package dicom3tools) is not installed; `make test` installs it, "
            "or run: apt-get install -y dicom3tools"
        )
    return path


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    """The error and warning lines dciodvfy prints for one file."""
    out = subprocess.run([_tool("dciodvfy"), str(path)], capture_output=True, text=True)
    lines = (out.stdout + out.stderr).splitlines()
    return [s for s in lines if s.startswith("Error")], [s for s in lines if s.startswith("Warn")]


def dcentvfy(paths: list[Path]) -> tuple[int, list[str]]:
    out = subprocess.run([_tool("dcentvfy"), *map(str, paths)], capture_output=True, text=True)
    lines = [s for s in (out.stdout + out.stderr).splitlines() if s.strip()]
    return out.returncode, lines


@pytest.fixture(scope="module")
def views(simulated_views):
    return list(simulated_views.values())


@pytest.fixture(scope="module")
def study(views, tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    paths = write_study(views, folder, patient_id="SYN-0001", contrast=BOLUS)
    return folder, paths


def test_study_writes_mg_for_both_intents_and_seg_per_view(study):
    _, paths = study
    assert sorted(p.name for p in paths) == [
        "MG_PRES_LCC.dcm",
        "MG_PRES_LML.dcm",
        "MG_PROC_LCC.dcm",
        "MG_PROC_LML.dcm",
        "SEG_LCC.dcm",
        "SEG_LML.dcm",
    ]


def test_every_object_passes_dciodvfy_with_no_errors(study):
    _, paths = study
    for path in paths:
        errors, _ = dciodvfy(path)
        assert errors == [], f"{path.name}: {errors}"


def test_the_study_is_consistent_for_dcentvfy(study):
    _, paths = study
    rc, lines = dcentvfy(paths)
    assert rc == 0 and not [s for s in lines if s.startswith(("Error", "Warn"))], lines


@pytest.mark.parametrize("attribute", ["ImageLaterality", "ViewCodeSequence"])
def test_a_broken_file_fails_dciodvfy(study, tmp_path, attribute):
    _, paths = study
    ds = pydicom.dcmread(paths[0])
    delattr(ds, attribute)
    broken = tmp_path / "broken.dcm"
    ds.save_as(broken, enforce_file_format=True)
    errors, _ = dciodvfy(broken)
    assert any(attribute in e for e in errors), errors


def test_an_inconsistent_study_fails_dcentvfy(study, tmp_path):
    _, paths = study
    ds = pydicom.dcmread(paths[1])
    ds.PatientName = "OTHER^PATIENT"
    other = tmp_path / "other.dcm"
    ds.save_as(other, enforce_file_format=True)
    rc, lines = dcentvfy([paths[0], other])
    assert rc != 0 or any(s.startswith(("Error", "Warn")) for s in lines), lines


def test_presentation_pixels_round_trip(study, views):
    folder, _ = study
    sv = views[0]
    ds = pydicom.dcmread(folder / "MG_PRES_LCC.dcm")
    expected = np.floor(np.clip(sv.presentation.pixels.astype(np.float64), 0, 1) * 4095 + 0.5)
    assert np.array_equal(ds.pixel_array, hanging_orientation(expected.astype(np.uint16), "L"))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.2"
    assert ds.PresentationIntentType == "FOR PRESENTATION"
    assert (ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (12, 11, 0)
    assert ds.PixelIntensityRelationship == "LOG"
    assert "WindowCenter" in ds


def test_processing_pixels_round_trip(study, views):
    folder, _ = study
    sv = views[1]
    ds = pydicom.dcmread(folder / "MG_PROC_LML.dcm")
    expected = np.clip(np.rint(sv.processing.pixels.astype(np.float64)), 0, 65535)
    assert np.array_equal(ds.pixel_array, hanging_orientation(expected.astype(np.uint16), "L"))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.2.1"
    assert ds.PresentationIntentType == "FOR PROCESSING"
    assert ds.PixelIntensityRelationship == "LIN"
    assert "WindowCenter" not in ds


def test_geometry_view_dose_and_contrast_read_back(study, views):
    folder, _ = study
    sv = views[0]
    ds = pydicom.dcmread(folder / "MG_PRES_LCC.dcm")
    assert [float(v) for v in ds.ImagerPixelSpacing] == [0.2, 0.2]
    assert float(ds.EstimatedRadiographicMagnificationFactor) == pytest.approx(
        sv.presentation.magnification, rel=1e-5
    )
    assert ds.ImageLaterality == "L"
    assert list(ds.PatientOrientation) == ["A", "R"]
    assert ds.ViewPosition == "CC"
    assert ds.ViewCodeSequence[0].CodeValue == "399162004"
    assert ds.ViewCodeSequence[0].ViewModifierCodeSequence == []
    assert ds.ProcedureCodeSequence[0].CodeValue == "18102001"
    assert ds.AnatomicRegionSequence[0].CodeValue == "76752008"
    assert float(ds.ContrastBolusVolume) == 0.5
    assert float(ds.ContrastBolusIngredientConcentration) == 300.0
    assert ds.ContrastBolusAdministrationRouteSequence[0].CodeValue == "37737002"
    assert float(ds.KVP) == sv.dose["kvp"]
    assert float(ds.OrganDose) == pytest.approx(sv.dose["mgd_mgy"] / 100.0, rel=1e-5)
    assert float(ds.BodyPartThickness) == 45.0
    assert ds.PatientName == "SYNTHETIC^DUCTOGRAM" and ds.PatientID == "SYN-0001"
    ml = pydicom.dcmread(folder / "MG_PRES_LML.dcm")
    assert ml.ViewCodeSequence[0].CodeValue == "399260004"
    assert list(ml.PatientOrientation) == ["A", "F"]


def test_views_share_the_study_and_differ_in_instances(study):
    _, paths = study
    datasets = [pydicom.dcmread(p) for p in paths]
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == len(datasets)
    by_name = {p.name: ds for p, ds in zip(paths, datasets, strict=True)}
    assert (
        by_name["MG_PRES_LCC.dcm"].SeriesInstanceUID == by_name["MG_PRES_LML.dcm"].SeriesInstanceUID
    )
    assert (
        by_name["MG_PRES_LCC.dcm"].SeriesInstanceUID != by_name["MG_PROC_LCC.dcm"].SeriesInstanceUID
    )


def test_seg_holds_the_truth_mask_and_references_its_image(study, views):
    folder, _ = study
    seg = pydicom.dcmread(folder / "SEG_LCC.dcm")
    mg = pydicom.dcmread(folder / "MG_PRES_LCC.dcm")
    mask = hanging_orientation(views[0].scene.truth.contrast_mask, "L")
    assert np.array_equal(seg.pixel_array.astype(bool), mask)
    assert seg.SegmentSequence[0].SegmentLabel == SEGMENT_LABEL
    ref = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert ref.ReferencedSOPInstanceUID == mg.SOPInstanceUID
    assert seg.StudyInstanceUID == mg.StudyInstanceUID


def test_magnification_views_get_the_view_modifier(views, tmp_path):
    import dataclasses

    image = dataclasses.replace(views[0].presentation, magnification=1.8)
    path = write_mg(
        image,
        tmp_path / "mag.dcm",
        study=StudyInfo("SYN-0002"),
        series_number=1,
        instance_number=1,
        contrast=BOLUS,
    )
    ds = pydicom.dcmread(path)
    assert ds.ViewCodeSequence[0].ViewModifierCodeSequence[0].CodeValue == "399163009"
    errors, _ = dciodvfy(path)
    assert errors == []


def test_a_failed_write_leaves_no_file(views, tmp_path, monkeypatch):
    import ductogram.io.dicom_mg as mg

    def boom(ds):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mg, "dataset_bytes", boom)
    with pytest.raises(RuntimeError):
        write_mg(
            views[0].presentation,
            tmp_path / "x.dcm",
            study=StudyInfo("SYN-0003"),
            series_number=1,
            instance_number=1,
        )
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_atomic_write_leaves_no_temporary_file(views, tmp_path, monkeypatch):
    import os

    def fail(*args):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_mg(
            views[0].processing,
            tmp_path / "y.dcm",
            study=StudyInfo("SYN-0004"),
            series_number=2,
            instance_number=1,
        )
    assert list(tmp_path.iterdir()) == []


def test_an_image_without_a_view_is_refused(views):
    import dataclasses

    from ductogram.core.errors import ParameterError

    image = dataclasses.replace(views[0].presentation, view=None)
    assert image.kind == PixelKind.FOR_PRESENTATION
    with pytest.raises(ParameterError, match="view"):
        build_mg_dataset(
            image,
            study=StudyInfo("SYN-0005"),
            series_uid="1.2.3",
            series_number=1,
            instance_number=1,
        )
