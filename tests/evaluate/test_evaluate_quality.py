"""Scoring the quality flags and the two-view locations against the simulator's truth."""

from __future__ import annotations

import json
import math

import pytest

from ductogram.core.errors import ParameterError
from ductogram.evaluate.quality_eval import (
    PROBLEMS,
    evaluate_location,
    evaluate_quality,
    simulate_quality_case,
)


def test_location_errors_on_one_pair():
    out = evaluate_location([3000])
    assert out["located"] == 3
    assert out["distance_error_mm_median"] < 3.0
    assert out["clock_within_1h"] == 1.0
    for rec in out["lesions"]:
        assert rec["text"].startswith("right breast" if rec["laterality"] == "R" else "left")


def test_quality_scores_one_view():
    # Seed 2012 % 14 = 10: the sixth problem, jewellery (metal).
    out = evaluate_quality([2012], with_evidence=True)
    (case,) = out["cases"]
    assert case["recipe"] == "metal" and case["truth"] == ["metal"]
    assert set(out["per_flag"]) == set(PROBLEMS)
    assert out["per_flag"]["metal"]["positives"] == 1
    assert math.isnan(out["per_flag"]["specks"]["sensitivity"])
    assert out["per_flag"]["specks"]["negatives"] == 1
    assert set(case["evidence"]) == set(PROBLEMS)


def test_bad_input():
    with pytest.raises(ParameterError, match="seeds"):
        evaluate_quality([])
    with pytest.raises(ParameterError, match="problem"):
        simulate_quality_case("sunburn", 1)


def test_quality_writes_its_files_with_intervals(tmp_path):
    """Two views (seeds 2012: metal, 2013: clean) in two processes: the files, the
    intervals (Wilson's, 1 of 1 flagged: [0.21, 1]), and nothing written over."""
    out = tmp_path / "q"
    summary = evaluate_quality([2012, 2013], workers=2, out=out)
    assert {p.name for p in out.iterdir()} == {"views.csv", "summary.json"}
    saved = json.loads((out / "summary.json").read_text())
    assert saved["views"] == 2 and saved["seeds"] == [2012, 2013]
    metal = saved["per_flag"]["metal"]
    assert metal["positives"] == 1 and metal["negatives"] == 1
    assert metal["sensitivity"] == summary["per_flag"]["metal"]["sensitivity"]
    flagged = int(metal["sensitivity"])
    expected = [0.2065, 1.0] if flagged else [0.0, 0.7935]
    assert metal["sensitivity_ci95"] == pytest.approx(expected, abs=1e-4)
    # One view each way settles nothing: 0.21-1 and 0-0.79 hold both targets.
    assert not metal["sensitivity_target"]["settled"]
    assert metal["false_flag_rate_target"]["met"] == (metal["false_flag_rate"] <= 0.05)
    assert not metal["false_flag_rate_target"]["settled"] and saved["workers"] == 2
    assert saved["per_flag"]["specks"]["sensitivity"] is None  # no view with specks
    assert saved["per_flag"]["specks"]["met"] is None
    rows = (out / "views.csv").read_text().splitlines()
    assert rows[0].startswith("seed,recipe") and rows[1].startswith("2012,metal")
    with pytest.raises(FileExistsError):
        evaluate_quality([2012], out=out)
    with pytest.raises(ParameterError, match="workers"):
        evaluate_quality([2012], workers=0)
