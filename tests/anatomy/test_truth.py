"""Tests of ductogram.anatomy.truth (and the atomic JSON writer it is saved with)."""

from __future__ import annotations

import json
import os

import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from ductogram.anatomy.ducts import DuctTree
from ductogram.anatomy.lesions import Ellipsoid, Lesion, LesionKind
from ductogram.anatomy.topology import branches, strahler_orders
from ductogram.anatomy.truth import (
    FORMAT,
    PHANTOM_FORMAT,
    branch_graph,
    phantom_to_dict,
    tree_from_dict,
    tree_to_dict,
    tree_to_graphml,
    tree_to_networkx,
    write_phantom,
)
from ductogram.core import ParameterError
from ductogram.core.files import write_json_atomic, write_text_atomic

ARRAY_FIELDS = (
    "positions_mm",
    "radii_mm",
    "parent",
    "generation",
    "lobe",
    "tdlu_node",
    "tdlu_centre_mm",
    "tdlu_axis",
    "tdlu_semi_axes_mm",
)


def assert_ellipsoids_equal(a: Ellipsoid, b: Ellipsoid) -> None:
    for name in ("centre_mm", "semi_axes_mm", "rotation"):
        assert_array_equal(getattr(a, name), getattr(b, name))


def assert_lesions_equal(a: Lesion, b: Lesion) -> None:
    assert a.kind is b.kind
    assert (a.system, a.segment, a.size_mm, a.obstructs, a.stop_node, a.description) == (
        b.system,
        b.segment,
        b.size_mm,
        b.obstructs,
        b.stop_node,
        b.description,
    )
    assert_array_equal(a.centre_mm, b.centre_mm)
    assert_array_equal(a.affected_nodes, b.affected_nodes)
    assert a.affected_nodes.dtype == b.affected_nodes.dtype
    assert_array_equal(a.radius_before_mm, b.radius_before_mm)
    assert len(a.masses) == len(b.masses) and len(a.cavities) == len(b.cavities)
    for x, y in zip(a.masses + a.cavities, b.masses + b.cavities, strict=True):
        assert_ellipsoids_equal(x, y)


def assert_trees_equal(a: DuctTree, b: DuctTree) -> None:
    assert a.system == b.system
    for name in ARRAY_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        assert_array_equal(x, y, err_msg=name)
    assert len(a.lesions) == len(b.lesions)
    for x, y in zip(a.lesions, b.lesions, strict=True):
        assert_lesions_equal(x, y)


@pytest.fixture
def lesion_tree(random_tree):
    """A random tree with an obstructing papilloma and a cyst, with awkward float values."""
    tree = random_tree(60, 21)
    rot = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    papilloma = Lesion(
        kind=LesionKind.PAPILLOMA,
        system=3,
        segment=5,
        centre_mm=tree.positions_mm[5] + 0.1,
        size_mm=4.0 / 3.0,
        obstructs=True,
        stop_node=6,
        affected_nodes=[5, 6],
        radius_before_mm=[0.1 + 0.2, np.pi / 7],
        masses=(Ellipsoid(tree.positions_mm[5], [0.7, 0.5, 0.5], rot),),
        description="filling defect, obstructs",
    )
    cyst = Lesion(
        kind="cyst",
        system=3,
        segment=9,
        centre_mm=tree.positions_mm[9],
        size_mm=6.0,
        obstructs=False,
        cavities=(Ellipsoid(tree.positions_mm[9], [3.0, 2.0, 1e-300], np.eye(3)),),
    )
    return tree.with_changes(lesions=(papilloma, cyst), system=3)


# ----------------------------------------------------------------------------- dict


