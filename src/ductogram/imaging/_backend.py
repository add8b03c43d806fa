"""Array backends for image formation: NumPy always, CuPy when the arrays live on a GPU.

Physics code takes its namespace from its inputs (:func:`array_namespace`) and then uses
only calls that NumPy and CuPy share. Nothing here converts a CuPy array to NumPy: host
tables (spectra, μ) go *to* the device with ``xp.asarray``, never back silently.

Fourier transforms go through :func:`fft_module`: SciPy's ``scipy.fft`` on the CPU (it is
multi-threaded with ``workers`` and keeps float32 as complex64), ``cupyx.scipy.fft`` on the
GPU. Random numbers come from :func:`standard_normal`, which draws on the host for NumPy
and on the device (a CuPy generator seeded from the host generator) for CuPy, so a seed
gives the same output bit for bit on the same backend.
"""

from __future__ import annotations

import os
from types import ModuleType

import numpy as np

__all__ = [
    "DEVICES",
    "array_namespace",
    "device_namespace",
    "fft_module",
    "float_dtype",
    "ndimage_module",
    "scatter_add",
    "standard_normal",
    "to_host",
]

#: The devices a view can be simulated on.
DEVICES = ("cpu", "cuda")

#: Threads for SciPy's CPU FFTs (``workers``): all cores the process may use.
_FFT_WORKERS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _is_cupy(x: object) -> bool:
    return type(x).__module__.split(".", 1)[0] == "cupy"


def array_namespace(*arrays: object) -> ModuleType:
    """The array module of the inputs: ``cupy`` if any is a CuPy array, else ``numpy``.

    Examples
    --------
    >>> array_namespace(np.zeros(3)).__name__
    'numpy'
    """
    for a in arrays:
        if _is_cupy(a):
            import cupy

            return cupy
    return np


def device_namespace(device: str) -> ModuleType:
    """The array module for a device name: ``numpy`` for "cpu", ``cupy`` for "cuda".

    Raises
    ------
    ParameterError
        For an unknown device, or "cuda" where CuPy or a CUDA device is missing.

    Examples
    --------
    >>> device_namespace("cpu").__name__
    'numpy'
    """
    from ..core.errors import ParameterError

    if device == "cpu":
        return np
    if device != "cuda":
        raise ParameterError("device", device, f"one of {DEVICES}")
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ParameterError(
            "device", device, "CuPy installed (pip install 'ductogram[gpu]') for a CUDA GPU"
        ) from exc
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise ParameterError("device", device, "a working CUDA GPU") from exc
    return cupy


def to_host(x):
    """A NumPy array of ``x`` (copied from the GPU when it is a CuPy array).

    Examples
    --------
    >>> to_host(np.arange(3)).tolist()
    [0, 1, 2]
    """
    if _is_cupy(x):
        return x.get()
    return np.asarray(x)


def scatter_add(target, index, values) -> None:
    """``target[index] += values`` with repeated indices summed, in place (1-D ``target``).

    NumPy: one ``bincount`` over the whole target (fast on the CPU). CuPy: atomic adds
    (``cupy.add.at``), which touch only the indexed elements.

    Examples
    --------
    >>> t = np.zeros(4); scatter_add(t, np.array([1, 1, 3]), np.array([1.0, 2.0, 5.0]))
    >>> t.tolist()
    [0.0, 3.0, 0.0, 5.0]
    """
    if _is_cupy(target):
        import cupy

        cupy.add.at(target, index, values)
    else:
        target += np.bincount(index, weights=values, minlength=target.size)


def ndimage_module(xp: ModuleType):
    """``scipy.ndimage`` on the CPU, ``cupyx.scipy.ndimage`` on the GPU (same functions)."""
    if xp is np:
        import scipy.ndimage

        return scipy.ndimage
    import cupyx.scipy.ndimage

    return cupyx.scipy.ndimage


def fft_module(xp: ModuleType):
    """FFT functions for a namespace: ``(module, kwargs)`` for ``rfft2``/``irfft2``.

    Examples
    --------
    >>> fft, kw = fft_module(np)
    >>> fft.irfft2(fft.rfft2(np.ones((4, 4)), **kw), s=(4, 4), **kw).round(6).tolist()[0]
    [1.0, 1.0, 1.0, 1.0]
    """
    if xp is np:
        import scipy.fft

        return scipy.fft, {"workers": _FFT_WORKERS}
    import cupyx.scipy.fft

    return cupyx.scipy.fft, {}


def float_dtype(*arrays: object):
    """The dtype rule of ductogram: float32 when every float input is float32, else float64.

    Examples
    --------
    >>> float_dtype(np.zeros(2, np.float32)), float_dtype(np.zeros(2), np.zeros(1, np.float32))
    (dtype('float32'), dtype('float64'))
    """
    dtypes = [getattr(a, "dtype", None) for a in arrays]
    floats = [d for d in dtypes if d is not None and np.dtype(d).kind == "f"]
    if floats and all(np.dtype(d) == np.float32 for d in floats):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def standard_normal(
    rng: np.random.Generator, shape: tuple[int, ...], dtype, xp: ModuleType = np
) -> object:
    """Standard normal draws of ``shape`` and ``dtype`` on the backend ``xp``.

    NumPy: drawn from ``rng`` directly. CuPy: a device generator seeded with one integer
    drawn from ``rng``, so the host generator advances the same way on both backends.
    """
    if xp is np:
        return rng.standard_normal(shape, dtype=dtype)
    seed = int(rng.integers(0, 2**63 - 1))
    return xp.random.default_rng(seed).standard_normal(shape, dtype=dtype)
