"""Overlap scores of a segmented duct mask against a reference mask, and the confidence
interval of a proportion.

:func:`dice` is the Sørensen–Dice coefficient; :func:`cl_dice` is the centreline Dice of
Shit et al. (2021), which rewards a mask that keeps the tree's topology (every branch
present and connected) rather than its pixel area, and so weighs thin ducts as much as thick
ones.

Both take boolean (or 0/1) masks of the same 2-D shape, in the image frame (row, col).

:func:`proportion_ci` is the Wilson score interval of a proportion (k of n), which every
rate the evaluations report (sensitivities, false-flag rates, accuracies) carries: on the
few cases a target is measured on (10 views with bubbles, 20 filling defects), the
interval says whether a figure misses its target or only may.

References
----------
E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
J. Am. Stat. Assoc. 22 (1927) 209-212. doi:10.1080/01621459.1927.10502953

S. Shit, J. C. Paetzold, A. Sekuboyina et al., "clDice - a novel topology-preserving loss
function for tubular structure segmentation", CVPR 2021, 16560-16569.
doi:10.1109/CVPR46437.2021.01629
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from skimage.morphology import skeletonize

from ductogram.core.errors import ParameterError

__all__ = ["against_target", "cl_dice", "dice", "proportion_ci"]


def _masks(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred)
    truth = np.asarray(truth)
    if pred.ndim != 2:
        raise ParameterError("pred", pred.shape, "a 2-D mask (rows, cols)")
    if truth.shape != pred.shape:
        raise ParameterError("truth", truth.shape, f"a mask of the prediction's shape {pred.shape}")
    return pred.astype(bool), truth.astype(bool)


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Sørensen–Dice coefficient 2|P∩T| / (|P| + |T|) of two masks.

    Parameters
    ----------
    pred, truth : (rows, cols) bool ndarray
        Predicted and reference masks (nonzero = inside).

    Returns
    -------
    float
        In [0, 1]; 1 when both masks are empty (nothing to find, nothing found).

    Raises
    ------
    ParameterError
        When the masks are not 2-D or differ in shape.

    Examples
    --------
    >>> a = np.zeros((4, 4), bool); a[:2] = True
    >>> b = np.zeros((4, 4), bool); b[1:3] = True
    >>> dice(a, b)
    0.5
    """
    p, t = _masks(pred, truth)
    total = int(p.sum()) + int(t.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.count_nonzero(p & t)) / total


def cl_dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Centreline Dice (clDice) of two masks.

    With S_P, S_T the skeletons (:func:`skimage.morphology.skeletonize`) of the predicted and
    reference masks, topology precision Tprec = |S_P ∩ T| / |S_P| and topology sensitivity
    Tsens = |S_T ∩ P| / |S_T| (Shit et al. 2021, eq. 1-2); clDice is their harmonic mean.

    Parameters
    ----------
    pred, truth : (rows, cols) bool ndarray
        Predicted and reference masks (nonzero = inside).

    Returns
    -------
    float
        In [0, 1]; 1 when both masks are empty, 0 when only one is.

    Raises
    ------
    ParameterError
        When the masks are not 2-D or differ in shape.

    Examples
    --------
    A one-pixel line is its own skeleton; against its first half, Tprec = 1/2, Tsens = 1:

    >>> a = np.zeros((5, 24), bool); a[2, 2:22] = True
    >>> b = np.zeros((5, 24), bool); b[2, 2:12] = True
    >>> round(cl_dice(a, b), 4)
    0.6667
    """
    p, t = _masks(pred, truth)
    if not p.any() and not t.any():
        return 1.0
    if not p.any() or not t.any():
        return 0.0
    sp = skeletonize(p)
    st = skeletonize(t)
    tprec = np.count_nonzero(sp & t) / max(int(sp.sum()), 1)
    tsens = np.count_nonzero(st & p) / max(int(st.sum()), 1)
    if tprec + tsens == 0:
        return 0.0
    return float(2.0 * tprec * tsens / (tprec + tsens))


def proportion_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n``
    (:meth:`scipy.stats.binomtest(k, n).proportion_ci <scipy.stats.BinomTestResult>`).

    Parameters
    ----------
    k : int
        Successes, 0 <= k <= n.
    n : int
        Trials; 0 gives (NaN, NaN): nothing was measured.
    confidence : float
        Confidence level, in (0, 1).

    Returns
    -------
    (float, float)
        Lower and upper bound, within [0, 1].

    Raises
    ------
    ParameterError
        When ``k`` or ``n`` is not a whole number with 0 <= k <= n, or ``confidence`` is
        not in (0, 1).

    Examples
    --------
    8 views of 10 flagged:

    >>> [round(x, 3) for x in proportion_ci(8, 10)]
    [0.49, 0.943]
    """
    from scipy.stats import binomtest

    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ParameterError(name, value, "a whole number >= 0")
    if k > n:
        raise ParameterError("k", k, f"at most n = {n}")
    if not 0.0 < confidence < 1.0:
        raise ParameterError("confidence", confidence, "a level in (0, 1)")
    if n == 0:
        return (float("nan"), float("nan"))
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(ci.low), float(ci.high))


def against_target(
    value: float, target: tuple[str, float], ci: tuple[float, float] | None = None
) -> dict[str, Any]:
    """A figure against its target: whether the figure meets it, and, where the figure
    has an interval, whether the interval *settles* it (lies wholly on one side of the
    target value: the target is met, or missed, beyond the play of chance).

    Parameters
    ----------
    value : float
        The figure (NaN: nothing measured, not met).
    target : (str, float)
        (">=" or "<=", bound).
    ci : (float, float), optional
        The figure's interval.

    Returns
    -------
    dict
        ``target``, ``value``, ``met``; with ``ci``, ``ci95`` and ``settled``.

    Examples
    --------
    >>> against_target(0.85, (">=", 0.9), proportion_ci(17, 20))["settled"]
    False
    """
    op, bound = target
    met = bool(math.isfinite(value) and (value >= bound if op == ">=" else value <= bound))
    out: dict[str, Any] = {"target": target, "value": value, "met": met}
    if ci is not None:
        out["ci95"] = ci
        out["settled"] = bool(np.all(np.isfinite(ci)) and not ci[0] <= bound <= ci[1])
    return out
