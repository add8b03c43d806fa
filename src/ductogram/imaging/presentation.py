"""Display processing: from a "for processing" image to a "for presentation" image.

A unit sends two images (DICOM Presentation Intent Type): FOR PROCESSING, linear in the
detector signal (:func:`~ductogram.imaging.formation.form_image`), and FOR PRESENTATION,
processed for reading. Vendors' processing is proprietary; this one is simple and
documented, a choice of display and not physics:

1. **Log**: ``L = -ln(I / I_ref)``, so that attenuation adds; contrast and dense tissue
   become bright (MONOCHROME2). ``I_ref`` is the median signal of the region.
2. **Window**: ``L`` is mapped linearly to [0, 1] between its 0.5th and 99.5th percentiles
   inside the breast mask (the whole image without one). What lies above the window (the
   contrast-filled ducts are the densest things in a ductogram) is not clipped: above the
   knee ``1 - s`` (``s``, the shoulder, 0.1 by default) values are compressed
   logarithmically, ``knee + s ln(1 + (u - knee) / s)`` (slope 1 at the knee), and the image
   is scaled so that its brightest pixel in the breast is 1 (an image with nothing above
   its window is left as it is). A lucency inside a wide
   column of contrast (a filling defect) keeps its contrast on the display instead of
   vanishing in a clipped white.
3. **Unsharp mask**: ``u + a (u - G_σ * u)`` with a Gaussian of σ = 4 mm and ``a`` = 0.6,
   which flattens the slow fall-off of thickness towards the skin line and lifts the
   contrast of structures a few mm across (ducts, lesions); edges are mirrored.
4. **Contrast curve**: a sigmoid ``1 / (1 + exp(-k (u - 1/2)))`` with k = 5, rescaled so that
   0 and 1 stay 0 and 1, then clipped to [0, 1].

Outside the breast mask (when given) the result is 0 (black), as collimated or direct
exposure areas are shown. Output: float32 in [0, 1]; :func:`to_uint16` scales it to a
``bits``-bit integer image (12 bits by default, as mammography DICOM stores).
"""

from __future__ import annotations

import math

import numpy as np  # noqa: F401 (the examples use it)

from ..core import ParameterError
from ._backend import array_namespace, fft_module

__all__ = ["for_presentation", "to_uint16"]


def _gaussian_blur(image, sigma_px: float, xp):
    pad = math.ceil(3.0 * sigma_px)
    padded = xp.pad(image, pad, mode="reflect") if pad < min(image.shape) else image
    fft, kw = fft_module(xp)
    shape = padded.shape
    fy = xp.fft.fftfreq(shape[0]).astype(image.dtype)
    fx = xp.fft.rfftfreq(shape[1]).astype(image.dtype)
    transfer = xp.exp(-2.0 * math.pi**2 * sigma_px**2 * (fy[:, None] ** 2 + fx[None, :] ** 2))
    out = fft.irfft2(fft.rfft2(padded, **kw) * transfer, s=shape, **kw)
    if padded is not image:
        out = out[pad : pad + image.shape[0], pad : pad + image.shape[1]]
    return out.astype(image.dtype, copy=False)


def _compress_above_window(u, shoulder: float, inside, xp) -> None:
    """In place, when some value (in ``inside`` when given) lies above the window's top
    1: values above the knee ``1 - shoulder`` compressed logarithmically, and the image
    scaled so that its brightest value is 1."""
    values = u[inside] if inside is not None else u
    top = float(xp.max(values)) if values.size else 0.0
    if not top > 1.0:
        return
    knee = 1.0 - shoulder
    above = u > xp.float32(knee)
    excess = (u[above] - xp.float32(knee)) * xp.float32(1.0 / shoulder)
    u[above] = xp.float32(knee) + xp.float32(shoulder) * xp.log1p(excess)
    # The compression is increasing, so the brightest value stays the brightest.
    u *= xp.float32(1.0 / (knee + shoulder * math.log1p((top - knee) / shoulder)))


