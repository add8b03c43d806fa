"""Flat-panel detectors of digital mammography: absorption, conversion, blur, noise.

Two kinds (:class:`DetectorKind`):

- **a-Se** (direct conversion): 200 µm of amorphous selenium (issue 4; MC-GPU's VICTRE
  detector, simulation.md §1.2). An absorbed x-ray of energy E frees ``E / W±`` electron-
  hole pairs, W± = 50 eV (MC-GPU), so 20 electrons per keV. Swank factor 0.99 (MC-GPU).
  Additive electronic noise 5200 electrons rms per pixel (MC-GPU). The charge spreads
  little in the field: blur beyond the pixel aperture is a narrow Gaussian, MTF 0.95 at
  5 cycles/mm [estimate].
- **CsI** (indirect conversion): 150 µm of CsI:Tl on an a-Si photodiode array (issue 4).
  About 54 optical photons per keV are made in CsI:Tl; with light collection and the
  photodiode's quantum efficiency about 16 electrons per keV reach the pixel [estimate].
  Swank factor 0.85 (light-yield variation with depth) [estimate]. Electronic noise
  2000 electrons rms [estimate]. Light spreads in the columnar crystal: a Lorentzian MTF
  ``1 / (1 + (f / f_c)²)`` with ``f_c`` = 5.5 cycles/mm, which with a 100 µm pixel
  aperture gives a presampling MTF of about 0.35 at 5 cycles/mm, typical of CsI
  mammography panels [estimate].

Absorption efficiency: ``η(E) = 1 - exp(-μ(E) t)``, μ the total linear attenuation of the
converter (xraydb). Energy deposition is taken as complete for an absorbed photon
(K-fluorescence escape from Se, K edge 12.66 keV, and Cs/I, K edges 36.0/33.2 keV, is
neglected: a few % of the signal at most) and the signal is energy-integrating: the
charge of a pixel is ``gain · Σ_E N(E) η(E) E`` with ``gain`` in electrons per keV.

The pixel aperture itself is not in :func:`converter_mtf`: the scene's per-pixel path
lengths are taken at pixel centres (or averaged over sub-pixel rays, which is the
aperture). Read-out: ``DU = (electrons / electrons_per_du) · (p_ref / p)²`` (dark offset
already subtracted, as in "for processing" images): digital
units are normalised to the area of a reference pixel ``p_ref`` = 85 µm, so that a DU value
means the same exposure at any pixel pitch (the AEC target is in DU); at 85 µm, 1 DU is
1000 electrons for a-Se and 800 for CsI [estimate]. No saturation is modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from ..core import ParameterError
from ._backend import array_namespace
from .materials import Material, material, mu_per_mm

__all__ = [
    "Detector",
    "DetectorKind",
    "absorption_efficiency",
    "converter_mtf",
    "default_detector",
]


class DetectorKind(StrEnum):
    """Converter of a flat-panel detector."""

    A_SE = "a-se"
    CSI = "csi"


@dataclass(frozen=True)
class Detector:
    """A flat-panel mammography detector.

    Parameters
    ----------
    kind : DetectorKind or str
        ``"a-se"`` (direct) or ``"csi"`` (indirect).
    thickness_mm : float
        Converter thickness (mm), in (0, 2].
    electrons_per_kev : float
        Conversion gain: electrons collected per keV absorbed, > 0.
    swank_factor : float
        Swank information factor ``I = M1² / (M0 M2)`` of the gain per absorbed photon, in
        (0, 1]: the quantum variance is divided by it.
    electronic_noise_e : float
        Additive electronic noise (electrons rms per pixel), >= 0.
    electrons_per_du : float
        Electrons per digital unit of the read-out, > 0.
    reference_pixel_mm : float
        Pixel pitch ``p_ref`` (mm) at which ``electrons_per_du`` holds; DU scale with
        ``(p_ref / p)²`` at another pitch ``p``.
    blur_kind : {"gaussian", "lorentzian"}
        Shape of the converter's MTF beyond the pixel aperture.
    blur_parameter_per_mm : float
        For "gaussian": the frequency (cycles/mm) where the MTF is ``exp(-1)``; for
        "lorentzian": ``f_c``, where it is 1/2.

    Examples
    --------
    >>> d = default_detector("a-se")
    >>> d.kind, d.thickness_mm, d.electrons_per_kev
    (<DetectorKind.A_SE: 'a-se'>, 0.2, 20.0)
    """

    kind: DetectorKind
    thickness_mm: float
    electrons_per_kev: float
    swank_factor: float
    electronic_noise_e: float
    electrons_per_du: float
    reference_pixel_mm: float = 0.085
    blur_kind: str = "gaussian"
    blur_parameter_per_mm: float = 22.0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", DetectorKind(self.kind))
        except ValueError as exc:
            allowed = ", ".join(k.value for k in DetectorKind)
            raise ParameterError("detector.kind", self.kind, f"one of {allowed}") from exc
        checks = {
            "thickness_mm": (0.0, 2.0, "a converter thickness in (0, 2] mm"),
            "electrons_per_kev": (0.0, math.inf, "a gain > 0 electrons/keV"),
            "swank_factor": (0.0, 1.0, "a Swank factor in (0, 1]"),
            "electrons_per_du": (0.0, math.inf, "a read-out gain > 0 electrons/DU"),
            "reference_pixel_mm": (0.0, 1.0, "a pixel pitch in (0, 1] mm"),
            "blur_parameter_per_mm": (0.0, math.inf, "a frequency > 0 cycles/mm"),
        }
        for name, (lo, hi, expected) in checks.items():
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and lo < value <= hi):
                raise ParameterError(f"detector.{name}", value, expected)
        value = self.electronic_noise_e
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ParameterError("detector.electronic_noise_e", value, "a value >= 0")
        if self.blur_kind not in ("gaussian", "lorentzian"):
            raise ParameterError("detector.blur_kind", self.blur_kind, "'gaussian' or 'lorentzian'")

    def du_per_electron(self, pixel_mm: float) -> float:
        """Digital units per electron at pixel pitch ``pixel_mm`` (module notes).

        Examples
        --------
        >>> default_detector("a-se").du_per_electron(0.17) * 1000.0  # 4 x the area: 1/4 DU per e-
        0.25
        """
        return (self.reference_pixel_mm / pixel_mm) ** 2 / self.electrons_per_du

    @property
    def converter(self) -> Material:
        """The converter material (xraydb composition)."""
        return material(self.kind.value)


# Gaussian MTF exp(-(f/f_e)²) with MTF(5 cycles/mm) = 0.95: f_e = 5 / sqrt(-ln 0.95).
_A_SE_F_E = 5.0 / math.sqrt(-math.log(0.95))

_DEFAULTS = {
    DetectorKind.A_SE: dict(
        thickness_mm=0.2,
        electrons_per_kev=20.0,  # W± = 50 eV (MC-GPU, simulation.md §1.2)
        swank_factor=0.99,  # MC-GPU
        electronic_noise_e=5200.0,  # MC-GPU
        electrons_per_du=1000.0,  # [estimate]
        blur_kind="gaussian",
        blur_parameter_per_mm=_A_SE_F_E,  # [estimate]
    ),
    DetectorKind.CSI: dict(
        thickness_mm=0.15,
        electrons_per_kev=16.0,  # [estimate]
        swank_factor=0.85,  # [estimate]
        electronic_noise_e=2000.0,  # [estimate]
        electrons_per_du=800.0,  # [estimate]
        blur_kind="lorentzian",
        blur_parameter_per_mm=5.5,  # [estimate]
    ),
}


def default_detector(kind: str | DetectorKind = "a-se", **overrides: float) -> Detector:
    """A detector with the defaults of its kind (module notes), optionally changed.

    Parameters
    ----------
    kind : {"a-se", "csi"}
        The converter.
    **overrides
        Any :class:`Detector` field (``thickness_mm=0.25``, ``electronic_noise_e=0`` ...).

    Returns
    -------
    Detector

    Raises
    ------
    ParameterError
        For an unknown kind or field, or a value out of range.

    Examples
    --------
    >>> default_detector("csi", electronic_noise_e=0.0).electronic_noise_e
    0.0
    """
    try:
        key = DetectorKind(kind)
    except ValueError as exc:
        allowed = ", ".join(k.value for k in DetectorKind)
        raise ParameterError("detector.kind", kind, f"one of {allowed}") from exc
    base = Detector(kind=key, **_DEFAULTS[key])
    try:
        return replace(base, **overrides)
    except TypeError as exc:
        raise ParameterError(
            "detector", sorted(overrides), "fields of Detector (thickness_mm, ...)"
        ) from exc


def absorption_efficiency(det: Detector, energy_kev: object) -> np.ndarray:
    """Quantum absorption efficiency ``η(E) = 1 - exp(-μ(E) t)`` of the converter.

    Parameters
    ----------
    det : Detector
        The detector.
    energy_kev : float or array_like
        Photon energies (keV), in [1, 500].

    Returns
    -------
    numpy.ndarray
        η in [0, 1], the shape of ``energy_kev``.

    Examples
    --------
    >>> eta = absorption_efficiency(default_detector("a-se"), [15.0, 20.0, 30.0])
    >>> [round(float(x), 2) for x in eta]  # 200 µm of a-Se
    [1.0, 0.98, 0.74]
    """
    mu = mu_per_mm(det.converter, np.asarray(energy_kev, dtype=np.float64))
    return -np.expm1(-mu * det.thickness_mm)


def converter_mtf(det: Detector, frequency_per_mm: object) -> object:
    """MTF of the converter's own spread (charge or light), pixel aperture excluded.

    Parameters
    ----------
    det : Detector
        The detector.
    frequency_per_mm : array
        Radial spatial frequency (cycles/mm), NumPy or CuPy.

    Returns
    -------
    array
        MTF in (0, 1], 1 at zero frequency, the namespace and shape of the input.

    Examples
    --------
    >>> [round(float(m), 3) for m in converter_mtf(default_detector("csi"), np.array([0.0, 5.5]))]
    [1.0, 0.5]
    """
    xp = array_namespace(frequency_per_mm)
    f = frequency_per_mm
    p = det.blur_parameter_per_mm
    if det.blur_kind == "gaussian":
        return xp.exp(-((f / p) ** 2))
    return 1.0 / (1.0 + (f / p) ** 2)
