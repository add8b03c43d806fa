"""The exam reading: BI-RADS category and reasons, two views, JSON, bad input."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from ductogram.analysis.assessment import (
    BIRADS,
    ExamLesion,
    ExamReading,
    ViewReport,
    assess,
    read_exam,
)
from ductogram.analysis.assessment import _read_view as _READ_VIEW
from ductogram.analysis.findings import CODES, Finding, FindingKind
from ductogram.core import Image, ParameterError

sys.path.insert(0, str(Path(__file__).parent))
from test_analysis_findings import WIDE_DUCT_THAT_STOPS, _strictured, _view


def _views(found=True):
    return [
        ViewReport(index=0, view="CC", found=found, message=None if found else "no duct"),
        ViewReport(index=1, view="ML", found=found, message=None if found else "no duct"),
    ]


def _lesion(kind, confidence, size=4.0, views=("CC",)):
    f = Finding(kind=kind, code=CODES.get(kind), view=views[0], row=10, col=10, size_mm=size)
    return ExamLesion(
        kind=kind,
        code=CODES.get(kind),
        confidence=confidence,
        size_mm=size,
        views=list(views),
        findings=[f],
    )


def test_normal_exam_is_birads_1():
    category, reasons, _ = assess(_views(), [])
    assert category == 1
    assert "normal arborisation" in reasons[0]


def test_cut_off_is_birads_4_with_a_tissue_diagnosis_reason():
    category, reasons, marked = assess(_views(), [_lesion(FindingKind.CUT_OFF, 0.95)])
    assert category == 4
    assert any("tissue diagnosis" in r for r in reasons)
    assert marked[0].counted


def test_unsure_finding_does_not_count():
    category, _, marked = assess(_views(), [_lesion(FindingKind.CUT_OFF, 0.1)])
    assert category == 1 and not marked[0].counted


def test_ectasia_or_cyst_alone_is_benign():
    assert assess(_views(), [_lesion(FindingKind.ECTASIA, 0.9)])[0] == 2
    assert assess(_views(), [_lesion(FindingKind.CYST_FILL, 0.9)])[0] == 2


def test_a_short_widening_is_not_counted_as_ectasia():
    """Ectasia's confidence is the length of duct read too wide (findings.ECTASIA_SURE_MM
    for 1): 24 mm of it (0.6), as some normal exams are read, is reported but not
    counted; 28 mm (0.7) is."""
    category, _, marked = assess(_views(), [_lesion(FindingKind.ECTASIA, 0.6)])
    assert category == 1 and not marked[0].counted
    category, _, marked = assess(_views(), [_lesion(FindingKind.ECTASIA, 0.7)])
    assert category == 2 and marked[0].counted


def test_wall_irregularity_counts_from_two_views_and_with_a_cut_off_is_birads_5():
    from ductogram.analysis.findings import IRREGULARITY_CONFIDENCE

    one_view = IRREGULARITY_CONFIDENCE[1]
    two_views = 1 - (1 - IRREGULARITY_CONFIDENCE[0]) ** 2
    # Seen in one view only, it is reported but not counted ...
    category, _, marked = assess(_views(), [_lesion(FindingKind.WALL_IRREGULARITY, one_view)])
    assert category == 1 and not marked[0].counted
    category, _, marked = assess(_views(), [_lesion(FindingKind.WALL_IRREGULARITY, two_views)])
    assert category == 4 and marked[0].counted
    # ... and with a cut-off it is the pattern of a carcinoma.
    lesions = [
        _lesion(FindingKind.CUT_OFF, 0.95),
        _lesion(FindingKind.WALL_IRREGULARITY, two_views),
    ]
    category, reasons, _ = assess(_views(), lesions)
    assert category == 5
    assert any("carcinoma" in r for r in reasons)
    # A narrowing on the stretch (an 8 mm stretch 3.0 cm from the nipple) is one of its
    # own narrowings, not a second sign; 2 cm beyond it, it is.
    wall = _lesion(FindingKind.WALL_IRREGULARITY, two_views, size=8.0)
    wall = wall.model_copy(update={"distance_from_nipple_cm": 3.0})
    for cm, expected in ((3.5, 4), (5.0, 5)):
        narrowing = _lesion(FindingKind.NARROWING, 0.9).model_copy(
            update={"distance_from_nipple_cm": cm}
        )
        assert assess(_views(), [wall, narrowing])[0] == expected, cm


def test_air_bubbles_are_mimics_not_papillomas():
    category, reasons, _ = assess(_views(), [_lesion(FindingKind.AIR_BUBBLE, 0.9, size=1.5)])
    assert category == 1
    assert any("bubble" in r and "not as papillomas" in r for r in reasons)


def test_no_contrast_is_incomplete():
    category, reasons, _ = assess(_views(found=False), [])
    assert category == 0
    assert reasons[0].startswith("incomplete")


def test_read_exam_of_a_drawn_cut_off_and_a_drawn_normal_tree():
    # A duct dilated to 3.2 mm that stops abruptly (the column against an obstruction).
    image, reading, _ = _view((220, 120), WIDE_DUCT_THAT_STOPS)
    exam = read_exam([image], readings=[reading], quality=False)
    assert exam.birads == 4 and not exam.normal
    assert exam.birads_code.value == BIRADS[4][0] and exam.birads_code.scheme == "SCT"
    assert any(les.kind == FindingKind.CUT_OFF and les.counted for les in exam.lesions)
    assert any("tissue diagnosis" in r for r in exam.reasons)
    normal = [
        ((4, 60), (70, 60), 0.9, 0.8),
        ((70, 60), (200, 25), 0.6, 0.1),
        ((70, 60), (200, 100), 0.6, 0.1),
    ]
    image, reading, _ = _view((220, 120), normal)
    exam = read_exam([image], readings=[reading], quality=False)
    assert exam.birads == 1 and exam.normal
    text = exam.summary()
    assert "BI-RADS 1" in text and "normal arborisation" in text
    again = ExamReading.model_validate_json(exam.model_dump_json())
    assert again.birads == 1 and again.views[0].segments == exam.views[0].segments


def test_a_drawn_stricture_is_a_counted_narrowing_and_birads_4():
    # A 1.6 mm duct narrowed to 0.6 mm over 4 mm: its lumen keeps 14 % of its area.
    image, reading, _ = _view((240, 120), _strictured(0.6))
    exam = read_exam([image], readings=[reading], quality=False)
    assert exam.birads == 4 and not exam.normal
    narrow = [les for les in exam.lesions if les.kind == FindingKind.NARROWING]
    assert len(narrow) == 1 and narrow[0].counted
    assert any(r.startswith(FindingKind.NARROWING) and "stricture" in r for r in exam.reasons)


def test_blank_image_is_incomplete_and_bad_input_raises():
    exam = read_exam([Image(np.zeros((64, 64)), (0.1, 0.1))], quality=False)
    assert exam.birads == 0 and not exam.normal
    assert "Incomplete" in exam.summary()
    with pytest.raises(ParameterError, match="images"):
        read_exam([])
    with pytest.raises(ParameterError, match=r"images\[0\]"):
        read_exam([np.zeros((64, 64))])
    with pytest.raises(ParameterError, match="readings"):
        read_exam([Image(np.zeros((64, 64)), (0.1, 0.1))], readings=[])


def test_simulated_two_view_exam_reads_and_serialises(ductogram_views):
    images = [ductogram_views["L", v].processing for v in ("CC", "ML")]
    exam = read_exam(images)
    assert [v.view for v in exam.views] == ["CC", "ML"]
    assert all(v.found for v in exam.views)
    assert exam.birads in (1, 2, 3, 4, 5)
    assert exam.normal == (exam.birads == 1)
    for les in exam.lesions:
        assert 0.0 <= les.confidence <= 1.0 and les.findings
    again = ExamReading.model_validate_json(exam.model_dump_json())
    assert again.birads == exam.birads and len(again.lesions) == len(exam.lesions)


def _untimed(exam):
    """An exam's JSON, read times left out."""
    return re.sub(r'"read_s":[0-9.e-]+', "", exam.model_dump_json())


