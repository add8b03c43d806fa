"""Landmarks of one ductogram view: the breast and its skin line, the nipple, the cannula tip.

:func:`find_landmarks` reads any :class:`~ductogram.core.Image` (simulated or real) and
finds, in the image frame (row, col in pixels):

- **the breast**: the breast against the direct-exposure background. The image is
  block-averaged to about ``MASK_PITCH_MM`` on the duct scale, smoothed, and opened with
  a disc ``THIN_MM`` wide (the cannula, its tubing and wires fall away). The background
  level and its noise σ come from the lower class of Otsu's threshold; the breast is
  what lies above ``background + max(NOISE_SIGMAS σ, EDGE_FRACTION (breast -
  background))``, a threshold close to the background so that the skin and a faint
  nipple stay in. Of that, the breast is the largest part wider than ``CORE_MM``
  everywhere (the bright borders and labels of scanned film fall away), with what lies
  within ``CORE_MM / 2`` of it, holes filled. The full-resolution mask is the
  working-grid level set interpolated bilinearly. On a background free of noise the
  outline lies about 1 mm outside the edge (the smoothing).
- **the chest wall**: the image edge the breast touches most (``"top"``, ``"bottom"``,
  ``"left"`` or ``"right"``). In the image frame of :mod:`ductogram.core.image` (rows run
  away from the chest wall) it is ``"top"``; images kept in a stored orientation (e.g.
  digitised film) may have it on any side.
- **the skin line**: the breast's outline against the background, an ordered (N, 2) array
  of (row, col) points; it ends where the breast meets the image edge.
- **the nipple**: the skin-line point farthest from the chest-wall edge, refined as the
  mean of the skin-line points within ``NIPPLE_BAND_MM`` of that distance (the centre of
  a nipple seen in profile).
- **the cannula tip**, the root of the filled duct tree: the 30 G steel cannula (0.31 mm)
  and its contrast-filled tubing are thin, straight and far more attenuating than the
  ducts. Near the nipple, a white top-hat (a grey opening ``CANNULA_OPENING_MM`` wide
  removes anything thinner) picks the thin bright objects; the cannula is the elongated
  one among them that reaches the skin line near the nipple, and its tip is its end
  nearer the chest wall (the cannula goes in towards it).

:func:`duct_scale` gives the intensity scale on which contrast-filled ducts are bright and
which means the same across images: the attenuation ``-ln(I / I_air)`` for a linear (FOR
PROCESSING) image, the display values normalised to [0, 1] by robust percentiles for a FOR
PRESENTATION image.

An image without a breast is not an error: :class:`Landmarks` then has an empty mask,
no nipple and a ``message`` that says so. Pixels that are not a 2-D numeric array, or a
pixel spacing that is not a finite positive length, raise :class:`ParameterError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu
from skimage.measure import find_contours

from ..core.errors import ParameterError
from ..core.image import Image, PixelKind

__all__ = [
    "Landmarks",
    "contrast_scale",
    "duct_scale",
    "find_landmarks",
    "undo_display_shoulder",
]

DISPLAY_TOP_PERCENTILE = 99.99  # FOR PRESENTATION: the top of the display range ...
DISPLAY_SHOULDER = 0.2  # ... and the span below it (duct-scale units: the window is 0-1)
DISPLAY_EXPANSION = 2.5  # that is expanded, to exp(this) times the slope at the knee at the
# top [measured on simulated presentation views, tuning seeds: papilloma exams of
# draw_cases(30, 24), filling defects at confidence >= 0.5 in 6 of 14 views against 3,
# false ones 1 against 3; the default mix draw_cases(30, 23), 2 of 4 against 0, 9 against 8]
MASK_PITCH_MM = 0.5  # working pitch of the breast mask [estimate: the skin line to ±0.5 mm]
MASK_PRESMOOTH_MM = 0.2  # Gaussian σ before the opening (mm), and
MASK_SMOOTH_MM = 0.3  # after it [measured: they keep a faint nipple; on a background
# free of noise they move the outline about 1 mm outward]
NOISE_SIGMAS = 6.0  # breast threshold above the background, in background noise σ
EDGE_FRACTION = 0.003  # ... or this fraction of the breast-background difference [measured]
THIN_MM = 4.0  # objects narrower than this (cannula, tubing, wires) are cut off the breast
CORE_MM = 8.0  # the breast is wider than this; film borders, labels and wires are not
MIN_BREAST_AREA_MM2 = 400.0  # a smaller object is no breast (2 x 2 cm) [estimate]
NIPPLE_BAND_MM = 1.0  # skin-line points this close to the farthest distance make the nipple
CANNULA_PITCH_MM = 0.12  # working pitch near the nipple (the cannula is 0.31 mm wide)
CANNULA_SEARCH_MM = 15.0  # half-size of the window around the nipple (object mm)
CANNULA_OPENING_MM = 1.2  # grey opening width: removes the cannula and tubing, keeps ducts
CANNULA_MIN_SNR = 100.0  # the cannula's top-hat over the top-hat's noise [measured: 1000
# with a cannula, 20 without, on simulated 0.2 mm views]
CANNULA_MIN_CONTRAST = 0.5  # ... and over the breast-background difference [measured: 2-3
# with a cannula, 0.1 without]
CANNULA_LEVEL = 0.5  # share of the brightest top-hat that the cannula keeps
CANNULA_NEAR_NIPPLE_MM = 8.0  # the cannula enters the skin this close to the nipple
CANNULA_SKIN_MM = 1.0  # ... and comes this close to the skin line
CANNULA_MIN_LENGTH_MM = 1.5  # shortest object taken for a cannula
CANNULA_MAX_WIDTH_MM = 1.5  # widest object taken for a cannula (rms width x 4)
PRESENTATION_PERCENTILES = (1.0, 99.5)  # mapped to 0 and 1 by duct_scale
SAMPLE_PIXELS = 250_000  # pixels drawn (on a regular grid) for percentiles

_EDGES = ("top", "bottom", "left", "right")


@dataclass(frozen=True, eq=False)
class Landmarks:
    """The landmarks of one view (image frame: row, col in pixels).

    Parameters
    ----------
    breast_mask : (rows, cols) bool ndarray
        The breast (empty when none was found).
    skin_line_rc : (N, 2) float ndarray
        The breast outline against the background, ordered along it ((0, 2) when none).
    nipple_rc : (float, float) or None
        The nipple (row, col).
    cannula_tip_rc : (float, float) or None
        The cannula's tip in the duct: the root of the filled tree (row, col).
    chest_wall : str
        The image edge at the chest wall: ``"top"``, ``"bottom"``, ``"left"`` or ``"right"``
        (``"top"`` in the image frame of :mod:`ductogram.core.image`).
    message : str or None
        What was not found and why; None when everything was.
    """

    breast_mask: np.ndarray
    skin_line_rc: np.ndarray
    nipple_rc: tuple[float, float] | None
    cannula_tip_rc: tuple[float, float] | None
    chest_wall: str
    message: str | None = None


def _checked(image: Image) -> tuple[np.ndarray, tuple[float, float]]:
    """The pixels and the detector pitch (mm) of a valid image; ParameterError otherwise."""
    if not isinstance(image, Image):
        raise ParameterError(
            "image", type(image).__name__, "a ductogram.core.Image (pixels with their spacing)"
        )
    pixels = image.pixels
    if not isinstance(pixels, np.ndarray):
        raise ParameterError("image.pixels", type(pixels).__name__, "a numpy array")
    if pixels.ndim != 2 or min(pixels.shape) < 2:
        raise ParameterError("image.pixels", pixels.shape, "a 2-D array of at least 2 x 2 pixels")
    if pixels.dtype == bool or not np.issubdtype(pixels.dtype, np.number):
        raise ParameterError(
            "image.pixels", str(pixels.dtype), "numeric pixel values (integer or float)"
        )
    if np.issubdtype(pixels.dtype, np.complexfloating):
        raise ParameterError("image.pixels", str(pixels.dtype), "real pixel values")
    try:
        spacing = tuple(float(s) for s in np.broadcast_to(image.pixel_spacing_mm, 2))
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            "image.pixel_spacing_mm", image.pixel_spacing_mm, "two pixel spacings (mm)"
        ) from exc
    if not all(math.isfinite(s) and s > 0 for s in spacing):
        raise ParameterError(
            "image.pixel_spacing_mm", image.pixel_spacing_mm, "finite pixel spacings > 0 mm"
        )
    mag = float(image.magnification)
    if not (math.isfinite(mag) and mag >= 1.0):
        raise ParameterError("image.magnification", image.magnification, "a factor >= 1")
    return pixels, spacing  # type: ignore[return-value]


def _sample(values: np.ndarray) -> np.ndarray:
    """At most about SAMPLE_PIXELS finite values of ``values`` on a regular grid."""
    step = max(1, int(math.sqrt(values.size / SAMPLE_PIXELS)))
    sample = np.asarray(values[::step, ::step], dtype=np.float32).ravel()
    return sample[np.isfinite(sample)]


def _scale_parameters(pixels: np.ndarray, kind: PixelKind) -> tuple[float, float]:
    """(offset, gain) of the duct scale: ``ln(offset) - ln(I)`` or ``(v - offset) * gain``."""
    sample = _sample(pixels)
    if sample.size == 0:
        return 1.0, 1.0
    if kind == PixelKind.FOR_PROCESSING:
        positive = sample[sample > 0]
        if positive.size == 0:
            return 1.0, 1.0
        # The direct-exposure (air) signal: the top of the signal range.
        return float(np.percentile(positive, 99.5)), float(np.median(positive))
    lo, hi = (float(v) for v in np.percentile(sample, PRESENTATION_PERCENTILES))
    return lo, 1.0 / (hi - lo) if hi > lo else 1.0


def _apply_scale(
    values: np.ndarray, kind: PixelKind, parameters: tuple[float, float]
) -> np.ndarray:
    offset, second = parameters
    out = np.asarray(values, dtype=np.float32)
    if kind == PixelKind.FOR_PROCESSING:
        # Zero or negative signal (noise at very low exposure, dead pixels): a floor at
        # 1/1000 of the median signal, as the display processing does.
        floor = np.float32(max(1e-3 * second, 1e-12))
        out = np.maximum(out, floor)
        np.log(out, out=out)
        np.subtract(np.float32(math.log(max(offset, 1e-12))), out, out=out)
        return out
    out = out - np.float32(offset)
    out *= np.float32(second)
    return out


def duct_scale(image: Image) -> np.ndarray:
    """The pixels on a scale where contrast-filled ducts are bright.

    - FOR PROCESSING (linear detector signal ``I``, ducts dark): the attenuation
      ``ln(I_air) - ln(I)``, with ``I_air`` the 99.5th percentile of the signal (the direct
      exposure); signal at or below 0 is floored at 1/1000 of the median signal. Air is
      about 0; a breast about 1-3; a filled duct adds its iodine's attenuation.
    - FOR PRESENTATION (bright is attenuating, MONOCHROME1 already inverted by the
      reader): the values mapped linearly so that the 1st and 99.5th percentiles become 0
      and 1 (not clipped: the brightest ducts may exceed 1).

    Parameters
    ----------
    image : Image
        Any view; integer (e.g. uint16 DICOM) or float pixels.

    Returns
    -------
    (rows, cols) float32 ndarray
        A new array; the image is not modified.

    Raises
    ------
    ParameterError
        For pixels that are not a 2-D numeric array, or a spacing that is not > 0 mm.

    Examples
    --------
    >>> from ductogram.core import Image, PixelKind
    >>> signal = np.full((4, 4), 1000.0); signal[1:3, 1:3] = 1000.0 * np.exp(-2.0)
    >>> s = duct_scale(Image(signal, (0.1, 0.1), kind=PixelKind.FOR_PROCESSING))
    >>> round(float(s[0, 0]), 3), round(float(s[1, 1]), 3)
    (0.0, 2.0)
    """
    pixels, _ = _checked(image)
    return _apply_scale(pixels, image.kind, _scale_parameters(pixels, image.kind))


def undo_display_shoulder(scale: np.ndarray) -> np.ndarray:
    """Expand the top of a display's range: the inverse of a shoulder.

    Display processing keeps the densest things (contrast-filled ducts) on screen by
    compressing the top of its range (:mod:`ductogram.imaging.presentation`: a logarithmic
    shoulder and a sigmoid; vendors' curves have a shoulder too). A lucency inside a wide
    column of contrast then keeps a few percent of the column's contrast. The top
    ``DISPLAY_SHOULDER`` of the range, below the ``DISPLAY_TOP_PERCENTILE`` percentile
    ``top``, goes back through ``knee + s (exp(a t) - 1) / a`` with ``knee = top - s``,
    ``s = DISPLAY_SHOULDER``, ``t = (v - knee) / s`` and ``a = DISPLAY_EXPANSION``: slope 1
    at the knee (continuous), ``exp(a)`` at the top; what lies above the top (clipped on
    the display) stays at the top's value.

    Parameters
    ----------
    scale : ndarray
        Duct-scale values of a FOR PRESENTATION view (:func:`duct_scale`: 0
        and 1 at its 1st and 99.5th percentiles).

    Returns
    -------
    ndarray (float32)
        A new array; values at or below the knee are unchanged.

    Examples
    --------
    >>> v = np.linspace(0.0, 1.0, 10001)
    >>> u = undo_display_shoulder(v)
    >>> [round(float(u[k]), 3) for k in (4000, 8000, 9000, 10000)]
    [0.4, 0.8, 0.999, 1.694]
    """
    v = np.asarray(scale, dtype=np.float32)
    top = float(np.percentile(v, DISPLAY_TOP_PERCENTILE))
    knee = top - DISPLAY_SHOULDER
    t = np.clip((v - knee) / DISPLAY_SHOULDER, 0.0, 1.0)
    expanded = knee + DISPLAY_SHOULDER * np.expm1(DISPLAY_EXPANSION * t) / DISPLAY_EXPANSION
    return np.where(v > knee, expanded, v).astype(np.float32)


def contrast_scale(scale: np.ndarray, kind: PixelKind) -> np.ndarray:
    """The duct scale (:func:`duct_scale`) that contrast is measured on: a FOR PRESENTATION
    view's with the top of its display range expanded again (:func:`undo_display_shoulder`),
    any other as it is (the same array). The calibres of the reading, the findings and the
    air-bubble sites all read it.

    Examples
    --------
    >>> v = np.linspace(0.0, 1.0, 11, dtype=np.float32)
    >>> contrast_scale(v, PixelKind.FOR_PROCESSING) is v
    True
    >>> float(contrast_scale(v, PixelKind.FOR_PRESENTATION)[-1]) > 1.0
    True
    """
    return undo_display_shoulder(scale) if kind == PixelKind.FOR_PRESENTATION else scale


def _block_mean(pixels: np.ndarray, k: int) -> np.ndarray:
    """Means of k x k blocks (edge blocks padded with the edge values), float32."""
    if k == 1:
        return np.asarray(pixels, dtype=np.float32)
    rows, cols = pixels.shape
    pr, pc = -rows % k, -cols % k
    values = np.asarray(pixels, dtype=np.float32)
    if pr or pc:
        values = np.pad(values, ((0, pr), (0, pc)), mode="edge")
    r, c = values.shape
    return values.reshape(r // k, k, c // k, k).mean(axis=(1, 3), dtype=np.float32)


def _upsample(field: np.ndarray, k: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of a field on the centres of k x k blocks to every pixel."""

    def weights(n_full: int, n_low: int):
        u = (np.arange(n_full, dtype=np.float32) - (k - 1) / 2.0) / k
        u = np.clip(u, 0.0, n_low - 1)
        i0 = np.minimum(np.floor(u).astype(np.intp), max(n_low - 2, 0))
        i1 = np.minimum(i0 + 1, n_low - 1)
        return i0, i1, (u - i0).astype(np.float32)

    r0, r1, wr = weights(shape[0], field.shape[0])
    c0, c1, wc = weights(shape[1], field.shape[1])
    rows = field[r0] * (1.0 - wr)[:, None] + field[r1] * wr[:, None]
    return rows[:, c0] * (1.0 - wc)[None, :] + rows[:, c1] * wc[None, :]


def _edge_counts(mask: np.ndarray) -> dict[str, int]:
    return {
        "top": int(mask[0].sum()),
        "bottom": int(mask[-1].sum()),
        "left": int(mask[:, 0].sum()),
        "right": int(mask[:, -1].sum()),
    }


def _chest_wall(mask: np.ndarray) -> str:
    """The image edge the breast touches most; when it touches none, the nearest one."""
    counts = _edge_counts(mask)
    if max(counts.values()) > 0:
        return max(_EDGES, key=lambda e: counts[e])
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    gaps = {
        "top": rows[0],
        "bottom": mask.shape[0] - 1 - rows[-1],
        "left": cols[0],
        "right": mask.shape[1] - 1 - cols[-1],
    }
    return min(_EDGES, key=lambda e: gaps[e])


def _depth_from_wall(points_rc: np.ndarray, wall: str, shape: tuple[int, int]) -> np.ndarray:
    """Distance (pixels) of each (row, col) point from the chest-wall edge."""
    if wall == "top":
        return points_rc[:, 0]
    if wall == "bottom":
        return shape[0] - 1 - points_rc[:, 0]
    if wall == "left":
        return points_rc[:, 1]
    return shape[1] - 1 - points_rc[:, 1]


def _breast_field(
    pixels: np.ndarray,
    kind: PixelKind,
    parameters: tuple[float, float],
    k: int,
    pitch_mm: float,
) -> tuple[np.ndarray | None, float, str | None]:
    """The level field on the working grid (pitch ``pitch_mm``), the breast where > 0;
    the breast's median level above the background (duct scale); and None. Or (None, 0,
    why not)."""
    low = _block_mean(pixels, k)
    finite = np.isfinite(low)
    if not finite.any():
        return None, 0.0, "no breast found: the image has no finite pixel values"
    if not finite.all():
        low = np.where(finite, low, np.float32(np.median(low[finite])))
    s = _apply_scale(low, kind, parameters)
    # Smoothing in two steps, around the opening: before it, so that a faint nipple
    # (sparse values just above the background) survives the opening's minimum; after it,
    # against the noise (the cannula is gone by then and cannot be smeared into the mask).
    s = ndi.gaussian_filter(s, MASK_PRESMOOTH_MM / pitch_mm, mode="nearest")
    r = round(0.5 * THIN_MM / pitch_mm)
    if r >= 1:
        # A grey opening with a disc removes what is narrower than the disc (the cannula,
        # its tubing, wires); the image edges are continued outward (the breast goes on
        # beyond the chest-wall edge).
        s = _grey_opening(s, _disc(r), mode="nearest")
    s = ndi.gaussian_filter(s, MASK_SMOOTH_MM / pitch_mm, mode="nearest")
    span = float(s.max() - s.min())
    if not span > 1e-6 * (abs(float(s.max())) + 1e-6):
        return None, 0.0, "no breast found: the image is blank (all one value)"
    t_otsu = threshold_otsu(s)
    lower, upper = s[s <= t_otsu], s[s > t_otsu]
    if lower.size == 0 or upper.size == 0:
        why = "no breast found: no background and breast levels could be told apart"
        return None, 0.0, why
    background = float(np.median(lower))
    noise = 1.4826 * float(np.median(np.abs(lower - background)))
    breast = float(np.median(upper))
    threshold = background + max(NOISE_SIGMAS * noise, EDGE_FRACTION * (breast - background))
    return s - np.float32(threshold), breast - background, None


def _sample_along(
    image: np.ndarray,
    origins: np.ndarray,
    directions: np.ndarray,
    offsets: np.ndarray,
    mode: str = "constant",
) -> tuple[np.ndarray, np.ndarray]:
    """``image`` sampled (bilinear) at ``offsets`` pixels along unit ``directions`` from
    ``origins`` (row, col; (P, 2) arrays, or one of them (1, 2), broadcast together):
    the values (P, len(offsets)) and the points (P, len(offsets), 2). Off the image the
    value is 0 (``mode="constant"``) or the nearest pixel's (``"nearest"``). The one
    profile sampler of the package: across a duct (normals along a path) and out from a
    centre (rays)."""
    points = (
        np.asarray(origins, float)[:, None, :]
        + np.asarray(offsets, float)[None, :, None] * np.asarray(directions, float)[:, None, :]
    )
    values = ndi.map_coordinates(
        image, [points[..., 0].ravel(), points[..., 1].ravel()], order=1, mode=mode, cval=0.0
    )
    return values.reshape(points.shape[:2]), points


def _disc(radius_px: float) -> np.ndarray:
    """Footprint of the pixels within ``radius_px`` of the centre."""
    r = int(np.ceil(radius_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return yy**2 + xx**2 <= radius_px * radius_px


_PAD_MODES = {"reflect": "symmetric", "nearest": "edge"}  # scipy.ndimage's -> numpy.pad's


def _grey_by_rows(image: np.ndarray, footprint: np.ndarray, maximum: bool, mode: str):
    """Grey dilation (``maximum``) or erosion of ``image`` by a flat ``footprint`` whose
    rows are each empty or one run of pixels centred on the middle column (a disc, a
    square), symmetric about its middle row: the extreme over the footprint's rows of
    1-D running extremes along the columns (van Herk's O(1) per pixel), each shifted by
    its row's offset. The same values as :func:`scipy.ndimage.grey_dilation` /
    ``grey_erosion`` with that footprint and ``mode`` ("reflect" or "nearest"), in as
    many 1-D passes as the footprint has rows rather than a pass over its area per
    pixel; scipy itself for any other footprint, mode, or an image smaller than it."""
    fp = np.asarray(footprint, bool)
    h, w = fp.shape
    r, c = h // 2, w // 2
    runs = fp.sum(axis=1)
    centred = all(
        n == 0 or (np.array_equal(np.flatnonzero(row), np.arange(c - n // 2, c + n // 2 + 1)))
        for row, n in zip(fp, runs, strict=True)
    )
    x = np.asarray(image)
    if (
        x.ndim != 2
        or not (h % 2 and w % 2 and centred and np.array_equal(fp, fp[::-1]))
        or mode not in _PAD_MODES
        or min(x.shape) <= max(r, c)
        or not runs.any()
    ):
        fn = ndi.grey_dilation if maximum else ndi.grey_erosion
        return fn(x, footprint=fp, mode=mode)
    one_d = ndi.maximum_filter1d if maximum else ndi.minimum_filter1d
    pick = np.maximum if maximum else np.minimum
    padded = np.pad(x, ((r, r), (0, 0)), mode=_PAD_MODES[mode])
    out = None
    for n in sorted({int(n) for n in runs if n}):
        line = one_d(padded, n, axis=1, mode=mode)
        for a in np.flatnonzero(runs == n):
            part = line[a : a + x.shape[0]]
            out = part.copy() if out is None else pick(out, part, out=out)
    return out


def _grey_closing(image: np.ndarray, footprint: np.ndarray, mode: str = "reflect") -> np.ndarray:
    """:func:`scipy.ndimage.grey_closing` with a disc-like ``footprint``, by rows
    (:func:`_grey_by_rows`): the same values, faster for wide discs."""
    return _grey_by_rows(_grey_by_rows(image, footprint, True, mode), footprint, False, mode)


def _grey_opening(image: np.ndarray, footprint: np.ndarray, mode: str = "reflect") -> np.ndarray:
    """:func:`scipy.ndimage.grey_opening` with a disc-like ``footprint``, by rows
    (:func:`_grey_by_rows`): the same values, faster for wide discs."""
    return _grey_by_rows(_grey_by_rows(image, footprint, False, mode), footprint, True, mode)


def _largest(mask: np.ndarray) -> np.ndarray:
    labels, n = ndi.label(mask)
    if n == 0:
        return np.zeros(mask.shape, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def _breast_mask_low(field: np.ndarray, pitch_mm: float) -> np.ndarray:
    """The breast in ``field > 0`` (working grid of pitch ``pitch_mm``), holes filled.

    The breast is found as the largest part that is wider than ``CORE_MM`` everywhere
    (a binary opening, the outside of the image counting as background: strips along
    the image edges, such as the bright borders of scanned film, and labels fall away);
    then what lies above the threshold within ``CORE_MM / 2`` of it is added back (the
    corners of the nipple, the skin where it meets the image edge).
    """
    above = field > 0
    r = 0.5 * CORE_MM / pitch_mm
    # Opening by a disc through distance transforms (fast for any radius); the padding
    # makes the outside of the image background.
    inside = ndi.distance_transform_edt(np.pad(above, 1))[1:-1, 1:-1]
    core = ndi.distance_transform_edt(inside <= r) <= r
    core = _largest(core & above)
    if not core.any():
        core = _largest(above)
    near = ndi.distance_transform_edt(~core) <= r
    return ndi.binary_fill_holes(_largest(above & near))


def _skin_line(field: np.ndarray, k: int) -> np.ndarray:
    """The longest level line of ``field`` at 0 (working grid) in full-resolution pixels."""
    contours = find_contours(field, 0.0)
    if not contours:
        return np.zeros((0, 2))
    longest = max(contours, key=len)
    return longest * k + (k - 1) / 2.0


def _nipple(
    skin_rc: np.ndarray, wall: str, shape: tuple[int, int], pitch_mm: float, k: int
) -> tuple[float, float] | None:
    """The nipple on the skin line, or None when the breast runs off the far edge."""
    depth = _depth_from_wall(skin_rc, wall, shape)
    far_edge = shape[0] - 1 if wall in ("top", "bottom") else shape[1] - 1
    if depth.max() >= far_edge - k:
        return None
    near = depth >= depth.max() - NIPPLE_BAND_MM / pitch_mm
    r, c = skin_rc[near].mean(axis=0)
    return float(r), float(c)


def _cannula_tip(
    pixels: np.ndarray,
    kind: PixelKind,
    scale_parameters: tuple[float, float],
    breast_contrast: float,
    wall: str,
    k_low: int,
    nipple_rc: tuple[float, float],
    skin_rc: np.ndarray,
    object_pitch_mm: float,
) -> tuple[float, float] | None:
    """The tip of the cannula in the nipple (full-resolution row, col), or None."""
    k = max(1, int(CANNULA_PITCH_MM / object_pitch_mm))
    pitch = object_pitch_mm * k  # object mm per working pixel
    half = math.ceil(CANNULA_SEARCH_MM / object_pitch_mm)
    shape = pixels.shape
    rows, cols = shape
    nr, nc = (round(v) for v in nipple_rc)
    r0, r1 = max(0, nr - half), min(rows, nr + half + 1)
    c0, c1 = max(0, nc - half), min(cols, nc + half + 1)
    if r1 - r0 < 2 * k or c1 - c0 < 2 * k:
        return None
    crop = _block_mean(pixels[r0:r1, c0:c1], k)
    v = _apply_scale(crop, kind, scale_parameters)
    v = np.where(np.isfinite(v), v, np.float32(0.0))
    width = max(3, round(CANNULA_OPENING_MM / pitch) | 1)
    tophat = v - ndi.grey_opening(v, size=(width, width))
    top = float(tophat.max())
    noise = 1.4826 * float(np.median(np.abs(tophat - np.median(tophat))))
    if not (top >= CANNULA_MIN_SNR * noise and top >= CANNULA_MIN_CONTRAST * breast_contrast):
        return None
    labels, n = ndi.label(tophat > CANNULA_LEVEL * top, structure=np.ones((3, 3)))
    if n == 0:
        return None
    # Working-grid coordinates → full resolution, and the breast and the skin line there.
    full_r = r0 + np.arange(crop.shape[0]) * k + (k - 1) / 2.0
    full_c = c0 + np.arange(crop.shape[1]) * k + (k - 1) / 2.0
    skin = skin_rc[
        (np.abs(skin_rc[:, 0] - nipple_rc[0]) <= half + 1)
        & (np.abs(skin_rc[:, 1] - nipple_rc[1]) <= half + 1)
    ]
    if len(skin) == 0:
        return None
    full_pitch = object_pitch_mm  # object mm per full-resolution pixel
    best, best_score = None, 0.0
    for index, where in enumerate(ndi.find_objects(labels), start=1):
        if where is None:
            continue
        own = labels[where] == index
        rr, cc = np.nonzero(own)
        pts = np.column_stack([full_r[rr + where[0].start], full_c[cc + where[1].start]])
        if len(pts) < 3:
            continue
        centre = pts.mean(axis=0)
        eigval, eigvec = np.linalg.eigh(np.cov((pts - centre).T))
        axis = eigvec[:, 1]
        along = (pts - centre) @ axis
        length_mm = (along.max() - along.min() + k) * full_pitch
        width_mm = 4.0 * math.sqrt(max(eigval[0], 0.0)) * full_pitch
        if length_mm < CANNULA_MIN_LENGTH_MM or width_mm > CANNULA_MAX_WIDTH_MM:
            continue
        # It must reach the skin line near the nipple.
        d_skin = np.min(
            np.hypot(pts[:, None, 0] - skin[None, ::2, 0], pts[:, None, 1] - skin[None, ::2, 1]),
            axis=1,
        )
        at_skin = d_skin <= CANNULA_SKIN_MM / full_pitch + k_low
        if not at_skin.any():
            continue
        to_nipple = np.hypot(pts[at_skin, 0] - nipple_rc[0], pts[at_skin, 1] - nipple_rc[1])
        if to_nipple.min() * full_pitch > CANNULA_NEAR_NIPPLE_MM:
            continue
        score = float(tophat[where][own].sum())
        if score > best_score:
            # The cannula points from outside towards the chest wall: its tip in the
            # duct is the end nearer the chest-wall edge.
            ends = np.array([np.argmin(along), np.argmax(along)])
            tip = ends[int(np.argmin(_depth_from_wall(pts[ends], wall, shape)))]
            best, best_score = (float(pts[tip, 0]), float(pts[tip, 1])), score
    return best


def find_landmarks(image: Image) -> Landmarks:
    """The breast, its skin line, the chest-wall side, the nipple and the cannula tip.

    Parameters
    ----------
    image : Image
        One view, FOR PROCESSING or FOR PRESENTATION, in any orientation.

    Returns
    -------
    Landmarks
        In the image frame (row, col in pixels of ``image``). When no breast is found the
        mask is empty, the skin line has no points, the nipple and the cannula tip are
        None and ``message`` says why; when no cannula is found near the nipple,
        ``cannula_tip_rc`` is None and ``message`` says so.

    Raises
    ------
    ParameterError
        For pixels that are not a 2-D numeric array, or a spacing that is not > 0 mm.

    Examples
    --------
    >>> from ductogram.core import Image
    >>> rows, cols = np.mgrid[0:200, 0:160]
    >>> disc = (rows / 120.0) ** 2 + ((cols - 80) / 70.0) ** 2 < 1  # breast at the top
    >>> marks = find_landmarks(Image(np.where(disc, 0.6, 0.0), (0.5, 0.5)))
    >>> marks.chest_wall, [round(v) for v in marks.nipple_rc]  # the tip is at (120, 80)
    ('top', [121, 80])
    >>> find_landmarks(Image(np.zeros((50, 50)), (0.5, 0.5))).message
    'no breast found: the image is blank (all one value)'
    """
    pixels, spacing = _checked(image)
    pitch = min(spacing)
    k = max(1, round(MASK_PITCH_MM / pitch))
    parameters = _scale_parameters(pixels, image.kind)
    field, contrast, why = _breast_field(pixels, image.kind, parameters, k, k * pitch)
    if field is None:
        return _nothing(pixels.shape, why)
    mask_low = _breast_mask_low(field, k * pitch)
    area_mm2 = float(mask_low.sum()) * (k * spacing[0]) * (k * spacing[1])
    if area_mm2 < MIN_BREAST_AREA_MM2:
        return _nothing(
            pixels.shape,
            f"no breast found: the largest object is {area_mm2:.0f} mm², "
            f"less than {MIN_BREAST_AREA_MM2:.0f} mm²",
        )
    # Make the level field agree with the chosen component (holes filled, the rest out).
    eps = np.float32(1e-3 * float(np.abs(field).max()) + 1e-12)
    field = np.where(mask_low, np.maximum(field, eps), np.minimum(field, -eps))
    breast_mask = _upsample(field, k, pixels.shape) > 0
    wall = _chest_wall(mask_low)
    skin = _skin_line(field, k)
    if len(skin) == 0:  # the breast fills the image: no skin line to see
        why = "no skin line: the breast fills the image"
        return Landmarks(breast_mask, skin, None, None, wall, why)
    nipple = _nipple(skin, wall, pixels.shape, pitch, k)
    if nipple is None:
        why = f"no nipple: the breast runs off the image edge opposite the chest wall ({wall})"
        return Landmarks(breast_mask, skin, None, None, wall, why)
    tip = _cannula_tip(
        pixels,
        image.kind,
        parameters,
        contrast,
        wall,
        k,
        nipple,
        skin,
        min(image.object_spacing_mm),
    )
    message = None if tip is not None else "no cannula found near the nipple"
    return Landmarks(breast_mask, skin, nipple, tip, wall, message)


def _nothing(shape: tuple[int, int], why: str | None) -> Landmarks:
    return Landmarks(
        breast_mask=np.zeros(shape, dtype=bool),
        skin_line_rc=np.zeros((0, 2)),
        nipple_rc=None,
        cannula_tip_rc=None,
        chest_wall="top",
        message=why,
    )
