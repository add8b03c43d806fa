"""Exposure technique and automatic exposure control (AEC), as a digital mammography unit.

A unit's AEC works in two steps:

1. **Beam quality from the compressed thickness** (and, on some units, the density seen in
   the pre-exposure): a table gives anode/filter and kVp (:func:`select_technique`).
   Two tables ship, both [estimate], typical of clinical units rather than any one model:

   ============  =========================================================================
   table         thickness (mm) → anode/filter kV
   ============  =========================================================================
   ``"W"``       ≤25 W/Rh 25 · ≤35 W/Rh 26 · ≤45 W/Rh 28 · ≤55 W/Rh 29 · ≤65 W/Rh 31 ·
                 ≤75 W/Rh 32 · ≤85 W/Ag 33 · >85 W/Ag 35 (tungsten units: W/Rh 26–32 kV
                 rising with thickness, W/Ag for the thickest breasts)
   ``"Mo"``      ≤30 Mo/Mo 25 · ≤40 Mo/Mo 26 · ≤50 Mo/Rh 28 · ≤60 Mo/Rh 29 · ≤70 Rh/Rh 30 ·
                 >70 Rh/Rh 31 (molybdenum/rhodium units: Mo/Mo for thin breasts)
   ============  =========================================================================

   A dense breast (glandularity ≥ 0.5, when given) gets 1 kV more [estimate].

2. **mAs from a short pre-exposure**: ``pre_exposure_mas`` (default 5 mAs) is fired, the
   mean signal in the AEC region is read, and the main exposure's mAs scales it to the
   target: ``mAs = pre_mAs · target / signal`` (the detector is linear), rounded to the
   console's 0.1 mAs and kept within 2–600 mAs. The pre-exposure is simulated without
   noise (a real one averages thousands of pixels: its noise is below 0.1 %), with scatter
   and grid as in the main exposure, on every second pixel.

Target [estimate]: a mean of :data:`AEC_TARGET_DU` = 1600 DU ("for processing", a-Se
defaults) in the AEC region. On the W table it puts a 50 % glandular breast at 1.1 mGy MGD
(45 mm) and 1.3 mGy (50 mm), the clinical figures for the standard breast (1.20 mGy at
5 cm, Feng & Sechopoulos 2012; 1.3 mGy (1.0–1.6), clinical.md §7 #10), with about 95 µGy
of air kerma at the detector behind the grid (120 µGy of primary in front of it).
AEC region: by default the compressed part of the breast, the pixels whose tissue path
is at least 80 % of the thickest (a real unit's sensor area lies under the breast, away
from the skin line); pass ``region`` to use another (the breast mask, the densest area).

Magnification views are exposed without the grid, so the same target needs fewer mAs per
unit of kerma at the detector; their entrance kerma is still much higher, because the
breast is nearer the focal spot (:mod:`~ductogram.imaging.dose`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from ..core import ParameterError
from ._backend import array_namespace
from .detector import Detector
from .formation import TISSUE_KEYS, form_image
from .geometry import Geometry
from .scatter import ANTISCATTER_GRID, Grid
from .spectra import COMBINATIONS, KVP_RANGE, Anode, Filter, Spectrum, load_spectrum

__all__ = [
    "AEC_TARGET_DU",
    "MAS_RANGE",
    "AecResult",
    "ExposureTable",
    "Technique",
    "automatic_exposure",
    "select_technique",
]

#: Mean "for processing" signal (DU) the AEC aims at in its region [estimate, module notes].
AEC_TARGET_DU = 1600.0

#: Range of mAs the generator delivers.
MAS_RANGE = (2.0, 600.0)

_MAS_STEP = 0.1
_DENSE_GLANDULARITY = 0.5
_REGION_FRACTION = 0.8


class ExposureTable(StrEnum):
    """The unit's beam-quality table (module notes)."""

    W = "W"
    MO = "Mo"


# (largest thickness in mm, anode, filter, kVp); the last row has no upper limit.
_TABLES: dict[ExposureTable, tuple[tuple[float, Anode, Filter, int], ...]] = {
    ExposureTable.W: (
        (25.0, Anode.W, Filter.RH, 25),
        (35.0, Anode.W, Filter.RH, 26),
        (45.0, Anode.W, Filter.RH, 28),
        (55.0, Anode.W, Filter.RH, 29),
        (65.0, Anode.W, Filter.RH, 31),
        (75.0, Anode.W, Filter.RH, 32),
        (85.0, Anode.W, Filter.AG, 33),
        (math.inf, Anode.W, Filter.AG, 35),
    ),
    ExposureTable.MO: (
        (30.0, Anode.MO, Filter.MO, 25),
        (40.0, Anode.MO, Filter.MO, 26),
        (50.0, Anode.MO, Filter.RH, 28),
        (60.0, Anode.MO, Filter.RH, 29),
        (70.0, Anode.RH, Filter.RH, 30),
        (math.inf, Anode.RH, Filter.RH, 31),
    ),
}


