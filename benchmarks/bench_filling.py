"""Benchmark of the contrast fill (issue 3 target: a 1,000-branch tree in <= 50 ms).

Prints one JSON line: the median and worst time of ``fill_ducts`` at 1 mL on duct systems
of >= 1,000 branches (default parameters, several seeds), with and without a flush.
"""

from __future__ import annotations

import json
import platform
import statistics
import time

import numpy as np

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts


def main() -> None:
    trees = []
    seed = 0
    while len(trees) < 5:
        ph = generate_phantom({"lobes": 4, "orifices": 1, "tdlus_per_lobe": 180}, seed=seed)
        trees.extend(t for t in ph.trees if t.n_branches >= 1000)
        seed += 1
    fill_ducts(trees[0], 1.0)  # warm-up
    times = []
    for tree in trees:
        for flushed in (True, False):
            t0 = time.perf_counter()
            fill_ducts(tree, 1.0, flushed=flushed, rng=0)
            times.append(time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "benchmark": "filling",
                "machine": f"{platform.machine()}, Python {platform.python_version()}, "
                f"numpy {np.__version__}",
                "branches": [int(t.n_branches) for t in trees],
                "nodes": [int(t.n_nodes) for t in trees],
                "fill_ms_median": round(1000 * statistics.median(times), 2),
                "fill_ms_max": round(1000 * max(times), 2),
                "target_ms": 50,
            }
        )
    )


if __name__ == "__main__":
    main()
