"""Screening: every rule of the shipped table, the outcome, the condition language, and
malformed rules files."""

from __future__ import annotations

import itertools
from importlib import resources

import numpy as np
import pytest
import yaml

from ductogram.core import ParameterError
from ductogram.exam.patient import DischargeColour, DischargeSide, DuctCount
from ductogram.exam.screening import (
    DecisionKind,
    RuleError,
    RulesFileError,
    ScreeningOutcome,
    load_rules,
    parse_rules,
    screen,
)

# rule id -> (patient changes, screen() keywords, decision, action text, reason text,
# source text, outcome of the screening). One row per rule of the shipped table: a new rule
# needs a row here (test_every_rule_has_a_case).
RULE_CASES = {
    "pathologic_discharge": (
        {},
        {},
        "indicated",
        "Perform ductography",
        "pathologic discharge",
        "Slawson & Johnson",
        "proceed",
    ),
    "abnormal_cytology": (
        {"discharge": {"cytology": "atypical"}},
        {},
        "indicated",
        "Perform ductography",
        "atypia on discharge cytology",
        "sanomedica",
        "proceed",
    ),
    "physiologic_pattern": (
        {"discharge": {"laterality": "bilateral"}},
        {},
        "not_indicated",
        "return the patient to the referring provider",
        "systemic or physiologic cause",
        "Radiopaedia",
        "not_indicated",
    ),
    "physiologic_colour": (
        {"discharge": {"colour": "milky"}},
        {},
        "not_indicated",
        "No ductography",
        "physiologic pattern",
        "RadiologyInfo",
        "not_indicated",
    ),
    "expressed_only": (
        {"discharge": {"spontaneous": False}},
        {},
        "not_indicated",
        "No ductography",
        "not pathologic discharge",
        "§1.2",
        "not_indicated",
    ),
    "infection": (
        {"discharge": {"colour": "purulent"}},
        {},
        "contraindicated",
        "treat the infection",
        "contains pus",
        "§1.3",
        "contraindicated",
    ),
    "contrast_allergy": (
        {"contrast_allergy": True},
        {},
        "contraindicated",
        "Do not inject iodinated contrast",
        "allergy to iodinated contrast",
        "Medscape",
        "contraindicated",
    ),
    "pregnancy_shielded": (
        {"pregnancy": "yes"},
        {"shielding_available": True},
        "proceed_with_precaution",
        "abdominal shielding",
        "only with abdominal shielding recorded",
        "§1.3",
        "proceed",
    ),
    "pregnancy_unshielded": (
        {"pregnancy": "possible"},
        {"shielding_available": False},
        "defer",
        "Defer the exam",
        "shielding cannot be recorded",
        "§1.3",
        "deferred",
    ),
    "pregnancy_unknown": (
        {"pregnancy": "unknown"},
        {},
        "prepare",
        "Ask about a possible pregnancy",
        "report a possible pregnancy",
        "RadiologyInfo",
        "proceed",
    ),
    "lactation": (
        {"lactating": True},
        {},
        "defer",
        "after lactation",
        "contraindication by some sources",
        "medic-journal",
        "deferred",
    ),
    "no_discharge_warm_compress": (
        {"discharge": {"present_today": False}},
        {"warm_compress_works": True},
        "prepare",
        "warm compress",
        "active discharge",
        "§1.7",
        "proceed",
    ),
    "no_discharge_reschedule": (
        {"discharge": {"present_today": False}},
        {"warm_compress_works": False},
        "defer",
        "notify the referring provider and reschedule",
        "cannot be identified",
        "§1.7",
        "deferred",
    ),
    "squeezed_before_visit": (
        {"discharge": {"squeezed_before_visit": True}},
        {},
        "prepare",
        "Note it in the record",
        "empty the duct",
        "RadiologyInfo",
        "proceed",
    ),
    "deodorant_or_powder": (
        {"deodorant_or_powder": True},
        {},
        "prepare",
        "Remove deodorant and powder",
        "mimic calcifications",
        "RadiologyInfo",
        "proceed",
    ),
    "jewellery_or_metal": (
        {"jewellery_or_metal": True},
        {},
        "prepare",
        "Remove jewellery and other metal",
        "Metal in the x-ray field",
        "issue 3",
        "proceed",
    ),
    "no_recent_mammogram": (
        {"recent_mammogram": False},
        {},
        "prepare",
        "Obtain a mammogram",
        "calcifications",
        "Fischer",
        "proceed",
    ),
    "cytology_sample": (
        {"discharge": {"cytology": "not_done"}},
        {},
        "prepare",
        "send it for cytology",
        "Cytology of the secretion",
        "Fischer",
        "proceed",
    ),
}


