"""The reading of a whole ductography exam: findings of every view, paired, and the BI-RADS.

:func:`read_exam` reads each view (:func:`~ductogram.analysis.reading.read_view`), finds
its findings (:func:`~ductogram.analysis.findings.find_findings`) and image-quality flags
(:func:`~ductogram.analysis.quality.assess_quality`), pairs the findings of a CC and an
ML/MLO view into lesions and locates them (:func:`~ductogram.analysis.location.correlate`),
and suggests a BI-RADS category with its reasons (:func:`assess`). The result,
:class:`ExamReading`, is a pydantic model (``model_dump_json()``); :meth:`ExamReading.summary`
is its text.

BI-RADS has no ductography lexicon; the mapping is the practice convention of
../shared/reference/clinical.md §2.4 and ecosystem.md §4 (to be signed off by a breast
radiologist): 0 incomplete (no contrast-filled duct in any view: failed cannulation), 1
normal, 2 benign (isolated ectasia, cyst fill), 4 a filling defect, an abrupt cut-off, wall
irregularity or a narrowing (tissue diagnosis), 5 highly suggestive (a cut-off, a narrowing
or multiple filling defects together with wall irregularity: the pattern of an intraductal
carcinoma).
Air bubbles are mimics, reported but not counted; extravasation is a technical note.

A finding counts towards the category when its confidence reaches ``CALL_CONFIDENCE`` of
its kind; seen in two views, its confidence is ``1 - (1 - c1)(1 - c2)``; seen in only one
of a CC and ML pair, ``SINGLE_VIEW_FACTOR`` times its own.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..core import Image, ParameterError
from .findings import CODES, Finding, FindingCode, FindingKind, find_findings

__all__ = [
    "BIRADS",
    "CALL_CONFIDENCE",
    "ExamLesion",
    "ExamReading",
    "ViewReport",
    "assess",
    "read_exam",
]

#: BI-RADS assessment categories: SNOMED CT codes of DICOM CID 6027 "Assessment from
#: BI-RADS" and short meanings (ecosystem.md §1.4; meanings under 64 characters).
BIRADS: dict[int, tuple[str, str]] = {
    0: ("397138000", "0 - Incomplete"),
    1: ("397140005", "1 - Negative"),
    2: ("397141009", "2 - Benign"),
    3: ("397143007", "3 - Probably benign"),
    4: ("397144001", "4 - Suspicious"),
    5: ("397145000", "5 - Highly suggestive of malignancy"),
}
#: Confidence a finding needs to count (after pairing) [estimate: set on simulated exams
#: of seeds other than the reported ones, ductogram.evaluate.findings_eval; the filling
#: defect's and the cut-off's by case accuracy on the 80 exams of draw_cases(40, 7) and
#: draw_cases(40, 11), 0.74 at 0.65 and 0.6, 0.79 at 0.55 and 0.8: more carcinomas and
#: cysts called, fewer normal exams called for a cut-off (0.8: a 2.8 mm bulb in one view);
#: once a cut-off's bulb was its own duct's, the cut-off's at 0.5 on 83 exams (normals of
#: draw_cases(70, 25), draw_cases(30, 23), papillomas in draw_cases(30, 24)): 0.771 at
#: 0.8, 0.807 at 0.5, no normal exam more called; the filling defect's checked again once
#: its confidence was findings.DefectClassifier's probability, 5 folds by exam on the 120
#: mixed exams of its training (draw_cases(120, 41)): case accuracy 0.74-0.78 from 0.40 to
#: 0.80, 0.767 at 0.55, kept].
CALL_CONFIDENCE: dict[str, float] = {
    FindingKind.FILLING_DEFECT: 0.55,
    FindingKind.CUT_OFF: 0.5,
    # Ectasia: 26 mm of duct read wider than the limit (findings.ECTASIA_SURE_MM for 1)
    # [measured on the tuning exams: 63 normals (draw_cases(70, 25), draw_cases(100, 29))
    # read ectasia alone at 0.51-0.64 in 5 of them (2.2-3.7 mm, where a normal main duct
    # is 1.0-2.0 mm: anatomy/parameters.py), which 0.5 called benign; of 27 ectasia exams
    # (draw_cases(20, 28) with ectasia forced, draw_cases(30, 23)) those read for ectasia
    # alone stood at 0.649-1.0, and the one at 0.649 is now read normal (0.6 would keep it
    # and call one of the 5 normals: the same count)]
    FindingKind.ECTASIA: 0.65,
    FindingKind.CYST_FILL: 0.6,
    FindingKind.AIR_BUBBLE: 0.3,
    # A narrowing whose contrast cross-section falls to findings.NARROWING_AREA_RATIO of
    # the duct's (a stricture), or two paired weaker ones (1 - (1 - c1)(1 - c2) >= 0.5)
    # [measured there, one view at a time: 2 of 197 normal exams, 10 of 44 with a
    # stricture; read as exams, pairing included, on the 120 normal and 28 stricture exams
    # of draw_cases(300, 47): the narrowing alone called 2 normals and 6 strictures]
    FindingKind.NARROWING: 0.5,
    # Wall irregularity (saccules alternating with narrowings) counts when both views
    # show it at the same place: one view's finding is at most
    # findings.IRREGULARITY_CONFIDENCE[1] (0.45), two paired at least 0.51.
    FindingKind.WALL_IRREGULARITY: 0.5,
    # Extravasation is reported but not counted: a technical complication as often as a
    # sign (clinical.md §2.1). A reader who wants it counted lowers this.
    FindingKind.EXTRAVASATION: 1.01,
}
#: A narrowing or cut-off this near a wall irregularity's stretch (beyond half its length,
#: by distance from the nipple) is one of its narrowings: it does not make the carcinoma
#: pattern (BI-RADS 5) with it (the narrowing detector reads a stretch's deepest
#: narrowing too) [estimate: half location.PAIR_TOLERANCE_MM, within which the two views'
#: distances of one lesion agree]
STRETCH_MARGIN_MM = 5.0
#: A finding seen in one of two views that were paired keeps this share of its confidence
#: (a lesion is seen in both views); 1 as tuned: lower it to favour two-view findings.
SINGLE_VIEW_FACTOR = 1.0
SUSPICIOUS = (
    FindingKind.FILLING_DEFECT,
    FindingKind.CUT_OFF,
    FindingKind.WALL_IRREGULARITY,
    FindingKind.NARROWING,
)
#: What a suspicious finding may be (clinical.md §2.1; lesions.py: a stricture is a short
#: smooth narrowing that may close the lumen, a carcinoma makes its duct's calibre
#: irregular, saccules alternating with narrowings, and may end it abruptly).
SUSPICIOUS_CAUSES = {
    FindingKind.FILLING_DEFECT: "papilloma and carcinoma",
    FindingKind.CUT_OFF: "an obstructing papilloma, carcinoma and stricture",
    FindingKind.WALL_IRREGULARITY: "carcinoma (which it suggests) and benign causes",
    FindingKind.NARROWING: "a benign stricture and a carcinoma narrowing the duct",
}
BENIGN = (FindingKind.ECTASIA, FindingKind.CYST_FILL)
RECOMMENDATION = {
    0: "incomplete: repeat the cannulation and injection, or MRI / ultrasound of the "
    "retroareolar region",
    1: "no intraductal lesion seen: routine follow-up; clinical correlation for the discharge",
    2: "benign finding: clinical follow-up (conservative management where it explains "
    "the discharge)",
    4: "tissue diagnosis: ultrasound-guided or ductography-guided biopsy, or excision "
    "(microdochectomy) after marking the duct",
    5: "tissue diagnosis: biopsy and surgical referral",
}


class ViewReport(BaseModel):
    """One view of the exam: what was read, its findings and quality flags."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="position of the image in the exam's list")
    view: str | None = None
    laterality: str | None = None
    found: bool = Field(description="whether a duct tree was read")
    pooled: bool = Field(
        False, description="no tree, but contrast stopped in a pool at the root (obstruction)"
    )
    message: str | None = None
    tree_confidence: float = 0.0
    total_length_mm: float = 0.0
    segments: int = 0
    max_generation: int = 0
    findings: list[Finding] = Field(default_factory=list)
    quality: list[dict[str, Any]] = Field(
        default_factory=list, description="image-quality flags: code, description, action"
    )
    read_s: float = Field(0.0, description="time to read the view (s)")


