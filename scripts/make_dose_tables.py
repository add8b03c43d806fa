"""Build ductogram's glandularity correction table (c-factors) for the Dance method.

Writes ``src/ductogram/data/dose/c_factors.csv``: c = MGD(glandularity) / MGD(50 %) by
compressed thickness (20-110 mm), HVL with paddle (0.30-0.60 mm Al) and glandularity
(0.1 %, 10 %, ..., 100 % by weight), from the primary-only slab model
:func:`ductogram.imaging.dose.primary_dose_factor` (the Dance breast: 4 mm adipose layers
around a homogeneous mixture). The beam for each HVL is Mo/Mo, as in Dance's own tables:
the highest kVp up to 28 kV (the reference clinical Mo/Mo beam) whose HVL with the 2 mm
PMMA paddle is at or below the target, plus the aluminium that brings it to the target
exactly. (Allowing up to 39 kV instead changes c by less than 1 % and agrees slightly
less well with the European protocol's c-factors: largest difference 4.1 % against 3.2 %.)

    .venv/bin/python scripts/make_dose_tables.py

This is an [estimate] standing in for Dance's Monte Carlo c-factors (which include
scatter): see ``src/ductogram/imaging/dose.py`` and ``data/dose/README.md``.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from scipy.optimize import brentq

from ductogram.core.files import write_text_atomic
from ductogram.imaging.dose import primary_dose_factor
from ductogram.imaging.materials import material
from ductogram.imaging.spectra import KVP_RANGE, PADDLE_PMMA_MM, filtered, hvl_mm_al, load_spectrum

OUT = Path(__file__).resolve().parents[1] / "src" / "ductogram" / "data" / "dose" / "c_factors.csv"

THICKNESS_MM = (20, 30, 40, 45, 50, 60, 70, 80, 90, 100, 110)
HVL_MM_AL = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60)
MAX_KVP = 28
GLANDULARITY = (0.001, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def momo_beam_with_hvl(hvl: float):
    """Mo/Mo beam (with paddle) brought to ``hvl`` mm Al with added aluminium."""
    pmma, al = material("pmma"), material("aluminium")
    best = None
    for kv in range(KVP_RANGE[0], MAX_KVP + 1):
        beam = filtered(load_spectrum("Mo", "Mo", kv), pmma, PADDLE_PMMA_MM)
        if hvl_mm_al(beam) <= hvl:
            best = beam
    if best is None:
        raise ValueError(f"no Mo/Mo spectrum has an HVL at or below {hvl} mm Al")
    t = brentq(lambda t: hvl_mm_al(filtered(best, al, t)) - hvl, 0.0, 5.0, xtol=1e-6)
    return filtered(best, al, t), best.kvp, t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    buf = io.StringIO()
    buf.write(
        "# Glandularity correction c = MGD(g) / MGD(50 %) [estimate], from ductogram's\n"
        "# primary-only slab model (imaging/dose.py: primary_dose_factor; 4 mm adipose layers)\n"
        "# on Mo/Mo beams with the 2 mm PMMA paddle brought to each HVL with aluminium.\n"
        "# Written by scripts/make_dose_tables.py; do not edit. Beams used (HVL: kVp + mm Al):\n"
    )
    beams = {}
    for h in HVL_MM_AL:
        beam, kv, al = momo_beam_with_hvl(h)
        beams[h] = beam
        buf.write(f"#   {h:.2f}: Mo/Mo {kv:g} kV + {al:.4f} mm Al\n")
    buf.write("thickness_mm,hvl_mm_al,glandularity,c\n")
    for t in THICKNESS_MM:
        for h in HVL_MM_AL:
            ref = primary_dose_factor(beams[h], t, 0.5)
            for gl in GLANDULARITY:
                c = primary_dose_factor(beams[h], t, gl) / ref
                buf.write(f"{t},{h:.2f},{gl:g},{c:.4f}\n")
    write_text_atomic(args.out, buf.getvalue())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