def test_every_rule_has_a_case(shipped_rules):
    assert list(RULE_CASES) == shipped_rules.ids


@pytest.mark.parametrize("rule_id", list(RULE_CASES))
def test_rule_decision_and_reason(make_patient, shipped_rules, rule_id):
    """Each rule, triggered on its own, gives its decision, action, reason and source."""
    changes, keywords, decision, action, reason, source, outcome = RULE_CASES[rule_id]
    result = screen(make_patient(**changes), rules=shipped_rules, **keywords)
    d = result.decision(rule_id)
    assert d is not None, [x.rule for x in result.decisions]
    assert d.decision == DecisionKind(decision)
    assert action in d.action
    assert reason in d.reason
    assert source in d.source
    assert result.outcome == ScreeningOutcome(outcome)
    # The facts the rule read are recorded with it.
    assert all(f.startswith(("patient.", "visit.")) for f in d.facts)
    if outcome != "proceed" or decision == "indicated":
        assert d.reason in result.outcome_reason


@pytest.mark.parametrize("rule_id", [r for r in RULE_CASES if r != "pathologic_discharge"])
def test_rule_does_not_apply_to_the_base_patient(make_patient, shipped_rules, rule_id):
    result = screen(make_patient(), rules=shipped_rules, warm_compress_works=False)
    assert result.decision(rule_id) is None
    assert [d.rule for d in result.decisions] == ["pathologic_discharge"]
    assert result.outcome == ScreeningOutcome.PROCEED


def test_mastitis_is_a_contraindication(make_patient):
    result = screen(make_patient(mastitis_or_abscess=True))
    assert result.outcome == ScreeningOutcome.CONTRAINDICATED
    assert result.decision("infection").facts["patient.mastitis_or_abscess"] is True


def test_decisions_follow_rule_order(make_patient, shipped_rules):
    patient = make_patient(
        jewellery_or_metal=True,
        deodorant_or_powder=True,
        pregnancy="possible",
        discharge={"squeezed_before_visit": True, "cytology": "not_done"},
    )
    result = screen(patient, rules=shipped_rules)
    rules = [d.rule for d in result.decisions]
    assert rules == [
        "pathologic_discharge",
        "pregnancy_shielded",
        "squeezed_before_visit",
        "deodorant_or_powder",
        "jewellery_or_metal",
        "cytology_sample",
    ]
    assert rules == [r for r in shipped_rules.ids if r in rules]
    assert [d.rule for d in result.precautions] == ["pregnancy_shielded"]
    assert len(result.preparations) == 4


@pytest.mark.parametrize(
    ("changes", "keywords", "outcome"),
    [
        # Contraindication wins over everything.
        ({"contrast_allergy": True, "lactating": True}, {}, "contraindicated"),
        ({"contrast_allergy": True, "discharge": {"ducts": "multiple"}}, {}, "contraindicated"),
        # Not indicated wins over a deferral.
        ({"lactating": True, "discharge": {"colour": "green"}}, {}, "not_indicated"),
        # A deferral stops an indicated exam.
        ({"pregnancy": "yes"}, {"shielding_available": False}, "deferred"),
        # Abnormal cytology indicates the exam even from a multi-duct discharge.
        ({"discharge": {"ducts": "multiple", "cytology": "malignant"}}, {}, "proceed"),
    ],
)
def test_outcome_precedence(make_patient, changes, keywords, outcome):
    assert screen(make_patient(**changes), **keywords).outcome == ScreeningOutcome(outcome)


