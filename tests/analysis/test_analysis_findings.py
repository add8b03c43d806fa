"""Findings of one view: drawn ducts with known lesions, simulated views, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.analysis.findings import (
    CODES,
    CUTOFF_FLARE_MM,
    NARROWING_AREA_RATIO,
    NARROWING_NONE,
    NARROWING_ROOT_MM,
    Finding,
    FindingKind,
    find_findings,
)
from ductogram.analysis.graph import build_tree
from ductogram.analysis.landmarks import (
    DISPLAY_EXPANSION,
    DISPLAY_SHOULDER,
    DISPLAY_TOP_PERCENTILE,
    Landmarks,
    undo_display_shoulder,
)
from ductogram.analysis.reading import Reading, reading_from_tree
from ductogram.core import Image, ParameterError, PixelKind

PIXEL_MM = 0.2
MU_PER_MM = 0.8  # attenuation of the contrast per mm of path (drawn images)


def _path_mm(shape, tubes, masses=()):
    """Path length (mm) through contrast of each pixel: tapered round tubes (each
    ((r0, c0), (r1, c1), radius0_mm, radius1_mm), pixel ends) less ellipsoidal masses
    ((row, col), half-length along rows, half-width, mm)."""
    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    path = np.zeros(shape)
    for (r0, c0), (r1, c1), ra, rb in tubes:
        a = np.array([r0, c0], float)
        d = np.array([r1, c1], float) - a
        length2 = float(d @ d)
        t = np.clip(((rr - a[0]) * d[0] + (cc - a[1]) * d[1]) / length2, 0.0, 1.0)
        dist = np.hypot(rr - a[0] - t * d[0], cc - a[1] - t * d[1]) * PIXEL_MM
        rad = ra + (rb - ra) * t
        chord = 2.0 * np.sqrt(np.clip(rad**2 - dist**2, 0.0, None))
        path = np.maximum(path, chord)
    for (r, c), half_len, half_w in masses:
        u = (rr - r) * PIXEL_MM / half_len
        v = (cc - c) * PIXEL_MM / half_w
        chord = 2.0 * half_w * np.sqrt(np.clip(1.0 - u**2 - v**2, 0.0, None))
        path = np.clip(path - chord, 0.0, None)
    return path


def _view(shape, tubes, masses=(), root=(4.0, 60.0), unread=(), bridged=()):
    """A FOR PROCESSING image of the drawn ducts (and of the ``unread`` tubes, which the
    reading's mask leaves out), its reading and landmarks; the ``bridged`` tubes are in
    the mask but hold no contrast (a read tree bridging tissue between ducts)."""
    path = _path_mm(shape, tubes, masses)
    mask = path > 0.05
    if bridged:
        mask |= _path_mm(shape, bridged) > 0.05
    if unread:
        path = np.maximum(path, _path_mm(shape, unread))
    signal = 1000.0 * np.exp(-(1.5 + MU_PER_MM * path))
    image = Image(signal, (PIXEL_MM, PIXEL_MM), kind=PixelKind.FOR_PROCESSING)
    tree = build_tree(mask, root, PIXEL_MM, 1.0)
    reading = reading_from_tree(image, tree, mask, root_rc=root, root_source="nipple")
    breast = np.zeros(shape, bool)
    breast[1:-1, 1:-1] = True
    marks = Landmarks(
        breast_mask=breast,
        skin_line_rc=np.zeros((0, 2)),
        nipple_rc=root,
        cannula_tip_rc=None,
        chest_wall="top",
    )
    return image, reading, marks


# A 1.5 mm duct widened to 3.6 mm between rows 104 and 136 (21-27 mm from the root),
# tapering to a terminal duct at its end.
WIDENED_DUCT = [
    ((4, 60), (95, 60), 0.75, 0.75),
    ((95, 60), (104, 60), 0.75, 1.8),
    ((104, 60), (136, 60), 1.8, 1.8),
    ((136, 60), (145, 60), 1.8, 0.75),
    ((145, 60), (230, 60), 0.75, 0.1),
]


# A Y whose right arm, a duct 3.2 mm wide, stops at (150, 90), 14 mm from the branch point
# (the column against an obstruction); the left arm tapers to a terminal duct.
WIDE_DUCT_THAT_STOPS = [
    ((4, 60), (80, 60), 0.9, 0.9),
    ((80, 60), (200, 20), 0.6, 0.1),
    ((80, 60), (150, 90), 1.6, 1.6),
]


def _beside_a_wide_duct(col):
    """A 1.4 mm duct that stops at row 150 beside a 3.4 mm branch whose centre line
    runs along ``col``."""
    return [
        ((4, 60), (100, 60), 0.7, 0.7),
        ((100, 60), (150, 60), 0.7, 0.7),
        ((100, 60), (120, col), 0.6, 0.6),
        ((120, col), (200, col), 1.7, 1.7),
        ((200, col), (230, col), 1.7, 0.2),
    ]


def _strictured(narrowest_mm, row=112):
    """A 1.6 mm duct whose lumen narrows to ``narrowest_mm`` over rows ``row`` to
    ``row + 20`` (a stricture 4 mm long, by default 22-26 mm from the root, its narrowing
    raised and lowered as lesions.py draws one), then runs on and tapers to a terminal
    duct; two thin (0.5 mm) branches leave it at rows 50 and 190, longer together than
    it, as a tree's many thin ducts make its typical contrast lower than a central
    duct's."""
    r = 0.5 * narrowest_mm
    return [
        ((4, 60), (row, 60), 0.8, 0.8),
        ((row, 60), (row + 8, 60), 0.8, r),
        ((row + 8, 60), (row + 12, 60), r, r),
        ((row + 12, 60), (row + 20, 60), r, 0.8),
        ((row + 20, 60), (200, 60), 0.8, 0.8),
        ((200, 60), (230, 60), 0.8, 0.1),
        ((50, 60), (236, 8), 0.25, 0.25),
        ((190, 60), (236, 114), 0.25, 0.25),
    ]


def _kinds(found):
    return [f.kind for f in found]


def test_round_lucent_defect_in_a_widened_duct_is_a_filling_defect_of_its_size():
    # A 1.5 mm duct widened to 3.6 mm around a 5 mm x 2.6 mm mass at row 120 (24 mm from
    # the root), tapering to a terminal duct at its end.
    tubes = WIDENED_DUCT
    image, reading, marks = _view((240, 120), tubes, masses=[((120, 60), 2.5, 1.3)])
    found = find_findings(image, reading, marks)
    defects = [f for f in found if f.kind == FindingKind.FILLING_DEFECT]
    assert len(defects) == 1, _kinds(found)
    d = defects[0]
    assert abs(d.row - 120) * PIXEL_MM <= 3.0 and abs(d.col - 60) * PIXEL_MM <= 1.0
    assert 3.0 <= d.size_mm <= 8.0
    assert d.code == CODES[FindingKind.FILLING_DEFECT] and d.code.value == "111425"
    assert d.generation == 1 and d.path_from_root == [d.segment]
    # 116 pixels from the nipple at 0.2 mm: 23 mm (straight, magnification 1).
    assert d.distance_from_nipple_mm == pytest.approx((d.row - 4.0) * PIXEL_MM, abs=0.5)
    assert 0.0 < d.confidence <= 1.0
    assert FindingKind.CUT_OFF not in _kinds(found)


def test_findings_on_flagged_metal_are_left_out_but_lucencies():
    # A 1.5 mm duct ending abruptly (a cut-off at row 120): metal flagged 4 mm
    # from its end (10 pixels in radius, so 2 mm past its edge, within the margin) takes
    # it out, metal 10 mm away does not; the widened duct's filling defect stays on metal
    # (metal leaves no lucency in the contrast).
    from ductogram.analysis.findings import METAL_MARGIN_MM

    assert 2.0 < METAL_MARGIN_MM
    image, reading, marks = _view((240, 120), [((4, 60), (120, 60), 0.75, 0.75)])
    cutoffs = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.CUT_OFF]
    assert len(cutoffs) == 1 and abs(cutoffs[0].row - 120) * PIXEL_MM <= 1.0
    on = find_findings(image, reading, marks, metal=[(cutoffs[0].row + 20.0, 60.0, 10.0)])
    assert FindingKind.CUT_OFF not in _kinds(on)
    off = find_findings(image, reading, marks, metal=[(cutoffs[0].row, 110.0, 10.0)])
    assert FindingKind.CUT_OFF in _kinds(off)
    image, reading, marks = _view((240, 120), WIDENED_DUCT, masses=[((120, 60), 2.5, 1.3)])
    kinds = _kinds(find_findings(image, reading, marks))
    assert FindingKind.FILLING_DEFECT in kinds
    assert _kinds(find_findings(image, reading, marks, metal=[(120.0, 60.0, 10.0)])) == [
        k for k in kinds if k in (FindingKind.FILLING_DEFECT, FindingKind.AIR_BUBBLE)
    ]