class ExamLesion(BaseModel):
    """One finding of the exam, seen in one view or paired across two."""

    model_config = ConfigDict(frozen=True)

    kind: str
    code: FindingCode | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    size_mm: float = 0.0
    views: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    location: str | None = Field(None, description="laterality, clock hour, depth, distance")
    distance_from_nipple_cm: float | None = None
    clock_hour: int | None = Field(None, ge=1, le=12, description="from two views only")
    depth: str | None = Field(None, description="anterior, middle or posterior third")
    counted: bool = Field(False, description="whether it counts towards the category")


class ExamReading(BaseModel):
    """The reading of a ductography exam: views, lesions, BI-RADS with its reasons."""

    views: list[ViewReport]
    lesions: list[ExamLesion] = Field(default_factory=list)
    birads: int = Field(ge=0, le=6)
    birads_code: FindingCode
    normal: bool
    reasons: list[str] = Field(default_factory=list)
    recommendation: str = ""
    notes: list[str] = Field(default_factory=list)

    @property
    def abnormal(self) -> bool:
        """Not a normal exam (a finding, or incomplete)."""
        return not self.normal

    def summary(self) -> str:
        """The reading as text: the views, the findings, the assessment."""
        lines = ["Ductogram reading"]
        for v in self.views:
            name = " ".join(x for x in (v.laterality, v.view) if x) or f"image {v.index + 1}"
            if not v.found:
                lines.append(f"  {name}: no duct tree read ({v.message or 'unknown reason'})")
            else:
                lines.append(
                    f"  {name}: duct tree of {v.segments} segments, {v.total_length_mm:.0f} mm,"
                    f" {v.max_generation} generations (confidence {v.tree_confidence:.2f})"
                )
            for q in v.quality:
                lines.append(f"    quality: {q.get('description')}; {q.get('action')}")
        lines.append("Findings:")
        counted = [les for les in self.lesions if les.counted]
        if not counted:
            lines.append(
                "  normal arborisation with smooth tapering"
                if self.birads == 1
                else "  none that can be assessed"
            )
        for les in counted:
            code = f" [{les.code.scheme} {les.code.value}]" if les.code else ""
            where = f", {les.location}" if les.location else ""
            lines.append(
                f"  {les.kind}{code}, {les.size_mm:.0f} mm{where} ({' + '.join(les.views)}; "
                f"confidence {les.confidence:.2f})"
            )
        bubbles = [les for les in self.lesions if les.kind == FindingKind.AIR_BUBBLE]
        if bubbles:
            lines.append(f"  air bubbles ({len(bubbles)}): mimics, not filling defects")
        lines.append(f"Assessment: BI-RADS {BIRADS[self.birads][1]}")
        for r in self.reasons:
            lines.append(f"  - {r}")
        lines.append(f"Recommendation: {self.recommendation}")
        for n in self.notes:
            lines.append(f"Note: {n}")
        return "\n".join(lines)


