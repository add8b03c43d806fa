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


def test_errors_survive_pickling():
    """They cross a process pool whole: their parts, their notes and their message."""
    import pickle

    from ductogram.exam.screening import RuleError
    from ductogram.io.dicom_read import ImageReadError

    error = ParameterError("workers", 0, "a number >= 1")
    error.add_note("while reading")
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, ParameterError)
    assert (again.field, again.value, again.expected) == ("workers", 0, "a number >= 1")
    assert str(again) == "workers = 0: expected a number >= 1"
    assert again.__notes__ == ["while reading"]
    rule = RuleError("rules.yaml", "no_fill", "when.op", "~", "one of ==, <, >")
    again = pickle.loads(pickle.dumps(rule))
    assert (again.source, again.rule, again.field) == ("rules.yaml", "no_fill", "when.op")
    assert str(again) == str(rule)
    read = pickle.loads(pickle.dumps(ImageReadError("a.dcm", "no pixel data")))
    assert (str(read.path), read.problem) == ("a.dcm", "no pixel data")
    assert str(read) == "a.dcm: no pixel data"
