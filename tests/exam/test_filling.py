"""Contrast filling: conservation, monotonicity, obstruction, defects, bubbles, excess."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.anatomy import DuctTree, generate_phantom
from ductogram.core import ParameterError
from ductogram.exam.filling import MAX_DISTENSION, fill_ducts

BASE = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 80}
VOLUMES = (0.0, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)


@pytest.fixture(scope="module")
def normal():
    return generate_phantom(BASE, seed=4)


@pytest.fixture(scope="module")
def blocked():
    ph = generate_phantom(
        {**BASE, "lesions": [{"kind": "papilloma", "obstructs": True, "system": 1}]}, seed=4
    )
    return ph.trees[1]


@pytest.fixture(scope="module")
def defect():
    ph = generate_phantom(
        {**BASE, "lesions": [{"kind": "papilloma", "obstructs": False, "system": 2}]}, seed=4
    )
    return ph.trees[2]


def straight_duct(length_mm=10.0, radius_mm=0.5, nodes=11) -> DuctTree:
    x = np.linspace(0.0, length_mm, nodes)
    pos = np.stack([x, np.zeros(nodes), np.zeros(nodes)], axis=1)
    return DuctTree(
        system=0,
        positions_mm=pos,
        radii_mm=np.full(nodes, radius_mm),
        parent=np.arange(-1, nodes - 1),
        generation=np.ones(nodes, dtype=int),
        lobe=np.zeros(nodes, dtype=int),
        tdlu_node=[nodes - 1],
        tdlu_centre_mm=[[length_mm + 0.5, 0, 0]],
        tdlu_axis=[[1.0, 0, 0]],
        tdlu_semi_axes_mm=[[0.5, 0.25]],
    )


def test_a_straight_duct_fills_from_the_orifice_by_exact_volume():
    tree = straight_duct()
    lumen_ml = np.pi * 0.5**2 * 10.0 / 1000.0
    fill = fill_ducts(tree, 0.5 * lumen_ml)
    # Half the lumen volume: the first five of ten equal segments, full; the rest empty.
    assert np.allclose(fill.fill_fraction[1:6], 1.0) and np.allclose(fill.fill_fraction[6:], 0.0)
    assert fill.held_ml == pytest.approx(0.5 * lumen_ml)


@pytest.mark.parametrize("volume", VOLUMES)
def test_volume_is_conserved(normal, blocked, volume):
    for tree in (*normal.trees, blocked):
        fill = fill_ducts(tree, volume)
        total = fill.held_ml + fill.extravasated_ml + fill.refluxed_ml
        assert total == pytest.approx(volume, rel=1e-9, abs=1e-12)
        assert np.sum(fill.segment_contrast_ml) <= fill.held_ml + 1e-12
        assert min(fill.held_ml, fill.extravasated_ml, fill.refluxed_ml) >= 0


def test_more_volume_fills_more(normal, blocked):
    for tree in (normal.trees[0], blocked):
        previous = None
        for volume in VOLUMES:
            fill = fill_ducts(tree, volume)
            if previous is not None:
                assert np.all(fill.fill_fraction >= previous.fill_fraction - 1e-12)
                assert np.all(fill.tdlu_fill >= previous.tdlu_fill - 1e-12)
                assert fill.held_ml >= previous.held_ml - 1e-12
            previous = fill


def test_small_volume_fills_the_proximal_tree_and_large_reaches_the_lobules(normal):
    tree = max(normal.trees, key=lambda t: t.n_branches)
    small = fill_ducts(tree, 0.02)
    assert 1 <= small.max_generation_filled <= 4 and not small.lobular_blush
    large = fill_ducts(tree, 1.0)
    assert large.lobular_blush
    assert large.max_generation_filled == tree.max_generation


def test_default_volume_fills_a_normal_tree_through_several_generations(normal):
    for tree in normal.trees:
        fill = fill_ducts(tree, 1.0)
        assert fill.max_generation_filled >= 7
        assert fill.obstructed_at is None
        assert np.mean(fill.fill_fraction[1:] > 0) > 0.9


def test_nothing_passes_an_obstruction(blocked):
    (lesion,) = blocked.lesions
    beyond = blocked.subtree(lesion.stop_node)[1:]
    for volume in VOLUMES:
        fill = fill_ducts(blocked, volume)
        assert np.all(fill.fill_fraction[beyond] == 0)
        assert np.all(fill.segment_contrast_ml[beyond] == 0)
        assert fill.fill_fraction[lesion.stop_node] < 1.0
    fill = fill_ducts(blocked, 1.0)
    assert fill.obstructed_at == lesion.stop_node


def test_an_obstruction_dilates_the_duct_before_it_and_extravasates_there(blocked):
    (lesion,) = blocked.lesions
    before = int(blocked.parent[lesion.stop_node])
    fill = fill_ducts(blocked, 2.0)
    assert fill.radii_mm[before] / blocked.radii_mm[before] > 1.0 + MAX_DISTENSION
    assert fill.extravasated_ml > 0
    assert any(e.cause == "obstruction" for e in fill.extravasations)


def test_an_intraluminal_mass_is_a_filling_defect(defect):
    (lesion,) = defect.lesions
    fill = fill_ducts(defect, 1.0)
    assert fill.defects == lesion.masses
    # The mass displaces contrast: its segment holds less than its lumen.
    seg = lesion.segment
    a, b = defect.parent[seg], seg
    lumen = (
        np.pi
        * defect.segment_lengths_mm[b]
        * (
            defect.radii_mm[a] ** 2
            + defect.radii_mm[a] * defect.radii_mm[b]
            + defect.radii_mm[b] ** 2
        )
        / 3.0
    )
    assert fill.segment_contrast_ml[seg] * 1000 < lumen * (1 + MAX_DISTENSION) ** 2


def test_too_much_volume_refluxes_and_extravasates(normal):
    tree = normal.trees[0]
    fill = fill_ducts(tree, 5.0)
    assert fill.refluxed_ml > 0 and fill.extravasated_ml > 0
    # Ducts distend at most MAX_DISTENSION without an obstruction.
    assert np.all(fill.radii_mm <= tree.radii_mm * (1 + MAX_DISTENSION) + 1e-12)
    modest = fill_ducts(tree, 0.05)
    assert modest.refluxed_ml == 0 and modest.extravasated_ml == 0


def test_stopping_at_fullness_injects_what_the_system_holds(normal, blocked):
    for tree in (normal.trees[0], blocked):
        full = fill_ducts(tree, 5.0, stop_when_full=True)
        over = fill_ducts(tree, 5.0)
        # Injected = held: nothing refluxes or leaks, and the ducts are as full as when
        # the whole 5 mL was pushed in.
        assert full.injected_ml < 5.0
        assert full.injected_ml == pytest.approx(full.held_ml, rel=1e-9)
        assert full.refluxed_ml == 0.0 and full.extravasated_ml == 0.0
        assert full.held_ml == pytest.approx(over.held_ml, rel=1e-9)
        # Exactly what the system holds, pushed in: no leak out of the sums' rounding.
        just = fill_ducts(tree, full.held_ml)
        assert just.extravasated_ml == 0.0 and not just.extravasations
        # Under the capacity the plan goes in as it is.
        small = fill_ducts(tree, 0.5 * full.held_ml, stop_when_full=True)
        assert small.injected_ml == pytest.approx(0.5 * full.held_ml)


def test_fast_injection_ruptures_the_duct():
    tree = straight_duct()
    slow = fill_ducts(tree, 0.001, rate_ml_per_min=0.5)
    fast = fill_ducts(tree, 0.001, rate_ml_per_min=3.0)
    assert slow.extravasated_ml == 0
    assert fast.extravasated_ml > 0 and fast.extravasations[0].cause == "rate"


def test_unflushed_line_leaves_bubbles_in_the_proximal_contrast(normal):
    tree = normal.trees[0]
    counts = []
    for seed in range(20):
        fill = fill_ducts(tree, 1.0, flushed=False, rng=seed)
        counts.append(len(fill.bubbles))
        for bubble in fill.bubbles:
            assert tree.distance_from_nipple_mm[bubble.segment] <= 30.0 + 1.0
            lumen = max(tree.radii_mm[bubble.segment], tree.radii_mm[tree.parent[bubble.segment]])
            assert bubble.radius_mm < lumen
        total = fill.held_ml + fill.extravasated_ml + fill.refluxed_ml
        assert total == pytest.approx(1.0)
    assert 1 <= np.mean(counts) <= 4
    assert fill_ducts(tree, 1.0, flushed=True).bubbles == ()


def test_a_cyst_fills_through_its_terminal_duct():
    ph = generate_phantom({**BASE, "lesions": [{"kind": "cyst", "system": 0}]}, seed=4)
    tree = ph.trees[0]
    assert fill_ducts(tree, 5.0).cyst_fill[0][1] == pytest.approx(1.0)
    assert fill_ducts(tree, 0.01).cyst_fill[0][1] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"volume_ml": -0.1}, r"volume_ml = -0.1: expected a volume in \[0, 5\] mL"),
        ({"volume_ml": 6.0}, r"volume_ml = 6.0"),
        ({"volume_ml": 1.0, "rate_ml_per_min": 0}, r"rate_ml_per_min = 0"),
    ],
)
def test_bad_volumes_are_refused(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        fill_ducts(straight_duct(), **kwargs)


def test_only_a_duct_tree_is_filled():
    with pytest.raises(TypeError, match="tree must be a DuctTree"):
        fill_ducts("not a tree", 1.0)
