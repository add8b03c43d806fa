"""Reading simulated ductograms and scoring the readings against the simulator's truth.

:func:`evaluate` draws N varied cases from a seed (:func:`draw_cases`: normal trees and
trees with each kind of lesion, 0.3–2 mL of contrast planned and the injection stopped
when the system is full (but for ``OVERFILL_SHARE`` of the cases), breast sizes,
CC/ML/MLO views, air bubbles, deodorant specks, patient motion), simulates one view of
each, reads it with
:func:`ductogram.analysis.read_view`, and scores the reading against the view's truth
(:func:`score_reading`):

- **Dice** and **clDice** (:mod:`.metrics`) of the duct lumen read
  (``Reading.lumen_array``), inside the breast (the contrast in the tubing outside the
  breast is not part of the tree);
- **branch points** and **end points**: precision, recall and F1, each detected point
  paired with at most one true point within ``MATCH_MM`` (object scale; :mod:`.points`).
  The true points are the projected branch points and free ends of the filled tree
  (:func:`.points.segment_tree_points` on ``ViewTruth.centreline_px``); points hidden by
  overlaps in the projection are counted as missed, as a reader cannot see them either;
- **clear branch points** (``clear_bifurcation_*``): the same, on the true branch points
  that no other duct's image crosses or touches within ``MATCH_MM`` (``clear_within`` of
  :func:`.points.segment_tree_points`). A read point within ``MATCH_MM`` of a true branch
  point that is not clear (or of one too short to be seen) counts neither way: in a
  projection it cannot be told from the overlap;
- **calibre error**: along every true segment of diameter ≥ ``CALIBRE_MIN_MM``, points
  are sampled away from its ends; each is paired with the nearest skeleton pixel of the
  reading within the true radius, and the reading's local diameter there is compared with
  the true one (object scale: 2 × ``radius_px`` × pixel / magnification);
- the **time** to read the view;
- the same point and calibre scores for a tree built on the **true** contrast mask
  (``true_mask_*``): what the graph step reaches with a perfect segmentation, the
  ceiling that projection overlaps and lobular blush leave.

It writes, all at once (:func:`ductogram.core.files.atomic_directory`), ``cases.csv`` (one
row per case), ``summary.json`` (means, pooled figures, the targets of issue 6 and
whether they are met) and ``metrics.png`` (histograms), ``calibre.png`` (read against
true calibre).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from ..core import ParameterError
from ..core.files import atomic_directory, check_output_directory, write_json_atomic
from .metrics import cl_dice, dice
from .points import PointMatch, match_points, segment_tree_points

__all__ = ["CaseSpec", "draw_cases", "evaluate", "score_reading", "simulate_case"]

MATCH_MM = 1.0  # a detected point within 1 mm of a true one finds it (issue 6)
CALIBRE_MIN_MM = 0.5  # calibre error is scored on ducts at least this wide (issue 6)
CALIBRE_STEP_PX = 3.0  # spacing of the sample points along a true segment
MIN_VISIBLE_MM = 0.5  # a side branch whose filled subtree is shorter cannot be seen [estimate]
SIMULATION_TRIES = 3  # a case whose simulation fails is drawn again with a derived seed
LESIONS = ("papilloma", "multiple_papillomas", "carcinoma", "ectasia", "cyst", "stricture")
NORMAL_SHARE = 0.4  # share of normal cases in the default mix [estimate]
BUBBLE_SHARE = 0.15  # cases injected without flushing the line (air bubbles) [estimate]
DEODORANT_SHARE = 0.1  # cases with deodorant left on [estimate]
MOTION_SHARE = 0.1  # cases where the patient moved [estimate]
OVERFILL_SHARE = 0.05  # cases injected past fullness, all of fill_ml [estimate]
FILL_ML = (0.3, 2.0)  # injected volume (clinical.md §1.4)
BREAST_ML = (300.0, 1200.0)  # breast volumes drawn, log-uniform [estimate]
VIEWS = ("CC", "ML", "MLO")
TARGETS = {  # issue 6, on 200 default-mix cases
    "dice_mean": (">=", 0.85),
    "cl_dice_mean": (">=", 0.90),
    "bifurcation_f1_pooled": (">=", 0.85),
    "calibre_error_median_mm": ("<=", 0.1),
}
CSV_FIELDS = (
    "case",
    "seed",
    "lesion",
    "view",
    "pixel_kind",
    "breast_ml",
    "fill_ml",
    "bubbles",
    "deodorant",
    "patient_moved",
    "overfilled",
    "rows",
    "cols",
    "simulation_retries",
    "read_s",
    "message",
    "confidence",
    "dice",
    "cl_dice",
    "bifurcation_true",
    "bifurcation_read",
    "bifurcation_matched",
    "bifurcation_precision",
    "bifurcation_recall",
    "bifurcation_f1",
    "clear_bifurcation_true",
    "clear_bifurcation_read",
    "clear_bifurcation_matched",
    "clear_bifurcation_f1",
    "end_true",
    "end_read",
    "end_matched",
    "end_precision",
    "end_recall",
    "end_f1",
    "calibre_samples",
    "calibre_matched",
    "calibre_error_median_mm",
    "calibre_bias_mm",
    "segments_read",
    "loops_cut",
    "max_generation_read",
    "max_generation_true",
    "true_mask_bifurcation_matched",
    "true_mask_bifurcation_read",
    "true_mask_bifurcation_f1",
    "true_mask_end_matched",
    "true_mask_end_read",
    "true_mask_end_f1",
    "true_mask_calibre_error_median_mm",
)


@dataclass(frozen=True)
class CaseSpec:
    """One simulated case of the evaluation mix.

    Parameters
    ----------
    index : int
        Position in the mix.
    seed : int
        Seed of the phantom, the fill and the view.
    lesion : str or None
        Lesion kind in the cannulated system (None: a normal tree).
    view : str
        CC, ML or MLO.
    pixel_kind : str
        Which image is read: "processing" (linear) or "presentation".
    breast_ml : float
        Breast volume (mL).
    fill_ml : float
        Contrast injected (mL).
    bubbles : bool
        Injected without flushing the line: air bubbles in the ducts.
    deodorant : bool
        Deodorant or powder specks left on the skin.
    patient_moved : bool
        Motion blur.
    overfilled : bool
        Injected past fullness (the whole ``fill_ml``): the excess refluxes and some
        extravasates. Otherwise the injection stops when the system is full (clinical.md
        §1.4: stop at fullness or discomfort), at ``fill_ml`` or the system's capacity.
    """

    index: int
    seed: int
    lesion: str | None
    view: str
    pixel_kind: str
    breast_ml: float
    fill_ml: float
    bubbles: bool
    deodorant: bool
    patient_moved: bool
    overfilled: bool = False


def draw_cases(n: int, seed: int) -> list[CaseSpec]:
    """The default mix of ``n`` cases, drawn from ``seed``.

    Parameters
    ----------
    n : int
        Number of cases, >= 1.
    seed : int
        Same seed, same cases; the first k cases of a longer mix are the k cases of a
        shorter one.

    Returns
    -------
    list of CaseSpec

    Examples
    --------
    >>> from ductogram.evaluate.harness import draw_cases
    >>> a, b = draw_cases(3, seed=1), draw_cases(5, seed=1)
    >>> a == b[:3], len({c.seed for c in b})
    (True, 5)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterError("cases", n, "a whole number of cases >= 1")
    root = np.random.default_rng([int(seed), 0x65766C])
    cases = []
    for i, rng in enumerate(root.spawn(int(n))):
        lesion = None if rng.random() < NORMAL_SHARE else str(rng.choice(LESIONS))
        cases.append(
            CaseSpec(
                index=i,
                seed=int(rng.integers(2**31)),
                lesion=lesion,
                view=str(rng.choice(VIEWS)),
                pixel_kind="processing" if rng.random() < 0.5 else "presentation",
                breast_ml=float(np.exp(rng.uniform(*np.log(BREAST_ML)))),
                fill_ml=float(rng.uniform(*FILL_ML)),
                bubbles=bool(rng.random() < BUBBLE_SHARE),
                deodorant=bool(rng.random() < DEODORANT_SHARE),
                patient_moved=bool(rng.random() < MOTION_SHARE),
                overfilled=bool(rng.random() < OVERFILL_SHARE),
            )
        )
    return cases


