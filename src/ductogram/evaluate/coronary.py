"""Real-image check of the duct segmentation on x-ray coronary angiograms.

A coronary angiogram is the closest public analogue of a galactogram: a contrast-filled
branching lumen in one x-ray projection, with an expert mask of the filled tree. The
CIMAT set (``../shared/validation-data/coronary-xca-cimat80/training``: 40 angiograms of
300 x 300 pixels, vessels dark, masks ``N_gt.png``; see its README for the source and terms)
is read here by the same :func:`ductogram.analysis.segmentation.segment_ducts` that reads
ductograms, with a pixel classifier trained on the training folds only.

:func:`coronary_cross_validation` splits the images into folds; for each held-out fold it
trains a small MLP (scikit-learn) on the multiscale features of the other folds, picks the
probability threshold that maximises the mean Dice on them, converts the model to a
:class:`~ductogram.analysis.segmentation.PixelClassifier`, and segments the held-out
images. It also scores the plain baseline of the data set's README: Frangi vesselness
(scales 1-5 pixels) with one global threshold chosen on the training folds.

The angiograms carry no pixel spacing; :data:`NOMINAL_PIXEL_MM` puts the coronary lumen
(radius 1-6 pixels) on the scales that the duct segmentation uses for ducts.

References
----------
F. Cervantes-Sanchez, I. Cruz-Aceves, A. Hernandez-Aguirre et al., "Automatic segmentation
of coronary arteries in x-ray angiograms using multiscale analysis and artificial neural
networks", Appl. Sci. 9(24):5507, 2019. doi:10.3390/app9245507
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from scipy import ndimage as ndi
from skimage.filters import frangi

from ductogram.analysis.segmentation import (
    CONTEXT_SCALES_MM,
    SCALES_MM,
    PixelClassifier,
    internal_features,
    segment_ducts,
)
from ductogram.core.errors import ParameterError

from .metrics import cl_dice, dice

__all__ = [
    "NOMINAL_PIXEL_MM",
    "coronary_cross_validation",
    "field_of_view",
    "load_angiograms",
    "train_classifier",
]

NOMINAL_PIXEL_MM = 0.15
"""Pitch (mm) assumed for the 300 x 300 angiograms: the Gaussian scales 0.15-1.2 mm of the
duct features become 1-8 pixels, the radii of the coronary lumen in these images."""

SAMPLES_PER_IMAGE = 6000
"""Training pixels drawn at random inside the field of view of each training image."""

HIDDEN_LAYERS = (32, 16)
"""Hidden layer sizes of the per-fold MLP."""

MAX_EPOCHS = 25
"""Adam epochs of the per-fold MLP (about 10 s per fold on one CPU core)."""

FRANGI_SIGMAS = (1, 2, 3, 4, 5)
"""Scales (pixels) of the Frangi baseline, as in the data set's README."""

_THRESHOLDS = np.round(np.arange(0.2, 0.71, 0.05), 2)


