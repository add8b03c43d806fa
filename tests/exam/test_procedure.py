"""The exam from check-in to aftercare: outcomes, the discharging duct, the timeline,
cannulation failures, complications, and bad settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from ductogram.anatomy import generate_phantom
from ductogram.core import ParameterError
from ductogram.exam import procedure as procedure_module
from ductogram.exam.complications import ComplicationKind
from ductogram.exam.filling import ContrastFill
from ductogram.exam.procedure import (
    STEP_MINUTES,
    ExamSettings,
    Procedure,
    ProcedureOutcome,
    Step,
    clock_hour,
    run_exam,
)

SMALL = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30}
QUIET = {"volume_ml": 0.3}  # fits a small phantom without extravasation


def steps(proc: Procedure) -> list[str]:
    return [e.step.value for e in proc.log]


@pytest.fixture(scope="module")
def completed(make_patient, papilloma_phantom):
    proc, fill = run_exam(make_patient(), papilloma_phantom, QUIET, rng=0)
    assert proc.outcome == ProcedureOutcome.COMPLETED
    return proc, fill


# ----------------------------------------------------------------------------- completed exam


def test_completed_exam_steps(completed):
    proc, _ = completed
    assert steps(proc) == [
        "check_in",
        "screening",
        "consent",
        "position",
        "cleanse",
        "express",
        "cannulate",
        "flush",
        "inject",
        "view",
        "view",
        "remove_cannula",
        "aftercare",
    ]
    assert proc.consent is not None and proc.consent.given
    assert proc.cannulated is True
    assert proc.cannula.gauge == 30 and proc.cannula.tip == "blunt"
    assert proc.agent.id == "iohexol-300"
    assert [v.view.value for v in proc.views] == ["CC", "ML"]
    assert all(v.laterality.value == "L" for v in proc.views)
    assert proc.aftercare is not None and proc.aftercare.instructions
    assert proc.seed == 0 and proc.phantom_seed == 3


def test_record_holds_the_fill(completed, papilloma_phantom):
    proc, fill = completed
    assert isinstance(fill, ContrastFill)
    assert fill.system == proc.duct.system
    assert proc.fill == fill.summary()
    assert proc.injected_ml == pytest.approx(fill.injected_ml)
    # Conservation (issue 3): injected = held + extravasated + refluxed.
    total = fill.held_ml + fill.extravasated_ml + fill.refluxed_ml
    assert total == pytest.approx(fill.injected_ml, rel=0.01)
    assert len(fill.fill_fraction) == papilloma_phantom.trees[fill.system].n_nodes


def test_chosen_system_holds_the_lesion(completed, papilloma_phantom):
    proc, _ = completed
    (lesion,) = papilloma_phantom.lesions
    assert proc.duct.system == lesion.system
    assert "papilloma" in proc.duct.reason
    orifice = papilloma_phantom.lobes.orifice_mm[lesion.system]
    assert proc.duct.orifice_mm == pytest.approx(orifice, abs=1e-3)
    assert proc.duct.name == f"L{proc.duct.clock_hour}H"


@pytest.fixture(scope="module")
def phantoms_by_system():
    """Small phantoms with a lesion placed in a given system."""
    return {
        system: generate_phantom(
            {**SMALL, "lesions": [{"kind": kind, "system": system}]}, seed=10 + system
        )
        for system, kind in ((0, "papilloma"), (2, "carcinoma"), (3, "ectasia"))
    }


@pytest.mark.parametrize("system", [0, 2, 3])
def test_discharging_duct_is_the_lesion_system(make_patient, phantoms_by_system, system):
    ph = phantoms_by_system[system]
    for seed in range(10):
        proc, fill = run_exam(make_patient(), ph, {"cannulation_failure_probability": 0}, rng=seed)
        assert proc.duct.system == system
        assert fill.system == system


def test_papilloma_preferred_over_other_lesions(make_patient):
    """With lesions in two systems, the papilloma's (the most common cause) is cannulated."""
    ph = generate_phantom(
        {
            **SMALL,
            "lesions": [{"kind": "ectasia", "system": 1}, {"kind": "papilloma", "system": 3}],
        },
        seed=4,
    )
    proc, _ = run_exam(make_patient(), ph, QUIET, rng=0)
    assert proc.duct.system == 3


