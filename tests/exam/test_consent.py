"""Consent: the risks explained, built from the exam, and the patient's answer."""

from __future__ import annotations

import pytest

from ductogram.exam.agents import get_agent
from ductogram.exam.consent import ConsentAnswer, RiskKind, explain_risks, record_consent

IOHEXOL = get_agent("iohexol-300")


def test_every_risk_of_issue_3_is_explained():
    risks = explain_risks(n_views=2, agent=IOHEXOL, magnification=False)
    kinds = [r.kind for r in risks]
    for kind in ("radiation", "pain", "infection", "bleeding", "contrast_reaction"):
        assert RiskKind(kind) in kinds
    radiation = risks[kinds.index(RiskKind.RADIATION)]
    assert "like a mammogram" in radiation.text
    assert all(r.source for r in risks)


def test_risks_are_written_from_the_exam():
    risks = explain_risks(n_views=4, agent=get_agent("iodixanol-320"), magnification=True)
    text = {r.kind: r.text for r in risks}
    assert "4 x-ray views" in text[RiskKind.RADIATION]
    assert "magnified" in text[RiskKind.RADIATION]
    assert "iodixanol" in text[RiskKind.CONTRAST_REACTION]
    one = explain_risks(n_views=1, agent=IOHEXOL, magnification=False)
    assert "1 x-ray view of" in one[0].text


@pytest.mark.parametrize(("agrees", "answer"), [(True, "given"), (False, "declined")])
def test_answer_is_recorded(agrees, answer):
    consent = record_consent(agrees=agrees, n_views=2, agent=IOHEXOL)
    assert consent.answer == ConsentAnswer(answer)
    assert consent.given is agrees
    assert ("agreed" if agrees else "declined") in consent.statement
    assert len(consent.risks) == 6
    assert type(consent).model_validate_json(consent.model_dump_json()) == consent
