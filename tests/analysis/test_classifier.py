"""The logistic models of the reading (analysis/classifier.py)."""

from typing import ClassVar

import numpy as np
import pytest

from ductogram.analysis.classifier import AdditiveLogisticModel, LogisticModel
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


class _Three(AdditiveLogisticModel):
    FEATURES: ClassVar[tuple[str, ...]] = ("a", "b", "c")


def test_additive_model_is_scikit_learn_s_spline_logistic_regression(tmp_path):
    # The NumPy evaluation (a B-spline per feature, constant beyond its end knots) gives
    # the probabilities of the scikit-learn pipeline it was fitted as, inside and far
    # outside the training range, and round-trips through its file.
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import SplineTransformer, StandardScaler

    rng = np.random.default_rng(1)
    x = rng.normal(size=(4000, 3))
    y = ((np.abs(x[:, 0]) < 0.7) ^ (rng.random(4000) < 0.1)).astype(int)
    m = _Three.fit(x, y, 1.0, "synthetic", n_knots=5)
    scaler = StandardScaler().fit(x)
    spline = SplineTransformer(n_knots=5, degree=3, extrapolation="constant")
    basis = spline.fit_transform(scaler.transform(x))
    ref = LogisticRegression(C=1.0, max_iter=5000).fit(basis, y)
    test = rng.normal(size=(500, 3)) * 3
    expected = ref.predict_proba(spline.transform(scaler.transform(test)))[:, 1]
    assert np.allclose(m.probability(test), expected, atol=1e-9)
    # The window on the first feature is learned: its shape function peaks near 0.
    s = m.shape_functions(np.column_stack([np.linspace(-3, 3, 61), np.zeros((61, 2))]))[:, 0]
    assert abs(np.linspace(-3, 3, 61)[np.argmax(s)]) < 0.5
    m.to_npz(tmp_path / "g.npz")
    back = _Three.from_npz(tmp_path / "g.npz")
    assert np.allclose(back.probability(test), m.probability(test))
    with pytest.raises(ParameterError, match="coef"):
        _Three(mean=m.mean, scale=m.scale, knots=m.knots, coef=m.coef[:, :-1], intercept=0.0)
    with pytest.raises(ParameterError, match="knots"):
        _Three(mean=m.mean, scale=m.scale, knots=m.knots[:, ::-1], coef=m.coef, intercept=0.0)