def test_a_duct_filled_to_its_width_is_no_filling_defect():
    # The same widening with no mass: contrast fills it, nothing is missing.
    tubes = WIDENED_DUCT
    image, reading, marks = _view((240, 120), tubes)
    assert FindingKind.FILLING_DEFECT not in _kinds(find_findings(image, reading, marks))


def test_duct_ending_in_a_cup_is_a_sure_cut_off_where_the_column_stops():
    # A 1.5 mm duct that widens into a 4.4 mm bulb and stops (the contrast column ends
    # against an obstructing mass): not a lobular blush to be cut back, but a cut-off, at
    # the column's end (row 150 + 2.2 mm), not at the skeleton's tip inside the bulb.
    tubes = [((4, 60), (130, 60), 0.75, 0.75), ((130, 60), (140, 60), 0.75, 2.2)]
    tubes.append(((140, 60), (150, 60), 2.2, 2.2))
    image, reading, marks = _view((200, 120), tubes)
    found = find_findings(image, reading, marks)
    cut = [f for f in found if f.kind == FindingKind.CUT_OFF]
    assert len(cut) == 1, _kinds(found)
    assert abs(cut[0].row - 161) * PIXEL_MM <= 1.0 and abs(cut[0].col - 60) * PIXEL_MM <= 0.5
    assert cut[0].size_mm >= 3.5 and cut[0].confidence >= 0.9


def test_background_ringed_by_ducts_is_no_filling_defect():
    # Two ducts part and meet again around 6 x 12 mm of tissue: contrast surrounds the
    # gap as it surrounds a mass, but the gap's floor is background, not contrast.
    tubes = [
        ((4, 60), (60, 60), 0.6, 0.6),
        ((60, 60), (60, 30), 0.6, 0.6),
        ((60, 30), (120, 30), 0.6, 0.6),
        ((120, 30), (120, 60), 0.6, 0.6),
        ((60, 60), (60, 90), 0.6, 0.6),
        ((60, 90), (120, 90), 0.6, 0.6),
        ((120, 90), (120, 60), 0.6, 0.6),
        ((120, 60), (220, 60), 0.6, 0.15),
    ]
    image, reading, marks = _view((240, 120), tubes)
    found = find_findings(image, reading, marks)
    assert FindingKind.FILLING_DEFECT not in _kinds(found)


def test_a_larger_mass_is_a_larger_filling_defect():
    # The same widened duct around a 3 mm and a 5 mm mass: each is one defect, where it
    # is, and the larger is read as the larger.
    tubes = WIDENED_DUCT
    sizes = []
    for half_len, half_w in ((1.5, 0.9), (2.5, 1.5)):
        image, reading, marks = _view((240, 120), tubes, masses=[((120, 60), half_len, half_w)])
        found = find_findings(image, reading, marks)
        defects = [f for f in found if f.kind == FindingKind.FILLING_DEFECT]
        assert len(defects) == 1, _kinds(found)
        assert abs(defects[0].row - 120) * PIXEL_MM <= 1.5
        sizes.append(defects[0].size_mm)
    assert sizes[1] > sizes[0] >= 2.0


def test_tree_ending_abruptly_at_1_5_mm_is_a_cut_off():
    # A Y: the left arm tapers to a terminal duct, the right one stops at 1.5 mm.
    tubes = [
        ((4, 60), (80, 60), 0.9, 0.9),
        ((80, 60), (200, 20), 0.6, 0.1),
        ((80, 60), (150, 95), 0.75, 0.75),
    ]
    image, reading, marks = _view((220, 120), tubes)
    found = find_findings(image, reading, marks)
    cut = [f for f in found if f.kind == FindingKind.CUT_OFF]
    assert len(cut) == 1, _kinds(found)
    c = cut[0]
    assert np.hypot(c.row - 150, c.col - 95) * PIXEL_MM <= 2.0
    assert c.size_mm == pytest.approx(1.5, abs=0.4)
    assert c.code.value == "111427" and c.code.scheme == "DCM"
    assert c.generation == 2 and len(c.path_from_root) == 2
    # It stops at its own width: no bulb, so no sure cut-off (the fill may have run out).
    assert c.confidence < 0.1


def test_a_wide_duct_that_stops_is_a_cut_off_where_its_column_stops():
    # A 3.2 mm duct of even width that stops at (150, 90): the cut-off lies at the end of
    # its column, beyond the skeleton's tip (its course taken from behind its end, not
    # from the junction it leaves, 14 mm back).
    image, reading, marks = _view((220, 120), WIDE_DUCT_THAT_STOPS)
    cut = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.CUT_OFF]
    assert len(cut) == 1
    end = np.array([150, 90]) + 1.6 / PIXEL_MM * np.array([70, 30]) / np.hypot(70, 30)
    assert np.hypot(cut[0].row - end[0], cut[0].col - end[1]) * PIXEL_MM <= 0.6
    assert cut[0].confidence == 1.0 and cut[0].size_mm == pytest.approx(3.2, abs=0.3)


def _full_stop(width_mm, stem_px=80):
    """A 1.2 mm duct from the root that divides after ``stem_px`` rows: a branch tapering
    to a terminal duct, and a branch ``width_mm`` wide that stops 14 mm on (a duct closed
    there, filled and dilated before it)."""
    r = 0.5 * width_mm
    return [
        ((4, 60), (stem_px, 60), 0.6, 0.6),
        ((stem_px, 60), (stem_px + 150, 20), 0.45, 0.1),
        ((stem_px, 60), (stem_px + 70, 90), r, r),
    ]


