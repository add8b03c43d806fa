"""Glandular texture: power-law spectrum, fraction map, and measuring β.

Reference: simulation.md §5.1: β = 3.17 ± 0.23 (CC), 3.30 ± 0.24 (MLO) on mammograms
(Chen et al. 2012); Burgess: about 2.8 on average. Generated textures must measure 2.8–3.4.
"""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.imaging.texture import (
    BETA_MEAN,
    draw_texture_exponent,
    glandular_texture,
    power_law_exponent,
    radial_power_spectrum,
)

PIXEL_MM = 0.085


@pytest.mark.parametrize("seed", range(5))
def test_generated_texture_measures_beta_in_the_mammographic_range(seed):
    phi = glandular_texture((1024, 1024), PIXEL_MM, mean=0.2, beta=3.0, rng=seed)
    beta = power_law_exponent(phi, PIXEL_MM)
    assert 2.8 <= beta <= 3.4


@pytest.mark.parametrize("beta", [2.8, 3.0, 3.3])
def test_measured_beta_follows_the_requested_one(beta):
    # Mean over seeds within 0.1 of the request (seed-to-seed scatter about 0.04).
    measured = [
        power_law_exponent(
            glandular_texture((1024, 1024), PIXEL_MM, mean=0.3, beta=beta, rng=s), PIXEL_MM
        )
        for s in range(4)
    ]
    assert np.mean(measured) == pytest.approx(beta, abs=0.1)


def test_pure_power_law_field_is_measured_without_bias():
    # Isotropic Gaussian field with P(f) = f^-3 exactly (no fraction transform).
    rng = np.random.default_rng(11)
    n = 1024
    fy = np.fft.fftfreq(n, PIXEL_MM)[:, None]
    fx = np.fft.rfftfreq(n, PIXEL_MM)[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = np.inf
    betas = []
    for _ in range(4):
        spectrum = np.fft.rfft2(rng.standard_normal((n, n))) * f**-1.5
        betas.append(power_law_exponent(np.fft.irfft2(spectrum, s=(n, n)), PIXEL_MM))
    assert np.mean(betas) == pytest.approx(3.0, abs=0.05)


def test_white_noise_measures_beta_zero():
    noise = np.random.default_rng(2).standard_normal((512, 512))
    assert power_law_exponent(noise, PIXEL_MM) == pytest.approx(0.0, abs=0.1)


def test_fraction_map_has_the_requested_mean_spread_and_range():
    phi = glandular_texture((512, 512), PIXEL_MM, mean=0.25, sd=0.1, rng=5)
    assert float(phi.min()) >= 0.0 and float(phi.max()) <= 1.0
    assert float(phi.mean()) == pytest.approx(0.25, rel=0.005)
    assert float(phi.std()) == pytest.approx(0.1, rel=0.15)


def test_default_spread_is_documented_fraction_of_the_bernoulli_bound():
    phi = glandular_texture((512, 512), PIXEL_MM, mean=0.5, rng=6)
    assert float(phi.std()) == pytest.approx(0.3 * 0.5, rel=0.15)


def test_same_seed_same_texture_and_dtype_rule():
    a = glandular_texture((64, 80), 0.1, rng=1)
    b = glandular_texture((64, 80), 0.1, rng=1)
    c = glandular_texture((64, 80), 0.1, rng=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.float32
    assert glandular_texture((64, 80), 0.1, rng=1, dtype=np.float64).dtype == np.float64


def test_draw_texture_exponent_is_centred_on_three():
    rng = np.random.default_rng(0)
    draws = np.array([draw_texture_exponent(rng) for _ in range(2000)])
    assert draws.mean() == pytest.approx(BETA_MEAN, abs=0.01)
    assert draws.std() == pytest.approx(0.15, abs=0.01)
    assert draws.min() >= 2.6 and draws.max() <= 3.4


def test_radial_spectrum_of_white_noise_is_flat():
    noise = np.random.default_rng(4).standard_normal((256, 256))
    f, p = radial_power_spectrum(noise, 0.1)
    # White noise of unit variance: P = σ² p² = 0.01 mm² at every frequency.
    assert np.median(p) == pytest.approx(0.01, rel=0.1)
    assert np.all(np.diff(f) > 0)


def test_texture_input_is_not_modified_by_measuring():
    phi = glandular_texture((256, 256), 0.1, rng=0)
    before = phi.copy()
    power_law_exponent(phi, 0.1)
    assert np.array_equal(phi, before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mean": 1.2}, "mean = 1.2"),
        ({"mean": 0.2, "sd": 0.5}, "sd = 0.5"),
        ({"beta": 7.0}, "beta = 7.0"),
        ({"dtype": np.int32}, "dtype"),
    ],
)
def test_bad_texture_parameters_are_refused(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        glandular_texture((64, 64), 0.1, rng=0, **kwargs)


def test_bad_shape_and_pitch_are_refused():
    with pytest.raises(ParameterError, match="shape"):
        glandular_texture((4, 64), 0.1, rng=0)
    with pytest.raises(ParameterError, match="pixel_mm"):
        glandular_texture((64, 64), -1.0, rng=0)


def test_fit_band_must_fit_the_region():
    phi = glandular_texture((64, 64), 0.1, rng=0)  # 6.4 mm: fundamental 0.16 cycles/mm
    with pytest.raises(ParameterError, match="band_per_mm"):
        power_law_exponent(phi, 0.1)
    with pytest.raises(ParameterError, match="image"):
        power_law_exponent(np.zeros(10), 0.1)


@pytest.mark.parametrize("mean", [0.01, 0.055, 0.97])
def test_fatty_and_dense_breasts_get_their_texture(mean):
    """Glandular fractions far from 1/2 (a fatty breast of 5.5 %, say) need a logistic
    offset far from 0: the mean of the map is still the requested one."""
    phi = glandular_texture((128, 128), 0.4, mean=mean, rng=3)
    assert float(phi.mean()) == pytest.approx(mean, rel=0.05)
