"""Scoring the findings and the case assessment on simulated two-view exams (issue 7).

:func:`evaluate_findings` draws the default mix of cases (:func:`.harness.draw_cases`:
normal trees and each kind of lesion, fill volumes, breast sizes, air bubbles, specks,
motion), simulates a CC and an ML (or MLO, when the case's view is MLO) view of each
exam, reads the exam with :func:`ductogram.analysis.assessment.read_exam`, and scores it
against the simulator's truth (``ViewTruth.lesions``, ``ViewTruth.bubbles_px``):

- **FROC of filling defects >= 3 mm** (:func:`froc`): the targets are the papillomas
  (solitary or multiple) of ``size_mm >= TARGET_MIN_MM``; a detection is a lesion of the
  exam reading (a finding, or a pair across the views) of kind *filling defect* or
  *abrupt duct termination* (an obstructing mass shows as a cut-off at its surface),
  with the exam's confidence. A detection finds a lesion when it lies inside the lesion's
  projected outline grown by ``MATCH_MM`` (object scale). Detections on other lesions
  (a carcinoma's cut-off, a papilloma under 3 mm, a cyst) are neither hits nor false
  positives; the rest are false positives. At each confidence threshold: lesion-level
  sensitivity (a lesion is found when a detection in either view finds it) and false
  positives per view;
- **case accuracy**: normal (no lesion in the cannulated system) against abnormal, the
  reading's ``normal`` (BI-RADS 1) against the rest, over the exams without
  extravasation (one with at least ``EXTRAVASATED_MIN_ML`` in the tissue is repeated
  later, whatever its ducts show; how many of those were read normal is reported);
- **location of the lesions found**: for each target found, its surest detection's
  distance from the nipple and clock hour (two views) against the lesion's true 3-D
  centre (:func:`.quality_eval.true_location`): median distance error, share of clock
  hours within one hour;
- **bubbles called papilloma**: among exams with air bubbles, the share in which a
  filling defect that counts towards the category lies within ``MATCH_MM`` of a bubble;
- **time** to read the two-view exam (:func:`read_exam`, all steps).

Each rate comes with its 95 % interval (``summary["ci95"]``): Wilson's for the proportions
(:func:`.metrics.proportion_ci`), and for the FROC's sensitivity at 0.25 false positives
per view the percentile interval of the exams resampled (:func:`froc_interval`). On 200
exams of the default mix there are about 20 filling defects of 3 mm or more, and one of
them found or missed moves that sensitivity by 0.05: each target says whether its interval
*settles* it (lies wholly on one side of the target value).

It writes, all at once (:func:`ductogram.core.files.atomic_directory`), ``exams.csv``,
``froc.json`` (the curve), ``summary.json`` (figures, intervals, targets, whether met) and
``froc.png``. ``ductogram evaluate --findings`` runs it from the command line.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core import ParameterError
from ..core.files import atomic_directory, check_output_directory, json_safe, write_json_atomic
from .harness import LESIONS, CaseSpec, case_setup, draw_cases
from .metrics import against_target, proportion_ci
from .parallel import ordered_map
from .quality_eval import EXTRAVASATED_MIN_ML

__all__ = [
    "TARGETS",
    "evaluate_findings",
    "froc",
    "froc_interval",
    "score_exam",
    "simulate_exam",
]

TARGET_KINDS = ("papilloma", "multiple_papillomas")
TARGET_MIN_MM = 3.0  # filling defects of at least this size are the FROC targets (issue 7)
MATCH_MM = 2.0  # a detection within this of a lesion's outline finds it [estimate]
DETECTION_KINDS = ("filling defect", "abrupt duct termination")
TARGETS = {  # issue 7, on >= 200 two-view exams of the default mix
    "sensitivity_at_0.25_fp_per_view": (">=", 0.90),
    "case_accuracy": (">=", 0.93),
    "bubbles_called_papilloma_rate": ("<=", 0.10),
    "distance_error_mm_median": ("<=", 5.0),  # of the targets found, from the nipple
    "clock_within_1h": (">=", 0.90),  # of the targets found in both views
    "read_s_median": ("<=", 6.0),
}
CSV_FIELDS = (
    "case",
    "seed",
    "lesion",
    "views",
    "pixel_kind",
    "bubbles",
    "targets",
    "targets_found",
    "false_positives",
    "truth_abnormal",
    "extravasated",
    "read_normal",
    "birads",
    "bubble_called_papilloma",
    "read_s",
    "message",
)


def simulate_exam(
    spec: CaseSpec,
    *,
    pixel_mm: float = 0.2,
    supersample: int = 1,
    phantom: dict[str, Any] | None = None,
) -> list[Any]:
    """Simulate the two views of one exam: CC and ML (MLO when ``spec.view`` is MLO).

    Parameters
    ----------
    spec : CaseSpec
        From :func:`.harness.draw_cases`.
    pixel_mm : float
        Detector pitch (mm).
    supersample : int
        Rays per pixel along each axis (1-4).
    phantom : dict, optional
        Phantom parameters set for every case.

    Returns
    -------
    list of ductogram.core.Image
        The CC view and the other, each with its truth (``spec.pixel_kind`` images).
    """
    return _simulate(spec, pixel_mm, supersample, phantom)[0]


def _simulate(spec: CaseSpec, pixel_mm: float, supersample: int, phantom: dict[str, Any] | None):
    """The two views of an exam (see :func:`simulate_exam`), its phantom and its fill."""
    from ..imaging.views import simulate_view

    ph, fill, settings, rng_view = case_setup(spec, pixel_mm, supersample, phantom)
    out = []
    second = "MLO" if spec.view == "MLO" else "ML"
    for view, r in zip(("CC", second), rng_view.spawn(2), strict=True):
        sv = simulate_view(ph, view, fill=fill, settings=settings, rng=r)
        out.append(sv.processing if spec.pixel_kind == "processing" else sv.presentation)
    return out, ph, fill


def _near_lesion(row: float, col: float, lesion: dict, reach_px: float) -> bool:
    """Whether (row, col) lies in the lesion's projected outline grown by ``reach_px``."""
    outline = lesion.get("outline_px")
    p = np.array([row, col], dtype=float)
    if outline is None or len(outline) < 3:
        centre = np.asarray(lesion["centre_px"], float)
        return bool(np.hypot(*(p - centre)) <= reach_px)
    from matplotlib.path import Path as MplPath

    poly = np.asarray(outline, float)
    if MplPath(poly).contains_point(p):
        return True
    a, b = poly, np.roll(poly, -1, axis=0)
    ab = b - a
    t = np.clip(((p - a) * ab).sum(axis=1) / np.maximum((ab**2).sum(axis=1), 1e-12), 0, 1)
    d = np.hypot(*(a + t[:, None] * ab - p).T)
    return bool(d.min() <= reach_px)


