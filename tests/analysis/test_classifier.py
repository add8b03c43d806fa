"""The logistic models of the reading (analysis/classifier.py)."""

from typing import ClassVar

import numpy as np
import pytest

from ductogram.analysis.classifier import LogisticModel
from ductogram.core import ParameterError


class _Two(LogisticModel):
    FEATURES: ClassVar[tuple[str, ...]] = ("a", "b")


class _Other(LogisticModel):
    FEATURES: ClassVar[tuple[str, ...]] = ("a", "c")


def test_fit_recovers_the_model_that_drew_the_labels():
    # Labels drawn from P = sigma(1.5 a - 2 b + 0.5): the fitted model (almost no
    # regularisation) gives back those weights on the raw features, to sampling error.
    rng = np.random.default_rng(0)
    x = rng.normal([1.0, -2.0], [2.0, 0.5], size=(40000, 2))
    p = 1 / (1 + np.exp(-(1.5 * x[:, 0] - 2.0 * x[:, 1] + 0.5)))
    y = (rng.random(len(p)) < p).astype(int)
    m = _Two.fit(x, y, 1e6, "synthetic")
    raw = m.coef / m.scale
    assert np.allclose(raw, [1.5, -2.0], rtol=0.05)
    assert m.intercept - float(raw @ m.mean) == pytest.approx(0.5, abs=0.1)
    assert np.abs(m.probability(x) - p).max() < 0.03
    assert m.provenance == "synthetic"


def test_a_file_is_read_only_by_the_model_of_its_features(tmp_path):
    m = _Two(mean=np.zeros(2), scale=np.ones(2), coef=np.array([1.0, -1.0]), intercept=0.2)
    m.to_npz(tmp_path / "m.npz")
    back = _Two.from_npz(tmp_path / "m.npz")
    assert np.allclose(back.probability([[0.3, 0.1]]), m.probability([[0.3, 0.1]]))
    with pytest.raises(ParameterError, match="features"):
        _Other.from_npz(tmp_path / "m.npz")
    with pytest.raises(ParameterError, match="coef"):
        _Two(mean=np.zeros(2), scale=np.ones(2), coef=np.ones(3), intercept=0.0)
