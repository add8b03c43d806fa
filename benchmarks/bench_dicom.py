"""Benchmark of DICOM writing (issue 5 target: a two-view study with SEG in <= 1 s).

Simulates CC and ML views at 85 µm, then times :func:`ductogram.io.write_study` (MG for
presentation and for processing, and a SEG per view) into a temporary folder; one JSON line.
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.views import ViewSettings, simulate_view
from ductogram.io import write_study


def main() -> None:
    ph = generate_phantom(
        {"compressed_thickness_mm": 50, "lesions": [{"kind": "papilloma"}]}, seed=7
    )
    fill = fill_ducts(ph.trees[ph.lesions[0].system], 1.0)
    views = [
        simulate_view(ph, v, fill=fill, settings=ViewSettings(pixel_mm=0.085), rng=k)
        for k, v in enumerate(("CC", "ML"))
    ]
    times = {"with_processing": [], "presentation_and_seg_only": []}
    counts = {}
    for _ in range(3):
        for key, processing in (("with_processing", True), ("presentation_and_seg_only", False)):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                files = write_study(
                    views, Path(tmp), patient_id="SYN-BENCH", for_processing=processing
                )
                times[key].append(time.perf_counter() - t0)
                counts[key] = len(files)
    print(
        json.dumps(
            {
                "benchmark": "dicom_write",
                "machine": f"{platform.machine()}, Python {platform.python_version()}",
                "pixels_per_view": list(views[0].presentation.shape),
                "files": counts,
                "study_s_median_with_processing": round(
                    statistics.median(times["with_processing"]), 3
                ),
                "study_s_median_presentation_and_seg": round(
                    statistics.median(times["presentation_and_seg_only"]), 3
                ),
                "target_s": 1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
