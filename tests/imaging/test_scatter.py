"""Scatter: the kernel conserves energy, SPR rises with thickness, grid and air gap cut it."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.imaging.scatter import (
    ANTISCATTER_GRID,
    Grid,
    kernel_width_mm,
    scatter_image,
    scatter_kernel,
    scatter_kernel_mass,
    scatter_kernel_transfer,
    scatter_to_primary_ratio,
)


def test_kernel_transfer_is_one_at_zero_frequency_and_falls():
    f = np.array([0.0, 0.01, 0.1, 1.0])
    k = scatter_kernel_transfer(f, 20.0)
    assert k[0] == 1.0
    assert np.all(np.diff(k) < 0)


@pytest.mark.parametrize("width_mm", [5.0, 10.0, 22.5])
def test_sampled_kernel_integrates_to_one(width_mm):
    # The kernel's integral over a window of about 20 λ, before normalising: 1 within 0.5 %.
    size = int(20 * width_mm / 0.5) | 1
    assert scatter_kernel_mass(size, 0.5, width_mm) == pytest.approx(1.0, abs=0.005)
    assert float(scatter_kernel(size, 0.5, width_mm).sum()) == pytest.approx(1.0, abs=1e-12)


def test_scatter_image_conserves_energy_for_a_source_well_inside():
    src = np.zeros((600, 600))
    src[250:350, 250:350] = 3.0
    out = scatter_image(src, 0.5, 15.0)
    assert float(out.sum()) == pytest.approx(float(src.sum()), rel=0.01)
    assert float(out.min()) >= -1e-9


def test_scatter_image_loses_what_falls_off_the_detector():
    src = np.zeros((200, 200))
    src[:, :5] = 1.0  # a source at the edge: about half spreads beyond it
    out = scatter_image(src, 0.5, 10.0)
    assert 0.3 < float(out.sum() / src.sum()) < 0.7


def test_scatter_under_a_large_uniform_source_equals_the_source():
    # Centre of a uniform field 16 λ across: S = SPR P (the kernel sums to 1).
    src = np.full((800, 800), 2.0, dtype=np.float32)
    out = scatter_image(src, 0.4, 20.0)
    assert out.dtype == np.float32
    assert float(out[400, 400]) == pytest.approx(2.0, rel=0.02)


def test_spr_rises_with_thickness_and_lies_in_the_literature_range():
    t = np.array([20.0, 30.0, 40.0, 50.0, 60.0, 70.0])
    spr = np.array([scatter_to_primary_ratio(x) for x in t])
    assert np.all(np.diff(spr) > 0)
    # 0.3–0.6 for 4–6 cm without grid (Boone & Cooper 2000; issue brief).
    assert 0.3 <= spr[2] and spr[4] <= 0.6


def test_spr_of_a_thickness_map_matches_the_scalar():
    t = np.array([[40.0, 50.0]])
    assert scatter_to_primary_ratio(t)[0, 1] == pytest.approx(scatter_to_primary_ratio(50.0))


def test_spr_rises_slowly_with_beam_energy():
    lo = scatter_to_primary_ratio(50.0, mean_energy_kev=17.0)
    hi = scatter_to_primary_ratio(50.0, mean_energy_kev=21.0)
    assert lo < hi < 1.1 * lo


def test_grid_cuts_spr_by_its_transmission_ratio():
    with_grid = scatter_to_primary_ratio(50.0, grid=ANTISCATTER_GRID)
    assert with_grid == pytest.approx(0.5 * 0.18 / 0.70)


def test_air_gap_of_a_magnification_view_cuts_spr():
    contact = scatter_to_primary_ratio(50.0)
    same = scatter_to_primary_ratio(50.0, mid_to_detector_mm=45.0)
    magnified = scatter_to_primary_ratio(50.0, mid_to_detector_mm=290.0)
    assert same == pytest.approx(contact)
    assert magnified < 0.2 * contact


def test_kernel_widens_with_distance_to_the_detector():
    assert kernel_width_mm(45.0) < kernel_width_mm(290.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: scatter_to_primary_ratio(-1.0), "thickness_mm = -1.0"),
        (lambda: scatter_to_primary_ratio(50.0, mean_energy_kev=60.0), "mean_energy_kev"),
        (lambda: Grid(primary_transmission=1.5), "primary_transmission"),
        (lambda: Grid(0.7, 0.8), "scatter_transmission"),
        (lambda: scatter_kernel(10, 1.0, 5.0), "odd number"),
        (lambda: scatter_image(np.zeros(5), 0.1, 5.0), "source"),
        (lambda: scatter_image(np.zeros((5, 5)), 0.1, 0.0), "width_mm"),
        (lambda: kernel_width_mm(0.0), "mid_to_detector_mm"),
    ],
)
def test_bad_scatter_inputs_are_refused(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