def score_exam(images: list[Any], exam: Any) -> dict[str, Any]:
    """Score one exam reading against its views' truth.

    Parameters
    ----------
    images : list of ductogram.core.Image
        The simulated views (with ``truth``), in the order read.
    exam : ExamReading
        Their reading (:func:`~ductogram.analysis.assessment.read_exam`).

    Returns
    -------
    dict
        ``detections``: (confidence, lesion id or -1 for a false positive, or None for a
        detection on a non-target lesion) per detection; ``targets``: number of target
        lesions; ``views``; ``truth_abnormal`` is filled by the caller; ``bubbles``: whether
        a view has bubbles; ``bubble_called_papilloma``; ``located``: per target found,
        where its surest detection puts it (``distance_cm``, ``clock_hour``: None where
        the reading could not tell, e.g. from one view).

    Raises
    ------
    ParameterError
        If an image has no simulator truth or the exam has another number of views.
    """
    if len(images) != len(exam.views):
        raise ParameterError("images", len(images), f"{len(exam.views)} images, one per view")
    detections: list[tuple[float, int | None]] = []
    n_targets = 0
    bubbles = False
    called = False
    counted_defects = {
        (f.view, round(f.row, 3), round(f.col, 3))
        for les in exam.lesions
        if les.counted and les.kind == "filling defect"
        for f in les.findings
    }
    by_view = {}
    for img, view in zip(images, exam.views, strict=True):
        truth = img.truth
        if truth is None or not hasattr(truth, "lesions"):
            raise ParameterError("image.truth", None, "a simulated image with its ViewTruth")
        mm = float(np.mean(img.pixel_spacing_mm)) / img.magnification
        lesions = list(truth.lesions)
        targets = [
            k
            for k, les in enumerate(lesions)
            if les["kind"] in TARGET_KINDS and les["size_mm"] >= TARGET_MIN_MM
        ]
        n_targets = max(n_targets, len(targets))
        by_view[view.view] = (lesions, targets, MATCH_MM / mm)
        bub = np.asarray(truth.bubbles_px, float).reshape(-1, 3)
        if len(bub):
            bubbles = True
            for f in view.findings:
                key = (f.view, round(f.row, 3), round(f.col, 3))
                if f.kind == "filling defect" and key in counted_defects:
                    d = np.hypot(bub[:, 0] - f.row, bub[:, 1] - f.col) - bub[:, 2]
                    if d.min() <= MATCH_MM / mm:
                        called = True
    # Detections are the exam's lesions (a finding, or a pair of findings across views):
    # a hit when a member finding lies on a target; on another lesion, neither.
    located: dict[int, tuple[float, float | None, int | None]] = {}
    for les in exam.lesions:
        if les.kind not in DETECTION_KINDS:
            continue
        hit: int | None = -1
        for f in les.findings:
            if f.view not in by_view:
                continue
            lesions, targets, reach = by_view[f.view]
            for k, truth_lesion in enumerate(lesions):
                if _near_lesion(f.row, f.col, truth_lesion, reach):
                    if k in targets:
                        hit = k
                        break
                    if hit == -1:
                        hit = None
            if hit is not None and hit >= 0:
                break
        detections.append((float(les.confidence), hit))
        if hit is not None and hit >= 0:
            if hit not in located or located[hit][0] < les.confidence:
                located[hit] = (float(les.confidence), les.distance_from_nipple_cm, les.clock_hour)
    return {
        "located": {k: {"distance_cm": v[1], "clock_hour": v[2]} for k, v in located.items()},
        "detections": detections,
        "targets": n_targets,
        "views": len(images),
        "bubbles": bubbles,
        "bubble_called_papilloma": called,
    }


