"""Aftercare and next steps are written from the record, not fixed strings."""

from __future__ import annotations

import pytest
import yaml

from ductogram.anatomy import generate_phantom
from ductogram.exam.aftercare import AftercareTopic, plan_aftercare
from ductogram.exam.procedure import run_exam
from ductogram.exam.screening import load_rules, parse_rules

QUIET = {"volume_ml": 0.3}


def texts(proc, topic=None):
    items = proc.aftercare.instructions
    return [i.text for i in items if topic is None or i.topic == AftercareTopic(topic)]


@pytest.fixture(scope="module")
def right_phantom():
    return generate_phantom(
        {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30, "laterality": "R"}, seed=8
    )


def test_completed_exam(make_patient, papilloma_phantom):
    proc, fill = run_exam(make_patient(), papilloma_phantom, QUIET, rng=0)
    topics = [i.topic.value for i in proc.aftercare.instructions]
    assert topics == ["fluids", "pad", "activity", "when_to_call", "when_to_call", "follow_up"]
    (fluids,) = texts(proc, "fluids")
    assert f"{fill.injected_ml:.1f} mL of iohexol" in fluids
    (pad,) = texts(proc, "pad")
    assert "left nipple" in pad
    infection, reaction = texts(proc, "when_to_call")
    assert "left breast" in infection and "infection" in infection
    assert "reaction to iohexol" in reaction
    (activity,) = texts(proc, "activity")
    assert "heavy lifting for 24 hours" in activity
    assert "[one centre]" in proc.aftercare.instructions[2].source
    assert proc.aftercare.repeat_in_days is None
    assert all(i.source for i in proc.aftercare.instructions)


def test_side_and_agent_come_from_the_record(make_patient, right_phantom):
    patient = make_patient(discharge={"laterality": "R"})
    proc, _ = run_exam(patient, right_phantom, {**QUIET, "agent": "iopamidol-370"}, rng=0)
    joined = " ".join(texts(proc))
    assert "right nipple" in joined and "right breast" in joined
    assert "left" not in joined
    assert "iopamidol" in joined and "iohexol" not in joined


def test_what_was_removed_may_be_worn_again(make_patient, papilloma_phantom):
    patient = make_patient(deodorant_or_powder=True, jewellery_or_metal=True)
    proc, _ = run_exam(patient, papilloma_phantom, QUIET, rng=0)
    (resume,) = texts(proc, "resume")
    assert resume == "You may put on deodorant or powder and your jewellery again."
    plain, _ = run_exam(make_patient(), papilloma_phantom, QUIET, rng=0)
    assert texts(plain, "resume") == []


def test_extravasation_means_a_repeat_in_7_to_14_days(make_patient, papilloma_phantom):
    settings = {"volume_ml": 5.0, "stop_at_fullness": False}
    proc, _ = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    assert proc.aftercare.repeat_in_days == [7, 14]
    (follow_up,) = texts(proc, "follow_up")
    assert "repeated in 7 to 14 days" in follow_up


def test_reactions_change_the_advice(make_patient, papilloma_phantom):
    settings = {**QUIET, "vasovagal_probability": 1.0, "contrast_reaction_probability": 1.0}
    proc, _ = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    joined = " ".join(texts(proc))
    assert "You had a reaction to the contrast (iohexol) today" in joined
    assert "felt faint" in joined


def test_failed_cannulation(make_patient, papilloma_phantom):
    settings = {"cannulation_failure_probability": 1.0}
    proc, _ = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    topics = [i.topic.value for i in proc.aftercare.instructions]
    assert topics == ["pad", "when_to_call", "follow_up"]  # no contrast: no fluids, no reaction
    (follow_up,) = texts(proc, "follow_up")
    assert "could not be entered" in follow_up and "MRI" in follow_up


def test_deferred_for_no_discharge(make_patient, papilloma_phantom):
    patient = make_patient(discharge={"present_today": False})
    proc, _ = run_exam(patient, papilloma_phantom, {"warm_compress_works": False}, rng=0)
    first, second = texts(proc, "follow_up")
    decision = proc.screening.decision("no_discharge_reschedule")
    assert first.startswith("The exam was not done today.")
    assert decision.reason in first and decision.action in first
    assert "Do not squeeze the nipple" in second


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"contrast_allergy": True}, "contrast_allergy"),
        ({"discharge": {"ducts": "multiple"}}, "physiologic_pattern"),
        ({"lactating": True}, "lactation"),
    ],
)
def test_not_done_gives_the_rule_reason(make_patient, papilloma_phantom, changes, rule):
    proc, _ = run_exam(make_patient(**changes), papilloma_phantom, rng=0)
    decision = proc.screening.decision(rule)
    (follow_up,) = texts(proc, "follow_up")
    assert decision.reason in follow_up and decision.action in follow_up


def test_declined(make_patient, papilloma_phantom):
    proc, _ = run_exam(make_patient(consents=False), papilloma_phantom, rng=0)
    (follow_up,) = texts(proc)
    assert "chose not to have the exam" in follow_up


def test_a_clinic_wording_reaches_the_patient(make_patient, papilloma_phantom):
    """The next steps come from the rules table: change an action, the advice changes."""
    from importlib import resources

    text = (resources.files("ductogram") / "data" / "screening_rules.yaml").read_text()
    data = yaml.safe_load(text)
    for rule in data["rules"]:
        if rule["id"] == "contrast_allergy":
            rule["action"] = "Book a contrast MRI with Dr Example."
    table = parse_rules(data, source="clinic.yaml")
    proc, _ = run_exam(make_patient(contrast_allergy=True), papilloma_phantom, rng=0, rules=table)
    assert "Book a contrast MRI with Dr Example." in texts(proc, "follow_up")[0]
    assert load_rules()["contrast_allergy"].action != "Book a contrast MRI with Dr Example."


def test_plan_aftercare_ignores_the_old_aftercare(make_patient, papilloma_phantom):
    proc, _ = run_exam(make_patient(), papilloma_phantom, QUIET, rng=0)
    assert plan_aftercare(proc.model_copy(update={"aftercare": None})) == proc.aftercare
