"""Exam case files in, exam records out.

A case file (YAML or JSON) has three sections: ``patient`` (:class:`~.patient.Patient`),
``phantom`` (:class:`~ductogram.anatomy.PhantomParameters`) and ``exam``
(:class:`~.procedure.ExamSettings`); :class:`ExamCase` validates it. :func:`write_exam`
writes one exam's output folder, all at once: the phantom's ground truth
(``phantom.json``, ``system_XX.graphml``), ``procedure.json`` (the :class:`Procedure`),
``procedure.schema.json`` (its JSON schema) and ``summary.md`` (:func:`procedure_markdown`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..anatomy import Phantom, PhantomParameters, write_phantom
from ..core import ParameterError
from ..core.files import write_json_atomic, write_text_atomic
from ._validation import MISSING
from .patient import DischargeSide, Patient
from .procedure import ExamSettings, Procedure

__all__ = ["ExamCase", "procedure_markdown", "write_exam", "write_procedure"]

SECTIONS = ("patient", "phantom", "exam")


class ExamCase(BaseModel):
    """An exam case file: the patient, the phantom's parameters and the exam settings."""

    model_config = ConfigDict(extra="forbid")

    patient: Patient
    phantom: PhantomParameters = Field(default_factory=PhantomParameters)
    exam: ExamSettings = Field(default_factory=ExamSettings)

    @classmethod
    def parse(cls, data: Any) -> ExamCase:
        """Validate a case file's mapping.

        Unless the ``phantom`` section sets ``laterality``, the phantom's breast is the side
        of a one-sided discharge.

        Raises
        ------
        ParameterError
            Naming the first bad field with its section (``exam.volume_ml``), its value
            and what is allowed.

        Examples
        --------
        >>> case = ExamCase.parse({"patient": {"id": "SYN-2", "age_years": 50, "discharge": {
        ...     "spontaneous": True, "laterality": "R", "ducts": "single", "colour": "serous"}}})
        >>> case.phantom.laterality.value, case.exam.agent
        ('R', 'iohexol-300')
        >>> ExamCase.parse({"patient": {}, "exam": {}, "scanner": {}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ductogram.core.errors.ParameterError: scanner = {}: expected a known section (one of: ...)
        """
        if not isinstance(data, Mapping):
            raise ParameterError("case", type(data).__name__, "a mapping of sections")
        for key in data:
            if key not in SECTIONS:
                raise ParameterError(
                    str(key), data[key], f"a known section (one of: {', '.join(SECTIONS)})"
                )
        if "patient" not in data:
            raise ParameterError("patient", MISSING, "a section (this section is required)")
        for key in SECTIONS:
            if key in data and not isinstance(data[key], Mapping):
                raise ParameterError(key, data[key], "a mapping of fields")
        patient = Patient.parse(data["patient"], prefix="patient")
        phantom_data = dict(data.get("phantom") or {})
        side = patient.discharge.laterality
        if "laterality" not in phantom_data and side != DischargeSide.BILATERAL:
            phantom_data["laterality"] = side.value
        try:
            phantom = PhantomParameters.parse(phantom_data)
        except ParameterError as exc:
            raise ParameterError(f"phantom.{exc.field}", exc.value, exc.expected) from exc
        exam = ExamSettings.parse(data.get("exam") or {}, prefix="exam")
        return cls(patient=patient, phantom=phantom, exam=exam)


# --------------------------------------------------------------------------- markdown


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def words(value: Any) -> str:
    """A record value in plain words: an enum's value, with spaces for underscores.

    >>> from ductogram.exam.screening import ScreeningOutcome
    >>> words(ScreeningOutcome.NOT_INDICATED)
    'not indicated'
    """
    return str(getattr(value, "value", value)).replace("_", " ")


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m:02d}:{s:02d}"