def test_every_discharge_pattern_is_decided(make_patient, shipped_rules):
    """Each combination of discharge fields gets an indication decision (or a
    contraindication), and the exam is indicated exactly for the pathologic pattern."""
    for spontaneous, side, ducts, colour in itertools.product(
        [True, False], DischargeSide, DuctCount, DischargeColour
    ):
        patient = make_patient(
            discharge={
                "spontaneous": spontaneous,
                "laterality": side.value,
                "ducts": ducts.value,
                "colour": colour.value,
            }
        )
        result = screen(patient, rules=shipped_rules)
        kinds = {d.decision for d in result.decisions}
        assert kinds & {
            DecisionKind.INDICATED,
            DecisionKind.NOT_INDICATED,
            DecisionKind.CONTRAINDICATED,
        }
        pathologic = (
            spontaneous
            and side != DischargeSide.BILATERAL
            and ducts == DuctCount.SINGLE
            and colour.value in ("bloody", "serous", "clear")
        )
        assert (result.outcome == ScreeningOutcome.PROCEED) == pathologic, (
            spontaneous,
            side,
            ducts,
            colour,
        )


def test_pregnancy_unknown_not_asked_of_those_who_cannot_be_pregnant(make_patient):
    for changes in ({"sex": "male"}, {"can_be_pregnant": False}):
        result = screen(make_patient(pregnancy="unknown", **changes))
        assert result.decision("pregnancy_unknown") is None


def test_warm_compress_drawn_with_rng(make_patient):
    patient = make_patient(discharge={"present_today": False})
    a = [screen(patient, rng=s).visit.warm_compress_works for s in range(400)]
    b = [screen(patient, rng=s).visit.warm_compress_works for s in range(400)]
    assert a == b
    share = np.mean(a)
    assert 0.4 < share < 0.6  # probability 0.5 [estimate]
    outcomes = {screen(patient, rng=s).outcome for s in range(50)}
    assert outcomes == {ScreeningOutcome.PROCEED, ScreeningOutcome.DEFERRED}
    assert screen(patient, warm_compress_probability=0.0, rng=1).outcome == "deferred"
    assert screen(patient, warm_compress_probability=1.0, rng=1).outcome == "proceed"


def test_warm_compress_not_needed_with_discharge(make_patient):
    result = screen(make_patient(), warm_compress_works=False)
    assert result.visit.warm_compress_works is None
    assert result.outcome == ScreeningOutcome.PROCEED


def test_bad_warm_compress_probability(make_patient):
    with pytest.raises(ParameterError, match=r"^warm_compress_probability = 1\.5: expected"):
        screen(make_patient(), warm_compress_probability=1.5)


def test_screen_names_bad_patient_field(make_patient):
    with pytest.raises(ParameterError, match=r"^patient\.age_years = -5"):
        screen(make_patient(age_years=-5))


def test_screening_round_trips_json(make_patient):
    result = screen(make_patient(deodorant_or_powder=True, pregnancy="yes"))
    back = type(result).model_validate_json(result.model_dump_json())
    assert back == result


# ----------------------------------------------------------------------------- the language


def _table(*rules):
    return {"format": "ductogram.screening_rules", "version": 1, "rules": list(rules)}


def _rule(rule_id="r1", when=None, **changes):
    rule = {
        "id": rule_id,
        "title": "T",
        "when": when or {"field": "patient.lactating", "op": "is_true"},
        "decision": "prepare",
        "action": "Do it.",
        "reason": "Because.",
        "source": "test",
    }
    rule.update(changes)
    return rule