def test_a_central_duct_that_stops_dense_with_contrast_is_a_cut_off():
    """Its confidence rises with its end's contrast over the tree's typical (the stem's
    here: the drawn contrast is proportional to the chord), from 1 to 2 times it: the
    branch as wide as the stem is none, 1.6 / 1.2 = 1.33 is 0.33 sure, 2.0 / 1.2 = 1.67
    is 0.67 (the bulb alone: 0.04) and 2.4 mm is sure; the 2.0 mm branch stopping 51 mm
    from the root, beyond the central ducts, keeps the bulb's 0.04."""
    from ductogram.analysis import findings as F

    for width, expected in ((1.2, 0.0), (1.6, 1.6 / 1.2 - 1), (2.0, 2.0 / 1.2 - 1), (2.4, 1.0)):
        image, reading, marks = _view((180, 140), _full_stop(width))
        cut = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.CUT_OFF]
        assert len(cut) == 1
        assert cut[0].confidence == pytest.approx(expected, abs=0.06), width
        assert ("dense with contrast" in cut[0].evidence) == (expected > 0.1)
        assert np.hypot(cut[0].row - 150, cut[0].col - 90) * PIXEL_MM <= 0.5 * width + 0.6
    image, reading, marks = _view((280, 140), _full_stop(2.0, stem_px=180))
    (cut,) = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.CUT_OFF]
    assert cut.path_length_mm > F.CUTOFF_FULL_REACH_MM[1] and cut.confidence < 0.1


def test_a_bulb_before_the_end_makes_the_cut_off_sure():
    # The same 1.5 mm duct as above stopping, and stopping after a bulb 2.5 and 3.2 mm
    # wide (a papilloma that stops the column widens the duct before it): the confidence
    # rises with the bulb, from none without it to sure at 3 mm.
    confidence = []
    for bulb in (None, 1.25, 1.6):
        tubes = [((4, 60), (80, 60), 0.9, 0.9), ((80, 60), (200, 20), 0.6, 0.1)]
        if bulb is None:
            tubes.append(((80, 60), (150, 95), 0.75, 0.75))
        else:
            tubes += [((80, 60), (140, 90), 0.75, 0.75), ((140, 90), (145, 92), 0.75, bulb)]
            tubes.append(((145, 92), (150, 95), bulb, bulb))
        image, reading, marks = _view((220, 120), tubes)
        cut = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.CUT_OFF]
        assert len(cut) == 1
        confidence.append(cut[0].confidence)
    assert confidence[0] < 0.1 < confidence[1] < 0.9 <= confidence[2]


def test_a_narrow_duct_stopping_in_a_bulb_is_a_cut_off():
    # A 0.6 mm duct (narrower than CUTOFF_MIN_MM: by its width profile it merely ends)
    # that flares into a 2.6 mm bulb and stops, as a duct dilated before an obstruction
    # does: a cut-off where the bulb is, its confidence from the bulb's width.
    tubes = [((4, 60), (80, 60), 0.9, 0.9), ((80, 60), (200, 20), 0.6, 0.1)]
    tubes += [((80, 60), (140, 90), 0.3, 0.3), ((140, 90), (147, 94), 0.3, 1.3)]
    tubes.append(((147, 94), (150, 95), 1.3, 1.3))
    image, reading, marks = _view((220, 120), tubes)
    cut = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.CUT_OFF]
    assert len(cut) == 1
    c = cut[0]
    assert np.hypot(c.row - 150, c.col - 95) * PIXEL_MM <= 1.0  # the bulb's centre
    assert c.size_mm >= CUTOFF_FLARE_MM and 0.0 < c.confidence < 1.0
    assert c.evidence.startswith("the duct flares to its end")


def test_an_end_against_another_duct_is_no_cut_off():
    # A 3 mm duct with a 1.5 mm branch that stops: where a column stops within
    # CUTOFF_OTHER_RADII radii of another duct's centre line (in or against that duct's
    # image), the projection cannot show that it stops; farther out it can. The end's
    # own centre line does not count (away from its junction, which the trunk shares).
    from ductogram.analysis.findings import CUTOFF_OTHER_RADII, _Context, _in_other_duct

    tubes = [((4, 60), (200, 60), 1.5, 1.5), ((80, 60), (140, 95), 0.75, 0.75)]
    image, reading, marks = _view((220, 120), tubes)
    ctx = _Context(image, reading, marks)
    branch, _ = ctx.nearest((135, 92))
    trunk, _ = ctx.nearest((170, 60))
    radius = float(np.median(ctx.skeleton_radius_mm[ctx.tree.skeleton_segment == trunk]))
    assert radius == pytest.approx(1.5, abs=0.3)
    assert not _in_other_duct(ctx, (142, 96), branch)  # the branch's own end
    assert not _in_other_duct(ctx, (110, 78), branch)  # on its own centre line
    beside = CUTOFF_OTHER_RADII * radius / PIXEL_MM
    assert _in_other_duct(ctx, (170, 60 + 0.8 * beside), branch)
    assert not _in_other_duct(ctx, (170, 60 + 1.25 * beside), branch)
    # A 1.4 mm duct that stops a pixel from the wall of a 3.4 mm one running beside it:
    # no cut-off.
    image, reading, marks = _view((240, 120), _beside_a_wide_duct(73))
    assert FindingKind.CUT_OFF not in _kinds(find_findings(image, reading, marks))


def test_3_mm_duct_is_ectasia_and_a_normal_tree_is_not():
    wide = [
        ((4, 60), (70, 60), 0.9, 0.9),
        ((70, 60), (200, 25), 1.5, 1.2),
        ((70, 60), (200, 100), 0.6, 0.1),
    ]
    image, reading, marks = _view((220, 120), wide)
    found = find_findings(image, reading, marks)
    ect = [f for f in found if f.kind == FindingKind.ECTASIA]
    assert len(ect) == 1, _kinds(found)
    assert ect[0].size_mm > 2.0 and ect[0].code.value == "22049009"
    assert ect[0].code.scheme == "SCT"
    normal = [
        ((4, 60), (70, 60), 0.9, 0.8),
        ((70, 60), (200, 25), 0.6, 0.1),
        ((70, 60), (200, 100), 0.6, 0.1),
    ]
    image, reading, marks = _view((220, 120), normal)
    found = find_findings(image, reading, marks)
    suspicious = {FindingKind.ECTASIA, FindingKind.CUT_OFF, FindingKind.FILLING_DEFECT}
    assert not suspicious & set(_kinds(found)), _kinds(found)


def test_a_stricture_is_a_narrowing_whose_contrast_falls_as_its_lumen_area():
    # Narrowed to 0.6 mm of 1.6: the lumen's area, and so its contrast cross-section,
    # falls to (0.6 / 1.6)^2 = 0.14 of the duct's, and the confidence is 1 - 0.14 / 0.5.
    image, reading, marks = _view((240, 120), _strictured(0.6))
    found = find_findings(image, reading, marks)
    narrow = [f for f in found if f.kind == FindingKind.NARROWING]
    assert len(narrow) == 1, _kinds(found)
    f = narrow[0]
    assert abs(f.row - 122) * PIXEL_MM <= 1.0 and abs(f.col - 60) <= 2
    share = (0.6 / 1.6) ** 2
    assert share < NARROWING_AREA_RATIO  # on the line from 1 at no contrast to 0.5 there
    assert f.confidence == pytest.approx(1 - 0.5 * share / NARROWING_AREA_RATIO, abs=0.05)
    assert 0.4 <= f.size_mm <= 0.9 and f.code.value == "111429"
    assert f.generation == 2 and 20.0 <= f.path_length_mm <= 28.0


