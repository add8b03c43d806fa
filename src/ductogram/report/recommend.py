"""BI-RADS category implied by the findings, and the management that goes with it.

The mapping of ductogram results to BI-RADS is a practice convention, not an ACR rule
(clinical.md §2.4; ecosystem.md §4) **[unverified: to be signed off by a breast
radiologist]**:

=====================================================  ==========================================
result                                                 category
=====================================================  ==========================================
exam not done, cannulation failed, non-diagnostic      0 (repeat ductography or MRI)
extravasation that spoils the exam                     0 (repeat in 7-14 days, Slawson 2001)
normal arborisation (air bubbles only: a mimic)        1
duct ectasia, cyst fill                                2
filling defect, cut-off, narrowing, wall irregularity  4 (tissue diagnosis)
multiple defects, cut-off or wall irregularity         4B ("push toward 4B/4C", ecosystem.md §4)
=====================================================  ==========================================

Recommendations (clinical.md §2.3): for 4/5, a tissue diagnosis: US-guided biopsy when
the lesion is seen on targeted ultrasound, otherwise surgical excision: microdochectomy of
the one duct identified, or central (Hadfield) duct excision when several ducts discharge,
with preoperative ductography-guided localisation or marking; for 0, a repeat
ductography or breast MRI; for 1 and 2, clinical follow-up (MRI as an alternative when
the discharge persists, Gupta 2021). Codes from DICOM CID 6028 "Mammography Recommended
Follow-up".
"""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.sr.codedict import codes

from ..exam import Procedure, ProcedureOutcome
from ..exam.patient import DuctCount
from .model import AssessmentInput, Code, QCFlag, Recommendation, ReportFinding

__all__ = ["KIND_CATEGORY", "SUSPICIOUS", "derive_assessment", "recommend"]

#: BI-RADS category each lexicon term implies on its own.
KIND_CATEGORY: dict[str, int] = {
    "normal arborisation": 1,
    "air bubble": 1,
    "duct ectasia": 2,
    "cyst fill": 2,
    "filling defect": 4,
    "multiple filling defects": 4,
    "abrupt duct termination": 4,
    "duct narrowing": 4,
    "wall irregularity": 4,
    "extravasation": 0,
}
#: Terms that need a tissue diagnosis.
SUSPICIOUS = tuple(k for k, c in KIND_CATEGORY.items() if c == 4)
_TOWARD_4B = ("multiple filling defects", "abrupt duct termination", "wall irregularity")


def _code(concept) -> Code:
    return Code(value=concept.value, scheme=concept.scheme_designator, meaning=concept.meaning)


def derive_assessment(
    procedure: Procedure,
    findings: Sequence[ReportFinding],
    qc: Sequence[QCFlag] = (),
) -> AssessmentInput:
    """The BI-RADS category the record and findings imply, with the reasons.

    Examples
    --------
    A cut-off is suspicious (the procedure record is only read for its outcome):

    >>> from types import SimpleNamespace as NS
    >>> done = NS(outcome="completed", outcome_reason="")
    >>> a = derive_assessment(done, [ReportFinding(kind="abrupt duct termination")])
    >>> a.birads, a.subcategory
    (4, '4B')
    """
    outcome = ProcedureOutcome(procedure.outcome)
    if outcome != ProcedureOutcome.COMPLETED:
        return AssessmentInput(
            birads=0,
            reasons=[f"Incomplete: {procedure.outcome_reason}"],
            qc=list(qc),
        )
    stopping = [q for q in qc if q.makes_incomplete]
    if stopping:
        return AssessmentInput(
            birads=0,
            reasons=[f"Non-diagnostic: {q.message}" for q in stopping],
            qc=list(qc),
        )
    kinds = [f.kind for f in findings]
    suspicious = [f for f in findings if f.kind in SUSPICIOUS]
    if suspicious:
        reasons = [
            f"{f.kind.capitalize()} ({f.location or 'location not determined'}): "
            "papilloma and carcinoma cannot be told apart by imaging; tissue diagnosis needed."
            for f in suspicious
        ]
        several = kinds.count("filling defect") >= 2
        sub = "4B" if several or any(k in _TOWARD_4B for k in kinds) else None
        if sub:
            reasons.append(
                "Multiple defects, an abrupt cut-off or an irregular wall push toward 4B/4C "
                "(practice convention)."
            )
        return AssessmentInput(birads=4, subcategory=sub, reasons=reasons, qc=list(qc))
    if "extravasation" in kinds:
        return AssessmentInput(
            birads=0,
            reasons=["Extravasation of contrast obscures the duct: the exam is incomplete."],
            qc=list(qc),
        )
    benign = [f for f in findings if KIND_CATEGORY[f.kind] == 2]
    if benign:
        return AssessmentInput(
            birads=2,
            reasons=[f"{f.kind.capitalize()}: a benign finding." for f in benign],
            qc=list(qc),
        )
    reasons = ["Normal arborisation of the opacified duct, no filling defect or cut-off."]
    if "air bubble" in kinds:
        reasons.append("Air bubbles: a mimic of filling defects, not a lesion.")
    return AssessmentInput(birads=1, reasons=reasons, qc=list(qc))


