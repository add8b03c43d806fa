"""Benchmark of the spectrum tables (issue 4: each spectrum loads in < 50 ms).

Prints one JSON line: the time of the first ``load_spectrum`` (reads the table file), the
median and worst time of loading each of the 108 shipped spectra after that, the one-off
cost of the first HVL (imports xraydb and computes μ of Al and PMMA on the grid), and the
median HVL time (2 mm PMMA paddle applied, then bisection) over all spectra.
"""

from __future__ import annotations

import json
import platform
import statistics
import time

import numpy as np

from ductogram.imaging.materials import material
from ductogram.imaging.spectra import (
    COMBINATIONS,
    KVP_RANGE,
    PADDLE_PMMA_MM,
    filtered,
    hvl_mm_al,
    load_spectrum,
)


def main() -> None:
    kvps = range(KVP_RANGE[0], KVP_RANGE[1] + 1)
    t0 = time.perf_counter()
    first = load_spectrum("Mo", "Mo", 28)
    first_load_ms = 1000 * (time.perf_counter() - t0)

    load_ms, spectra = [], []
    for anode, filter_ in COMBINATIONS:
        for kv in kvps:
            t0 = time.perf_counter()
            spectra.append(load_spectrum(anode, filter_, kv))
            load_ms.append(1000 * (time.perf_counter() - t0))

    t0 = time.perf_counter()
    pmma = material("pmma")
    hvl_mm_al(filtered(first, pmma, PADDLE_PMMA_MM))
    first_hvl_ms = 1000 * (time.perf_counter() - t0)
    for s in spectra:  # fill the μ cache for every grid (one per kVp)
        hvl_mm_al(filtered(s, pmma, PADDLE_PMMA_MM))
    hvl_ms = []
    for s in spectra:
        t0 = time.perf_counter()
        hvl_mm_al(filtered(s, pmma, PADDLE_PMMA_MM))
        hvl_ms.append(1000 * (time.perf_counter() - t0))

    print(
        json.dumps(
            {
                "benchmark": "spectra",
                "machine": f"{platform.machine()}, Python {platform.python_version()}, "
                f"numpy {np.__version__}",
                "spectra": len(spectra),
                "first_load_ms": round(first_load_ms, 2),
                "load_ms_median": round(statistics.median(load_ms), 3),
                "load_ms_max": round(max(load_ms), 3),
                "load_target_ms": 50,
                "first_hvl_ms_incl_xraydb_import": round(first_hvl_ms, 1),
                "hvl_ms_median": round(statistics.median(hvl_ms), 3),
                "hvl_ms_max": round(max(hvl_ms), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
