"""Benchmark of the phantom generator (issue 2 targets).

- one lobe tree of >= 300 branches in <= 0.2 s;
- a whole breast (all lobes, default parameters drawn) in <= 2 s;
- peak memory of a whole-breast generation <= 300 MB.

Each figure is the median of several seeds; prints one JSON line.
Run: ``make bench`` (or ``python benchmarks/bench_anatomy.py``).
"""

from __future__ import annotations

import json
import platform
import resource
import statistics
import time
import tracemalloc

import numpy as np

from ductogram.anatomy import generate_phantom


def _timed(params, seed):
    t0 = time.perf_counter()
    ph = generate_phantom(params, seed=seed)
    return time.perf_counter() - t0, ph


def main() -> None:
    generate_phantom({"lobes": 1, "orifices": 1, "tdlus_per_lobe": 20}, seed=0)  # warm-up

    lobe_times, lobe_branches = [], []
    for seed in range(10):
        dt, ph = _timed({"lobes": 1, "orifices": 1, "tdlus_per_lobe": 200}, seed)
        lobe_times.append(dt)
        lobe_branches.append(ph.n_branches)

    breast_times, breast_branches, lobes = [], [], []
    for seed in range(10):
        dt, ph = _timed(None, seed)
        breast_times.append(dt)
        breast_branches.append(ph.n_branches)
        lobes.append(ph.parameters.lobes)

    tracemalloc.start()
    generate_phantom({"lobes": 16, "orifices": 9}, seed=1)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    result = {
        "benchmark": "anatomy",
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}",
        "lobe_tree_s_median": round(statistics.median(lobe_times), 4),
        "lobe_tree_s_max": round(max(lobe_times), 4),
        "lobe_tree_branches_min": int(min(lobe_branches)),
        "lobe_tree_target_s": 0.2,
        "breast_s_median": round(statistics.median(breast_times), 3),
        "breast_s_max": round(max(breast_times), 3),
        "breast_branches_median": int(statistics.median(breast_branches)),
        "breast_lobes": f"{min(lobes)}-{max(lobes)}",
        "breast_target_s": 2.0,
        "peak_traced_mb_16_lobes": round(traced_peak / 2**20, 1),
        "peak_rss_mb_process": round(rss_mb, 1),
        "memory_target_mb": 300,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