def test_normal_breast_gets_a_random_orifice(make_patient, normal_phantom):
    chosen = set()
    for seed in range(60):
        proc, _ = run_exam(make_patient(), normal_phantom, QUIET, rng=seed)
        if proc.duct is not None:
            chosen.add(proc.duct.system)
            assert "random" in proc.duct.reason
    assert chosen == set(range(len(normal_phantom.trees)))


def test_system_set_in_settings(make_patient, papilloma_phantom):
    proc, fill = run_exam(make_patient(), papilloma_phantom, {**QUIET, "system": 1}, rng=0)
    assert proc.duct.system == 1 == fill.system
    assert "settings" in proc.duct.reason


def test_system_out_of_range(make_patient, papilloma_phantom):
    with pytest.raises(
        ParameterError, match=r"^exam\.system = 7: expected an orifice index in \[0, 4\]"
    ):
        run_exam(make_patient(), papilloma_phantom, {"system": 7}, rng=0)


@pytest.mark.parametrize(
    ("point", "side", "hour"),
    [
        ([-4, 1, 0], "L", 12),
        ([-4, -1, 0], "L", 6),
        ([-4, 0, 1], "L", 3),  # lateral on a left breast is 3 o'clock
        ([-4, 0, 1], "R", 9),  # lateral on a right breast is 9 o'clock
        ([-4, 0, -1], "L", 9),  # medial (HKCR: "slightly medial to nipple (L9H)")
        ([-4, 1, 1], "L", 2),  # 45 degrees rounds to the nearer whole hour (1.5 -> 2)
    ],
)
def test_clock_hour(point, side, hour):
    assert clock_hour(point, side) == hour


# ----------------------------------------------------------------------------- outcomes


OUTCOME_CASES = {
    "not_indicated": ({"discharge": {"laterality": "bilateral"}}, {}, ["check_in", "screening"]),
    "contraindicated": ({"contrast_allergy": True}, {}, ["check_in", "screening"]),
    "deferred_no_discharge": (
        {"discharge": {"present_today": False}},
        {"warm_compress_works": False},
        ["check_in", "screening", "warm_compress"],
    ),
    "deferred_pregnancy": (
        {"pregnancy": "possible"},
        {"shielding_available": False},
        ["check_in", "screening"],
    ),
    "declined": ({"consents": False}, {}, ["check_in", "screening", "consent"]),
    "incomplete_cannulation_failed": (
        {},
        {"cannulation_failure_probability": 1.0},
        [
            "check_in",
            "screening",
            "consent",
            "position",
            "cleanse",
            "express",
            "cannulate",
            "aftercare",
        ],
    ),
}


@pytest.mark.parametrize("case", list(OUTCOME_CASES))
def test_outcome_stops_at_its_step(make_patient, papilloma_phantom, case):
    changes, settings, expected_steps = OUTCOME_CASES[case]
    proc, fill = run_exam(make_patient(**changes), papilloma_phantom, settings, rng=2)
    outcome = case.removeprefix("deferred_no_discharge").removeprefix("deferred_pregnancy")
    assert proc.outcome == ProcedureOutcome(outcome or "deferred")
    assert steps(proc) == expected_steps
    assert fill is None
    assert proc.fill is None and proc.agent is None and proc.injected_ml is None
    assert proc.views == [] and proc.complications == []
    assert proc.outcome_reason
    assert proc.aftercare is not None and proc.aftercare.instructions
    assert Procedure.model_validate_json(proc.model_dump_json()) == proc


def test_screening_outcomes_carry_the_reason(make_patient, papilloma_phantom):
    proc, _ = run_exam(make_patient(contrast_allergy=True), papilloma_phantom, rng=0)
    assert proc.consent is None and proc.duct is None
    assert "allergy to iodinated contrast" in proc.outcome_reason


def test_declined_records_the_answer(make_patient, papilloma_phantom):
    proc, _ = run_exam(make_patient(consents=False), papilloma_phantom, rng=0)
    assert proc.consent.answer.value == "declined"
    assert proc.duct is None and proc.cannulated is None


