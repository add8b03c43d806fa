"""Complications of the injection and of the exam, read from the fill and drawn.

From the contrast fill (:class:`~ductogram.exam.filling.ContrastFill`):

- **extravasation** (contrast through the duct wall into the tissue): stop, and repeat the
  exam 7-14 days later (Slawson & Johnson 2001; Medscape 347305; clinical.md §1.6);
- **reflux** of contrast out of the nipple, from :data:`REFLUX_NOTABLE_ML` on: consider a
  tumour in the distal-most duct (Slawson & Johnson 2001; clinical.md §1.6);
- **air bubbles** in the lumen (no flush): they mimic filling defects (Fischer; Slawson &
  Johnson 2001; clinical.md §1.4).

Drawn with small probabilities (settings of the exam; no ductography-specific rates were
found, clinical.md §1.6 [gap], so the defaults are [estimate]s):

- **vasovagal reaction** (1 % [estimate]);
- **contrast reaction** (0.2 % [estimate]; intraductal contrast reaches the blood little).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..core.seeding import RNGLike, as_generator

__all__ = [
    "REFLUX_NOTABLE_ML",
    "REPEAT_AFTER_EXTRAVASATION_DAYS",
    "Complication",
    "ComplicationKind",
    "assess_complications",
]

# One drop is about 0.05 mL [estimate]: less reflux than that is not noticed.
REFLUX_NOTABLE_ML = 0.05
# Repeat ductography after extravasation (clinical.md §1.6).
REPEAT_AFTER_EXTRAVASATION_DAYS = (7, 14)


class ComplicationKind(StrEnum):
    """Complications recorded in a procedure."""

    EXTRAVASATION = "extravasation"
    REFLUX = "reflux"
    AIR_BUBBLES = "air_bubbles"
    VASOVAGAL = "vasovagal"
    CONTRAST_REACTION = "contrast_reaction"


class Complication(BaseModel):
    """One complication: what happened, what was done, and the source."""

    model_config = ConfigDict(extra="forbid")

    kind: ComplicationKind
    detail: str = Field(description="what happened, with the figures from the record")
    action: str = Field(description="what the team does about it")
    source: str
    repeat_in_days: list[int] | None = Field(
        None, description="repeat the exam after this many days (low, high)"
    )


def assess_complications(
    fill: Any,
    *,
    vasovagal_probability: float,
    contrast_reaction_probability: float,
    rng: RNGLike = None,
) -> list[Complication]:
    """The complications of one injection.

    Parameters
    ----------
    fill : ContrastFill
        The fill of the cannulated system (reads ``extravasated_ml``, ``extravasations``,
        ``refluxed_ml``, ``bubbles``, ``injected_ml``).
    vasovagal_probability, contrast_reaction_probability : float
        Probabilities in [0, 1] of each reaction ([estimate]s; see the module docstring).
    rng : numpy.random.Generator or int or None
        Draws the reactions: always two uniform numbers, vasovagal first, so the stream
        does not depend on the fill.

    Returns
    -------
    list of Complication
        In the order extravasation, reflux, air bubbles, vasovagal, contrast reaction.
    """
    rng = as_generator(rng)
    draws = rng.random(2)
    out: list[Complication] = []
    if fill.extravasated_ml > 0 or fill.extravasations:
        causes = sorted({e.cause for e in fill.extravasations}) or ["pressure"]
        lo, hi = REPEAT_AFTER_EXTRAVASATION_DAYS
        out.append(
            Complication(
                kind=ComplicationKind.EXTRAVASATION,
                detail=f"{fill.extravasated_ml:.2f} mL of the {fill.injected_ml:.2f} mL "
                f"injected left the duct into the tissue ({', '.join(causes)}).",
                action=f"Stop the injection; repeat the exam in {lo}-{hi} days.",
                source="clinical.md §1.6 (Slawson & Johnson 2001; Medscape 347305)",
                repeat_in_days=[lo, hi],
            )
        )
    if fill.refluxed_ml >= REFLUX_NOTABLE_ML:
        out.append(
            Complication(
                kind=ComplicationKind.REFLUX,
                detail=f"{fill.refluxed_ml:.2f} mL of contrast flowed back out of the nipple.",
                action="Note it for the reading: consider a tumour in the distal-most duct.",
                source="clinical.md §1.6 (Slawson & Johnson 2001); notable from "
                f"{REFLUX_NOTABLE_ML} mL, about a drop [estimate]",
            )
        )
    if fill.bubbles:
        n = len(fill.bubbles)
        out.append(
            Complication(
                kind=ComplicationKind.AIR_BUBBLES,
                detail=f"{n} air bubble{'s' if n != 1 else ''} in the ducts (line not flushed).",
                action="Note them for the reading: round lucencies that mimic filling "
                "defects; flush the line next time.",
                source="clinical.md §1.4 (Fischer; Slawson & Johnson 2001)",
            )
        )
    if draws[0] < vasovagal_probability:
        out.append(
            Complication(
                kind=ComplicationKind.VASOVAGAL,
                detail="The patient felt faint (vasovagal reaction).",
                action="Lay the patient flat with the legs raised and observe until "
                "recovered [unverified].",
                source="clinical.md §1.6 (docslib 'Reactions to radiocontrast media'; no "
                "ductography-specific rate [gap]); probability "
                f"{vasovagal_probability:g} [estimate]",
            )
        )
    if draws[1] < contrast_reaction_probability:
        out.append(
            Complication(
                kind=ComplicationKind.CONTRAST_REACTION,
                detail="A reaction to the iodinated contrast.",
                action="Observe and treat under the department's contrast-reaction "
                "protocol; record the allergy.",
                source="clinical.md §1.6 (Denver Health; Medscape 347305); probability "
                f"{contrast_reaction_probability:g} [estimate]",
            )
        )
    return out
