"""The patient letter: plain language, built from the report.

It answers the three questions patients are told to ask after ductography (clinical.md
§1.4; RadiologyInfo "Galactography"): *Were any abnormalities detected? What future care
is necessary? What are the risks and precautions of any further procedures?* Then the
aftercare from the record and a short glossary (cannula, ductogram, pathologic).
"""

from __future__ import annotations

import html

from .model import Report
from .recommend import SUSPICIOUS

__all__ = ["GLOSSARY", "letter_html", "letter_markdown"]

GLOSSARY: dict[str, str] = {
    "Cannula": "a very thin, blunt plastic or metal tube put gently into the opening of "
    "one milk duct on the nipple, to give the contrast.",
    "Ductogram (galactogram)": "an x-ray of the milk ducts, taken after a small amount of "
    "contrast (a liquid that shows on x-ray) is put into one duct.",
    "Pathologic": "caused by a disease or a change in the tissue, not by the normal "
    "working of the breast. Discharge that is bloody or clear and comes from one duct "
    "by itself is called pathologic and is checked with tests like this one.",
}

_PLAIN = {
    "filling defect": "a small growth inside a milk duct (most often a benign growth "
    "called a papilloma)",
    "multiple filling defects": "several small growths inside a milk duct",
    "abrupt duct termination": "a milk duct that stops suddenly, as if something blocks it",
    "duct narrowing": "a part of a milk duct that is narrower than it should be",
    "wall irregularity": "an uneven wall in a milk duct",
    "duct ectasia": "a widened milk duct, a common and harmless change",
    "cyst fill": "a small fluid-filled sac (cyst) connected to the duct, which is harmless",
    "extravasation": "some contrast leaked out of the duct into the breast tissue",
    "air bubble": "small air bubbles in the duct, which are harmless",
    "normal arborisation": "normal milk ducts",
}


def _answers(report: Report) -> list[tuple[str, list[str]]]:
    side = {"L": "left", "R": "right"}[report.laterality]
    cat = report.assessment.birads
    suspicious = [f for f in report.findings if f.kind in SUSPICIOUS]
    if not report.performed:
        outcome = report.procedure.outcome
        why = (
            "The small opening of the duct on the nipple could not be entered with the "
            "cannula, so no contrast was given and no pictures were taken."
            if outcome == "incomplete_cannulation_failed"
            else f"The test was not done: {report.procedure.outcome_reason}"
        )
        q1 = [
            f"We could not complete the test, so we cannot yet say whether anything is wrong. {why}"
        ]
    elif cat in (1, 2) or not report.assessment.abnormal:
        q1 = [f"No. The x-ray of your {side} breast ducts did not show anything worrying."]
        benign = [f for f in report.findings if f.kind not in ("normal arborisation",)]
        if benign:
            q1.append(
                "We saw " + "; ".join(_PLAIN[f.kind] for f in benign) + ". This is not cancer."
            )
    elif cat == 0:
        leaked = any(f.kind == "extravasation" for f in report.findings)
        q1 = [
            "The pictures could not answer the question: "
            + (
                "some contrast leaked out of the duct and hid it."
                if leaked
                else "the duct did not show well enough."
            )
        ]
    else:
        shown = suspicious or report.findings
        q1 = [
            "Yes. We saw "
            + "; ".join(_PLAIN[f.kind] + (f" ({f.location})" if f.location else "") for f in shown)
            + ".",
            "Most of these are not cancer, but x-rays cannot tell for sure, so a small "
            "sample of the tissue is needed to find out.",
        ]
    q2 = []
    for r in report.recommendations:
        q2.append(_plain_recommendation(r.kind, r.text))
    q3 = []
    kinds = {r.kind for r in report.recommendations}
    if "ultrasound-guided biopsy" in kinds:
        q3.append(
            "A needle biopsy is done with numbing medicine. There may be a bruise and some "
            "soreness for a few days; bleeding and infection are rare."
        )
    if "duct excision" in kinds:
        q3.append(
            "Removing the duct is a small operation through a cut at the edge of the "
            "nipple. Risks include bleeding, infection, a change in how the nipple feels, "
            "and not being able to breastfeed from that duct."
        )
    if "preoperative localisation" in kinds:
        q3.append(
            "Before surgery, the duct may be marked with a thin wire, a tiny marker or a "
            "blue dye so that the surgeon removes the right part."
        )
    if "repeat ductography" in kinds:
        q3.append(
            "Repeating the ductogram has the same small risks as today: a small x-ray dose, "
            "discomfort, and rarely infection or a reaction to the contrast. Tell us if "
            "you are allergic to contrast or might be pregnant."
        )
    if "breast MRI" in kinds:
        q3.append(
            "A breast MRI uses no x-rays; a contrast injection into a vein is usually "
            "given. Tell us about kidney problems, allergies or metal in your body."
        )
    if not q3:
        q3.append("No further procedure is planned, so there are no new risks.")
    return [
        ("Were any abnormalities detected?", q1),
        ("What future care is necessary?", q2),
        ("What are the risks and precautions of any further procedures?", q3),
    ]