@dataclass(frozen=True)
class Technique:
    """Exposure technique: target/filter, tube voltage and (once chosen) mAs.

    Parameters
    ----------
    anode : Anode or str
    filter : Filter or str
        A shipped combination (:data:`~ductogram.imaging.spectra.COMBINATIONS`).
    kvp : int
        Tube voltage (kV), a whole number in [22, 39].
    mas : float or None
        Tube current-time product (mAs), in (0, 1000], or None before the AEC sets it.

    Examples
    --------
    >>> t = Technique("W", "Rh", 29, 80.0)
    >>> t.anode, t.spectrum().kvp
    (<Anode.W: 'W'>, 29.0)
    """

    anode: Anode
    filter: Filter
    kvp: int
    mas: float | None = None

    def __post_init__(self) -> None:
        try:
            anode, filter_ = Anode(self.anode), Filter(self.filter)
        except ValueError as exc:
            raise ParameterError(
                "technique.anode/filter", (self.anode, self.filter), "a shipped combination"
            ) from exc
        if (anode, filter_) not in COMBINATIONS:
            allowed = ", ".join(f"{a.value}/{f.value}" for a, f in COMBINATIONS)
            raise ParameterError(
                "technique.anode/filter", f"{anode.value}/{filter_.value}", f"one of {allowed}"
            )
        lo, hi = KVP_RANGE
        if not (isinstance(self.kvp, int | np.integer) and lo <= self.kvp <= hi):
            raise ParameterError("technique.kvp", self.kvp, f"a whole number of kV in [{lo}, {hi}]")
        if self.mas is not None and not (
            isinstance(self.mas, int | float) and math.isfinite(self.mas) and 0 < self.mas <= 1000
        ):
            raise ParameterError("technique.mas", self.mas, "a value in (0, 1000] mAs or None")
        object.__setattr__(self, "anode", anode)
        object.__setattr__(self, "filter", filter_)
        object.__setattr__(self, "kvp", int(self.kvp))

    def spectrum(self) -> Spectrum:
        """The tube output spectrum (:func:`~ductogram.imaging.spectra.load_spectrum`)."""
        return load_spectrum(self.anode, self.filter, self.kvp)


def select_technique(
    thickness_mm: float,
    *,
    glandularity: float | None = None,
    table: str | ExposureTable = ExposureTable.W,
) -> Technique:
    """Anode/filter and kVp for a compressed thickness (module notes), without mAs.

    Parameters
    ----------
    thickness_mm : float
        Compressed breast thickness (mm), in (0, 150].
    glandularity : float, optional
        Glandular fraction in [0, 1]; at 0.5 or above, 1 kV more.
    table : {"W", "Mo"}, optional
        The unit's table; default ``"W"``.

    Returns
    -------
    Technique
        With ``mas=None``.

    Raises
    ------
    ParameterError
        For a thickness, glandularity or table out of range.

    Examples
    --------
    >>> t = select_technique(50.0)
    >>> (t.anode.value, t.filter.value, t.kvp)
    ('W', 'Rh', 29)
    >>> select_technique(50.0, glandularity=0.7).kvp
    30
    >>> select_technique(25.0, table="Mo").filter.value
    'Mo'
    """
    t = float(thickness_mm)
    if not (math.isfinite(t) and 0.0 < t <= 150.0):
        raise ParameterError("thickness_mm", thickness_mm, "a compressed thickness in (0, 150] mm")
    try:
        key = ExposureTable(table)
    except ValueError as exc:
        allowed = ", ".join(k.value for k in ExposureTable)
        raise ParameterError("table", table, f"one of {allowed}") from exc
    if glandularity is not None and not (
        math.isfinite(glandularity) and 0.0 <= glandularity <= 1.0
    ):
        raise ParameterError("glandularity", glandularity, "a fraction in [0, 1] or None")
    _, anode, filter_, kvp = next(row for row in _TABLES[key] if t <= row[0])
    if glandularity is not None and glandularity >= _DENSE_GLANDULARITY:
        kvp = min(kvp + 1, KVP_RANGE[1])
    return Technique(anode, filter_, kvp)


@dataclass(frozen=True)
class AecResult:
    """What the AEC chose and measured.

    Attributes
    ----------
    technique : Technique
        The main exposure, mAs set.
    pre_exposure_mas : float
        mAs of the pre-exposure.
    pre_exposure_du : float
        Mean pre-exposure signal in the AEC region (DU).
    target_du : float
        The target (DU).
    expected_du : float
        Mean noise-free signal of the main exposure in the region (DU): the target, but
        for the 0.1 mAs rounding and the mAs limits.
    limited : bool
        True when the mAs hit :data:`MAS_RANGE`.
    """

    technique: Technique
    pre_exposure_mas: float
    pre_exposure_du: float
    target_du: float
    expected_du: float
    limited: bool


