"""Matching points one to one within a distance; the points of a tree of segments."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.evaluate.points import match_points, segment_tree_points


def test_exact_and_within_tolerance():
    m = match_points([[0, 0], [10, 0]], [[0, 0], [10, 0.9]], 1.0)
    assert m.n_matched == 2
    assert (m.precision, m.recall, m.f1) == (1.0, 1.0, 1.0)
    np.testing.assert_allclose(sorted(m.distances), [0.0, 0.9])


def test_too_far_does_not_count():
    m = match_points([[0, 0]], [[0, 1.5]], 1.0)
    assert m.n_matched == 0
    assert (m.precision, m.recall, m.f1) == (0.0, 0.0, 0.0)


def test_one_to_one():
    # Two detections near one true point: one match, one false positive.
    m = match_points([[0, 0], [0, 0.5]], [[0, 0.2]], 1.0)
    assert m.n_matched == 1
    assert m.precision == 0.5 and m.recall == 1.0
    assert m.f1 == pytest.approx(2 / 3)


def test_assignment_beats_greedy():
    # Greedy nearest-first pairs detection 0 with truth 1 (0.1 apart) and leaves truth 0
    # unmatched; the optimal assignment matches both.
    det = [[0.0, 0.0], [0.0, 0.95]]
    tru = [[0.0, -0.8], [0.0, 0.1]]
    m = match_points(det, tru, 1.0)
    assert m.n_matched == 2
    assert sorted(map(tuple, m.pairs.tolist())) == [(0, 0), (1, 1)]


def test_empty_sets():
    assert match_points([], [], 1.0).f1 == 1.0
    m = match_points([], [[1, 1]], 1.0)
    assert (m.precision, m.recall, m.f1) == (1.0, 0.0, 0.0)
    m = match_points([[1, 1]], np.zeros((0, 2)), 1.0)
    assert (m.precision, m.recall) == (0.0, 1.0)


def test_bad_input():
    with pytest.raises(ParameterError, match="max_distance"):
        match_points([[0, 0]], [[0, 0]], 0.0)
    with pytest.raises(ParameterError, match="detected"):
        match_points([[0, 0, 0]], [[0, 0]], 1.0)
    with pytest.raises(ParameterError, match="true"):
        match_points([[0, 0]], [[np.nan, 0]], 1.0)


def test_tree_points_of_segments():
    # Root (0,0) -> chain node (5,0) -> branch (10,0) -> two ends; the second child is
    # only partly filled, so its end is free where it stops.
    ends = [
        [[0, 0], [5, 0]],
        [[5, 0], [10, 0]],
        [[10, 0], [20, -5]],
        [[10, 0], [14, 2]],
    ]
    tp = segment_tree_points(
        np.array(ends, float) + 1e-6 * np.random.default_rng(0).random((4, 2, 2))
    )
    np.testing.assert_allclose(tp.branch_rc, [[10, 0]], atol=1e-5)
    np.testing.assert_allclose(sorted(tp.end_rc.tolist()), [[14, 2], [20, -5]], atol=1e-5)
    np.testing.assert_allclose(tp.root_rc, [[0, 0]], atol=1e-5)


def test_root_that_divides_is_a_branch_point():
    tp = segment_tree_points([[[0, 0], [5, 5]], [[0, 0], [5, -5]]])
    assert tp.branch_rc.tolist() == [[0.0, 0.0]]
    assert len(tp.end_rc) == 2
    assert segment_tree_points(np.zeros((0, 2, 2))).branch_rc.shape == (0, 2)


def test_branch_point_crossed_by_another_duct_is_not_clear():
    # A stem dividing at (40, 0) and again at (70, -15); a long side branch leaves the
    # stem at (10, 0), runs out and comes back across the first division (a projection
    # overlap), 0.25 from it. The divisions' own parents and children are near them
    # along the tree and do not count.
    ends = [
        [[0, 0], [10, 0]],
        [[10, 0], [40, 0]],
        [[40, 0], [70, -15]],
        [[40, 0], [70, 15]],
        [[70, -15], [90, -25]],
        [[70, -15], [90, -5]],
        [[10, 0], [30, 40]],
        [[30, 40], [50, -38]],
    ]
    tp = segment_tree_points(ends, clear_within=3.0)
    clear = {tuple(p): bool(c) for p, c in zip(tp.branch_rc.tolist(), tp.branch_clear, strict=True)}
    assert clear == {(10.0, 0.0): True, (40.0, 0.0): False, (70.0, -15.0): True}
    # Out of reach, the same crossing leaves the division clear.
    far = segment_tree_points(ends, clear_within=0.2)
    assert far.branch_clear.all()
    assert segment_tree_points(ends).branch_clear is None
