"""Train the air-bubble classifier of the quality step on simulated views, and evaluate it.

    python scripts/train_bubbles.py collect    # simulate and read the tuning views
    python scripts/train_bubbles.py train      # writes analysis/data/bubble_classifier.npz
    python scripts/train_bubbles.py evaluate   # cross-validated view flags, by seed

Training views: ``simulate_quality_case`` (0.2 mm pixels, as ``evaluate_quality`` makes
them) of seeds 1000-1069 and 7000-7139 (half clean, the rest each problem in turn, as the
reported seeds are) and 5000-5049 (all with air bubbles), both pixel kinds. None of these
is a seed of the reported evaluation (``quality_eval.REPORT_SEEDS``, 2000-2139) or of the
held-out bubble views (6000-6049). Each view is read (``find_landmarks``, ``read_view``)
and its dips taken with ``quality.bubble_dips``; a dip within ``LABEL_MM`` of a bubble's
projected outline is a positive, the rest negatives. The model is
``quality.BubbleClassifier``: the principal components of the dips' patches, then a
generalised additive logistic model (one cubic spline per measure and component), fitted
by scikit-learn and written as plain arrays.

``evaluate`` refits it in 5 folds grouped by seed and reports, per pair of thresholds
(``BUBBLE_CLEAR_P``, ``BUBBLE_FAINT_P``), the share of the views with bubbles that the
flag's rule (one clear site, or ``BUBBLE_MIN_FAINT`` sites, among the dips shaped like a
bubble: ``quality.bubble_shaped``) raises, and of the views without.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from _training import run_steps

from ductogram.analysis.quality import (
    BUBBLE_CLASSIFIER_FILE,
    BUBBLE_PATCH_COMPONENTS,
    BUBBLE_ROW_SIZE,
    BubbleClassifier,
    bubble_dips,
    bubble_site_picks,
    flagged,
)

SEEDS = ((1000, 1070, None), (7000, 7140, None), (5000, 5050, "air_bubbles"))
LABEL_MM = 0.2  # a dip this close to a bubble's projected outline is on it
C_INVERSE = 1.0  # the logistic regression's inverse regularisation strength
N_KNOTS = 5  # knots of each measure's spline
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "ductogram" / "analysis" / "data"
CACHE = ROOT / "out" / "bubble_training.npz"  # what collect measured, for train and evaluate


def _views() -> list[tuple[int, str | None]]:
    from ductogram.evaluate.quality_eval import _problem_of

    return [(s, forced or _problem_of(s)) for lo, hi, forced in SEEDS for s in range(lo, hi)]


def _view(job: tuple[int, str | None]) -> list[tuple]:
    """Per pixel kind of one seed's view: its dips' features and labels, their (row, col),
    the view's pixel size (mm, object scale) and whether it has bubbles."""
    from ductogram.analysis.landmarks import find_landmarks
    from ductogram.analysis.reading import read_view
    from ductogram.evaluate.quality_eval import simulate_quality_case

    seed, problem = job
    sv, truth, _ = simulate_quality_case(problem, seed)
    out = []
    for image in (sv.processing, sv.presentation):
        marks = find_landmarks(image)
        dips = bubble_dips(image, read_view(image, marks), marks)
        mm = float(np.mean(image.object_spacing_mm))
        bubbles = np.asarray(image.truth.bubbles_px, float).reshape(-1, 3)
        labels = []
        for d in dips:
            gap = np.hypot(bubbles[:, 0] - d.row, bubbles[:, 1] - d.col) - bubbles[:, 2]
            labels.append(int(len(bubbles) > 0 and gap.min() * mm <= LABEL_MM))
        feats = np.array([d.features() for d in dips]).reshape(-1, BUBBLE_ROW_SIZE)
        rc = np.array([(d.row, d.col) for d in dips]).reshape(-1, 2)
        out.append((feats, np.array(labels, int), rc, mm, "air_bubbles" in truth))
    return out