def _combined(confidences: Sequence[float]) -> float:
    miss = 1.0
    for c in confidences:
        miss *= 1.0 - float(c)
    return float(np.clip(1.0 - miss, 0.0, 1.0))


def _quality(
    image: Image, reading: Any, landmarks: Any
) -> tuple[list[dict[str, Any]], list, list[tuple[float, float, float]]]:
    """The view's quality flags (as dicts), its air-bubble sites and where flagged metal
    lies, from one context."""
    from .quality import metal_region, quality_and_bubbles

    flags, sites = quality_and_bubbles(image, reading, landmarks)
    metal = [metal_region(f.evidence) for f in flags if f.code == "metal"]
    return (
        [{"code": f.code, "description": f.description, "action": f.action} for f in flags],
        sites,
        [m for m in metal if m is not None],
    )


def _pair(views: list[tuple[Image, Any, list[Finding]]]) -> list[ExamLesion]:
    """Findings of a CC and an ML/MLO view paired into lesions (location.correlate);
    findings of other views (or without the pairing module) each a lesion of one view."""
    cc = [
        i for i, (img, _, _) in enumerate(views) if img.view is not None and img.view.value == "CC"
    ]
    ml = [
        i
        for i, (img, _, _) in enumerate(views)
        if img.view is not None and img.view.value in ("ML", "MLO", "LM")
    ]
    lesions: list[ExamLesion] = []
    done: set[int] = set()
    if cc and ml:
        try:
            from .location import ViewFinding, correlate, view_frame
        except ImportError:
            ViewFinding = None
        if ViewFinding is not None:
            i, j = cc[0], ml[0]
            (img_a, marks_a, fa), (img_b, marks_b, fb) = views[i], views[j]

            def vf(f: Finding, img: Image) -> Any:
                return ViewFinding(
                    kind=f.kind,
                    row=f.row,
                    col=f.col,
                    size_mm=f.size_mm,
                    view=img.view.value,
                    generation=f.generation,
                )

            frame_a, frame_b = view_frame(img_a, marks_a), view_frame(img_b, marks_b)
            located = correlate(
                [vf(f, img_a) for f in fa], [vf(f, img_b) for f in fb], frame_a, frame_b
            )
            for loc in located:
                members = []
                for v in loc.findings:
                    src = fa if v.view == img_a.view.value else fb
                    match = next(
                        (f for f in src if f.kind == v.kind and f.row == v.row and f.col == v.col),
                        None,
                    )
                    if match is not None:
                        members.append(match)
                if not members:
                    continue
                single = SINGLE_VIEW_FACTOR if len(members) == 1 else 1.0
                lesions.append(_lesion(members, loc.location.text(), loc.location, single))
            # Findings of a view without a frame (no nipple) are not in the pairing.
            if frame_a is None:
                lesions += [_lesion([f]) for f in fa]
            if frame_b is None:
                lesions += [_lesion([f]) for f in fb]
            done = {i, j}
    for k, (_, _, fs) in enumerate(views):
        if k not in done:
            lesions += [_lesion([f]) for f in fs]
    return lesions