class TestTreeToDict:
    def test_is_strict_json(self, lesion_tree):
        d = tree_to_dict(lesion_tree)
        text = json.dumps(d, allow_nan=False)
        assert json.loads(text) == d

    def test_layout(self, binary_tree):
        tree = binary_tree(3)
        d = tree_to_dict(tree)
        assert d["format"] == FORMAT and d["version"] == 1 and d["system"] == 0
        assert len(d["nodes"]["positions_mm"]) == tree.n_nodes
        assert len(d["segments"]) == tree.n_segments
        assert len(d["branches"]) == 7
        assert len(d["tdlus"]) == 4 == len(tree.terminal_nodes)
        assert d["lesions"] == []
        seg = d["segments"][0]
        assert set(seg) == {
            "id",
            "from",
            "to",
            "branch",
            "generation",
            "length_mm",
            "r_start_mm",
            "r_end_mm",
        }
        assert (seg["id"], seg["from"], seg["to"]) == (1, 0, 1)
        assert seg["length_mm"] == pytest.approx(4.0)

    def test_segments_match_tree(self, random_tree):
        tree = random_tree(200, 1)
        segs = tree_to_dict(tree)["segments"]
        to = np.array([s["to"] for s in segs])
        assert_array_equal(to, np.arange(1, tree.n_nodes))
        assert_array_equal([s["from"] for s in segs], tree.parent[1:])
        assert_allclose([s["length_mm"] for s in segs], tree.segment_lengths_mm[1:])
        assert_array_equal([s["r_start_mm"] for s in segs], tree.radii_mm[tree.parent[1:]])
        assert_array_equal([s["r_end_mm"] for s in segs], tree.radii_mm[1:])
        assert_array_equal([s["branch"] for s in segs], branches(tree).node_branch[1:])

    def test_branches_and_descriptors_of_binary_tree(self, binary_tree):
        tree = binary_tree(3, angle_deg=40.0)
        d = tree_to_dict(tree)
        assert [b["strahler_order"] for b in d["branches"]] == strahler_orders(tree).tolist()
        main = d["branches"][0]
        assert main["parent"] == -1 and main["angle_deg"] is None
        assert main["start_node"] == 0 and main["length_mm"] == pytest.approx(8.0)
        assert main["tortuosity"] == pytest.approx(1.0)
        assert all(b["angle_deg"] == pytest.approx(40.0) for b in d["branches"][1:])
        desc = d["descriptors"]
        assert desc["n_nodes"] == tree.n_nodes
        assert desc["n_branches"] == 7
        assert desc["max_generation"] == 3
        assert desc["strahler_max_order"] == 3
        assert desc["ramification_matrix"] == [
            [None, None, None],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
        ]
        assert desc["ramification_counts"] == [[0, 0, 0], [0, 2, 0], [0, 0, 1]]
        assert desc["lumen_volume_ml"] == pytest.approx(tree.lumen_volume_ml)
        assert desc["total_length_mm"] == pytest.approx(24.0)
        assert desc["murray_residual_max_abs"] == pytest.approx(0.0, abs=1e-12)

    def test_straight_duct_descriptors(self, straight_duct):
        desc = tree_to_dict(straight_duct)["descriptors"]
        assert desc["ramification_matrix"] == [[None]]
        assert desc["murray_residual_max_abs"] is None
        # A 10 mm cylinder of radius 1 mm: pi * 1^2 * 10 mm^3.
        assert desc["lumen_volume_ml"] == pytest.approx(np.pi * 10 / 1000)

    def test_lesions(self, lesion_tree):
        lesions = tree_to_dict(lesion_tree)["lesions"]
        assert [x["kind"] for x in lesions] == ["papilloma", "cyst"]
        assert lesions[0]["stop_node"] == 6 and lesions[1]["stop_node"] is None
        assert (
            lesions[0]["masses"][0]["rotation"]
            == lesion_tree.lesions[0].masses[0].rotation.tolist()
        )
        assert lesions[1]["cavities"][0]["semi_axes_mm"] == [3.0, 2.0, 1e-300]


