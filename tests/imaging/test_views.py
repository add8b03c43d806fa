"""A whole view: images, truth and dose from a phantom and its fill."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.anatomy import generate_phantom
from ductogram.core import PixelKind
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.views import ViewSettings, simulate_view

FAST = {"pixel_mm": 0.2, "supersample": 1}


@pytest.fixture(scope="module")
def case():
    ph = generate_phantom(
        {
            "lobes": 10,
            "orifices": 5,
            "tdlus_per_lobe": 40,
            "volume_ml": 400,
            "compressed_thickness_mm": 45,
            "lesions": [{"kind": "papilloma", "system": 0, "obstructs": False}],
        },
        seed=5,
    )
    return ph, fill_ducts(ph.trees[0], 0.5, rng=5)


@pytest.fixture(scope="module")
def quiet_cc(case):
    ph, fill = case
    return simulate_view(ph, "CC", fill=fill, settings=ViewSettings(noise=False, **FAST), rng=1)


def test_a_view_gives_both_images_with_their_geometry_and_truth(case, quiet_cc):
    ph, _ = case
    sv = quiet_cc
    assert sv.processing.kind is PixelKind.FOR_PROCESSING
    assert sv.presentation.kind is PixelKind.FOR_PRESENTATION
    assert sv.processing.shape == sv.presentation.shape == sv.scene.truth.breast_mask.shape
    assert sv.processing.pixel_spacing_mm == (0.2, 0.2)
    assert sv.processing.laterality == ph.breast.laterality
    g = sv.scene.geometry
    assert sv.processing.magnification == pytest.approx(
        g.magnification_at(g.lift_mm + 0.5 * ph.compressed_thickness_mm)
    )
    assert 0.0 <= sv.presentation.pixels.min() and sv.presentation.pixels.max() <= 1.0


def test_contrast_filled_ducts_attenuate(quiet_cc):
    sv = quiet_cc
    contrast = sv.scene.paths["contrast"]
    image = sv.processing.pixels
    ducts = contrast > 0.5
    # Beside the ducts: breast pixels with no contrast within a few pixels.
    from scipy.ndimage import binary_dilation

    near = binary_dilation(ducts, iterations=6) & ~binary_dilation(ducts, iterations=3)
    near &= sv.scene.truth.breast_mask
    assert ducts.sum() > 50 and near.sum() > 50
    assert image[ducts].mean() < 0.9 * image[near].mean()
    # ... and show bright in the presentation image.
    shown = sv.presentation.pixels
    assert shown[ducts].mean() > shown[near].mean()


def test_dose_per_view_is_mammographic_and_magnification_about_doubles_it(case, quiet_cc):
    ph, fill = case
    contact = quiet_cc.dose["mgd_mgy"]
    assert 0.5 < contact < 2.0  # clinical.md §7 #10: 1.3 mGy (1.0-1.6) at about 5 cm
    mag = simulate_view(
        ph, "CC", fill=fill, settings=ViewSettings(noise=False, magnification=1.8, **FAST), rng=1
    )
    assert 1.8 < mag.dose["mgd_mgy"] / contact < 2.6  # × 2.2 published (Law 2005)
    assert mag.exposure["grid"] is False and mag.scene.geometry.focal_spot_mm == 0.1


def test_same_seed_same_view_and_noise_varies_with_the_seed(case):
    ph, fill = case
    settings = ViewSettings(**FAST)
    a = simulate_view(ph, "ML", fill=fill, settings=settings, rng=3).processing.pixels
    b = simulate_view(ph, "ML", fill=fill, settings=settings, rng=3).processing.pixels
    c = simulate_view(ph, "ML", fill=fill, settings=settings, rng=4).processing.pixels
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_motion_blurs_and_artifacts_show(case, quiet_cc):
    ph, fill = case
    moved = simulate_view(
        ph,
        "CC",
        fill=fill,
        rng=1,
        settings=ViewSettings(
            noise=False, patient_moved=True, deodorant=True, jewellery=True, **FAST
        ),
    )
    sharp = quiet_cc.processing.pixels
    blurred = moved.processing.pixels
    mask = quiet_cc.scene.truth.breast_mask
    assert (
        np.abs(np.diff(blurred, axis=1))[mask[:, 1:]].mean()
        < np.abs(np.diff(sharp, axis=1))[mask[:, 1:]].mean()
    )
    assert moved.scene.paths["aluminium-chlorohydrate"].max() > 0
    assert moved.scene.paths["steel"].max() > 1.0
