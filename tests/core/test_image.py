import numpy as np
import pytest

from ductogram.core import Image, ParameterError, PixelKind


def test_image_normalises_its_fields():
    im = Image(np.zeros((4, 5)), 0.085, view="CC", laterality="L", magnification=1.5)
    assert im.pixel_spacing_mm == (0.085, 0.085)
    assert im.kind is PixelKind.FOR_PRESENTATION
    assert im.object_spacing_mm == pytest.approx((0.085 / 1.5, 0.085 / 1.5))
    assert im.shape == (4, 5) and im.view.value == "CC"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pixels": [[1, 2], [3, 4]]}, TypeError, "pixels must be a numpy array, got list"),
        ({"pixels": np.zeros(5)}, ParameterError, r"pixels = \(5,\): expected a 2-D array"),
        ({"pixel_spacing_mm": 0}, ParameterError, r"pixel_spacing_mm = \(0.0, 0.0\)"),
        ({"magnification": 0.5}, ParameterError, r"magnification = 0.5"),
        ({"view": "AP"}, ValueError, "'AP' is not a valid ViewPosition"),
    ],
)
def test_bad_images_are_refused(kwargs, error, match):
    args = {"pixels": np.zeros((3, 3)), "pixel_spacing_mm": 0.1, **kwargs}
    with pytest.raises(error, match=match):
        Image(**args)


def test_parameter_error_survives_pickling():
    """It crosses a process pool whole: its parts and its message."""
    import pickle

    error = pickle.loads(pickle.dumps(ParameterError("workers", 0, "a number >= 1")))
    assert isinstance(error, ParameterError)
    assert (error.field, error.value, error.expected) == ("workers", 0, "a number >= 1")
    assert str(error) == "workers = 0: expected a number >= 1"