class TestRoundTrip:
    def test_dict_round_trip(self, lesion_tree):
        assert_trees_equal(tree_from_dict(tree_to_dict(lesion_tree)), lesion_tree)

    @pytest.mark.parametrize("seed", range(4))
    def test_json_round_trip_is_exact(self, random_tree, seed):
        tree = random_tree(500, seed)
        # Positions that are not short decimals exercise float repr.
        tree = tree.with_changes(positions_mm=tree.positions_mm * np.pi, system=seed)
        back = tree_from_dict(json.loads(json.dumps(tree_to_dict(tree))))
        assert_trees_equal(back, tree)
        assert tree_to_dict(back) == tree_to_dict(tree)

    def test_file_round_trip(self, lesion_tree, tmp_path):
        path = write_json_atomic(tmp_path / "truth.json", tree_to_dict(lesion_tree))
        back = tree_from_dict(json.loads(path.read_text(encoding="utf-8")))
        assert_trees_equal(back, lesion_tree)

    def test_tree_without_tdlus(self, make_tree):
        tree = make_tree([[0, 0, 0], [1, 0, 0]], [-1, 0], tdlu_nodes=[])
        back = tree_from_dict(json.loads(json.dumps(tree_to_dict(tree))))
        assert_trees_equal(back, tree)
        assert back.tdlu_centre_mm.shape == (0, 3) and back.tdlu_semi_axes_mm.shape == (0, 2)

    def test_tolerant_reading(self, binary_tree):
        tree = binary_tree(2)
        d = tree_to_dict(tree)
        for key in ("format", "version", "segments", "branches", "descriptors", "tdlus", "lesions"):
            del d[key]
        back = tree_from_dict(d)
        assert_array_equal(back.positions_mm, tree.positions_mm)
        assert back.tdlu_node.size == 0 and back.lesions == ()

    def test_derived_records_are_ignored(self, binary_tree):
        tree = binary_tree(2)
        d = tree_to_dict(tree)
        d["segments"] = "stale"
        d["descriptors"]["n_nodes"] = -1
        assert_trees_equal(tree_from_dict(d), tree)


class TestTreeFromDictErrors:
    def test_not_a_dict(self):
        with pytest.raises(TypeError, match="tree dictionary must be a dict, got list"):
            tree_from_dict([1, 2])

    def test_missing_nodes(self, binary_tree):
        d = tree_to_dict(binary_tree(2))
        del d["nodes"]
        with pytest.raises(
            ParameterError, match="nodes = missing: expected a dict of node columns"
        ):
            tree_from_dict(d)

    def test_missing_column(self, binary_tree):
        d = tree_to_dict(binary_tree(2))
        del d["nodes"]["radii_mm"]
        with pytest.raises(
            ParameterError, match=r"nodes\.radii_mm = missing: expected a list of N"
        ):
            tree_from_dict(d)

    def test_missing_tdlu_field(self, binary_tree):
        d = tree_to_dict(binary_tree(2))
        del d["tdlus"][1]["axis"]
        with pytest.raises(ParameterError, match=r"tdlus\.1\.axis = missing"):
            tree_from_dict(d)

    def test_wrong_format(self, binary_tree):
        d = tree_to_dict(binary_tree(2))
        d["format"] = "vtk"
        with pytest.raises(
            ParameterError, match=r"format = 'vtk': expected 'ductogram\.duct_tree'"
        ):
            tree_from_dict(d)

    def test_newer_version(self, binary_tree):
        d = tree_to_dict(binary_tree(2))
        d["version"] = 2
        with pytest.raises(ParameterError, match=r"version = 2: expected an integer in \[1, 1\]"):
            tree_from_dict(d)

    def test_unknown_lesion_kind(self, lesion_tree):
        d = tree_to_dict(lesion_tree)
        d["lesions"][1]["kind"] = "fibroadenoma"
        with pytest.raises(
            ParameterError, match=r"lesions\.1\.kind = 'fibroadenoma': expected one of"
        ):
            tree_from_dict(d)

    def test_missing_ellipsoid_field(self, lesion_tree):
        d = tree_to_dict(lesion_tree)
        del d["lesions"][0]["masses"][0]["rotation"]
        with pytest.raises(ParameterError, match=r"lesions\.0\.masses\.0\.rotation = missing"):
            tree_from_dict(d)

    def test_invalid_tree_is_refused_by_ducttree(self, binary_tree):
        d = tree_to_dict(binary_tree(2))
        d["nodes"]["parent"][3] = 5
        with pytest.raises(ParameterError, match="parent"):
            tree_from_dict(d)

    def test_to_dict_not_a_tree(self):
        with pytest.raises(TypeError, match="tree must be a DuctTree, got dict"):
            tree_to_dict({})


