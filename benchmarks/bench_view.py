"""Benchmark of one whole simulated view (issue 4 target: <= 3 s and <= 1.5 GB on the
2-core CPU for a CC view of a 5.5 cm breast at 85 µm with a >= 400-segment filled tree,
>= 20 energy bins, scatter and noise).

Times :func:`ductogram.imaging.views.simulate_view` (texture, scene with the exact duct
projection, AEC, polyenergetic formation with scatter, blur and noise, presentation, dose)
after a warm-up, and the scene alone; prints one JSON line with the peak traced memory.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
import tracemalloc

import numpy as np

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.scene import build_scene
from ductogram.imaging.views import ViewSettings, simulate_view


def main() -> None:
    ph = generate_phantom(
        {"compressed_thickness_mm": 55, "lesions": [{"kind": "papilloma", "obstructs": False}]},
        seed=7,
    )
    tree = ph.trees[ph.lesions[0].system]
    fill = fill_ducts(tree, 1.0)
    settings = ViewSettings(pixel_mm=0.085)
    sv = simulate_view(ph, "CC", fill=fill, settings=settings, rng=0)  # warm-up
    times, scene_times = [], []
    for k in range(3):
        t0 = time.perf_counter()
        sv = simulate_view(ph, "CC", fill=fill, settings=settings, rng=k)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        build_scene(ph, "CC", fill=fill, pixel_mm=0.085)
        scene_times.append(time.perf_counter() - t0)
    tracemalloc.start()
    simulate_view(ph, "CC", fill=fill, settings=settings, rng=9)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "benchmark": "view",
                "machine": f"{platform.machine()}, Python {platform.python_version()}, "
                f"numpy {np.__version__}",
                "pixels": list(sv.processing.shape),
                "filled_segments": int(np.count_nonzero(fill.fill_fraction[1:] > 0)),
                "energy_bins": int(sv.exposure.get("energy_bins", 0)) or None,
                "technique": f"{sv.exposure['anode']}/{sv.exposure['filter']} "
                f"{sv.exposure['kvp']:.0f} kV {sv.exposure['mas']:.1f} mAs",
                "view_s_median": round(statistics.median(times), 2),
                "scene_s_median": round(statistics.median(scene_times), 2),
                "peak_traced_mb": round(peak / 2**20, 1),
                "target_s": 3.0,
                "target_mb": 1536,
            }
        )
    )


if __name__ == "__main__":
    main()
