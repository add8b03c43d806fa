"""Where a finding is: analytic geometry, and simulated CC + ML pairs against the truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ductogram.analysis.location import (
    ImageOrientation,
    ViewFinding,
    ViewFrame,
    clock_hour,
    compression_stretch,
    correlate,
    image_orientation,
    locate,
    locate_pair,
    view_frame,
)
from ductogram.core import Image
from ductogram.core.errors import ParameterError


def _frame(view, laterality="L", *, nipple=(100.0, 50.0), thickness=None, width=None, **kw):
    orientation = kw.pop(
        "orientation",
        ImageOrientation(across_towards="lateral" if view == "CC" else "superior"),
    )
    return ViewFrame(
        view=view,
        laterality=laterality,
        nipple_rc=nipple,
        orientation=orientation,
        spacing_mm=(1.0, 1.0),
        image_shape=(120, 100),
        thickness_mm=thickness,
        across_extent_mm=width,
    )


# ---------------------------------------------------------------- analytic cases


def test_clock_hours_facing_the_patient():
    assert clock_hour(0.0, 10.0, "left") == 3  # lateral on the left breast
    assert clock_hour(0.0, 10.0, "right") == 9  # lateral on the right breast
    assert clock_hour(0.0, -10.0, "left") == 9
    assert clock_hour(10.0, 0.0, "R") == 12
    assert clock_hour(-10.0, 0.0, "L") == 6
    assert clock_hour(10.0, 10.0, "left") == 2  # 45°: half-hours round up
    assert clock_hour(10.0, 17.0, "right") == 10  # upper outer quadrant of the right breast
    assert clock_hour(-10.0, 10.0, "left") == 5  # 135° → 4.5 → 5
    with pytest.raises(ParameterError, match="laterality"):
        clock_hour(1.0, 1.0, "")


def test_point_lateral_of_the_nipple_on_a_cc_pair():
    # No compression correction (no thickness): distances as seen, less the nipple length.
    cc, ml = _frame("CC"), _frame("ML")
    # 20 px behind the nipple in both views, 30 px lateral in CC, on the axis in ML.
    loc = locate_pair((80.0, 80.0), cc, (80.0, 50.0), ml)
    assert loc.clock_hour == 3
    assert loc.position_mm == pytest.approx((16.0, 0.0, 30.0))
    assert loc.distance_mm == pytest.approx(math.hypot(16.0, 30.0), abs=0.01)
    assert loc.distance_from_nipple_cm == 3
    assert not loc.distance_is_lower_bound and loc.unknown == []
    right = locate_pair((80.0, 80.0), _frame("CC", "R"), (80.0, 50.0), _frame("ML", "R"))
    assert right.clock_hour == 9
    assert right.text() == "right breast, 9 o'clock, anterior depth, 3 cm from the nipple"


def test_superior_point_is_12_and_mlo_unmixes_the_oblique():
    cc, ml = _frame("CC"), _frame("ML")
    # On the axis in CC (col 50), 25 px superior in ML (col 75).
    assert locate_pair((80.0, 50.0), cc, (80.0, 75.0), ml).clock_hour == 12
    # MLO at 45°: across = sin45 superior + cos45 lateral. A point 20 mm lateral, 0 superior
    # projects 14.1 mm along the oblique: reconstructed as 3 o'clock on a left breast.
    mlo = _frame("MLO")
    loc = locate_pair((80.0, 70.0), cc, (80.0, 50.0 + 20.0 * math.sqrt(0.5)), mlo)
    assert loc.position_mm[1] == pytest.approx(0.0, abs=1e-6)
    assert loc.clock_hour == 3


def test_depth_thirds_from_the_nipple_line():
    cc, ml = _frame("CC"), _frame("ML")
    # Nipple tip at row 100 → chest wall 100.5 mm; base line 96.5 mm.
    depths = [locate_pair((100.0 - a, 50.0), cc, (100.0 - a, 50.0), ml).depth for a in (20, 50, 90)]
    assert depths == ["anterior", "middle", "posterior"]


def test_one_view_says_what_it_cannot_tell():
    loc = locate(80.0, 20.0, _frame("CC"))
    assert loc.clock_hour is None and loc.side == "medial"
    assert loc.distance_is_lower_bound
    assert any(u.startswith("clock hour: needs a CC and an ML/MLO view") for u in loc.unknown)
    assert loc.text() == "left breast, medial half, anterior depth, at least 3 cm from the nipple"
    # Next to the nipple: a bound of 0 cm tells nothing; two views say "retroareolar".
    near = locate(99.0, 50.0, _frame("CC"))
    assert near.distance_from_nipple_cm is None and near.distance_is_lower_bound
    assert near.distance_mm is not None and near.distance_mm < 5.0
    assert "cm from the nipple" not in near.text() and "retroareolar" not in near.text()
    pair = locate_pair((99.0, 50.0), _frame("CC"), (99.0, 50.0), _frame("ML"))
    assert pair.text().endswith("anterior depth, retroareolar")
    ml = locate(80.0, 60.0, _frame("ML"))
    assert ml.side == "upper" and ml.position_mm[2] is None


def test_compression_stretch_two_views_and_one():
    # A 100 mm high, 120 mm wide breast compressed to 50 mm in both views.
    cc = _frame("CC", thickness=50.0, width=120.0 * math.sqrt(2.0))
    ml = _frame("ML", thickness=50.0, width=100.0 * math.sqrt(120.0 / 50.0))
    assert compression_stretch(cc, ml)[0] == pytest.approx(math.sqrt(2.0))
    assert compression_stretch(ml, cc)[0] == pytest.approx(math.sqrt(2.4))
    one, note = compression_stretch(cc)
    assert 1.3 < one < 1.5 and "one view" in note
    assert compression_stretch(_frame("CC")) == (
        1.0,
        pytest.approx(compression_stretch(_frame("CC"))[1]),
    )


def test_orientation_from_patient_orientation_and_stored_frames():
    px = np.zeros((4, 4))
    left = Image(px, (0.1, 0.1), view="CC", laterality="L")
    assert image_orientation(left) == ImageOrientation(across_towards="lateral")
    ml = Image(px, (0.1, 0.1), view="ML", laterality="R")
    assert image_orientation(ml).across_towards == "superior"
    # The hanging orientation written by io.dicom_mg: A\R for a left CC → chest wall at the
    # left edge (rows run along the nipple axis), rows increase towards the right = medial.
    hung = Image(
        px, (0.1, 0.1), view="CC", laterality="L", metadata={"patient_orientation": ["A", "R"]}
    )
    o = image_orientation(hung)
    assert (o.chest_wall, o.across_towards) == ("left", "medial")
    stored = Image(px, (0.1, 0.1), view="CC", metadata={"frame": "stored"})
    assert image_orientation(stored, "right") == ImageOrientation(
        chest_wall="right", across_towards=None, source="unknown"
    )


def test_rotated_frame_gives_the_same_location():
    cc, ml = _frame("CC"), _frame("ML")
    ref = locate_pair((80.0, 80.0), cc, (70.0, 40.0), ml)
    # The same CC image transposed so the chest wall is at the left, across downwards.
    cc_t = cc.model_copy(
        update={
            "nipple_rc": (50.0, 100.0),
            "orientation": ImageOrientation(chest_wall="left", across_towards="lateral"),
            "image_shape": (100, 120),
        }
    )
    assert locate_pair((80.0, 80.0), cc_t, (70.0, 40.0), ml).position_mm == ref.position_mm


def test_correlate_pairs_by_kind_and_distance():
    cc, ml = _frame("CC"), _frame("ML")
    f_cc = [
        ViewFinding(kind="filling defect", row=80.0, col=70.0, view="CC"),
        ViewFinding(kind="filling defect", row=40.0, col=40.0, view="CC"),
        ViewFinding(kind="cyst", row=60.0, col=50.0, view="CC"),
    ]
    f_ml = [
        ViewFinding(kind="filling defect", row=42.0, col=55.0, view="ML"),
        ViewFinding(kind="filling defect", row=79.0, col=45.0, view="ML"),
        ViewFinding(kind="ectasia", row=60.0, col=50.0, view="ML"),
    ]
    out = correlate(f_cc, f_ml, cc, ml)
    paired = [o for o in out if len(o.findings) == 2]
    assert len(paired) == 2
    assert {(o.findings[0].row, o.findings[1].row) for o in paired} == {(80.0, 79.0), (40.0, 42.0)}
    single = [o for o in out if len(o.findings) == 1]
    assert sorted(o.kind for o in single) == ["cyst", "ectasia"]
    assert all(o.location.clock_hour is None for o in single)
    # Too far apart to be one lesion.
    far = correlate(
        f_cc[:1], [ViewFinding(kind="filling defect", row=20.0, col=50.0, view="ML")], cc, ml
    )
    assert [len(o.findings) for o in far] == [1, 1]


def test_bad_input():
    with pytest.raises(ParameterError, match="row"):
        locate(float("nan"), 1.0, _frame("CC"))
    with pytest.raises(ParameterError, match="frame"):
        locate(1.0, 1.0, "CC")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="views"):
        locate_pair((1.0, 1.0), _frame("ML"), (1.0, 1.0), _frame("CC"))
    with pytest.raises(ParameterError, match="tolerance_mm"):
        correlate([], [], None, None, tolerance_mm=0.0)
    with pytest.raises(ValueError, match="view"):
        ViewFinding(kind="x", row=1.0, col=1.0, view="AP")
    with pytest.raises(ParameterError, match="image"):
        view_frame(np.zeros((4, 4)))  # type: ignore[arg-type]


# ---------------------------------------------------------------- simulated truth


def _truth(phantom, k):
    x, y, z = phantom.trees[0].lesions[k].centre_mm
    lat = "left" if phantom.breast.laterality.value == "L" else "right"
    return float(np.linalg.norm((x, y, z))), clock_hour(y, z, lat), x / phantom.breast.depth_mm


@pytest.mark.parametrize("laterality", ["L", "R"])
def test_simulated_lesions_located_from_two_views(lesion_views, laterality):
    phantom, views = lesion_views[laterality]
    frames = {v: view_frame(views[v].processing) for v in views}
    assert all(f is not None for f in frames.values())
    for k, _ in enumerate(phantom.trees[0].lesions):
        dist, hour, _ = _truth(phantom, k)
        pc = views["CC"].processing.truth.lesions[k]["centre_px"]
        pm = views["ML"].processing.truth.lesions[k]["centre_px"]
        loc = locate_pair(tuple(pc), frames["CC"], tuple(pm), frames["ML"])
        assert abs(loc.distance_mm - dist) < 3.0, (k, loc, dist)
        assert abs((loc.clock_hour - hour + 6) % 12 - 6) <= 1, (k, loc.clock_hour, hour)
        assert loc.laterality == ("left" if laterality == "L" else "right")


def test_simulated_findings_correlate_into_lesions(lesion_views):
    _, views = lesion_views["L"]
    frames = {v: view_frame(views[v].processing) for v in views}
    found = {
        v: [
            ViewFinding(kind=les["kind"], row=les["centre_px"][0], col=les["centre_px"][1], view=v)
            for les in views[v].processing.truth.lesions
        ]
        for v in views
    }
    out = correlate(found["CC"], found["ML"][::-1], frames["CC"], frames["ML"])
    assert all(len(o.findings) == 2 for o in out)
    by_cc_row = {o.findings[0].row: o for o in out}
    for k, les in enumerate(views["CC"].processing.truth.lesions):
        o = by_cc_row[les["centre_px"][0]]
        # Paired with the same lesion's ML finding.
        assert o.findings[1].row == views["ML"].processing.truth.lesions[k]["centre_px"][0]
