"""The duct segmentation on real coronary angiograms (CIMAT set, beside the repository)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ductogram.core.errors import ParameterError
from ductogram.evaluate.coronary import (
    coronary_cross_validation,
    field_of_view,
    load_angiograms,
)

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT.parent / "shared" / "validation-data" / "coronary-xca-cimat80" / "training"
needs_data = pytest.mark.skipif(
    not FOLDER.is_dir(), reason=f"coronary angiograms not beside the repository ({FOLDER})"
)


@needs_data
def test_the_angiograms_load():
    names, images, masks = load_angiograms(FOLDER)
    assert len(names) == 40 and names[0] == "1" and names[-1] == "40"
    assert all(im.shape == (300, 300) and im.dtype == np.float32 for im in images)
    assert all(0 <= im.min() and im.max() <= 1 for im in images)
    fractions = [m.mean() for m in masks]
    assert 0.02 < min(fractions) and max(fractions) < 0.13  # README: 3-11 % vessel


@needs_data
def test_the_field_of_view_holds_the_vessels():
    _, images, masks = load_angiograms(FOLDER)
    for im, m in zip(images[:10], masks[:10], strict=True):
        fov = field_of_view(im)
        assert m[fov].sum() > 0.95 * m.sum()


@needs_data
def test_reduced_cross_validation_beats_frangi_by_far():
    # 2 folds of 10 images (the full 5-fold run over 40 is in the benchmark)
    result = coronary_cross_validation(
        FOLDER, folds=2, seed=0, limit=10, samples_per_image=4000, max_epochs=15
    )
    assert result["n_images"] == 10 and len(result["images"]) == 10
    assert {r["fold"] for r in result["images"]} == {0, 1}
    assert result["dice"] > 0.6
    assert result["cl_dice"] > 0.6
    assert result["dice"] > result["frangi_dice"] + 0.15
    assert all(0 <= r["dice"] <= 1 for r in result["images"])


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="folder"):
        load_angiograms(tmp_path / "nowhere")
    with pytest.raises(ParameterError, match="folder"):
        load_angiograms(tmp_path)


def test_a_folder_without_masks_is_refused(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "1.png")
    with pytest.raises(ParameterError, match=r"1_gt\.png"):
        load_angiograms(tmp_path)


def test_the_field_of_view_of_a_collimated_image():
    r, c = np.indices((100, 100))
    img = np.where((r - 50) ** 2 + (c - 50) ** 2 < 40**2, 0.6, 0.02).astype(np.float32)
    fov = field_of_view(img)
    assert fov[50, 50] and not fov[2, 2] and not fov[50, 88]
    assert fov[50, 85]