def test_the_narrowing_confidence_falls_in_two_lines_through_the_count():
    from ductogram.analysis.findings import _narrowing_confidence

    assert _narrowing_confidence(0.0) == 1.0
    assert _narrowing_confidence(NARROWING_AREA_RATIO) == pytest.approx(0.5)
    assert _narrowing_confidence(NARROWING_NONE) == 0.0 == _narrowing_confidence(0.9)
    assert _narrowing_confidence(0.5 * NARROWING_AREA_RATIO) == pytest.approx(0.75)
    middle = 0.5 * (NARROWING_AREA_RATIO + NARROWING_NONE)
    assert _narrowing_confidence(middle) == pytest.approx(0.25)


def test_a_duct_pressed_to_0_8_of_its_width_tapering_or_narrowed_at_the_root_is_no_narrowing():
    # Ducts pressed together are narrowed to 0.8 of their width a round (the phantom's
    # SQUEEZE): their cross-section stays above NARROWING_NONE (their width may read
    # under NARROWING_WIDTH_RATIO). A narrowing 4-8 mm from the root lies where the
    # cannula and the skin line cross the duct (NARROWING_ROOT_MM).
    assert 0.8**2 > NARROWING_NONE
    assert (24 + 20 - 4) * PIXEL_MM < NARROWING_ROOT_MM  # the whole stricture
    for tubes in (
        _strictured(0.8 * 1.6),
        [((4, 60), (230, 60), 0.8, 0.2)],
        _strictured(0.6, row=24),
    ):
        image, reading, marks = _view((240, 120), tubes)
        found = find_findings(image, reading, marks)
        assert FindingKind.NARROWING not in _kinds(found), [f.evidence for f in found]


def test_a_dip_of_contrast_where_the_width_holds_is_no_narrowing(monkeypatch):
    # A crossing's shadow or a change of the background beside the duct moves the
    # contrast's sum but not the width: the cross-section of a straight 1.6 mm duct is
    # made to dip to 0.1 over rows 118-126 (where a stricture would be), its width kept.
    from ductogram.analysis import findings

    real = findings._cross_sections

    def dipped(ctx, rc, half_px):
        area = real(ctx, rc, half_px)
        return np.where((rc[:, 0] >= 118) & (rc[:, 0] <= 126), 0.1 * area, area)

    monkeypatch.setattr(findings, "_cross_sections", dipped)
    image, reading, marks = _view((240, 120), _strictured(1.6))
    assert FindingKind.NARROWING not in _kinds(find_findings(image, reading, marks))
    monkeypatch.setattr(findings, "NARROWING_WIDTH_RATIO", 1.5)  # the width gate off
    narrow = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.NARROWING]
    assert len(narrow) == 1 and 118 <= narrow[0].row <= 126, _kinds(narrow)


def test_a_narrowing_where_the_duct_changes_or_fainter_than_the_tree_is_none():
    """A 1.6 mm duct narrowed to 0.4 mm that goes on 1.2 mm wide is a narrowing; going on
    0.7 mm wide, the contrast after it (as the chord, 0.44 of the one before) falls
    short of NARROWING_SIDE_BALANCE: a duct that changes there (one meeting the cannula,
    a branch) is none. Nor is the stricture on a duct fainter than the tree's typical
    (its branches drawn 2.2 mm wide): a path over tissue between ducts reads so."""
    from ductogram.analysis.findings import NARROWING_FILLED, NARROWING_SIDE_BALANCE

    assert 0.7 / 1.6 < NARROWING_SIDE_BALANCE < 1.2 / 1.6 and NARROWING_FILLED > 1.6 / 2.2

    def changing(after_mm):
        tubes = _strictured(0.4)
        tubes[3] = ((124, 60), (132, 60), 0.2, 0.5 * after_mm)
        tubes[4] = ((132, 60), (200, 60), 0.5 * after_mm, 0.5 * after_mm)
        tubes[5] = ((200, 60), (230, 60), 0.5 * after_mm, 0.1)
        return tubes

    found = find_findings(*_view((240, 120), changing(1.2)))
    assert FindingKind.NARROWING in _kinds(found)
    found = find_findings(*_view((240, 120), changing(0.7)))
    assert FindingKind.NARROWING not in _kinds(found), [f.evidence for f in found]
    faint = [t if t[2] > 0.25 else (t[0], t[1], 1.1, 1.1) for t in _strictured(0.6)]
    found = find_findings(*_view((240, 120), faint))
    assert FindingKind.NARROWING not in _kinds(found), [f.evidence for f in found]


def test_a_stricture_where_the_read_tree_branches_is_read_along_the_path():
    # A thin branch leaves the duct at the stricture's narrowest point (row 122): the read
    # tree ends a segment there, so neither segment has the duct on both sides of it;
    # read along the path from the root, the stricture is found as on a plain duct.
    tubes = [*_strictured(0.6), ((122, 60), (180, 116), 0.25, 0.25)]
    image, reading, marks = _view((240, 120), tubes)
    ends = [reading.nodes[seg.end].row for seg in reading.segments]
    assert any(abs(r - 122) <= 5 for r in ends), ends  # the read tree branches there
    narrow = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.NARROWING]
    assert len(narrow) == 1, _kinds(narrow)
    assert abs(narrow[0].row - 122) * PIXEL_MM <= 1.0 and narrow[0].confidence >= 0.5


def test_a_path_over_tissue_the_read_tree_bridged_is_no_narrowing(monkeypatch):
    # Two 1.6 mm ducts in line, their round ends 2.4 mm apart (rows 116-128), the tissue
    # between them bridged by the mask: the path's central excess falls to nothing there,
    # under NARROWING_THREAD of the tree's typical: no lumen narrows there (a stricture
    # that lets contrast by keeps a thread of it).
    from ductogram.analysis import findings

    tubes = [
        ((4, 60), (112, 60), 0.8, 0.8),
        ((132, 60), (200, 60), 0.8, 0.8),
        ((200, 60), (230, 60), 0.8, 0.1),
        ((50, 60), (236, 8), 0.25, 0.25),
        ((190, 60), (236, 114), 0.25, 0.25),
    ]
    image, reading, marks = _view((240, 120), tubes, bridged=[((112, 60), (132, 60), 0.3, 0.3)])
    assert FindingKind.NARROWING not in _kinds(find_findings(image, reading, marks))
    monkeypatch.setattr(findings, "NARROWING_THREAD", -1.0)
    narrow = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.NARROWING]
    assert len(narrow) == 1 and 114 <= narrow[0].row <= 130, _kinds(narrow)


def test_a_path_that_turns_from_one_duct_into_another_through_a_thin_one_is_no_narrowing(
    monkeypatch,
):
    # A 1.6 mm duct runs down to row 110, a 0.5 mm duct leads from its end to another 1.6 mm
    # duct 2.8 mm on: going on down, the path keeps its course (a narrowing, as a
    # stricture); turned by 90 degrees, across, it runs from one duct into another
    # (ducts crossing or side by side in the projection): none, unless the gate is off.
    from ductogram.analysis import findings

    def linked(after):
        return [
            ((4, 60), (110, 60), 0.8, 0.8),
            ((110, 60), (124, 60), 0.25, 0.25),
            ((124, 60), after, 0.8, 0.8),
            ((50, 60), (236, 8), 0.25, 0.25),
            ((80, 60), (236, 30), 0.25, 0.25),
        ]

    def narrowings():
        found = find_findings(image, reading, marks)
        return [f for f in found if f.kind == FindingKind.NARROWING]

    image, reading, marks = _view((240, 140), linked((230, 60)))
    assert len(narrowings()) == 1
    image, reading, marks = _view((240, 140), linked((124, 134)))
    assert narrowings() == []
    monkeypatch.setattr(findings, "NARROWING_TURN_DEG", 180.0)
    (narrow,) = narrowings()
    assert 108 <= narrow.row <= 126


