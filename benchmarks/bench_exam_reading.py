"""Benchmark of reading one two-view exam (issue 7 target: <= 6 s on the 2-core CPU).

Simulates the 6 exams of ``draw_cases(6, 3)`` (the default mix, CC and ML or MLO views at
0.2 mm, as ``evaluate_findings`` makes them), then times
:func:`ductogram.analysis.assessment.read_exam` on each, twice, after a warm-up read (the first call
also compiles skan's graph code): landmarks, duct tree, quality flags and findings of both
views, their pairing into lesions and the case assessment. Prints one JSON line with each
exam's time (the lower of its two reads), their median and maximum, and the process's
peak resident memory.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np

from ductogram.analysis.assessment import _can_fork, read_exam
from ductogram.evaluate.findings_eval import simulate_exam
from ductogram.evaluate.harness import draw_cases

CASES, SEED = 6, 3


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (the views'
    processes end with each read)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    specs = draw_cases(CASES, SEED)
    t0 = time.perf_counter()
    exams = [simulate_exam(spec) for spec in specs]
    simulate_s = time.perf_counter() - t0
    read_exam(exams[0])  # warm-up
    wall, cpu = [], []
    for images in exams:
        runs = []
        for _ in range(2):
            w0, c0 = time.perf_counter(), _cpu_s()
            exam = read_exam(images)
            runs.append((time.perf_counter() - w0, _cpu_s() - c0))
        best = min(runs)
        wall.append(best[0])
        cpu.append(best[1])
    unit = 2**20 if sys.platform == "darwin" else 2**10
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / unit
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / unit
    print(
        json.dumps(
            {
                "benchmark": "exam_reading",
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}, numpy {np.__version__}",
                "exams": f"draw_cases({CASES}, {SEED})",
                "lesions": [spec.lesion for spec in specs],
                "pixels": [list(images[0].shape) for images in exams],
                "simulate_s": round(simulate_s, 1),
                "read_s": [round(t, 2) for t in wall],
                "read_s_median": round(statistics.median(wall), 2),
                "read_s_max": round(max(wall), 2),
                "read_cpu_s_median": round(statistics.median(cpu), 2),
                "last_birads": exam.birads,
                "load_average_1min": round(os.getloadavg()[0], 2),
                "views_read_in": "forked processes" if _can_fork() else "threads",
                "peak_rss_mb": round(rss_mb, 1),
                "peak_rss_child_mb": round(child_mb, 1),
                "target_s": 6.0,
            }
        )
    )


if __name__ == "__main__":
    main()
