"""Train the filling-defect classifier of the findings on simulated exams, and evaluate it.

    python scripts/train_findings.py collect    # simulate and read the training exams
    python scripts/train_findings.py train      # writes analysis/data/defect_classifier.npz
    python scripts/train_findings.py evaluate   # cross-validated ranking, by exam

Training exams: two views each (CC and ML or MLO, 0.2 mm pixels, as the issue-7 evaluation
simulates them) of ``draw_cases(120, 41)`` (the default mix), 50 exams of
``draw_cases(50, 42)`` with a papilloma and 24 of ``draw_cases(24, 43)`` with multiple
papillomas. None of these seeds is a seed of the reported evaluation
(``ductogram.evaluate.findings_eval``: ``draw_cases(200, 1)``). Each view is read
(``find_landmarks``, ``read_view``) and its lucencies taken with
``findings.lucency_candidates``. A lucency within ``findings_eval.MATCH_MM`` of the projected
outline of a lesion with a mass (papilloma, multiple papillomas, carcinoma) is a positive;
one near another lesion (cyst, ectasia, stricture) is left out; the rest are negatives. A
scikit-learn logistic regression on the standardised ``Lucency.features`` is the model,
written as plain arrays (``findings.DefectClassifier``).

``evaluate`` reports, with 5 folds grouped by exam, the area under the ROC curve of the
model and of the hand-made lucency score it replaced (``Lucency.score``).
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from _training import run_steps

from ductogram.analysis.findings import (
    DEFECT_CLASSIFIER_FILE,
    DEFECT_FEATURES,
    DefectClassifier,
    lucency_candidates,
)
from ductogram.evaluate.findings_eval import MATCH_MM, _near_lesion, simulate_exam
from ductogram.evaluate.harness import draw_cases

EXAMS = (("mix", 120, 41), ("papilloma", 50, 42), ("multiple_papillomas", 24, 43))
MASS_KINDS = ("papilloma", "multiple_papillomas", "carcinoma")
C_INVERSE = 0.3  # the logistic regression's inverse regularisation strength
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "ductogram" / "analysis" / "data"
CACHE = ROOT / "out" / "defect_training.npz"  # what collect measured, for train and evaluate


def _specs() -> list:
    specs = []
    for lesion, n, seed in EXAMS:
        drawn = draw_cases(n, seed)
        specs += drawn if lesion == "mix" else [replace(s, lesion=lesion) for s in drawn]
    return specs


def _exam(spec) -> tuple[list, list, list]:
    """Features, labels (1 mass, 0 not, -1 on another lesion) and hand scores of the
    lucencies of one exam's two views."""
    from ductogram.analysis.landmarks import find_landmarks
    from ductogram.analysis.reading import read_view

    feats, labels, scores = [], [], []
    for image in simulate_exam(spec):
        marks = find_landmarks(image)
        reading = read_view(image, marks)
        mm = float(np.mean(image.pixel_spacing_mm)) / image.magnification
        for c in lucency_candidates(image, reading, marks):
            near = [
                les["kind"]
                for les in image.truth.lesions
                if _near_lesion(c.row, c.col, les, MATCH_MM / mm)
            ]
            label = 1 if any(k in MASS_KINDS for k in near) else (-1 if near else 0)
            feats.append(c.features())
            labels.append(label)
            scores.append(c.score)
    return feats, labels, scores


def collect(workers: int) -> None:
    specs = _specs()
    t0 = time.time()
    X, y, g, s = [], [], [], []
    with ProcessPoolExecutor(workers) as pool:
        for k, (feats, labels, scores) in enumerate(pool.map(_exam, specs)):
            X += feats
            y += labels
            s += scores
            g += [k] * len(labels)
            if k % 20 == 0:
                print(f"exam {k + 1}/{len(specs)}, {len(y)} lucencies, {time.time() - t0:.0f} s")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, X=np.array(X), y=np.array(y), group=np.array(g), score=np.array(s))
    print(
        f"{len(y)} lucencies of {len(specs)} exams ({sum(v == 1 for v in y)} on a mass) -> {CACHE}"
    )


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with np.load(CACHE) as z:
        keep = z["y"] >= 0
        return z["X"][keep], z["y"][keep], z["group"][keep], z["score"][keep]


def train() -> None:
    X, y, _, _ = _data()
    provenance = (
        f"scripts/train_findings.py: logistic regression (C={C_INVERSE}) on {len(y)} lucencies "
        f"({int(y.sum())} on a mass) of {sum(n for _, n, _ in EXAMS)} simulated exams, "
        + ", ".join(f"{k} draw_cases({n}, {seed})" for k, n, seed in EXAMS)
    )
    clf = DefectClassifier.fit(X, y, C_INVERSE, provenance)
    path = OUT / DEFECT_CLASSIFIER_FILE
    clf.to_npz(path)
    print(provenance)
    for name, w in zip(DEFECT_FEATURES, clf.coef, strict=True):
        print(f"  {name:24s} {w:+.3f}")
    print(f"-> {path}")


def evaluate() -> None:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    X, y, g, score = _data()
    p = np.zeros(len(y))
    for tr, te in GroupKFold(5).split(X, y, g):
        p[te] = DefectClassifier.fit(X[tr], y[tr], C_INVERSE).probability(X[te])
    print(f"{len(y)} lucencies, {int(y.sum())} on a mass, from {len(set(g.tolist()))} exams")
    print(
        f"ROC AUC, 5 folds by exam: model {roc_auc_score(y, p):.3f}, "
        f"hand-made score {roc_auc_score(y, score):.3f}"
    )


if __name__ == "__main__":
    run_steps(__doc__, collect, train, evaluate)