def froc(scores: list[dict[str, Any]], thresholds: np.ndarray | None = None) -> dict[str, Any]:
    """The FROC curve of filling-defect detection over a set of scored exams.

    Parameters
    ----------
    scores : list of dict
        From :func:`score_exam`.
    thresholds : array, optional
        Confidence thresholds (default: every distinct detection confidence).

    Returns
    -------
    dict
        ``threshold``, ``sensitivity`` (lesion level), ``fp_per_view`` (lists, by
        decreasing threshold), ``targets``, ``views``, and
        ``sensitivity_at_0.25_fp_per_view`` (the highest sensitivity at no more than
        0.25 false positives per view; 0 when no threshold gets there).

    Examples
    --------
    One exam of two views, one target found at 0.9, one false positive at 0.5:

    >>> s = {"detections": [(0.9, 0), (0.5, -1)], "targets": 1, "views": 2}
    >>> c = froc([s])
    >>> c["sensitivity"], c["fp_per_view"]
    ([1.0, 1.0], [0.0, 0.5])
    """
    n_targets = sum(int(s["targets"]) for s in scores)
    n_views = sum(int(s["views"]) for s in scores)
    items = _froc_items(scores)
    th = items[3] if thresholds is None else np.asarray(thresholds, dtype=float)
    found, fps = _froc_counts(items, np.ones((1, len(scores))), th)
    sens = found[0] / n_targets if n_targets else np.full(len(th), np.nan)
    fpv = fps[0] / n_views if n_views else np.full(len(th), np.nan)
    ok = (fpv <= 0.25) & ~np.isnan(sens)
    return {
        "threshold": [float(t) for t in th],
        "sensitivity": [float(s) for s in sens],
        "fp_per_view": [float(f) for f in fpv],
        "targets": n_targets,
        "views": n_views,
        "sensitivity_at_0.25_fp_per_view": float(sens[ok].max()) if ok.any() else 0.0,
    }


