"""Scattered radiation: scatter-to-primary ratio, a spatial kernel, the anti-scatter grid.

Model (scatter-kernel superposition, as in e.g. Boone & Cooper 2000 [1]_ and the kernel
methods that followed): every point of the breast scatters a share of the primary signal
it lets through and spreads it over the detector with a normalised kernel,

    S(x) = Σ_x' k(x - x') · SPR(T(x')) · P(x'),     Σ_x k = 1,

so that under a large uniform breast ``S = SPR · P`` and the total scattered signal equals
``Σ SPR · P`` (energy is conserved; what falls off the detector is lost). Near the skin
line the scatter falls off and spills into the direct-exposure area, as on real images.
``P`` and ``S`` are energy-integrated detector signals; the scattered photons are taken to
have the detected primary's spectrum (Compton shifts are small below 40 keV).

Numbers (all [estimate] unless cited; change them through the arguments):

=========================================  ======================================
scatter-to-primary ratio, no grid, contact  ``0.10 per cm`` of tissue thickness:
(large field, breast centre)                 0.40 / 0.50 / 0.60 at 4 / 5 / 6 cm,
                                             in the 0.3–0.6 of the literature for
                                             4–6 cm breasts without a grid [1]_
energy dependence                           ``× (1 + 0.015 (Ē - 19 keV))``, Ē the
                                             mean energy of the detected primary
                                             (SPR rises slowly with beam energy)
kernel                                      2-D exponential ``exp(-r/λ) / (2π λ²)``,
                                             transfer ``(1 + (2π λ f)²)^(-3/2)``
kernel width                                ``λ = 0.5 · d``, d the distance from the
                                             breast mid-plane to the detector
                                             (≈ 22 mm for a 5 cm breast on contact)
air gap (magnification)                     SPR × ``G(d) / G(d_contact)``, with the
                                             solid angle ``G(d) = 1 - d / √(d² + R²)``
                                             of a scattering disc of radius R = 50 mm
anti-scatter grid (contact views)           primary transmission 0.70, scatter 0.18
                                             (grids of ratio 4–5: 0.65–0.75 and
                                             0.15–0.20 [2]_)
=========================================  ======================================

The convolution runs on a grid coarser than the detector (pixels of at most λ/4, block
means) with zero padding of 8λ, and is interpolated back bilinearly: scatter is smooth,
and this keeps it cheap on full-field images (6 MP).

References
----------
.. [1] Boone JM, Cooper VN. Scatter/primary in mammography: Monte Carlo validation. Med
   Phys 27:1818-1831 (2000). doi:10.1118/1.1287052
.. [2] Dance DR, Day GJ. The computation of scatter in mammography by Monte Carlo methods.
   Phys Med Biol 29:237-247 (1984); Rezentes PS, de Almeida A, Barnes GT. Mammography grid
   performance. Radiology 210:227-232 (1999). doi:10.1148/radiology.210.1.r99ja13227
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from ..core import ParameterError
from ._backend import array_namespace, fft_module

__all__ = [
    "ANTISCATTER_GRID",
    "SPR_PER_CM",
    "Grid",
    "kernel_width_mm",
    "scatter_image",
    "scatter_kernel",
    "scatter_kernel_mass",
    "scatter_kernel_transfer",
    "scatter_to_primary_ratio",
]

#: Scatter-to-primary ratio per cm of tissue, no grid, contact geometry [estimate].
SPR_PER_CM = 0.10
_SPR_ENERGY_SLOPE_PER_KEV = 0.015  # [estimate]
_SPR_REFERENCE_KEV = 19.0
_KERNEL_WIDTH_PER_MM = 0.5  # λ = 0.5 · (mid-plane to detector) [estimate]
_SCATTER_DISC_RADIUS_MM = 50.0  # [estimate]


@dataclass(frozen=True)
class Grid:
    """A focused, moving anti-scatter grid (its lines are not drawn).

    Parameters
    ----------
    primary_transmission : float
        Fraction of primary photons through the grid, in (0, 1].
    scatter_transmission : float
        Fraction of scattered photons through the grid, in [0, primary_transmission].

    Examples
    --------
    >>> ANTISCATTER_GRID.primary_transmission, ANTISCATTER_GRID.scatter_transmission
    (0.7, 0.18)
    """

    primary_transmission: float = 0.70
    scatter_transmission: float = 0.18

    def __post_init__(self) -> None:
        tp, ts = self.primary_transmission, self.scatter_transmission
        if not (math.isfinite(tp) and 0.0 < tp <= 1.0):
            raise ParameterError("grid.primary_transmission", tp, "a fraction in (0, 1]")
        if not (math.isfinite(ts) and 0.0 <= ts <= tp):
            raise ParameterError(
                "grid.scatter_transmission", ts, f"a fraction in [0, {tp}] (the primary's)"
            )


#: The grid of contact views [estimate, typical ratio 4–5 mammography grid].
ANTISCATTER_GRID = Grid()


def _air_gap_factor(mid_to_detector_mm: float, contact_mid_to_detector_mm: float) -> float:
    def solid(d: float) -> float:
        return 1.0 - d / math.hypot(d, _SCATTER_DISC_RADIUS_MM)

    return solid(mid_to_detector_mm) / solid(contact_mid_to_detector_mm)


def scatter_to_primary_ratio(
    thickness_mm: object,
    *,
    mean_energy_kev: float = _SPR_REFERENCE_KEV,
    mid_to_detector_mm: float | None = None,
    support_to_detector_mm: float = 20.0,
    grid: Grid | None = None,
) -> object:
    """Scatter-to-primary ratio of the energy-integrated signal (module notes).

    Parameters
    ----------
    thickness_mm : float or array
        Tissue thickness along the ray (mm), >= 0; an array (NumPy or CuPy) gives a map.
    mean_energy_kev : float, optional
        Mean energy of the detected primary beam (keV), in [10, 40]; default 19.
    mid_to_detector_mm : float, optional
        Distance from the breast's mid-plane to the detector (mm); default the contact
        geometry, ``support_to_detector_mm + T/2`` (no air-gap reduction). A larger
        distance (magnification) lowers the SPR by the solid-angle factor.
    support_to_detector_mm : float, optional
        Breast support above the detector in contact views (mm); default 20.
    grid : Grid, optional
        An anti-scatter grid: the ratio is multiplied by its scatter / primary
        transmission. Default no grid.

    Returns
    -------
    float or array
        SPR at the detector (dimensionless), >= 0.

    Raises
    ------
    ParameterError
        For a negative thickness or an energy outside [10, 40] keV.

    Examples
    --------
    >>> [round(scatter_to_primary_ratio(t), 2) for t in (40.0, 50.0, 60.0)]
    [0.4, 0.5, 0.6]
    >>> round(scatter_to_primary_ratio(50.0, grid=ANTISCATTER_GRID), 3)  # 0.5 * 0.18 / 0.70
    0.129
    """
    if not (math.isfinite(mean_energy_kev) and 10.0 <= mean_energy_kev <= 40.0):
        raise ParameterError("mean_energy_kev", mean_energy_kev, "a mean energy in [10, 40] keV")
    scalar = isinstance(thickness_mm, int | float)
    if scalar and not (math.isfinite(thickness_mm) and thickness_mm >= 0.0):
        raise ParameterError("thickness_mm", thickness_mm, "a thickness >= 0 mm")
    energy = 1.0 + _SPR_ENERGY_SLOPE_PER_KEV * (mean_energy_kev - _SPR_REFERENCE_KEV)
    factor = SPR_PER_CM / 10.0 * min(max(energy, 0.8), 1.2)
    if mid_to_detector_mm is not None:
        if scalar:
            contact = support_to_detector_mm + 0.5 * float(thickness_mm)
        else:
            contact = support_to_detector_mm + 0.5 * float(thickness_mm.max())
        factor *= _air_gap_factor(float(mid_to_detector_mm), contact)
    if grid is not None:
        factor *= grid.scatter_transmission / grid.primary_transmission
    if scalar:
        return factor * float(thickness_mm)
    return thickness_mm * factor


def kernel_width_mm(mid_to_detector_mm: float) -> float:
    """Width λ (mm) of the exponential scatter kernel: ``0.5 · d`` [estimate].

    Examples
    --------
    >>> kernel_width_mm(45.0)
    22.5
    """
    if not (math.isfinite(mid_to_detector_mm) and mid_to_detector_mm > 0.0):
        raise ParameterError("mid_to_detector_mm", mid_to_detector_mm, "a distance > 0 mm")
    return _KERNEL_WIDTH_PER_MM * float(mid_to_detector_mm)


def scatter_kernel_transfer(frequency_per_mm: object, width_mm: float) -> object:
    """Fourier transform of the normalised kernel ``exp(-r/λ) / (2π λ²)``.

    ``K(f) = (1 + (2π λ f)²)^(-3/2)``; ``K(0) = 1``: the kernel integrates to one.

    Examples
    --------
    >>> float(scatter_kernel_transfer(np.array(0.0), 20.0))
    1.0
    """
    xp = array_namespace(frequency_per_mm)
    a = 2.0 * math.pi * width_mm
    return (1.0 + (a * xp.asarray(frequency_per_mm)) ** 2) ** -1.5


def scatter_kernel(size: int, pixel_mm: float, width_mm: float, *, xp: ModuleType = np):
    """The spatial kernel sampled on a ``size × size`` grid, normalised to sum to 1.

    Each pixel holds the kernel's integral over the pixel (midpoint rule on a 4 × 4
    sub-grid, the singular centre pixel by the analytic integral over a disc of equal
    area), divided by the total. For ``size · pixel_mm`` well beyond ``10 λ`` the total
    before normalisation is 1 within 0.1 %, which :func:`scatter_kernel_mass` reports.

    Parameters
    ----------
    size : int
        Odd number of pixels per side, in [3, 4097].
    pixel_mm : float
        Pitch (mm).
    width_mm : float
        λ (mm).

    Returns
    -------
    (size, size) array
        Kernel weights summing to 1.

    Examples
    --------
    >>> k = scatter_kernel(101, 1.0, 5.0)
    >>> round(float(k.sum()), 12), bool(k[50, 50] == k.max())
    (1.0, True)
    """
    k, _ = _sampled_kernel(size, pixel_mm, width_mm, xp)
    return k


def _sampled_kernel(size: int, pixel_mm: float, width_mm: float, xp: ModuleType):
    if not (isinstance(size, int) and 3 <= size <= 4097 and size % 2 == 1):
        raise ParameterError("size", size, "an odd number of pixels in [3, 4097]")
    if not (math.isfinite(width_mm) and width_mm > 0.0):
        raise ParameterError("width_mm", width_mm, "a kernel width > 0 mm")
    half = size // 2
    sub = (xp.arange(4) + 0.5) / 4.0 - 0.5
    centres = (xp.arange(size) - half)[:, None] + sub[None, :]  # (size, 4) in pixels
    y = centres.reshape(-1)[:, None] * pixel_mm
    x = centres.reshape(-1)[None, :] * pixel_mm
    r = xp.sqrt(y * y + x * x)
    dens = xp.exp(-r / width_mm) / (2.0 * math.pi * width_mm**2)
    k = dens.reshape(size, 4, size, 4).mean(axis=(1, 3)) * pixel_mm**2
    # Centre pixel: the disc of equal area, ∫ exp(-r/λ)/(2πλ²) 2πr dr = 1 - (1 + a) e^-a.
    a = pixel_mm / math.sqrt(math.pi) / width_mm
    k[half, half] = 1.0 - (1.0 + a) * math.exp(-a)
    mass = float(k.sum())
    return k / mass, mass


def scatter_kernel_mass(size: int, pixel_mm: float, width_mm: float) -> float:
    """Integral of the kernel over a ``size × size`` window before normalisation (<= 1).

    Examples
    --------
    >>> round(scatter_kernel_mass(401, 1.0, 10.0), 3)  # 20 λ wide: nearly all of it
    1.0
    """
    return _sampled_kernel(size, pixel_mm, width_mm, np)[1]


def _block_mean(image, block: int, xp: ModuleType):
    rows, cols = image.shape
    r2, c2 = -(-rows // block) * block, -(-cols // block) * block
    if (r2, c2) != (rows, cols):  # pad with edge copies so every block is full
        image = xp.pad(image, ((0, r2 - rows), (0, c2 - cols)), mode="edge")
    return image.reshape(r2 // block, block, c2 // block, block).mean(axis=(1, 3))


def _upsample_bilinear(coarse, shape: tuple[int, int], block: int, xp: ModuleType):
    """Bilinear interpolation of block means (centres at ``(i + 0.5) block - 0.5``)."""

    def axis_weights(n_fine: int, n_coarse: int):
        pos = (xp.arange(n_fine) + 0.5) / block - 0.5
        pos = xp.clip(pos, 0.0, n_coarse - 1.0)
        i0 = xp.minimum(xp.floor(pos).astype(xp.int64), max(n_coarse - 2, 0))
        i1 = xp.minimum(i0 + 1, n_coarse - 1)
        return i0, i1, (pos - i0).astype(coarse.dtype)

    r0, r1, wr = axis_weights(shape[0], coarse.shape[0])
    c0, c1, wc = axis_weights(shape[1], coarse.shape[1])
    rows = coarse[r0] * (1 - wr)[:, None] + coarse[r1] * wr[:, None]
    return rows[:, c0] * (1 - wc)[None, :] + rows[:, c1] * wc[None, :]


def scatter_image(
    source: object,
    pixel_mm: float,
    width_mm: float,
    *,
    max_block: int = 32,
) -> object:
    """Spread a scatter source map with the normalised kernel: ``S = k ⊛ source``.

    Parameters
    ----------
    source : (rows, cols) array
        Scattered signal produced at each pixel, ``SPR(T) · P`` (detector units),
        NumPy or CuPy, float32 or float64.
    pixel_mm : float
        Detector pitch (mm).
    width_mm : float
        Kernel width λ (mm), :func:`kernel_width_mm`.
    max_block : int, optional
        Largest coarsening block (pixels); the block is also at most ``λ / (4 p)``.

    Returns
    -------
    (rows, cols) array
        The scatter reaching each pixel, the dtype and namespace of ``source``. Its sum
        equals the source's sum less what spreads beyond the detector edges.

    Examples
    --------
    >>> src = np.zeros((200, 200)); src[100, 100] = 1.0
    >>> s = scatter_image(src, 0.5, 2.0)
    >>> round(float(s.sum()), 2)  # a point well inside: all of it lands on the detector
    1.0
    """
    xp = array_namespace(source)
    if getattr(source, "ndim", None) != 2:
        raise ParameterError("source", getattr(source, "shape", None), "a 2-D map")
    if not (math.isfinite(width_mm) and width_mm > 0.0):
        raise ParameterError("width_mm", width_mm, "a kernel width > 0 mm")
    dtype = source.dtype
    rows, cols = source.shape
    block = int(max(1, min(max_block, math.floor(width_mm / (4.0 * pixel_mm)))))
    coarse = _block_mean(source, block, xp) if block > 1 else source
    cp = pixel_mm * block
    pad = math.ceil(4.0 * width_mm / cp)
    cr, cc = coarse.shape
    fft, kw = fft_module(xp)
    shape = (fft.next_fast_len(cr + 2 * pad), fft.next_fast_len(cc + 2 * pad))
    padded = xp.zeros(shape, dtype=dtype)
    padded[:cr, :cc] = coarse
    fy = xp.fft.fftfreq(shape[0], d=cp)
    fx = xp.fft.rfftfreq(shape[1], d=cp)
    transfer = scatter_kernel_transfer(xp.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2), width_mm)
    spread = fft.irfft2(fft.rfft2(padded, **kw) * transfer.astype(dtype), s=shape, **kw)
    # Tails within 8 λ of an edge land in the padding, which is cut off: they left the
    # detector (beyond 8 λ the kernel holds 0.3 % of its mass, wrapped around).
    spread = spread[:cr, :cc].astype(dtype, copy=False)
    if block == 1:
        return spread
    return _upsample_bilinear(spread, (rows, cols), block, xp).astype(dtype, copy=False)
