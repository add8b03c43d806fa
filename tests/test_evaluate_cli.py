"""`ductogram evaluate`: simulate, read, score; a summary table and the files, or an error."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ductogram.cli import app

runner = CliRunner()


def test_help_lists_options():
    result = runner.invoke(app, ["evaluate", "--help"])
    assert result.exit_code == 0
    for flag in ("--cases", "--seed", "--out", "--pixel-mm", "--force"):
        assert flag in result.output


def test_one_case(tmp_path):
    out = tmp_path / "ev"
    args = ["evaluate", "--cases", "1", "--seed", "3", "--out", str(out)]
    result = runner.invoke(app, [*args, "--pixel-mm", "0.2", "--supersample", "1"])
    assert result.exit_code == 0, result.output
    assert "Dice (mean)" in result.output and "branch-point F1" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cases"] == 1 and summary["seed"] == 3
    # The folder is not empty now: refused without --force, with one error line.
    again = runner.invoke(app, [*args, "--pixel-mm", "0.2", "--supersample", "1"])
    assert again.exit_code == 2
    assert again.output.startswith("error:") and "--force" in again.output


def test_bad_values_are_usage_errors(tmp_path):
    for extra, word in (
        (["--cases", "0"], "cases"),
        (["--pixel-mm", "0.5"], "pixel_mm"),
        (["--supersample", "7"], "supersample"),
    ):
        result = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "x"), *extra])
        assert result.exit_code == 2
        assert result.output.startswith("error:") and word in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_findings_of_one_exam(tmp_path):
    out = tmp_path / "f"
    args = ["evaluate", "--findings", "--cases", "1", "--seed", "5", "--lesion", "cyst"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("case accuracy", "95 % interval", "sensitivity at 0.25 FP/view", "cyst"):
        assert text in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exams"] == 1 and summary["mix"] == "every exam with cyst"
    assert summary["pixel_mm"] == 0.2 and summary["supersample"] == 1
    lo, hi = summary["targets"]["case_accuracy"]["ci95"]
    assert lo <= summary["case_accuracy"] <= hi


def test_quality_of_one_view(tmp_path):
    out = tmp_path / "q"
    result = runner.invoke(
        app, ["evaluate", "--quality", "--cases", "1", "--seed", "2012", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "metal" in result.output and "false flags (95 %)" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [2012] and summary["per_flag"]["metal"]["positives"] == 1


def test_findings_and_quality_options_that_do_not_go_together(tmp_path):
    for extra, word in (
        (["--findings", "--quality"], "--findings/--quality"),
        (["--lesion", "cyst"], "--lesion"),
        (["--presentation"], "--presentation"),
        (["--findings", "--lesion", "polyp"], "lesion"),
        (["--findings", "--workers", "0"], "workers"),
        (["--quality", "--workers", "0"], "workers"),
        (["--quality", "--cases", "0"], "cases"),
        (["--findings", "--pixel-mm", "0.3"], "pixel_mm"),
        (["--workers", "2"], "--workers"),
        (["--quality", "--supersample", "2"], "--supersample"),
    ):
        result = runner.invoke(app, ["evaluate", "--out", str(tmp_path / "x"), *extra])
        assert result.exit_code == 2, (extra, result.output)
        assert result.output.startswith("error:") and word in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