def _failed_pool(reading: Any) -> Any:
    """A pooled reading (:attr:`~.reading.Reading.pooled`) read as no tree: another view
    of the exam shows the tree, so the pool is a reading that failed."""
    from .reading import NO_DUCT

    return reading.model_copy(
        update={
            "pool_area_mm2": None,
            "pool_width_mm": None,
            "pool_end_rc": None,
            "message": f"{NO_DUCT}: a pool of contrast at the root, but another view of the "
            "exam shows the tree",
        }
    )


def _lesion(
    members: list[Finding], where: str | None = None, location: Any = None, factor: float = 1.0
) -> ExamLesion:
    first = members[0]
    codes = [f.code for f in members if f.code is not None]
    cm = None
    if location is not None:  # its distance, unless it says none (a lower bound of 0 cm)
        if getattr(location, "distance_from_nipple_cm", None) is not None:
            cm = round(float(location.distance_mm) / 10.0, 1)
    elif first.distance_from_nipple_mm is not None:
        cm = round(first.distance_from_nipple_mm / 10.0, 1)
    return ExamLesion(
        kind=first.kind,
        code=codes[0] if codes else CODES.get(first.kind),
        confidence=factor * _combined([f.confidence for f in members]),
        size_mm=float(max(f.size_mm for f in members)),
        views=[f.view or "?" for f in members],
        findings=members,
        location=where,
        distance_from_nipple_cm=cm,
        clock_hour=getattr(location, "clock_hour", None),
        depth=getattr(location, "depth", None),
    )


