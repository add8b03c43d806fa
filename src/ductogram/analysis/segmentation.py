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
   tree from the orifice;
5. holes in the mask that hold contrast (the middle of a bulb, a pool or a widened duct,
   where the duct-scale features see no ridge) are filled; holes at the background level
   (tissue ringed by ducts) stay (:data:`HOLE_FILL_SHARE`).

Image frame: ``pixels[row, col]``; ``root_rc`` is (row, col) in pixels of that array.

References
----------
A. F. Frangi, W. J. Niessen, K. L. Vincken, M. A. Viergever, "Multiscale vessel enhancement
filtering", MICCAI 1998, LNCS 1496:130-137. doi:10.1007/BFb0056195
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

from ductogram.core.errors import ParameterError

from .features import FEATURES_PER_SCALE, normalise_background, pixel_features
from .stats import median

__all__ = [
    "NO_DUCT_MESSAGE",
    "InternalGrid",
    "PixelClassifier",
    "Segmentation",
    "default_classifier",
    "grid_factor",
    "internal_features",
    "internal_labels",
    "reroot",
    "segment_ducts",
    "sharpen_edges",
]

NO_DUCT_MESSAGE = "no contrast-filled duct found"

INTERNAL_MM = 0.15
"""Target pitch of the internal grid (mm): the image is block-averaged by the integer factor
nearest to INTERNAL_MM / pixel_mm. Filled ducts are 0.2-3 mm wide (clinical.md §1.2), so the
narrowest still spans 1-2 internal pixels [estimate]."""

SCALES_MM = (0.15, 0.3, 0.6, 1.2)
"""Gaussian scales (mm) of the Hessian features: about the radii of filled ducts, from
terminal ducts (0.1-0.15 mm radius) to an ectatic main duct (1.5 mm) [estimate]."""

CONTEXT_SCALES_MM = (1.5, 3.0, 6.0)
"""Gaussian scales (mm) of the context features: a filled cyst or a dense lobular blush,
5-25 mm across, is brighter than its surroundings over more than the duct scales see
[estimate]."""

CONTEXT_FACTOR = 4
"""The context features are made on a grid this many times coarser than the internal one."""

CONTEXT_BACKGROUND_MM = 20.0
"""Gaussian width (mm) of the background removed before the context features [estimate]."""

MIN_SCALE_PX = 0.7
"""Smallest Gaussian scale (internal pixels); finer ones only see noise."""

BACKGROUND_MM = 3.0
"""Gaussian width (mm) of the background removed before the features: twice the widest
duct radius, so a main duct is not taken for background [estimate]."""

ROOT_GAP_MM = 1.0
"""Largest gap (mm) bridged when keeping what connects to the root: a duct narrowed by a
lesion, or a bubble, interrupts the contrast column over about this length [estimate]."""

ROOT_SEARCH_MM = 8.0
"""A root farther than this (mm) from every segmented duct finds no tree: the orifice or
cannula tip given by the landmarks may lie a few millimetres from the first filled pixel
(the nipple's own lumen holds little contrast in projection) [estimate]."""

MIN_COMPONENT_MM2 = 1.0
"""Pieces smaller than this (mm²) are dropped when no root is given [estimate]."""

RIDGE_THRESHOLD = 7.0
"""Normalised ridge measure (robust standard deviations of its values in the region) at
which the probability is 1/2; measured on simulated views at 0.2 mm (Dice best at 6-8)."""

LOW_FRACTION = 0.6
"""Hysteresis: pixels above this fraction of the threshold join a duct that reaches the
threshold somewhere [estimate]."""

HOLE_FILL_SHARE = 0.9
"""A hole in the mask (enclosed by it) is filled when it stands at least this share of
the mask around it above the background: a pool, bulb or widened duct holds contrast
across its middle, where the duct-scale features see no ridge and leave a hole; tissue
ringed by ducts lies well below its ducts [estimate: on 16 simulated views at 85 µm,
seed 7 of draw_cases, Dice 0.836 unfilled, 0.840 at 0.9; 0.5 filled dense tissue]."""

HOLE_FILL_MAX_MM2 = 100.0
"""Holes larger than this (mm²) are never filled: tissue ringed by ducts [estimate]."""

HOLE_BACKGROUND_MM = 2.0
"""The background of a hole: the median outside the mask within this distance (mm) of
the hole's ring of mask."""