def for_presentation(
    for_processing: object,
    pixel_mm: float,
    *,
    mask: object | None = None,
    window_percentiles: tuple[float, float] = (0.5, 99.5),
    unsharp_sigma_mm: float = 4.0,
    unsharp_amount: float = 0.6,
    contrast: float = 5.0,
    shoulder: float = 0.1,
) -> object:
    """Log, window, unsharp mask and contrast curve (module notes).

    Parameters
    ----------
    for_processing : (rows, cols) array
        Linear image (DU), NumPy or CuPy; values <= 0 (noise at very low signal) are
        taken as 1/1000 of the region's median.
    pixel_mm : float
        Pixel pitch (mm).
    mask : (rows, cols) bool array, optional
        Breast mask: windowing statistics from inside, 0 outside.
    window_percentiles : (float, float), optional
        Percentiles of the log image mapped to 0 and 1.
    unsharp_sigma_mm : float, optional
        Gaussian σ of the unsharp mask (mm), > 0.
    unsharp_amount : float, optional
        Weight of the unsharp mask, >= 0 (0 turns it off).
    contrast : float, optional
        Steepness k of the sigmoid, > 0.
    shoulder : float, optional
        Width ``s`` of the logarithmic shoulder that compresses what lies above the
        window, in [0, 1); 0 clips it at the window's top.

    Returns
    -------
    (rows, cols) float32 array
        In [0, 1], bright where attenuation is high.

    Raises
    ------
    ParameterError
        For a bad image, mask, pitch or setting.

    Examples
    --------
    >>> img = np.full((64, 64), 1000.0); img[20:40, 30:34] = 500.0  # a "duct" absorbs
    >>> out = for_presentation(img, 0.1)
    >>> out.dtype, bool(out[30, 31] > out[10, 10]), float(out.min()) >= 0.0
    (dtype('float32'), True, True)
    """
    xp = array_namespace(for_processing, mask)
    if getattr(for_processing, "ndim", None) != 2:
        raise ParameterError(
            "for_processing", getattr(for_processing, "shape", None), "a 2-D image"
        )
    if not (math.isfinite(pixel_mm) and pixel_mm > 0):
        raise ParameterError("pixel_mm", pixel_mm, "a pixel pitch > 0 mm")
    lo_p, hi_p = window_percentiles
    if not (0.0 <= lo_p < hi_p <= 100.0):
        raise ParameterError("window_percentiles", window_percentiles, "0 <= low < high <= 100")
    if not (math.isfinite(unsharp_sigma_mm) and unsharp_sigma_mm > 0):
        raise ParameterError("unsharp_sigma_mm", unsharp_sigma_mm, "a σ > 0 mm")
    if not (math.isfinite(unsharp_amount) and unsharp_amount >= 0):
        raise ParameterError("unsharp_amount", unsharp_amount, "a weight >= 0")
    if not (math.isfinite(contrast) and contrast > 0):
        raise ParameterError("contrast", contrast, "a sigmoid steepness > 0")
    if not (math.isfinite(shoulder) and 0.0 <= shoulder < 1.0):
        raise ParameterError("shoulder", shoulder, "a shoulder width in [0, 1)")
    image = xp.asarray(for_processing, dtype=xp.float32)
    if mask is not None:
        if getattr(mask, "shape", None) != image.shape:
            raise ParameterError(
                "mask", getattr(mask, "shape", None), f"a mask of the image's shape {image.shape}"
            )
        inside = xp.asarray(mask, dtype=bool)
        if not bool(inside.any()):
            raise ParameterError("mask", "no pixels", "a mask with pixels in it")
        values = image[inside]
    else:
        inside = None
        values = image.ravel()
    reference = float(xp.median(values))
    if not reference > 0:
        raise ParameterError("for_processing", "no positive signal", "a linear image in DU")
    log_image = xp.maximum(image, xp.float32(1e-3 * reference))
    log_image /= xp.float32(reference)
    xp.log(log_image, out=log_image)
    xp.negative(log_image, out=log_image)
    stats = log_image[inside] if inside is not None else log_image.ravel()
    lo, hi = (float(v) for v in xp.percentile(stats, xp.asarray([lo_p, hi_p])))
    u = (log_image - xp.float32(lo)) * xp.float32(1.0 / max(hi - lo, 1e-12))
    del log_image
    if unsharp_amount > 0:
        low = _gaussian_blur(u, unsharp_sigma_mm / pixel_mm, xp)
        u += xp.float32(unsharp_amount) * (u - low)
        del low
    if shoulder > 0:
        _compress_above_window(u, shoulder, inside, xp)
    k = float(contrast)
    s_lo = 1.0 / (1.0 + math.exp(0.5 * k))
    s_hi = 1.0 / (1.0 + math.exp(-0.5 * k))
    u -= xp.float32(0.5)
    u *= xp.float32(-k)
    xp.exp(u, out=u)
    u += xp.float32(1.0)
    xp.reciprocal(u, out=u)
    u -= xp.float32(s_lo)
    u *= xp.float32(1.0 / (s_hi - s_lo))
    xp.clip(u, 0.0, 1.0, out=u)
    if inside is not None:
        u[~inside] = 0.0
    return u


def to_uint16(presentation: object, bits: int = 12) -> object:
    """Scale a [0, 1] presentation image to unsigned integers of ``bits`` bits.

    Examples
    --------
    >>> to_uint16(np.array([0.0, 0.5, 1.0]), bits=12).tolist()
    [0, 2048, 4095]
    """
    if not (isinstance(bits, int) and 1 <= bits <= 16):
        raise ParameterError("bits", bits, "a bit depth in [1, 16]")
    xp = array_namespace(presentation)
    top = (1 << bits) - 1
    scaled = xp.clip(xp.asarray(presentation, dtype=xp.float64), 0.0, 1.0) * top
    return xp.floor(scaled + 0.5).astype(xp.uint16)