def _on_stretch(lesion: ExamLesion, wall: ExamLesion) -> bool:
    """Whether a narrowing or cut-off lies on a wall irregularity's stretch (within half
    its length and ``STRETCH_MARGIN_MM`` of its middle, by distance from the nipple): one
    of the stretch's own narrowings, not a second sign."""
    a, b = lesion.distance_from_nipple_cm, wall.distance_from_nipple_cm
    if a is None or b is None:
        return False
    return abs(a - b) * 10.0 <= 0.5 * wall.size_mm + STRETCH_MARGIN_MM


def assess(
    views: list[ViewReport], lesions: list[ExamLesion]
) -> tuple[int, list[str], list[ExamLesion]]:
    """The BI-RADS category of an exam, its reasons, and the lesions marked as counted.

    Parameters
    ----------
    views : list of ViewReport
    lesions : list of ExamLesion

    Returns
    -------
    (int, list of str, list of ExamLesion)
    """
    if not views or not any(v.found or v.pooled for v in views):
        why = next((v.message for v in views if v.message), "no duct tree read")
        return 0, [f"incomplete: no contrast-filled duct in any view ({why})"], lesions
    marked = [
        les.model_copy(update={"counted": les.confidence >= CALL_CONFIDENCE.get(les.kind, 1.0)})
        for les in lesions
    ]
    counted = [les for les in marked if les.counted and les.kind != FindingKind.AIR_BUBBLE]
    kinds = {les.kind for les in counted}
    reasons = []
    defects = [les for les in counted if les.kind == FindingKind.FILLING_DEFECT]
    suspicious = [les for les in counted if les.kind in SUSPICIOUS]
    if suspicious:
        category = 4
        for les in suspicious:
            where = f" ({les.location})" if les.location else ""
            reasons.append(
                f"{les.kind}{where}, {les.size_mm:.1f} mm, confidence {les.confidence:.2f}: "
                f"{SUSPICIOUS_CAUSES.get(les.kind, 'benign and malignant causes')} cannot be "
                "told apart by imaging; tissue diagnosis"
            )
        walls = [les for les in counted if les.kind == FindingKind.WALL_IRREGULARITY]
        other = [
            les
            for les in counted
            if les.kind in (FindingKind.CUT_OFF, FindingKind.NARROWING)
            and not any(_on_stretch(les, w) for w in walls)
        ]
        carcinoma = bool(walls) and (bool(other) or len(defects) >= 2)
        if carcinoma:
            category = 5
            reasons.append(
                "wall irregularity with an abrupt cut-off, narrowing or multiple filling "
                "defects: the pattern of an intraductal carcinoma"
            )
        elif len(defects) >= 2:
            reasons.append("multiple filling defects (papillomatosis or carcinoma)")
    elif kinds & set(BENIGN):
        category = 2
        for les in counted:
            if les.kind in BENIGN:
                reasons.append(f"{les.kind}, {les.size_mm:.1f} mm: benign")
    else:
        category = 1
        reasons.append(
            "normal arborisation with smooth tapering: no filling defect, cut-off, "
            "narrowing, wall irregularity, ectasia or cyst"
        )
    bubbles = [les for les in marked if les.kind == FindingKind.AIR_BUBBLE and les.counted]
    if bubbles:
        reasons.append(
            f"{len(bubbles)} air bubble(s) in the proximal ducts: round lucencies in ducts that "
            "are not widened, read as mimics, not as papillomas"
        )
    if FindingKind.EXTRAVASATION in kinds:
        reasons.append(
            "extravasation of contrast: a technical complication (or a sign of "
            "carcinoma with other findings)"
        )
    pooled = [v for v in views if v.pooled]
    if pooled:
        reasons.append(
            f"contrast stops in a pool at the duct's opening in {len(pooled)} view(s): "
            "the ducts beyond the obstruction are not seen"
        )
    missing = [v for v in views if not v.found and not v.pooled]
    if missing and category == 1:
        reasons.append(f"{len(missing)} view(s) without a readable tree")
    return category, reasons, marked