def test_the_duct_on_either_side_is_the_lesser_median_2_to_5_mm_away():
    from ductogram.analysis.findings import NARROWING_SIDE_MM, _side_medians

    def _sides(along, values):
        return np.min(_side_medians(along, values), axis=-2)

    assert NARROWING_SIDE_MM == (2.0, 5.0)
    along = np.arange(0.0, 30.0, 0.5)
    values = np.where(along < 15.0, 1.0, 3.0) + 0.01 * along
    out = _sides(along, values)
    # At 15 mm: the points more than 2 and at most 5 mm before (10-12.5 mm, values about
    # 1.1) and after (17.5-20 mm, about 3.2).
    k = int(np.flatnonzero(along == 15.0)[0])
    assert out[k] == pytest.approx(1.0 + 0.01 * np.median(along[(along >= 10) & (along < 13)]))
    # At 24 mm, both sides over 3: the lesser is the one before.
    k = int(np.flatnonzero(along == 24.0)[0])
    assert out[k] == pytest.approx(3.0 + 0.01 * np.median(along[(along >= 19) & (along < 22)]))
    # Fewer than 3 points on a side (within 3.5 mm of either end): no value.
    assert np.isnan(out[along < 3.5]).all() and np.isnan(out[along > 26.0]).all()
    assert np.isfinite(out[(along >= 3.5) & (along <= 26.0)]).all()


def test_a_wide_faint_band_taken_in_by_the_mask_is_no_ectasia():
    """A band of denser tissue 3 mm wide along a branch, as dim as 0.3 mm of contrast,
    read as part of the tree: wide, but holding far less contrast per mm of width than
    the tree's ducts, so it is not a widened duct."""
    normal = [
        ((4, 60), (70, 60), 0.9, 0.8),
        ((70, 60), (200, 25), 0.6, 0.1),
        ((70, 60), (200, 100), 0.6, 0.1),
    ]
    shape = (220, 120)
    path = _path_mm(shape, normal)
    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    a, d = np.array([80.0, 66.0]), np.array([100.0, 31.0])
    t = np.clip(((rr - a[0]) * d[0] + (cc - a[1]) * d[1]) / float(d @ d), 0.0, 1.0)
    dist = np.hypot(rr - a[0] - t * d[0], cc - a[1] - t * d[1]) * PIXEL_MM
    path = np.maximum(path, np.where(dist <= 1.5, 0.3, 0.0))
    signal = 1000.0 * np.exp(-(1.5 + MU_PER_MM * path))
    image = Image(signal, (PIXEL_MM, PIXEL_MM), kind=PixelKind.FOR_PROCESSING)
    mask = path > 0.05
    root = (4.0, 60.0)
    tree = build_tree(mask, root, PIXEL_MM, 1.0)
    assert tree.calibre_mm.max() > 2.0  # the band reads wide
    reading = reading_from_tree(image, tree, mask, root_rc=root, root_source="nipple")
    _, _, marks = _view(shape, normal)
    found = find_findings(image, reading, marks)
    assert FindingKind.ECTASIA not in _kinds(found), _kinds(found)


def test_findings_serialise_and_reading_from_json_gives_the_same():
    tubes = [
        ((4, 60), (80, 60), 0.9, 0.9),
        ((80, 60), (200, 20), 0.6, 0.1),
        ((80, 60), (150, 95), 0.75, 0.75),
    ]
    image, reading, marks = _view((220, 120), tubes)
    found = find_findings(image, reading, marks)
    again = [Finding.model_validate_json(f.model_dump_json()) for f in found]
    assert again == found
    loaded = Reading.model_validate_json(reading.model_dump_json())
    assert _kinds(find_findings(image, loaded, marks)) == _kinds(found)


def test_no_tree_no_findings_and_bad_input():
    image = Image(np.zeros((32, 32)), (0.1, 0.1))
    empty = Reading(image_shape=(32, 32), pixel_spacing_mm=(0.1, 0.1), magnification=1.0)
    assert find_findings(image, empty) == []
    with pytest.raises(ParameterError, match="image"):
        find_findings(np.zeros((32, 32)), empty)
    with pytest.raises(ParameterError, match="reading"):
        find_findings(image, {"segments": []})
    other = Reading(image_shape=(16, 16), pixel_spacing_mm=(0.1, 0.1), magnification=1.0)
    with pytest.raises(ParameterError, match="image_shape"):
        find_findings(image, other)
    # The lucency candidates behind the filling defects: none without a tree, the same
    # checks of their input.
    from ductogram.analysis.findings import lucency_candidates

    assert lucency_candidates(image, empty) == []
    with pytest.raises(ParameterError, match="image_shape"):
        lucency_candidates(image, other)
    with pytest.raises(ParameterError, match="image"):
        lucency_candidates(np.zeros((32, 32)), empty)


def test_every_cid_6057_code_is_unique_and_short():
    codes = [c for c in CODES.values() if c is not None]
    assert len({(c.scheme, c.value) for c in codes}) == len(codes)
    assert all(len(c.meaning) <= 64 for c in codes)
    assert {c.value for c in codes if c.scheme == "DCM"} >= {
        "111425",
        "111426",
        "111427",
        "111428",
        "111429",
        "111430",
    }


def test_simulated_papilloma_is_found_where_it_is(lesion_views):
    # Two papillomas and a cyst (tests/analysis/conftest.py); a filling defect (or a
    # cut-off at an obstructing one) lies on a papilloma's outline in at least one view.
    from ductogram.analysis import read_view
    from ductogram.evaluate.findings_eval import _near_lesion

    hits = 0
    for _, views in lesion_views.values():
        for sv in views.values():
            image = sv.processing
            found = find_findings(image, read_view(image))
            papillomas = [les for les in image.truth.lesions if les["kind"] == "papilloma"]
            reach = 2.0 / (PIXEL_MM / image.magnification)
            for f in found:
                if f.kind in (FindingKind.FILLING_DEFECT, FindingKind.CUT_OFF) and any(
                    _near_lesion(f.row, f.col, les, reach) for les in papillomas
                ):
                    hits += 1
                    break
    assert hits >= 2


def test_simulated_papilloma_is_found_on_the_display_image_too(lesion_views):
    # The FOR PRESENTATION views of the same exams: their display curve compresses the
    # top of its range, where a papilloma's widened column lies; with the shoulder undone,
    # a detection lies on a papilloma in at least 3 of the 4 views (2 of 4 without).
    from ductogram.analysis import read_view
    from ductogram.evaluate.findings_eval import _near_lesion

    hits = 0
    for _, views in lesion_views.values():
        for sv in views.values():
            image = sv.presentation
            assert image.kind == PixelKind.FOR_PRESENTATION
            found = find_findings(image, read_view(image))
            papillomas = [les for les in image.truth.lesions if les["kind"] == "papilloma"]
            reach = 2.0 / (PIXEL_MM / image.magnification)
            hits += any(
                f.kind in (FindingKind.FILLING_DEFECT, FindingKind.CUT_OFF)
                and any(_near_lesion(f.row, f.col, les, reach) for les in papillomas)
                for f in found
            )
    assert hits >= 3


