"""Benchmark of the duct segmentation (issue 6): speed on a full 85 µm CC view, accuracy on
simulated views, and the real-image check on coronary angiograms.

- speed: :func:`ductogram.analysis.segmentation.segment_ducts` on a simulated CC view at
  85 µm (about 5 MP, the issue's size), region = breast, root = nipple; median of 3 runs
  after a warm-up, and the peak traced memory of one run (target: <= 1.5 s of the 3 s
  reading budget on the 2-core CPU);
- accuracy: Dice and clDice against ``truth.contrast_mask`` on ``CASES`` held-out simulated
  views (default phantoms, seeds 1..CASES, 0.3-2 mL, CC/ML/MLO, 85 µm; the views of
  ``scripts/train_segmentation.py evaluate``, which runs 20) (targets 0.85 and 0.90);
- coronary: 5-fold cross-validated Dice and clDice on the 40 CIMAT training angiograms,
  and the Frangi baseline (targets 0.65 and 0.65), when the data are beside the repository.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from ductogram.analysis.segmentation import segment_ducts
from ductogram.anatomy import generate_phantom
from ductogram.evaluate.coronary import coronary_cross_validation
from ductogram.evaluate.metrics import cl_dice, dice
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.views import ViewSettings, simulate_view

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from train_segmentation import simulated_case  # noqa: E402

CASES = 6
CORONARY = ROOT.parent / "shared" / "validation-data" / "coronary-xca-cimat80" / "training"


def main() -> None:
    ph = generate_phantom({"compressed_thickness_mm": 55}, seed=7)
    fill = fill_ducts(ph.trees[0], 1.0)
    sv = simulate_view(ph, "CC", fill=fill, settings=ViewSettings(pixel_mm=0.085), rng=0)
    truth = sv.processing.truth
    pixels = -np.log(np.maximum(sv.processing.pixels, 1e-3)).astype(np.float32)
    kwargs = {"region": truth.breast_mask, "root_rc": tuple(truth.nipple_px)}
    seg = segment_ducts(pixels, 0.085, **kwargs)  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        seg = segment_ducts(pixels, 0.085, **kwargs)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    segment_ducts(pixels, 0.085, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    speed_case = {
        "dice": round(dice(seg.mask, truth.contrast_mask), 3),
        "cl_dice": round(cl_dice(seg.mask, truth.contrast_mask), 3),
    }

    scores = []
    for seed in range(1, CASES + 1):
        case = simulated_case(seed, 0.085)
        if case is None:
            continue
        img, mm, t, _ = case
        s = segment_ducts(img, mm, region=t.breast_mask, root_rc=tuple(t.nipple_px))
        scores.append((dice(s.mask, t.contrast_mask), cl_dice(s.mask, t.contrast_mask)))

    coronary = None
    if CORONARY.is_dir():
        t0 = time.perf_counter()
        cv = coronary_cross_validation(CORONARY, folds=5, seed=0)
        coronary = {
            "images": cv["n_images"],
            "folds": 5,
            "dice": round(cv["dice"], 3),
            "cl_dice": round(cv["cl_dice"], 3),
            "frangi_dice": round(cv["frangi_dice"], 3),
            "frangi_cl_dice": round(cv["frangi_cl_dice"], 3),
            "seconds": round(time.perf_counter() - t0, 1),
        }

    print(
        json.dumps(
            {
                "benchmark": "segmentation",
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                f"{platform.python_version()}, numpy {np.__version__}",
                "pixels": list(pixels.shape),
                "segment_s_median": round(statistics.median(times), 2),
                "peak_traced_mb": round(peak / 2**20, 1),
                "target_s": 1.5,
                "speed_view": speed_case,
                "simulated_cases": len(scores),
                "simulated_dice_mean": round(float(np.mean([s[0] for s in scores])), 3),
                "simulated_cl_dice_mean": round(float(np.mean([s[1] for s in scores])), 3),
                "simulated_targets": [0.85, 0.90],
                "coronary_cv": coronary,
                "coronary_targets": [0.65, 0.65],
            }
        )
    )


if __name__ == "__main__":
    main()