class _ViewRead(NamedTuple):
    """One view of an exam, read and judged."""

    marks: Any  # its landmarks
    reading: Any  # its Reading
    found: list[Finding]
    flags: list[dict[str, Any]]  # quality flags
    seconds: float  # spent on it so far


def _judged(image: Image, marks: Any, reading: Any, quality: bool, seconds: float) -> _ViewRead:
    """A read view's quality flags and findings; ``seconds`` already spent on it."""
    t0 = time.perf_counter()
    flags, sites, metal = _quality(image, reading, marks) if quality else ([], None, [])
    found = (
        find_findings(image, reading, marks, bubbles=sites, metal=metal)
        if reading.found or reading.pooled
        else []
    )
    return _ViewRead(marks, reading, found, flags, seconds + time.perf_counter() - t0)


def _read_view(image: Image, reading: Any, quality: bool) -> _ViewRead:
    """One view read (unless its ``reading`` is given) and judged (:func:`_judged`)."""
    from .landmarks import find_landmarks
    from .reading import read_view

    t0 = time.perf_counter()
    marks = find_landmarks(image)
    if reading is None:
        reading = read_view(image, marks)
    return _judged(image, marks, reading, quality, time.perf_counter() - t0)


def _can_fork() -> bool:
    """Whether views can be read in forked processes: on Linux (elsewhere the system's
    libraries are not safe to fork), from a process that runs no other Python thread (a
    fork copies only the thread that forks: another's locks could stay held) and is no
    daemon (a pool's worker, which may not have children). Native threads, such as
    OpenBLAS's pool, are not counted: OpenBLAS rebuilds its pool in the child."""
    return (
        sys.platform.startswith("linux")
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


def _each_view(
    images: Sequence[Image], readings: Sequence[Any] | None, quality: bool, workers: int
) -> list:
    """:func:`_read_view` of every view, ``workers`` at once."""
    given = list(readings) if readings is not None else [None] * len(images)
    args = [(image, reading, quality) for image, reading in zip(images, given, strict=True)]
    if workers == 1 or len(images) == 1:
        return [_read_view(*a) for a in args]
    workers = min(workers, len(images))
    # Much of a view's reading is Python code (the tree's graph, the findings' profiles)
    # that holds the interpreter: threads share it, processes do not. This process reads
    # every workers-th view itself, forked processes the others: a forked process starts
    # at once with everything imported and whatever this process has compiled or loaded
    # (skan's compiled graph code, the classifiers) on its earlier reads; its view and
    # results travel pickled (a few MB, some ms). What a child warns goes to its stderr,
    # past this process's warning filters.
    if not _can_fork():
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda a: _read_view(*a), args))
    context = multiprocessing.get_context("fork")
    done: dict[int, _ViewRead] = {}
    failed = None
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
        theirs = {}
        with warnings.catch_warnings():
            # Python 3.12 on warns of a fork beside any thread, OpenBLAS's included.
            warnings.filterwarnings("ignore", ".*fork.*", DeprecationWarning)
            try:
                for k in range(len(images)):
                    if k % workers:
                        theirs[k] = pool.submit(_read_view, *args[k])
            except BrokenProcessPool as exc:
                failed = exc
        for k in range(0, len(images), workers):
            done[k] = _read_view(*args[k])
        for k, future in theirs.items():
            try:
                done[k] = future.result()
            except BrokenProcessPool as exc:  # it died (killed for its memory, say)
                failed = exc
    if failed is not None:
        warnings.warn(
            f"a view's reading process failed ({failed}): its views are read again in this process",
            RuntimeWarning,
            stacklevel=3,
        )
    return [done[k] if k in done else _read_view(*args[k]) for k in range(len(images))]


