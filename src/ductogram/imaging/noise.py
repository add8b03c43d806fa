"""Detector noise: quantum noise of the absorbed x-rays and additive electronic noise.

Quantum noise. For an energy-integrating detector the signal of a pixel is
``Q = g Σ_i E_i`` over the absorbed photons ``i`` (g electrons per keV). The number of
absorbed photons of each energy bin is Poisson with mean ``n_E``, so ``Q`` is compound
Poisson with

    E[Q] = g Σ_E n_E E,        Var[Q] = g² Σ_E n_E E² / I,

where ``I`` is the detector's Swank factor (the spread of the gain per absorbed photon of
a given energy; I = 1 for a fixed gain). The variance/mean ratio is then
``g ⟨E²⟩ / (⟨E⟩ I)``: constant at a fixed beam quality, whatever the exposure. This
module draws ``Q`` from a **Gaussian with that exact mean and variance** (the usual
approximation: with hundreds to thousands of photons per pixel the Poisson skewness
``1/√N`` is a few % at most), which costs one normal draw per pixel instead of one Poisson
draw per pixel and energy bin; the noise of each pixel is independent (white) before the
detector's blur (:func:`ductogram.imaging.formation.form_image` applies the blur after
this noise, so the noise power spectrum follows MTF²).

Electronic noise: additive, Gaussian, white, with the detector's rms in electrons.
"""

from __future__ import annotations

import math

import numpy as np  # noqa: F401 (the examples use it)

from ..core import ParameterError, as_generator
from ..core.seeding import RNGLike
from ._backend import array_namespace, standard_normal

__all__ = ["add_electronic_noise", "add_quantum_noise", "quantum_variance_e2"]


def quantum_variance_e2(
    energy_squared_sum_kev2: object, *, electrons_per_kev: float, swank_factor: float = 1.0
) -> object:
    """Compound-Poisson variance (electrons²) of the energy-integrated signal.

    Parameters
    ----------
    energy_squared_sum_kev2 : float or array
        ``Σ_E n_E E²``: mean absorbed photons per energy bin times the bin energy squared,
        summed over bins (keV²), per pixel.
    electrons_per_kev : float
        Conversion gain g (electrons per keV), > 0.
    swank_factor : float, optional
        Swank factor I in (0, 1]; default 1.

    Returns
    -------
    float or array
        ``g² Σ n_E E² / I`` (electrons²).

    Examples
    --------
    >>> quantum_variance_e2(100 * 20.0**2, electrons_per_kev=20.0)  # 100 photons of 20 keV
    16000000.0
    """
    if not (math.isfinite(electrons_per_kev) and electrons_per_kev > 0):
        raise ParameterError("electrons_per_kev", electrons_per_kev, "a gain > 0 electrons/keV")
    if not (math.isfinite(swank_factor) and 0.0 < swank_factor <= 1.0):
        raise ParameterError("swank_factor", swank_factor, "a Swank factor in (0, 1]")
    return energy_squared_sum_kev2 * (electrons_per_kev**2 / swank_factor)


def add_quantum_noise(mean: object, variance: object, *, rng: RNGLike) -> object:
    """Mean signal plus Gaussian noise of the given variance, pixel by pixel.

    Parameters
    ----------
    mean : array
        Mean signal (electrons), NumPy or CuPy, float32 or float64.
    variance : array or float
        Its variance (electrons²), >= 0, broadcastable to ``mean``.
    rng : numpy.random.Generator or int
        Random generator or seed.

    Returns
    -------
    array
        ``mean + sqrt(variance) · z``, z standard normal, the dtype and namespace of
        ``mean`` (a new array; ``mean`` is not modified).

    Examples
    --------
    >>> q = add_quantum_noise(np.full((200, 200), 1000.0), 1000.0, rng=0)
    >>> round(float(q.var() / q.mean()), 1)
    1.0
    """
    xp = array_namespace(mean)
    gen = as_generator(rng)
    z = standard_normal(gen, mean.shape, mean.dtype, xp)
    z *= xp.sqrt(xp.maximum(xp.asarray(variance, dtype=mean.dtype), 0))
    z += mean
    return z


def add_electronic_noise(signal: object, sigma: float, *, rng: RNGLike) -> object:
    """Add white Gaussian noise of rms ``sigma`` (in the signal's unit).

    Parameters
    ----------
    signal : array
        Signal, NumPy or CuPy; modified in place and returned.
    sigma : float
        Noise rms, >= 0 (0 adds nothing and draws nothing).
    rng : numpy.random.Generator or int
        Random generator or seed.

    Examples
    --------
    >>> s = add_electronic_noise(np.zeros((300, 300)), 5.0, rng=1)
    >>> round(float(s.std()), 1)
    5.0
    """
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ParameterError("sigma", sigma, "a noise rms >= 0")
    if sigma == 0:
        return signal
    xp = array_namespace(signal)
    z = standard_normal(as_generator(rng), signal.shape, signal.dtype, xp)
    z *= signal.dtype.type(sigma)
    signal += z
    return signal
