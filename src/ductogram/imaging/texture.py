"""Anatomical background: glandular texture with a power-law spectrum, and measuring β.

Mammographic backgrounds have an approximately isotropic noise power spectrum that falls as
a power law, ``P(f) = K / f^β`` (Burgess [1]_). Measured on mammograms, β is
3.17 ± 0.23 (CC) and 3.30 ± 0.24 (MLO) (Chen et al. [2]_), 2.8 on average in Burgess' data;
simulation.md §5.1. :func:`glandular_texture` makes such a field by filtered noise
(Burgess' generator): complex white noise in Fourier space times ``f^(-β/2)``.

The field is turned into a **projected glandular fraction** ``φ`` in [0, 1]: the share of
the ray's tissue path that is glandular (the scene then takes ``φ·T`` of glandular tissue
and ``(1 - φ)·T`` of adipose along a path of tissue thickness ``T``). The map is a
logit-normal transform of the standardised Gaussian field ``z``,
``φ = 1 / (1 + exp(-(a + s z)))``, with ``a`` and ``s`` chosen so that ``φ`` has the requested
mean and standard deviation. The transform is monotonic and smooth, so it keeps the
spectral slope (tests check β of the *fraction map*, not only of ``z``).

Spread [estimate]. The default standard deviation of ``φ`` over the breast is
``0.3 sqrt(m (1 - m))`` for a mean ``m``: 0.12 at ``m = 0.2`` (the mean volumetric
glandularity of Yaffe et al., clinical.md §7 #7), 0.15 at ``m = 0.5``, so that fatty
regions reach a few % and dense regions 50–70 %, as in projected density maps. No
source gives a per-pixel spread; change ``sd`` to taste.

Per case, β is drawn around 3.0 with a standard deviation of 0.15
(:func:`draw_texture_exponent`), inside the range measured on real mammograms.

References
----------
.. [1] Burgess AE. Mammographic structure: data preparation and spatial statistics
   analysis. Proc SPIE 3661:642-653 (1999); Burgess AE, Jacobson FL, Judy PF. Human
   observer detection experiments with mammograms and power-law noise. Med Phys
   28:419-437 (2001). doi:10.1118/1.1355308
.. [2] Chen L, Abbey CK, Nosratieh A, Lindfors KK, Boone JM. Anatomical complexity in
   breast parenchyma and its implications for optimal breast imaging strategies. Med
   Phys 39:1435-1441 (2012). doi:10.1118/1.3685462
"""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np

from ..core import ParameterError, as_generator
from ..core.seeding import RNGLike
from ._backend import array_namespace, fft_module

__all__ = [
    "BETA_MEAN",
    "BETA_SD",
    "FIT_BAND_PER_MM",
    "draw_texture_exponent",
    "glandular_texture",
    "power_law_exponent",
    "radial_power_spectrum",
]

#: Per-case texture exponent: mean and standard deviation of the draw (simulation.md §5.1).
BETA_MEAN = 3.0
BETA_SD = 0.15

#: Frequency band (cycles/mm) of the power-law fit: above the lowest few harmonics of a
#: 4–5 cm region, below the frequencies where quantum noise dominates a real mammogram.
#: Typical of the fits in the literature (about 0.1 to 1 cycles/mm) [estimate].
FIT_BAND_PER_MM = (0.1, 1.0)

# Below this frequency (cycles/mm) the generated spectrum is flat instead of rising
# without bound: structures larger than about 50 mm are not breast texture but the
# breast's own shape, which the scene draws.
_F_FLAT_PER_MM = 0.02

# Gauss–Hermite nodes for expectations over a standard normal variable.
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(64)
_GH_W = _GH_W / _GH_W.sum()


def draw_texture_exponent(rng: RNGLike, *, mean: float = BETA_MEAN, sd: float = BETA_SD) -> float:
    """Draw one case's power-law exponent β, normal around ``mean``, kept in [2.6, 3.4].

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Random generator or seed.
    mean, sd : float, optional
        Mean and standard deviation of the normal draw (default 3.0 and 0.15).

    Returns
    -------
    float
        β, clipped to [2.6, 3.4] (the range reported on real mammograms, simulation.md §5.1).

    Examples
    --------
    >>> 2.6 <= draw_texture_exponent(1) <= 3.4
    True
    """
    gen = as_generator(rng)
    return float(np.clip(gen.normal(mean, sd), 2.6, 3.4))