# ----------------------------------------------------------------------------- networkx


class TestNetworkx:
    @pytest.mark.parametrize("seed", range(3))
    def test_node_graph_is_arborescence(self, random_tree, seed):
        tree = random_tree(300, seed)
        g = tree_to_networkx(tree)
        assert g.number_of_nodes() == tree.n_nodes
        assert g.number_of_edges() == tree.n_nodes - 1
        assert nx.is_arborescence(g)
        assert g.in_degree(0) == 0
        assert_array_equal([g.out_degree(i) for i in range(tree.n_nodes)], tree.n_children)

    def test_attributes(self, lesion_tree):
        tree = lesion_tree
        g = tree_to_networkx(tree)
        assert g.graph["system"] == 3 and g.graph["units"] == "mm"
        assert [x["kind"] for x in g.graph["lesions"]] == ["papilloma", "cyst"]
        assert g.graph["lesions"][0]["stop_node"] == 6
        node = g.nodes[7]
        assert node["pos"] == tuple(tree.positions_mm[7])
        assert node["radius_mm"] == tree.radii_mm[7]
        assert node["generation"] == tree.generation[7] and node["lobe"] == tree.lobe[7]
        is_tdlu = np.array([g.nodes[i]["is_tdlu"] for i in range(tree.n_nodes)])
        assert_array_equal(np.flatnonzero(is_tdlu), np.sort(tree.tdlu_node))
        p = int(tree.parent[7])
        edge = g.edges[p, 7]
        assert edge["length_mm"] == pytest.approx(tree.segment_lengths_mm[7])
        assert (edge["r_start_mm"], edge["r_end_mm"]) == (tree.radii_mm[p], tree.radii_mm[7])
        assert edge["generation"] == tree.generation[7]

    def test_path_length_matches_tree(self, random_tree):
        tree = random_tree(200, 8)
        g = tree_to_networkx(tree)
        dist = nx.single_source_dijkstra_path_length(g, 0, weight="length_mm")
        assert_allclose([dist[i] for i in range(tree.n_nodes)], tree.path_length_mm)

    def test_plain_python_values(self, binary_tree):
        g = tree_to_networkx(binary_tree(2))
        attrs = g.nodes[1]
        assert type(attrs["radius_mm"]) is float and type(attrs["generation"]) is int
        assert all(type(v) is float for v in attrs["pos"])

    def test_branch_graph(self, binary_tree):
        tree = binary_tree(3, angle_deg=25.0)
        g = branch_graph(tree)
        assert g.number_of_nodes() == 7 and g.number_of_edges() == 6
        assert nx.is_arborescence(g)
        assert g.nodes[0]["strahler_order"] == 3 and g.nodes[0]["generation"] == 1
        assert g.nodes[0]["length_mm"] == pytest.approx(8.0)
        assert g.nodes[0]["start_node"] == 0
        orders = [g.nodes[b]["strahler_order"] for b in range(7)]
        assert orders == strahler_orders(tree).tolist()
        assert all(d["angle_deg"] == pytest.approx(25.0) for _, _, d in g.edges(data=True))

    def test_branch_graph_random(self, random_tree):
        tree = random_tree(400, 9)
        g = branch_graph(tree)
        br = branches(tree)
        assert g.number_of_nodes() == br.n_branches
        assert nx.is_arborescence(g)
        total = sum(d["length_mm"] for _, d in g.nodes(data=True))
        assert total == pytest.approx(tree.segment_lengths_mm.sum())

    @pytest.mark.parametrize("func", [tree_to_networkx, branch_graph])
    def test_not_a_tree(self, func):
        with pytest.raises(TypeError, match="tree must be a DuctTree, got NoneType"):
            func(None)


# ----------------------------------------------------------------------------- files


