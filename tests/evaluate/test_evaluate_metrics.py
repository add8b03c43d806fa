"""Dice and clDice on shapes with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core.errors import ParameterError
from ductogram.evaluate.metrics import cl_dice, dice


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