def _logit_normal_parameters(mean: float, sd: float) -> tuple[float, float]:
    """``(a, s)`` with ``E[σ(a + s Z)] = mean`` and ``SD[σ(a + s Z)] = sd``, Z ~ N(0, 1)."""
    from scipy.optimize import brentq

    def moments(a: float, s: float) -> tuple[float, float]:
        with np.errstate(over="ignore"):  # far brackets: exp overflows to inf, phi to 0
            phi = 1.0 / (1.0 + np.exp(-(a + s * _GH_X)))
        m = float((_GH_W * phi).sum())
        return m, math.sqrt(max(float((_GH_W * phi * phi).sum()) - m * m, 0.0))

    reach = float(np.abs(_GH_X).max())
    logit = math.log(mean / (1.0 - mean))

    def a_for(s: float) -> float:
        """The offset giving the mean: Newton's method from the probit approximation
        (dm/da = E[φ(1 - φ)] > 0), brentq over a bracket past every node if it stalls."""
        a = logit * math.sqrt(1.0 + math.pi * s * s / 8.0)
        for _ in range(30):
            with np.errstate(over="ignore"):
                phi = 1.0 / (1.0 + np.exp(-(a + s * _GH_X)))
            m = float((_GH_W * phi).sum())
            slope = float((_GH_W * phi * (1.0 - phi)).sum())
            if not slope > 0:
                break
            step = (m - mean) / slope
            a -= step
            if abs(step) < 1e-12 * max(1.0, abs(a)):
                return a
        bound = 40.0 + s * reach  # the mean is increasing in a
        return brentq(lambda a: moments(a, s)[0] - mean, -bound, bound, xtol=1e-12)

    # The standard deviation grows with s at a fixed mean.
    s = brentq(lambda s: moments(a_for(s), s)[1] - sd, 1e-6, 30.0, xtol=1e-10)
    return a_for(s), s


def _frequency_grid(shape: tuple[int, int], pixel_mm: float, xp: ModuleType, dtype):
    """Radial frequency (cycles/mm) on the ``rfft2`` half plane of ``shape``."""
    fy = xp.fft.fftfreq(shape[0], d=pixel_mm).astype(dtype)
    fx = xp.fft.rfftfreq(shape[1], d=pixel_mm).astype(dtype)
    return xp.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)


def glandular_texture(
    shape: tuple[int, int],
    pixel_mm: float,
    *,
    mean: float = 0.2,
    sd: float | None = None,
    beta: float = BETA_MEAN,
    rng: RNGLike,
    dtype=np.float32,
    xp: ModuleType | None = None,
) -> object:
    """A projected glandular-fraction map with a power-law spectrum ``1/f^β``.

    Parameters
    ----------
    shape : (int, int)
        Map size (rows, cols), each in [8, 20000].
    pixel_mm : float
        Pixel pitch (mm), in (0, 10].
    mean : float, optional
        Mean glandular fraction of the map, in [0.01, 0.99] (default 0.2).
    sd : float, optional
        Standard deviation of the fraction over the map; default ``0.3 sqrt(m (1 - m))``
        (module notes). Must be in (0, 0.9 sqrt(m (1 - m))].
    beta : float, optional
        Power-law exponent β of the spectrum, in [1, 5] (default 3; real mammograms
        2.8–3.3).
    rng : numpy.random.Generator or int
        Random generator or seed (keyword-only, required).
    dtype : numpy dtype, optional
        float32 (default) or float64.
    xp : module, optional
        Array namespace of the result (``numpy`` default, or ``cupy``). The white noise is
        drawn on the host from ``rng`` and moved to the device, so both backends give the
        same field to float tolerance.

    Returns
    -------
    (rows, cols) array
        Glandular fraction in [0, 1]: mean within 0.5 % of ``mean`` (relative), standard
        deviation close to ``sd``, power spectrum ∝ ``f^-β`` above 0.02 cycles/mm.

    Raises
    ------
    ParameterError
        For a shape, pitch, mean, sd or β out of range.

    Examples
    --------
    >>> phi = glandular_texture((128, 128), 0.1, mean=0.3, beta=3.0, rng=0)
    >>> phi.shape, phi.dtype, bool(phi.min() >= 0 and phi.max() <= 1)
    ((128, 128), dtype('float32'), True)
    >>> round(float(phi.mean()), 2)
    0.3
    """
    xp = np if xp is None else xp
    if not (
        len(shape) == 2 and all(isinstance(n, int | np.integer) and 8 <= n <= 20000 for n in shape)
    ):
        raise ParameterError("shape", shape, "(rows, cols) with 8 to 20000 pixels each")
    if not (math.isfinite(pixel_mm) and 0.0 < pixel_mm <= 10.0):
        raise ParameterError("pixel_mm", pixel_mm, "a pixel pitch in (0, 10] mm")
    if not (math.isfinite(mean) and 0.01 <= mean <= 0.99):
        raise ParameterError("mean", mean, "a mean glandular fraction in [0.01, 0.99]")
    bound = math.sqrt(mean * (1.0 - mean))
    if sd is None:
        sd = 0.3 * bound
    if not (math.isfinite(sd) and 0.0 < sd <= 0.9 * bound):
        raise ParameterError(
            "sd", sd, f"a standard deviation in (0, {0.9 * bound:.3f}] for mean {mean:g}"
        )
    if not (math.isfinite(beta) and 1.0 <= beta <= 5.0):
        raise ParameterError("beta", beta, "a power-law exponent in [1, 5]")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ParameterError("dtype", dtype, "float32 or float64")
    gen = as_generator(rng)
    rows, cols = int(shape[0]), int(shape[1])

    white = xp.asarray(gen.standard_normal((rows, cols), dtype=dtype))
    fft, kw = fft_module(xp)
    spectrum = fft.rfft2(white, **kw)
    f = _frequency_grid((rows, cols), pixel_mm, xp, dtype)
    # Amplitude filter f^(-β/2): power f^-β. Flat below _F_FLAT_PER_MM, zero at DC.
    amplitude = xp.maximum(f, dtype.type(_F_FLAT_PER_MM)) ** dtype.type(-0.5 * beta)
    amplitude[0, 0] = 0
    spectrum *= amplitude
    z = fft.irfft2(spectrum, s=(rows, cols), **kw).astype(dtype, copy=False)
    z -= z.mean()
    z /= z.std()

    a, s = _logit_normal_parameters(mean, sd)
    # The realised field is finite: correct `a` so that the realised mean is the target
    # (Newton steps on a strided subsample of at most ~65k pixels).
    step = max(1, int(math.sqrt(rows * cols / 65536.0)))
    sub = z[::step, ::step].astype(np.float64)
    for _ in range(6):
        phi = 1.0 / (1.0 + xp.exp(-(a + s * sub)))
        gap = float(phi.mean()) - mean
        a -= gap / max(float((phi * (1.0 - phi)).mean()), 1e-12)
        if abs(gap) < 1e-5 * mean:
            break
    out = z
    out *= dtype.type(-s)
    out -= dtype.type(a)
    xp.exp(out, out=out)
    out += 1
    xp.reciprocal(out, out=out)
    return out


