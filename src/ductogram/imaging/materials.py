"""Materials and their x-ray attenuation.

A :class:`Material` is a density and an elemental composition (mass fractions). Its mass
attenuation coefficient μ/ρ follows the mixture rule from element cross-sections of the
Elam, Ravel & Sieber tables shipped with xraydb; "total" includes coherent (Rayleigh)
scattering, as NIST XCOM / XAAMDI "total attenuation with coherent scattering" does
(../shared/reference/simulation.md §3, §4.1). The tables match the NIST grid values to
four digits at 20–40 keV.

The named materials of a ductogram are listed by :class:`MaterialName` and built by
:func:`material`; iodinated contrast at a given concentration by :func:`iodine_contrast`
and a glandular/adipose mixture by :func:`breast_tissue`.

Attenuation is computed on the host (NumPy): xraydb is a host library. Results for a
(material, energy grid, kind) are cached, so the per-bin μ of a spectrum costs a
dictionary look-up after the first call. Arrays come back read-only; move them to a GPU
explicitly (``cupy.asarray(mu)``) where needed.

References
----------
.. [1] Elam WT, Ravel BD, Sieber JR. A new atomic database for X-ray spectroscopic
   calculations. Radiat Phys Chem 63:121-128 (2002). doi:10.1016/S0969-806X(01)00227-4
.. [2] Hubbell JH, Seltzer SM. Tables of X-ray mass attenuation coefficients and mass
   energy-absorption coefficients (NISTIR 5632, NIST SRD 126), 1995.
   doi:10.18434/T4D01F
.. [3] Hammerstein GR, Miller DW, White DR, Masterson ME, Woodard HQ, Laughlin JS.
   Absorbed radiation dose in mammography. Radiology 130:485-491 (1979).
   doi:10.1148/130.2.485
.. [4] ICRU Report 44: Tissue substitutes in radiation dosimetry and measurement (1989).
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ..core import ParameterError

__all__ = [
    "AttenuationKind",
    "Material",
    "MaterialName",
    "breast_tissue",
    "iodine_contrast",
    "material",
    "mu_over_rho_cm2_g",
    "mu_per_cm",
    "mu_per_mm",
]

# Element symbols Z = 1..98: the range of the Elam tables in xraydb.
_ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge "
    "As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm "
    "Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th "
    "Pa U Np Pu Am Cm Bk Cf"
).split()
_Z = {symbol: z for z, symbol in enumerate(_ELEMENTS, start=1)}

#: Energies accepted by the μ functions (keV): mammography and well beyond.
ENERGY_RANGE_KEV = (1.0, 500.0)

#: Iodinated contrast model (simulation.md §4.1): 300 mgI/mL is 0.30 g/cm³ of iodine in
#: 1.05 g/cm³ of water (the water stands in for water plus the organic carrier molecule).
#: Both scale linearly with the concentration c: ρ_I = c / 1000, ρ_water = 1 + 0.05 c / 300.
_CONTRAST_MAX_MGI_PER_ML = 400.0


class AttenuationKind(StrEnum):
    """Which interaction cross-section to return.

    ``total`` = photoelectric + coherent (Rayleigh) + incoherent (Compton); the others are
    the single parts.
    """

    TOTAL = "total"
    PHOTO = "photo"
    COHERENT = "coh"
    INCOHERENT = "incoh"


@dataclass(frozen=True)
class Material:
    """A homogeneous material: density and composition by weight.

    Parameters
    ----------
    name : str
        A label (``"glandular"``, ``"iodine contrast 300 mgI/mL"``).
    density_g_cm3 : float
        Mass density (g/cm³), > 0.
    composition : mapping of str to float, or tuple of (str, float)
        Element symbol → mass fraction. The fractions must add up to 1 within 1 %; they are
        normalised to add up to exactly 1. Stored as a tuple of (symbol, fraction) pairs
        ordered by atomic number, so that materials hash and compare by value.

    Raises
    ------
    ParameterError
        For an unknown element symbol, a negative fraction, fractions that do not add up to
        1, or a density that is not a positive finite number.

    Examples
    --------
    >>> water = Material("water", 1.0, {"O": 0.888, "H": 0.112})
    >>> [(symbol, round(w, 3)) for symbol, w in water.composition]  # ordered by Z
    [('H', 0.112), ('O', 0.888)]
    >>> round(water.mass_fraction("O"), 3)
    0.888
    """

    name: str
    density_g_cm3: float
    composition: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        density = float(self.density_g_cm3)
        if not (math.isfinite(density) and density > 0.0):
            raise ParameterError(
                f"{self.name}.density_g_cm3", self.density_g_cm3, "a positive number (g/cm³)"
            )
        items = (
            self.composition.items()
            if isinstance(self.composition, Mapping)
            else tuple(self.composition)
        )
        merged: dict[str, float] = {}
        for symbol, fraction in items:
            if symbol not in _Z:
                raise ParameterError(
                    f"{self.name}.composition", symbol, "an element symbol from H to Cf"
                )
            fraction = float(fraction)
            if not (math.isfinite(fraction) and fraction >= 0.0):
                raise ParameterError(
                    f"{self.name}.composition.{symbol}", fraction, "a mass fraction >= 0"
                )
            merged[symbol] = merged.get(symbol, 0.0) + fraction
        total = sum(merged.values())
        if not merged or abs(total - 1.0) > 0.01:
            raise ParameterError(
                f"{self.name}.composition",
                dict(merged),
                f"mass fractions adding up to 1 (within 0.01), they add up to {total:.4f}",
            )
        composition = tuple(
            (symbol, merged[symbol] / total)
            for symbol in sorted(merged, key=_Z.__getitem__)
            if merged[symbol] > 0.0
        )
        object.__setattr__(self, "density_g_cm3", density)
        object.__setattr__(self, "composition", composition)

    @classmethod
    def from_formula(cls, name: str, formula: str, density_g_cm3: float) -> Material:
        """Build a material from a chemical formula.

        Parameters
        ----------
        name : str
            A label.
        formula : str
            Chemical formula as xraydb parses it, with groups and fractional counts
            (``"C5H8O2"``, ``"Al2Cl(OH)5"``, ``"(C2H4)"``).
        density_g_cm3 : float
            Mass density (g/cm³).

        Returns
        -------
        Material
            Mass fractions from the atom counts and xraydb's atomic masses.

        Raises
        ------
        ParameterError
            If the formula cannot be parsed.

        Examples
        --------
        >>> pmma = Material.from_formula("pmma", "C5H8O2", 1.19)
        >>> round(pmma.mass_fraction("C"), 4)
        0.5999
        """
        import xraydb

        try:
            counts = xraydb.chemparse(formula)
        except Exception as exc:  # xraydb raises a bare Exception on a bad formula
            raise ParameterError(f"{name}.formula", formula, "a chemical formula") from exc
        if not counts:
            raise ParameterError(f"{name}.formula", formula, "a chemical formula")
        for symbol in counts:
            if symbol not in _Z:
                raise ParameterError(f"{name}.formula", formula, "element symbols from H to Cf")
        masses = {symbol: n * xraydb.atomic_mass(symbol) for symbol, n in counts.items()}
        total = sum(masses.values())
        return cls(name, density_g_cm3, {s: m / total for s, m in masses.items()})

    def mass_fraction(self, symbol: str) -> float:
        """Mass fraction of one element (0 when absent)."""
        return dict(self.composition).get(symbol, 0.0)


def _energies_kev(energy_kev: object) -> np.ndarray:
    """Energies as a float64 host array, checked against :data:`ENERGY_RANGE_KEV`."""
    energies = np.asarray(energy_kev, dtype=np.float64)
    lo, hi = ENERGY_RANGE_KEV
    if energies.size and not (
        np.all(np.isfinite(energies)) and energies.min() >= lo and energies.max() <= hi
    ):
        bad = energies[~(np.isfinite(energies) & (energies >= lo) & (energies <= hi))]
        raise ParameterError("energy_kev", float(bad.flat[0]), f"energies in [{lo}, {hi}] keV")
    return energies


#: Serialises the table look-ups (views may be simulated in several threads).
_XRAYDB_LOCK = threading.Lock()


@functools.lru_cache(maxsize=512)
def _mu_over_rho_cached(
    composition: tuple[tuple[str, float], ...], kind: str, energies_bytes: bytes
) -> np.ndarray:
    """μ/ρ (cm²/g) of a composition on an energy grid; the grid is passed as float64 bytes
    so that it can be a cache key. Mixture rule: μ/ρ = Σ w_i (μ/ρ)_i [2]."""
    import xraydb

    energies_ev = np.frombuffer(energies_bytes, dtype=np.float64) * 1000.0
    out = np.zeros_like(energies_ev)
    with _XRAYDB_LOCK:  # one SQLite database behind xraydb: one thread at a time
        for symbol, fraction in composition:
            mu = xraydb.mu_elam(symbol, energies_ev, kind=kind)
            out += fraction * np.asarray(mu, dtype=float)
    out.setflags(write=False)
    return out


def mu_over_rho_cm2_g(
    material: Material, energy_kev: object, *, kind: str | AttenuationKind = "total"
) -> np.ndarray:
    """Mass attenuation coefficient μ/ρ of a material.

    Parameters
    ----------
    material : Material
        The material.
    energy_kev : float or array_like
        Photon energies (keV), in [1, 500]. A host (NumPy) array or Python numbers.
    kind : {"total", "photo", "coh", "incoh"}, optional
        Which cross-section (:class:`AttenuationKind`); default ``"total"``, the total
        attenuation including coherent scattering (NIST XCOM "with coherent").

    Returns
    -------
    numpy.ndarray
        μ/ρ (cm²/g), the shape of ``energy_kev`` (0-d for a number); float32 when
        ``energy_kev`` is a float32 array, float64 otherwise. A float64 result is
        read-only, as it is shared with the cache.

    Raises
    ------
    ParameterError
        For an energy outside [1, 500] keV or an unknown ``kind``.

    Notes
    -----
    Cached per (composition, energy grid, kind): the first call on a grid costs about
    5 ms per element (plus the one-off import of xraydb, about 1 s); later calls on the
    same grid cost a hash of the grid.

    Examples
    --------
    >>> round(float(mu_over_rho_cm2_g(material("water"), 20.0)), 3)  # NIST: 0.810
    0.81
    >>> iodine = Material("iodine", 4.93, {"I": 1.0})
    >>> [round(float(m), 2) for m in mu_over_rho_cm2_g(iodine, [33.168, 33.170])]
    [6.55, 35.83]
    """
    try:
        kind = AttenuationKind(kind)
    except ValueError as exc:
        allowed = ", ".join(repr(k.value) for k in AttenuationKind)
        raise ParameterError("kind", kind, f"one of {allowed}") from exc
    energies = _energies_kev(energy_kev)
    flat = np.ascontiguousarray(energies.ravel())
    mu = _mu_over_rho_cached(material.composition, kind.value, flat.tobytes())
    if getattr(energy_kev, "dtype", None) == np.float32:  # the dtype rule: float32 stays
        return mu.astype(np.float32).reshape(energies.shape)
    return mu.reshape(energies.shape)


def mu_per_cm(
    material: Material, energy_kev: object, *, kind: str | AttenuationKind = "total"
) -> np.ndarray:
    """Linear attenuation coefficient μ = (μ/ρ)·ρ (1/cm).

    Parameters and returns as :func:`mu_over_rho_cm2_g`, in 1/cm.

    Examples
    --------
    >>> round(float(mu_per_cm(iodine_contrast(300.0), 20.0)), 2)  # simulation.md §4.1: 8.48
    8.48
    """
    return mu_over_rho_cm2_g(material, energy_kev, kind=kind) * material.density_g_cm3


def mu_per_mm(
    material: Material, energy_kev: object, *, kind: str | AttenuationKind = "total"
) -> np.ndarray:
    """Linear attenuation coefficient μ (1/mm), the unit of ductogram's geometry.

    Parameters and returns as :func:`mu_over_rho_cm2_g`, in 1/mm.

    Examples
    --------
    >>> round(float(mu_per_mm(material("aluminium"), 20.0)), 3)  # 3.442 cm²/g · 2.699 g/cm³
    0.929
    """
    return mu_over_rho_cm2_g(material, energy_kev, kind=kind) * (material.density_g_cm3 / 10.0)


class MaterialName(StrEnum):
    """The named materials of a ductography exam; :func:`material` builds each one."""

    AIR = "air"
    WATER = "water"
    ADIPOSE = "adipose"
    GLANDULAR = "glandular"
    SKIN = "skin"
    PMMA = "pmma"
    A_SE = "a-se"
    CSI = "csi"
    BERYLLIUM = "beryllium"
    ALUMINIUM = "aluminium"
    MOLYBDENUM = "molybdenum"
    RHODIUM = "rhodium"
    ZINC = "zinc"
    ZINC_OXIDE = "zinc-oxide"
    ALUMINIUM_CHLOROHYDRATE = "aluminium-chlorohydrate"
    GOLD = "gold"
    SILVER = "silver"
    STEEL = "steel"
    CANNULA = "cannula"
    POLYETHYLENE = "polyethylene"
    PVC = "pvc"


# name -> (density g/cm³, composition by weight or chemical formula, source)
_CATALOGUE: dict[MaterialName, tuple[float, Mapping[str, float] | str, str]] = {
    # NIST SRD 126 "Air, Dry (Near Sea Level)".
    MaterialName.AIR: (
        0.001205,
        {"C": 0.000124, "N": 0.755268, "O": 0.231781, "Ar": 0.012827},
        "NIST SRD 126, dry air near sea level",
    ),
    MaterialName.WATER: (1.0, "H2O", "liquid water"),
    # Hammerstein et al. 1979 [3], as in simulation.md §4.1; the small remainder (0.1 %,
    # 0.5 %) is listed as S or P in public code; taken as P here (< 0.1 % effect on μ/ρ).
    MaterialName.ADIPOSE: (
        0.93,
        {"H": 0.112, "C": 0.619, "N": 0.017, "O": 0.251, "P": 0.001},
        "Hammerstein 1979 adipose (simulation.md §4.1)",
    ),
    MaterialName.GLANDULAR: (
        1.04,
        {"H": 0.102, "C": 0.184, "N": 0.032, "O": 0.677, "P": 0.005},
        "Hammerstein 1979 glandular (simulation.md §4.1)",
    ),
    # ICRU Report 44 skin.
    MaterialName.SKIN: (
        1.09,
        {
            "H": 0.100,
            "C": 0.204,
            "N": 0.042,
            "O": 0.645,
            "Na": 0.002,
            "P": 0.001,
            "S": 0.002,
            "Cl": 0.003,
            "K": 0.001,
        },
        "ICRU 44 skin",
    ),
    # Compression paddle: polymethyl methacrylate (NIST density).
    MaterialName.PMMA: (1.19, "C5H8O2", "PMMA (compression paddle)"),
    # Detector converters: amorphous selenium (direct), CsI (indirect; Tl doping ignored).
    MaterialName.A_SE: (4.27, "Se", "amorphous selenium (crystalline Se is 4.81 g/cm³)"),
    MaterialName.CSI: (4.51, "CsI", "caesium iodide scintillator"),
    # Tube window and filters; aluminium also for HVLs (pure Al, NIST density).
    MaterialName.BERYLLIUM: (1.848, "Be", "beryllium (tube window)"),
    MaterialName.ALUMINIUM: (2.699, "Al", "aluminium, pure (HVL attenuator, W/Al filter)"),
    MaterialName.MOLYBDENUM: (10.22, "Mo", "molybdenum filter"),
    MaterialName.RHODIUM: (12.41, "Rh", "rhodium filter"),
    # Preparation artifacts: powder (zinc oxide) and antiperspirant (aluminium salts).
    MaterialName.ZINC: (7.133, "Zn", "zinc metal"),
    MaterialName.ZINC_OXIDE: (5.61, "ZnO", "zinc oxide (powders, creams)"),
    # Bulk density of the solid is approximate; residues on skin are thin, and the
    # artifact model sets their areal density, not this figure.
    MaterialName.ALUMINIUM_CHLOROHYDRATE: (
        2.0,
        "Al2Cl(OH)5",
        "aluminium chlorohydrate (antiperspirant; density approximate)",
    ),
    # Jewellery.
    MaterialName.GOLD: (19.32, "Au", "gold"),
    MaterialName.SILVER: (10.50, "Ag", "silver"),
    # Surgical stainless steel AISI 316L, nominal mid-range composition.
    MaterialName.STEEL: (
        8.0,
        {"Fe": 0.655, "Cr": 0.17, "Ni": 0.12, "Mo": 0.025, "Mn": 0.02, "Si": 0.01},
        "stainless steel AISI 316L (jewellery)",
    ),
    # Blunt ductography cannula: stainless steel AISI 304, nominal composition.
    MaterialName.CANNULA: (
        8.0,
        {"Fe": 0.695, "Cr": 0.19, "Ni": 0.095, "Mn": 0.02},
        "stainless steel AISI 304 (cannula)",
    ),
    # Extension tubing of the cannula: polyethylene or PVC.
    MaterialName.POLYETHYLENE: (0.93, "C2H4", "polyethylene (tubing)"),
    MaterialName.PVC: (1.38, "C2H3Cl", "polyvinyl chloride (tubing)"),
}


@functools.cache
def _named(name: MaterialName) -> Material:
    density, composition, _source = _CATALOGUE[name]
    if isinstance(composition, str):
        return Material.from_formula(name.value, composition, density)
    return Material(name.value, density, composition)


def material(name: str | MaterialName) -> Material:
    """A named material of the exam.

    Parameters
    ----------
    name : str or MaterialName
        One of :class:`MaterialName`: ``"air"``, ``"water"``, ``"adipose"`` and
        ``"glandular"`` (Hammerstein 1979, simulation.md §4.1), ``"skin"`` (ICRU 44),
        ``"pmma"`` (paddle), ``"a-se"``, ``"csi"`` (detectors), ``"beryllium"``,
        ``"aluminium"``, ``"molybdenum"``, ``"rhodium"`` (tube), ``"zinc"``,
        ``"zinc-oxide"``, ``"aluminium-chlorohydrate"`` (powder, deodorant), ``"gold"``,
        ``"silver"``, ``"steel"`` (jewellery, AISI 316L), ``"cannula"`` (AISI 304),
        ``"polyethylene"``, ``"pvc"`` (tubing).

    Returns
    -------
    Material
        The same object for the same name.

    Raises
    ------
    ParameterError
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> g = material("glandular")
    >>> g.density_g_cm3, round(g.mass_fraction("O"), 3)
    (1.04, 0.677)
    """
    try:
        key = MaterialName(name)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in MaterialName)
        raise ParameterError("material", name, f"one of {allowed}") from exc
    return _named(key)


def iodine_contrast(concentration_mgi_per_ml: float) -> Material:
    """Iodinated contrast medium at a given iodine concentration.

    Model of simulation.md §4.1, generalised linearly: a medium of ``c`` mgI/mL holds
    ``c / 1000`` g/cm³ of iodine in ``1 + 0.05 c / 300`` g/cm³ of water (at 300 mgI/mL:
    0.30 g/cm³ I + 1.05 g/cm³ water, total 1.35 g/cm³, close to iohexol 300's 1.35 g/mL
    and iohexol 350's 1.41 g/mL). The water stands in for water plus the carrier
    molecule (C, H, N, O), whose attenuation per gram is close to water's.

    Parameters
    ----------
    concentration_mgi_per_ml : float
        Iodine concentration (mgI/mL), in [0, 400]; 0 gives water. Clinical agents for
        ductography are 240–370 mgI/mL, often diluted.

    Returns
    -------
    Material
        Named ``"iodine contrast {c:g} mgI/mL"``.

    Raises
    ------
    ParameterError
        For a concentration outside [0, 400] mgI/mL.

    Examples
    --------
    >>> c = iodine_contrast(300.0)
    >>> round(c.density_g_cm3, 3), round(c.mass_fraction("I"), 4)
    (1.35, 0.2222)
    """
    c = float(concentration_mgi_per_ml)
    if not (math.isfinite(c) and 0.0 <= c <= _CONTRAST_MAX_MGI_PER_ML):
        raise ParameterError(
            "concentration_mgi_per_ml",
            concentration_mgi_per_ml,
            f"a concentration in [0, {_CONTRAST_MAX_MGI_PER_ML:g}] mgI/mL",
        )
    rho_iodine = c / 1000.0
    rho_water = 1.0 + 0.05 * c / 300.0
    density = rho_iodine + rho_water
    water = _named(MaterialName.WATER)
    composition: dict[str, float] = {"I": rho_iodine / density}
    for symbol, fraction in water.composition:
        composition[symbol] = fraction * rho_water / density
    return Material(f"iodine contrast {c:g} mgI/mL", density, composition)


def breast_tissue(glandular_fraction: float) -> Material:
    """A homogeneous mixture of glandular and adipose tissue (Hammerstein 1979).

    Parameters
    ----------
    glandular_fraction : float
        Glandularity **by weight**, in [0, 1], as in the dose tables of Dance and Boone
        (simulation.md §4.2): the mass fractions of the elements are
        ``g·w_glandular + (1 - g)·w_adipose``. Volumes add, so the density is
        ``1 / (g / ρ_glandular + (1 - g) / ρ_adipose)``.

    Returns
    -------
    Material
        Named ``"breast {100 g:g}% glandular"``.

    Raises
    ------
    ParameterError
        For a fraction outside [0, 1].

    Examples
    --------
    >>> b = breast_tissue(0.5)
    >>> round(b.density_g_cm3, 4)
    0.9819
    """
    g = float(glandular_fraction)
    if not (math.isfinite(g) and 0.0 <= g <= 1.0):
        raise ParameterError(
            "glandular_fraction", glandular_fraction, "a fraction by weight in [0, 1]"
        )
    glandular = _named(MaterialName.GLANDULAR)
    adipose = _named(MaterialName.ADIPOSE)
    composition: dict[str, float] = {}
    for mat, weight in ((glandular, g), (adipose, 1.0 - g)):
        for symbol, fraction in mat.composition:
            composition[symbol] = composition.get(symbol, 0.0) + weight * fraction
    density = 1.0 / (g / glandular.density_g_cm3 + (1.0 - g) / adipose.density_g_cm3)
    return Material(f"breast {100.0 * g:g}% glandular", density, composition)
