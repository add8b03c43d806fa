"""The exam from check-in to aftercare: :func:`run_exam` and its record, :class:`Procedure`.

Steps (clinical.md §1.4), each logged with simulated times:

check-in → screening (:mod:`.screening`; a warm compress when there is no discharge) →
consent (:mod:`.consent`) → preparation (the actions of the screening rules that take
time) → position → cleanse the nipple → express the discharge to find the orifice →
cannulate (30 G blunt cannula) → flush the line → inject (:func:`.filling.fill_ducts`) →
each view → remove the cannula → aftercare (:mod:`.aftercare`).

An exam that is not done stops at its step with its outcome (:class:`ProcedureOutcome`):
at screening (not indicated, contraindicated, deferred), at consent (declined) or at
cannulation (incomplete: about 5 % of cannulations fail, clinical.md §1.5).

The discharging duct is the system that holds a lesion (the cause of the discharge; if
several do, the lesion kind first in :class:`~ductogram.anatomy.LesionKind` order, papilloma
first, as the most common cause, Cho et al. 2005); a normal phantom gets a random orifice.

Durations (:data:`STEP_MINUTES`, uniform draws, [estimate]s) are set so that a standard
exam (two views, 1 mL at 0.5 mL/min, no extra preparation) takes 30-60 min, as reported
(coloradomammo.com 30-60 min; Tampa General 20 min-1 h; clinical.md §1.4). Extra
preparation, a warm compress, more views or a slower injection make it longer. The
injection lasts ``injected volume / rate``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..anatomy import LesionKind, Phantom
from ..core import Laterality, ParameterError, ViewPosition
from ..core.seeding import RNGLike, as_generator
from ._validation import validate_model
from .aftercare import Aftercare, plan_aftercare
from .agents import DEFAULT_AGENT, DEFAULT_VOLUME_ML, ContrastAgent, check_volume_ml, get_agent
from .complications import Complication, assess_complications
from .consent import Consent, record_consent
from .filling import ContrastFill, fill_ducts
from .outcome import ProcedureOutcome
from .patient import DischargeSide, Patient
from .screening import DecisionKind, Screening, ScreeningOutcome, ScreeningRules, screen

__all__ = [
    "EXAM_SEED_SALT",
    "STEP_MINUTES",
    "Cannula",
    "DuctChoice",
    "ExamSettings",
    "LogEntry",
    "PatientPosition",
    "Procedure",
    "ProcedureOutcome",
    "Step",
    "ViewRecord",
    "run_exam",
]

# An int seed s draws the exam from default_rng([EXAM_SEED_SALT, s]), a stream apart from
# the phantom generated with the same seed.  0x6578616D is "exam" in ASCII.
EXAM_SEED_SALT = 0x6578616D
# Independent child streams, so that (say) the number of views never changes whether the
# cannulation succeeds.
_STREAMS = ("screening", "duct", "cannulation", "fill", "motion", "complications", "timeline")


class PatientPosition(StrEnum):
    """Patient position for cannulation and views (clinical.md §1.4: supine, Fischer; or
    seated at the mammography unit, which reduces cannula dislodgement)."""

    SITTING = "sitting"
    STANDING = "standing"
    SUPINE = "supine"


class Step(StrEnum):
    """Steps of the exam, in the order they happen."""

    CHECK_IN = "check_in"
    SCREENING = "screening"
    WARM_COMPRESS = "warm_compress"
    CONSENT = "consent"
    PREPARE = "prepare"
    POSITION = "position"
    CLEANSE = "cleanse"
    EXPRESS = "express"
    CANNULATE = "cannulate"
    FLUSH = "flush"
    INJECT = "inject"
    VIEW = "view"
    REMOVE_CANNULA = "remove_cannula"
    AFTERCARE = "aftercare"


# Durations of the steps (minutes, low and high of a uniform draw) [estimate]: chosen so
# that the standard exam totals 30-60 min (module docstring). Preparation actions take the
# time the rules table gives them; the injection takes volume / rate.
STEP_MINUTES: dict[Step, tuple[float, float]] = {
    Step.CHECK_IN: (5.0, 8.0),
    Step.SCREENING: (4.0, 7.0),
    Step.WARM_COMPRESS: (5.0, 10.0),
    Step.CONSENT: (3.0, 5.0),
    Step.POSITION: (3.0, 5.0),
    Step.CLEANSE: (1.0, 2.0),
    Step.EXPRESS: (2.0, 4.0),
    Step.CANNULATE: (2.0, 8.0),
    Step.FLUSH: (0.5, 1.5),
    Step.VIEW: (2.0, 4.0),
    Step.REMOVE_CANNULA: (0.5, 1.0),
    Step.AFTERCARE: (3.0, 5.0),
}
FAILED_CANNULATION_MINUTES = (5.0, 12.0)  # several attempts before giving up [estimate]


class ExamSettings(BaseModel):
    """How the exam is done: a case file's ``exam`` section.

    Parameters
    ----------
    agent : str
        Contrast agent (:data:`~ductogram.exam.agents.AGENTS`); default iohexol-300.
    volume_ml : float
        Volume to inject, in (0, 5] mL (typically 0.3-2 mL; default 1 mL).
    flush : bool
        Flush the line with contrast first (default); without it air bubbles enter.
    rate_ml_per_min : float
        Injection rate, in (0, 60] mL/min (default 0.5: 0.3-0.5 mL over ≥ 1 min,
        theradiologyblog).
    views : list of ViewPosition
        Views to take, each once (default CC and ML, clinical.md §1.4).
    magnification : bool
        Magnified views of the subareolar region.
    position : PatientPosition
        Patient position (default sitting).
    patient_moved : dict of ViewPosition to bool
        Whether the patient moved during a view's exposure; views not listed are drawn
        with ``motion_probability``.
    motion_probability : float
        In [0, 1]; default 0.03 [estimate].
    cannulation_failure_probability : float
        In [0, 1]; default 0.05 (about 95 % success with experience, clinical.md §1.5).
    vasovagal_probability, contrast_reaction_probability : float
        In [0, 1]; defaults 0.01 and 0.002 [estimate] (no rates found, clinical.md §1.6).
    system : int or None
        Orifice to cannulate; default the discharging one (the module docstring).
    shielding_available : bool
        Abdominal shielding at hand (screening, ``visit.shielding_available``).
    warm_compress_works : bool or None
        Whether a warm compress brings out absent discharge; None draws it (screening).
    """

    model_config = ConfigDict(extra="forbid")

    agent: str = Field(DEFAULT_AGENT, description="contrast agent id or product name")
    volume_ml: float = Field(DEFAULT_VOLUME_ML, description="volume to inject (mL), (0, 5]")
    flush: bool = Field(True, description="flush the line with contrast first")
    rate_ml_per_min: float = Field(0.5, gt=0.0, le=60.0, description="injection rate")
    stop_at_fullness: bool = Field(
        True, description="stop injecting when the system is full (clinical.md §1.4)"
    )
    views: list[ViewPosition] = Field(
        default_factory=lambda: [ViewPosition.CC, ViewPosition.ML], min_length=1
    )
    magnification: bool = False
    position: PatientPosition = PatientPosition.SITTING
    patient_moved: dict[ViewPosition, bool] = Field(default_factory=dict)
    motion_probability: float = Field(0.03, ge=0.0, le=1.0)
    cannulation_failure_probability: float = Field(0.05, ge=0.0, le=1.0)
    vasovagal_probability: float = Field(0.01, ge=0.0, le=1.0)
    contrast_reaction_probability: float = Field(0.002, ge=0.0, le=1.0)
    system: int | None = Field(None, ge=0, description="orifice to cannulate")
    shielding_available: bool = True
    warm_compress_works: bool | None = None

    @field_validator("agent", mode="before")
    @classmethod
    def _known_agent(cls, value: Any) -> str:
        return get_agent(value, field="agent").id

    @field_validator("volume_ml", mode="before")
    @classmethod
    def _volume(cls, value: Any) -> float:
        return check_volume_ml(value, field="volume_ml")

    @field_validator("views")
    @classmethod
    def _distinct(cls, views: list[ViewPosition]) -> list[ViewPosition]:
        seen = [v for k, v in enumerate(views) if v in views[:k]]
        if seen:
            raise ParameterError("views", [v.value for v in views], "each view at most once")
        return views

    @model_validator(mode="after")
    def _moved_views_taken(self) -> ExamSettings:
        extra = [v.value for v in self.patient_moved if v not in self.views]
        if extra:
            taken = ", ".join(v.value for v in self.views)
            raise ParameterError(f"patient_moved.{extra[0]}", True, f"a view taken ({taken})")
        return self

    @property
    def contrast_agent(self) -> ContrastAgent:
        return get_agent(self.agent)

    @classmethod
    def parse(cls, data: Any, *, prefix: str = "") -> ExamSettings:
        """Validate a mapping (a case file's ``exam`` section).

        Raises
        ------
        ParameterError
            Naming the first bad field (after ``prefix``), its value and what is allowed.

        Examples
        --------
        >>> ExamSettings.parse({"volume_ml": 6}, prefix="exam")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ductogram.core.errors.ParameterError: exam.volume_ml = 6: expected a volume in (0, 5] mL ...
        """
        return validate_model(cls, data, prefix=prefix)


class DuctChoice(BaseModel):
    """The orifice (duct system) chosen for cannulation."""

    model_config = ConfigDict(extra="forbid")

    system: int = Field(ge=0, description="orifice (duct system) index")
    orifice_mm: list[float] = Field(description="orifice position, breast frame (mm)")
    clock_hour: int = Field(ge=1, le=12, description="clock face, facing the patient")
    name: str = Field(description='duct name as written in reports, e.g. "L9H"')
    reason: str


class Cannula(BaseModel):
    """The cannula and syringe (clinical.md §1.4: Radiopaedia; Fischer; theradiologyblog)."""

    model_config = ConfigDict(extra="forbid")

    gauge: int = 30
    tip: str = "blunt"
    kind: str = "sialography/galactography cannula"
    syringe_ml: float = Field(description="syringe size (mL)")


class ViewRecord(BaseModel):
    """One view taken."""

    model_config = ConfigDict(extra="forbid")

    view: ViewPosition
    laterality: Laterality
    magnification: bool
    position: PatientPosition
    patient_moved: bool
    start_s: float = Field(ge=0.0, description="time of the exposure (s from check-in)")


class LogEntry(BaseModel):
    """One step of the exam with its simulated start and end (s from check-in)."""

    model_config = ConfigDict(extra="forbid")

    step: Step
    start_s: float = Field(ge=0.0)
    end_s: float = Field(ge=0.0)
    detail: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class Procedure(BaseModel):
    """The record of one exam: what was decided and done, when, and how it ended.

    Written as ``procedure.json`` by ``ductogram exam``; its JSON schema is
    ``Procedure.model_json_schema()``. Times are seconds from check-in.
    """

    model_config = ConfigDict(extra="forbid")

    format: str = Field("ductogram.procedure", pattern=r"^ductogram\.procedure$")
    version: int = Field(1, ge=1, le=1)
    outcome: ProcedureOutcome
    outcome_reason: str
    seed: int | None = Field(None, description="the int seed of run_exam, if one was given")
    phantom_seed: int | None = None
    patient: Patient
    settings: ExamSettings
    laterality: Laterality = Field(description="the examined breast (the phantom's)")
    screening: Screening
    consent: Consent | None = None
    precautions_taken: list[str] = Field(
        default_factory=list,
        description="actions of the proceed-with-precaution decisions, done and recorded "
        "(e.g. abdominal shielding)",
    )
    duct: DuctChoice | None = None
    cannula: Cannula | None = None
    cannulated: bool | None = Field(None, description="null when not attempted")
    agent: ContrastAgent | None = Field(None, description="the agent injected")
    injected_ml: float | None = Field(None, ge=0.0)
    views: list[ViewRecord] = Field(default_factory=list)
    complications: list[Complication] = Field(default_factory=list)
    fill: dict[str, Any] | None = Field(None, description="ContrastFill.summary()")
    aftercare: Aftercare | None = None
    log: list[LogEntry]
    total_duration_s: float = Field(ge=0.0)

    @model_validator(mode="after")
    def _timeline(self) -> Procedure:
        t = 0.0
        for k, entry in enumerate(self.log):
            if not (math.isclose(entry.start_s, t, abs_tol=1e-6) and entry.end_s >= entry.start_s):
                raise ParameterError(
                    f"log.{k}",
                    (entry.start_s, entry.end_s),
                    f"a step starting when the previous one ended ({t:g} s), not ending before it",
                )
            t = entry.end_s
        if not math.isclose(self.total_duration_s, t, abs_tol=1e-6):
            raise ParameterError(
                "total_duration_s", self.total_duration_s, f"{t:g} s, the log's end"
            )
        return self

    @property
    def duration_min(self) -> float:
        return self.total_duration_s / 60.0

    def steps(self, step: Step | str) -> list[LogEntry]:
        """Log entries of one step, in order."""
        step = Step(step)
        return [e for e in self.log if e.step == step]


# --------------------------------------------------------------------------- helpers


class _Clock:
    """Adds log entries one after the other, durations drawn from ``rng``."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.t = 0.0
        self.entries: list[LogEntry] = []

    def add(
        self,
        step: Step,
        detail: str,
        *,
        minutes: tuple[float, float] | list[float] | None = None,
        seconds: float | None = None,
    ) -> LogEntry:
        if seconds is None:
            lo, hi = minutes if minutes is not None else STEP_MINUTES[step]
            seconds = 60.0 * float(self.rng.uniform(lo, hi))
        end = round(self.t + seconds, 1)
        entry = LogEntry(step=step, start_s=self.t, end_s=end, detail=detail)
        self.entries.append(entry)
        self.t = end
        return entry


def _streams(rng: RNGLike) -> tuple[int | None, dict[str, np.random.Generator]]:
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        seed: int | None = int(rng)
        root = np.random.default_rng([EXAM_SEED_SALT, seed])
    else:
        seed, root = None, as_generator(rng)
    return seed, dict(zip(_STREAMS, root.spawn(len(_STREAMS)), strict=True))


def clock_hour(orifice_mm: np.ndarray, laterality: Laterality | str) -> int:
    """Clock-face hour of a point on the nipple, as seen facing the patient.

    12 is superior; 3 is lateral on a left breast and medial on a right one (clinical.md
    §2.2). Breast frame: y superior, z lateral.

    Examples
    --------
    >>> clock_hour([-4.0, 0.0, -2.0], "L"), clock_hour([-4.0, 0.0, -2.0], "R")
    (9, 3)
    >>> clock_hour([-4.0, 2.0, 0.0], "L")
    12
    """
    _, y, z = (float(v) for v in orifice_mm)
    across = z if Laterality(laterality) == Laterality.L else -z  # towards 3 o'clock
    hour = round(math.degrees(math.atan2(across, y)) / 30.0) % 12
    return 12 if hour == 0 else int(hour)


def _choose_duct(
    phantom: Phantom, settings: ExamSettings, laterality: Laterality, rng: np.random.Generator
) -> DuctChoice:
    draw = int(rng.integers(len(phantom.trees)))  # always drawn: the stream stays the same
    kinds = list(LesionKind)
    lesions = sorted(phantom.lesions, key=lambda les: kinds.index(LesionKind(les.kind)))
    if settings.system is not None:
        system, reason = settings.system, "the orifice set in the exam settings"
    elif lesions:
        lesion = lesions[0]
        system = int(lesion.system)
        reason = (
            f"the discharging orifice: its duct system holds the "
            f"{LesionKind(lesion.kind).value.replace('_', ' ')}"
        )
    else:
        system, reason = draw, "no lesion in the breast: an orifice chosen at random"
    orifice = np.asarray(phantom.lobes.orifice_mm[system], dtype=float)
    hour = clock_hour(orifice, laterality)
    return DuctChoice(
        system=system,
        orifice_mm=[round(float(v), 3) for v in orifice],
        clock_hour=hour,
        name=f"{laterality.value}{hour}H",
        reason=reason,
    )


def _syringe_ml(volume_ml: float) -> float:
    # A 1 mL (tuberculin) or 3 mL syringe (theradiologyblog); 5 mL above that [estimate].
    return next(size for size in (1.0, 3.0, 5.0) if volume_ml <= size)


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_FROM_SCREENING = {
    ScreeningOutcome.NOT_INDICATED: ProcedureOutcome.NOT_INDICATED,
    ScreeningOutcome.CONTRAINDICATED: ProcedureOutcome.CONTRAINDICATED,
    ScreeningOutcome.DEFERRED: ProcedureOutcome.DEFERRED,
}


def _finish(record: dict[str, Any], clock: _Clock, outcome: ProcedureOutcome, reason: str):
    draft = Procedure(
        **record,
        outcome=outcome,
        outcome_reason=reason,
        log=clock.entries,
        total_duration_s=clock.t,
    )
    return draft.model_copy(update={"aftercare": plan_aftercare(draft)})


# --------------------------------------------------------------------------- the exam


def run_exam(
    patient: Patient | Mapping[str, Any],
    phantom: Phantom,
    settings: ExamSettings | Mapping[str, Any] | None = None,
    *,
    rng: RNGLike = None,
    rules: ScreeningRules | str | None = None,
) -> tuple[Procedure, ContrastFill | None]:
    """Run one ductography exam on a phantom, from check-in to aftercare.

    Parameters
    ----------
    patient : Patient or mapping
        The patient (a case file's ``patient`` section).
    phantom : Phantom
        The breast (:func:`ductogram.anatomy.generate_phantom`); the examined side is its
        laterality.
    settings : ExamSettings or mapping or None
        How the exam is done (a case file's ``exam`` section); None for the defaults.
    rng : numpy.random.Generator or int or None
        Random source. An int ``s`` draws from ``default_rng([EXAM_SEED_SALT, s])`` (apart
        from a phantom generated with the same seed) and is recorded as ``seed``.
    rules : ScreeningRules or path or None
        Screening rules table; None for the shipped one.

    Returns
    -------
    procedure : Procedure
        The record; ``outcome`` says how it ended.
    fill : ContrastFill or None
        The contrast in the cannulated system; None when nothing was injected.

    Raises
    ------
    ParameterError
        For an invalid patient or settings (the field is named, ``patient.``/``exam.``
        first), a discharge on the other side than the phantom's breast, or
        ``exam.system`` beyond the phantom's orifices.

    Examples
    --------
    >>> from ductogram.anatomy import generate_phantom
    >>> ph = generate_phantom({"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30,
    ...                        "lesions": [{"kind": "papilloma"}]}, seed=3)
    >>> patient = {"id": "SYN-1", "age_years": 48, "discharge": {"spontaneous": True,
    ...            "laterality": "L", "ducts": "single", "colour": "bloody"}}
    >>> proc, fill = run_exam(patient, ph, {"volume_ml": 0.3}, rng=0)
    >>> proc.outcome.value, proc.duct.system == ph.lesions[0].system, fill.system
    ('completed', True, 4)
    >>> [e.step.value for e in proc.log][:4]
    ['check_in', 'screening', 'consent', 'prepare']
    """
    patient = Patient.parse(patient, prefix="patient")
    settings = ExamSettings.parse({} if settings is None else settings, prefix="exam")
    laterality = Laterality(phantom.parameters.laterality)
    discharge = patient.discharge
    if discharge.laterality not in (DischargeSide.BILATERAL, DischargeSide(laterality.value)):
        raise ParameterError(
            "patient.discharge.laterality",
            discharge.laterality.value,
            f"{laterality.value} (the side of the phantom's breast) or bilateral",
        )
    if settings.system is not None and settings.system >= len(phantom.trees):
        raise ParameterError(
            "exam.system", settings.system, f"an orifice index in [0, {len(phantom.trees) - 1}]"
        )
    seed, streams = _streams(rng)
    agent = get_agent(settings.agent)
    clock = _Clock(streams["timeline"])

    spontaneous = "spontaneous" if discharge.spontaneous else "on expression only"
    clock.add(
        Step.CHECK_IN,
        f"Patient {patient.id}, {patient.age_years:g} years, {patient.sex.value}: "
        f"{discharge.colour.value} discharge, {discharge.laterality.value}, "
        f"{discharge.ducts.value} duct, {spontaneous}.",
    )
    screening = screen(
        patient,
        rules=rules,
        shielding_available=settings.shielding_available,
        warm_compress_works=settings.warm_compress_works,
        rng=streams["screening"],
    )
    applied = ", ".join(d.rule for d in screening.decisions) or "none"
    clock.add(
        Step.SCREENING,
        f"Rules that apply: {applied}. Outcome: {screening.outcome.value.replace('_', ' ')}.",
    )
    works = screening.visit.warm_compress_works
    if works is not None:
        clock.add(
            Step.WARM_COMPRESS,
            "No discharge at first; warm compress and massage: "
            + ("discharge obtained." if works else "still no discharge."),
        )
    record: dict[str, Any] = {
        "seed": seed,
        "phantom_seed": phantom.seed,
        "patient": patient,
        "settings": settings,
        "laterality": laterality,
        "screening": screening,
    }
    if screening.outcome != ScreeningOutcome.PROCEED:
        outcome = _FROM_SCREENING[screening.outcome]
        return _finish(record, clock, outcome, screening.outcome_reason), None

    consent = record_consent(
        agrees=patient.consents,
        n_views=len(settings.views),
        agent=agent,
        magnification=settings.magnification,
    )
    record["consent"] = consent
    clock.add(Step.CONSENT, consent.statement)
    if not consent.given:
        reason = "The patient declined the exam after the risks were explained."
        return _finish(record, clock, ProcedureOutcome.DECLINED, reason), None

    record["precautions_taken"] = [d.action for d in screening.precautions]
    for d in screening.decisions:
        if d.minutes and d.decision in (DecisionKind.PREPARE, DecisionKind.PROCEED_WITH_PRECAUTION):
            label = (
                "Precaution" if d.decision == DecisionKind.PROCEED_WITH_PRECAUTION else "Prepare"
            )
            clock.add(Step.PREPARE, f"{label}: {d.action}", minutes=d.minutes)
    clock.add(Step.POSITION, f"Patient {settings.position.value}, {laterality.value} breast.")
    duct = _choose_duct(phantom, settings, laterality, streams["duct"])
    record["duct"] = duct
    clock.add(Step.CLEANSE, "Nipple cleaned with alcohol.")
    clock.add(
        Step.EXPRESS,
        f"Discharge expressed under a bright light and a 3-5x magnifier: discharging orifice "
        f"{duct.name} (system {duct.system}).",
    )
    cannula = Cannula(syringe_ml=_syringe_ml(settings.volume_ml))
    record["cannula"] = cannula
    failed = bool(streams["cannulation"].random() < settings.cannulation_failure_probability)
    record["cannulated"] = not failed
    tool = f"{cannula.gauge} G {cannula.tip} {cannula.kind}"
    if failed:
        clock.add(
            Step.CANNULATE,
            f"{tool}: orifice {duct.name} could not be cannulated; stopped after several attempts.",
            minutes=FAILED_CANNULATION_MINUTES,
        )
        clock.add(Step.AFTERCARE, "Pad placed over the nipple; next steps explained.")
        reason = (
            f"The discharging duct ({duct.name}) could not be cannulated; no contrast was "
            "given (about 5 % of cannulations fail, clinical.md §1.5)."
        )
        return _finish(record, clock, ProcedureOutcome.INCOMPLETE_CANNULATION_FAILED, reason), None

    clock.add(
        Step.CANNULATE,
        f"{tool} on a {cannula.syringe_ml:g} mL syringe: orifice {duct.name} cannulated.",
    )
    if settings.flush:
        clock.add(Step.FLUSH, "Line flushed with contrast to clear air bubbles.")
    fill = fill_ducts(
        phantom.tree(duct.system),
        settings.volume_ml,
        flushed=settings.flush,
        rate_ml_per_min=settings.rate_ml_per_min,
        concentration_mgi_per_ml=agent.concentration_mgi_per_ml,
        stop_when_full=settings.stop_at_fullness,
        rng=streams["fill"],
    )
    record.update(agent=agent, injected_ml=round(float(fill.injected_ml), 4))
    stopped = ""
    if fill.injected_ml < settings.volume_ml - 1e-9:
        stopped = f" (of {settings.volume_ml:g} mL planned: stopped at fullness)"
    clock.add(
        Step.INJECT,
        f"{fill.injected_ml:.2f} mL of {agent.product} ({agent.id})"
        f"{stopped} at "
        f"{settings.rate_ml_per_min:g} mL/min: {fill.held_ml:.2f} mL held in the ducts, "
        f"{fill.extravasated_ml:.2f} mL extravasated, {fill.refluxed_ml:.2f} mL refluxed.",
        seconds=60.0 * float(fill.injected_ml) / settings.rate_ml_per_min,
    )
    motion = streams["motion"].random(len(settings.views))
    views = []
    for view, u in zip(settings.views, motion, strict=True):
        moved = settings.patient_moved.get(view, bool(u < settings.motion_probability))
        start = clock.t
        magnified = "magnified " if settings.magnification else ""
        clock.add(
            Step.VIEW,
            f"{laterality.value} {view.value} {magnified}view, patient {settings.position.value}"
            + (": the patient moved during the exposure." if moved else "."),
        )
        views.append(
            ViewRecord(
                view=view,
                laterality=laterality,
                magnification=settings.magnification,
                position=settings.position,
                patient_moved=moved,
                start_s=start,
            )
        )
    record["views"] = views
    record["complications"] = assess_complications(
        fill,
        vasovagal_probability=settings.vasovagal_probability,
        contrast_reaction_probability=settings.contrast_reaction_probability,
        rng=streams["complications"],
    )
    record["fill"] = _json_ready(fill.summary())
    clock.add(Step.REMOVE_CANNULA, "Cannula removed; pad placed over the nipple.")
    clock.add(Step.AFTERCARE, "Aftercare explained and given in writing.")
    kinds = ", ".join(c.kind.value.replace("_", " ") for c in record["complications"])
    reason = f"Ductogram of the {duct.name} duct: {len(views)} view{'s' if len(views) != 1 else ''}"
    reason += f" taken; complications: {kinds}." if kinds else " taken, no complications."
    return _finish(record, clock, ProcedureOutcome.COMPLETED, reason), fill
