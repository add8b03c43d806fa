"""Build ductogram's cached tube-spectrum tables with SpekPy.

Writes ``src/ductogram/data/spectra/tube_spectra.npz`` (and its ``README.md``): photon
fluence per 0.5 keV bin, per mAs, at 1000 mm, for Mo/Mo, Mo/Rh, Rh/Rh, W/Rh, W/Ag and W/Al
at 22-39 kVp. Needs SpekPy, which is not a dependency of ductogram (its wheel is large):

    .venv/bin/pip install -e '.[spectra]'      # or: .venv/bin/pip install spekpy
    .venv/bin/python scripts/make_spectra.py

Tube model: SpekPy ``casim`` physics, reflection target, 16° anode angle, 1 mm Be window,
nominal filter (below), no air. Then each combination gets an added aluminium-equivalent
layer (the tube's own filtration beyond window and filter: mirror, oil, housing), applied
with ductogram's attenuation data (xraydb), fitted by least squares so that the HVL with
the 2 mm PMMA compression paddle, computed by :func:`ductogram.imaging.spectra.hvl_mm_al`,
matches the European Guidelines typical HVLs at 25/28/31 kV (simulation.md §4.3).
W/Ag and W/Al, which have no row in that table, take the W/Rh tube's added Al.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from ductogram.core.files import write_bytes_atomic, write_text_atomic
from ductogram.imaging.materials import material
from ductogram.imaging.spectra import (
    COMBINATIONS,
    KVP_RANGE,
    PADDLE_PMMA_MM,
    Anode,
    Filter,
    Spectrum,
    air_kerma_mgy_per_mas,
    filtered,
    hvl_mm_al,
    mean_energy_kev,
)

OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "ductogram" / "data" / "spectra"

ANODE_ANGLE_DEG = 16.0
BE_WINDOW_MM = 1.0
BIN_WIDTH_KEV = 0.5
DISTANCE_MM = 1000.0
E_MIN_KEV = 1.0

#: Nominal filter thickness (mm) per combination.
FILTER_MM = {
    (Anode.MO, Filter.MO): 0.030,
    (Anode.MO, Filter.RH): 0.025,
    (Anode.RH, Filter.RH): 0.025,
    (Anode.W, Filter.RH): 0.050,
    (Anode.W, Filter.AG): 0.050,
    (Anode.W, Filter.AL): 0.700,
}

#: European Guidelines typical HVLs with compression plate (mm Al), simulation.md §4.3.
TARGET_HVL_MM_AL = {
    (Anode.MO, Filter.MO): {25: 0.33, 28: 0.36, 31: 0.39},
    (Anode.MO, Filter.RH): {25: 0.40, 28: 0.42, 31: 0.44},
    (Anode.RH, Filter.RH): {25: 0.38, 28: 0.43, 31: 0.48},
    (Anode.W, Filter.RH): {25: 0.52, 28: 0.54, 31: 0.56},
}

#: Combinations without a guideline row take the added Al of this one (same tube).
SAME_TUBE = {(Anode.W, Filter.AG): (Anode.W, Filter.RH), (Anode.W, Filter.AL): (Anode.W, Filter.RH)}


def spekpy_spectrum(anode: Anode, filter_: Filter, kvp: int, energies: np.ndarray) -> np.ndarray:
    """SpekPy fluence per bin (photons / mm² / mAs at 1000 mm) on the common grid."""
    import spekpy

    spek = spekpy.Spek(
        kvp=float(kvp), th=ANODE_ANGLE_DEG, dk=BIN_WIDTH_KEV, targ=anode.value, z=DISTANCE_MM / 10
    )
    spek.filter("Be", BE_WINDOW_MM)
    spek.filter(filter_.value, FILTER_MM[(anode, filter_)])
    k, per_bin_cm2 = spek.get_spectrum(flu=True, diff=False)
    out = np.zeros_like(energies)
    idx = np.round((k - energies[0]) / BIN_WIDTH_KEV).astype(int)
    keep = (idx >= 0) & (idx < energies.size)
    if not np.allclose(energies[idx[keep]], k[keep]):
        raise RuntimeError(f"SpekPy bins {k[:3]}... do not match the grid {energies[:3]}...")
    out[idx[keep]] = per_bin_cm2[keep] / 100.0  # per cm² -> per mm²
    return out


def with_paddle_hvl(spectrum: Spectrum, added_al_mm: float) -> float:
    s = filtered(spectrum, material("aluminium"), added_al_mm)
    return hvl_mm_al(filtered(s, material("pmma"), PADDLE_PMMA_MM))


def fit_added_al(base: dict[int, Spectrum], targets: dict[int, float]) -> float:
    """Added Al (mm) minimising the squared HVL error at the target kVs."""

    def cost(t: float) -> float:
        return sum((with_paddle_hvl(base[kv], t) - h) ** 2 for kv, h in targets.items())

    res = minimize_scalar(cost, bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-6})
    return round(float(res.x), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = parser.parse_args(argv)

    import spekpy

    kvps = np.arange(KVP_RANGE[0], KVP_RANGE[1] + 1)
    energies = np.arange(E_MIN_KEV + BIN_WIDTH_KEV / 2, KVP_RANGE[1], BIN_WIDTH_KEV)

    base: dict[tuple[Anode, Filter], dict[int, Spectrum]] = {}
    for anode, filter_ in COMBINATIONS:
        base[(anode, filter_)] = {}
        for kv in kvps:
            fluence = spekpy_spectrum(anode, filter_, int(kv), energies)
            n = int(np.searchsorted(energies, kv))
            base[(anode, filter_)][int(kv)] = Spectrum(
                energies[:n], fluence[:n], anode=anode, filter=filter_, kvp=float(kv),
                distance_mm=DISTANCE_MM, bin_width_kev=BIN_WIDTH_KEV,
            )  # fmt: skip
        print(f"SpekPy {anode.value}/{filter_.value}: done", file=sys.stderr)

    added_al: dict[tuple[Anode, Filter], float] = {}
    for combo, targets in TARGET_HVL_MM_AL.items():
        added_al[combo] = fit_added_al(base[combo], targets)
    for combo, source in SAME_TUBE.items():
        added_al[combo] = added_al[source]

    arrays: dict[str, np.ndarray] = {
        "energies_kev": energies,
        "kvp": kvps.astype(np.float64),
        "distance_mm": np.array(DISTANCE_MM),
        "bin_width_kev": np.array(BIN_WIDTH_KEV),
    }
    meta_combos: dict[str, dict] = {}
    al = material("aluminium")
    pmma = material("pmma")
    for anode, filter_ in COMBINATIONS:
        combo = (anode, filter_)
        table = np.zeros((kvps.size, energies.size))
        hvl_spekpy, hvl_tuned, emean, kerma = {}, {}, {}, {}
        for i, kv in enumerate(int(k) for k in kvps):
            tuned = filtered(base[combo][kv], al, added_al[combo])
            table[i, : tuned.n_bins] = tuned.fluence_per_mm2_mas
            with_paddle = filtered(tuned, pmma, PADDLE_PMMA_MM)
            hvl_spekpy[kv] = round(with_paddle_hvl(base[combo][kv], 0.0), 4)
            hvl_tuned[kv] = round(hvl_mm_al(with_paddle), 4)
            emean[kv] = round(mean_energy_kev(tuned), 3)
            kerma[kv] = round(1000.0 * air_kerma_mgy_per_mas(tuned), 3)
        arrays[f"{anode.value}_{filter_.value}"] = table
        targets = TARGET_HVL_MM_AL.get(combo, {})
        meta_combos[f"{anode.value}/{filter_.value}"] = {
            "filter_material": filter_.value,
            "filter_mm": FILTER_MM[combo],
            "added_al_mm": added_al[combo],
            "added_al_from": (
                "least-squares fit to the guideline HVLs at 25/28/31 kV"
                if combo in TARGET_HVL_MM_AL
                else f"{SAME_TUBE[combo][0].value}/{SAME_TUBE[combo][1].value} (same tube)"
            ),
            "target_hvl_mm_al_with_paddle": {str(k): v for k, v in targets.items()},
            "hvl_mm_al_with_paddle": {str(k): v for k, v in hvl_tuned.items()},
            "hvl_mm_al_with_paddle_before_tuning": {str(k): v for k, v in hvl_spekpy.items()},
            "mean_energy_kev_no_paddle": {str(k): v for k, v in emean.items()},
            "air_kerma_ugy_per_mas_at_1m_no_paddle": {str(k): v for k, v in kerma.items()},
        }
    metadata = {
        "generator": "scripts/make_spectra.py",
        "spekpy_version": spekpy.__version__ if hasattr(spekpy, "__version__") else "2.5.x",
        "physics": "casim",
        "anode_angle_deg": ANODE_ANGLE_DEG,
        "be_window_mm": BE_WINDOW_MM,
        "paddle": f"{PADDLE_PMMA_MM:g} mm PMMA compression paddle (HVLs only; not in the tables)",
        "distance_mm": DISTANCE_MM,
        "bin_width_kev": BIN_WIDTH_KEV,
        "fluence_unit": "photons / mm^2 / mAs per bin, central axis, in vacuum",
        "hvl_method": "ductogram.imaging.spectra.hvl_mm_al (xraydb Al, NIST air mu_en)",
        "combinations": meta_combos,
    }
    arrays["metadata"] = np.array(json.dumps(metadata, indent=1))

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    args.out.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(args.out / "tube_spectra.npz", buf.getvalue())
    write_text_atomic(args.out / "README.md", readme(metadata))
    print(hvl_table(metadata))
    return 0


def hvl_table(metadata: dict) -> str:
    """Markdown table of HVLs with paddle: ours (target) for every combination."""
    combos = metadata["combinations"]
    head = "| kV | " + " | ".join(combos) + " |"
    lines = [head, "|" + "---|" * (len(combos) + 1)]
    for kv in range(KVP_RANGE[0], KVP_RANGE[1] + 1):
        cells = []
        for c in combos.values():
            hvl = c["hvl_mm_al_with_paddle"][str(kv)]
            target = c["target_hvl_mm_al_with_paddle"].get(str(kv))
            cells.append(f"{hvl:.3f}" + (f" ({target:.2f})" if target is not None else ""))
        lines.append(f"| {kv} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme(metadata: dict) -> str:
    rows = [
        f"| {name} | {c['filter_mm'] * 1000:g} µm {c['filter_material']} | "
        f"{c['added_al_mm']:.4f} | {c['added_al_from']} |"
        for name, c in metadata["combinations"].items()
    ]
    return "\n".join(
        [
            "# Tube spectra (generated; do not edit)",
            "",
            "`tube_spectra.npz`, written by `scripts/make_spectra.py` with SpekPy "
            f"{metadata['spekpy_version']} ({metadata['physics']} physics, its default), "
            f"{metadata['anode_angle_deg']:g}° anode, {metadata['be_window_mm']:g} mm Be, "
            f"{metadata['bin_width_kev']:g} keV bins, at {metadata['distance_mm']:g} mm, "
            "in vacuum. Fluence: photons per mm² per mAs in each bin.",
            "Arrays: `energies_kev` (N,), `kvp` (K,), one (K, N) table per combination "
            "(`Mo_Mo`, ...; zero above the kVp), `metadata` (JSON).",
            "",
            "| anode/filter | filter | added Al (mm) | from |",
            "|---|---|---|---|",
            *rows,
            "",
            f"HVL with the {metadata['paddle']}, mm Al: ours (European Guidelines typical, "
            "simulation.md §4.3).",
            "",
            hvl_table(metadata),
            "",
            "Before tuning (nominal filters only, SpekPy's spectra), the HVLs with paddle "
            "are in the metadata (`hvl_mm_al_with_paddle_before_tuning`).",
            "",
            "`nist_muen_air.csv`: μ_en/ρ of dry air, NIST SRD 126 (source in its header).",
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