EDGE_SHARE = 0.2
"""A pixel at the mask's edge whose contrast (excess over the local background) is under
this share of its duct's crest (the excess at the nearest skeleton pixel) is not lumen
(:func:`sharpen_edges`). The true lumen covers a pixel at its edge only in part, and the
classifier's probability, made on a grid up to twice as coarse and from features a grid
pixel or more wide, spreads a pixel or two past it [measured on the duct masks of
simulated views against their true contrast masks: 16 views at 85 µm of
draw_cases(16, 31), Dice 0.830 as segmented, 0.840 / 0.845 / 0.840 at 0.1 / 0.2 / 0.3;
39 views at 0.2 mm of draw_cases(30, 23), 0.861 as segmented, 0.901 at 0.2 (clDice
0.923 and 0.922)]."""

EDGE_BAND_PX = 2
"""Pixels this near the mask's edge (chessboard distance) are tested by
:data:`EDGE_SHARE`; 1 and 3 did no better on the same views."""

EDGE_SMOOTH_MM = 0.06
"""Gaussian smoothing (mm) of the excess before the edge test (the pixel noise); 0.06
did best at both pitches (0.7 and 0.3 pixels), 0.14 mm at 0.2 mm lost most of the gain."""

CLASSIFIER_FILE = "duct_classifier.npz"
"""The shipped pixel classifier, trained by ``scripts/train_segmentation.py`` on simulated
views (analysis/data/)."""


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
    """Linear interpolation from block centres back to the fine grid (edges held).

    The same as ``scipy.ndimage.zoom(coarse, factor, order=1, grid_mode=True,
    mode="nearest")``, done by rows then columns, one phase of the factor at a time
    (several times faster at 5 MP).
    """
    if factor == 1:
        return coarse[: shape[0], : shape[1]].copy()
    k = factor
    p = np.pad(coarse.astype(np.float32, copy=False), 1, mode="edge")
    rows = np.empty((coarse.shape[0] * k, p.shape[1]), np.float32)
    for q in range(k):
        t = (q + 0.5) / k - 0.5  # offset from the block centre, in coarse pixels
        if t < 0:
            rows[q::k] = -t * p[:-2] + (1 + t) * p[1:-1]
        else:
            rows[q::k] = (1 - t) * p[1:-1] + t * p[2:]
    out = np.empty((rows.shape[0], coarse.shape[1] * k), np.float32)
    for q in range(k):
        t = (q + 0.5) / k - 0.5
        if t < 0:
            out[:, q::k] = -t * rows[:, :-2] + (1 + t) * rows[:, 1:-1]
        else:
            out[:, q::k] = (1 - t) * rows[:, 1:-1] + t * rows[:, 2:]
    return out[: shape[0], : shape[1]]


