"""Lesions change the lumen as they do in life, and sit inside their duct."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks
from scipy.spatial import cKDTree

from ductogram.anatomy import LesionKind, generate_phantom
from ductogram.anatomy._growth import contacts
from ductogram.core import ParameterError

BASE = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 80}
SEEDS = (1, 2, 3)


def lumen_contains(tree, points: np.ndarray) -> np.ndarray:
    """Whether each point lies in the lumen: within the tapered tube of some segment."""
    kd = cKDTree(tree.positions_mm)
    inside = np.zeros(len(points), dtype=bool)
    par = tree.parent
    for k, p in enumerate(points):
        near = np.array(kd.query_ball_point(p, 15.0), dtype=np.int64)
        seg = near[near > 0]
        a, b = tree.positions_mm[par[seg]], tree.positions_mm[seg]
        ab = b - a
        t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.einsum("ij,ij->i", ab, ab), 0, 1)
        d = np.linalg.norm(a + t[:, None] * ab - p, axis=1)
        r = tree.radii_mm[par[seg]] + t * (tree.radii_mm[seg] - tree.radii_mm[par[seg]])
        inside[k] = np.any(d <= r + 1e-9)
    return inside


def sample_ellipsoid(e, n: int, rng, shrink: float = 0.97) -> np.ndarray:
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    u *= rng.random((n, 1)) ** (1 / 3)
    return e.centre_mm + (u * e.semi_axes_mm * shrink) @ e.rotation.T


@pytest.fixture(scope="module")
def plain():
    return {s: generate_phantom(BASE, seed=s) for s in SEEDS}


@pytest.fixture(scope="module")
def with_lesion():
    return {
        (kind, s): generate_phantom({**BASE, "lesions": [{"kind": kind.value}]}, seed=s)
        for kind in LesionKind
        for s in SEEDS
    }


def lesion_and_tree(ph):
    (lesion,) = ph.lesions
    return lesion, ph.trees[lesion.system]


@pytest.mark.parametrize("kind", list(LesionKind))
def test_lesion_changes_only_its_own_ducts(kind, plain, with_lesion):
    for s in SEEDS:
        ph, ref = with_lesion[(kind, s)], plain[s]
        lesion, tree = lesion_and_tree(ph)
        before = ref.trees[lesion.system]
        assert lesion.kind == kind and lesion.system == tree.system
        assert np.array_equal(tree.positions_mm, before.positions_mm)
        untouched = np.setdiff1d(np.arange(tree.n_nodes), lesion.affected_nodes)
        assert np.array_equal(tree.radii_mm[untouched], before.radii_mm[untouched])
        assert np.array_equal(lesion.radius_before_mm, before.radii_mm[lesion.affected_nodes])
        for other, other_ref in zip(ph.trees, ref.trees, strict=True):
            if other.system != lesion.system:
                assert np.array_equal(other.radii_mm, other_ref.radii_mm)


@pytest.mark.parametrize("kind", [k for k in LesionKind if k != LesionKind.ECTASIA])
def test_lesions_press_into_no_other_duct(kind, with_lesion):
    # Ectasia widens ducts past 2 mm (3 mm at the ampulla) even where that presses on a
    # neighbour; every other lesion is placed where it has room.
    for s in SEEDS:
        assert contacts(list(with_lesion[(kind, s)].trees)) == []


def test_solitary_papilloma_is_a_central_mass_inside_a_widened_duct(with_lesion):
    rng = np.random.default_rng(0)
    for s in SEEDS:
        lesion, tree = lesion_and_tree(with_lesion[(LesionKind.PAPILLOMA, s)])
        (mass,) = lesion.masses
        assert 2.0 <= lesion.size_mm <= 10.0  # clinical.md §3: 2-10 mm
        assert tree.distance_from_nipple_mm[lesion.segment] <= 30.0  # within about 3 cm
        assert tree.generation[lesion.segment] <= 3  # central (subareolar) ducts
        assert lumen_contains(tree, sample_ellipsoid(mass, 300, rng)).all()
        widest = tree.radii_mm[lesion.affected_nodes].max()
        assert widest >= mass.semi_axes_mm[1:].max() - 1e-9
        if lesion.obstructs:
            assert lesion.stop_node is not None
        else:  # a rim of contrast around the defect
            assert widest >= mass.semi_axes_mm[1:].max() + 0.3 - 1e-9


def test_multiple_papillomas_are_small_peripheral_masses_in_one_segment(with_lesion):
    rng = np.random.default_rng(1)
    for s in SEEDS:
        lesion, tree = lesion_and_tree(with_lesion[(LesionKind.MULTIPLE_PAPILLOMAS, s)])
        assert 2 <= len(lesion.masses) <= 10
        for mass in lesion.masses:
            assert 2 * mass.semi_axes_mm[0] <= 4.0 + 1e-9
            assert lumen_contains(tree, sample_ellipsoid(mass, 100, rng)).all()
        assert tree.distance_from_nipple_mm[lesion.segment] >= 15.0


def test_carcinoma_saccules_alternate_with_narrowings_and_may_end_abruptly(with_lesion):
    # Caliber irregularity, sacculation alternating with narrowing (clinical.md §2.1):
    # at least two saccules and two narrowings along the extent, each saccule at least 1.5
    # times as wide as the nearest narrowing, a few mm apart (not node-to-node roughness,
    # which the nodes' 0.9 mm spacing would put under 1 mm).
    for s in SEEDS:
        lesion, tree = lesion_and_tree(with_lesion[(LesionKind.CARCINOMA, s)])
        nodes = lesion.affected_nodes
        r = tree.radii_mm[nodes]
        steps = np.linalg.norm(np.diff(tree.positions_mm[nodes], axis=0), axis=1)
        along = np.r_[0.0, np.cumsum(steps)]
        saccules, _ = find_peaks(r, prominence=0.25 * r.max())
        narrowings, _ = find_peaks(-r, prominence=0.25 * r.max())
        assert len(saccules) >= 2 and len(narrowings) >= 2
        for p in saccules:
            nearest = narrowings[np.argmin(np.abs(along[narrowings] - along[p]))]
            assert r[p] >= 1.5 * r[nearest]
        turns = np.sort(np.r_[saccules, narrowings])
        assert np.median(np.diff(along[turns])) >= 1.5
        # The tumour holds the duct open: it does not thin out to a terminal duct's calibre.
        assert r.min() >= 0.18 * lesion.radius_before_mm[0]
        assert np.all(2 * r <= np.maximum(2 * lesion.radius_before_mm, 2.0))  # no ectasia
        if lesion.obstructs:  # abrupt termination at the end of the extent
            assert lesion.stop_node == lesion.affected_nodes[-1]
            assert lumen_contains(tree, lesion.masses[0].centre_mm[None]).all()


def test_ectasia_widens_ducts_past_the_published_thresholds(with_lesion):
    for s in SEEDS:
        lesion, tree = lesion_and_tree(with_lesion[(LesionKind.ECTASIA, s)])
        diameters = 2 * tree.radii_mm[lesion.affected_nodes]
        assert np.all(diameters > 2.0)  # > 2 mm (Radiopaedia)
        nodes = lesion.affected_nodes
        ampulla = (tree.generation[nodes] == 1) & (tree.distance_from_nipple_mm[nodes] <= 8.0)
        assert np.all(diameters[ampulla] > 3.0)  # > 3 mm at the ampulla
        assert not lesion.obstructs


def test_cyst_fills_through_a_terminal_duct_and_holds_no_other_duct(with_lesion):
    for s in SEEDS:
        ph = with_lesion[(LesionKind.CYST, s)]
        lesion, tree = lesion_and_tree(ph)
        (cavity,) = lesion.cavities
        assert tree.n_children[lesion.segment] == 0
        assert cavity.contains(tree.positions_mm[lesion.segment][None]).all()
        own = set(tree.path_to_root(lesion.segment).tolist())
        for other in ph.trees:
            inside = np.flatnonzero(cavity.contains(other.positions_mm))
            if other.system == tree.system:
                inside = [n for n in inside if n not in own]
            assert len(inside) == 0


def test_stricture_narrows_a_short_stretch(with_lesion):
    for s in SEEDS:
        lesion, tree = lesion_and_tree(with_lesion[(LesionKind.STRICTURE, s)])
        ratio = tree.radii_mm[lesion.affected_nodes] / lesion.radius_before_mm
        assert ratio.min() <= 0.6 and np.all(ratio <= 1.0)
        assert 0.5 <= lesion.size_mm <= 20
        assert (lesion.stop_node is not None) == lesion.obstructs


def test_requested_obstruction_size_and_site_are_honoured(plain):
    tree = plain[1].trees[0]
    site = int(np.flatnonzero((tree.generation == 2) & (tree.n_children == 1))[3])
    ph = generate_phantom(
        {
            **BASE,
            "lesions": [
                {
                    "kind": "papilloma",
                    "system": 0,
                    "segment": site,
                    "size_mm": 4.0,
                    "obstructs": True,
                }
            ],
        },
        seed=1,
    )
    (lesion,) = ph.lesions
    assert lesion.segment == site and lesion.obstructs and lesion.stop_node is not None
    assert lesion.size_mm == pytest.approx(4.0, rel=0.3)


def test_a_cyst_on_a_duct_that_is_not_terminal_is_refused(plain):
    tree = plain[1].trees[0]
    with pytest.raises(ParameterError, match=r"lesions\.0\.segment = 1: expected a terminal node"):
        generate_phantom({**BASE, "lesions": [{"kind": "cyst", "system": 0, "segment": 1}]}, seed=1)
    assert tree.n_children[1] != 0
