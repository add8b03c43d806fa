"""The readers' shortcuts against what they stand for: the small median against
numpy's, the distances to a wall or the skin read near their place against the whole
view's distance transform."""

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


def _blobs(shape, seed, level):
    """A random mask of rounded blobs."""
    from scipy import ndimage as ndi

    return ndi.gaussian_filter(np.random.default_rng(seed).random(shape), 3) > level


def test_wall_and_skin_distances_read_near_their_place_are_the_whole_views():
    """The findings' wall distance over the mask's box and the breast margin read in a
    window around a point agree with the Euclidean distance transform of the whole view."""
    from types import SimpleNamespace

    from scipy import ndimage as ndi

    from ductogram.analysis import findings as F

    rng = np.random.default_rng(3)
    mask = np.zeros((120, 150), bool)
    mask[30:70, 40:110] = _blobs((40, 70), 1, 0.5)
    ctx = SimpleNamespace(mask=mask, mm=0.2, breast=_blobs((120, 150), 2, 0.45))
    np.testing.assert_array_equal(
        F._Context.wall_mm.func(ctx), ndi.distance_transform_edt(mask) * 0.2
    )
    depth = ndi.distance_transform_edt(ctx.breast) * 0.2
    for _ in range(300):
        rc = rng.uniform(-2, [122, 152])
        margin = float(rng.uniform(0.1, 3.0))
        r = int(np.clip(round(rc[0]), 0, 119))
        c = int(np.clip(round(rc[1]), 0, 149))
        assert F._inside_breast(ctx, rc, margin) == (depth[r, c] >= margin)