def procedure_markdown(procedure: Procedure) -> str:
    """A readable summary of a procedure record, in Markdown.

    Every line is rendered from the record: outcome, patient, screening decisions with
    their reasons and sources, consent, the duct, cannula, contrast and views, the fill,
    complications, aftercare and the timeline.
    """
    p = procedure
    pt, d = p.patient, p.patient.discharge
    lines = [
        f"# Ductography: patient {pt.id}",
        "",
        f"**Outcome: {words(p.outcome)}.** {p.outcome_reason}",
        "",
        f"Simulated duration {p.duration_min:.0f} min, check-in to "
        f"{words(p.log[-1].step) if p.log else 'end'}. Breast: {p.laterality.value}. "
        + (f"Seed {p.seed}. " if p.seed is not None else "")
        + (f"Phantom seed {p.phantom_seed}." if p.phantom_seed is not None else ""),
        "",
        "## Patient",
        "",
        f"- {pt.age_years:g} years, {pt.sex.value}; pregnancy: {pt.pregnancy.value}; "
        f"lactating: {'yes' if pt.lactating else 'no'}; iodinated-contrast allergy: "
        f"{'yes' if pt.contrast_allergy else 'no'}; mastitis or abscess: "
        f"{'yes' if pt.mastitis_or_abscess else 'no'}.",
        f"- Discharge: {d.colour.value}, {d.laterality.value}, {d.ducts.value} duct, "
        f"{'spontaneous' if d.spontaneous else 'on expression only'}; present today: "
        f"{'yes' if d.present_today else 'no'}; squeezed before the visit: "
        f"{'yes' if d.squeezed_before_visit else 'no'}; cytology: {words(d.cytology)}.",
        f"- On the day: deodorant or powder {'on' if pt.deodorant_or_powder else 'off'}, "
        f"jewellery or metal {'on' if pt.jewellery_or_metal else 'off'}.",
        "",
        "## Screening",
        "",
        f"Outcome: **{words(p.screening.outcome)}**. {p.screening.outcome_reason} "
        f"(rules: `{p.screening.rules_source}`)",
        "",
        "| rule | decision | action | reason | source |",
        "| --- | --- | --- | --- | --- |",
    ]
    for dec in p.screening.decisions:
        lines.append(
            f"| {_cell(dec.title)} | {words(dec.decision)} | {_cell(dec.action)} | "
            f"{_cell(dec.reason)} | {_cell(dec.source)} |"
        )
    if p.consent is not None:
        lines += ["", "## Consent", "", p.consent.statement, ""]
        lines += [f"- {r.text} ({r.source})" for r in p.consent.risks]
    if p.duct is not None:
        lines += ["", "## Procedure", ""]
        lines += [f"- Precaution taken: {action}" for action in p.precautions_taken]
        lines.append(f"- Duct: **{p.duct.name}** (system {p.duct.system}), {p.duct.reason}.")
        if p.cannula is not None:
            c = p.cannula
            result = {True: "cannulated", False: "not cannulated", None: "not attempted"}
            lines.append(
                f"- Cannula: {c.gauge} G {c.tip} {c.kind}, {c.syringe_ml:g} mL syringe: "
                f"{result[p.cannulated]}."
            )
        if p.agent is not None and p.injected_ml is not None:
            a = p.agent
            lines.append(
                f"- Contrast: {p.injected_ml:.2f} mL of {p.settings.volume_ml:g} mL planned, "
                f"{a.product} ({a.id}, {a.concentration_mgi_per_ml:g} mgI/mL, "
                f"{a.osmolality_class.value} osmolality), at {p.settings.rate_ml_per_min:g} "
                f"mL/min; line {'flushed' if p.settings.flush else 'not flushed'}."
            )
        for v in p.views:
            lines.append(
                f"- View {v.laterality.value} {v.view.value}"
                f"{' magnified' if v.magnification else ''}, patient {v.position.value}, at "
                f"{_clock(v.start_s)}" + (": **patient moved**." if v.patient_moved else ".")
            )
    if p.fill is not None:
        lines += ["", "## Contrast fill", "", "| figure | value |", "| --- | --- |"]
        for key, value in p.fill.items():
            shown = json.dumps(value) if isinstance(value, list | dict) else value
            lines.append(f"| {words(key)} | {_cell(shown)} |")
    if p.cannulated:
        lines += ["", "## Complications", ""]
        if p.complications:
            lines += [
                f"- **{words(c.kind)}**: {c.detail} {c.action} ({c.source})"
                for c in p.complications
            ]
        else:
            lines.append("None.")
    if p.aftercare is not None:
        lines += ["", "## Aftercare and next steps", ""]
        lines += [f"- {i.text} ({i.source})" for i in p.aftercare.instructions]
    lines += ["", "## Timeline", "", "| time | step | min | detail |", "| --- | --- | --- | --- |"]
    for e in p.log:
        lines.append(
            f"| {_clock(e.start_s)} | {words(e.step)} | {e.duration_s / 60:.1f} | "
            f"{_cell(e.detail)} |"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- files


def write_procedure(procedure: Procedure, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``procedure.json``, ``procedure.schema.json`` and ``summary.md`` into an
    existing folder, each atomically. Returns the paths written."""
    folder = Path(folder)
    return [
        write_json_atomic(folder / "procedure.json", procedure.model_dump(mode="json")),
        write_json_atomic(folder / "procedure.schema.json", Procedure.model_json_schema()),
        write_text_atomic(folder / "summary.md", procedure_markdown(procedure)),
    ]


def write_exam(
    procedure: Procedure,
    phantom: Phantom,
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write an exam's output folder, all at once.

    Writes the phantom's ground truth (:func:`ductogram.anatomy.write_phantom`:
    ``phantom.json``, ``system_XX.graphml``) and :func:`write_procedure`'s files into a
    temporary sibling folder renamed to ``out_dir`` when all are done; on any error
    nothing is left and an existing ``out_dir`` is untouched.

    Parameters
    ----------
    procedure : Procedure
    phantom : Phantom
        The phantom the exam ran on.
    out_dir : str or path-like
        Output folder; missing parents are created.
    overwrite : bool
        Replace a non-empty ``out_dir`` (default False).

    Returns
    -------
    list of pathlib.Path
        The files written, under ``out_dir``.

    Raises
    ------
    FileExistsError
        If ``out_dir`` is a non-empty folder and ``overwrite`` is False, or is a file.
    """
    return write_phantom(
        phantom,
        out_dir,
        overwrite=overwrite,
        also=[lambda _phantom, folder: write_procedure(procedure, folder)],
    )