def automatic_exposure(
    paths: Mapping[str, object],
    geometry: Geometry,
    thickness_mm: float,
    *,
    glandularity: float | None = None,
    table: str | ExposureTable = ExposureTable.W,
    technique: Technique | None = None,
    target_du: float = AEC_TARGET_DU,
    pre_exposure_mas: float = 5.0,
    region: object | None = None,
    detector: Detector | None = None,
    grid: Grid | None = ANTISCATTER_GRID,
    contrast_mgi_per_ml: float = 300.0,
) -> AecResult:
    """Choose the technique of a view as an AEC does: table, pre-exposure, mAs.

    Parameters
    ----------
    paths : mapping of str to (rows, cols) array
        The view's material paths (as for :func:`~ductogram.imaging.formation.form_image`).
    geometry : Geometry
        The view's geometry.
    thickness_mm : float
        Compressed thickness (mm), for the beam-quality table and the scatter model.
    glandularity : float, optional
        Glandular fraction, for the table's density step.
    table : {"W", "Mo"}, optional
        Beam-quality table of the unit.
    technique : Technique, optional
        A fixed anode/filter/kVp (manual beam quality, automatic mAs); overrides the table.
    target_du : float, optional
        Target mean signal in the region (DU), > 0; default :data:`AEC_TARGET_DU`.
    pre_exposure_mas : float, optional
        mAs of the pre-exposure, > 0.
    region : (rows, cols) bool array, optional
        The AEC region; default the compressed part of the breast (module notes).
    detector : Detector, optional
    grid : Grid or None, optional
        As for the main exposure (None for magnification views).
    contrast_mgi_per_ml : float, optional
        Contrast concentration.

    Returns
    -------
    AecResult

    Raises
    ------
    ParameterError
        For a bad target or pre-exposure, a region of the wrong shape or with no pixels
        under the beam.

    Examples
    --------
    >>> g = Geometry(pixel_mm=0.1, rows=40, cols=40)
    >>> paths = {"adipose": np.full((40, 40), 22.5), "glandular": np.full((40, 40), 22.5),
    ...          "pmma": np.full((40, 40), 2.0)}
    >>> aec = automatic_exposure(paths, g, 45.0)
    >>> aec.technique.kvp, abs(aec.expected_du / aec.target_du - 1) < 0.01
    (28, True)
    """
    if not (math.isfinite(target_du) and target_du > 0):
        raise ParameterError("target_du", target_du, "a target signal > 0 DU")
    if not (math.isfinite(pre_exposure_mas) and 0 < pre_exposure_mas <= MAS_RANGE[1]):
        raise ParameterError(
            "pre_exposure_mas", pre_exposure_mas, f"a value in (0, {MAS_RANGE[1]:g}] mAs"
        )
    chosen = (
        select_technique(thickness_mm, glandularity=glandularity, table=table)
        if technique is None
        else replace(technique, mas=None)
    )
    xp = array_namespace(*paths.values())
    # The pre-exposure on every second pixel (coarser pitch, at most 0.2 mm).
    step = 2 if geometry.pixel_mm * 2 <= 0.2 else 1
    sub_paths = {k: v[::step, ::step] for k, v in paths.items()}
    rows, cols = next(iter(sub_paths.values())).shape
    sub_geometry = replace(geometry, pixel_mm=geometry.pixel_mm * step, rows=rows, cols=cols)
    pre = form_image(
        sub_paths,
        sub_geometry,
        chosen.spectrum(),
        pre_exposure_mas,
        contrast_mgi_per_ml=contrast_mgi_per_ml,
        detector=detector,
        grid=grid,
        thickness_mm=thickness_mm,
        noise=False,
        blur=False,
    )
    signal = pre.primary + pre.scatter
    if region is None:
        tissue = sum(
            (xp.asarray(v, dtype=signal.dtype) for k, v in sub_paths.items() if k in TISSUE_KEYS),
            start=xp.zeros_like(signal),
        )
        mask = tissue >= _REGION_FRACTION * float(tissue.max())
    else:
        if getattr(region, "shape", None) != (geometry.rows, geometry.cols):
            raise ParameterError(
                "region",
                f"array of shape {getattr(region, 'shape', None)}",
                f"a mask of the detector's shape {(geometry.rows, geometry.cols)}",
            )
        mask = xp.asarray(region, dtype=bool)[::step, ::step]
    n = int(mask.sum())
    pre_du = float(signal[mask].sum()) / n if n else 0.0
    if not pre_du > 0:
        raise ParameterError("region", "no signal", "an AEC region under the beam")
    mas_exact = pre_exposure_mas * target_du / pre_du
    lo, hi = MAS_RANGE
    mas = min(max(round(mas_exact / _MAS_STEP) * _MAS_STEP, lo), hi)
    limited = not (lo <= mas_exact <= hi)
    return AecResult(
        technique=replace(chosen, mas=round(mas, 6)),
        pre_exposure_mas=float(pre_exposure_mas),
        pre_exposure_du=pre_du,
        target_du=float(target_du),
        expected_du=pre_du * mas / pre_exposure_mas,
        limited=limited,
    )
