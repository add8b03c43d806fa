"""Informed consent: the risks explained to the patient and the patient's answer.

The risks (clinical.md §1.5, §1.6, §5; issue 3): a low radiation dose, like a mammogram;
pain or discomfort; infection; a little bleeding at the nipple; injury to the duct with
contrast leaking into the tissue (extravasation, after which the exam is repeated 7-14
days later); and a reaction to the contrast. The text is built from the exam's own
settings (the number of views, the agent).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .agents import ContrastAgent

__all__ = ["Consent", "ConsentAnswer", "Risk", "RiskKind", "explain_risks", "record_consent"]


class RiskKind(StrEnum):
    """Risks explained before ductography."""

    RADIATION = "radiation"
    PAIN = "pain"
    INFECTION = "infection"
    BLEEDING = "bleeding"
    DUCT_INJURY = "duct_injury"
    CONTRAST_REACTION = "contrast_reaction"


class ConsentAnswer(StrEnum):
    """The patient's answer."""

    GIVEN = "given"
    DECLINED = "declined"


class Risk(BaseModel):
    """One risk, as explained to the patient, with its source."""

    model_config = ConfigDict(extra="forbid")

    kind: RiskKind
    text: str
    source: str


class Consent(BaseModel):
    """The consent record: the risks explained and the answer."""

    model_config = ConfigDict(extra="forbid")

    risks: list[Risk]
    answer: ConsentAnswer
    statement: str = Field(description="the patient's answer in words")

    @property
    def given(self) -> bool:
        return self.answer == ConsentAnswer.GIVEN


def explain_risks(*, n_views: int, agent: ContrastAgent, magnification: bool) -> list[Risk]:
    """The risks of this exam, in the words used with the patient.

    Parameters
    ----------
    n_views : int
        Number of x-ray views planned.
    agent : ContrastAgent
        The contrast agent to be injected.
    magnification : bool
        Whether magnified views are planned (about twice the dose of a contact view).

    Examples
    --------
    >>> from ductogram.exam.agents import get_agent
    >>> risks = explain_risks(n_views=2, agent=get_agent("iohexol-300"), magnification=False)
    >>> [r.kind.value for r in risks]
    ['radiation', 'pain', 'infection', 'bleeding', 'duct_injury', 'contrast_reaction']
    >>> risks[0].text
    'A low dose of radiation from 2 x-ray views of the breast, like a mammogram.'
    """
    views = f"{n_views} x-ray view{'s' if n_views != 1 else ''}"
    magnified = " (magnified, which about doubles the dose of each)" if magnification else ""
    return [
        Risk(
            kind=RiskKind.RADIATION,
            text=f"A low dose of radiation from {views} of the breast{magnified}, "
            "like a mammogram.",
            source="clinical.md §1.1 (ACR relative radiation level ☢☢); §5 (about 1-1.5 mGy "
            "per view; magnification about 2.2x, Law 2005; 3-7 mGy per exam [estimate])",
        ),
        Risk(
            kind=RiskKind.PAIN,
            text="Discomfort or pain while the duct is entered and filled.",
            source="clinical.md §1.6 (Denver Health; Tampa General; Medscape 347305)",
        ),
        Risk(
            kind=RiskKind.INFECTION,
            text="Infection of the breast (mastitis).",
            source="clinical.md §1.6 (Denver Health; wikimd.org)",
        ),
        Risk(
            kind=RiskKind.BLEEDING,
            text="A little bleeding at the nipple.",
            source="issue 3 [unverified]",
        ),
        Risk(
            kind=RiskKind.DUCT_INJURY,
            text="Injury to the duct, with contrast leaking into the breast tissue; the exam "
            "would then be repeated 7 to 14 days later.",
            source="clinical.md §1.6 (Slawson & Johnson 2001; Medscape 347305)",
        ),
        Risk(
            kind=RiskKind.CONTRAST_REACTION,
            text=f"A reaction to the contrast ({agent.generic_name}, an iodine contrast agent).",
            source="clinical.md §1.6 (Denver Health; Medscape 347305)",
        ),
    ]


def record_consent(
    *, agrees: bool, n_views: int, agent: ContrastAgent, magnification: bool = False
) -> Consent:
    """Explain the risks (:func:`explain_risks`) and record the patient's answer.

    Parameters
    ----------
    agrees : bool
        The patient's answer.
    n_views, agent, magnification
        As for :func:`explain_risks`.

    Returns
    -------
    Consent
        ``answer`` is ``declined`` when ``agrees`` is False; the exam then ends with the
        outcome ``declined``.

    Examples
    --------
    >>> from ductogram.exam.agents import get_agent
    >>> c = record_consent(agrees=False, n_views=2, agent=get_agent("iohexol-300"))
    >>> c.answer.value, c.given
    ('declined', False)
    """
    risks = explain_risks(n_views=n_views, agent=agent, magnification=magnification)
    names = ", ".join(r.kind.value.replace("_", " ") for r in risks)
    if agrees:
        statement = f"The patient was told of the risks ({names}) and agreed to the exam."
        answer = ConsentAnswer.GIVEN
    else:
        statement = f"The patient was told of the risks ({names}) and declined the exam."
        answer = ConsentAnswer.DECLINED
    return Consent(risks=risks, answer=answer, statement=statement)