def case_setup(spec: CaseSpec, pixel_mm: float, supersample: int, phantom: dict | None = None):
    """The phantom, contrast fill, view settings and view generator of one drawn case:
    ``(phantom, fill, settings, rng)``, the same for every evaluation that draws it."""
    from ..anatomy import generate_phantom
    from ..exam.filling import fill_ducts
    from ..imaging.views import ViewSettings

    params: dict[str, Any] = {"volume_ml": spec.breast_ml, **(phantom or {})}
    if spec.lesion is not None:
        params["lesions"] = [{"kind": spec.lesion, "system": 0}]
    rng = np.random.default_rng(spec.seed)
    rng_fill, rng_view = rng.spawn(2)
    ph = generate_phantom(params, seed=spec.seed)
    fill = fill_ducts(
        ph.trees[0],
        spec.fill_ml,
        flushed=not spec.bubbles,
        stop_when_full=not spec.overfilled,
        rng=rng_fill,
    )
    settings = ViewSettings(
        pixel_mm=pixel_mm,
        supersample=supersample,
        patient_moved=spec.patient_moved,
        deodorant=spec.deodorant,
    )
    return ph, fill, settings, rng_view


def simulate_case(
    spec: CaseSpec,
    *,
    pixel_mm: float = 0.085,
    supersample: int = 2,
    phantom: dict[str, Any] | None = None,
):
    """Simulate the view of one case.

    Parameters
    ----------
    spec : CaseSpec
    pixel_mm : float
        Detector pitch (mm).
    supersample : int
        Rays per pixel along each axis for the ducts (1–4).
    phantom : dict, optional
        Phantom parameters to set for every case (e.g. fewer TDLUs for a quick run).

    Returns
    -------
    ductogram.core.Image
        The image to read (``spec.pixel_kind``), with the view's truth attached.
    """
    from ..imaging.views import simulate_view

    ph, fill, settings, rng_view = case_setup(spec, pixel_mm, supersample, phantom)
    view = simulate_view(ph, spec.view, fill=fill, settings=settings, rng=rng_view)
    return view.processing if spec.pixel_kind == "processing" else view.presentation


