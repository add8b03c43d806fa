"""Tests of ductogram.anatomy.topology: exact answers on tiny trees, invariants, errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from ductogram.anatomy.topology import (
    Branches,
    branch_angles_deg,
    branches,
    murray_residuals,
    ramification_counts,
    ramification_matrix,
    strahler_orders,
    tortuosity,
)
from ductogram.core import ParameterError

# ----------------------------------------------------------------------------- references


def reference_strahler(tree, br):
    """Strahler order per branch from a node-level recursion on a networkx graph.

    Independent of topology._strahler: each node carries the order of the segment ending at
    it (a chain node inherits its child's order); a branch has the order of its first node.
    """
    g = nx.DiGraph()
    g.add_edges_from(zip(tree.parent[1:].tolist(), range(1, tree.n_nodes), strict=True))
    order = {}
    for node in nx.dfs_postorder_nodes(g, 0):
        kids = [order[c] for c in g.successors(node)]
        if not kids:
            order[node] = 1
        elif len(kids) == 1:
            order[node] = kids[0]
        else:
            top = max(kids)
            order[node] = top + (kids.count(top) >= 2)
    return np.array([order[int(f)] for f in br.first_node])


# ----------------------------------------------------------------------------- branches


class TestBranches:
    def test_straight_duct_is_one_branch(self, straight_duct):
        br = branches(straight_duct)
        assert isinstance(br, Branches)
        assert br.n_branches == 1
        assert_array_equal(br.nodes[0], np.arange(11))
        assert br.start_node[0] == 0 and br.end_node[0] == 10
        assert br.parent_branch[0] == -1
        assert br.length_mm[0] == pytest.approx(10.0)
        assert_array_equal(br.node_branch, [-1] + [0] * 10)
        assert br.children(0).size == 0

    def test_binary_tree_depth_3(self, binary_tree):
        tree = binary_tree(3, length_mm=8.0)
        br = branches(tree)
        assert br.n_branches == 7 == tree.n_branches
        assert br.start_node[0] == 0
        # Each branch has a chain node: 3 nodes per branch, start included.
        assert all(len(nodes) == 3 for nodes in br.nodes)
        assert_allclose(np.sort(br.length_mm), [2, 2, 2, 2, 4, 4, 8])
        assert_array_equal(np.bincount(br.generation), [0, 1, 2, 4])
        assert_array_equal(br.children(0), [1, 4])  # numbered depth first
        assert_array_equal(br.parent_branch, [-1, 0, 1, 1, 0, 4, 4])

    def test_caterpillar(self, caterpillar):
        tree = caterpillar(4)
        br = branches(tree)
        assert br.n_branches == 2 * 4 + 1
        assert_allclose(br.length_mm, 1.0)
        trunk = br.n_children > 0
        assert trunk.sum() == 4  # main duct + 3 trunk pieces
        assert_array_equal(br.generation[trunk], [1, 2, 3, 4])

    def test_orifice_that_divides_gives_two_root_branches(self, make_tree):
        tree = make_tree([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 2, 0]], [-1, 0, 0, 2])
        br = branches(tree)
        assert br.n_branches == 2
        assert_array_equal(br.parent_branch, [-1, -1])
        assert_array_equal(br.root_branches, [0, 1])
        assert_array_equal(br.nodes[1], [0, 2, 3])
        assert_allclose(br.length_mm, [1.0, 2.0])

    @pytest.mark.parametrize("seed", range(8))
    def test_random_tree_invariants(self, random_tree, seed):
        tree = random_tree(300, seed)
        br = branches(tree)
        b = np.arange(br.n_branches)
        assert br.n_branches == tree.n_branches
        assert np.all(br.parent_branch < b)
        assert br.start_node[0] == 0 and br.parent_branch[0] == -1
        # Every segment sits in exactly one branch.
        segs = np.concatenate([nodes[1:] for nodes in br.nodes])
        assert_array_equal(np.sort(segs), np.arange(1, tree.n_nodes))
        for k, nodes in enumerate(br.nodes):
            assert nodes[0] == br.start_node[k] and nodes[-1] == br.end_node[k]
            assert nodes[1] == br.first_node[k]
            assert_array_equal(tree.parent[nodes[1:]], nodes[:-1])
            assert np.all(tree.n_children[nodes[1:-1]] == 1)
            assert tree.n_children[nodes[-1]] != 1
            assert_array_equal(br.node_branch[nodes[1:]], k)
        child = b[br.parent_branch >= 0]
        assert_array_equal(br.start_node[child], br.end_node[br.parent_branch[child]])
        assert br.length_mm.sum() == pytest.approx(tree.segment_lengths_mm.sum())
        assert_array_equal(br.generation, tree.generation[br.end_node])
        for k in range(br.n_branches):
            assert_array_equal(br.children(k), np.flatnonzero(br.parent_branch == k))

    def test_arrays_are_read_only(self, binary_tree):
        br = branches(binary_tree(2))
        with pytest.raises(ValueError, match="read-only"):
            br.length_mm[0] = 1.0
        with pytest.raises(ValueError, match="read-only"):
            br.nodes[0][0] = 1

    def test_children_out_of_range(self, binary_tree):
        br = branches(binary_tree(2))
        with pytest.raises(
            ParameterError, match=r"branch = 3: expected a branch index in \[0, 2\]"
        ):
            br.children(3)
        with pytest.raises(ParameterError, match="branch = -1"):
            br.children(-1)

    def test_not_a_tree(self):
        with pytest.raises(TypeError, match="tree must be a DuctTree, got list"):
            branches([[0, 0, 0]])


# ----------------------------------------------------------------------------- Strahler


class TestStrahler:
    def test_straight_duct(self, straight_duct):
        assert_array_equal(strahler_orders(straight_duct), [1])

    @pytest.mark.parametrize("depth", [1, 2, 3, 5])
    def test_symmetric_binary_tree(self, binary_tree, depth):
        tree = binary_tree(depth)
        order = strahler_orders(tree)
        assert order[0] == depth
        br = branches(tree)
        assert_array_equal(order, depth + 1 - br.generation)

    def test_caterpillar_is_order_2(self, caterpillar):
        tree = caterpillar(5)
        order = strahler_orders(tree)
        br = branches(tree)
        assert_array_equal(order, np.where(br.n_children > 0, 2, 1))

    @pytest.mark.parametrize(
        ("child_depths", "expected"),
        [
            ((0, 0, 0), 2),  # three order-1 children: max occurs 3 times
            ((1, 0, 0), 2),  # orders 2, 1, 1: max once
            ((1, 1, 0), 3),  # orders 2, 2, 1: max twice
        ],
    )
    def test_trifurcation(self, make_tree, child_depths, expected):
        # Main duct 0 -> 1; node 1 has three children; a child of "depth 1" ends in a
        # bifurcation into two twigs (order 2), "depth 0" is a terminal twig (order 1).
        positions, parent = [[0, 0, 0], [1, 0, 0]], [-1, 0]
        for k, d in enumerate(child_depths):
            direction = np.array([1.0, k - 1.0, 0.0])
            positions.append(positions[1] + direction)
            parent.append(1)
            if d:
                tip = len(positions) - 1
                for turn in ([0, 1, 0], [0, 0, 1]):
                    positions.append(np.asarray(positions[tip]) + direction + turn)
                    parent.append(tip)
        tree = make_tree(positions, parent)
        assert strahler_orders(tree)[0] == expected

    @pytest.mark.parametrize("seed", range(8))
    def test_matches_node_level_reference(self, random_tree, seed):
        tree = random_tree(400, seed, p_chain=0.3 + 0.05 * seed)
        assert_array_equal(strahler_orders(tree), reference_strahler(tree, branches(tree)))

    def test_parent_at_least_child(self, random_tree):
        tree = random_tree(500, 11)
        order = strahler_orders(tree)
        pb = branches(tree).parent_branch
        child = pb >= 0
        assert np.all(order[pb[child]] >= order[child])


# ----------------------------------------------------------------------------- R-matrix


class TestRamification:
    def test_binary_tree_depth_3(self, binary_tree):
        tree = binary_tree(3)
        r = ramification_matrix(tree)
        assert r.shape == (3, 3)
        assert np.all(np.isnan(r[0]))
        assert_array_equal(r[1, :2], [0.0, 1.0])
        assert_array_equal(r[2], [0.0, 0.0, 1.0])
        assert_array_equal(ramification_counts(tree), [[0, 0, 0], [0, 2, 0], [0, 0, 1]])

    @pytest.mark.parametrize("n_splits", [1, 2, 4, 7])
    def test_caterpillar(self, caterpillar, n_splits):
        # n_splits - 1 splits of an order-2 trunk into (2, 1), one final split into (1, 1).
        r = ramification_matrix(caterpillar(n_splits))
        assert r.shape == (2, 2)
        assert_allclose(r[1], [(n_splits - 1) / n_splits, 1 / n_splits])

    def test_straight_duct(self, straight_duct):
        r = ramification_matrix(straight_duct)
        assert r.shape == (1, 1) and np.isnan(r[0, 0])
        assert_array_equal(ramification_counts(straight_duct), [[0]])

    def test_trifurcation_is_not_counted(self, make_tree):
        tree = make_tree([[0, 0, 0], [1, 0, 0], [2, 1, 0], [2, 0, 0], [2, -1, 0]], [-1, 0, 1, 1, 1])
        assert_array_equal(strahler_orders(tree), [2, 1, 1, 1])
        assert np.all(np.isnan(ramification_matrix(tree)))
        assert ramification_counts(tree).sum() == 0

    @pytest.mark.parametrize("seed", range(6))
    def test_rows_sum_to_one(self, random_tree, seed):
        tree = random_tree(500, seed)
        r = ramification_matrix(tree)
        counts = ramification_counts(tree)
        br = branches(tree)
        order = strahler_orders(tree)
        k_max = order.max()
        assert r.shape == counts.shape == (k_max, k_max)
        assert counts.sum() == np.sum(br.n_children == 2)
        assert_array_equal(np.triu(counts, 1), 0)
        has = counts.sum(axis=1) > 0
        assert_allclose(r[has].sum(axis=1), 1.0)
        assert np.all(np.isnan(r[~has]))
        assert not has[0]
        # Row totals are the bifurcating branches of each order.
        bif = br.n_children == 2
        assert_array_equal(counts.sum(axis=1), np.bincount(order[bif], minlength=k_max + 1)[1:])


# ----------------------------------------------------------------------------- geometry


class TestGeometry:
    def test_straight_duct_length_and_tortuosity(self, straight_duct):
        assert branches(straight_duct).length_mm[0] == pytest.approx(10.0)
        assert_allclose(tortuosity(straight_duct), [1.0])
        assert np.isnan(branch_angles_deg(straight_duct)[0])

    def test_right_angle_branch(self, caterpillar):
        tree = caterpillar(1)  # main duct along x, a twig along +y, an end piece along +x
        angles = branch_angles_deg(tree)
        br = branches(tree)
        assert np.isnan(angles[0])
        twig = br.first_node[1:] == 2
        assert_allclose(angles[1:][twig], 90.0)
        assert_allclose(angles[1:][~twig], 0.0, atol=1e-12)

    @pytest.mark.parametrize(
        ("direction", "expected"),
        [([1, 1, 0], 45.0), ([0, 0, -3], 90.0), ([-1, 1, 0], 135.0), ([-2, 0, 0], 180.0)],
    )
    def test_angle_in_3d(self, make_tree, direction, expected):
        positions = [[0, 0, 0], [5, 0, 0], [6, 0, 0], np.add([5, 0, 0], direction)]
        tree = make_tree(positions, [-1, 0, 1, 1])
        assert branch_angles_deg(tree)[2] == pytest.approx(expected)

    def test_binary_tree_angles(self, binary_tree):
        angles = branch_angles_deg(binary_tree(4, angle_deg=35.0))
        assert np.isnan(angles[0])
        assert_allclose(angles[1:], 35.0)

    def test_winding_branch(self, make_tree):
        # A 3-4-5 zigzag: path 10 mm, chord 6 mm.
        tree = make_tree([[0, 0, 0], [3, 4, 0], [6, 0, 0]], [-1, 0, 1])
        assert_allclose(tortuosity(tree), [10 / 6])

    def test_scaling_positions_scales_lengths(self, random_tree, make_tree):
        tree = random_tree(300, 3)
        big = tree.with_changes(positions_mm=2.0 * tree.positions_mm)
        assert_allclose(branches(big).length_mm, 2.0 * branches(tree).length_mm)
        assert_allclose(tortuosity(big), tortuosity(tree))
        assert_allclose(branch_angles_deg(big), branch_angles_deg(tree), atol=1e-9)
        assert_array_equal(strahler_orders(big), strahler_orders(tree))
        assert_array_equal(ramification_counts(big), ramification_counts(tree))

    def test_translation_and_rotation_invariance(self, random_tree):
        tree = random_tree(200, 4)
        c, s = np.cos(0.7), np.sin(0.7)
        rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        moved = tree.with_changes(positions_mm=tree.positions_mm @ rot.T + [5.0, -3.0, 2.0])
        assert_allclose(branches(moved).length_mm, branches(tree).length_mm)
        assert_allclose(branch_angles_deg(moved), branch_angles_deg(tree), atol=1e-7)
        assert_allclose(tortuosity(moved), tortuosity(tree))

    def test_tortuosity_at_least_one(self, random_tree):
        assert np.all(tortuosity(random_tree(400, 5)) >= 1.0 - 1e-12)

    def test_inputs_not_modified(self, random_tree):
        tree = random_tree(100, 6)
        before = tree.positions_mm.copy(), tree.parent.copy(), tree.radii_mm.copy()
        branches(tree), strahler_orders(tree), ramification_matrix(tree)
        branch_angles_deg(tree), tortuosity(tree), murray_residuals(tree)
        for a, b in zip(before, (tree.positions_mm, tree.parent, tree.radii_mm), strict=True):
            assert_array_equal(a, b)

    @pytest.mark.parametrize(
        "func",
        [strahler_orders, ramification_matrix, branch_angles_deg, tortuosity, murray_residuals],
    )
    def test_not_a_tree(self, func):
        with pytest.raises(TypeError, match="tree must be a DuctTree, got dict"):
            func({})


# ----------------------------------------------------------------------------- Murray


class TestMurray:
    def test_binary_tree_obeys_murray(self, binary_tree):
        tree = binary_tree(4)
        res = murray_residuals(tree)
        assert res.shape == (len(tree.branch_points),) == (7,)
        assert_allclose(res, 0.0, atol=1e-12)

    def test_known_residual(self, make_tree):
        # Parent end radius 2 mm; children 1 mm and 1.5 mm: (8 - 1 - 3.375) / 8.
        tree = make_tree(
            [[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]], [-1, 0, 1, 1], radii_mm=[3, 2, 1, 1.5]
        )
        assert_allclose(murray_residuals(tree), [(8 - 1 - 3.375) / 8])

    def test_no_branch_points(self, straight_duct):
        assert murray_residuals(straight_duct).shape == (0,)

    def test_scale_free(self, random_tree):
        tree = random_tree(300, 7)
        scaled = tree.with_changes(radii_mm=3.0 * tree.radii_mm)
        assert_allclose(murray_residuals(scaled), murray_residuals(tree))


def test_large_tree_runs(random_tree):
    """A 5,000-node tree goes through every descriptor (no O(N^2) blow-up)."""
    tree = random_tree(5000, 12)
    br = branches(tree)
    assert br.n_branches == tree.n_branches
    assert strahler_orders(tree).shape == (br.n_branches,)
    assert np.isfinite(tortuosity(tree)).all()
    assert ramification_matrix(tree).shape[0] == strahler_orders(tree).max()