def read_exam(
    images: Sequence[Image],
    *,
    readings: Sequence[Any] | None = None,
    quality: bool = True,
    workers: int | None = None,
) -> ExamReading:
    """Read a ductography exam: every view, its findings, the pairs, the BI-RADS.

    Parameters
    ----------
    images : sequence of Image
        The views of one exam (typically a CC and an ML or MLO view of one breast),
        DICOM or PNG read into :class:`~ductogram.core.Image` (FOR PROCESSING or FOR
        PRESENTATION).
    readings : sequence of Reading, optional
        Their readings, when already made (one per image); read otherwise.
    quality : bool
        Run the image-quality checks (default True).
    workers : int, optional
        Views read at once (default: one per view, at most one per core): in forked
        processes where this process can fork (:func:`_can_fork`), in threads otherwise.

    Returns
    -------
    ExamReading

    Raises
    ------
    ParameterError
        If ``images`` is empty or holds something other than :class:`Image`, or
        ``readings`` does not match it.

    Examples
    --------
    A blank image is no ductogram: the exam is incomplete.

    >>> import numpy as np
    >>> from ductogram.core import Image
    >>> exam = read_exam([Image(np.zeros((64, 64)), (0.1, 0.1))])
    >>> exam.birads, exam.normal
    (0, False)
    """
    from .reading import Reading

    if isinstance(images, Image):
        images = [images]
    if not isinstance(images, Sequence) or len(images) == 0:
        raise ParameterError("images", images, "a non-empty list of ductogram.core.Image views")
    for k, img in enumerate(images):
        if not isinstance(img, Image):
            raise ParameterError(f"images[{k}]", type(img).__name__, "a ductogram.core.Image")
    if readings is not None:
        if len(readings) != len(images) or not all(isinstance(r, Reading) for r in readings):
            raise ParameterError(
                "readings",
                f"{len(readings)} items",
                f"{len(images)} Reading objects, one per image",
            )
    if workers is None:
        workers = min(len(images), os.cpu_count() or 1)
    if not (isinstance(workers, int) and workers >= 1):
        raise ParameterError("workers", workers, "a number of views read at once >= 1")

    views = _each_view(images, readings, quality, workers)
    # Contrast that stops at the duct's opening stops there in every view: where another
    # view of the exam shows the tree, a view's pool is a reading that failed, read as no
    # tree (as before the pool was read), not an obstruction; such a view is judged again.
    if any(v.reading.found for v in views):
        views = [
            _judged(img, v.marks, _failed_pool(v.reading), quality, v.seconds)
            if v.reading.pooled
            else v
            for img, v in zip(images, views, strict=True)
        ]
    reports = []
    per_view = []
    for k, (img, (marks, reading, found, flags, seconds)) in enumerate(
        zip(images, views, strict=True)
    ):
        reports.append(
            ViewReport(
                index=k,
                view=reading.view,
                laterality=reading.laterality,
                found=reading.found,
                pooled=reading.pooled,
                message=reading.message,
                tree_confidence=reading.confidence,
                total_length_mm=reading.total_length_mm if reading.found else 0.0,
                segments=len(reading.segments),
                max_generation=reading.max_generation,
                findings=found,
                quality=flags,
                read_s=round(seconds, 3),
            )
        )
        per_view.append((img, marks, found))
    lesions = _pair(per_view)
    category, reasons, lesions = assess(reports, lesions)
    code, meaning = BIRADS[category]
    notes = [
        "BI-RADS has no ductography lexicon; the category follows the practice convention "
        "(clinical.md §2.4) and is a suggestion for the reading radiologist"
    ]
    return ExamReading(
        views=reports,
        lesions=sorted(lesions, key=lambda les: (not les.counted, -les.confidence)),
        birads=category,
        birads_code=FindingCode(value=code, scheme="SCT", meaning=meaning),
        normal=category == 1,
        reasons=reasons,
        recommendation=RECOMMENDATION.get(category, ""),
        notes=notes,
    )
