"""Scoring the quality flags and the two-view locations against the simulator's truth."""

from __future__ import annotations

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
