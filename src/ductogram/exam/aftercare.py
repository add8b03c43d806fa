"""Aftercare and next steps, written from the procedure record.

Nothing here is a fixed leaflet: each instruction is built from what the record says
happened (outcome, breast side, agent and volume injected, screening decisions,
complications). Sources (clinical.md §1.4 "Aftercare", §1.6, §1.7):

- a pad over the nipple absorbs draining contrast (vrads.org);
- infection and contrast reaction are the reasons to return (Tampa General; Denver Health);
- "no heavy lifting for 24 h" is the advice of one centre (coloradomammo.com);
- fluids to help clear the contrast: issue 3 [unverified];
- extravasation: repeat the exam 7-14 days later (Slawson & Johnson 2001);
- no discharge on the day: re-book and repeat the no-squeeze instruction (§1.7).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from .complications import ComplicationKind
from .outcome import ProcedureOutcome
from .screening import DecisionKind

if TYPE_CHECKING:  # pragma: no cover
    from .procedure import Procedure

__all__ = ["Aftercare", "AftercareTopic", "Instruction", "plan_aftercare"]


class AftercareTopic(StrEnum):
    """What an instruction is about."""

    FLUIDS = "fluids"
    PAD = "pad"
    ACTIVITY = "activity"
    RESUME = "resume"
    WHEN_TO_CALL = "when_to_call"
    FOLLOW_UP = "follow_up"


class Instruction(BaseModel):
    """One aftercare instruction for the patient, with its source."""

    model_config = ConfigDict(extra="forbid")

    topic: AftercareTopic
    text: str
    source: str


class Aftercare(BaseModel):
    """The patient's aftercare and next steps."""

    model_config = ConfigDict(extra="forbid")

    instructions: list[Instruction]
    repeat_in_days: list[int] | None = Field(
        None, description="the exam is to be repeated after this many days (low, high)"
    )

    def of_topic(self, topic: AftercareTopic | str) -> list[Instruction]:
        topic = AftercareTopic(topic)
        return [i for i in self.instructions if i.topic == topic]


_SIDE = {"L": "left", "R": "right"}


def _not_done(record: Procedure) -> list[Instruction]:
    """Next steps when the exam was not done, from the deciding screening rules."""
    outcome = ProcedureOutcome(record.outcome)
    kind = {
        ProcedureOutcome.CONTRAINDICATED: DecisionKind.CONTRAINDICATED,
        ProcedureOutcome.NOT_INDICATED: DecisionKind.NOT_INDICATED,
        ProcedureOutcome.DEFERRED: DecisionKind.DEFER,
    }.get(outcome)
    if outcome == ProcedureOutcome.DECLINED:
        return [
            Instruction(
                topic=AftercareTopic.FOLLOW_UP,
                text="You chose not to have the exam today. Your referring provider will "
                "talk with you about other options, such as MRI.",
                source="clinical.md §1.1 (MRI as the alternative: Gupta et al. 2021)",
            )
        ]
    decisions = record.screening.of_kind(kind) if kind is not None else []
    out = [
        Instruction(
            topic=AftercareTopic.FOLLOW_UP,
            text=f"The exam was not done today. {d.reason} Next: {d.action}",
            source=d.source,
        )
        for d in decisions
    ]
    if not decisions:  # not indicated because no indication rule applied
        out.append(
            Instruction(
                topic=AftercareTopic.FOLLOW_UP,
                text=f"The exam was not done today: {record.screening.outcome_reason} Your "
                "referring provider will discuss the next steps.",
                source=record.screening.rules_source,
            )
        )
    if any(d.rule.startswith("no_discharge") for d in decisions):
        out.append(
            Instruction(
                topic=AftercareTopic.FOLLOW_UP,
                text="Do not squeeze the nipple before the next visit: the exam needs the "
                "discharge to find the duct.",
                source="clinical.md §1.4, §1.7 (RadiologyInfo; vrads.org)",
            )
        )
    return out