def recommend(
    procedure: Procedure,
    findings: Sequence[ReportFinding],
    assessment: AssessmentInput,
) -> list[Recommendation]:
    """Management consistent with the BI-RADS category, the findings and the record."""
    cat = assessment.birads
    duct = procedure.duct.name if procedure.duct is not None else "discharging"
    out: list[Recommendation] = []
    if cat in (4, 5):
        several = procedure.patient.discharge.ducts == DuctCount.MULTIPLE
        lesion = [f for f in findings if f.kind in SUSPICIOUS]
        where = f" ({lesion[0].location})" if lesion and lesion[0].location else ""
        out.append(
            Recommendation(
                kind="ultrasound-guided biopsy",
                text=f"Targeted ultrasound of the lesion{where}; ultrasound-guided "
                "(vacuum-assisted) biopsy if it is seen.",
                code=_code(codes.cid6028.BiopsyShouldBeStronglyConsidered)
                if cat == 5
                else _code(codes.cid6028.BiopsyShouldBeConsidered),
                reason="Tissue diagnosis for BI-RADS "
                f"{assessment.subcategory or cat}: papilloma and carcinoma look alike.",
            )
        )
        if several:
            text = (
                "Otherwise surgical excision: central (Hadfield) duct excision, as more than "
                "one duct discharges."
            )
        else:
            text = f"Otherwise surgical excision: microdochectomy of the {duct} duct."
        out.append(
            Recommendation(
                kind="duct excision",
                text=text,
                code=_code(codes.cid6028.SurgicalConsult),
                reason="Excision of the involved duct gives the diagnosis and treats the "
                "discharge (clinical.md §2.3).",
            )
        )
        out.append(
            Recommendation(
                kind="preoperative localisation",
                text="Preoperative ductography-guided localisation: a marker or wire placed "
                "under ductography, or methylene blue injected through the cannula.",
                code=_code(codes.cid6028.NeedleLocalizationAndBiopsy),
                reason="Intraductal lesions are often not palpable or seen on ultrasound "
                "(Woodward 2010; clinical.md §2.3).",
            )
        )
    elif cat == 6:
        out.append(
            Recommendation(
                kind="surgical consult",
                text="Known malignancy: surgical consultation for treatment.",
                code=_code(codes.cid6028.KnownBiopsyProvenMalignancyTakeAppropriateAction),
            )
        )
    elif cat == 3:
        out.append(
            Recommendation(
                kind="short-interval follow-up",
                text="Short-interval follow-up (6 months).",
                code=_code(codes.cid6028.FollowUpAtShortInterval111Months),
                interval_days=(150, 210),
            )
        )
    elif cat == 0:
        outcome = ProcedureOutcome(procedure.outcome)
        extravasated = any(f.kind == "extravasation" for f in findings) or any(
            c.kind == "extravasation" for c in procedure.complications
        )
        if outcome == ProcedureOutcome.COMPLETED and extravasated:
            out.append(
                Recommendation(
                    kind="repeat ductography",
                    text="Repeat ductography in 7 to 14 days, when the extravasated contrast "
                    "has cleared.",
                    code=_code(codes.cid6028.MammaryDuctogram),
                    reason="Extravasation obscured the duct (Slawson & Johnson 2001).",
                    interval_days=(7, 14),
                )
            )
        elif outcome in (
            ProcedureOutcome.COMPLETED,
            ProcedureOutcome.INCOMPLETE_CANNULATION_FAILED,
        ):
            why = (
                "The duct could not be cannulated."
                if outcome == ProcedureOutcome.INCOMPLETE_CANNULATION_FAILED
                else "The exam was non-diagnostic: "
                + "; ".join(q.action or q.message for q in assessment.qc if q.makes_incomplete)
            )
            out.append(
                Recommendation(
                    kind="repeat ductography",
                    text=f"Repeat ductography of the {duct} duct.",
                    code=_code(codes.cid6028.MammaryDuctogram),
                    reason=why,
                )
            )
            out.append(
                Recommendation(
                    kind="breast MRI",
                    text="Or contrast-enhanced breast MRI, the alternative work-up of "
                    "pathologic nipple discharge.",
                    code=_code(codes.cid6028.MRIOfBreast),
                    reason="ACR Appropriateness Criteria place MRI beside ductography "
                    "(ecosystem.md §4).",
                )
            )
        else:
            out.append(
                Recommendation(
                    kind="referring provider",
                    text="The exam was not done: "
                    f"{procedure.outcome_reason} The referring provider decides the next step "
                    "(ultrasound or MRI are alternatives).",
                    code=_code(codes.cid6028.EvaluationProcedure),
                )
            )
    else:  # 1 or 2
        benign = [f.kind for f in findings if f.kind in ("duct ectasia", "cyst fill")]
        reason = (
            f"{', '.join(sorted(set(benign))).capitalize()} can explain the discharge."
            if benign
            else "A normal ductogram lowers, but does not exclude, the chance of a lesion."
        )
        out.append(
            Recommendation(
                kind="clinical follow-up",
                text="Clinical follow-up by the referring provider; routine screening as for age.",
                code=_code(codes.cid6028.NormalIntervalFollowUp),
                reason=reason,
            )
        )
        out.append(
            Recommendation(
                kind="breast MRI",
                text="If the discharge persists: breast MRI, or duct excision to stop it.",
                code=_code(codes.cid6028.MRIOfBreast),
                reason="MRI surveillance is an alternative to surgery (Gupta 2021).",
            )
        )
    return out
