"""`ductogram simulate`: phantom, exam and views written together, or nothing."""

from __future__ import annotations

import json

import numpy as np
import yaml
from typer.testing import CliRunner

from ductogram.cli import app

CASE = {
    "patient": {
        "id": "SYN-0042",
        "age_years": 52,
        "sex": "female",
        "pregnancy": "no",
        "discharge": {
            "spontaneous": True,
            "laterality": "R",
            "ducts": "single",
            "colour": "serous",
            "present_today": True,
        },
    },
    "phantom": {
        "lobes": 10,
        "orifices": 5,
        "tdlus_per_lobe": 30,
        "volume_ml": 350,
        "compressed_thickness_mm": 45,
        "lesions": [{"kind": "papilloma"}],
    },
    "exam": {"volume_ml": 0.5, "views": ["CC", "ML"]},
}


def test_simulate_writes_views_with_truth_and_dose(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(CASE))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["simulate", str(case), "--out", str(out), "--pixel-mm", "0.2"]
    )
    assert result.exit_code == 0, result.output
    for name in ("RCC.png", "RML.png", "RCC.npz", "RML.npz", "views.json", "procedure.json"):
        assert (out / name).is_file()
    dicom = sorted(p.name for p in (out / "dicom").iterdir())
    assert dicom == sorted(
        f"{kind}_R{view}.dcm" for kind in ("MG_PRES", "MG_PROC", "SEG") for view in ("CC", "ML")
    )
    views = json.loads((out / "views.json").read_text())
    assert [v["name"] for v in views["views"]] == ["RCC", "RML"]
    assert views["exam_mgd_mgy"] == sum(v["dose"]["mgd_mgy"] for v in views["views"])
    with np.load(out / "RCC.npz") as arrays:
        assert arrays["for_processing"].dtype == np.uint16
        assert arrays["contrast_mask"].shape == arrays["for_processing"].shape
        assert arrays["contrast_mask"].any() and arrays["breast_mask"].any()
        assert len(arrays["centreline_px"]) == len(arrays["radius_px"]) > 0


def test_simulate_refuses_a_bad_pitch_and_writes_nothing(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(CASE))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", str(case), "--out", str(out), "--pixel-mm", "1"])
    assert result.exit_code == 2
    assert "pixel_mm = 1.0: expected a pitch in [0.05, 0.2] mm" in result.output
    assert not out.exists()


def test_simulate_refuses_an_unknown_device_and_writes_nothing(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(CASE))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", str(case), "--out", str(out), "--device", "tpu"])
    assert result.exit_code == 2
    assert "device = 'tpu': expected one of ('cpu', 'cuda')" in result.output
    assert not out.exists()
