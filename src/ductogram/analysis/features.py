"""Multiscale pixel features of a contrast-filled lumen: the inputs of the duct segmentation.

The image is first put on a common intensity scale (:func:`normalise_background`): the slow
background (tissue thickness, glandular density, heel effect) is removed by a masked
Gaussian of large width, and the rest is divided by a robust estimate of its spread, so that
one model reads images of any exposure, detector and processing. Then, at a few Gaussian
scales matched to the lumen radii, :func:`pixel_features` gives the smoothed intensity, the
two Hessian eigenvalues (ridge and blob measures) and the gradient magnitude, all
scale-normalised (Lindeberg 1998).

Everything works in pixels of the array it is given; callers convert radii in millimetres
to pixels. Images are (row, col) float32 arrays, with the lumen BRIGHT.

References
----------
T. Lindeberg, "Edge detection and ridge detection with automatic scale selection",
Int. J. Comput. Vis. 30(2):117-156, 1998. doi:10.1023/A:1008097225773
A. F. Frangi, W. J. Niessen, K. L. Vincken, M. A. Viergever, "Multiscale vessel enhancement
filtering", MICCAI 1998, LNCS 1496:130-137. doi:10.1007/BFb0056195
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

__all__ = [
    "FEATURES_PER_SCALE",
    "hessian_eigenvalues",
    "normalise_background",
    "pixel_features",
]

FEATURES_PER_SCALE = 5
"""Per scale: smoothed intensity, Hessian eigenvalues λ1 ≤ λ2, gradient magnitude, and the
ridge measure max(0, -λ1) - max(0, λ2) (bright line, not an edge)."""

_MAD_TO_STD = 1.4826  # std of a normal distribution / its median absolute deviation


def _masked_gaussian(image: np.ndarray, weight: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian mean of ``image`` over the pixels where ``weight`` is 1 (normalised convolution)."""
    num = ndi.gaussian_filter(image * weight, sigma_px, mode="nearest", truncate=3.0)
    den = ndi.gaussian_filter(weight, sigma_px, mode="nearest", truncate=3.0)
    return num / np.maximum(den, 1e-3)


def normalise_background(
    image: np.ndarray, background_px: float, region: np.ndarray | None = None
) -> np.ndarray:
    """Remove the slow background and scale to unit robust spread.

    Parameters
    ----------
    image : (rows, cols) float32 ndarray
        Lumen bright.
    background_px : float
        Gaussian width (pixels) of the background; a few times the widest lumen.
    region : (rows, cols) bool ndarray or None
        Where the image is tissue (the breast); outside it the result is 0, and the
        background inside is estimated from the region alone (no halo at the skin line).

    Returns
    -------
    (rows, cols) float32 ndarray
        (image - background) / (1.4826 * median absolute deviation inside the region).
    """
    image = np.asarray(image, dtype=np.float32)
    weight = np.ones_like(image) if region is None else region.astype(np.float32)
    background = _masked_gaussian(image, weight, background_px)
    detail = (image - background) * weight
    inside = detail[weight > 0] if region is not None else detail.ravel()
    if inside.size > 200_000:  # a regular subsample is enough for a median
        inside = inside[:: inside.size // 200_000]
    if inside.size == 0:
        return np.zeros_like(image)
    med = float(np.median(inside))
    spread = _MAD_TO_STD * float(np.median(np.abs(inside - med)))
    if not np.isfinite(spread) or spread <= 0:
        spread = float(np.std(inside))
    if spread <= 0:
        return np.zeros_like(image)
    return ((detail - med * weight) / spread).astype(np.float32)


def hessian_eigenvalues(smoothed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues λ1 ≤ λ2 of the Hessian of an already smoothed image (central differences).

    Parameters
    ----------
    smoothed : (rows, cols) float ndarray

    Returns
    -------
    (l1, l2) : two (rows, cols) ndarrays
        λ1 is strongly negative across a bright line or inside a bright blob, λ2 near 0 along
        a line and negative in a blob.

    Examples
    --------
    >>> r, c = np.indices((21, 21))
    >>> blob = np.exp(-((r - 10) ** 2 + (c - 10) ** 2) / 8.0)
    >>> l1, l2 = hessian_eigenvalues(blob)
    >>> bool(l1[10, 10] < 0 and l2[10, 10] < 0)
    True
    """
    gr, gc = np.gradient(smoothed)
    hrr, hrc = np.gradient(gr)
    hcc = np.gradient(gc, axis=1)
    half_trace = 0.5 * (hrr + hcc)
    root = np.sqrt(0.25 * (hrr - hcc) ** 2 + hrc**2)
    return half_trace - root, half_trace + root


def pixel_features(normalised: np.ndarray, sigmas_px: tuple[float, ...]) -> np.ndarray:
    """Multiscale features of a background-normalised image, lumen bright.

    Parameters
    ----------
    normalised : (rows, cols) float32 ndarray
        From :func:`normalise_background`.
    sigmas_px : tuple of float
        Gaussian scales (pixels), smallest first; about the lumen radii to find.

    Returns
    -------
    (rows, cols, 5 * len(sigmas_px)) float32 ndarray
        Per scale σ (see :data:`FEATURES_PER_SCALE`): G_σ*I, σ²λ1, σ²λ2, σ|∇G_σ*I| and the
        ridge measure σ²(max(0, -λ1) - max(0, λ2)).
    """
    img = np.asarray(normalised, dtype=np.float32)
    out = np.empty((*img.shape, FEATURES_PER_SCALE * len(sigmas_px)), dtype=np.float32)
    previous, previous_sigma = img, 0.0
    for k, sigma in enumerate(sigmas_px):
        # cascade: G_s = G_sqrt(s^2 - s_prev^2) * G_s_prev
        step = float(np.sqrt(max(sigma**2 - previous_sigma**2, 1e-6)))
        smoothed = ndi.gaussian_filter(previous, step, mode="nearest", truncate=3.0)
        l1, l2 = hessian_eigenvalues(smoothed)
        gr, gc = np.gradient(smoothed)
        s2 = np.float32(sigma**2)
        j = FEATURES_PER_SCALE * k
        out[..., j] = smoothed
        out[..., j + 1] = s2 * l1
        out[..., j + 2] = s2 * l2
        out[..., j + 3] = np.float32(sigma) * np.hypot(gr, gc)
        out[..., j + 4] = s2 * (np.maximum(-l1, 0) - np.maximum(l2, 0))
        previous, previous_sigma = smoothed, sigma
    return out
