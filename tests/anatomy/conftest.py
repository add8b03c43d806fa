"""Tiny hand-made duct trees with known answers, built directly with DuctTree.

Builders are handed out as fixtures (``make_tree``, ``binary_tree``, ``caterpillar``,
``random_tree``) so that test modules need no import from this file.
"""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.anatomy.ducts import DuctTree


def _generations(parent: np.ndarray) -> np.ndarray:
    """Branch generation per node: 1 on the main duct, +1 after each branch point."""
    n = len(parent)
    n_children = np.bincount(parent[1:], minlength=n)
    gen = np.ones(n, dtype=np.int64)
    for i in range(1, n):
        p = parent[i]
        gen[i] = gen[p] + 1 if (p != 0 and n_children[p] >= 2) else gen[p]
    return gen


def build_tree(
    positions_mm,
    parent,
    *,
    radii_mm=None,
    lobe=None,
    tdlu_nodes=None,
    lesions=(),
    system=0,
) -> DuctTree:
    """A DuctTree from positions and parents; generations are derived, radii default 1 mm.

    ``tdlu_nodes`` defaults to every terminal node, each with a 1 mm × 0.5 mm TDLU placed
    1 mm beyond the node along its terminal segment.
    """
    pos = np.asarray(positions_mm, dtype=float)
    parent = np.asarray(parent, dtype=np.int64)
    n = len(pos)
    radii = np.ones(n) if radii_mm is None else np.asarray(radii_mm, dtype=float)
    if tdlu_nodes is None:
        tdlu_nodes = np.flatnonzero(np.bincount(parent[1:], minlength=n) == 0)
    tdlu_nodes = np.asarray(tdlu_nodes, dtype=np.int64)
    axis = pos[tdlu_nodes] - pos[parent[tdlu_nodes]]
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    return DuctTree(
        system=system,
        positions_mm=pos,
        radii_mm=radii,
        parent=parent,
        generation=_generations(parent),
        lobe=np.zeros(n, dtype=np.int64) if lobe is None else lobe,
        tdlu_node=tdlu_nodes,
        tdlu_centre_mm=pos[tdlu_nodes] + axis,
        tdlu_axis=axis,
        tdlu_semi_axes_mm=np.tile([1.0, 0.5], (len(tdlu_nodes), 1)),
        lesions=tuple(lesions),
    )


def build_binary_tree(
    depth: int, *, length_mm: float = 8.0, angle_deg: float = 30.0, radius_mm: float = 1.0
) -> DuctTree:
    """Symmetric binary tree with ``depth`` levels of branches, in the x-y plane.

    The main duct runs from the origin along +x. Each branch has a chain node at its middle;
    children turn by ±angle_deg, have half their parent's length and radius
    r_parent · 2^(-1/3) (Murray's law holds exactly). Nodes are numbered depth first.
    """
    positions = [np.zeros(3)]
    parent = [-1]
    radii = [radius_mm]

    def grow(start: int, direction: np.ndarray, length: float, radius: float, level: int):
        mid = positions[start] + direction * length / 2
        end = positions[start] + direction * length
        node = start
        for point in (mid, end):  # a chain node at the middle, then the end node
            parent.append(node)
            positions.append(point)
            radii.append(radius)
            node = len(positions) - 1
        end_node = node
        if level == depth:
            return
        a = np.radians(angle_deg)
        for sign in (1.0, -1.0):
            c, s = np.cos(sign * a), np.sin(sign * a)
            d = np.array(
                [c * direction[0] - s * direction[1], s * direction[0] + c * direction[1], 0]
            )
            grow(end_node, d, length / 2, radius * 2 ** (-1 / 3), level + 1)

    grow(0, np.array([1.0, 0.0, 0.0]), length_mm, radius_mm, 1)
    return build_tree(np.array(positions), parent, radii_mm=radii)


def build_caterpillar(n_splits: int) -> DuctTree:
    """A trunk along +x with a 1 mm terminal twig along +y at each of ``n_splits`` nodes.

    Node 0 at the origin, trunk nodes at x = 1 … n_splits; the last trunk node also has a
    1 mm terminal continuation along +x. Branches: main duct, n_splits − 1 trunk pieces,
    n_splits twigs and the end piece (2 n_splits + 1 in all).
    """
    positions = [[0.0, 0.0, 0.0]]
    parent = [-1]
    prev = 0
    for k in range(1, n_splits + 1):
        positions.append([float(k), 0.0, 0.0])
        parent.append(prev)
        trunk = len(positions) - 1
        positions.append([float(k), 1.0, 0.0])
        parent.append(trunk)
        prev = trunk
    positions.append([float(n_splits + 1), 0.0, 0.0])
    parent.append(prev)
    return build_tree(positions, parent)


def build_random_tree(n: int, seed: int, *, p_chain: float = 0.6) -> DuctTree:
    """A random tree of ``n`` nodes whose orifice has one child.

    Node i continues node i − 1 with probability ``p_chain``, else it leaves a random
    earlier node (not the orifice). Steps are random 3D vectors of about 2 mm.
    """
    rng = np.random.default_rng(seed)
    parent = np.empty(n, dtype=np.int64)
    parent[0] = -1
    parent[1] = 0
    for i in range(2, n):
        parent[i] = i - 1 if rng.random() < p_chain else rng.integers(1, i)
    pos = np.zeros((n, 3))
    steps = rng.normal(size=(n, 3)) + np.array([2.0, 0.0, 0.0])
    for i in range(1, n):
        pos[i] = pos[parent[i]] + steps[i]
    radii = rng.uniform(0.1, 1.0, size=n)
    return build_tree(pos, parent, radii_mm=radii, lobe=rng.integers(0, 3, size=n))


@pytest.fixture
def make_tree():
    """Factory: ``make_tree(positions_mm, parent, *, radii_mm=None, ...) -> DuctTree``."""
    return build_tree


@pytest.fixture
def binary_tree():
    """Factory: ``binary_tree(depth, *, length_mm=8, angle_deg=30, radius_mm=1)``."""
    return build_binary_tree


@pytest.fixture
def caterpillar():
    """Factory: ``caterpillar(n_splits) -> DuctTree``."""
    return build_caterpillar


@pytest.fixture
def random_tree():
    """Factory: ``random_tree(n, seed, *, p_chain=0.6) -> DuctTree``."""
    return build_random_tree


@pytest.fixture
def straight_duct():
    """A straight 10 mm duct along +x in ten 1 mm segments, radius 1 mm."""
    pos = np.zeros((11, 3))
    pos[:, 0] = np.arange(11.0)
    return build_tree(pos, np.arange(-1, 10))
