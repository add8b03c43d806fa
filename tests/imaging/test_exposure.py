"""Automatic exposure control: beam-quality table, pre-exposure, mAs, target."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.imaging.exposure import (
    AEC_TARGET_DU,
    MAS_RANGE,
    Technique,
    automatic_exposure,
    select_technique,
)
from ductogram.imaging.formation import form_image
from ductogram.imaging.geometry import Geometry

RHO_GLANDULAR, RHO_ADIPOSE = 1.04, 0.93


def breast_paths(geometry, thickness_mm, glandularity, *, dtype=np.float32):
    """A compressed breast: a half-disc of full thickness from the chest wall, with skin."""
    vg = glandularity / RHO_GLANDULAR
    vf = vg / (vg + (1.0 - glandularity) / RHO_ADIPOSE)
    shape = (geometry.rows, geometry.cols)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    x = (rows + 0.5) * geometry.pixel_mm
    y = (cols + 0.5 - 0.5 * shape[1]) * geometry.pixel_mm
    inside = np.hypot(x / 80.0, y / 70.0) <= 1.0
    core = np.where(inside, thickness_mm - 3.0, 0.0)
    return {
        "adipose": (core * (1 - vf)).astype(dtype),
        "glandular": (core * vf).astype(dtype),
        "skin": np.where(inside, 3.0, 0.0).astype(dtype),
        "pmma": np.full(shape, 2.0, dtype=dtype),
    }


def aec_for(thickness_mm, glandularity, **kw):
    g = Geometry.for_breast(80.0, 70.0, thickness_mm, pixel_mm=0.17)
    return g, automatic_exposure(
        breast_paths(g, thickness_mm, glandularity),
        g,
        thickness_mm,
        glandularity=glandularity,
        **kw,
    )


@pytest.mark.parametrize(
    ("thickness", "expected"),
    [
        (20.0, ("W", "Rh", 25)),
        (40.0, ("W", "Rh", 28)),
        (50.0, ("W", "Rh", 29)),
        (60.0, ("W", "Rh", 31)),
        (90.0, ("W", "Ag", 35)),
    ],
)
def test_tungsten_table_raises_kv_with_thickness(thickness, expected):
    t = select_technique(thickness)
    assert (t.anode.value, t.filter.value, t.kvp) == expected and t.mas is None


def test_molybdenum_table_uses_mo_mo_for_thin_breasts():
    assert select_technique(25.0, table="Mo").filter.value == "Mo"
    assert select_technique(55.0, table="Mo").filter.value == "Rh"


def test_dense_breasts_get_one_kv_more():
    assert select_technique(50.0, glandularity=0.6).kvp == select_technique(50.0).kvp + 1


def test_aec_hits_its_target_in_the_region_within_a_few_percent():
    g, aec = aec_for(50.0, 0.3)
    assert aec.expected_du == pytest.approx(AEC_TARGET_DU, rel=0.01)
    assert not aec.limited
    # The main exposure, with noise and blur, reads the target in the AEC region.
    paths = breast_paths(g, 50.0, 0.3)
    tech = aec.technique
    img = form_image(paths, g, tech.spectrum(), tech.mas, thickness_mm=50.0, rng=1)
    tissue = paths["adipose"] + paths["glandular"] + paths["skin"]
    region = tissue >= 0.8 * tissue.max()
    assert float(img.for_processing[region].mean()) == pytest.approx(AEC_TARGET_DU, rel=0.03)


def test_aec_gives_more_mas_to_thicker_breasts():
    mas = [aec_for(t, 0.3)[1].technique.mas for t in (30.0, 45.0, 60.0, 75.0)]
    assert all(b > a for a, b in itertools.pairwise(mas))


def test_aec_gives_more_mas_to_denser_breasts():
    mas = [aec_for(50.0, gl)[1].technique.mas for gl in (0.1, 0.3, 0.45)]
    assert all(b > a for a, b in itertools.pairwise(mas))
    # Also across the density step of the table (1 kV more at 50 % and above).
    assert aec_for(50.0, 0.8)[1].technique.mas > mas[-1]


def test_aec_without_grid_needs_fewer_mas():
    _, with_grid = aec_for(45.0, 0.5)
    _, without = aec_for(45.0, 0.5, grid=None)
    assert without.technique.mas < 0.85 * with_grid.technique.mas


def test_aec_region_can_be_given():
    g = Geometry(pixel_mm=0.1, rows=40, cols=40)
    paths = breast_paths(g, 45.0, 0.5)
    region = np.zeros((40, 40), dtype=bool)
    region[5:10, 15:25] = True
    aec = automatic_exposure(paths, g, 45.0, region=region)
    assert aec.expected_du == pytest.approx(AEC_TARGET_DU, rel=0.01)


def test_aec_clamps_the_mas_and_says_so():
    g = Geometry(pixel_mm=0.1, rows=20, cols=20)
    paths = breast_paths(g, 45.0, 0.5)
    aec = automatic_exposure(paths, g, 45.0, target_du=1e7)
    assert aec.limited and aec.technique.mas == MAS_RANGE[1]


def test_a_fixed_beam_quality_keeps_its_kv():
    g = Geometry(pixel_mm=0.1, rows=20, cols=20)
    fixed = Technique("Mo", "Mo", 28)
    aec = automatic_exposure(breast_paths(g, 45.0, 0.5), g, 45.0, technique=fixed)
    assert (aec.technique.anode.value, aec.technique.kvp) == ("Mo", 28)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: select_technique(0.0), "thickness_mm = 0.0"),
        (lambda: select_technique(50.0, table="Cu"), "table = 'Cu'"),
        (lambda: select_technique(50.0, glandularity=2.0), "glandularity = 2.0"),
        (lambda: Technique("W", "Mo", 28), "W/Mo"),
        (lambda: Technique("W", "Rh", 45), "kvp = 45"),
        (lambda: Technique("W", "Rh", 28, -3.0), "mas = -3.0"),
    ],
)
def test_bad_techniques_are_refused(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_bad_aec_inputs_are_refused():
    g = Geometry(pixel_mm=0.1, rows=20, cols=20)
    paths = breast_paths(g, 45.0, 0.5)
    with pytest.raises(ParameterError, match="target_du"):
        automatic_exposure(paths, g, 45.0, target_du=0.0)
    with pytest.raises(ParameterError, match="pre_exposure_mas"):
        automatic_exposure(paths, g, 45.0, pre_exposure_mas=-1.0)
    with pytest.raises(ParameterError, match="region"):
        automatic_exposure(paths, g, 45.0, region=np.ones((3, 3), dtype=bool))
