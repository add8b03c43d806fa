"""Segmentation of the contrast-filled ducts of a ductogram (galactogram).

:func:`segment_ducts` finds the lumen that holds contrast, from a small proximal fill to a
fill out to the lobular blush:

1. the image is averaged down to an internal grid of about :data:`INTERNAL_MM` (the
   narrowest filled ducts, 0.2-0.3 mm across, stay a pixel or more wide);
2. the slow background is removed and the rest scaled to unit robust spread inside the
   region (:func:`ductogram.analysis.features.normalise_background`), so that the same
   thresholds hold for any exposure or processing;
3. multiscale Hessian features at Gaussian scales matched to duct radii of
   0.1-1.5 mm (:data:`SCALES_MM`) give each pixel a probability of being lumen;
4. the probability is interpolated back to the image grid and thresholded with hysteresis;
   small specks go, and when the cannulated orifice (``root_rc``) is known, only what
   connects to it, across gaps of up to :data:`ROOT_GAP_MM`, is kept: a ductogram is one
   tree from the orifice.

Image frame: ``pixels[row, col]``; ``root_rc`` is (row, col) in pixels of that array.

References
----------
A. F. Frangi, W. J. Niessen, K. L. Vincken, M. A. Viergever, "Multiscale vessel enhancement
filtering", MICCAI 1998, LNCS 1496:130-137. doi:10.1007/BFb0056195
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from ductogram.core.errors import ParameterError

from .features import normalise_background, pixel_features

__all__ = ["NO_DUCT_MESSAGE", "Segmentation", "segment_ducts"]

NO_DUCT_MESSAGE = "no contrast-filled duct found"

INTERNAL_MM = 0.15
"""Target pitch of the internal grid (mm): the image is block-averaged by the integer factor
nearest to INTERNAL_MM / pixel_mm. Filled ducts are 0.2-3 mm wide (clinical.md §1.2), so the
narrowest still spans 1-2 internal pixels [estimate]."""

SCALES_MM = (0.15, 0.3, 0.6, 1.2)
"""Gaussian scales (mm) of the Hessian features: about the radii of filled ducts, from
terminal ducts (0.1-0.15 mm radius) to an ectatic main duct (1.5 mm) [estimate]."""

MIN_SCALE_PX = 0.7
"""Smallest Gaussian scale (internal pixels); finer ones only see noise."""

BACKGROUND_MM = 3.0
"""Gaussian width (mm) of the background removed before the features: twice the widest
duct radius, so a main duct is not taken for background [estimate]."""

ROOT_GAP_MM = 1.0
"""Largest gap (mm) bridged when keeping what connects to the root: a duct narrowed by a
lesion, or a bubble, interrupts the contrast column over about this length [estimate]."""

ROOT_SEARCH_MM = 5.0
"""A root farther than this (mm) from every segmented duct finds no tree: the orifice or
cannula tip given by the landmarks may lie a few millimetres from the first filled pixel
(the nipple's own lumen holds little contrast in projection) [estimate]."""

MIN_COMPONENT_MM2 = 1.0
"""Pieces smaller than this (mm²) are dropped when no root is given [estimate]."""

RIDGE_THRESHOLD = 7.0
"""Normalised ridge measure (robust standard deviations of its values in the region) at
which the probability is 1/2; measured on simulated views at 0.2 mm (Dice best at 6-8)."""

LOW_PROBABILITY = 0.3
"""Hysteresis: pixels above this probability join a duct that reaches 0.5 somewhere."""


@dataclass(frozen=True, eq=False)
class Segmentation:
    """The contrast-filled ducts found in one image.

    Parameters
    ----------
    mask : (rows, cols) bool ndarray
        Lumen holding contrast, on the image's grid.
    probability : (rows, cols) float32 ndarray
        Per-pixel probability of lumen, in [0, 1].
    root_rc : (int, int) or None
        The mask pixel the tree was grown from (row, col), when a root was given and found.
    threshold : float
        The probability above which a pixel seeds the mask.
    message : str or None
        Why the mask is empty (``"no contrast-filled duct found"``), else None.
    """

    mask: np.ndarray
    probability: np.ndarray
    root_rc: tuple[int, int] | None
    threshold: float
    message: str | None


def _check(pixels, pixel_mm, region, root_rc) -> tuple[np.ndarray, float, np.ndarray | None]:
    if not isinstance(pixels, np.ndarray):
        raise ParameterError("pixels", type(pixels).__name__, "a numpy array")
    if pixels.ndim != 2 or min(pixels.shape) < 8:
        raise ParameterError("pixels", pixels.shape, "a 2-D array of at least 8 x 8 pixels")
    if not (np.issubdtype(pixels.dtype, np.number) or pixels.dtype == bool):
        raise ParameterError("pixels", str(pixels.dtype), "a numeric array")
    if np.iscomplexobj(pixels):
        raise ParameterError("pixels", str(pixels.dtype), "a real-valued array")
    try:
        pixel_mm = float(pixel_mm)
    except (TypeError, ValueError) as exc:
        raise ParameterError("pixel_mm", pixel_mm, "a pitch in [0.01, 2] mm") from exc
    if not 0.01 <= pixel_mm <= 2.0:
        raise ParameterError("pixel_mm", pixel_mm, "a pitch in [0.01, 2] mm")
    if region is not None:
        region = np.asarray(region)
        if region.shape != pixels.shape:
            raise ParameterError(
                "region", region.shape, f"a mask of the image's shape {pixels.shape}"
            )
        region = region.astype(bool)
    if root_rc is not None:
        try:
            r, c = (float(v) for v in root_rc)
        except (TypeError, ValueError) as exc:
            raise ParameterError("root_rc", root_rc, "(row, col) in pixels") from exc
        if not (-0.5 <= r <= pixels.shape[0] - 0.5 and -0.5 <= c <= pixels.shape[1] - 0.5):
            raise ParameterError(
                "root_rc", root_rc, f"(row, col) inside the image of shape {pixels.shape}"
            )
    image = pixels.astype(np.float32)
    if not np.isfinite(image).all():
        raise ParameterError("pixels", "non-finite values", "finite pixel values")
    return image, pixel_mm, region


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor x factor blocks; the last partial blocks repeat the edge."""
    if factor == 1:
        return image
    rows = -(-image.shape[0] // factor) * factor
    cols = -(-image.shape[1] // factor) * factor
    padded = np.pad(image, ((0, rows - image.shape[0]), (0, cols - image.shape[1])), mode="edge")
    return padded.reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))


def _upsample(coarse: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of block centres back to the fine grid."""
    if factor == 1:
        return coarse[: shape[0], : shape[1]]
    r = (np.arange(shape[0], dtype=np.float32) + 0.5) / factor - 0.5
    c = (np.arange(shape[1], dtype=np.float32) + 0.5) / factor - 0.5
    r = np.clip(r, 0, coarse.shape[0] - 1)
    c = np.clip(c, 0, coarse.shape[1] - 1)
    r0 = (
        np.minimum(r.astype(np.intp), coarse.shape[0] - 2)
        if coarse.shape[0] > 1
        else r.astype(np.intp) * 0
    )
    c0 = (
        np.minimum(c.astype(np.intp), coarse.shape[1] - 2)
        if coarse.shape[1] > 1
        else c.astype(np.intp) * 0
    )
    fr = (r - r0)[:, None]
    fc = (c - c0)[None, :]
    r1 = np.minimum(r0 + 1, coarse.shape[0] - 1)
    c1 = np.minimum(c0 + 1, coarse.shape[1] - 1)
    top = coarse[r0][:, c0] * (1 - fc) + coarse[r0][:, c1] * fc
    bottom = coarse[r1][:, c0] * (1 - fc) + coarse[r1][:, c1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32)


def _probability(normalised: np.ndarray, sigmas_px: tuple[float, ...], region) -> np.ndarray:
    """Lumen probability from the multiscale ridge measure (plain filter)."""
    feats = pixel_features(normalised, sigmas_px)
    ridge = feats[..., 4::5]
    inside = (
        ridge[region] if region is not None and region.any() else ridge.reshape(-1, ridge.shape[-1])
    )
    if inside.shape[0] > 200_000:
        inside = inside[:: inside.shape[0] // 200_000]
    scale = np.median(np.abs(inside), axis=0)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    r = (ridge / scale).max(axis=-1)
    z = np.clip((r - RIDGE_THRESHOLD) / (0.25 * RIDGE_THRESHOLD), -30, 30)
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def _keep_rooted(
    mask: np.ndarray, root_rc, gap_px: float, search_px: float
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """The part of ``mask`` connected to the root across gaps of up to ``gap_px``."""
    radius = max(round(gap_px / 2), 1)
    bridged = ndi.binary_dilation(mask, structure=_disk(radius))
    labels, n = ndi.label(bridged)
    if n == 0:
        return np.zeros_like(mask), None
    r, c = (round(v) for v in root_rc)
    r = min(max(r, 0), mask.shape[0] - 1)
    c = min(max(c, 0), mask.shape[1] - 1)
    label = labels[r, c]
    if label == 0:
        # the nearest bridged pixel within the search radius
        dist, (ir, ic) = ndi.distance_transform_edt(labels == 0, return_indices=True)
        if dist[r, c] > search_px:
            return np.zeros_like(mask), None
        label = labels[ir[r, c], ic[r, c]]
    kept = mask & (labels == label)
    if not kept.any():
        return kept, None
    rr, cc = np.nonzero(kept)
    k = int(np.argmin((rr - r) ** 2 + (cc - c) ** 2))
    return kept, (int(rr[k]), int(cc[k]))


def _disk(radius: int) -> np.ndarray:
    r, c = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return r**2 + c**2 <= radius**2


def segment_ducts(
    pixels: np.ndarray,
    pixel_mm: float,
    *,
    bright: bool = True,
    region: np.ndarray | None = None,
    root_rc: tuple[float, float] | None = None,
) -> Segmentation:
    """Segment the contrast-filled ducts of one view.

    Parameters
    ----------
    pixels : (rows, cols) ndarray
        The image on any intensity scale, ducts bright when ``bright`` (pass -log of a
        for-processing image, or a for-presentation image as is).
    pixel_mm : float
        Pixel pitch (mm) in [0.01, 2]; use the object pitch (detector pitch /
        magnification) for a magnification view.
    bright : bool
        Whether contrast-filled lumen is brighter than its surroundings.
    region : (rows, cols) bool ndarray or None
        Where to look (the breast); None looks everywhere.
    root_rc : (float, float) or None
        The cannulated orifice or cannula tip (row, col) in pixels; when given, only the
        tree connected to it is kept.

    Returns
    -------
    Segmentation
        An empty mask comes with ``message = "no contrast-filled duct found"``.

    Raises
    ------
    ParameterError
        For a non-array, non-2-D or non-finite image, a pitch outside [0.01, 2] mm, a
        region of another shape, or a root outside the image.

    Examples
    --------
    A bright line on a flat background:

    >>> img = np.zeros((64, 64), np.float32); img[30:33, 8:56] = 1.0
    >>> seg = segment_ducts(img + np.random.default_rng(0).normal(0, 0.05, img.shape), 0.15)
    >>> bool(seg.mask[31, 10:54].all()), int(seg.mask[:20].sum())
    (True, 0)
    """
    image, pixel_mm, region = _check(pixels, pixel_mm, region, root_rc)
    shape = image.shape
    if not bright:
        image = -image
    factor = max(1, round(INTERNAL_MM / pixel_mm))
    coarse = _block_mean(image, factor)
    coarse_region = None
    if region is not None:
        coarse_region = _block_mean(region.astype(np.float32), factor) > 0.5
    internal_mm = pixel_mm * factor
    sigmas = tuple(max(s / internal_mm, MIN_SCALE_PX) for s in SCALES_MM)
    sigmas = tuple(sorted(set(round(s, 3) for s in sigmas)))

    empty = np.zeros(shape, dtype=bool)
    flat = coarse_region is not None and not coarse_region.any()
    if flat or float(np.ptp(coarse)) == 0.0:
        return Segmentation(empty, np.zeros(shape, np.float32), None, 0.5, NO_DUCT_MESSAGE)

    normalised = normalise_background(coarse, BACKGROUND_MM / internal_mm, coarse_region)
    prob = _probability(normalised, sigmas, coarse_region)
    if coarse_region is not None:
        prob[~coarse_region] = 0.0
    probability = _upsample(prob, factor, shape)
    if region is not None:
        probability[~region] = 0.0

    threshold = 0.5
    low = probability > LOW_PROBABILITY
    labels, n = ndi.label(low)
    if n:
        seeded = np.zeros(n + 1, dtype=bool)
        seeded[np.unique(labels[probability > threshold])] = True
        seeded[0] = False
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        seeded &= sizes * pixel_mm**2 >= MIN_COMPONENT_MM2
        mask = seeded[labels]
    else:
        mask = empty
    root = None
    if root_rc is not None and mask.any():
        mask, root = _keep_rooted(mask, root_rc, ROOT_GAP_MM / pixel_mm, ROOT_SEARCH_MM / pixel_mm)
    message = None if mask.any() else NO_DUCT_MESSAGE
    return Segmentation(mask, probability, root, threshold, message)