def collect(workers: int) -> None:
    jobs = _views()
    t0 = time.time()
    X, y, rc, view, mm, has = [], [], [], [], [], []
    with ProcessPoolExecutor(workers) as pool:
        for k, kinds in enumerate(pool.map(_view, jobs)):
            for j, (feats, labels, points, px, bubbles) in enumerate(kinds):
                v = 2 * k + j
                X.append(feats)
                y.append(labels)
                rc.append(points)
                view += [v] * len(labels)
                mm.append(px)
                has.append(bubbles)
            if k % 20 == 0:
                print(
                    f"seed {k + 1}/{len(jobs)}, {sum(map(len, y))} dips, {time.time() - t0:.0f} s"
                )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        CACHE,
        X=np.vstack(X),
        y=np.concatenate(y),
        rc=np.vstack(rc),
        view=np.array(view, int),
        view_mm=np.array(mm),
        view_bubbles=np.array(has),
        view_seed=np.repeat([s for s, _ in jobs], 2),
    )
    print(f"{len(view)} dips of {2 * len(jobs)} views ({int(np.sum(has))} with bubbles) -> {CACHE}")


def _data() -> dict[str, np.ndarray]:
    with np.load(CACHE) as z:
        return {k: z[k] for k in z.files}


def train() -> None:
    d = _data()
    provenance = (
        f"scripts/train_bubbles.py: additive logistic model (C={C_INVERSE}, {N_KNOTS} knots) "
        f"of the measures and {BUBBLE_PATCH_COMPONENTS} principal components of the patch "
        f"on {len(d['y'])} dips ({int(d['y'].sum())} on a bubble) of {len(d['view_mm'])} "
        "simulated views, simulate_quality_case seeds "
        + ", ".join(f"{lo}-{hi - 1}" for lo, hi, _ in SEEDS)
        + " (both pixel kinds)"
    )
    model = BubbleClassifier.fit(d["X"], d["y"], C_INVERSE, provenance, n_knots=N_KNOTS)
    path = OUT / BUBBLE_CLASSIFIER_FILE
    model.to_npz(path)
    print(provenance)
    print(f"-> {path}")


def flags(p: np.ndarray, d: dict[str, np.ndarray], clear_p: float, faint_p: float) -> np.ndarray:
    """The air-bubble flag of each view from its dips' probabilities ``p``: the sites
    ``quality.bubble_site_picks`` takes, counted as ``quality.flagged`` counts them."""
    out = np.zeros(len(d["view_mm"]), bool)
    for v in range(len(out)):
        idx = np.flatnonzero(d["view"] == v)
        picks = bubble_site_picks(p[idx], d["X"][idx], d["rc"][idx], d["view_mm"][v], faint_p)
        clear = sum(p[idx[k]] >= clear_p for k in picks)
        out[v] = flagged("air_bubbles", {"bubbles": clear, "faint": len(picks) - clear})
    return out


def evaluate() -> None:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    d = _data()
    seeds = d["view_seed"][d["view"]]
    p = np.zeros(len(d["y"]))
    for tr, te in GroupKFold(5).split(d["X"], d["y"], seeds):
        p[te] = BubbleClassifier.fit(
            d["X"][tr], d["y"][tr], C_INVERSE, n_knots=N_KNOTS
        ).probability(d["X"][te])
    has = d["view_bubbles"]
    print(
        f"{len(d['y'])} dips ({int(d['y'].sum())} on a bubble), "
        f"{len(has)} views, {has.sum()} with bubbles"
    )
    print(f"ROC AUC of the dips, 5 folds by seed: {roc_auc_score(d['y'], p):.3f}")
    print("clear_p faint_p  sensitivity  false flags")
    for clear_p in (0.4, 0.45, 0.5, 0.6, 0.7):
        for faint_p in (0.2, 0.3, 0.4):
            if faint_p > clear_p:
                continue
            f = flags(p, d, clear_p, faint_p)
            print(
                f"  {clear_p:.2f}   {faint_p:.2f}     {f[has].mean():.3f}"
                f"        {f[~has].mean():.3f}"
            )


if __name__ == "__main__":
    run_steps(__doc__, collect, train, evaluate)
