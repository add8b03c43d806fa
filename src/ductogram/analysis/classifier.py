"""Small learned models of the reading: logistic regressions stored as plain arrays.

Where a detector's candidates (a lucency that may be a mass, a dip that may be an air
bubble) are told apart by several measures at once, a logistic regression on the
standardised measures replaces hand-set thresholds on each. :class:`LogisticModel` holds
one: the measures' names, their means and standard deviations, the weights and the
intercept, and where it was trained (``provenance``). It is written and read as plain
arrays (``numpy.savez``, read with ``allow_pickle=False``) and evaluated by NumPy; it is
fitted by scikit-learn (:meth:`LogisticModel.fit`, used by the training scripts only).

A subclass names its measures (``FEATURES``); a file that lists other ones is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..core import ParameterError

__all__ = ["LogisticModel"]


@dataclass(frozen=True)
class LogisticModel:
    """P(positive) = 1 / (1 + exp(-(((x - mean) / scale) . coef + intercept))) for the
    measures ``x`` named by ``FEATURES``, in that order."""

    FEATURES: ClassVar[tuple[str, ...]] = ()

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    provenance: str = ""

    def __post_init__(self) -> None:
        n = len(self.FEATURES)
        for name in ("mean", "scale", "coef"):
            if np.shape(getattr(self, name)) != (n,):
                raise ParameterError(
                    name, np.shape(getattr(self, name)), f"({n},): one per feature"
                )
        if not np.all(np.asarray(self.scale) > 0):
            raise ParameterError("scale", self.scale, "standard deviations > 0")

    @classmethod
    def from_npz(cls, path: Any) -> LogisticModel:
        """Read a model written by :meth:`to_npz`; its feature names must be ``FEATURES``."""
        with np.load(path, allow_pickle=False) as z:
            names = tuple(str(v) for v in z["features"])
            if names != cls.FEATURES:
                raise ParameterError("features", names, f"the features {cls.FEATURES}")
            return cls(
                mean=z["mean"].astype(float),
                scale=z["scale"].astype(float),
                coef=z["coef"].astype(float),
                intercept=float(z["intercept"]),
                provenance=str(z["provenance"]),
            )

    def to_npz(self, path: Any) -> None:
        """Write the model as plain arrays."""
        np.savez(
            path,
            features=np.array(self.FEATURES),
            mean=self.mean,
            scale=self.scale,
            coef=self.coef,
            intercept=np.float64(self.intercept),
            provenance=np.array(self.provenance),
        )

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(positive) of each row of ``features`` ((n, F) or (F,))."""
        x = (np.atleast_2d(np.asarray(features, float)) - self.mean) / self.scale
        z = x @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    @classmethod
    def fit(
        cls, features: np.ndarray, labels: np.ndarray, c_inverse: float, provenance: str = ""
    ) -> LogisticModel:
        """Fit the model (scikit-learn's L2-regularised logistic regression, inverse
        strength ``c_inverse``) on the standardised ``features`` (n, F) and 0/1 ``labels``."""
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(features, float)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        model = LogisticRegression(C=c_inverse, max_iter=5000).fit((x - mean) / scale, labels)
        return cls(
            mean=mean,
            scale=scale,
            coef=model.coef_[0].astype(float),
            intercept=float(model.intercept_[0]),
            provenance=provenance,
        )