def _detrended_windowed(image, xp: ModuleType):
    """Image minus its least-squares plane, times a separable 2-D Hann window."""
    img = xp.asarray(image, dtype=xp.float64)
    rows, cols = img.shape
    r = xp.linspace(-1.0, 1.0, rows)[:, None]
    c = xp.linspace(-1.0, 1.0, cols)[None, :]
    # The plane's terms are orthogonal on the symmetric grid: fit each separately.
    img = img - img.mean()
    img = img - r * (img * r).sum() / (r * r).sum() / cols
    img = img - c * (img * c).sum() / (c * c).sum() / rows
    window = xp.hanning(rows)[:, None] * xp.hanning(cols)[None, :]
    return img * window, window


def _ring_spectrum(image: object, pixel_mm: float, bin_edges_per_mm: object | None):
    """Ring means of the periodogram: (frequency, power, samples per ring)."""
    xp = array_namespace(image)
    if getattr(image, "ndim", None) != 2 or min(image.shape) < 16:
        raise ParameterError(
            "image", f"array of shape {getattr(image, 'shape', None)}", "a 2-D region >= 16x16"
        )
    if not (math.isfinite(pixel_mm) and pixel_mm > 0.0):
        raise ParameterError("pixel_mm", pixel_mm, "a pixel pitch > 0 mm")
    rows, cols = image.shape
    img, window = _detrended_windowed(image, xp)
    power = xp.abs(xp.fft.rfft2(img)) ** 2 * (pixel_mm**2 / float((window**2).sum()))
    f = _frequency_grid((rows, cols), pixel_mm, xp, np.float64)
    if bin_edges_per_mm is None:
        f_lo = 2.0 / (max(rows, cols) * pixel_mm)
        edges = np.geomspace(f_lo, 0.5 / pixel_mm, 41)
    else:
        edges = np.asarray(bin_edges_per_mm, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ParameterError("bin_edges_per_mm", edges, "increasing ring edges (cycles/mm)")
    index = xp.searchsorted(xp.asarray(edges), f.ravel(), side="right") - 1
    inside = (index >= 0) & (index < edges.size - 1)
    index = index[inside]
    n = edges.size - 1
    counts = xp.bincount(index, minlength=n)
    f_sum = xp.bincount(index, weights=f.ravel()[inside], minlength=n)
    p_sum = xp.bincount(index, weights=power.ravel()[inside], minlength=n)
    keep = counts > 0
    return f_sum[keep] / counts[keep], p_sum[keep] / counts[keep], counts[keep]


def radial_power_spectrum(
    image: object, pixel_mm: float, *, bin_edges_per_mm: object | None = None
) -> tuple[object, object]:
    """Radially averaged power spectrum of an image region.

    The region's least-squares plane is removed and a 2-D Hann window applied (to keep
    the edge discontinuity from leaking power to high frequencies, which would flatten
    the slope); the periodogram ``|FFT|² p² / Σ w²`` (mm² · unit²) is averaged over rings
    of the ``rfft2`` half plane.

    Parameters
    ----------
    image : (rows, cols) array
        A region of an image (NumPy or CuPy), at least 16 × 16; typically a square
        region inside the breast.
    pixel_mm : float
        Pixel pitch (mm).
    bin_edges_per_mm : 1-D array, optional
        Ring edges (cycles/mm). Default: 40 logarithmically spaced rings from twice the
        fundamental frequency to the Nyquist frequency.

    Returns
    -------
    frequency_per_mm, power : 1-D arrays
        Mean radial frequency of the samples in each non-empty ring (cycles/mm) and the
        mean power there; the namespace of ``image``.

    Raises
    ------
    ParameterError
        For an image that is not 2-D or smaller than 16 × 16, a bad pitch or bad edges.

    Examples
    --------
    >>> f, p = radial_power_spectrum(np.random.default_rng(0).normal(size=(64, 64)), 0.1)
    >>> bool(f[0] < f[-1] <= 5.0 * 2 ** 0.5)
    True
    """
    f, p, _ = _ring_spectrum(image, pixel_mm, bin_edges_per_mm)
    return f, p


def power_law_exponent(
    image: object,
    pixel_mm: float,
    *,
    band_per_mm: tuple[float, float] = FIT_BAND_PER_MM,
    n_rings: int = 16,
) -> float:
    """Measure β of ``P(f) ∝ 1/f^β`` on an image region.

    A straight line is fitted to ``log P`` against ``log f`` over ``n_rings``
    logarithmically spaced rings in ``band_per_mm`` (:func:`radial_power_spectrum`: plane
    removed, Hann window), by least squares weighted by the number of Fourier samples in
    each ring (each sample's periodogram value scatters about the same relative amount, so
    a ring of many samples is a better estimate); β is minus the slope. Weighting halves the
    seed-to-seed scatter of β against an unweighted fit (0.04 against 0.08 on
    1024 × 1024 regions at 85 µm).

    Parameters
    ----------
    image : (rows, cols) array
        Region of an image or of a texture map (NumPy or CuPy). For a mammogram use a
        square region inside the breast, away from the skin line.
    pixel_mm : float
        Pixel pitch (mm).
    band_per_mm : (float, float), optional
        Fit band (cycles/mm), default :data:`FIT_BAND_PER_MM` (0.1 to 1). Its lower end
        must be at least twice the region's fundamental frequency ``1 / (N p)``, its upper
        end at most the Nyquist frequency.
    n_rings : int, optional
        Rings in the band (default 16), at least 4.

    Returns
    -------
    float
        β (dimensionless).

    Raises
    ------
    ParameterError
        For a band outside what the region can resolve, too few rings, or a region with
        no structure in the band.

    Examples
    --------
    >>> phi = glandular_texture((512, 512), 0.1, beta=3.0, rng=3)
    >>> round(power_law_exponent(phi, 0.1), 1)
    3.1
    """
    lo, hi = (float(b) for b in band_per_mm)
    shape = getattr(image, "shape", ())
    if len(shape) != 2:
        raise ParameterError("image", f"array of shape {shape}", "a 2-D region")
    rows, cols = shape
    if not (math.isfinite(pixel_mm) and pixel_mm > 0.0):
        raise ParameterError("pixel_mm", pixel_mm, "a pixel pitch > 0 mm")
    fundamental = 1.0 / (max(min(rows, cols), 1) * pixel_mm)
    if not (2.0 * fundamental <= lo < hi <= 0.5 / pixel_mm):
        raise ParameterError(
            "band_per_mm",
            band_per_mm,
            f"a band within [{2.0 * fundamental:.3g}, {0.5 / pixel_mm:.3g}] cycles/mm for a "
            f"{rows}x{cols} region at {pixel_mm} mm",
        )
    if n_rings < 4:
        raise ParameterError("n_rings", n_rings, "at least 4 rings")
    f, p, counts = _ring_spectrum(image, pixel_mm, np.geomspace(lo, hi, n_rings + 1))
    xp = array_namespace(f)
    good = p > 0
    if int(good.sum()) < 4:
        raise ParameterError("image", "a flat region", "a region with structure in the band")
    w = counts[good].astype(xp.float64)
    x = xp.log(f[good])
    y = xp.log(p[good])
    x = x - (w * x).sum() / w.sum()
    y = y - (w * y).sum() / w.sum()
    return -float((w * x * y).sum() / (w * x * x).sum())
