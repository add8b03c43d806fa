"""Display processing: log, window, unsharp mask, contrast curve."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.imaging.presentation import for_presentation, to_uint16


def _image():
    rng = np.random.default_rng(0)
    img = 1500.0 + rng.normal(0, 20, (128, 128))
    img[40:90, 60:64] *= 0.5  # an iodine-filled duct: half the signal
    img[:, 110:] = 6000.0  # direct exposure beside the breast
    return img.astype(np.float32)


def test_presentation_is_in_unit_range_and_attenuation_is_bright():
    out = for_presentation(_image(), 0.1)
    assert out.dtype == np.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float(out[60, 61]) > float(out[60, 30]) > float(out[60, 120])


def test_mask_sets_the_window_and_blanks_the_outside():
    mask = np.zeros((128, 128), dtype=bool)
    mask[:, :105] = True
    out = for_presentation(_image(), 0.1, mask=mask)
    assert np.all(out[:, 105:] == 0.0)
    assert float(out[60, 61]) > 0.9  # the duct is near the top of the breast's window


def test_presentation_is_monotonic_in_attenuation_without_unsharp_mask():
    ramp = np.tile(np.geomspace(4000.0, 400.0, 200), (16, 1))
    out = for_presentation(ramp, 0.1, unsharp_amount=0.0, window_percentiles=(0.0, 100.0))
    assert np.all(np.diff(out[8]) >= 0)
    assert out[8, 0] == pytest.approx(0.0, abs=1e-6) and out[8, -1] == pytest.approx(1.0)


def test_input_is_not_modified():
    img = _image()
    before = img.copy()
    for_presentation(img, 0.1)
    assert np.array_equal(img, before)


def test_to_uint16_scales_to_the_bit_depth():
    out = to_uint16(np.array([0.0, 0.25, 1.0, 1.5]), bits=12)
    assert out.dtype == np.uint16 and out.tolist() == [0, 1024, 4095, 4095]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pixel_mm": 0.0}, "pixel_mm"),
        ({"window_percentiles": (90.0, 10.0)}, "window_percentiles"),
        ({"unsharp_sigma_mm": -1.0}, "unsharp_sigma_mm"),
        ({"contrast": 0.0}, "contrast"),
        ({"shoulder": 1.0}, "shoulder"),
        ({"mask": np.zeros((3, 3), dtype=bool)}, "mask"),
        ({"mask": np.zeros((128, 128), dtype=bool)}, "no pixels"),
    ],
)
def test_bad_presentation_settings_are_refused(kwargs, match):
    args = {"pixel_mm": 0.1, **kwargs}
    with pytest.raises(ParameterError, match=match):
        for_presentation(_image(), **args)


def test_bad_images_are_refused():
    with pytest.raises(ParameterError, match="for_processing"):
        for_presentation(np.ones(5), 0.1)
    with pytest.raises(ParameterError, match="bits"):
        to_uint16(np.zeros(2), bits=0)


def test_detail_above_the_window_is_compressed_not_clipped():
    # A wide column of contrast, far denser than the tissue that sets the window, with a
    # lucent core (a filling defect): the core stays darker than the column around it.
    img = _image()
    img[40:90, 20:44] = 1500.0 * np.exp(-3.0)
    img[55:75, 28:36] = 1500.0 * np.exp(-2.0)
    mask = np.zeros((128, 128), dtype=bool)
    mask[:, :105] = True
    out = for_presentation(img, 0.1, mask=mask)
    assert float(out[mask].max()) == pytest.approx(1.0)
    assert float(out[45, 24]) - float(out[65, 32]) > 0.03
    assert float(out[65, 32]) > float(out[60, 61]) > float(out[10, 80])
    # Clipped at the window's top (no shoulder), the core all but vanishes.
    clipped = for_presentation(img, 0.1, mask=mask, shoulder=0.0)
    assert float(clipped[45, 24]) == 1.0
    assert float(clipped[45, 24]) - float(clipped[65, 32]) < 0.01