def test_the_display_shoulder_is_undone_smoothly_above_its_knee_only():
    v = np.linspace(-0.1, 1.1, 12001).astype(np.float32)
    u = undo_display_shoulder(v)
    top = float(np.percentile(v, DISPLAY_TOP_PERCENTILE))
    knee = top - DISPLAY_SHOULDER
    below = v <= knee
    np.testing.assert_array_equal(u[below], v[below])
    assert np.all(np.diff(u) >= 0)  # monotone: the order of grey levels is kept
    # Slope 1 at the knee, exp(DISPLAY_EXPANSION) at the top, flat above the top.
    dv = float(v[1] - v[0])
    k = int(np.searchsorted(v, knee)) + 1
    t = int(np.searchsorted(v, top)) - 1
    assert (u[k + 1] - u[k]) / dv == pytest.approx(1.0, abs=0.01)
    assert (u[t] - u[t - 1]) / dv == pytest.approx(np.exp(DISPLAY_EXPANSION), rel=0.01)
    assert np.ptp(u[v > top + dv]) == 0.0
    # The top comes back as the integral of the slope: knee + s (e^a - 1) / a.
    a, s = DISPLAY_EXPANSION, DISPLAY_SHOULDER
    assert float(u[-1]) == pytest.approx(knee + s * np.expm1(a) / a, rel=1e-4)


def test_the_width_is_read_from_the_crest_when_the_path_runs_beside_it():
    # A thin ridge (Gaussian profile, sigma 0.8 px: full width at half maximum 1.88 px)
    # and a path 1.2 px beside its crest, where the excess is a third of the crest's: the
    # width is the ridge's, not 0 (the profile read from the path's own sample).
    from ductogram.analysis.findings import _half_max_widths

    cols = np.arange(40, dtype=float)
    ridge = np.exp(-0.5 * ((cols - 20.0) / 0.8) ** 2)
    excess = np.tile(ridge, (60, 1))
    path = np.column_stack([np.arange(10, 50), np.full(40, 21)])  # 1 px off; +0.2 sampling
    widths = _half_max_widths(excess, [path + np.array([0.0, 0.2])], reach_px=8.0)[0]
    # ... to the profile's sampling: the first samples below half, 0.5 px apart, each side.
    assert np.all((widths >= 2.355 * 0.8) & (widths <= 2.355 * 0.8 + 1.0))
    # No contrast at all near the path: nothing to measure (NaN), not a width of 0.
    assert np.isnan(_half_max_widths(-excess, [path], reach_px=8.0)[0]).all()
    # Paths read together (an empty one among them) read as each alone.
    together = _half_max_widths(excess, [path[:7], path[:0], path + 0.2], reach_px=8.0)
    assert [len(w) for w in together] == [7, 0, 40]
    np.testing.assert_array_equal(together[0], _half_max_widths(excess, [path[:7]], 8.0)[0])
    np.testing.assert_array_equal(together[2], _half_max_widths(excess, [path + 0.2], 8.0)[0])


def test_air_bubbles_are_reported_as_bubbles_and_take_a_filling_defect_on_them():
    # A 2.4 mm duct from the root with a sphere of air 1.6 mm across (0.67 of the lumen)
    # 15 mm from it: one bubble of about its size, no filling defect.
    from ductogram.analysis.findings import _bubbles, _Context, _not_bubbles

    tubes = [((4, 60), (200, 60), 1.2, 1.2), ((200, 60), (230, 60), 1.2, 0.2)]
    image, reading, marks = _view((240, 120), tubes, masses=[((80, 60), 0.8, 0.8)])
    found = find_findings(image, reading, marks)
    assert _kinds(found) == [FindingKind.AIR_BUBBLE]
    bubble = found[0]
    assert abs(bubble.row - 80) <= 2 and abs(bubble.col - 60) <= 2
    # As sure as the quality step's bubble classifier is of its site.
    from ductogram.analysis.quality import BUBBLE_CLEAR_P, bubble_sites

    (site,) = [s for s in bubble_sites(image, reading, marks) if s.clear]
    assert bubble.confidence == pytest.approx(site.probability)
    assert bubble.confidence >= BUBBLE_CLEAR_P
    assert 1.0 <= bubble.size_mm <= 2.0
    assert bubble.distance_from_nipple_mm == pytest.approx(76 * PIXEL_MM, abs=1.0)
    # A lucency read on it in this unwidened duct is the bubble; one 5 mm away is not.
    ctx = _Context(image, reading, marks)
    bubbles = _bubbles(ctx, None)
    on = ctx.finding(FindingKind.FILLING_DEFECT, (81.0, 60.0), 1.5, None, 0.7, "")
    off = ctx.finding(FindingKind.FILLING_DEFECT, (105.0, 60.0), 1.5, None, 0.7, "")
    assert _not_bubbles(ctx, [on, off], bubbles) == [off]
    # In a duct widened twice around it over 4 mm (a mass widens its duct), it stays a
    # defect; in an ectatic duct, as wide for 20 mm, it is the bubble again.
    for start, stop, kept in ((70, 92, True), (30, 130, False)):
        widened = [*tubes[:1], ((start, 60), (stop, 60), 2.4, 2.4)]
        image, reading, marks = _view((240, 120), widened, masses=[((80, 60), 0.8, 0.8)])
        ctx = _Context(image, reading, marks)
        on = ctx.finding(FindingKind.FILLING_DEFECT, (81.0, 60.0), 1.5, None, 0.7, "")
        fake = ctx.finding(FindingKind.AIR_BUBBLE, (80.0, 60.0), 1.6, None, 0.8, "")
        assert _not_bubbles(ctx, [on], [fake]) == ([on] if kept else []), (start, stop)


def test_a_round_lucency_in_a_proximal_duct_is_a_bubble_even_without_a_bubble_site():
    # A 3.4 mm (ectatic) duct with two 1 mm side branches, and a sphere of air 2.4 mm
    # across in it: where the quality step finds no site for it (bubbles=[]), its
    # roundness still makes it a bubble 11 mm from the root; 45 mm out (past the proximal
    # ducts) the same lucency is a filling defect.
    from ductogram.analysis.findings import BUBBLE_PROXIMAL_MM

    root = (4.0, 150.0)
    tubes = [
        ((4, 150), (260, 150), 1.7, 1.7),
        ((260, 150), (290, 150), 1.7, 0.2),
        ((110, 150), (250, 20), 0.5, 0.5),
        ((150, 150), (290, 280), 0.5, 0.5),
    ]
    for row, bubble in ((60, True), (229, False)):
        assert ((row - 4) * PIXEL_MM <= BUBBLE_PROXIMAL_MM) == bubble
        image, reading, marks = _view((300, 300), tubes, masses=[((row, 150), 1.2, 1.2)], root=root)
        found = find_findings(image, reading, marks, bubbles=[])
        near = [f for f in found if np.hypot(f.row - row, f.col - 150) * PIXEL_MM <= 2.0]
        assert len(near) == 1, (row, _kinds(found))
        f = near[0]
        if bubble:
            assert f.kind == FindingKind.AIR_BUBBLE and f.code is None, f
            assert "round lucency" in f.evidence and 1.5 <= f.size_mm <= 3.5, f
        else:
            assert f.kind == FindingKind.FILLING_DEFECT, f


def test_a_duct_ending_beside_a_wide_one_does_not_borrow_its_bulb():
    # A 1.4 mm duct stops at row 150, 1.6 mm from the wall of a 3.4 mm branch running
    # beside it (farther than CUTOFF_OTHER_RADII of its radii from its centre line): the
    # column stops in its own lumen, 1.4 mm wide, no bulb (the widest lumen within reach,
    # taken over every duct, was the neighbour's 3.2 mm: sure).
    image, reading, marks = _view((240, 120), _beside_a_wide_duct(80))
    cutoffs = [f for f in find_findings(image, reading, marks) if f.kind == FindingKind.CUT_OFF]
    assert len(cutoffs) == 1 and abs(cutoffs[0].row - 150) <= 6
    assert cutoffs[0].confidence < 0.2
    assert "in a lumen 1." in cutoffs[0].evidence