def _froc_items(
    scores: list[dict[str, Any]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the FROC counts, by decreasing confidence: every false positive (kind 0) at
    its confidence and every target found at its surest hit's (kind 1), with their exams'
    indices; and the default thresholds, every distinct detection confidence (detections
    on other lesions included), decreasing."""
    conf, kind, exam = [], [], []
    for e, s in enumerate(scores):
        best: dict[int, float] = {}
        for c, h in s["detections"]:
            if h is None:
                continue
            if h == -1:
                conf.append(float(c)), kind.append(0), exam.append(e)
            elif h >= 0:
                best[h] = max(best.get(h, -math.inf), float(c))
        for c in best.values():
            conf.append(c), kind.append(1), exam.append(e)
    order = np.argsort(-np.asarray(conf, dtype=float), kind="stable")
    thresholds = np.array(sorted({float(c) for s in scores for c, _ in s["detections"]}))[::-1]
    return (
        np.asarray(conf, dtype=float)[order],
        np.asarray(kind, dtype=float)[order],
        np.asarray(exam, dtype=np.int64)[order],
        thresholds,
    )


def _froc_counts(
    items: tuple[np.ndarray, ...], weights: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, thresholds): the weighted targets found and false positives at or above
    each threshold, for each row of ``weights`` (how many times each exam counts)."""
    conf, kind, exam = items[:3]
    at = np.searchsorted(-conf, -np.asarray(thresholds, dtype=float), side="right")
    w = np.asarray(weights, dtype=float)[:, exam]
    zero = np.zeros((len(w), 1))
    found = np.concatenate([zero, np.cumsum(w * kind, axis=1)], axis=1)[:, at]
    fps = np.concatenate([zero, np.cumsum(w * (1 - kind), axis=1)], axis=1)[:, at]
    return found, fps


def _sensitivity_at(
    scores: list[dict[str, Any]], weights: np.ndarray, fp_per_view: float
) -> np.ndarray:
    """:func:`froc`'s sensitivity at ``fp_per_view`` false positives per view, for each row
    of ``weights`` (resamples, exams): how many times each exam counts (0 when no
    threshold gets there; NaN for a row that weighs no target)."""
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    n_targets = weights @ np.array([float(s["targets"]) for s in scores])
    n_views = weights @ np.array([float(s["views"]) for s in scores])
    items = _froc_items(scores)
    out = np.zeros(len(weights))
    for k in range(0, len(weights), 256):  # (rows x detections) arrays, in chunks
        rows = slice(k, k + 256)
        found, fps = _froc_counts(items, weights[rows], items[3])
        with np.errstate(divide="ignore", invalid="ignore"):
            sens = found / n_targets[rows, None]
            fpv = fps / n_views[rows, None]
        ok = (fpv <= fp_per_view) & np.isfinite(sens)
        out[rows] = np.where(ok, sens, -np.inf).max(axis=1, initial=0.0)
    out[n_targets == 0] = np.nan
    return out


def froc_interval(
    scores: list[dict[str, Any]],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap interval of the sensitivity at 0.25 false positives per view.

    The exams are resampled with replacement (an exam's views and lesions go together: it
    is the unit drawn), ``resamples`` times, and the interval is the percentile one of the
    resampled sensitivities (:func:`_sensitivity_at`, the same figure as :func:`froc`'s;
    resamples without a target are left out), widened to hold Wilson's interval of the
    targets found at the figure's threshold (:func:`.metrics.proportion_ci`): where every
    target, or none, is found, every resample finds every one, or none, and the bootstrap
    interval shrinks to the point (20 of 20 found is 0.84-1 by Wilson's).

    Parameters
    ----------
    scores : list of dict
        From :func:`score_exam`.
    confidence : float
        Confidence level, in (0, 1).
    resamples : int
        Bootstrap resamples, >= 100.
    seed : int
        Seed of the resampling.

    Returns
    -------
    (float, float)
        (NaN, NaN) without targets.
    """
    if not 0.0 < confidence < 1.0:
        raise ParameterError("confidence", confidence, "a level in (0, 1)")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 100:
        raise ParameterError("resamples", resamples, "a whole number of resamples >= 100")
    if not scores or sum(int(s["targets"]) for s in scores) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    n = len(scores)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    values = _sensitivity_at(scores, weights, 0.25)
    tail = 100.0 * (1.0 - confidence) / 2.0
    lo, hi = np.nanpercentile(values, [tail, 100.0 - tail])
    targets = sum(int(s["targets"]) for s in scores)
    point = float(_sensitivity_at(scores, np.ones(n), 0.25)[0])
    w_lo, w_hi = proportion_ci(round(point * targets), targets, confidence)
    return (float(min(lo, w_lo)), float(max(hi, w_hi)))


def _one(args: tuple) -> dict[str, Any]:
    spec, pixel_mm, supersample, phantom = args
    from ..analysis.assessment import read_exam

    row: dict[str, Any] = {"case": spec.index, "seed": spec.seed, "lesion": spec.lesion or ""}
    try:
        images, ph, fill = _simulate(spec, pixel_mm, supersample, phantom)
    except (ValueError, RuntimeError) as exc:
        return {**row, "message": f"simulation failed: {exc}", "score": None}
    t0 = time.perf_counter()
    exam = read_exam(images)
    read_s = time.perf_counter() - t0
    score = score_exam(images, exam)
    score["location_errors"] = _location_errors(ph, score["located"])
    found = {h for _, h in score["detections"] if h is not None and h >= 0}
    return {
        **row,
        "views": "+".join(v.view or "?" for v in exam.views),
        "pixel_kind": spec.pixel_kind,
        "bubbles": score["bubbles"],
        "targets": score["targets"],
        "targets_found": len(found),
        "false_positives": sum(1 for _, h in score["detections"] if h == -1),
        "truth_abnormal": spec.lesion is not None,
        "extravasated": bool(fill.extravasated_ml >= EXTRAVASATED_MIN_ML),
        "read_normal": exam.normal,
        "birads": exam.birads,
        "bubble_called_papilloma": score["bubble_called_papilloma"],
        "read_s": round(read_s, 3),
        "message": "; ".join(v.message for v in exam.views if v.message),
        "score": score,
    }


def _location_errors(phantom: Any, located: dict[int, dict]) -> list[dict[str, Any]]:
    """Where the reading put each target it found, against the lesion's true 3-D centre
    (:func:`.quality_eval.true_location`): distance from the nipple error (mm, from the
    reading's 0.1 cm) and clock-hour error (hours, -6 to 5; None from one view)."""
    from .quality_eval import clock_error_h, true_location

    out = []
    for k, where in sorted(located.items()):
        truth = true_location(phantom, int(k))
        cm, hour = where["distance_cm"], where["clock_hour"]
        out.append(
            {
                "lesion": int(k),
                "distance_error_mm": None if cm is None else 10.0 * cm - truth["distance_mm"],
                "clock_error_h": None if hour is None else clock_error_h(hour, truth["clock_hour"]),
            }
        )
    return out


def _plot(curve: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.step(curve["fp_per_view"], curve["sensitivity"], where="post", color="C0")
    ax.axvline(0.25, color="grey", ls=":", lw=1)
    ax.axhline(0.90, color="grey", ls=":", lw=1)
    ax.set_xlabel("false positives per view")
    ax.set_ylabel(f"sensitivity (filling defects >= {TARGET_MIN_MM:g} mm)")
    ax.set_xlim(0, max(2.0, min(max(curve["fp_per_view"] or [1.0]), 5.0)))
    ax.set_ylim(0, 1.02)
    ax.set_title(f"FROC: {curve['targets']} lesions, {curve['views']} views")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evaluate_findings(
    n: int,
    seed: int,
    out: str | Path | None = None,
    *,
    pixel_mm: float = 0.2,
    supersample: int = 1,
    workers: int = 1,
    phantom: dict[str, Any] | None = None,
    overwrite: bool = False,
    lesion: str | None = None,
    progress: Callable[[CaseSpec, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Simulate ``n`` two-view exams of the default mix, read and score them.

    Parameters
    ----------
    n : int
        Number of exams (>= 1).
    seed : int
        Seed of the mix (:func:`.harness.draw_cases`).
    out : path, optional
        Folder to write ``exams.csv``, ``froc.json``, ``summary.json`` and ``froc.png``
        into (all at once); nothing is written when None.
    pixel_mm : float
        Detector pitch of the simulated views (mm).
    supersample : int
        Rays per pixel along each axis.
    workers : int
        Processes to use (each exam is simulated and read in one).
    phantom : dict, optional
        Phantom parameters set for every case.
    overwrite : bool
        Replace an existing output folder.
    lesion : str, optional
        Give every exam of the mix this lesion (one of :data:`.harness.LESIONS`), the
        rest of each case drawn as in the default mix: "papilloma" gives a FROC with one
        target in most exams, where the default mix has a few in 60. None: the default mix.
    progress : callable, optional
        Called with each exam's spec and row as it is done (in the mix's order).

    Returns
    -------
    dict
        The summary (figures, the FROC curve, targets and whether they are met).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError("workers", workers, "a whole number of processes >= 1")
    if lesion is not None and lesion not in LESIONS:
        raise ParameterError("lesion", lesion, f"None or one of {', '.join(LESIONS)}")
    if out is not None:
        check_output_directory(out, overwrite=overwrite)
    specs = draw_cases(n, seed)
    if lesion is not None:
        specs = [replace(spec, lesion=lesion) for spec in specs]
    args = [(s, pixel_mm, supersample, phantom) for s in specs]
    rows = []
    for spec, row in zip(specs, ordered_map(_one, args, workers), strict=True):
        rows.append(row)
        if progress is not None:
            progress(spec, row)
    scored = [r for r in rows if r.get("score") is not None]
    curve = froc([r["score"] for r in scored])
    # An exam whose contrast leaked into the tissue is incomplete whatever the ducts hold
    # (it is repeated, clinical.md §1.6): it is left out of normal against abnormal.
    clean = [r for r in scored if not r["extravasated"]]
    leaked = [r for r in scored if r["extravasated"]]
    correct = [r["truth_abnormal"] != r["read_normal"] for r in clean]
    normals = [r for r in clean if not r["truth_abnormal"]]
    abnormals = [r for r in clean if r["truth_abnormal"]]
    with_bubbles = [r for r in scored if r["bubbles"]]
    times = [r["read_s"] for r in scored]
    summary: dict[str, Any] = {
        "exams": len(scored),
        "failed_simulations": len(rows) - len(scored),
        "seed": seed,
        "mix": "default" if lesion is None else f"every exam with {lesion}",
        "pixel_mm": pixel_mm,
        "supersample": supersample,
        "workers": workers,
        "lesion_targets": curve["targets"],
        "views": curve["views"],
        "sensitivity_at_0.25_fp_per_view": curve["sensitivity_at_0.25_fp_per_view"],
        "case_accuracy": float(np.mean(correct)) if correct else float("nan"),
        "exams_with_extravasation": len(leaked),
        "extravasation_read_normal": sum(1 for r in leaked if r["read_normal"]),
        "specificity": float(np.mean([r["read_normal"] for r in normals])) if normals else None,
        "case_sensitivity": (
            float(np.mean([not r["read_normal"] for r in abnormals])) if abnormals else None
        ),
        "exams_with_bubbles": len(with_bubbles),
        "bubbles_called_papilloma_rate": (
            float(np.mean([r["bubble_called_papilloma"] for r in with_bubbles]))
            if with_bubbles
            else float("nan")
        ),
        "read_s_median": float(np.median(times)) if times else float("nan"),
        "read_s_max": float(np.max(times)) if times else float("nan"),
        "froc_points": [
            {"threshold": t, "sensitivity": s, "fp_per_view": f}
            for t, s, f in zip(
                curve["threshold"], curve["sensitivity"], curve["fp_per_view"], strict=True
            )
        ][:: max(1, len(curve["threshold"]) // 25)],
    }
    errors = [e for r in scored for e in r["score"]["location_errors"]]
    dist = [abs(e["distance_error_mm"]) for e in errors if e["distance_error_mm"] is not None]
    hours = [abs(e["clock_error_h"]) for e in errors if e["clock_error_h"] is not None]
    summary["found_lesions_located"] = len(errors)
    summary["distance_error_mm_median"] = float(np.median(dist)) if dist else float("nan")
    summary["clock_hour_lesions"] = len(hours)
    summary["clock_within_1h"] = float(np.mean([h <= 1 for h in hours])) if hours else float("nan")
    by_lesion: dict[str, list[bool]] = {}
    for r in clean:
        by_lesion.setdefault(r["lesion"] or "normal", []).append(
            r["truth_abnormal"] != r["read_normal"]
        )
    summary["case_accuracy_by_lesion"] = {k: float(np.mean(v)) for k, v in by_lesion.items()}
    summary["exams_by_lesion"] = {k: len(v) for k, v in by_lesion.items()}
    # 95 % intervals: Wilson's for the proportions, the exams resampled for the FROC.
    summary["ci95"] = {
        "sensitivity_at_0.25_fp_per_view": froc_interval([r["score"] for r in scored]),
        "case_accuracy": proportion_ci(sum(correct), len(correct)),
        "specificity": proportion_ci(sum(r["read_normal"] for r in normals), len(normals)),
        "case_sensitivity": proportion_ci(
            sum(not r["read_normal"] for r in abnormals), len(abnormals)
        ),
        "bubbles_called_papilloma_rate": proportion_ci(
            sum(bool(r["bubble_called_papilloma"]) for r in with_bubbles), len(with_bubbles)
        ),
        "clock_within_1h": proportion_ci(sum(h <= 1 for h in hours), len(hours)),
    }
    summary["targets"] = {
        k: against_target(summary[k], v, summary["ci95"].get(k)) for k, v in TARGETS.items()
    }
    if out is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
        with atomic_directory(out, overwrite=overwrite) as tmp:
            (tmp / "exams.csv").write_text(buf.getvalue())
            write_json_atomic(tmp / "froc.json", json_safe(curve))
            write_json_atomic(tmp / "summary.json", json_safe(summary))
            _plot(curve, tmp / "froc.png")
    return summary
