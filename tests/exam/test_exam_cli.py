"""``ductogram exam``: a case end to end, the files it writes, the shipped examples, and
bad cases that leave nothing behind."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ductogram.anatomy import generate_phantom
from ductogram.cli import app, load_case
from ductogram.exam.outcome import ProcedureOutcome
from ductogram.exam.procedure import Procedure, run_exam
from ductogram.exam.record import ExamCase, procedure_markdown

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SMALL = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30}
SEED = 3

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def case_data(**patient_changes):
    patient = {
        "id": "SYN-0100",
        "age_years": 47,
        "deodorant_or_powder": True,
        "discharge": {
            "spontaneous": True,
            "laterality": "L",
            "ducts": "single",
            "colour": "bloody",
        },
    }
    discharge = patient_changes.pop("discharge", {})
    patient["discharge"].update(discharge)
    patient.update(patient_changes)
    return {
        "patient": patient,
        "phantom": {**SMALL, "lesions": [{"kind": "papilloma"}]},
        "exam": {"volume_ml": 0.5},
    }


def write_case(folder: Path, data, name="case.yaml") -> Path:
    path = folder / name
    if isinstance(data, str):
        path.write_text(data)
    elif name.endswith(".json"):
        path.write_text(json.dumps(data))
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def exam_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exam")
    case = write_case(folder, case_data())
    out = folder / "out" / "case"
    result = run("exam", str(case), "--out", str(out), "--seed", str(SEED))
    return result, out


# ----------------------------------------------------------------------------- help


def test_help_lists_exam():
    result = run("--help")
    assert result.exit_code == 0
    assert "exam" in result.output


def test_exam_help():
    result = run("exam", "--help")
    assert result.exit_code == 0
    for flag in ("--out", "--seed", "--force", "--rules", "CASE"):
        assert flag in result.output


# ----------------------------------------------------------------------------- success


def test_writes_record_and_truth(exam_run):
    result, out = exam_run
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "phantom.json",
            "procedure.json",
            "procedure.schema.json",
            "summary.md",
            *[f"system_{s:02d}.graphml" for s in range(5)],
        ]
    )
    assert sorted(p.name for p in out.parent.iterdir()) == ["case"]  # no temporary folders


def test_procedure_json_round_trips_and_matches_the_api(exam_run):
    _, out = exam_run
    text = (out / "procedure.json").read_text()
    proc = Procedure.model_validate_json(text)
    assert proc.seed == SEED and proc.phantom_seed == SEED
    case = ExamCase.parse(case_data())
    ph = generate_phantom(case.phantom, seed=SEED)
    again, _ = run_exam(case.patient, ph, case.exam, rng=SEED)
    assert json.loads(text) == again.model_dump(mode="json")
    assert json.loads((out / "phantom.json").read_text())["seed"] == SEED


def test_schema_describes_the_record(exam_run):
    """procedure.schema.json is Procedure's JSON schema, and the record fits it: every
    required property is there and no other (jsonschema is not a dependency)."""
    _, out = exam_run
    schema = json.loads((out / "procedure.schema.json").read_text())
    assert schema == Procedure.model_json_schema()
    data = json.loads((out / "procedure.json").read_text())
    assert set(schema["required"]) <= set(data)
    assert set(data) <= set(schema["properties"])
    assert data["outcome"] in schema["$defs"]["ProcedureOutcome"]["enum"]
    for name, model in (("screening", "Screening"), ("patient", "Patient")):
        sub = schema["$defs"][model]
        assert set(sub["required"]) <= set(data[name]) <= set(sub["properties"])


def test_summary_is_rendered_from_the_record(exam_run):
    _, out = exam_run
    proc = Procedure.model_validate_json((out / "procedure.json").read_text())
    summary = (out / "summary.md").read_text()
    assert summary == procedure_markdown(proc)
    assert summary.startswith("# Ductography: patient SYN-0100")
    assert f"**Outcome: {proc.outcome.value.replace('_', ' ')}.**" in summary
    for d in proc.screening.decisions:
        assert d.reason in summary
    assert "## Timeline" in summary
    assert summary.count("\n| ") >= len(proc.log)


def test_rich_summary(exam_run):
    result, _ = exam_run
    for word in ("Exam", "outcome", "Screening", "deodorant_or_powder", "procedure.json"):
        assert word in result.stdout


def test_exam_not_done_is_written_too(tmp_path):
    data = case_data(discharge={"present_today": False})
    data["exam"]["warm_compress_works"] = False
    case = write_case(tmp_path, data, "case.json")
    out = tmp_path / "out"
    result = run("exam", str(case), "--out", str(out))
    assert result.exit_code == 0, result.output
    proc = Procedure.model_validate_json((out / "procedure.json").read_text())
    assert proc.outcome == ProcedureOutcome.DEFERRED
    assert "deferred" in result.stdout
    assert "no discharge" in (out / "summary.md").read_text().lower()


def test_custom_rules_file(tmp_path):
    rules = yaml.safe_load(
        (
            Path(__file__).resolve().parents[2] / "src/ductogram/data/screening_rules.yaml"
        ).read_text()
    )
    for rule in rules["rules"]:
        if rule["id"] == "deodorant_or_powder":
            rule["decision"] = "defer"
    rules_file = tmp_path / "clinic.yaml"
    rules_file.write_text(yaml.safe_dump(rules))
    case = write_case(tmp_path, case_data())
    out = tmp_path / "out"
    result = run("exam", str(case), "--out", str(out), "--rules", str(rules_file))
    assert result.exit_code == 0, result.output
    proc = Procedure.model_validate_json((out / "procedure.json").read_text())
    assert proc.outcome == ProcedureOutcome.DEFERRED
    assert proc.screening.rules_source == str(rules_file)


def test_force_replaces(exam_run, tmp_path):
    out = tmp_path / "again"
    out.mkdir()
    (out / "old.txt").write_text("old")
    case = write_case(tmp_path, case_data())
    result = run("exam", str(case), "--out", str(out), "--seed", str(SEED), "--force")
    assert result.exit_code == 0, result.output
    assert not (out / "old.txt").exists()
    _, first = exam_run
    for name in ("procedure.json", "summary.md", "phantom.json"):
        assert (out / name).read_bytes() == (first / name).read_bytes(), name


# ----------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("name", "outcome", "rule"),
    [
        ("exam_papilloma.yaml", "completed", "pathologic_discharge"),
        ("exam_no_discharge.yaml", "deferred", "no_discharge_reschedule"),
        ("exam_pregnant.yaml", "completed", "pregnancy_shielded"),
    ],
)
def test_examples(name, outcome, rule):
    """The shipped cases validate and, on a small phantom of the same side with the same
    lesions, end as their comments say (seed 3)."""
    case = ExamCase.parse(load_case(EXAMPLES / name))
    params = case.phantom.model_copy(update=SMALL)
    lesions = [spec.model_copy(update={"system": None}) for spec in params.lesions]
    ph = generate_phantom(params.model_copy(update={"lesions": lesions}), seed=SEED)
    proc, _ = run_exam(case.patient, ph, case.exam, rng=SEED)
    assert proc.outcome == ProcedureOutcome(outcome)
    assert proc.screening.decision(rule) is not None
    assert proc.laterality.value == case.patient.discharge.laterality.value


# ----------------------------------------------------------------------------- errors


def _set(data, path, value):
    target = data
    *parents, last = path.split(".")
    for p in parents:
        target = target.setdefault(p, {})
    target[last] = value
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("patient.age_years", -3),
            r"patient\.age_years = -3: expected a value in \[0, 120\] years",
        ),
        (
            ("patient.sex", "male", "patient.pregnancy", "yes"),
            r"patient\.pregnancy = 'yes': expected 'no' or 'unknown' for a patient recorded "
            r"as sex = male",
        ),
        (("exam.volume_ml", 6), r"exam\.volume_ml = 6: expected a volume in \(0, 5\] mL"),
        (
            ("exam.agent", "gastrografin"),
            r"exam\.agent = 'gastrografin': expected a known contrast agent \(one of: "
            r"iohexol-300, ",
        ),
        (
            ("patient.favourite_colour", "blue"),
            r"patient\.favourite_colour = 'blue': expected a known field",
        ),
        (("exam.flsh", False), r"exam\.flsh = False: expected a known field \(one of: agent,"),
        (("phantom.lobes", 0), r"phantom\.lobes = 0: expected a value in \[1, 24\]"),
        (("phantom.lobez", 3), r"phantom\.lobez = 3: expected a known field"),
        (
            ("scanner.kv", 28),
            r"scanner = \{'kv': 28\}: expected a known section \(one of: patient,",
        ),
        (
            ("phantom.laterality", "R"),
            r"patient\.discharge\.laterality = 'L': expected R \(the side of the phantom's "
            r"breast\)",
        ),
        (
            ("patient.discharge.colour", "pink"),
            r"patient\.discharge\.colour = 'pink': expected one of 'bloody'",
        ),
    ],
    ids=[
        "negative-age",
        "pregnant-male",
        "volume-6-ml",
        "unknown-agent",
        "unknown-patient-field",
        "unknown-exam-field",
        "bad-phantom-field",
        "unknown-phantom-field",
        "unknown-section",
        "side-mismatch",
        "unknown-colour",
    ],
)
def test_bad_case_writes_nothing(tmp_path, change, message):
    data = case_data()
    pairs = list(zip(change[::2], change[1::2], strict=True))
    for path, value in pairs:
        _set(data, path, value)
    case = write_case(tmp_path, data)
    out = tmp_path / "deep" / "out"
    result = run("exam", str(case), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert re.match(r"error: " + message, result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "deep").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("patient: [1, 2\n", r"case file '.*case\.yaml' is not valid YAML"),
        ("- 1\n- 2\n", r"case file '.*' must hold a mapping"),
        ("phantom: {lobes: 10}\n", r"patient = missing: expected a section"),
        ("patient: 3\n", r"patient = 3: expected a mapping of fields"),
    ],
)
def test_bad_case_file(tmp_path, text, message):
    case = write_case(tmp_path, text)
    out = tmp_path / "out"
    result = run("exam", str(case), "--out", str(out))
    assert result.exit_code == 2
    assert re.match(r"error: " + message, result.stderr), result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("rules_text", "message"),
    [
        (
            "format: ductogram.screening_rules\nversion: 1\nrules:\n"
            "  - {id: r1, title: T, decision: prepare, action: a, reason: r, source: s,\n"
            "     when: {field: patient.deodorant, op: is_true}}\n",
            r"screening rules '?.*rules\.yaml'?, rule 'r1' \(rules\.0\): when\.field = "
            r"'patient\.deodorant': expected a known field",
        ),
        ("rules: [1, 2\n", r"rules file '.*rules\.yaml' is not valid YAML"),
    ],
    ids=["malformed-rule", "invalid-yaml"],
)
def test_bad_rules_file_writes_nothing(tmp_path, rules_text, message):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_text)
    case = write_case(tmp_path, case_data())
    out = tmp_path / "out"
    result = run("exam", str(case), "--out", str(out), "--rules", str(rules))
    assert result.exit_code == 2, result.output
    assert re.match(r"error: " + message, result.stderr), result.stderr
    assert not out.exists()


def test_missing_files(tmp_path):
    out = tmp_path / "out"
    result = run("exam", str(tmp_path / "nope.yaml"), "--out", str(out))
    assert result.exit_code == 2
    assert re.match(r"error: case file '.*nope\.yaml' does not exist", result.stderr)
    case = write_case(tmp_path, case_data())
    result = run("exam", str(case), "--out", str(out), "--rules", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2
    assert re.match(r"error: rules file '.*none\.yaml' does not exist", result.stderr)
    assert not out.exists()


def test_existing_folder_is_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("keep me")
    case = write_case(tmp_path, case_data())
    result = run("exam", str(case), "--out", str(out))
    assert result.exit_code == 2
    assert "exists and is not empty" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
