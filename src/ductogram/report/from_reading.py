"""From the reading of an exam (``ductogram.analysis.assessment.ExamReading``) to the
report's inputs: findings, assessment and duct measurements.

The reading is read by its fields only (no import of the analysis layer): ``lesions``
(``kind``, ``code``, ``confidence``, ``size_mm``, ``views``, ``findings`` with ``view``,
``row``, ``col``, ``location`` text, ``distance_from_nipple_cm``, ``counted``), ``views``
(``view``, ``found``, ``quality`` flags, ``total_length_mm``, ``max_generation``),
``birads``, ``normal``, ``reasons``, ``recommendation``.

Only the lesions the reading counts (confidence at its calling threshold) become report
findings; the others are named in the assessment's reasons. The location text of the
reading ("left breast, 2 o'clock, middle depth, at least 3 cm from the nipple") gives the
clock hour and depth; what it leaves out is listed as unknown.
"""

from __future__ import annotations

import re
from typing import Any

from pydicom.sr.codedict import codes

from ..core import ParameterError
from .model import (
    CODES,
    FHIR_SYSTEMS,
    AssessmentInput,
    Code,
    DuctMeasurement,
    KeyImage,
    QCFlag,
    ReportFinding,
)

__all__ = ["INCOMPLETE_QC", "inputs_from_exam_reading"]

#: Quality flags that make a view non-diagnostic (from ``analysis.quality.QUALITY_CODES``).
INCOMPLETE_QC = ("no_breast", "no_contrast")
_CLOCK = re.compile(r"\b(1[0-2]|[1-9]) o'clock")
_DEPTH = re.compile(r"\b(anterior|middle|posterior) (?:depth|third)")
_SIDE = re.compile(r"\b(left|right) breast")
_HALF = re.compile(r"\b(\w+) half")
_MAX_GENERATION = Code(value="MAXGEN", scheme="99DUCTOGRAM", meaning="Duct generations filled")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _code(kind: str, code: Any) -> Code:
    if code is None:
        return CODES[kind]
    scheme = str(_get(code, "scheme", ""))
    if scheme not in FHIR_SYSTEMS:
        return CODES[kind]
    return Code(value=str(_get(code, "value")), scheme=scheme, meaning=str(_get(code, "meaning")))


def _finding(lesion: Any) -> ReportFinding:
    kind = str(_get(lesion, "kind"))
    if kind not in CODES:
        raise ParameterError("lesion.kind", kind, f"a report lexicon term ({', '.join(CODES)})")
    text = str(_get(lesion, "location") or "")
    unknown, notes = [], []
    side = _SIDE.search(text)
    clock = _CLOCK.search(text)
    depth = _DEPTH.search(text)
    if clock is None:
        half = _HALF.search(text)
        unknown.append("clock hour" + (f" (in the {half.group(1)} half)" if half else ""))
    if depth is None:
        unknown.append("depth")
    cm = _get(lesion, "distance_from_nipple_cm")
    if cm is None:
        unknown.append("distance from the nipple")
    elif "at least" in text:
        notes.append(f"The distance from the nipple is a lower bound (at least {round(cm)} cm).")
    keys = [
        KeyImage(
            view=str(_get(f, "view") or "?"), row=float(_get(f, "row")), col=float(_get(f, "col"))
        )
        for f in _get(lesion, "findings", []) or []
    ]
    evidence = [str(_get(f, "evidence")) for f in _get(lesion, "findings", []) or []]
    notes += [e for e in evidence if e and e != "None"][:1]
    return ReportFinding(
        kind=kind,
        code=_code(kind, _get(lesion, "code")),
        size_mm=float(_get(lesion, "size_mm") or 0.0) or None,
        laterality=None if side is None else side.group(1),
        clock_hour=None if clock is None else int(clock.group(1)),
        depth=None if depth is None else depth.group(1),
        distance_from_nipple_cm=None if cm is None else round(float(cm)),
        key_images=keys,
        confidence=float(_get(lesion, "confidence", 1.0)),
        unknown=unknown,
        notes=notes,
    )


def inputs_from_exam_reading(
    exam_reading: Any,
) -> tuple[list[ReportFinding], AssessmentInput, list[DuctMeasurement]]:
    """The report's findings, assessment and duct measurements from an exam's reading.

    Parameters
    ----------
    exam_reading : ExamReading or mapping
        ``ductogram.analysis.assessment.read_exam``'s result (or its ``model_dump()``).

    Returns
    -------
    findings : list of ReportFinding
        The counted lesions, in the reading's order.
    assessment : AssessmentInput
        The reading's BI-RADS with its reasons and quality flags.
    measurements : list of DuctMeasurement
        Per view with a tree: the filled duct length (mm) and the deepest generation.

    Raises
    ------
    ParameterError
        If the reading has no ``birads`` or a lesion's kind is not a lexicon term.
    """
    birads = _get(exam_reading, "birads")
    if birads is None:
        raise ParameterError("exam_reading", type(exam_reading).__name__, "an ExamReading")
    lesions = list(_get(exam_reading, "lesions", []) or [])
    counted = [les for les in lesions if _get(les, "counted", True)]
    findings = [_finding(les) for les in counted]
    reasons = [str(r) for r in _get(exam_reading, "reasons", []) or []]
    left_out = len(lesions) - len(counted)
    if left_out:
        reasons.append(
            f"{left_out} candidate finding(s) below the calling confidence, not reported."
        )
    qc: list[QCFlag] = []
    measurements: list[DuctMeasurement] = []
    for v in _get(exam_reading, "views", []) or []:
        view = _get(v, "view") or f"view {_get(v, 'index')}"
        for flag in _get(v, "quality", []) or []:
            name = str(_get(flag, "code"))
            qc.append(
                QCFlag(
                    name=f"{view} {name}",
                    message=str(_get(flag, "description", "")),
                    action=str(_get(flag, "action", "")),
                    makes_incomplete=name in INCOMPLETE_QC,
                )
            )
        if _get(v, "found"):
            measurements.append(
                DuctMeasurement(
                    name=f"filled duct length ({view})",
                    value=round(float(_get(v, "total_length_mm", 0.0)), 1),
                    unit="mm",
                    code=Code(
                        value=codes.cid6165.PathLength.value,
                        scheme="DCM",
                        meaning=codes.cid6165.PathLength.meaning,
                    ),
                    view=view,
                )
            )
            measurements.append(
                DuctMeasurement(
                    name=f"deepest duct generation filled ({view})",
                    value=float(_get(v, "max_generation", 0)),
                    unit="{generation}",
                    code=Code(
                        value="MAXGEN", scheme="99DUCTOGRAM", meaning="Duct generations filled"
                    ),
                    view=view,
                )
            )
    sub = None
    if int(birads) == 4 and sum(f.kind == "filling defect" for f in findings) >= 2:
        sub = "4B"
    assessment = AssessmentInput(
        birads=int(birads),
        subcategory=sub,
        reasons=reasons,
        abnormal=not bool(_get(exam_reading, "normal", False)),
        qc=qc,
    )
    return findings, assessment, measurements