def test_failed_cannulation(make_patient, papilloma_phantom):
    settings = {"cannulation_failure_probability": 1.0}
    proc, _ = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    assert proc.cannulated is False
    assert proc.duct.system == papilloma_phantom.lesions[0].system
    assert "could not be cannulated" in proc.outcome_reason


def test_warm_compress_then_exam(make_patient, papilloma_phantom):
    patient = make_patient(discharge={"present_today": False})
    proc, _ = run_exam(patient, papilloma_phantom, {**QUIET, "warm_compress_works": True}, rng=0)
    assert proc.outcome == ProcedureOutcome.COMPLETED
    assert steps(proc)[:3] == ["check_in", "screening", "warm_compress"]
    assert "discharge obtained" in proc.log[2].detail


def test_pregnancy_with_shielding_records_it(make_patient, papilloma_phantom):
    proc, _ = run_exam(make_patient(pregnancy="yes"), papilloma_phantom, QUIET, rng=0)
    assert proc.outcome == ProcedureOutcome.COMPLETED
    assert proc.precautions_taken == [proc.screening.decision("pregnancy_shielded").action]
    assert "abdominal shielding" in proc.precautions_taken[0]
    prepared = [e.detail for e in proc.steps(Step.PREPARE)]
    assert prepared == ["Precaution: " + proc.precautions_taken[0]]
    # The precaution comes before the first exposure.
    assert proc.steps(Step.PREPARE)[0].end_s <= proc.views[0].start_s


def test_preparations_are_logged(make_patient, papilloma_phantom):
    patient = make_patient(
        deodorant_or_powder=True, jewellery_or_metal=True, discharge={"cytology": "not_done"}
    )
    proc, _ = run_exam(patient, papilloma_phantom, QUIET, rng=0)
    details = [e.detail for e in proc.steps(Step.PREPARE)]
    assert len(details) == 3
    assert "deodorant" in details[0] and "jewellery" in details[1] and "cytology" in details[2]


# ----------------------------------------------------------------------------- timeline


def test_timeline_of_completed_exams(make_patient, papilloma_phantom):
    """Over many seeds: steps back to back, and a standard exam takes 30-60 min
    (coloradomammo.com; clinical.md §1.4)."""
    patient = make_patient(discharge={"cytology": "not_done"})
    durations = []
    for seed in range(250):
        proc, _ = run_exam(patient, papilloma_phantom, rng=seed)
        t = 0.0
        for entry in proc.log:
            assert entry.start_s == t and entry.end_s >= entry.start_s
            t = entry.end_s
        assert proc.total_duration_s == t
        for view, entry in zip(proc.views, proc.steps(Step.VIEW), strict=True):
            assert view.start_s == entry.start_s
        if proc.outcome == ProcedureOutcome.COMPLETED:
            durations.append(proc.duration_min)
    assert len(durations) > 200
    assert 30.0 <= min(durations) and max(durations) <= 60.0
    assert 40.0 < np.mean(durations) < 50.0


def test_step_durations_within_their_ranges(completed):
    proc, _ = completed
    for entry in proc.log:
        if entry.step in STEP_MINUTES:
            lo, hi = STEP_MINUTES[entry.step]
            assert 60 * lo - 0.1 <= entry.duration_s <= 60 * hi + 0.1, entry
    (inject,) = proc.steps(Step.INJECT)
    assert inject.duration_s == pytest.approx(60 * proc.injected_ml / 0.5, abs=0.1)


def test_log_must_be_contiguous(completed):
    proc, _ = completed
    data = json.loads(proc.model_dump_json())
    data["log"][3]["start_s"] += 5
    with pytest.raises(ValueError, match=r"log\.3"):
        Procedure.model_validate(data)


# ----------------------------------------------------------------------------- randomness