class TestAtomicWrite:
    def test_writes_and_replaces(self, tmp_path):
        path = tmp_path / "a.json"
        path.write_text("old")
        out = write_json_atomic(path, {"r": [1.5, None], "name": "ductus lactiferus"})
        assert out == path
        assert json.loads(path.read_text()) == {"r": [1.5, None], "name": "ductus lactiferus"}
        assert os.listdir(tmp_path) == ["a.json"]

    def test_text(self, tmp_path):
        path = write_text_atomic(str(tmp_path / "b.txt"), "µ = 0.8 cm²/g")
        assert path.read_text(encoding="utf-8") == "µ = 0.8 cm²/g"

    def test_nan_is_refused_and_nothing_written(self, tmp_path):
        path = tmp_path / "c.json"
        path.write_text("keep")
        with pytest.raises(ValueError, match=r"c\.json.*replace NaN or infinity by None"):
            write_json_atomic(path, {"x": float("nan")})
        assert path.read_text() == "keep"
        assert os.listdir(tmp_path) == ["c.json"]

    def test_array_is_refused(self, tmp_path):
        with pytest.raises(TypeError, match=r"convert arrays with \.tolist\(\)"):
            write_json_atomic(tmp_path / "d.json", {"x": np.zeros(2)})
        assert os.listdir(tmp_path) == []

    def test_missing_folder(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            write_text_atomic(tmp_path / "nope" / "e.txt", "x")

    def test_text_must_be_str(self, tmp_path):
        with pytest.raises(TypeError, match="text must be a str, got bytes"):
            write_text_atomic(tmp_path / "f.txt", b"x")


# ----------------------------------------------------------------------------- phantom


@pytest.fixture(scope="module")
def small_phantom():
    from ductogram.anatomy import generate_phantom

    return generate_phantom(
        {"lobes": 4, "orifices": 2, "tdlus_per_lobe": 15, "lesions": [{"kind": "papilloma"}]},
        seed=11,
    )


class TestPhantomToDict:
    def test_strict_json(self, small_phantom):
        d = phantom_to_dict(small_phantom)
        assert json.loads(json.dumps(d, allow_nan=False)) == d

    def test_layout(self, small_phantom):
        ph = small_phantom
        d = phantom_to_dict(ph)
        assert (d["format"], d["version"], d["seed"]) == (PHANTOM_FORMAT, 1, 11)
        assert d["parameters"] == ph.parameters.model_dump(mode="json")
        assert d["breast"]["laterality"] == "L"
        assert d["breast"]["volume_ml"] == pytest.approx(ph.parameters.volume_ml)
        assert d["breast"]["parenchyma_volume_ml"] < d["breast"]["volume_ml"]
        assert len(d["lobes"]["boundaries_rad"]) == d["lobes"]["n_lobes"] == 4
        assert np.shape(d["lobes"]["orifice_mm"]) == (2, 3)
        assert d["compressed_thickness_mm"] == ph.compressed_thickness_mm
        assert list(d["views"]) == ["CC", "ML", "MLO", "LM"]
        cc = ph.compression("CC")
        assert d["views"]["CC"]["compression_ratio"] == cc.compression_ratio
        assert d["views"]["CC"]["stretch"] == cc.stretch
        assert d["views"]["MLO"]["obliquity_deg"] == 45.0

    def test_summary(self, small_phantom):
        ph = small_phantom
        d = phantom_to_dict(ph)
        s = d["summary"]
        assert s["n_systems"] == len(d["systems"]) == 2
        assert s["n_lobes"] == 4
        assert s["n_branches"] == ph.n_branches == sum(s["branches_per_system"])
        assert s["max_generation"] == max(t.max_generation for t in ph.trees)
        assert s["n_lesions"] == 1
        (lesion,) = s["lesions"]
        assert lesion["kind"] == "papilloma"
        assert lesion["description"] == ph.lesions[0].description

    def test_systems_round_trip(self, small_phantom):
        d = json.loads(json.dumps(phantom_to_dict(small_phantom)))
        for data, tree in zip(d["systems"], small_phantom.trees, strict=True):
            back = tree_from_dict(data)
            for name in ARRAY_FIELDS:
                assert_array_equal(getattr(back, name), getattr(tree, name))


class TestGraphml:
    def test_scalar_attributes_only(self, small_phantom):
        (lesion,) = small_phantom.lesions
        g = tree_to_graphml(small_phantom.trees[lesion.system])
        scalar = (bool, int, float, str)
        assert all(isinstance(v, scalar) for _, d in g.nodes(data=True) for v in d.values())
        assert all(isinstance(v, scalar) for _, _, d in g.edges(data=True) for v in d.values())
        assert all(isinstance(v, scalar) for v in g.graph.values())
        assert g.graph["n_lesions"] == 1
        assert json.loads(g.graph["lesions_json"])[0]["kind"] == "papilloma"

    def test_positions_split(self, make_tree):
        tree = make_tree([[0, 0, 0], [1.5, -2.0, 3.25]], [-1, 0])
        g = tree_to_graphml(tree)
        assert (g.nodes[1]["x_mm"], g.nodes[1]["y_mm"], g.nodes[1]["z_mm"]) == (1.5, -2.0, 3.25)
        assert g.graph["format"] == FORMAT


class TestWritePhantom:
    def test_files_and_readback(self, small_phantom, tmp_path):
        out = tmp_path / "a" / "case"
        files = write_phantom(small_phantom, out)
        assert [f.name for f in files] == ["phantom.json", "system_00.graphml", "system_01.graphml"]
        assert all(f.parent == out.absolute() for f in files)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
        assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["case"]
        tree = small_phantom.trees[1]
        g = nx.read_graphml(out / "system_01.graphml", node_type=int)
        assert g.number_of_nodes() == tree.n_nodes
        assert nx.is_arborescence(g)
        assert_array_equal(
            [[g.nodes[i][k] for k in ("x_mm", "y_mm", "z_mm")] for i in range(tree.n_nodes)],
            tree.positions_mm,
        )
        d = json.loads((out / "phantom.json").read_text())
        assert d["summary"]["n_branches"] == small_phantom.n_branches

    def test_empty_folder_is_used(self, small_phantom, tmp_path):
        out = tmp_path / "case"
        out.mkdir()
        write_phantom(small_phantom, out)
        assert (out / "phantom.json").is_file()

    def test_refuses_non_empty_folder(self, small_phantom, tmp_path):
        out = tmp_path / "case"
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        with pytest.raises(FileExistsError, match=r"exists and is not empty.*--force"):
            write_phantom(small_phantom, out)
        assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]

    def test_overwrite_replaces(self, small_phantom, tmp_path):
        out = tmp_path / "case"
        out.mkdir()
        (out / "notes.txt").write_text("old")
        write_phantom(small_phantom, out, overwrite=True)
        assert sorted(p.name for p in out.iterdir()) == [
            "phantom.json",
            "system_00.graphml",
            "system_01.graphml",
        ]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]

    def test_also_writers_share_the_folder(self, small_phantom, tmp_path):
        def extra(phantom, folder):
            return [write_text_atomic(folder / "extra.txt", str(len(phantom.trees)))]

        files = write_phantom(small_phantom, tmp_path / "case", also=[extra])
        assert files[-1] == (tmp_path / "case" / "extra.txt").absolute()
        assert files[-1].read_text() == "2"

    def test_failure_leaves_nothing(self, small_phantom, tmp_path):
        def broken(phantom, folder):
            (folder / "half.png").write_bytes(b"half")
            raise RuntimeError("disk on fire")

        with pytest.raises(RuntimeError, match="disk on fire"):
            write_phantom(small_phantom, tmp_path / "new" / "case", also=[broken])
        assert list(tmp_path.iterdir()) == []

    def test_failure_keeps_old_folder(self, small_phantom, tmp_path):
        out = tmp_path / "case"
        out.mkdir()
        (out / "notes.txt").write_text("old")

        def broken(phantom, folder):
            raise OSError("no space left")

        with pytest.raises(OSError, match="no space left"):
            write_phantom(small_phantom, out, overwrite=True, also=[broken])
        assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]
        assert (out / "notes.txt").read_text() == "old"