# A 1.5 mm duct tapering to a terminal duct, with a 0.4 mm terminal branch ending in a
# 5 mm round pool (a sphere of contrast) centred at (150, 95).
POOL = ((150, 95), (150.01, 95), 2.5, 2.5)
CYST_TREE = [
    ((4, 60), (160, 60), 0.75, 0.75),
    ((160, 60), (205, 60), 0.75, 0.1),
    ((100, 60), (138, 86), 0.2, 0.2),
]


def test_round_pool_on_the_tree_is_a_cyst_fill_of_its_size():
    image, reading, marks = _view((220, 140), [*CYST_TREE, POOL])
    found = find_findings(image, reading, marks)
    cysts = [f for f in found if f.kind == FindingKind.CYST_FILL]
    assert len(cysts) == 1, _kinds(found)
    cyst = cysts[0]
    assert np.hypot(cyst.row - 150, cyst.col - 95) * PIXEL_MM <= 0.5
    assert 4.0 <= cyst.size_mm <= 6.0 and cyst.confidence >= 0.9
    assert cyst.code.value == "111430"
    # The terminal duct ends in it: its end is the cyst's, not a cut-off.
    assert FindingKind.CUT_OFF not in _kinds(found)


def test_a_pool_off_the_read_tree_or_a_widened_duct_is_no_cyst():
    # The same pool where the reading has no duct (a round blob of tissue the tree does
    # not reach), and the 3.6 mm widened run of WIDENED_DUCT (6.4 mm long: not round).
    image, reading, marks = _view((220, 140), CYST_TREE, unread=[POOL])
    assert FindingKind.CYST_FILL not in _kinds(find_findings(image, reading, marks))
    image, reading, marks = _view((240, 120), WIDENED_DUCT)
    found = find_findings(image, reading, marks)
    assert all(f.confidence < 0.5 for f in found if f.kind == FindingKind.CYST_FILL)
    # A 2.4 mm pool (read 2.1 mm across) is under the smallest cyst read: its size under
    # CYST_MIN_MM and its half-maximum radius under CYST_MIN_HALF_MM, either turns it away.
    small = ((150, 95), (150.01, 95), 1.2, 1.2)
    image, reading, marks = _view((220, 140), [*CYST_TREE, small])
    assert FindingKind.CYST_FILL not in _kinds(find_findings(image, reading, marks))


def test_simulated_cyst_is_found_where_it_is_and_only_where_filled(lesion_views):
    # The fixture's cyst is filled in the right breast (seed 24) and not reached by the
    # contrast in the left one (seed 3): a sure cyst fill on it in both right views, no
    # cyst fill in the left ones.
    from ductogram.analysis import read_view
    from ductogram.evaluate.findings_eval import _near_lesion

    for laterality, (_, views) in lesion_views.items():
        for sv in views.values():
            image = sv.processing
            found = find_findings(image, read_view(image))
            cysts = [f for f in found if f.kind == FindingKind.CYST_FILL and f.confidence >= 0.6]
            truth = [les for les in image.truth.lesions if les["kind"] == "cyst"]
            reach = 2.0 / (PIXEL_MM / image.magnification)
            if laterality == "R":
                assert len(cysts) == 1 and _near_lesion(cysts[0].row, cysts[0].col, truth[0], reach)
            else:
                assert cysts == []


def test_defect_classifier_is_a_logistic_regression_that_round_trips(tmp_path):
    # A model written and read back gives the same probabilities, which are the logistic
    # function of the standardised features' weighted sum; a file of other features, or
    # weights of another length, is refused by name.
    from ductogram.analysis.findings import DEFECT_FEATURES, DefectClassifier

    n = len(DEFECT_FEATURES)
    rng = np.random.default_rng(3)
    clf = DefectClassifier(
        mean=rng.normal(size=n),
        scale=rng.uniform(0.5, 2, n),
        coef=rng.normal(size=n),
        intercept=-0.7,
    )
    x = rng.normal(size=(5, n))
    z = ((x - clf.mean) / clf.scale) @ clf.coef - 0.7
    assert np.allclose(clf.probability(x), 1 / (1 + np.exp(-z)))
    assert clf.probability(x[0]).shape == (1,)
    clf.to_npz(tmp_path / "m.npz")
    back = DefectClassifier.from_npz(tmp_path / "m.npz")
    assert np.allclose(back.probability(x), clf.probability(x))
    np.savez(
        tmp_path / "other.npz",
        features=np.array(["a"] * n),
        mean=clf.mean,
        scale=clf.scale,
        coef=clf.coef,
        intercept=0.0,
        provenance=np.array(""),
    )
    with pytest.raises(ParameterError, match="features"):
        DefectClassifier.from_npz(tmp_path / "other.npz")
    with pytest.raises(ParameterError, match="coef"):
        DefectClassifier(mean=clf.mean, scale=clf.scale, coef=clf.coef[:-1], intercept=0.0)
    with pytest.raises(ParameterError, match="scale"):
        DefectClassifier(mean=clf.mean, scale=0 * clf.scale, coef=clf.coef, intercept=0.0)


def test_the_shipped_defect_classifier_was_trained_on_other_seeds_than_the_report():
    # Its provenance names the training exams; the reported evaluation draws
    # draw_cases(200, 1), which must not be among them.
    from ductogram.analysis.findings import defect_classifier

    text = defect_classifier().provenance
    assert "draw_cases(120, 41)" in text and "draw_cases(200, 1)" not in text
    assert ", 1)" not in text


def test_the_surest_lucency_of_a_simulated_view_lies_on_a_papilloma(lesion_views):
    # The shared views with two papillomas (phantoms the classifier never saw), both
    # pixel kinds: in every view where a lucency lies on a papilloma (7 of the 8), the
    # lucency the classifier makes surest does (the hand-made score's first: 6 of the 7).
    from ductogram.analysis import read_view
    from ductogram.analysis.findings import defect_classifier, lucency_candidates
    from ductogram.evaluate.findings_eval import _near_lesion

    with_papilloma = first = 0
    for _, views in lesion_views.values():
        for sv in views.values():
            for image in (sv.processing, sv.presentation):
                found = lucency_candidates(image, read_view(image))
                reach = 2.0 / (PIXEL_MM / image.magnification)
                papillomas = [les for les in image.truth.lesions if les["kind"] == "papilloma"]
                on = [any(_near_lesion(c.row, c.col, p, reach) for p in papillomas) for c in found]
                if any(on):
                    p = defect_classifier().probability(np.vstack([c.features() for c in found]))
                    with_papilloma += 1
                    first += on[int(np.argmax(p))]
    assert with_papilloma >= 6 and first == with_papilloma, (first, with_papilloma)