def test_views_read_in_processes_or_threads_read_alike(ductogram_views, monkeypatch):
    """Two views read one after the other, in a forked process beside this one, and in
    threads (a threaded process does not fork) give the same exam, read times aside."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    from ductogram.analysis import assessment

    if not assessment._can_fork():
        pytest.skip("this process cannot fork (not Linux, or other threads running)")
    pools = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(assessment, "ProcessPoolExecutor", Counted)
    images = [ductogram_views["R", v].processing for v in ("CC", "ML")]
    alone = _untimed(read_exam(images, workers=1))
    assert _untimed(read_exam(images, workers=2)) == alone
    assert len(pools) == 1 and pools[0]["max_workers"] == 1  # the other view: in a child
    with ThreadPoolExecutor(1) as pool:  # this process now runs a second thread
        assert not pool.submit(assessment._can_fork).result()
        assert _untimed(pool.submit(read_exam, images, workers=2).result()) == alone
    assert len(pools) == 1  # read in threads


_PARENT = os.getpid()


def _read_view_dying_in_a_child(*args):
    """assessment._read_view, but a forked process dies at once (as one killed for its
    memory would)."""
    if os.getpid() != _PARENT:
        os._exit(1)
    return _READ_VIEW(*args)


def test_a_view_whose_process_dies_is_read_here(ductogram_views, monkeypatch):
    from ductogram.analysis import assessment

    if not assessment._can_fork():
        pytest.skip("this process cannot fork")
    images = [ductogram_views["R", v].processing for v in ("CC", "ML")]
    alone = read_exam(images, workers=1)
    monkeypatch.setattr(assessment, "_read_view", _read_view_dying_in_a_child)
    with pytest.warns(RuntimeWarning, match="read again in this process"):
        again = read_exam(images, workers=2)
    assert _untimed(again) == _untimed(alone)


def test_a_papilloma_in_the_sinus_is_a_cut_off_not_a_failed_injection(phantom_parameters):
    """An obstructing papilloma 4 mm in from the orifice stops the contrast in a pool at
    the cannula: no tree is read, but the views hold the pool (not "no contrast"), and the
    exam is a cut-off where the pool ends, on the papilloma (BI-RADS 4); the view is
    under-filled, but more contrast would not pass. Where the exam's other view shows
    the tree, the pool is a reading that failed. With nothing injected, the cannula alone
    is no pool: no contrast, incomplete."""
    from ductogram.analysis.reading import NO_DUCT, NO_DUCT_BEYOND_POOL, read_view
    from ductogram.anatomy import generate_phantom
    from ductogram.evaluate.findings_eval import _near_lesion
    from ductogram.exam.filling import fill_ducts
    from ductogram.imaging.views import ViewSettings, simulate_view

    # Node 8 of seed 3's first duct system: the lactiferous sinus, 4 mm from the nipple.
    papilloma = {"kind": "papilloma", "system": 0, "segment": 8, "obstructs": True}
    phantom = generate_phantom(
        {**phantom_parameters, "laterality": "L", "lesions": [{**papilloma, "size_mm": 4.0}]},
        seed=3,
    )
    settings = ViewSettings(pixel_mm=0.2, supersample=1)
    fill = fill_ducts(phantom.trees[0], 0.03)
    images = [
        simulate_view(phantom, v, fill=fill, settings=settings, rng=3).processing
        for v in ("CC", "ML")
    ]
    exam = read_exam(images)
    assert exam.birads == 4
    for view, image in zip(exam.views, images, strict=True):
        assert view.pooled and not view.found and view.message == NO_DUCT_BEYOND_POOL
        assert "no_contrast" not in [q["code"] for q in view.quality]
        (under,) = [q for q in view.quality if q["code"] == "under_filling"]
        assert under["action"].startswith("do not push more contrast")  # not "inject more"
        (cut,) = view.findings
        assert cut.kind == FindingKind.CUT_OFF and cut.confidence >= 0.5
        mm = float(np.mean(image.pixel_spacing_mm)) / image.magnification
        assert _near_lesion(cut.row, cut.col, image.truth.lesions[0], 2.0 / mm)
    (lesion,) = [les for les in exam.lesions if les.counted]
    assert lesion.kind == FindingKind.CUT_OFF and sorted(lesion.views) == ["CC", "ML"]
    from ductogram.report import inputs_from_exam_reading

    findings, assessment, _ = inputs_from_exam_reading(exam)  # the report: not incomplete
    assert assessment.birads == 4 and not any(q.makes_incomplete for q in assessment.qc)
    assert [f.kind for f in findings] == [FindingKind.CUT_OFF]

    # The overlay outlines the pool and marks where it stops, on the papilloma.
    from ductogram.analysis.overlay import overlay_figure

    pooled = read_view(images[0])
    fig = overlay_figure(images[0], pooled)
    (mark,) = [line for line in fig.axes[0].lines if line.get_marker() == "x"]
    assert (mark.get_xdata()[0], mark.get_ydata()[0]) == pooled.pool_end_rc[::-1]
    assert "where it stops" in fig.axes[0].texts[0].get_text()

    # A pool in one view where the other view shows the tree is a failed reading.
    plain = generate_phantom({**phantom_parameters, "laterality": "L"}, seed=3)
    tree_view = simulate_view(
        plain, "ML", fill=fill_ducts(plain.trees[0], 0.5), settings=settings, rng=3
    ).processing
    mixed = read_exam([images[0], tree_view])
    assert mixed.views[1].found and not mixed.views[0].pooled and not mixed.views[0].findings
    assert mixed.views[0].message.startswith(NO_DUCT)
    assert FindingKind.CUT_OFF not in [les.kind for les in mixed.lesions if les.counted]
    # The same with the pool read in the forked process (the second view), where forking.
    mixed = read_exam([tree_view, images[0]], workers=2)
    assert mixed.views[0].found and not mixed.views[1].pooled and not mixed.views[1].findings
    assert mixed.views[1].message.startswith(NO_DUCT)

    empty = simulate_view(phantom, "CC", fill=None, settings=settings, rng=3).processing
    reading = read_view(empty)
    assert not reading.pooled and reading.message == NO_DUCT
    exam = read_exam([empty], readings=[reading])
    assert exam.birads == 0 and "no_contrast" in [q["code"] for q in exam.views[0].quality]