def plan_aftercare(record: Procedure) -> Aftercare:
    """Aftercare and next steps for the patient of ``record``.

    Parameters
    ----------
    record : Procedure
        The procedure record (its ``aftercare`` is not read).

    Returns
    -------
    Aftercare
        For a completed exam: fluids, pad, activity, what may be worn again, when to call,
        follow-up (a repeat in 7-14 days after extravasation). For a failed cannulation: pad,
        when to call (infection), follow-up. For an exam not done: the reasons and next steps.
    """
    outcome = ProcedureOutcome(record.outcome)
    if outcome not in (ProcedureOutcome.COMPLETED, ProcedureOutcome.INCOMPLETE_CANNULATION_FAILED):
        return Aftercare(instructions=_not_done(record))

    side = _SIDE.get(str(record.laterality), "examined")
    completed = outcome == ProcedureOutcome.COMPLETED
    kinds = {c.kind for c in record.complications}
    injected = float((record.fill or {}).get("injected_ml", 0.0)) if completed else 0.0
    out: list[Instruction] = []
    if injected > 0 and record.agent is not None:
        out.append(
            Instruction(
                topic=AftercareTopic.FLUIDS,
                text=f"Drink plenty of fluids today to help clear the contrast "
                f"({injected:.1f} mL of {record.agent.generic_name}).",
                source="issue 3 [unverified]",
            )
        )
    drains = "contrast and discharge" if injected > 0 else "discharge or a little blood"
    out.append(
        Instruction(
            topic=AftercareTopic.PAD,
            text=f"Keep the pad over the {side} nipple: {drains} may drain for a while.",
            source="clinical.md §1.4 (vrads.org)",
        )
    )
    if completed:
        out.append(
            Instruction(
                topic=AftercareTopic.ACTIVITY,
                text="Avoid heavy lifting for 24 hours.",
                source="clinical.md §1.4 (coloradomammo.com) [one centre]",
            )
        )
    worn = [
        text
        for rule, text in (
            ("deodorant_or_powder", "deodorant or powder"),
            ("jewellery_or_metal", "your jewellery"),
        )
        if record.screening.decision(rule) is not None
    ]
    if worn:
        out.append(
            Instruction(
                topic=AftercareTopic.RESUME,
                text=f"You may put on {' and '.join(worn)} again.",
                source="the preparation recorded at screening",
            )
        )
    infection = (
        f"Call us if your {side} breast becomes red, warm, swollen or more painful, if you "
        "have a fever, or if the discharge turns to pus: these are signs of infection."
    )
    out.append(
        Instruction(
            topic=AftercareTopic.WHEN_TO_CALL,
            text=infection,
            source="clinical.md §1.4, §1.6 (Tampa General; Denver Health)",
        )
    )
    if injected > 0:
        had = ComplicationKind.CONTRAST_REACTION in kinds
        agent = record.agent.generic_name if record.agent is not None else "the contrast"
        out.append(
            Instruction(
                topic=AftercareTopic.WHEN_TO_CALL,
                text=(
                    f"You had a reaction to the contrast ({agent}) today: tell the staff "
                    "before any future exam with iodine contrast. "
                    if had
                    else ""
                )
                + "Seek help at once for a rash, itching, hives, swelling of the face or "
                f"difficulty breathing: these are signs of a reaction to {agent}.",
                source="clinical.md §1.4, §1.6 (Tampa General; Denver Health)",
            )
        )
    if ComplicationKind.VASOVAGAL in kinds:
        out.append(
            Instruction(
                topic=AftercareTopic.ACTIVITY,
                text="You felt faint during the exam: rest until you feel well, and have "
                "someone go home with you [unverified].",
                source="clinical.md §1.6 [unverified]",
            )
        )
    repeat = next((c.repeat_in_days for c in record.complications if c.repeat_in_days), None)
    if repeat:
        out.append(
            Instruction(
                topic=AftercareTopic.FOLLOW_UP,
                text=f"Some contrast leaked into the breast tissue; the body absorbs it. "
                f"The exam will be repeated in {repeat[0]} to {repeat[1]} days.",
                source="clinical.md §1.6 (Slawson & Johnson 2001; Medscape 347305)",
            )
        )
    elif completed:
        out.append(
            Instruction(
                topic=AftercareTopic.FOLLOW_UP,
                text="The radiologist will send the results to your referring provider.",
                source="clinical.md §2.3",
            )
        )
    else:
        out.append(
            Instruction(
                topic=AftercareTopic.FOLLOW_UP,
                text="The duct could not be entered, so no contrast was given. Your "
                "referring provider will discuss the next step: another attempt, or "
                "another test such as MRI.",
                source="clinical.md §1.5 (about 95 % of cannulations succeed); §1.1 (MRI)",
            )
        )
    return Aftercare(instructions=out, repeat_in_days=list(repeat) if repeat else None)
