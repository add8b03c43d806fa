"""Dice and clDice on shapes with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core.errors import ParameterError
from ductogram.evaluate.metrics import cl_dice, dice, proportion_ci


def _disc(shape, centre, radius):
    r, c = np.indices(shape)
    return (r - centre[0]) ** 2 + (c - centre[1]) ** 2 <= radius**2


def test_identical_masks_score_one():
    m = _disc((40, 40), (20, 20), 8) | (np.indices((40, 40))[0] == 5)
    assert dice(m, m) == 1.0
    assert cl_dice(m, m) == 1.0


def test_disjoint_masks_score_zero():
    a = _disc((40, 40), (10, 10), 5)
    b = _disc((40, 40), (30, 30), 5)
    assert dice(a, b) == 0.0
    assert cl_dice(a, b) == 0.0


def test_dice_of_a_known_overlap():
    a = np.zeros((10, 10), bool)
    a[:, :6] = True  # 60 px
    b = np.zeros((10, 10), bool)
    b[:, 3:] = True  # 70 px, 30 shared
    assert dice(a, b) == pytest.approx(2 * 30 / 130)


def test_cl_dice_of_a_line_and_its_half():
    # A 1-px line is its own skeleton: Tprec = 10/20, Tsens = 1, clDice = 2/3 (= Dice here).
    pred = np.zeros((9, 30), bool)
    pred[4, 5:25] = True
    truth = np.zeros_like(pred)
    truth[4, 5:15] = True
    assert cl_dice(pred, truth) == pytest.approx(2 / 3)
    assert cl_dice(truth, pred) == pytest.approx(2 / 3)
    assert dice(pred, truth) == pytest.approx(2 / 3)


def test_cl_dice_ignores_thickness_but_dice_does_not():
    thin = np.zeros((21, 60), bool)
    thin[10, 5:55] = True
    thick = np.zeros_like(thin)
    thick[7:14, 5:55] = True
    assert cl_dice(thin, thick) > 0.95
    assert dice(thin, thick) < 0.3


def test_a_missing_branch_lowers_cl_dice():
    truth = np.zeros((60, 60), bool)
    truth[28:32, 5:55] = True
    truth[5:28, 28:32] = True  # a side branch
    pred = truth.copy()
    pred[5:28, 28:32] = False
    assert cl_dice(pred, truth) < 0.9
    assert cl_dice(truth, truth) == 1.0


def test_empty_masks():
    e = np.zeros((5, 5), bool)
    f = np.ones((5, 5), bool)
    assert dice(e, e) == 1.0 and cl_dice(e, e) == 1.0
    assert dice(e, f) == 0.0 and cl_dice(e, f) == 0.0


def test_inputs_are_not_modified():
    a = _disc((30, 30), (15, 15), 6)
    a0 = a.copy()
    cl_dice(a, np.roll(a, 2, axis=1))
    assert np.array_equal(a, a0)


def test_bad_shapes_are_refused():
    with pytest.raises(ParameterError, match="truth"):
        dice(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ParameterError, match="pred"):
        cl_dice(np.zeros(4), np.zeros(4))


@pytest.mark.parametrize("k, n", [(8, 10), (17, 20), (0, 12), (12, 12), (149, 200)])
def test_proportion_ci_is_wilsons_score_interval(k, n):
    """Against the closed form: centre (p + z^2/2n) / (1 + z^2/n), half width
    z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n), z the normal's 97.5 % point."""
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo, hi = proportion_ci(k, n)
    assert lo == pytest.approx(max(centre - half, 0.0), abs=1e-9)
    assert hi == pytest.approx(min(centre + half, 1.0), abs=1e-9)
    assert lo <= p <= hi


def test_proportion_ci_of_nothing_measured_and_bad_counts():
    assert all(np.isnan(proportion_ci(0, 0)))
    wider = proportion_ci(8, 10, confidence=0.99)
    assert wider[0] < proportion_ci(8, 10)[0] and wider[1] > proportion_ci(8, 10)[1]
    for args, name in (((11, 10), "k"), ((-1, 10), "k"), ((1, 2.5), "n"), ((True, 3), "k")):
        with pytest.raises(ParameterError, match=name):
            proportion_ci(*args)
    with pytest.raises(ParameterError, match="confidence"):
        proportion_ci(1, 2, confidence=1.0)