def load_angiograms(folder: str | Path) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """The angiograms (float32 in [0, 1], vessels dark) and masks (``N_gt.png`` > 127).

    Parameters
    ----------
    folder : str or Path
        A folder of ``N.png`` and ``N_gt.png`` pairs.

    Returns
    -------
    names, images, masks : lists, in the order of the image number
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError("folder", str(folder), "a folder of N.png and N_gt.png files")
    names = sorted((p.stem for p in folder.glob("*.png") if p.stem.isdigit()), key=lambda s: int(s))
    images, masks = [], []
    for name in names:
        gt = folder / f"{name}_gt.png"
        if not gt.is_file():
            raise ParameterError("folder", str(folder), f"a mask {gt.name} for {name}.png")
        img = np.asarray(PILImage.open(folder / f"{name}.png").convert("L"), np.float32) / 255
        images.append(img)
        masks.append(np.asarray(PILImage.open(gt).convert("L")) > 127)
    if not names:
        raise ParameterError("folder", str(folder), "at least one N.png / N_gt.png pair")
    return names, images, masks


def field_of_view(image: np.ndarray) -> np.ndarray:
    """The exposed field inside the circular collimator (near-black outside it).

    Pixels brighter than 15 % of the 99th percentile (the collimator blade is near black:
    4-9 % in the CIMAT images, the darkest vessel 22 %), opened, holes filled, then eroded
    by 3 pixels so that the collimator edge itself is left out.
    """
    fov = image > 0.15 * float(np.percentile(image, 99))
    fov = ndi.binary_opening(fov, iterations=2)
    fov = ndi.binary_fill_holes(fov)
    fov = ndi.binary_erosion(fov, iterations=3)
    return fov if fov.any() else np.ones_like(fov)


def train_classifier(
    features: list[np.ndarray],
    labels: list[np.ndarray],
    regions: list[np.ndarray],
    *,
    samples_per_image: int = SAMPLES_PER_IMAGE,
    hidden_layers: tuple[int, ...] = HIDDEN_LAYERS,
    max_epochs: int = MAX_EPOCHS,
    scales_mm: tuple[float, ...] = SCALES_MM,
    context_scales_mm: tuple[float, ...] = CONTEXT_SCALES_MM,
    rng: np.random.Generator | int | None = 0,
) -> PixelClassifier:
    """Fit an MLP on pixels drawn from each image's region; threshold from the same images.

    Parameters
    ----------
    features : list of (rows, cols, F) float32 ndarray
        From :func:`ductogram.analysis.segmentation.internal_features`.
    labels : list of (rows, cols) bool ndarray
        Lumen masks on the same grid.
    regions : list of (rows, cols) bool ndarray
        Where pixels are drawn.
    samples_per_image, hidden_layers, max_epochs
        Size of the training set and of the network.
    scales_mm, context_scales_mm : tuple of float
        The scales the features were computed at (kept with the model).
    rng : numpy.random.Generator or int or None

    Returns
    -------
    PixelClassifier
        With the threshold (0.2-0.7) that maximises the mean Dice on the training images.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(rng)
    xs, ys = [], []
    for f, y, r in zip(features, labels, regions, strict=True):
        idx = np.flatnonzero(r)
        idx = rng.choice(idx, min(samples_per_image, idx.size), replace=False)
        xs.append(f.reshape(-1, f.shape[-1])[idx])
        ys.append(y.ravel()[idx])
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    mlp = MLPClassifier(
        hidden_layers,
        max_iter=max_epochs,
        batch_size=512,
        alpha=1e-4,
        random_state=int(rng.integers(2**31)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit((x - mean) / scale, y)
    model = PixelClassifier.from_sklearn(
        mlp, mean, scale, scales_mm=scales_mm, context_scales_mm=context_scales_mm
    )
    # threshold: best mean Dice over the training images
    probs = []
    for f, r in zip(features, regions, strict=True):
        p = np.zeros(r.shape, np.float32)
        p[r] = model.predict(f[r])
        probs.append(p)
    scores = [
        np.mean([dice(p > t, y) for p, y in zip(probs, labels, strict=True)]) for t in _THRESHOLDS
    ]
    threshold = float(_THRESHOLDS[int(np.argmax(scores))])
    return PixelClassifier(
        model.mean, model.scale, model.weights, model.biases, threshold, scales_mm
    )


def _frangi_threshold(vesselness: list[np.ndarray], masks: list[np.ndarray]) -> float:
    """One global threshold (a quantile grid over all images) maximising the mean Dice."""
    allv = np.concatenate([v.ravel() for v in vesselness])
    candidates = np.unique(np.quantile(allv, np.linspace(0.80, 0.995, 40)))
    scores = [
        np.mean([dice(v > t, m) for v, m in zip(vesselness, masks, strict=True)])
        for t in candidates
    ]
    return float(candidates[int(np.argmax(scores))])


def coronary_cross_validation(
    folder: str | Path,
    folds: int = 5,
    seed: int = 0,
    *,
    limit: int | None = None,
    **train_options,
) -> dict:
    """Cross-validated Dice and clDice of the duct segmentation on coronary angiograms.

    Parameters
    ----------
    folder : str or Path
        The training folder of the CIMAT coronary set (``N.png``, ``N_gt.png``).
    folds : int
        Number of folds (2 or more); images are shuffled with ``seed`` then split.
    seed : int
        Seeds the split, the pixel draws and the networks.
    limit : int or None
        Use only the first ``limit`` images (in the order of their number).
    **train_options
        Passed to :func:`train_classifier` (``samples_per_image``, ``hidden_layers``, ...).

    Returns
    -------
    dict
        ``images``: per image {name, fold, dice, cl_dice, frangi_dice, frangi_cl_dice};
        ``dice``, ``cl_dice``, ``frangi_dice``, ``frangi_cl_dice``: means over images;
        ``thresholds``, ``frangi_thresholds``: per fold; ``folds``, ``seed``, ``n_images``.
    """
    names, images, masks = load_angiograms(folder)
    if limit is not None:
        names, images, masks = names[:limit], images[:limit], masks[:limit]
    n = len(names)
    if not 2 <= folds <= n:
        raise ParameterError("folds", folds, f"an integer in [2, {n}] (the number of images)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    split = np.array_split(order, folds)
    scales = tuple(train_options.pop("scales_mm", SCALES_MM))
    context = tuple(train_options.pop("context_scales_mm", CONTEXT_SCALES_MM))
    fovs = [field_of_view(im) for im in images]
    grids = [
        internal_features(
            im,
            NOMINAL_PIXEL_MM,
            bright=False,
            region=fov,
            scales_mm=scales,
            context_scales_mm=context,
        )
        for im, fov in zip(images, fovs, strict=True)
    ]
    vesselness = [
        frangi(im, sigmas=FRANGI_SIGMAS, black_ridges=True) * fov
        for im, fov in zip(images, fovs, strict=True)
    ]
    rows: list[dict] = []
    thresholds, frangi_thresholds = [], []
    for k, test in enumerate(split):
        train = [i for i in order if i not in set(test.tolist())]
        model = train_classifier(
            [grids[i].features for i in train],
            [masks[i] for i in train],
            [grids[i].region for i in train],
            scales_mm=scales,
            context_scales_mm=context,
            rng=rng,
            **train_options,
        )
        ft = _frangi_threshold([vesselness[i] for i in train], [masks[i] for i in train])
        thresholds.append(model.threshold)
        frangi_thresholds.append(ft)
        for i in test:
            seg = segment_ducts(
                images[i], NOMINAL_PIXEL_MM, bright=False, region=fovs[i], model=model
            )
            fr = vesselness[i] > ft
            rows.append(
                {
                    "name": names[i],
                    "fold": k,
                    "dice": dice(seg.mask, masks[i]),
                    "cl_dice": cl_dice(seg.mask, masks[i]),
                    "frangi_dice": dice(fr, masks[i]),
                    "frangi_cl_dice": cl_dice(fr, masks[i]),
                }
            )
    rows.sort(key=lambda r: int(r["name"]))
    out = {"folds": folds, "seed": seed, "n_images": n, "images": rows}
    for key in ("dice", "cl_dice", "frangi_dice", "frangi_cl_dice"):
        out[key] = float(np.mean([r[key] for r in rows]))
    out["thresholds"] = thresholds
    out["frangi_thresholds"] = frangi_thresholds
    return out
