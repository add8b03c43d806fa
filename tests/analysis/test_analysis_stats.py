"""The readers' small median against numpy's."""

import numpy as np
import pytest

from ductogram.analysis.stats import median


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_median_is_numpys_value_and_type(dtype):
    rng = np.random.default_rng(7)
    for n in range(1, 40):
        values = (rng.random(n) * 100).astype(dtype)
        for shaped in (values, values.reshape(1, -1), values[::-1]):
            ours, theirs = median(shaped), np.median(shaped)
            assert ours == theirs
            assert np.asarray(ours).dtype == np.asarray(theirs).dtype


def test_median_of_nan_and_of_nothing_is_nan():
    assert np.isnan(median(np.array([1.0, np.nan, 2.0])))
    assert np.isnan(median(np.array([], dtype=np.float32)))