def test_cannulation_fails_about_5_percent(make_patient, papilloma_phantom, monkeypatch):
    """About 95 % of cannulations succeed (J Belge Radiol 1995; clinical.md §1.5). The fill
    is replaced by one precomputed fill to keep 2000 exams fast."""
    real = procedure_module.fill_ducts(papilloma_phantom.trees[4], 0.3, rng=0)
    monkeypatch.setattr(procedure_module, "fill_ducts", lambda *a, **k: real)
    patient = make_patient()
    n = 2000
    failed = sum(
        run_exam(patient, papilloma_phantom, rng=seed)[0].outcome
        == ProcedureOutcome.INCOMPLETE_CANNULATION_FAILED
        for seed in range(n)
    )
    low, high = stats.binom.interval(0.9999, n, 0.05)
    assert low <= failed <= high, failed


def test_same_seed_same_record(make_patient, papilloma_phantom):
    a, _ = run_exam(make_patient(), papilloma_phantom, rng=11)
    b, _ = run_exam(make_patient(), papilloma_phantom, rng=11)
    assert a.model_dump_json() == b.model_dump_json()
    c, _ = run_exam(make_patient(), papilloma_phantom, rng=12)
    assert c.model_dump_json() != a.model_dump_json()


def test_generator_input(make_patient, papilloma_phantom):
    proc, _ = run_exam(make_patient(), papilloma_phantom, rng=np.random.default_rng(1))
    assert proc.seed is None


def test_streams_are_independent(make_patient, papilloma_phantom, monkeypatch):
    """More views do not change whether the cannulation succeeds."""
    real = procedure_module.fill_ducts(papilloma_phantom.trees[4], 0.3, rng=0)
    monkeypatch.setattr(procedure_module, "fill_ducts", lambda *a, **k: real)
    patient = make_patient()
    few = {"views": ["CC"], "cannulation_failure_probability": 0.3}
    many = {"views": ["CC", "ML", "MLO", "LM"], "cannulation_failure_probability": 0.3}
    for seed in range(40):
        a, _ = run_exam(patient, papilloma_phantom, few, rng=seed)
        b, _ = run_exam(patient, papilloma_phantom, many, rng=seed)
        assert a.cannulated == b.cannulated


# ----------------------------------------------------------------------------- complications


def test_injection_stops_at_fullness_and_says_so(make_patient, papilloma_phantom):
    # 5 mL planned into a system that holds far less: only what it holds goes in, none
    # leaks, and the log says the plan was cut short (clinical.md §1.4).
    proc, fill = run_exam(make_patient(), papilloma_phantom, {"volume_ml": 5.0}, rng=0)
    assert fill.injected_ml < 5.0 and fill.extravasated_ml == 0.0
    (inject,) = proc.steps(Step.INJECT)
    assert "(of 5 mL planned: stopped at fullness)" in inject.detail
    assert ComplicationKind.EXTRAVASATION not in [c.kind for c in proc.complications]


def test_large_volume_extravasates_and_reschedules(make_patient, papilloma_phantom):
    settings = {"volume_ml": 5.0, "stop_at_fullness": False}  # pushed on past fullness
    proc, fill = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    kinds = [c.kind for c in proc.complications]
    assert ComplicationKind.EXTRAVASATION in kinds
    extravasation = proc.complications[kinds.index(ComplicationKind.EXTRAVASATION)]
    assert extravasation.repeat_in_days == [7, 14]
    assert "7-14 days" in extravasation.action
    assert f"{fill.extravasated_ml:.2f} mL" in extravasation.detail
    assert proc.aftercare.repeat_in_days == [7, 14]
    assert "complications: extravasation" in proc.outcome_reason


def test_no_flush_gives_bubbles(make_patient, papilloma_phantom):
    proc, fill = run_exam(make_patient(), papilloma_phantom, {**QUIET, "flush": False}, rng=0)
    assert fill.bubbles
    assert Step.FLUSH.value not in steps(proc)
    (bubbles,) = [c for c in proc.complications if c.kind == ComplicationKind.AIR_BUBBLES]
    assert f"{len(fill.bubbles)} air bubble" in bubbles.detail
    assert "mimic filling defects" in bubbles.action


def test_flush_gives_no_bubbles(completed):
    proc, fill = completed
    assert not fill.bubbles
    assert not proc.complications


def test_reactions_drawn_with_their_probability(make_patient, papilloma_phantom):
    settings = {**QUIET, "vasovagal_probability": 1.0, "contrast_reaction_probability": 1.0}
    proc, _ = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    kinds = [c.kind.value for c in proc.complications]
    assert kinds == ["vasovagal", "contrast_reaction"]
    assert all("[estimate]" in c.source for c in proc.complications)