def _simulate_with_retries(spec: CaseSpec, pixel_mm: float, supersample: int, phantom):
    """Simulate a case; if the simulator fails for its draw, try derived seeds."""
    error: Exception | None = None
    for k in range(SIMULATION_TRIES):
        tried = spec if k == 0 else replace(spec, seed=int((spec.seed * 7919 + k) % 2**31))
        try:
            image = simulate_case(
                tried, pixel_mm=pixel_mm, supersample=supersample, phantom=phantom
            )
            return tried, image, k
        except (ValueError, RuntimeError) as exc:  # a draw the simulator cannot image
            error = exc
    raise RuntimeError(
        f"case {spec.index}: the simulation failed {SIMULATION_TRIES} times: {error}"
    ) from error


def _calibre_samples(truth, scale_mm: float, nodes_rc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample points (row, col) along true segments >= CALIBRE_MIN_MM wide, farther than
    two radii from the tree's branch points and ends, and the true diameter (mm) at each."""
    ends = np.asarray(truth.centreline_px, dtype=float).reshape(-1, 2, 2)
    radius = np.asarray(truth.radius_px, dtype=float).reshape(-1)
    pts, rad = [], []
    for (a, b), r in zip(ends, radius, strict=True):
        if 2.0 * r * scale_mm < CALIBRE_MIN_MM:
            continue
        length = float(np.hypot(*(b - a)))
        t = np.arange(0.0, length, CALIBRE_STEP_PX) / max(length, 1e-9)
        pts.append(a + t[:, None] * (b - a))
        rad.append(np.full(len(t), r))
    if not pts:
        return np.zeros((0, 2)), np.zeros(0)
    p, r = np.vstack(pts), np.concatenate(rad)
    if len(nodes_rc):
        # Within a radius or two of a node the lumen is shared with the next segment.
        d, _ = cKDTree(nodes_rc).query(p)
        keep = d > 2.0 * r
        p, r = p[keep], r[keep]
    return p, 2.0 * r * scale_mm


def score_reading(image, reading) -> dict[str, Any]:
    """Score one reading against the truth of its (simulated) image.

    Parameters
    ----------
    image : ductogram.core.Image
        A simulated view (``image.truth`` is a ``ViewTruth``).
    reading : ductogram.analysis.Reading
        Its reading.

    Returns
    -------
    dict
        The scores of ``CSV_FIELDS`` (those that come from the reading), and
        ``calibre_pairs``: an (M, 2) array of (true, read) diameters (mm).

    Raises
    ------
    ParameterError
        If the image carries no simulator truth.
    """
    truth = image.truth
    if truth is None or not hasattr(truth, "centreline_px"):
        raise ParameterError("image.truth", None, "a simulated image with its ViewTruth")
    pixel_mm = float(np.mean(image.pixel_spacing_mm))
    scale_mm = pixel_mm / image.magnification  # object mm per pixel
    region = np.asarray(truth.breast_mask, dtype=bool)
    true_mask = np.asarray(truth.contrast_mask, dtype=bool) & region
    read_mask = reading.lumen_array() & region
    out: dict[str, Any] = {
        "dice": dice(read_mask, true_mask),
        "cl_dice": cl_dice(read_mask, true_mask),
        "message": reading.message or "",
        "confidence": reading.confidence,
        "segments_read": len(reading.segments),
        "loops_cut": reading.loops_cut,
        "max_generation_read": reading.max_generation,
        "max_generation_true": int(np.max(truth.generation)) if len(truth.generation) else 0,
    }

    def inside(p: np.ndarray) -> np.ndarray:
        if len(p) == 0:
            return np.zeros(0, dtype=bool)
        r = np.clip(np.round(p[:, 0]).astype(int), 0, region.shape[0] - 1)
        c = np.clip(np.round(p[:, 1]).astype(int), 0, region.shape[1] - 1)
        return region[r, c]

    tol_px = MATCH_MM / scale_mm
    tp = segment_tree_points(
        truth.centreline_px, min_branch_length=MIN_VISIBLE_MM / scale_mm, clear_within=tol_px
    )
    tree = reading.tree
    if tree is not None and tree.n_segments:
        read_branch = tree.node_rc[tree.branch_points]
        read_end = tree.node_rc[tree.end_points]
    else:
        read_branch = read_end = np.zeros((0, 2))
    shown = inside(tp.branch_rc)
    true_branch = tp.branch_rc[shown]
    for name, det, tru in (
        ("bifurcation", read_branch, true_branch),
        ("end", read_end, tp.end_rc[inside(tp.end_rc)]),
    ):
        m = match_points(det, tru, tol_px)
        out[f"{name}_true"] = m.n_true
        out[f"{name}_read"] = m.n_detected
        out[f"{name}_matched"] = m.n_matched
        out[f"{name}_precision"] = m.precision
        out[f"{name}_recall"] = m.recall
        out[f"{name}_f1"] = m.f1
    # Branch points clear of other ducts' images; a reading's point near a true one that
    # is not clear, or near one too short to be seen (pruned from the truth's points), is
    # neither right nor wrong.
    clear = tp.branch_clear[shown]
    every = segment_tree_points(truth.centreline_px).branch_rc
    if len(tp.branch_rc) and len(every):
        every = every[cKDTree(tp.branch_rc).query(every)[0] > 1e-6]
    excused = np.vstack([true_branch[~clear], every])
    m = match_points(read_branch, true_branch[clear], tol_px)
    loose = np.setdiff1d(np.arange(len(read_branch)), m.pairs[:, 0])
    if len(loose) and len(excused):
        d, _ = cKDTree(excused).query(read_branch[loose])
        loose = loose[d > tol_px]
    cm = PointMatch(m.pairs, m.distances, m.n_matched + len(loose), int(clear.sum()))
    out["clear_bifurcation_true"] = cm.n_true
    out["clear_bifurcation_read"] = cm.n_detected
    out["clear_bifurcation_matched"] = cm.n_matched
    out["clear_bifurcation_f1"] = cm.f1

    samples, true_d = _calibre_samples(
        truth, scale_mm, np.vstack([tp.branch_rc, tp.end_rc, tp.root_rc])
    )
    pairs = np.zeros((0, 2))
    if len(samples) and tree is not None and tree.n_segments:
        dist, idx = cKDTree(tree.skeleton_rc).query(samples)
        ok = dist <= np.maximum(true_d / (2 * scale_mm), 1.5)
        pairs = np.column_stack([true_d[ok], tree.skeleton_calibre_mm[idx[ok]]])
    err = pairs[:, 1] - pairs[:, 0] if len(pairs) else np.zeros(0)
    out["calibre_samples"] = len(samples)
    out["calibre_matched"] = len(pairs)
    out["calibre_error_median_mm"] = float(np.median(np.abs(err))) if len(err) else math.nan
    out["calibre_bias_mm"] = float(np.median(err)) if len(err) else math.nan
    out["calibre_pairs"] = pairs
    return out


def _true_mask_scores(image) -> dict[str, float]:
    """Scores of the tree built on the true contrast mask (inside the breast, rooted at
    the true orifice): what the graph step reaches with a perfect segmentation."""
    from ..analysis.graph import build_tree
    from ..analysis.reading import reading_from_tree

    truth = image.truth
    mask = np.asarray(truth.contrast_mask, dtype=bool) & np.asarray(truth.breast_mask, bool)
    roots = segment_tree_points(truth.centreline_px).root_rc
    root = tuple(roots[0]) if len(roots) else None
    pixel_mm = float(np.mean(image.pixel_spacing_mm))
    tree = build_tree(mask, root, pixel_mm, image.magnification)
    s = score_reading(image, reading_from_tree(image, tree, mask))
    return {
        "true_mask_bifurcation_matched": s["bifurcation_matched"],
        "true_mask_bifurcation_read": s["bifurcation_read"],
        "true_mask_bifurcation_f1": s["bifurcation_f1"],
        "true_mask_end_matched": s["end_matched"],
        "true_mask_end_read": s["end_read"],
        "true_mask_end_f1": s["end_f1"],
        "true_mask_calibre_error_median_mm": s["calibre_error_median_mm"],
    }


def _json_number(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _summary(rows: list[dict], pairs: np.ndarray, pixel_mm: float, seed: int) -> dict:
    def col(name):
        return np.array([r[name] for r in rows], dtype=float)

    def mean(name):
        v = col(name)
        v = v[np.isfinite(v)]
        return _json_number(float(v.mean())) if len(v) else None

    def pooled_f1(name):
        m, d, t = col(f"{name}_matched").sum(), col(f"{name}_read").sum(), col(f"{name}_true").sum()
        p = m / d if d else 1.0
        r = m / t if t else 1.0
        return {
            "precision": _json_number(p),
            "recall": _json_number(r),
            "f1": _json_number(2 * p * r / (p + r) if p + r else 0.0),
        }

    err = np.abs(pairs[:, 1] - pairs[:, 0]) if len(pairs) else np.zeros(0)
    times = col("read_s")

    def true_mask_f1(name):
        m = col(f"true_mask_{name}_matched").sum()
        d, t = col(f"true_mask_{name}_read").sum(), col(f"{name}_true").sum()
        p = m / d if d else 1.0
        r = m / t if t else 1.0
        return _json_number(2 * p * r / (p + r) if p + r else 0.0)

    bif = pooled_f1("bifurcation")
    clear = pooled_f1("clear_bifurcation")
    end = pooled_f1("end")
    figures = {
        "dice_mean": mean("dice"),
        "cl_dice_mean": mean("cl_dice"),
        "bifurcation_f1_mean": mean("bifurcation_f1"),
        "bifurcation_f1_pooled": bif["f1"],
        "bifurcation_precision_pooled": bif["precision"],
        "bifurcation_recall_pooled": bif["recall"],
        "clear_bifurcation_f1_pooled": clear["f1"],
        "clear_bifurcation_precision_pooled": clear["precision"],
        "clear_bifurcation_recall_pooled": clear["recall"],
        "clear_bifurcation_share": _json_number(
            col("clear_bifurcation_true").sum() / max(col("bifurcation_true").sum(), 1.0)
        ),
        "end_f1_mean": mean("end_f1"),
        "end_f1_pooled": end["f1"],
        "end_precision_pooled": end["precision"],
        "end_recall_pooled": end["recall"],
        "calibre_error_median_mm": _json_number(float(np.median(err))) if len(err) else None,
        "calibre_bias_median_mm": (
            _json_number(float(np.median(pairs[:, 1] - pairs[:, 0]))) if len(pairs) else None
        ),
        "calibre_pairs": len(pairs),
        "read_s_median": _json_number(float(np.median(times))),
        "read_s_max": _json_number(float(np.max(times))),
        "cases_with_message": sum(1 for r in rows if r["message"]),
        "true_mask_bifurcation_f1_pooled": true_mask_f1("bifurcation"),
        "true_mask_end_f1_pooled": true_mask_f1("end"),
        "true_mask_calibre_error_case_median_mean_mm": mean("true_mask_calibre_error_median_mm"),
        "cases_redrawn": sum(1 for r in rows if r["simulation_retries"]),
    }
    targets = {}
    for name, (op, bound) in TARGETS.items():
        value = figures[name]
        met = value is not None and (value >= bound if op == ">=" else value <= bound)
        targets[name] = {"target": f"{op} {bound:g}", "value": value, "met": bool(met)}
    return {
        "cases": len(rows),
        "seed": seed,
        "pixel_mm": pixel_mm,
        "match_mm": MATCH_MM,
        "calibre_min_mm": CALIBRE_MIN_MM,
        "figures": figures,
        "targets": targets,
        "by_lesion": {
            str(k or "normal"): {
                "cases": sum(1 for r in rows if r["lesion"] == (k or "")),
                "dice_mean": _json_number(
                    float(np.mean([r["dice"] for r in rows if r["lesion"] == (k or "")]))
                )
                if any(r["lesion"] == (k or "") for r in rows)
                else None,
            }
            for k in (None, *LESIONS)
        },
    }


def _csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(
            {
                k: (
                    f"{v:.6g}"
                    if isinstance(v, float) and math.isfinite(v)
                    else ("" if isinstance(v, float) else v)
                )
                for k, v in r.items()
            }
        )
    return buf.getvalue()


def _plots(rows: list[dict], pairs: np.ndarray, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    names = [
        ("dice", "Dice"),
        ("cl_dice", "clDice"),
        ("bifurcation_f1", "branch-point F1"),
        ("end_f1", "end-point F1"),
        ("calibre_error_median_mm", "median calibre error (mm)"),
        ("read_s", "read time (s)"),
    ]
    fig = Figure(figsize=(12, 6.5), layout="constrained")
    axes = fig.subplots(2, 3)
    for ax, (name, label) in zip(axes.ravel(), names, strict=True):
        v = np.array([r[name] for r in rows], dtype=float)
        v = v[np.isfinite(v)]
        ax.hist(v, bins=min(20, max(5, len(v))), color="#4477aa")
        ax.set_xlabel(label)
        ax.set_ylabel("cases")
        if len(v):
            ax.axvline(np.median(v), color="k", lw=1, ls="--")
    fig.suptitle(f"ductogram evaluate: {len(rows)} cases")
    files = [folder / "metrics.png"]
    fig.savefig(files[0], dpi=90)

    fig = Figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.subplots()
    if len(pairs):
        ax.plot(pairs[:, 0], pairs[:, 1], ".", ms=2, alpha=0.3, color="#4477aa")
        hi = float(max(pairs.max(), 1.0))
        ax.plot([0, hi], [0, hi], "k-", lw=1)
    ax.set_xlabel("true diameter (mm)")
    ax.set_ylabel("read diameter (mm)")
    ax.set_title("calibre along the ducts")
    files.append(folder / "calibre.png")
    fig.savefig(files[1], dpi=90)
    return files


def evaluate(
    cases: int,
    seed: int,
    out: str | Path,
    pixel_mm: float = 0.085,
    *,
    supersample: int = 2,
    overwrite: bool = False,
    progress: Callable[[CaseSpec, dict], None] | None = None,
    phantom: dict[str, Any] | None = None,
) -> dict:
    """Simulate, read and score ``cases`` cases; write the results to ``out``.

    Parameters
    ----------
    cases : int
        Number of cases (>= 1) of the default mix (:func:`draw_cases`).
    seed : int
        Same seed, same cases and the same figures.
    out : str or path-like
        Output folder (created; must not exist or be empty unless ``overwrite``).
    pixel_mm : float, optional
        Detector pitch (mm) in [0.05, 0.2]; default 0.085.
    supersample : int, optional
        Rays per pixel along each axis for the ducts (1–4; default 2).
    overwrite : bool, optional
        Replace a non-empty output folder.
    progress : callable, optional
        Called with the case and its row after each case.
    phantom : dict, optional
        Phantom parameters set for every case (default: all drawn but the breast volume).

    Returns
    -------
    dict
        The summary also written to ``summary.json``.

    Raises
    ------
    ParameterError
        For a bad number of cases, pixel pitch or supersampling.
    FileExistsError
        If ``out`` exists, is not empty, and ``overwrite`` is False.
    """
    from ..analysis.reading import read_view

    specs = draw_cases(cases, seed)
    if not np.isfinite(pixel_mm) or not 0.05 <= pixel_mm <= 0.2:
        raise ParameterError("pixel_mm", pixel_mm, "a pitch in [0.05, 0.2] mm")
    if isinstance(supersample, bool) or supersample not in (1, 2, 3, 4):
        raise ParameterError("supersample", supersample, "an integer in [1, 4]")
    check_output_directory(out, overwrite=overwrite)
    rows: list[dict] = []
    all_pairs = []
    for spec in specs:
        spec, image, retries = _simulate_with_retries(spec, pixel_mm, supersample, phantom)
        t0 = time.perf_counter()
        reading = read_view(image)
        read_s = time.perf_counter() - t0
        scores = score_reading(image, reading)
        all_pairs.append(scores.pop("calibre_pairs"))
        ceiling = _true_mask_scores(image)
        row = {
            **{k: v for k, v in asdict(spec).items() if k != "index"},
            "case": spec.index,
            "lesion": spec.lesion or "",
            "rows": image.shape[0],
            "cols": image.shape[1],
            "read_s": read_s,
            "simulation_retries": retries,
            **scores,
            **ceiling,
        }
        rows.append(row)
        if progress is not None:
            progress(spec, row)
    pairs = np.vstack(all_pairs) if all_pairs else np.zeros((0, 2))
    summary = _summary(rows, pairs, pixel_mm, seed)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        (tmp / "cases.csv").write_text(_csv_text(rows), encoding="utf-8")
        write_json_atomic(tmp / "summary.json", summary)
        _plots(rows, pairs, tmp)
    return summary