def _beaded(narrowings, saccule_mm=2.6, narrow_mm=0.6, first=110, period_px=20):
    """The 1.6 mm duct of :func:`_strictured` (its two thin branches too) with
    ``narrowings`` narrowings to ``narrow_mm``, ``period_px`` apart from row ``first``,
    saccules ``saccule_mm`` wide between them (a carcinoma's caliber irregularity, as
    lesions.py draws one)."""
    rows = [first - period_px // 2] + [first + k * period_px // 2 for k in range(2 * narrowings)]
    radii = [0.8] + [0.5 * (narrow_mm if k % 2 == 0 else saccule_mm) for k in range(2 * narrowings)]
    rows.append(rows[-1] + period_px // 2)
    radii.append(0.8)
    assert rows[-1] < 210, "the beaded stretch runs past the duct's straight part"
    tubes = [((4, 60), (rows[0], 60), 0.8, 0.8)]
    tubes += [
        ((a, 60), (b, 60), ra, rb)
        for a, b, ra, rb in zip(rows[:-1], rows[1:], radii[:-1], radii[1:], strict=True)
    ]
    tubes += [
        ((rows[-1], 60), (210, 60), 0.8, 0.8),
        ((210, 60), (230, 60), 0.8, 0.1),
        ((50, 60), (236, 8), 0.25, 0.25),
        ((70, 60), (236, 114), 0.25, 0.25),
    ]
    return tubes


def test_saccules_alternating_with_narrowings_are_a_wall_irregularity_of_one_view():
    # Three narrowings 4 mm apart between saccules, 20-32 mm from the root.
    from ductogram.analysis.assessment import CALL_CONFIDENCE
    from ductogram.analysis.findings import IRREGULARITY_CONFIDENCE

    image, reading, marks = _view((240, 120), _beaded(3))
    found = find_findings(image, reading, marks)
    walls = [f for f in found if f.kind == FindingKind.WALL_IRREGULARITY]
    assert len(walls) == 1, [f.evidence for f in found]
    w = walls[0]
    assert w.evidence.startswith("3 narrowings") and w.size_mm == pytest.approx(8.0, abs=1.0)
    assert 110 <= w.row <= 150 and abs(w.col - 60) <= 2
    # One view's is reported, not counted: the other view must show it too.
    assert IRREGULARITY_CONFIDENCE[0] <= w.confidence < CALL_CONFIDENCE[w.kind]
    assert 1 - (1 - IRREGULARITY_CONFIDENCE[0]) ** 2 >= CALL_CONFIDENCE[w.kind]


def test_saccules_at_the_carcinomas_longest_period_are_read_in_full(monkeypatch):
    # A period of 6 mm (lesions.CARCINOMA_PERIOD_MM's longest): each saccule's crest lies
    # 3 mm from the narrowings beside it. Narrowings to 1.0 mm between saccules 1.8 mm
    # wide are 0.56 of them; a window of 2.5 mm either side reads the saccules' flanks
    # only (0.64 of the swing), too shallow to count. (The first narrowing has the plain
    # 1.6 mm duct before it, not a saccule: two of the three are read.)
    from ductogram.analysis import findings
    from ductogram.anatomy.lesions import CARCINOMA_PERIOD_MM

    assert findings.IRREGULARITY_SIDE_MM >= 0.5 * CARCINOMA_PERIOD_MM[1]
    tubes = _beaded(3, saccule_mm=1.8, narrow_mm=1.0, first=80, period_px=30)
    found = find_findings(*_view((240, 120), tubes))
    walls = [f for f in found if f.kind == FindingKind.WALL_IRREGULARITY]
    assert len(walls) == 1 and walls[0].evidence.startswith("2 narrowings"), _kinds(found)
    monkeypatch.setattr(findings, "IRREGULARITY_SIDE_MM", 2.5)
    found = find_findings(*_view((240, 120), tubes))
    assert FindingKind.WALL_IRREGULARITY not in _kinds(found)


def test_one_narrowing_shallow_swings_or_thin_ducts_crossing_are_no_wall_irregularity(
    monkeypatch,
):
    # One narrowing is a stricture's; saccules 1.8 mm wide with narrowings to 1.4 mm keep
    # 0.78 of the width and of the central contrast (over IRREGULARITY_WIDTH and
    # IRREGULARITY_DEPTH); thin (0.5 mm) ducts crossing a straight one 4 mm apart add
    # little to its contrast.
    from ductogram.analysis.findings import IRREGULARITY_DEPTH, IRREGULARITY_WIDTH

    assert 1.4 / 1.8 > max(IRREGULARITY_DEPTH, IRREGULARITY_WIDTH)
    crossing = [((100 + 20 * k, 0), (100 + 20 * k, 119), 0.25, 0.25) for k in range(4)]
    for tubes, unread in (
        (_beaded(1), ()),
        (_beaded(3, saccule_mm=1.8, narrow_mm=1.4), ()),
        (_strictured(1.6), crossing),
    ):
        found = find_findings(*_view((240, 120), tubes, unread=unread))
        assert FindingKind.WALL_IRREGULARITY not in _kinds(found), [f.evidence for f in found]
    # The shallow swings are left out by those two gates.
    from ductogram.analysis import findings

    monkeypatch.setattr(findings, "IRREGULARITY_DEPTH", 0.95)
    monkeypatch.setattr(findings, "IRREGULARITY_WIDTH", 0.95)
    found = find_findings(*_view((240, 120), _beaded(3, saccule_mm=1.8, narrow_mm=1.4)))
    assert FindingKind.WALL_IRREGULARITY in _kinds(found)


def _blobs(shape, seed, level):
    """A random mask of rounded blobs."""
    from scipy import ndimage as ndi

    return ndi.gaussian_filter(np.random.default_rng(seed).random(shape), 3) > level


def test_wall_and_skin_distances_read_near_their_place_are_the_whole_views():
    """The findings' wall distance over the mask's box and the breast margin read in a
    window around a point agree with the Euclidean distance transform of the whole view."""
    from types import SimpleNamespace

    from scipy import ndimage as ndi

    from ductogram.analysis import findings as F

    rng = np.random.default_rng(3)
    mask = np.zeros((120, 150), bool)
    mask[30:70, 40:110] = _blobs((40, 70), 1, 0.5)
    ctx = SimpleNamespace(mask=mask, mm=0.2, breast=_blobs((120, 150), 2, 0.45))
    np.testing.assert_array_equal(
        F._Context.wall_mm.func(ctx), ndi.distance_transform_edt(mask) * 0.2
    )
    depth = ndi.distance_transform_edt(ctx.breast) * 0.2
    for _ in range(300):
        rc = rng.uniform(-2, [122, 152])
        margin = float(rng.uniform(0.1, 3.0))
        r = int(np.clip(round(rc[0]), 0, 119))
        c = int(np.clip(round(rc[1]), 0, 149))
        assert F._inside_breast(ctx, rc, margin) == (depth[r, c] >= margin)


def test_the_cysts_log_blobs_are_blob_logs_at_overlap_1():
    """The cyst search's blobs, found without blob_log's pruning, are blob_log's own at
    an overlap of 1 (where its pruning drops none), in its order and type."""
    from scipy import ndimage as ndi
    from skimage.feature import blob_log

    from ductogram.analysis.findings import _log_blobs

    rng = np.random.default_rng(0)
    image = np.clip(ndi.gaussian_filter(rng.random((300, 400)), 3) * 40 - 19, 0, None)
    image = image.astype(np.float32)
    lo, hi = 1.5 / np.sqrt(2) / 0.5, 12 / np.sqrt(2) / 0.5
    ours = _log_blobs(image, lo, hi)
    theirs = blob_log(
        image, min_sigma=lo, max_sigma=hi, num_sigma=8, threshold=0.05, overlap=1.0, log_scale=True
    )
    assert len(ours) > 100  # enough blobs, many overlapping, to tell a pruning apart
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
