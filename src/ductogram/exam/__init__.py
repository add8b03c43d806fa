"""The exam: screening, preparation, cannulation, contrast filling, complications, aftercare.

:func:`run_exam` runs one exam on a phantom and returns its record (:class:`Procedure`) and
the contrast fill (:class:`ContrastFill`); each stage can also be called alone:
:func:`screen` (rules table :func:`load_rules`), :func:`record_consent`,
:func:`fill_ducts`, :func:`plan_aftercare`. :func:`write_exam` writes the record.
"""

from .aftercare import Aftercare, AftercareTopic, Instruction, plan_aftercare
from .agents import AGENTS, ContrastAgent, OsmolalityClass, check_volume_ml, get_agent
from .complications import Complication, ComplicationKind, assess_complications
from .consent import Consent, ConsentAnswer, Risk, RiskKind, record_consent
from .filling import Bubble, ContrastFill, Extravasation, fill_ducts
from .outcome import ProcedureOutcome
from .patient import (
    Cytology,
    Discharge,
    DischargeColour,
    DischargeSide,
    DuctCount,
    Patient,
    PregnancyStatus,
    Sex,
)
from .procedure import (
    Cannula,
    DuctChoice,
    ExamSettings,
    LogEntry,
    PatientPosition,
    Procedure,
    Step,
    ViewRecord,
    run_exam,
)
from .record import ExamCase, procedure_markdown, write_exam
from .screening import (
    Decision,
    DecisionKind,
    RuleError,
    RulesFileError,
    Screening,
    ScreeningOutcome,
    ScreeningRules,
    load_rules,
    screen,
)

__all__ = [
    "AGENTS",
    "Aftercare",
    "AftercareTopic",
    "Bubble",
    "Cannula",
    "Complication",
    "ComplicationKind",
    "Consent",
    "ConsentAnswer",
    "ContrastAgent",
    "ContrastFill",
    "Cytology",
    "Decision",
    "DecisionKind",
    "Discharge",
    "DischargeColour",
    "DischargeSide",
    "DuctChoice",
    "DuctCount",
    "ExamCase",
    "ExamSettings",
    "Extravasation",
    "Instruction",
    "LogEntry",
    "OsmolalityClass",
    "Patient",
    "PatientPosition",
    "PregnancyStatus",
    "Procedure",
    "ProcedureOutcome",
    "Risk",
    "RiskKind",
    "RuleError",
    "RulesFileError",
    "Screening",
    "ScreeningOutcome",
    "ScreeningRules",
    "Sex",
    "Step",
    "ViewRecord",
    "assess_complications",
    "check_volume_ml",
    "fill_ducts",
    "get_agent",
    "load_rules",
    "plan_aftercare",
    "procedure_markdown",
    "record_consent",
    "run_exam",
    "screen",
    "write_exam",
]