@pytest.mark.parametrize(
    ("when", "applies"),
    [
        ({"field": "patient.age_years", "op": "ge", "value": 48}, True),
        ({"field": "patient.age_years", "op": "gt", "value": 48}, False),
        ({"field": "patient.age_years", "op": "lt", "value": 50.5}, True),
        ({"field": "patient.age_years", "op": "le", "value": 47}, False),
        ({"field": "patient.sex", "op": "eq", "value": "female"}, True),
        ({"field": "patient.sex", "op": "ne", "value": "female"}, False),
        ({"field": "patient.discharge.colour", "op": "in", "value": ["bloody", "clear"]}, True),
        ({"field": "patient.discharge.colour", "op": "not_in", "value": ["bloody"]}, False),
        ({"field": "patient.lactating", "op": "is_false"}, True),
        # A null field (can_be_pregnant not recorded) is neither true nor false.
        ({"field": "patient.can_be_pregnant", "op": "is_true"}, False),
        ({"field": "patient.can_be_pregnant", "op": "is_false"}, False),
        ({"field": "patient.can_be_pregnant", "op": "eq", "value": True}, False),
        ({"field": "patient.can_be_pregnant", "op": "ne", "value": False}, True),
        ({"field": "patient.can_be_pregnant", "op": "not_in", "value": [True]}, True),
        ({"all": []}, True),
        ({"any": []}, False),
        (
            {
                "all": [
                    {"field": "patient.sex", "op": "eq", "value": "female"},
                    {
                        "any": [
                            {"field": "patient.lactating", "op": "is_true"},
                            {"field": "patient.age_years", "op": "gt", "value": 40},
                        ]
                    },
                ]
            },
            True,
        ),
    ],
)
def test_condition_language(make_patient, when, applies):
    table = parse_rules(_table(_rule(when=when)))
    result = screen(make_patient(), rules=table)
    assert (result.decision("r1") is not None) == applies


def test_a_clinic_changes_a_rule(tmp_path, make_patient):
    """A clinic's copy of the table, with lactation as a precaution instead of a deferral."""
    shipped = (resources.files("ductogram") / "data" / "screening_rules.yaml").read_text()
    data = yaml.safe_load(shipped)
    for rule in data["rules"]:
        if rule["id"] == "lactation":
            rule["decision"] = "proceed_with_precaution"
            rule["action"] = "Express milk before the exam."
    path = tmp_path / "clinic_rules.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = screen(make_patient(lactating=True), rules=path)
    assert result.outcome == ScreeningOutcome.PROCEED
    assert result.decision("lactation").action == "Express milk before the exam."
    assert result.rules_source == str(path)


# ----------------------------------------------------------------------------- malformed tables

