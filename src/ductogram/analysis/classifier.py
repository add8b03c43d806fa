"""Small learned models of the reading: logistic regressions stored as plain arrays.

Where a detector's candidates (a lucency that may be a mass, a dip that may be an air
bubble) are told apart by several measures at once, a logistic regression on the
standardised measures replaces hand-set thresholds on each. :class:`LogisticModel` is
linear in them; :class:`AdditiveLogisticModel` gives each measure a spline of its own (a
window, a floor). Each holds the measures' names, their means and standard deviations,
its weights and intercept, and where it was trained (``provenance``). It is written and
read as plain arrays (``numpy.savez``, read with ``allow_pickle=False``) and evaluated by
NumPy and SciPy; it is fitted by scikit-learn (``fit``, used by the training scripts
only).

A subclass names its measures (``FEATURES``); a file that lists other ones is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..core import ParameterError

__all__ = ["AdditiveLogisticModel", "LogisticModel"]


class _ArrayModel:
    """What both models share: their measures' names (``FEATURES``), the names of their
    array fields (``ARRAYS``), and their file of plain arrays."""

    FEATURES: ClassVar[tuple[str, ...]] = ()
    ARRAYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_npz(cls, path: Any) -> Any:
        """Read a model written by :meth:`to_npz`; its feature names must be ``FEATURES``."""
        with np.load(path, allow_pickle=False) as z:
            names = tuple(str(v) for v in z["features"])
            if names != cls.FEATURES:
                raise ParameterError("features", names, f"the features {cls.FEATURES}")
            arrays = {name: z[name].astype(float) for name in cls.ARRAYS}
            return cls(**arrays, intercept=float(z["intercept"]), provenance=str(z["provenance"]))

    def to_npz(self, path: Any) -> None:
        """Write the model as plain arrays."""
        np.savez(
            path,
            features=np.array(self.FEATURES),
            **{name: getattr(self, name) for name in self.ARRAYS},
            intercept=np.float64(self.intercept),  # type: ignore[attr-defined]
            provenance=np.array(self.provenance),  # type: ignore[attr-defined]
        )

    def _check_standardisation(self) -> None:
        n = len(self.FEATURES)
        for name in ("mean", "scale"):
            if np.shape(getattr(self, name)) != (n,):
                raise ParameterError(
                    name, np.shape(getattr(self, name)), f"({n},): one per feature"
                )
        if not np.all(np.asarray(self.scale) > 0):  # type: ignore[attr-defined]
            raise ParameterError("scale", self.scale, "standard deviations > 0")  # type: ignore[attr-defined]

    def _standardised(self, features: np.ndarray) -> np.ndarray:
        """``features`` ((n, F) or (F,)) as (n, F) z-scores."""
        x = np.atleast_2d(np.asarray(features, float))
        return (x - self.mean) / self.scale  # type: ignore[attr-defined]


def _standardisation(features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training features as floats, their means and their standard deviations (1
    where a feature does not vary)."""
    x = np.asarray(features, float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    return x, mean, scale


def _logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


@dataclass(frozen=True)
class LogisticModel(_ArrayModel):
    """P(positive) = 1 / (1 + exp(-(((x - mean) / scale) . coef + intercept))) for the
    measures ``x`` named by ``FEATURES``, in that order."""

    ARRAYS: ClassVar[tuple[str, ...]] = ("mean", "scale", "coef")

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    provenance: str = ""

    def __post_init__(self) -> None:
        self._check_standardisation()
        n = len(self.FEATURES)
        if np.shape(self.coef) != (n,):
            raise ParameterError("coef", np.shape(self.coef), f"({n},): one per feature")

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(positive) of each row of ``features`` ((n, F) or (F,))."""
        return _logistic(self._standardised(features) @ self.coef + self.intercept)

    @classmethod
    def fit(
        cls, features: np.ndarray, labels: np.ndarray, c_inverse: float, provenance: str = ""
    ) -> LogisticModel:
        """Fit the model (scikit-learn's L2-regularised logistic regression, inverse
        strength ``c_inverse``) on the standardised ``features`` (n, F) and 0/1 ``labels``."""
        from sklearn.linear_model import LogisticRegression

        x, mean, scale = _standardisation(features)
        model = LogisticRegression(C=c_inverse, max_iter=5000).fit((x - mean) / scale, labels)
        return cls(
            mean=mean,
            scale=scale,
            coef=model.coef_[0].astype(float),
            intercept=float(model.intercept_[0]),
            provenance=provenance,
        )


@dataclass(frozen=True)
class AdditiveLogisticModel(_ArrayModel):
    """A generalised additive logistic model: P(positive) = 1 / (1 + exp(-(Σ_f s_f(z_f) +
    intercept))), where z_f = (x_f - mean_f) / scale_f and each shape function s_f is a
    cubic B-spline (knots ``knots[f]``, coefficients ``coef[f]``), constant beyond its end
    knots (scikit-learn's ``SplineTransformer`` with ``extrapolation="constant"``). Each
    measure bends the odds its own way (a window, a floor), which a linear model cannot,
    and each s_f can be drawn and read on its own (Hastie & Tibshirani, Generalized
    Additive Models, 1990)."""

    ARRAYS: ClassVar[tuple[str, ...]] = ("mean", "scale", "knots", "coef")
    DEGREE: ClassVar[int] = 3

    mean: np.ndarray
    scale: np.ndarray
    knots: np.ndarray  # (F, K): each feature's knots, boundary knots repeated outward
    coef: np.ndarray  # (F, K - DEGREE - 1)
    intercept: float
    provenance: str = ""

    def __post_init__(self) -> None:
        self._check_standardisation()
        n = len(self.FEATURES)
        k = np.shape(self.knots)
        if len(k) != 2 or k[0] != n or k[1] < 2 * self.DEGREE + 2:
            raise ParameterError("knots", k, f"({n}, K) with K >= {2 * self.DEGREE + 2}")
        if np.shape(self.coef) != (n, k[1] - self.DEGREE - 1):
            raise ParameterError("coef", np.shape(self.coef), f"({n}, {k[1] - self.DEGREE - 1})")
        if not np.all(np.diff(self.knots, axis=1) >= 0):
            raise ParameterError("knots", "not sorted", "knots in increasing order")

    def shape_functions(self, features: np.ndarray) -> np.ndarray:
        """Each measure's term s_f (n, F) of the log-odds for the rows of ``features``."""
        from scipy.interpolate import BSpline

        z = self._standardised(features)
        d = self.DEGREE
        out = np.empty_like(z)
        for f in range(z.shape[1]):
            t = self.knots[f]
            out[:, f] = BSpline(t, self.coef[f], d)(np.clip(z[:, f], t[d], t[-d - 1]))
        return out

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(positive) of each row of ``features`` ((n, F) or (F,))."""
        return _logistic(self.shape_functions(features).sum(axis=1) + self.intercept)

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        labels: np.ndarray,
        c_inverse: float,
        provenance: str = "",
        n_knots: int = 5,
    ) -> AdditiveLogisticModel:
        """Fit the model: the features standardised, each expanded in ``n_knots`` uniform
        knots over its range (scikit-learn's ``SplineTransformer``), and an L2-regularised
        logistic regression (inverse strength ``c_inverse``) on the expansion."""
        return cls(
            **cls._fitted_arrays(features, labels, c_inverse, n_knots), provenance=provenance
        )

    @classmethod
    def _fitted_arrays(
        cls, features: np.ndarray, labels: np.ndarray, c_inverse: float, n_knots: int
    ) -> dict[str, Any]:
        """The fields :meth:`fit` fits (all but ``provenance``)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import SplineTransformer

        x, mean, scale = _standardisation(features)
        z = (x - mean) / scale
        spline = SplineTransformer(n_knots=n_knots, degree=cls.DEGREE, extrapolation="constant")
        basis = spline.fit_transform(z)
        model = LogisticRegression(C=c_inverse, max_iter=5000).fit(basis, labels)
        per = basis.shape[1] // x.shape[1]
        return {
            "mean": mean,
            "scale": scale,
            "knots": np.array([b.t for b in spline.bsplines_]),
            "coef": model.coef_[0].reshape(x.shape[1], per).astype(float),
            "intercept": float(model.intercept_[0]),
        }
