"""The generated phantom against the published numbers it is built from
(../shared/reference/clinical.md §3, §7; simulation.md §1.1, §5.2), and its invariants:
lobes do not overlap, no duct runs through another, Murray's law, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from ductogram.anatomy import (
    PhantomParameters,
    branch_angles_deg,
    generate_phantom,
    murray_residuals,
    ramification_matrix,
)
from ductogram.anatomy._growth import CORE_RADIUS_MM, ENTRY_RADIUS_MM, contacts
from ductogram.anatomy.phantom import resolve
from ductogram.core import ParameterError

SEEDS = range(6)


@pytest.fixture(scope="module")
def phantoms():
    """Default phantoms (all parameters drawn), the statistics sample."""
    return [generate_phantom(seed=s) for s in SEEDS]


@pytest.fixture(scope="module")
def resolved():
    """Many drawn parameter sets (cheap: no growth)."""
    return [resolve(PhantomParameters(), np.random.default_rng(s)) for s in range(1500)]


# ---------------------------------------------------------------------- drawn parameters
def test_lobe_and_orifice_counts_follow_the_published_ranges(resolved):
    lobes = np.array([r.lobes for r in resolved])
    orifices = np.array([r.orifices for r in resolved])
    assert set(lobes) == set(range(10, 17))  # Moffat & Going 1996; Ohtake 2001
    assert set(orifices) == set(range(5, 10))  # Love & Barsky 2004: 5-9 in > 90 %
    assert np.all(orifices <= lobes)


def test_breast_size_glandularity_and_thickness_distributions(resolved):
    volume = np.array([r.volume_ml for r in resolved])
    assert volume.min() >= 200 and volume.max() <= 1500
    assert 500 < np.median(volume) < 700
    glandular = np.array([r.glandular_fraction for r in resolved])
    assert glandular.min() >= 0.05 and glandular.max() <= 0.45
    # Yaffe 2009: mean 19.3 %, 80 % of women below 27 % (truncation at 45 % lowers the mean).
    assert 0.17 < glandular.mean() < 0.21
    assert 0.75 < np.mean(glandular < 0.27) < 0.85
    thickness = np.array([r.compressed_thickness_mm for r in resolved])
    # Yaffe 2009: 5.9 ± 1.6 cm (truncated to 25 mm - 85 % of the breast's height).
    assert 55 < thickness.mean() < 63
    assert 12 < thickness.std() < 17


def test_main_duct_and_first_branch_distributions(resolved):
    systems = [s for r in resolved for s in r.systems]
    diameter = np.array([s.main_duct_diameter_mm for s in systems])
    assert diameter.min() >= 1.0 and diameter.max() <= 2.0  # clinical.md §7 #3
    assert abs(diameter.mean() - 1.5) < 0.03
    first = np.array([s.first_branch_mm for s in systems])
    # Ramsay 2005: 8.0 ± 5.5 mm (clipped to 2-30 mm).
    assert abs(first.mean() - 8.0) < 0.5
    assert 4.5 < first.std() < 6.0
    ampulla = np.array([s.ampulla_factor * s.main_duct_diameter_mm for s in systems])
    assert ampulla.max() <= 2.8 + 1e-9  # a normal ampulla stays below the 3 mm ectasia mark


# ---------------------------------------------------------------------- the trees
def test_every_system_branches_through_at_least_seven_generations(phantoms):
    for ph in phantoms:
        assert len(ph.trees) == ph.parameters.orifices
        for tree in ph.trees:
            assert tree.max_generation >= 7, (ph.seed, tree.system)
            assert tree.n_branches >= 30


def test_a_lobe_tree_has_hundreds_of_branches(phantoms):
    per_lobe = [ph.n_branches / ph.parameters.lobes for ph in phantoms]
    # VICTRE trees have up to 400 branches; Going & Mohun traced 440 segments in one system.
    assert 200 < np.mean(per_lobe) < 450


def test_murray_law_holds_exactly_at_every_branch_point(phantoms):
    for ph in phantoms:
        for tree in ph.trees:
            assert np.abs(murray_residuals(tree)).max() < 1e-9


def test_child_radius_ratio_and_branch_angles_fall_in_the_model_ranges(phantoms):
    ratios, angles = [], []
    for ph in phantoms:
        for tree in ph.trees:
            bp = tree.branch_points
            for node in bp:
                kids = np.flatnonzero(tree.parent == node)
                ratios.extend(tree.radii_mm[kids] / tree.radii_mm[node])
            a = branch_angles_deg(tree)
            angles.extend(a[np.isfinite(a)])
    ratios, angles = np.array(ratios), np.array(angles)
    # VICTRE: child radius 0.65-0.99 of the parent's; parent-child angle 18°-90°.
    assert np.mean((ratios >= 0.6) & (ratios <= 1.0)) > 0.9
    assert np.mean((angles >= 18) & (angles <= 90)) > 0.9
    # Murray's minimum-work angle of a symmetric division is 37.5°.
    assert 30 < np.median(angles) < 50


def test_measured_main_duct_and_first_branch_match_the_drawn_values(phantoms):
    measured, matched, total = [], 0, 0
    for ph in phantoms:
        for tree, sp in zip(ph.trees, ph.parameters.systems, strict=True):
            distance = tree.distance_from_nipple_mm[tree.branch_points[0]]
            measured.append(distance)
            total += 1
            # The main duct is a gentle curve: its length is within 10 % of the chord drawn
            # (unless a child of the first division was pruned, which moves the division on).
            matched += sp.first_branch_mm * 0.98 <= distance <= sp.first_branch_mm * 1.1
            beyond = (tree.distance_from_nipple_mm > 7.5) & (tree.generation == 1)
            if beyond.any():  # past the ampulla, the main duct has its drawn calibre
                diameters = 2 * tree.radii_mm[beyond]
                assert np.all(diameters <= sp.main_duct_diameter_mm + 1e-9)
                assert np.max(diameters) >= 0.5 * sp.main_duct_diameter_mm
    assert matched >= 0.9 * total
    # Ramsay 2005: first branch 8.0 ± 5.5 mm from the nipple.
    assert 6.0 < np.mean(measured) < 10.0
    assert 2.5 < np.std(measured) < 7.0


def test_lobes_do_not_overlap(phantoms):
    """Beyond the areola radius from the nipple axis every duct lies in its own lobe's wedge;
    between 4 and 8 mm a duct may cross a neighbour's wedge only until it first enters its
    own; within 4 mm (where all wedges meet) anything goes."""
    for ph in phantoms:
        for tree in ph.trees:
            pos = tree.positions_mm
            labels = ph.lobes.label(pos, ph.breast)
            radial, _ = ph.breast.axis_distance_mm(pos)
            own_system = ph.lobes.system_of_lobe[labels] == tree.system
            beyond = radial >= ENTRY_RADIUS_MM
            assert np.all(own_system[beyond]), (ph.seed, tree.system)
            single = beyond & (tree.lobe >= 0)
            assert np.all(labels[single] == tree.lobe[single]), (ph.seed, tree.system)
            entered = np.zeros(tree.n_nodes, dtype=bool)
            for i in range(1, tree.n_nodes):
                inside = (
                    tree.lobe[i] >= 0 and labels[i] == tree.lobe[i] and radial[i] >= CORE_RADIUS_MM
                )
                entered[i] = (entered[tree.parent[i]] and tree.generation[i] > 1) or inside
            check = entered & (tree.lobe >= 0) & (radial >= CORE_RADIUS_MM)
            assert np.all(labels[check] == tree.lobe[check]), (ph.seed, tree.system)
            # ... and every TDLU outside the core lies in its own system's territory.
            c = tree.tdlu_centre_mm
            tdlu_labels = ph.lobes.label(c, ph.breast)
            out = ph.breast.axis_distance_mm(c)[0] >= CORE_RADIUS_MM
            assert np.all(ph.lobes.system_of_lobe[tdlu_labels[out]] == tree.system)


def test_lobe_territories_partition_the_parenchyma(phantoms):
    ph = phantoms[0]
    pts = ph.breast.sample_parenchyma(40000, 1)
    counts = np.bincount(ph.lobes.label(pts, ph.breast), minlength=ph.lobes.n_lobes)
    assert counts.sum() == len(pts)  # one label per point: no overlap, no gap
    assert np.all(counts > 0)


def test_no_duct_runs_through_another(phantoms):
    for ph in phantoms:
        assert contacts(list(ph.trees)) == []


def test_ducts_stay_inside_the_breast_and_under_the_skin(phantoms):
    for ph in phantoms:
        for tree in ph.trees:
            pos = tree.positions_mm
            inside = ph.breast.contains(pos)
            assert inside.all()
            deep = pos[:, 0] > 0
            assert np.all(ph.breast.depth_below_skin_mm(pos[deep]) >= ph.breast.skin_mm)


def test_every_terminal_duct_ends_in_a_tdlu(phantoms):
    for tree in phantoms[0].trees:
        assert np.array_equal(np.sort(tree.tdlu_node), tree.terminal_nodes)
        along, across = tree.tdlu_semi_axes_mm.T
        assert np.all((2 * along >= 1.0) & (2 * along <= 2.0))  # VICTRE TDLU 1-2 mm long
        assert np.all((2 * across >= 0.5) & (2 * across <= 1.0))  # and 0.5-1 mm wide


def test_ramification_matrix_rows_are_probabilities(phantoms):
    for tree in phantoms[0].trees:
        r = ramification_matrix(tree)
        rows = r[~np.isnan(r).all(axis=1)]
        assert np.allclose(np.nansum(rows, axis=1), 1.0)


def test_compressed_ducts_lie_between_the_paddles(phantoms):
    ph = phantoms[0]
    for view in ("CC", "ML", "MLO", "LM"):
        comp = ph.compression(view)
        for tree in ph.trees:
            h = comp.to_compressed(tree.positions_mm[tree.positions_mm[:, 0] >= 0])[:, 0]
            assert h.min() >= 0 and h.max() <= ph.compressed_thickness_mm


# ---------------------------------------------------------------------- determinism
def test_same_parameters_and_seed_give_the_same_phantom():
    a = generate_phantom({"lobes": 10, "orifices": 5, "tdlus_per_lobe": 40}, seed=11)
    b = generate_phantom({"lobes": 10, "orifices": 5, "tdlus_per_lobe": 40}, seed=11)
    c = generate_phantom({"lobes": 10, "orifices": 5, "tdlus_per_lobe": 40}, seed=12)
    assert a.parameters == b.parameters
    for ta, tb in zip(a.trees, b.trees, strict=True):
        assert np.array_equal(ta.positions_mm, tb.positions_mm)
        assert np.array_equal(ta.radii_mm, tb.radii_mm)
    assert not np.array_equal(a.trees[0].positions_mm[:50], c.trees[0].positions_mm[:50])


def test_given_parameters_are_kept():
    ph = generate_phantom(
        {
            "lobes": 12,
            "orifices": 6,
            "volume_ml": 800,
            "glandular_fraction": 0.3,
            "compressed_thickness_mm": 50,
            "main_duct_diameter_mm": 1.8,
            "first_branch_mm": 10,
            "tdlus_per_lobe": 40,
        },
        seed=3,
    )
    assert ph.lobes.n_lobes == 12 and len(ph.trees) == 6
    assert ph.breast.volume_ml == pytest.approx(800)
    assert ph.breast.glandular_fraction == 0.3
    assert ph.compressed_thickness_mm == 50
    assert all(s.main_duct_diameter_mm == 1.8 for s in ph.parameters.systems)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"lobes": 0}, r"lobes = 0: expected a value in \[1, 24\]"),
        ({"lobes": 8, "orifices": 9}, r"orifices = 9: expected an integer in \[1, lobes = 8\]"),
        ({"volume_ml": -5}, r"volume_ml = -5"),
        ({"volume_ml": 0}, r"volume_ml = 0"),
        ({"main_duct_diameter_mm": 0}, r"main_duct_diameter_mm = 0"),
        ({"lobez": 12}, r"lobez = 12: expected a known field"),
        ({"lesions": [{"kind": "tumour"}]}, r"lesions\.0\.kind = 'tumour'"),
        ({"lesions": [{"kind": "cyst", "size_mm": -1}]}, r"lesions\.0\.size_mm = -1"),
        ({"lobes": "many"}, r"lobes = 'many'"),
    ],
)
def test_bad_parameters_name_the_field_and_the_allowed_range(data, match):
    with pytest.raises(ParameterError, match=match):
        generate_phantom(data, seed=0)


def test_inconsistent_parameters_are_refused_before_any_growth():
    with pytest.raises(
        ParameterError, match=r"lesions\.0\.system = 7: expected a duct system index in \[0, 4\]"
    ):
        generate_phantom({"orifices": 5, "lesions": [{"kind": "papilloma", "system": 7}]}, seed=0)
    with pytest.raises(ParameterError, match=r"compressed_thickness_mm = 149"):
        generate_phantom({"volume_ml": 300, "compressed_thickness_mm": 149}, seed=0)


def test_a_lesion_on_a_duct_that_does_not_exist_is_refused():
    with pytest.raises(
        ParameterError, match=r"lesions\.0\.segment = 999999: expected a node index"
    ):
        generate_phantom(
            {
                "lobes": 10,
                "orifices": 5,
                "tdlus_per_lobe": 30,
                "lesions": [{"kind": "papilloma", "system": 0, "segment": 999999}],
            },
            seed=0,
        )


def test_nipple_duct_orifices_are_apart(phantoms):
    for ph in phantoms:
        yz = ph.lobes.orifice_mm[:, 1:]
        d = cKDTree(yz).query(yz, k=2)[0][:, 1]
        assert d.min() >= 1.2 - 1e-9
        assert np.all(np.hypot(*yz.T) < ph.breast.nipple_radius_mm)


def test_branches_shorten_towards_the_periphery(phantoms):
    from ductogram.anatomy import branches

    lengths, generations, terminal = [], [], []
    for ph in phantoms:
        for tree in ph.trees:
            br = branches(tree)
            lengths.extend(br.length_mm)
            generations.extend(br.generation)
            terminal.extend(br.n_children == 0)
    lengths, generations, terminal = map(np.asarray, (lengths, generations, terminal))
    medians = [np.median(lengths[generations == g]) for g in range(2, 9)]
    assert np.all(np.diff(medians) < 0)
    # Terminal ducts a few millimetres long, ending in 1-2 mm TDLUs (VICTRE model values).
    assert 1.0 < np.median(lengths[terminal]) < 4.0
