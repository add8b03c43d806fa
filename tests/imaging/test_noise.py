"""Noise primitives: compound-Poisson variance, Gaussian draws, electronic noise."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.imaging.noise import add_electronic_noise, add_quantum_noise, quantum_variance_e2


def test_compound_poisson_variance_of_two_energies():
    # 100 photons of 20 keV and 50 of 30 keV, gain 20 e/keV, Swank 0.9:
    # Var = g² (100·400 + 50·900) / I.
    var = quantum_variance_e2(100 * 400.0 + 50 * 900.0, electrons_per_kev=20.0, swank_factor=0.9)
    assert var == pytest.approx(400.0 * 85000.0 / 0.9)


def test_gaussian_noise_has_the_requested_mean_and_variance():
    mean = np.full((400, 400), 5000.0, dtype=np.float32)
    q = add_quantum_noise(mean, 2500.0, rng=3)
    assert q.dtype == np.float32
    assert float(q.mean()) == pytest.approx(5000.0, abs=0.5)
    assert float(q.var()) == pytest.approx(2500.0, rel=0.02)
    assert np.all(mean == 5000.0)  # input untouched


def test_noise_is_reproducible_per_seed():
    mean = np.ones((20, 20))
    assert np.array_equal(add_quantum_noise(mean, 1.0, rng=7), add_quantum_noise(mean, 1.0, rng=7))
    assert not np.array_equal(
        add_quantum_noise(mean, 1.0, rng=7), add_quantum_noise(mean, 1.0, rng=8)
    )


def test_electronic_noise_is_additive_and_white():
    s = add_electronic_noise(np.zeros((512, 512)), 3.0, rng=0)
    assert float(s.std()) == pytest.approx(3.0, rel=0.02)
    # Neighbouring pixels uncorrelated.
    r = np.corrcoef(s[:, :-1].ravel(), s[:, 1:].ravel())[0, 1]
    assert abs(r) < 0.01
    same = np.ones(4)
    assert add_electronic_noise(same, 0.0, rng=0) is same


def test_bad_noise_parameters_are_refused():
    with pytest.raises(ParameterError, match="swank_factor"):
        quantum_variance_e2(1.0, electrons_per_kev=20.0, swank_factor=0.0)
    with pytest.raises(ParameterError, match="electrons_per_kev"):
        quantum_variance_e2(1.0, electrons_per_kev=-1.0)
    with pytest.raises(ParameterError, match="sigma"):
        add_electronic_noise(np.zeros(3), -1.0, rng=0)
