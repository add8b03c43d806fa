"""The ``ductogram`` command line: help, a small phantom end to end, and its errors."""

from __future__ import annotations

import json
import re

import networkx as nx
import pytest
from numpy.testing import assert_array_equal
from typer.testing import CliRunner

from ductogram import __version__
from ductogram.anatomy import generate_phantom
from ductogram.anatomy.truth import tree_from_dict
from ductogram.cli import app, merge_parameters
from ductogram.core import ParameterError

SMALL = ["--lobes", "10", "--orifices", "5", "--tdlus-per-lobe", "30"]
SEED = 3

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One small phantom with a papilloma, written by the command line."""
    out = tmp_path_factory.mktemp("cli") / "case"
    result = run("phantom", *SMALL, "--seed", str(SEED), "--lesion", "papilloma", "--out", str(out))
    return result, out


@pytest.fixture(scope="module")
def small_phantom():
    """The same phantom, generated in memory."""
    params = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30, "lesions": [{"kind": "papilloma"}]}
    return generate_phantom(params, seed=SEED)


# ----------------------------------------------------------------------------- help


def test_help_lists_phantom():
    result = run("--help")
    assert result.exit_code == 0
    assert "ductography (galactography)" in result.output
    assert "phantom" in result.output


def test_no_arguments_shows_help():
    result = run()
    assert "phantom" in result.output


def test_phantom_help_lists_options():
    result = run("phantom", "--help")
    assert result.exit_code == 0
    for flag in ("--out", "--seed", "--force", "--lesion", "--thickness-mm", "--tdlus-per-lobe"):
        assert flag in result.output


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"ductogram {__version__}"


# ----------------------------------------------------------------------------- success


def test_writes_truth_and_pictures(small_run):
    result, out = small_run
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "phantom.json" in names
    assert "phantom.png" in names
    assert [n for n in names if n.endswith(".graphml")] == [
        f"system_{s:02d}.graphml" for s in range(5)
    ]
    assert len([n for n in names if re.fullmatch(r"system_\d\d_cc_ml\.png", n)]) == 1
    assert len(names) == 8
    # Nothing left beside it: no temporary folders.
    assert sorted(p.name for p in out.parent.iterdir()) == ["case"]


def test_summary_table(small_run):
    result, _ = small_run
    assert "Duct systems" in result.stdout
    assert "papilloma" in result.stdout
    assert "phantom.json" in result.stdout


def test_json_round_trips_trees(small_run, small_phantom):
    _, out = small_run
    d = json.loads((out / "phantom.json").read_text())
    assert d["format"] == "ductogram.phantom"
    assert d["seed"] == SEED
    assert d["parameters"]["lobes"] == 10
    assert len(d["systems"]) == len(small_phantom.trees) == 5
    for data, tree in zip(d["systems"], small_phantom.trees, strict=True):
        back = tree_from_dict(data)
        for name in (
            "positions_mm",
            "radii_mm",
            "parent",
            "generation",
            "lobe",
            "tdlu_node",
            "tdlu_centre_mm",
            "tdlu_axis",
            "tdlu_semi_axes_mm",
        ):
            assert_array_equal(getattr(back, name), getattr(tree, name), err_msg=name)
        assert [(les.kind, les.segment) for les in back.lesions] == [
            (les.kind, les.segment) for les in tree.lesions
        ]
    assert d["summary"]["n_lesions"] == 1


def test_graphml_matches_trees(small_run, small_phantom):
    _, out = small_run
    tree = small_phantom.trees[2]
    g = nx.read_graphml(out / "system_02.graphml", node_type=int)
    assert g.number_of_nodes() == tree.n_nodes
    assert g.number_of_edges() == tree.n_nodes - 1
    assert g.nodes[5]["x_mm"] == tree.positions_mm[5, 0]
    assert g.nodes[5]["radius_mm"] == tree.radii_mm[5]


def test_same_seed_same_bytes_and_force_replaces(small_run, tmp_path):
    """A second run with the same seed into an old folder (--force) writes the same
    phantom.json and GraphML bytes, and nothing of the old folder survives."""
    _, first = small_run
    out = tmp_path / "again"
    out.mkdir()
    (out / "old.txt").write_text("old")
    args = ["phantom", *SMALL, "--seed", str(SEED), "--lesion", "papilloma", "--out", str(out)]
    result = run(*args, "--force")
    assert result.exit_code == 0, result.output
    assert not (out / "old.txt").exists()
    for name in ("phantom.json", "system_00.graphml", "system_04.graphml"):
        assert (out / name).read_bytes() == (first / name).read_bytes(), name


def test_merge_flags_override_case():
    params = merge_parameters(
        {"lobes": 12, "orifices": 4, "lesions": [{"kind": "cyst"}]},
        {"lobes": 8, "orifices": None, "lesions": [{"kind": "papilloma"}]},
    )
    assert params.lobes == 8
    assert params.orifices == 4
    assert [spec.kind.value for spec in params.lesions] == ["cyst", "papilloma"]


def test_merge_names_bad_field():
    with pytest.raises(ParameterError, match=r"^lobes = 0: expected a value in \[1, 24\]"):
        merge_parameters({}, {"lobes": 0})


# ----------------------------------------------------------------------------- errors

CASE_SMALL = "lobes: 10\norifices: 5\ntdlus_per_lobe: 30\n"


@pytest.mark.parametrize(
    ("args", "case_text", "message"),
    [
        (["--lobes", "0"], None, r"lobes = 0: expected a value in \[1, 24\]"),
        (["--lobes", "3", "--orifices", "5"], None, r"orifices = 5: expected an integer in \[1"),
        (["--volume-ml", "-5"], None, r"volume_ml = -5\.0: expected a value in \[150, 2500\]"),
        (["--glandular-fraction", "2"], None, r"glandular_fraction = 2\.0"),
        ([], "lobes: [1, 2\n", r"case file '.*case\.yaml' is not valid YAML.*line 2"),
        ([], "- 1\n- 2\n", r"case file '.*' must hold a mapping"),
        ([], "lobez: 3\n", r"lobez = 3: expected a known field \(one of: laterality,"),
        ([], CASE_SMALL + "colour: pink\n", r"colour = 'pink': expected a known field"),
        (
            [],
            CASE_SMALL + "lesions:\n  - {kind: papilloma, system: 0, segment: 999999}\n",
            r"lesions\.0\.segment = 999999: expected a node index in \[1, \d+\]",
        ),
        (
            [],
            CASE_SMALL + "lesions:\n  - {kind: papilloma, system: 99}\n",
            r"lesions\.0\.system = 99: expected a duct system index in \[0, 4\]",
        ),
        (
            [],
            CASE_SMALL + "lesions:\n  - {kind: papilloma, size_mm: -1}\n",
            r"lesions\.0\.size_mm = -1",
        ),
    ],
    ids=[
        "lobes-0",
        "orifices-over-lobes",
        "negative-volume",
        "glandular-over-1",
        "malformed-yaml",
        "yaml-list",
        "unknown-key",
        "unknown-key-in-full-case",
        "lesion-segment-out-of-range",
        "lesion-system-out-of-range",
        "lesion-negative-size",
    ],
)
def test_bad_input_writes_nothing(tmp_path, args, case_text, message):
    out = tmp_path / "deep" / "out"
    case_args = []
    if case_text is not None:
        case = tmp_path / "case.yaml"
        case.write_text(case_text)
        case_args = [str(case)]
    result = run("phantom", *case_args, *args, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert re.match(r"error: " + message, result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not (tmp_path / "deep").exists()


def test_malformed_json(tmp_path):
    case = tmp_path / "case.json"
    case.write_text('{"lobes": 3,')
    out = tmp_path / "out"
    result = run("phantom", str(case), "--out", str(out))
    assert result.exit_code == 2
    assert re.match(r"error: case file '.*case\.json' is not valid JSON", result.stderr)
    assert not out.exists()


def test_json_case_file_is_used(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"lobes": 3, "orifices": 4}))
    result = run("phantom", str(case), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "orifices = 4: expected an integer in [1, lobes = 3]" in result.stderr


def test_missing_case_file(tmp_path):
    out = tmp_path / "out"
    result = run("phantom", str(tmp_path / "nope.yaml"), "--out", str(out))
    assert result.exit_code == 2
    assert re.match(r"error: case file '.*nope\.yaml' does not exist", result.stderr)
    assert not out.exists()


def test_unknown_lesion_kind(tmp_path):
    out = tmp_path / "out"
    result = run("phantom", "--lesion", "tumour", "--out", str(out))
    assert result.exit_code == 2
    assert "tumour" in result.output
    assert not out.exists()


def test_existing_folder_is_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.txt").write_text("keep me")
    result = run("phantom", *SMALL, "--out", str(out))
    assert result.exit_code == 2
    assert re.match(r"error: output folder '.*out' exists and is not empty.*--force", result.stderr)
    assert sorted(p.name for p in out.iterdir()) == ["report.txt"]
    assert (out / "report.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_path_is_a_file(tmp_path):
    out = tmp_path / "out"
    out.write_text("x")
    result = run("phantom", *SMALL, "--out", str(out), "--force")
    assert result.exit_code == 2
    assert "exists and is not a folder" in result.stderr
    assert out.read_text() == "x"
