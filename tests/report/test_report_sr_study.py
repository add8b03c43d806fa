"""The SR against real MG files: study references read from the written images, the SR's
regions land on the marked pixel of the stored image, and both SRs pass dciodvfy."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pydicom
import pytest

from ductogram.core import Image
from ductogram.io import StudyInfo, write_mg
from ductogram.report import KeyImage, ReportFinding, report_from
from ductogram.report.sr import read_measurement_report, study_refs_from_files, write_sr

MARKS = {"CC": (17.0, 41.0), "ML": (52.0, 9.0)}  # image frame (row, col) of each view's mark


@pytest.fixture(params=["L", "R"])
def mg_study(request, tmp_path):
    side = request.param
    study = StudyInfo(patient_id="SYN-0001", patient_age_years=48)
    paths = []
    for k, (view, (row, col)) in enumerate(MARKS.items(), start=1):
        pixels = np.full((64, 48), 0.2)
        pixels[int(row), int(col)] = 1.0
        image = Image(pixels, (0.1, 0.1), view=view, laterality=side)
        paths.append(
            write_mg(
                image, tmp_path / f"MG_{view}.dcm", study=study, series_number=1, instance_number=k
            )
        )
    return side, paths, tmp_path


def test_regions_land_on_the_marked_pixels(mg_study, completed, doses):
    side, paths, folder = mg_study
    refs = study_refs_from_files(paths)
    assert [(i.view, i.laterality, i.image_shape) for i in refs.images] == [
        ("CC", side, (64, 48)),
        ("ML", side, (64, 48)),
    ]
    finding = ReportFinding(
        kind="filling defect",
        size_mm=3.0,
        key_images=[KeyImage(view=v, row=r, col=c, radius_px=2) for v, (r, c) in MARKS.items()],
    )
    procedure = type(completed).model_validate({**completed.model_dump(), "laterality": side})
    report = report_from(procedure, [], [finding], study_uids=refs)
    (folder / "sr").mkdir()
    tid1500, tid4200 = write_sr(report, folder / "sr")
    sr = pydicom.dcmread(tid1500)
    mg = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p).pixel_array for p in paths}
    regions = [
        item
        for group in sr.ContentSequence[-1].ContentSequence
        for item in group.get("ContentSequence", [])
        if item.ValueType == "SCOORD"
    ]
    assert len(regions) == 2
    for region in regions:
        x, y = region.GraphicData[:2]
        uid = region.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        stored = mg[uid]
        # SCOORD puts pixel centres at half-integers
        assert stored[int(y - 0.5), int(x - 0.5)] == stored.max()  # the mark
    back = read_measurement_report(tid1500, refs)
    assert [(k.view, k.row, k.col) for k in back[0].key_images] == [
        (v, r, c) for v, (r, c) in MARKS.items()
    ]
    tool = shutil.which("dciodvfy")
    if tool is None:
        pytest.skip("dciodvfy (dicom3tools) is not installed")
    for path in (tid1500, tid4200):
        out = subprocess.run([tool, str(path)], capture_output=True, text=True)
        errors = [s for s in (out.stdout + out.stderr).splitlines() if s.startswith("Error")]
        assert errors == [], path.name