@dataclass(frozen=True, eq=False)
class PixelClassifier:
    """A small multilayer perceptron that maps pixel features to the lumen probability.

    Evaluated by a NumPy forward pass (no pickles): standardise, then dense layers with
    ReLU between them and a logistic output.

    Parameters
    ----------
    mean, scale : (F,) float32 ndarray
        Feature standardisation: x' = (x - mean) / scale.
    weights : tuple of (n_in, n_out) float32 ndarray
    biases : tuple of (n_out,) float32 ndarray
    threshold : float
        Probability above which a pixel seeds the mask (chosen on the training images).
    scales_mm, context_scales_mm : tuple of float
        The Gaussian scales (mm) of the features the model was trained on.
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    threshold: float = 0.5
    scales_mm: tuple[float, ...] = SCALES_MM
    context_scales_mm: tuple[float, ...] = CONTEXT_SCALES_MM

    def __post_init__(self) -> None:
        n = FEATURES_PER_SCALE * (len(self.scales_mm) + len(self.context_scales_mm))
        if self.mean.shape != (n,) or self.scale.shape != (n,):
            raise ParameterError(
                "mean", self.mean.shape, f"({n},): {FEATURES_PER_SCALE} features per scale"
            )
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ParameterError("weights", len(self.weights), "one bias per weight matrix")
        if self.weights[0].shape[0] != n or self.weights[-1].shape[1] != 1:
            raise ParameterError(
                "weights", [w.shape for w in self.weights], f"({n}, ...) ... (..., 1)"
            )

    @classmethod
    def from_npz(cls, path) -> PixelClassifier:
        """Read a model written by :meth:`to_npz`."""
        with np.load(path, allow_pickle=False) as z:
            layers = int(z["layers"])
            return cls(
                mean=z["mean"].astype(np.float32),
                scale=z["scale"].astype(np.float32),
                weights=tuple(z[f"w{k}"].astype(np.float32) for k in range(layers)),
                biases=tuple(z[f"b{k}"].astype(np.float32) for k in range(layers)),
                threshold=float(z["threshold"]),
                scales_mm=tuple(float(v) for v in z["scales_mm"]),
                context_scales_mm=tuple(float(v) for v in z["context_scales_mm"]),
            )

    @classmethod
    def from_sklearn(
        cls,
        model,
        mean,
        scale,
        *,
        threshold=0.5,
        scales_mm=SCALES_MM,
        context_scales_mm=CONTEXT_SCALES_MM,
    ):
        """From a fitted ``sklearn.neural_network.MLPClassifier`` (ReLU, binary)."""
        if getattr(model, "activation", "relu") != "relu":
            raise ParameterError("model.activation", model.activation, "'relu'")
        return cls(
            mean=np.asarray(mean, np.float32),
            scale=np.asarray(scale, np.float32),
            weights=tuple(np.asarray(w, np.float32) for w in model.coefs_),
            biases=tuple(np.asarray(b, np.float32) for b in model.intercepts_),
            threshold=float(threshold),
            scales_mm=tuple(float(s) for s in scales_mm),
            context_scales_mm=tuple(float(s) for s in context_scales_mm),
        )

    def to_npz(self, path) -> None:
        """Write the model as plain arrays (``numpy.load(..., allow_pickle=False)`` reads it)."""
        arrays = {f"w{k}": w for k, w in enumerate(self.weights)}
        arrays |= {f"b{k}": b for k, b in enumerate(self.biases)}
        np.savez_compressed(
            path,
            layers=len(self.weights),
            mean=self.mean,
            scale=self.scale,
            threshold=self.threshold,
            scales_mm=np.asarray(self.scales_mm),
            context_scales_mm=np.asarray(self.context_scales_mm),
            **arrays,
        )

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Lumen probability of each row of ``features`` ((N, F) float32) as (N,) float32."""
        # the standardisation folded into the first layer: ((x - m) / s) W = x (W / s) - (m / s) W
        w0 = (self.weights[0] / self.scale[:, None]).astype(np.float32)
        b0 = (self.biases[0] - (self.mean / self.scale) @ self.weights[0]).astype(np.float32)
        weights = (w0, *self.weights[1:])
        biases = (b0, *self.biases[1:])
        h = np.asarray(features, np.float32)
        for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
            h = h @ w
            h += b
            if k < len(self.weights) - 1:
                np.maximum(h, 0, out=h)
        z = np.clip(h[:, 0], -30, 30)
        return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def _ridge_probability(features: np.ndarray, region) -> np.ndarray:
    """Lumen probability from the multiscale ridge measure alone (the plain filter)."""
    ridge = features[..., 4::FEATURES_PER_SCALE]
    inside = ridge[region] if region is not None else ridge.reshape(-1, ridge.shape[-1])
    if inside.shape[0] > 200_000:
        inside = inside[:: inside.shape[0] // 200_000]
    scale = np.median(np.abs(inside), axis=0)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    r = (ridge / scale).max(axis=-1)
    z = np.clip((r - RIDGE_THRESHOLD) / (0.25 * RIDGE_THRESHOLD), -30, 30)
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


@dataclass(frozen=True, eq=False)
class InternalGrid:
    """The features of one image on the internal grid (what a model sees).

    Parameters
    ----------
    features : (rows', cols', F) float32 ndarray
    region : (rows', cols') bool ndarray or None
    factor : int
        Block size: internal pixel = factor x factor image pixels.
    pixel_mm : float
        Internal pitch (mm).
    """

    features: np.ndarray
    region: np.ndarray | None
    factor: int
    pixel_mm: float


def internal_features(
    pixels: np.ndarray,
    pixel_mm: float,
    *,
    bright: bool = True,
    region: np.ndarray | None = None,
    scales_mm: tuple[float, ...] = SCALES_MM,
    context_scales_mm: tuple[float, ...] = CONTEXT_SCALES_MM,
) -> InternalGrid:
    """The multiscale features :func:`segment_ducts` classifies, on its internal grid.

    Parameters are those of :func:`segment_ducts`; ``scales_mm`` and ``context_scales_mm``
    are the Gaussian scales of the duct and context features.
    Used to train a :class:`PixelClassifier` (labels: :func:`internal_labels`).
    """
    image, pixel_mm, region = _check(pixels, pixel_mm, region, None)
    return _internal(image, pixel_mm, bright, region, scales_mm, context_scales_mm)


def _internal(image, pixel_mm, bright, region, scales_mm, context_scales_mm) -> InternalGrid:
    if not bright:
        image = -image
    factor = grid_factor(pixel_mm)
    coarse = _block_mean(image, factor)
    coarse_region = None
    if region is not None:
        coarse_region = _block_mean(region.astype(np.float32), factor) > 0.5
    internal_mm = pixel_mm * factor
    sigmas = tuple(max(s / internal_mm, MIN_SCALE_PX) for s in scales_mm)
    normalised = normalise_background(coarse, BACKGROUND_MM / internal_mm, coarse_region)
    n_local = FEATURES_PER_SCALE * len(sigmas)
    n = n_local + FEATURES_PER_SCALE * len(context_scales_mm)
    features = np.empty((*coarse.shape, n), np.float32)
    features[..., :n_local] = pixel_features(normalised, sigmas)
    if context_scales_mm:
        # context: a grid CONTEXT_FACTOR times coarser, a wider background; the features
        # are repeated back onto the internal grid (they vary slowly)
        k = CONTEXT_FACTOR
        ctx = _block_mean(coarse, k)
        ctx_region = None
        if coarse_region is not None:
            ctx_region = _block_mean(coarse_region.astype(np.float32), k) > 0.5
        ctx_mm = internal_mm * k
        ctx_sigmas = tuple(max(s / ctx_mm, MIN_SCALE_PX) for s in context_scales_mm)
        ctx_norm = normalise_background(ctx, CONTEXT_BACKGROUND_MM / ctx_mm, ctx_region)
        ctx_features = pixel_features(ctx_norm, ctx_sigmas)
        rows, cols = coarse.shape
        features[..., n_local:] = np.repeat(np.repeat(ctx_features, k, 0), k, 1)[:rows, :cols]
    return InternalGrid(features, coarse_region, factor, internal_mm)


def grid_factor(pixel_mm: float) -> int:
    """Block size of the internal grid for an image of pitch ``pixel_mm`` (mm).

    >>> grid_factor(0.085), grid_factor(0.2), grid_factor(0.05)
    (2, 1, 3)
    """
    return max(1, round(INTERNAL_MM / pixel_mm))


def internal_labels(mask: np.ndarray, factor: int) -> np.ndarray:
    """A truth mask on the internal grid: blocks at least half lumen."""
    return _block_mean(np.asarray(mask, np.float32), factor) >= 0.5


def default_classifier() -> PixelClassifier | None:
    """The shipped model (``analysis/data/duct_classifier.npz``), or None if absent."""
    path = Path(__file__).parent / "data" / CLASSIFIER_FILE
    if not path.is_file():
        return None
    return _load_classifier(str(path))


@lru_cache(maxsize=4)
def _load_classifier(path: str) -> PixelClassifier:
    return PixelClassifier.from_npz(path)


def _keep_rooted(
    mask: np.ndarray, root_rc, gap_px: float, search_px: float, factor: int
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """The part of ``mask`` connected to the root across gaps of up to ``gap_px``.

    Of the pieces that come within ``search_px`` of the root, the largest is kept.

    Connectivity is worked out on the internal grid (blocks of ``factor`` pixels that hold
    any of the mask), which is fast at 5 MP and bridges the same gaps.
    """
    coarse = _block_mean(mask.astype(np.float32), factor) > 0
    radius = max(round(gap_px / factor / 2), 1)
    bridged = ndi.binary_dilation(coarse, structure=_disk(radius))
    labels, n = ndi.label(bridged)
    if n == 0:
        return np.zeros_like(mask), None
    r, c = (min(max(round(v), 0), s - 1) for v, s in zip(root_rc, mask.shape, strict=True))
    # the largest bridged piece that comes within the search radius of the root: a speck
    # at the nipple or the skin must not stand for the tree
    w = int(np.ceil(search_px / factor)) + 1
    r0, c0 = max(r // factor - w, 0), max(c // factor - w, 0)
    window = labels[r0 : r // factor + w + 1, c0 : c // factor + w + 1]
    wr, wc = np.nonzero(window)
    d2 = ((wr + r0 + 0.5) * factor - r) ** 2 + ((wc + c0 + 0.5) * factor - c) ** 2
    near = np.unique(window[wr[d2 <= search_px**2], wc[d2 <= search_px**2]])
    if near.size == 0:
        return np.zeros_like(mask), None
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    label = near[int(np.argmax(sizes[near]))]
    rr, cc = np.nonzero(mask)
    keep = labels[rr // factor, cc // factor] == label
    rr, cc = rr[keep], cc[keep]
    kept = np.zeros_like(mask)
    kept[rr, cc] = True
    if rr.size == 0:
        return kept, None
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
    model: PixelClassifier | str | None = "default",
    search_mm: float = ROOT_SEARCH_MM,
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
    model : PixelClassifier, "default", "ridge" or None
        The pixel classifier: "default" is the shipped model trained on simulated views
        (the plain ridge filter if none is shipped), "ridge" or None the plain multiscale
        ridge filter, or a :class:`PixelClassifier` of one's own.
    search_mm : float
        With a root: the largest piece of the mask that comes this near it (mm) is the
        tree (default ``ROOT_SEARCH_MM``).

    Returns
    -------
    Segmentation
        An empty mask comes with ``message = "no contrast-filled duct found"``.

    Raises
    ------
    ParameterError
        For a non-array, non-2-D or non-finite image, a pitch outside [0.01, 2] mm, a
        region of another shape, a root outside the image, an unknown model, or a
        search distance that is not > 0 mm.

    Examples
    --------
    A bright line on a flat background:

    >>> img = np.zeros((64, 64), np.float32); img[30:33, 8:56] = 1.0
    >>> img += np.random.default_rng(0).normal(0, 0.05, img.shape)
    >>> seg = segment_ducts(img, 0.15)
    >>> bool(seg.mask[31, 10:54].all()), int(seg.mask[:20].sum())
    (True, 0)
    """
    image, pixel_mm, region = _check(pixels, pixel_mm, region, root_rc)
    _check_search(search_mm)
    if isinstance(model, str) and model == "default":
        model = default_classifier()
    elif model is None or (isinstance(model, str) and model == "ridge"):
        model = None
    elif not isinstance(model, PixelClassifier):
        raise ParameterError("model", model, "a PixelClassifier, 'default' or 'ridge'")
    shape = image.shape
    empty = np.zeros(shape, dtype=bool)
    no_duct = Segmentation(empty, np.zeros(shape, np.float32), None, 0.5, NO_DUCT_MESSAGE)
    if (region is not None and not region.any()) or float(np.ptp(image)) == 0.0:
        return no_duct

    if model is None:
        grid = _internal(image, pixel_mm, bright, region, SCALES_MM, ())
    else:
        grid = _internal(image, pixel_mm, bright, region, model.scales_mm, model.context_scales_mm)
    feats = grid.features
    if model is None:
        prob = _ridge_probability(feats, grid.region)
        threshold = 0.5
    else:
        threshold = model.threshold
        flat = feats.reshape(-1, feats.shape[-1])
        if grid.region is None:
            prob = model.predict(flat).reshape(feats.shape[:2])
        else:
            prob = np.zeros(feats.shape[:2], np.float32)
            prob[grid.region] = model.predict(feats[grid.region])
    if grid.region is not None:
        prob[~grid.region] = 0.0
    del feats, grid
    probability = _upsample(prob, grid_factor(pixel_mm), shape)
    np.clip(probability, 0.0, 1.0, out=probability)
    if region is not None:
        probability[~region] = 0.0

    return _masked(
        image if bright else -image, pixel_mm, probability, threshold, root_rc, search_mm
    )


def reroot(
    segmentation: Segmentation,
    pixels: np.ndarray,
    pixel_mm: float,
    root_rc: tuple[float, float],
    *,
    bright: bool = True,
    search_mm: float = ROOT_SEARCH_MM,
) -> Segmentation:
    """The mask of a segmentation kept for another root or search distance, from its
    duct probability: what :func:`segment_ducts` with those gives, without the features
    made again.

    Parameters
    ----------
    segmentation : Segmentation
        Of ``pixels``, from :func:`segment_ducts`.
    pixels, pixel_mm, root_rc, bright, search_mm
        As for :func:`segment_ducts`.

    Returns
    -------
    Segmentation

    Raises
    ------
    ParameterError
        As :func:`segment_ducts`, or for a segmentation of an image of another shape.
    """
    image, pixel_mm, _ = _check(pixels, pixel_mm, None, root_rc)
    _check_search(search_mm)
    if segmentation.probability.shape != image.shape:
        raise ParameterError(
            "segmentation", segmentation.probability.shape, f"one of an image {image.shape}"
        )
    return _masked(
        image if bright else -image,
        pixel_mm,
        segmentation.probability,
        segmentation.threshold,
        root_rc,
        search_mm,
    )


def _check_search(search_mm: float) -> None:
    if not (isinstance(search_mm, (int, float)) and 0.0 < float(search_mm) < float("inf")):
        raise ParameterError("search_mm", search_mm, "a distance > 0 mm")


def _masked(
    image: np.ndarray,
    pixel_mm: float,
    probability: np.ndarray,
    threshold: float,
    root_rc: tuple[float, float] | None,
    search_mm: float,
) -> Segmentation:
    """The duct mask of a probability map (contrast bright in ``image``): hysteresis,
    the piece kept for the root, holes that hold contrast filled."""
    mask = _hysteresis(probability, threshold, LOW_FRACTION * threshold, pixel_mm)
    root = None
    if root_rc is not None and mask.any():
        mask, root = _keep_rooted(
            mask, root_rc, ROOT_GAP_MM / pixel_mm, search_mm / pixel_mm, grid_factor(pixel_mm)
        )
    if not mask.any():
        empty = np.zeros(image.shape, dtype=bool)
        return Segmentation(empty, probability, None, threshold, NO_DUCT_MESSAGE)
    mask = _fill_contrast_holes(mask, image, pixel_mm)
    return Segmentation(mask, probability, root, threshold, None)


def _fill_contrast_holes(mask: np.ndarray, image: np.ndarray, pixel_mm: float) -> np.ndarray:
    """The mask with its holes that hold contrast filled (:data:`HOLE_FILL_SHARE`)."""
    holes = ndi.binary_fill_holes(mask) & ~mask
    labels, n = ndi.label(holes)
    if n == 0:
        return mask
    out = mask.copy()
    reach = max(int(np.ceil(HOLE_BACKGROUND_MM / pixel_mm)), 2)
    max_px = HOLE_FILL_MAX_MM2 / pixel_mm**2
    for i, box in enumerate(ndi.find_objects(labels), start=1):
        rows = slice(max(box[0].start - reach - 2, 0), box[0].stop + reach + 2)
        cols = slice(max(box[1].start - reach - 2, 0), box[1].stop + reach + 2)
        hole = labels[rows, cols] == i
        if hole.sum() > max_px:
            continue
        m = mask[rows, cols]
        ring = ndi.binary_dilation(hole, iterations=2) & m
        near = ndi.binary_dilation(ring, iterations=reach) & ~m & ~holes[rows, cols]
        if not ring.any() or not near.any():
            continue
        img = image[rows, cols]
        background = float(median(img[near]))
        if float(median(img[hole])) - background >= HOLE_FILL_SHARE * (
            float(median(img[ring])) - background
        ):
            out[rows, cols] |= hole
    return out


def _hysteresis(probability: np.ndarray, high: float, low: float, pixel_mm: float) -> np.ndarray:
    """Pieces above ``low`` that reach ``high`` and cover at least MIN_COMPONENT_MM2."""
    labels, n = ndi.label(probability > low)
    if n == 0:
        return np.zeros(probability.shape, bool)
    seeded = np.zeros(n + 1, dtype=bool)
    seeded[np.unique(labels[probability > high])] = True
    seeded[0] = False
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    seeded &= sizes * pixel_mm**2 >= MIN_COMPONENT_MM2
    return seeded[labels]


def sharpen_edges(
    mask: np.ndarray, pixels: np.ndarray, pixel_mm: float, *, bright: bool = True
) -> np.ndarray:
    """The duct mask with the edge pixels that hold too little contrast taken off.

    Within :data:`EDGE_BAND_PX` of the mask's edge, a pixel whose excess over the local
    background (smoothed by :data:`EDGE_SMOOTH_MM`) is under :data:`EDGE_SHARE` of the
    excess at its nearest skeleton pixel (its duct's crest) is dropped; skeleton pixels
    and pixels of ducts with no excess at their crest stay, so no duct is cut.

    Parameters
    ----------
    mask : (rows, cols) bool ndarray
        A duct mask of ``pixels`` (:func:`segment_ducts`).
    pixels : (rows, cols) ndarray
        The image.
    pixel_mm : float
        Pixel pitch (mm, the scale the ducts' widths are in).
    bright : bool
        Whether contrast-filled lumen is brighter than its surroundings.

    Returns
    -------
    (rows, cols) bool ndarray
        A new mask, a subset of ``mask``.

    Raises
    ------
    ParameterError
        For an image or pitch :func:`segment_ducts` refuses, or a mask of another shape.

    Examples
    --------
    A duct 5 pixels wide, masked 9 wide: the two pixels either side with no contrast go.

    >>> img = np.zeros((40, 60)); img[18:23, 5:55] = 1.0
    >>> mask = np.zeros((40, 60), bool); mask[16:25, 5:55] = True
    >>> out = sharpen_edges(mask, img, 0.1)
    >>> out[:, 30].nonzero()[0].tolist()
    [18, 19, 20, 21, 22]
    """
    from skimage.morphology import skeletonize

    from . import graph

    image, pixel_mm, _ = _check(pixels, pixel_mm, None, None)
    m = np.asarray(mask)
    if m.shape != image.shape:
        raise ParameterError("mask", m.shape, f"a mask of the image's shape {image.shape}")
    m = m.astype(bool)
    if not m.any():
        return m
    # The mask's box; around it the smoothing's reach, and the context the local
    # background (graph._excess) needs.
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    r0, r1 = max(rows[0] - 1, 0), min(rows[-1] + 2, m.shape[0])
    c0, c1 = max(cols[0] - 1, 0), min(cols[-1] + 2, m.shape[1])
    sigma = EDGE_SMOOTH_MM / pixel_mm
    reach = int(4.0 * sigma + 0.5)  # ndi.gaussian_filter's default truncation
    s0, s1 = max(r0 - reach, 0), min(r1 + reach, m.shape[0])
    t0, t1 = max(c0 - reach, 0), min(c1 + reach, m.shape[1])
    margin = int(np.ceil(2 * graph.BACKGROUND_MM / pixel_mm))
    a0, a1 = max(r0 - margin, 0), min(r1 + margin, m.shape[0])
    b0, b1 = max(c0 - margin, 0), min(c1 + margin, m.shape[1])
    signed = image[a0:a1, b0:b1] if bright else -image[a0:a1, b0:b1]
    excess = graph._excess(signed, pixel_mm)[s0 - a0 : s1 - a0, t0 - b0 : t1 - b0]
    excess = ndi.gaussian_filter(excess, sigma)[r0 - s0 : r1 - s0, c0 - t0 : c1 - t0]
    sub = m[r0:r1, c0:c1]
    skeleton = skeletonize(sub)
    inner = ndi.binary_erosion(sub, np.ones((3, 3), bool), iterations=EDGE_BAND_PX)
    edge = sub & ~inner & ~skeleton
    if not edge.any() or not skeleton.any():
        return m
    # The crest: the most excess within a pixel of each skeleton pixel.
    sk = np.argwhere(skeleton)
    padded = np.pad(excess, 1, mode="symmetric")
    crest_at = np.max(
        [padded[sk[:, 0] + 1 + dr, sk[:, 1] + 1 + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1)],
        axis=0,
    )
    er, ec = np.nonzero(edge)
    _, nearest = cKDTree(sk).query(np.column_stack([er, ec]))
    crest = crest_at[nearest]
    drop = (crest > 0) & (excess[er, ec] < EDGE_SHARE * crest)
    m[er[drop] + r0, ec[drop] + c0] = False
    return m