WHERE = r"screening rules .*rules\.yaml, rule 'r1' \(rules\.0\): "


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            [_rule(when={"field": "patient.lactation", "op": "is_true"})],
            WHERE + r"when\.field = 'patient\.lactation': expected a known field \(one of: ",
        ),
        (
            [_rule(when={"field": "patient.sex", "op": "equals", "value": "male"})],
            WHERE + r"when\.op = 'equals': expected an operator \(one of: eq, ge, gt, in,",
        ),
        (
            [_rule(when={"field": "patient.discharge.colour", "op": "eq", "value": "pink"})],
            WHERE + r"when\.value = 'pink': expected a value of patient\.discharge\.colour: "
            r"one of bloody, serous, clear,",
        ),
        (
            [_rule(when={"field": "patient.pregnancy", "op": "in", "value": [True, "possible"]})],
            WHERE + r"when\.value\.0 = True: expected .*quote \"yes\" and \"no\"",
        ),
        (
            [_rule(when={"field": "patient.sex", "op": "is_true"})],
            WHERE + r"when\.op = 'is_true': expected an operator for the enum field "
            r"patient\.sex: one of eq, ne, in, not_in$",
        ),
        (
            [_rule(when={"field": "patient.discharge.colour", "op": "gt", "value": "bloody"})],
            WHERE + r"when\.op = 'gt': expected an operator for the enum field",
        ),
        (
            [_rule(when={"field": "patient.lactating", "op": "is_true", "value": True})],
            WHERE + r"when\.value = True: expected no value with op is_true",
        ),
        (
            [_rule(when={"field": "patient.sex", "op": "eq"})],
            WHERE + r"when\.value = None: expected a value to compare patient\.sex with \(eq\)",
        ),
        (
            [_rule(when={"field": "patient.sex", "op": "in", "value": "female"})],
            WHERE + r"when\.value = 'female': expected a non-empty list for op in",
        ),
        (
            [_rule(when={"field": "patient.age_years", "op": "gt", "value": "forty"})],
            WHERE + r"when\.value = 'forty': expected a number",
        ),
        (
            [_rule(when={"field": "patient.lactating", "op": "eq", "value": "yes"})],
            WHERE + r"when\.value = 'yes': expected true or false",
        ),
        (
            [_rule(when={"all": [{"any": [{"field": "patient.foo", "op": "is_true"}]}]})],
            WHERE + r"when\.all\.0\.any\.0\.field = 'patient\.foo': expected a known field",
        ),
        (
            [_rule(when={"all": {"field": "patient.lactating", "op": "is_true"}})],
            WHERE + r"when\.all = .*: expected a list of conditions",
        ),
        (
            [_rule(when={"all": [], "any": []})],
            WHERE + r"when\.any = \[\]: expected nothing beside all",
        ),
        (
            [_rule(when={"field": "patient.lactating", "op": "is_true", "valu": 1})],
            WHERE + r"when\.valu = 1: expected a known key of a clause",
        ),
        ([_rule(when="patient.lactating")], WHERE + r"when = 'patient\.lactating': expected a"),
        (
            [_rule(decision="maybe")],
            WHERE + r"decision = 'maybe': expected one of indicated, not_indicated, "
            r"contraindicated, defer, proceed_with_precaution, prepare$",
        ),
        ([_rule(action=None)], WHERE + r"action = None: expected non-empty text"),
        ([_rule(reason="  ")], WHERE + r"reason = '  ': expected non-empty text"),
        ([_rule(priority=1)], WHERE + r"priority = 1: expected a known key \(id, title,"),
        ([_rule(minutes=[5, 1])], WHERE + r"minutes = \[5, 1\]: expected \[low, high\]"),
        (
            [_rule(), _rule()],
            r"rule 'r1' \(rules\.1\): id = 'r1': expected an id not used by an earlier rule",
        ),
        (
            [_rule("r 1")],
            r"rule 'r 1' \(rules\.0\): id = 'r 1': expected a name of letters, digits",
        ),
        (["x"], r"screening rules .*, rule rules\.0: rule = 'x': expected a mapping"),
    ],
    ids=[
        "unknown-field",
        "unknown-op",
        "unknown-enum-value",
        "yaml-yes-boolean",
        "flag-op-on-enum",
        "order-op-on-enum",
        "value-with-flag-op",
        "missing-value",
        "in-without-list",
        "number-expected",
        "bool-expected",
        "nested-unknown-field",
        "all-not-a-list",
        "all-and-any",
        "unknown-clause-key",
        "condition-not-a-mapping",
        "unknown-decision",
        "missing-action",
        "blank-reason",
        "unknown-rule-key",
        "bad-minutes",
        "duplicate-id",
        "bad-id",
        "rule-not-a-mapping",
    ],
)
def test_malformed_rule_names_rule_and_field(tmp_path, rules, message):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(_table(*rules), sort_keys=False))
    with pytest.raises(RuleError, match=message):
        load_rules(path)


def test_missing_required_key(tmp_path):
    rule = _rule()
    del rule["source"]
    with pytest.raises(RuleError, match=r"rule 'r1' \(rules\.0\): source = None: expected a value"):
        parse_rules(_table(rule), source="rules.yaml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({**_table(_rule()), "format": "other"}, r"format = 'other': expected "),
        ({**_table(_rule()), "version": 2}, r"version = 2: expected 1"),
        (_table(), r"rules = \[\]: expected a non-empty list of rules"),
        ({**_table(_rule()), "author": "me"}, r"author = 'me': expected a known key"),
        ([1, 2], r"rules file = 'list': expected a mapping"),
    ],
)
def test_malformed_table(table, message):
    with pytest.raises(RuleError, match=r"^screening rules t\.yaml: " + message):
        parse_rules(table, source="t.yaml")


def test_rule_error_is_a_parameter_error():
    with pytest.raises(ParameterError) as info:
        parse_rules(_table(_rule(decision="maybe")), source="t.yaml")
    assert info.value.field == "decision"
    assert info.value.rule == "'r1' (rules.0)"


def test_missing_rules_file(tmp_path):
    with pytest.raises(RulesFileError, match=r"rules file '.*nope\.yaml' does not exist"):
        load_rules(tmp_path / "nope.yaml")


def test_invalid_yaml_rules_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules: [1, 2\n")
    with pytest.raises(RulesFileError, match=r"is not valid YAML: .*\(line 2, column 1\)"):
        load_rules(path)
