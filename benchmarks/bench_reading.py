"""Benchmark of reading one view (issue 6 target: <= 3 s and <= 2 GB on the 2-core CPU for
an 85 µm CC view).

Simulates a CC view of a 5.5 cm breast at 85 µm with 1 mL of contrast in one duct system,
then times :func:`ductogram.analysis.read_view` on its for-processing image after a
warm-up (the first call also compiles skan's graph code), and each step alone: landmarks,
segmentation and the tree. Prints one JSON line with the peak traced memory and the
process's peak resident memory.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

from ductogram.analysis import build_tree, duct_scale, find_landmarks, read_view, segment_ducts
from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.views import ViewSettings, simulate_view


def _median_s(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 3)


def main() -> None:
    ph = generate_phantom({"compressed_thickness_mm": 55}, seed=7)
    fill = fill_ducts(ph.trees[0], 1.0)
    sv = simulate_view(ph, "CC", fill=fill, settings=ViewSettings(pixel_mm=0.085), rng=0)
    image = sv.processing
    t0 = time.perf_counter()
    reading = read_view(image)  # warm-up: skan compiles its graph code on first use
    first_s = time.perf_counter() - t0
    read_s = _median_s(lambda: read_view(image))
    cpu = []
    for _ in range(3):  # CPU seconds of this process: less sensitive to a busy machine
        c0 = time.process_time()
        read_view(image)
        cpu.append(time.process_time() - c0)

    marks = find_landmarks(image)
    root = marks.cannula_tip_rc or marks.nipple_rc
    scale = duct_scale(image)
    pixel_mm = image.pixel_spacing_mm[0]
    seg = segment_ducts(
        scale, pixel_mm / image.magnification, region=marks.breast_mask, root_rc=root
    )
    steps = {
        "landmarks_s": _median_s(lambda: find_landmarks(image)),
        "duct_scale_s": _median_s(lambda: duct_scale(image)),
        "segmentation_s": _median_s(
            lambda: segment_ducts(
                scale, pixel_mm / image.magnification, region=marks.breast_mask, root_rc=root
            )
        ),
        "tree_s": _median_s(lambda: build_tree(seg.mask, root, pixel_mm, image.magnification)),
    }
    tracemalloc.start()
    read_view(image)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / 2**20 if sys.platform == "darwin" else rss / 2**10
    print(
        json.dumps(
            {
                "benchmark": "reading",
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}, numpy {np.__version__}",
                "pixels": list(image.shape),
                "pixel_mm": pixel_mm,
                "segments_read": len(reading.segments),
                "branch_points_read": reading.n_branch_points,
                "message": reading.message,
                "first_read_s": round(first_s, 2),
                "read_s_median": read_s,
                "read_cpu_s_median": round(statistics.median(cpu), 3),
                "load_average_1min": round(os.getloadavg()[0], 2),
                **steps,
                "peak_traced_mb": round(peak / 2**20, 1),
                "peak_rss_mb": round(rss_mb, 1),
                "target_s": 3.0,
                "target_mb": 2048,
            }
        )
    )


if __name__ == "__main__":
    main()
