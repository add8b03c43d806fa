"""Benchmark of the GPU backend (issue 4 target: <= 50 ms per view on the H100 after
warm-up, and a batch mode that keeps the GPU busy).

The same view as bench_view.py (a CC view of a 5.5 cm breast at 85 µm, >= 400 filled
segments, >= 20 energy bins, scatter and noise), on the GPU (CuPy) after warm-up: one view
at a time, the scene alone, and batches of views in flight at once (simulate_views). The
CPU baseline runs in the same process on the same machine, and the two backends' noise-free
images are compared. Prints one JSON line; where CuPy or a CUDA device is missing it says so
in the line and exits 0 (``make bench`` runs on CPU-only machines too).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import warnings

import numpy as np

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.scene import build_scene
from ductogram.imaging.views import ViewSettings, simulate_view, simulate_views


def _gpu_name() -> str | None:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except Exception:  # no CuPy, no driver, no device
        return None


def main() -> None:
    gpu = _gpu_name()
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    if gpu is None:
        print(json.dumps({"benchmark": "gpu", "machine": machine, "skipped": "no CUDA GPU"}))
        return
    import cupy

    ph = generate_phantom(
        {"compressed_thickness_mm": 55, "lesions": [{"kind": "papilloma", "obstructs": False}]},
        seed=7,
    )
    fill = fill_ducts(ph.trees[ph.lesions[0].system], 1.0)
    ph2 = generate_phantom({"compressed_thickness_mm": 50}, seed=8)
    fill2 = fill_ducts(ph2.trees[0], 1.0)
    on_gpu = ViewSettings(pixel_mm=0.085, device="cuda")
    on_cpu = ViewSettings(pixel_mm=0.085)

    def timed(fn, repeats):
        out, times = None, []
        for k in range(repeats):
            cupy.cuda.Device().synchronize()
            t0 = time.perf_counter()
            out = fn(k)
            cupy.cuda.Device().synchronize()
            times.append(time.perf_counter() - t0)
        return out, times

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(3):  # warm-up: kernels compiled, FFT plans and memory pool made
            simulate_view(ph, "CC", fill=fill, settings=on_gpu, rng=k)
    # A fused kernel that disagrees with its unfused one falls back to it with a warning:
    # "fused chord kernels disagree ..." or "fused joint kernels (k tubes) disagree ...".
    fallbacks = [str(w.message) for w in caught if "fused" in str(w.message)]
    sv, view_times = timed(lambda k: simulate_view(ph, "CC", fill=fill, settings=on_gpu, rng=k), 10)
    _, scene_times = timed(
        lambda k: build_scene(ph, "CC", fill=fill, pixel_mm=0.085, device="cuda"), 5
    )
    _, cpu_times = timed(lambda k: simulate_view(ph, "CC", fill=fill, settings=on_cpu, rng=k), 2)

    jobs = [
        (p, v, f, 100 + k)
        for k, (p, f) in enumerate([(ph, fill), (ph2, fill2)] * 8)
        for v in ("CC", "ML")
    ]
    batch = {}
    for workers in (1, 2, 4, 8):
        simulate_views(jobs[:4], on_gpu, workers=workers)  # per-thread streams and plans
        _, t = timed(lambda k, w=workers: simulate_views(jobs, on_gpu, workers=w), 1)
        batch[str(workers)] = round(1000 * t[0] / len(jobs), 1)

    quiet_cpu = ViewSettings(pixel_mm=0.085, noise=False)
    quiet_gpu = ViewSettings(pixel_mm=0.085, noise=False, device="cuda")
    a = simulate_view(ph, "CC", fill=fill, settings=quiet_cpu, rng=1).processing.pixels
    b = simulate_view(ph, "CC", fill=fill, settings=quiet_gpu, rng=1).processing.pixels
    inside = a > 0
    rel = np.abs(b[inside] - a[inside]) / a[inside]
    print(
        json.dumps(
            {
                "benchmark": "gpu",
                "machine": machine,
                "gpu": gpu,
                "cupy": cupy.__version__,
                "fused_chord_kernels": not any("chord" in m for m in fallbacks),
                "fused_joint_kernels": not any("joint" in m for m in fallbacks),
                "fused_fallbacks": fallbacks,
                "pixels": list(sv.processing.shape),
                "filled_segments": int(np.count_nonzero(fill.fill_fraction[1:] > 0)),
                "energy_bins": sv.exposure["energy_bins"],
                "gpu_view_ms_median": round(1000 * statistics.median(view_times), 1),
                "gpu_view_ms_min": round(1000 * min(view_times), 1),
                "gpu_scene_ms_median": round(1000 * statistics.median(scene_times), 1),
                "cpu_view_s_median": round(statistics.median(cpu_times), 2),
                "speedup": round(statistics.median(cpu_times) / statistics.median(view_times), 1),
                "batch_views": len(jobs),
                "batch_ms_per_view_by_workers": batch,
                "cpu_vs_gpu_noise_free_max_rel": float(rel.max()),
                "cpu_vs_gpu_noise_free_rms_rel": float(np.sqrt(np.mean(rel**2))),
                "target_ms": 50,
            }
        )
    )


if __name__ == "__main__":
    main()