def test_patient_motion(make_patient, papilloma_phantom):
    settings = {**QUIET, "patient_moved": {"ML": True}, "motion_probability": 0.0}
    proc, _ = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    assert [(v.view.value, v.patient_moved) for v in proc.views] == [("CC", False), ("ML", True)]
    assert "moved" in proc.steps(Step.VIEW)[1].detail


def test_views_position_and_magnification(make_patient, papilloma_phantom):
    settings = {**QUIET, "views": ["MLO", "LM", "CC"], "magnification": True, "position": "supine"}
    proc, _ = run_exam(make_patient(), papilloma_phantom, settings, rng=0)
    assert [v.view.value for v in proc.views] == ["MLO", "LM", "CC"]
    assert all(v.magnification and v.position.value == "supine" for v in proc.views)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"volume_ml": 6}, r"^exam\.volume_ml = 6: expected a volume in \(0, 5\] mL"),
        ({"volume_ml": 0}, r"^exam\.volume_ml = 0: expected a volume in \(0, 5\] mL"),
        (
            {"agent": "gadolinium"},
            r"^exam\.agent = 'gadolinium': expected a known contrast agent \(one of: "
            r"iohexol-300, iohexol-350, iopamidol-300, iopamidol-370, iodixanol-320, "
            r"ioversol-320\)$",
        ),
        ({"rate_ml_per_min": 0}, r"^exam\.rate_ml_per_min = 0: expected a value in \(0, 60\]/min"),
        ({"views": []}, r"^exam\.views = \[\]: expected list should have at least 1 item"),
        ({"views": ["CC", "XX"]}, r"^exam\.views\.1 = 'XX': expected one of 'CC', 'ML'"),
        (
            {"views": ["CC", "CC"]},
            r"^exam\.views = \['CC', 'CC'\]: expected each view at most once",
        ),
        (
            {"patient_moved": {"MLO": True}},
            r"^exam\.patient_moved\.MLO = True: expected a view taken \(CC, ML\)",
        ),
        ({"position": "kneeling"}, r"^exam\.position = 'kneeling': expected one of 'sitting'"),
        (
            {"cannulation_failure_probability": 1.5},
            r"^exam\.cannulation_failure_probability = 1\.5: expected a value in \[0, 1\]",
        ),
        ({"volume": 1}, r"^exam\.volume = 1: expected a known field \(one of: agent, volume_ml,"),
    ],
)
def test_bad_settings_name_the_field(settings, message):
    with pytest.raises(ParameterError, match=message):
        ExamSettings.parse(settings, prefix="exam")


def test_run_exam_checks_settings_and_patient(make_patient, papilloma_phantom):
    with pytest.raises(ParameterError, match=r"^exam\.volume_ml = 6"):
        run_exam(make_patient(), papilloma_phantom, {"volume_ml": 6}, rng=0)
    with pytest.raises(ParameterError, match=r"^patient\.age_years = -1"):
        run_exam(make_patient(age_years=-1), papilloma_phantom, rng=0)
    with pytest.raises(ParameterError, match=r"^patient\.pregnancy = 'yes'"):
        run_exam(make_patient(sex="male", pregnancy="yes"), papilloma_phantom, rng=0)


def test_discharge_side_must_match_the_breast(make_patient, papilloma_phantom):
    with pytest.raises(
        ParameterError,
        match=r"^patient\.discharge\.laterality = 'R': expected L \(the side of the "
        r"phantom's breast\) or bilateral$",
    ):
        run_exam(make_patient(discharge={"laterality": "R"}), papilloma_phantom, rng=0)


def test_settings_defaults():
    s = ExamSettings()
    assert s.agent == "iohexol-300" and s.volume_ml == 1.0 and s.flush
    assert [v.value for v in s.views] == ["CC", "ML"]
    assert s.cannulation_failure_probability == 0.05
    assert s.contrast_agent.concentration_mgi_per_ml == 300
    assert ExamSettings.parse({"agent": "Omnipaque 350"}).agent == "iohexol-350"