def _plain_recommendation(kind: str, text: str) -> str:
    plain = {
        "ultrasound-guided biopsy": "An ultrasound of the area, and if the growth can be "
        "seen, a needle biopsy (a small tissue sample) guided by ultrasound.",
        "duct excision": "If the biopsy cannot be done, a small operation to remove the "
        "duct and find out what the growth is. This usually also stops the discharge.",
        "preoperative localisation": "Before an operation, the duct is marked so that the "
        "surgeon can find it.",
        "repeat ductography": "Doing the ductogram again"
        + (" in 7 to 14 days." if "7 to 14" in text else "."),
        "breast MRI": "A breast MRI scan "
        + ("instead, if you prefer." if text.startswith("Or") else "if the discharge continues."),
        "clinical follow-up": "Your own doctor will follow up with you. Keep up your "
        "usual breast screening.",
        "referring provider": "Your own doctor will decide the next step with you.",
        "short-interval follow-up": "A check-up in about 6 months.",
        "surgical consult": "A meeting with a breast surgeon.",
    }
    return plain.get(kind, text)


def letter_markdown(report: Report) -> str:
    """The patient letter in Markdown."""
    lines = [
        "# Your breast duct x-ray (ductogram): results",
        "",
        f"Patient: {report.patient_id}",
        "",
        "Dear patient,",
        "",
        f"This letter explains the results of the x-ray of the milk ducts of your "
        f"{ {'L': 'left', 'R': 'right'}[report.laterality] } breast. Your doctor has the full "
        "report and will talk it through with you.",
        "",
    ]
    for question, answers in _answers(report):
        lines += [f"## {question}", ""]
        lines += [f"- {a}" for a in answers]
        lines.append("")
    if report.aftercare:
        lines += ["## After the test", ""]
        lines += [f"- {a}" for a in report.aftercare]
        lines.append("")
    lines += ["## Words you may read in your report", ""]
    lines += [f"- **{word}**: {meaning}" for word, meaning in GLOSSARY.items()]
    lines += [
        "",
        "If you have questions, please call the breast imaging department.",
        "",
        f"(Report status: {report.status}.)",
    ]
    return "\n".join(lines) + "\n"


def letter_html(report: Report) -> str:
    """The patient letter as a standalone HTML page."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Your ductogram results</title>",
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;"
        "line-height:1.5;font-size:1.1em}h2{color:#225}</style></head><body>",
        "<h1>Your breast duct x-ray (ductogram): results</h1>",
        f"<p>Patient: {e(report.patient_id)}</p>",
    ]
    for question, answers in _answers(report):
        parts.append(f"<h2>{e(question)}</h2><ul>")
        parts += [f"<li>{e(a)}</li>" for a in answers]
        parts.append("</ul>")
    if report.aftercare:
        parts.append("<h2>After the test</h2><ul>")
        parts += [f"<li>{e(a)}</li>" for a in report.aftercare]
        parts.append("</ul>")
    parts.append("<h2>Words you may read in your report</h2><dl>")
    parts += [f"<dt><b>{e(w)}</b></dt><dd>{e(m)}</dd>" for w, m in GLOSSARY.items()]
    parts.append("</dl></body></html>")
    return "\n".join(parts) + "\n"
