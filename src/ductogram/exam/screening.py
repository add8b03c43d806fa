"""Screening before ductography: indications, contraindications, precautions, preparation.

The rules are data: a table (``ductogram/data/screening_rules.yaml``, read by
:func:`load_rules`) that a clinic can read and change. Each rule has an id, a condition over
the patient record and the visit, a decision, the action the team takes and the reason with
its source. :func:`screen` applies every rule to a patient, in table order, and returns a
:class:`Screening`: the decisions of the rules that apply, each with its reason, and the
overall outcome.

Condition language (no ``eval``): a clause ``{field, op, value}`` reads one field by its
dotted path and compares it with ``op`` in {eq, ne, in, not_in, gt, ge, lt, le, is_true,
is_false}; clauses combine with ``all`` and ``any``. Field paths, operators and values are
checked against the patient record's types when the table is loaded, so a typing error in a
clinic's table is found before any patient is screened. A field that is not recorded
(null) makes ``eq``, ``in``, the comparisons and ``is_true``/``is_false`` false, and ``ne``
and ``not_in`` true.

Outcome (:data:`OUTCOME_ORDER`): contraindicated if any rule says so; else not indicated
if no rule says indicated; else deferred if any rule says defer; else proceed.
"""

from __future__ import annotations

import functools
import os
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..core import DuctogramError, ParameterError
from ..core.seeding import RNGLike, as_generator
from .patient import Patient

__all__ = [
    "DEFAULT_RULES",
    "WARM_COMPRESS_SUCCESS_PROBABILITY",
    "Condition",
    "Decision",
    "DecisionKind",
    "Rule",
    "RuleError",
    "RulesFileError",
    "Screening",
    "ScreeningOutcome",
    "ScreeningRules",
    "VisitFacts",
    "load_rules",
    "parse_rules",
    "screen",
]

RULES_FORMAT = "ductogram.screening_rules"
RULES_VERSION = 1
DEFAULT_RULES = "screening_rules.yaml"  # in the package's data folder
# Share of patients without discharge on the day in whom a warm compress or massage brings
# it out. No figure was found (clinical.md §1.7 names the manoeuvre only) [estimate].
WARM_COMPRESS_SUCCESS_PROBABILITY = 0.5


class DecisionKind(StrEnum):
    """What a rule decides."""

    INDICATED = "indicated"
    NOT_INDICATED = "not_indicated"
    CONTRAINDICATED = "contraindicated"
    DEFER = "defer"
    PROCEED_WITH_PRECAUTION = "proceed_with_precaution"
    PREPARE = "prepare"


class ScreeningOutcome(StrEnum):
    """The result of screening as a whole."""

    PROCEED = "proceed"
    NOT_INDICATED = "not_indicated"
    CONTRAINDICATED = "contraindicated"
    DEFERRED = "deferred"


OUTCOME_ORDER = (
    ScreeningOutcome.CONTRAINDICATED,
    ScreeningOutcome.NOT_INDICATED,
    ScreeningOutcome.DEFERRED,
    ScreeningOutcome.PROCEED,
)


class RulesFileError(DuctogramError, ValueError):
    """A rules file cannot be read: missing, unreadable or not valid YAML."""


class RuleError(ParameterError):
    """A rules table is malformed; the message names the table, the rule and the field.

    Parameters
    ----------
    source : str
        Where the table comes from (a file name).
    rule : str or None
        The rule (``'deodorant_or_powder' (rules.14)``), None for the table itself.
    field : str
        Dotted name of the bad entry inside the rule (``when.all.0.op``).
    value : object
    expected : str
    """

    def __init__(
        self, source: str, rule: str | None, field: str, value: object, expected: str
    ) -> None:
        super().__init__(field, value, expected)
        self.source = source
        self.rule = rule
        where = f"screening rules {source}" + (f", rule {rule}" if rule else "")
        self.args = (f"{where}: {field} = {value!r}: expected {expected}",)

    def __reduce__(self) -> tuple:
        parts = (self.source, self.rule, self.field, self.value, self.expected)
        return type(self), parts, self.__dict__


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class _FieldType:
    kind: str  # "bool", "number", "enum", "str"
    nullable: bool = False
    choices: tuple[str, ...] = ()


def _field_type(annotation: Any) -> _FieldType | None:
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            base = _field_type(inner[0])
            if base is not None:
                return _FieldType(base.kind, True, base.choices)
        return None
    if annotation is bool:
        return _FieldType("bool")
    if annotation in (int, float):
        return _FieldType("number")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _FieldType("enum", choices=tuple(str(m.value) for m in annotation))
    if annotation is str:
        return _FieldType("str")
    return None


def _model_fields(model: type[BaseModel], prefix: str) -> dict[str, _FieldType]:
    out: dict[str, _FieldType] = {}
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_model_fields(ann, f"{prefix}{name}."))
            continue
        kind = _field_type(ann)
        if kind is not None:
            out[f"{prefix}{name}"] = kind
    return out


class VisitFacts(BaseModel):
    """Facts of the visit that the rules read as ``visit.*``."""

    model_config = ConfigDict(extra="forbid")

    shielding_available: bool = Field(True, description="abdominal shielding is at hand")
    warm_compress_works: bool | None = Field(
        None,
        description="a warm compress brought the discharge out; null when not needed "
        "(discharge present)",
    )


FIELDS: dict[str, _FieldType] = {
    **_model_fields(Patient, "patient."),
    **_model_fields(VisitFacts, "visit."),
}

_VALUE_OPS = {"eq", "ne", "in", "not_in", "gt", "ge", "lt", "le"}
_FLAG_OPS = {"is_true", "is_false"}
OPERATORS = tuple(sorted(_VALUE_OPS | _FLAG_OPS))
_OPS_BY_KIND = {
    "bool": ("eq", "ne", "in", "not_in", "is_true", "is_false"),
    "number": ("eq", "ne", "in", "not_in", "gt", "ge", "lt", "le"),
    "enum": ("eq", "ne", "in", "not_in"),
    "str": ("eq", "ne", "in", "not_in"),
}


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """A condition of the rules language: a clause, or ``all``/``any`` of conditions.

    Build with :meth:`parse`; evaluate with :meth:`holds`.
    """

    combine: str | None = None  # "all", "any" or None for a clause
    items: tuple[Condition, ...] = ()
    field: str = ""
    op: str = ""
    value: Any = None

    def holds(self, context: Mapping[str, Any]) -> bool:
        """Whether the condition is true for ``context`` (``{"patient": ..., "visit": ...}``)."""
        if self.combine == "all":
            return all(c.holds(context) for c in self.items)
        if self.combine == "any":
            return any(c.holds(context) for c in self.items)
        return _compare(self.op, _resolve(context, self.field), self.value)

    def fields(self) -> list[str]:
        """Field paths the condition reads, in order, each once."""
        if self.combine is None:
            return [self.field]
        seen: list[str] = []
        for c in self.items:
            seen.extend(f for f in c.fields() if f not in seen)
        return seen

    @classmethod
    def parse(cls, data: Any, *, where: str = "when", error=None) -> Condition:
        """Parse and type-check a condition (see the module docstring).

        ``error(field, value, expected)`` builds the exception raised for a bad entry.
        """
        fail = error or (lambda f, v, e: ParameterError(f, v, e))
        if not isinstance(data, Mapping):
            raise fail(where, data, "a clause {field, op, value} or {all: [...]} / {any: [...]}")
        combos = [k for k in ("all", "any") if k in data]
        if combos:
            if len(data) != 1:
                extra = sorted(set(data) - {combos[0]})
                raise fail(f"{where}.{extra[0]}", data[extra[0]], f"nothing beside {combos[0]}")
            key = combos[0]
            items = data[key]
            if not isinstance(items, list):
                raise fail(f"{where}.{key}", items, "a list of conditions")
            return cls(
                combine=key,
                items=tuple(
                    cls.parse(item, where=f"{where}.{key}.{k}", error=fail)
                    for k, item in enumerate(items)
                ),
            )
        unknown = sorted(set(data) - {"field", "op", "value"})
        if unknown:
            raise fail(
                f"{where}.{unknown[0]}",
                data[unknown[0]],
                "a known key of a clause (field, op, value) or all/any",
            )
        field = data.get("field")
        if field not in FIELDS:
            raise fail(
                f"{where}.field", field, f"a known field (one of: {', '.join(sorted(FIELDS))})"
            )
        op = data.get("op")
        if op not in OPERATORS:
            raise fail(f"{where}.op", op, f"an operator (one of: {', '.join(OPERATORS)})")
        ftype = FIELDS[field]
        fits = _OPS_BY_KIND[ftype.kind]
        if op not in fits:
            raise fail(
                f"{where}.op",
                op,
                f"an operator for the {ftype.kind} field {field}: one of {', '.join(fits)}",
            )
        if op in _FLAG_OPS:
            if "value" in data:
                raise fail(f"{where}.value", data["value"], f"no value with op {op}")
            return cls(field=field, op=op)
        if "value" not in data:
            raise fail(f"{where}.value", None, f"a value to compare {field} with ({op})")
        value = data["value"]
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                raise fail(f"{where}.value", value, f"a non-empty list for op {op}")
            for k, item in enumerate(value):
                _check_value(fail, f"{where}.value.{k}", item, ftype, field)
            value = tuple(value)
        else:
            _check_value(fail, f"{where}.value", value, ftype, field)
        return cls(field=field, op=op, value=value)


def _check_value(fail, where: str, value: Any, ftype: _FieldType, field: str) -> None:
    if ftype.kind == "enum":
        if not isinstance(value, str) or value not in ftype.choices:
            hint = (
                ' (quote "yes" and "no": YAML reads them as booleans)'
                if isinstance(value, bool)
                else ""
            )
            raise fail(where, value, f"a value of {field}: one of {', '.join(ftype.choices)}{hint}")
    elif ftype.kind == "bool":
        if not isinstance(value, bool):
            raise fail(where, value, f"true or false ({field} is a yes/no field)")
    elif ftype.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(where, value, f"a number ({field} is numeric)")
    elif not isinstance(value, str):
        raise fail(where, value, f"a string ({field} is text)")


def _resolve(context: Mapping[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _compare(op: str, actual: Any, value: Any) -> bool:
    if op == "is_true":
        return actual is True
    if op == "is_false":
        return actual is False
    if actual is None:
        return op in ("ne", "not_in")
    if op == "eq":
        return actual == value
    if op == "ne":
        return actual != value
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    return {
        "gt": actual > value,
        "ge": actual >= value,
        "lt": actual < value,
        "le": actual <= value,
    }[op]


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One row of the rules table (see the module docstring and the YAML file's header)."""

    id: str
    title: str
    when: Condition
    decision: DecisionKind
    action: str
    reason: str
    source: str
    minutes: tuple[float, float] | None = None


@dataclass(frozen=True)
class ScreeningRules:
    """A validated rules table: its rules in order, and where it came from."""

    rules: tuple[Rule, ...]
    source: str
    version: int = RULES_VERSION

    def __getitem__(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        known = ", ".join(r.id for r in self.rules)
        raise KeyError(f"no rule {rule_id!r} in {self.source} (rules: {known})")

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


_RULE_KEYS = ("id", "title", "when", "decision", "action", "reason", "source")
_OPTIONAL_KEYS = ("minutes",)
MAX_ACTION_MINUTES = 120.0


def parse_rules(data: Any, *, source: str = "<rules>") -> ScreeningRules:
    """Validate a rules table (the mapping read from a rules file).

    Parameters
    ----------
    data : mapping
        ``{format: ductogram.screening_rules, version: 1, rules: [...]}``.
    source : str
        Name of the table for messages (a file name).

    Returns
    -------
    ScreeningRules

    Raises
    ------
    RuleError
        Naming the table, the rule (id and position) and the bad field, its value and what
        is allowed.

    Examples
    --------
    >>> table = parse_rules({"format": "ductogram.screening_rules", "version": 1, "rules": [
    ...     {"id": "r", "title": "t", "decision": "prepare", "action": "a", "reason": "r",
    ...      "source": "s", "when": {"field": "patient.lactating", "op": "is_yes"}}]})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ductogram.exam.screening.RuleError: screening rules <rules>, rule 'r' (rules.0): when.op = ...
    """

    def table_error(field, value, expected):
        return RuleError(source, None, field, value, expected)

    if not isinstance(data, Mapping):
        raise table_error("rules file", type(data).__name__, "a mapping with format and rules")
    unknown = sorted(set(data) - {"format", "version", "rules"})
    if unknown:
        raise table_error(unknown[0], data[unknown[0]], "a known key (format, version, rules)")
    if data.get("format") != RULES_FORMAT:
        raise table_error("format", data.get("format"), repr(RULES_FORMAT))
    if data.get("version") != RULES_VERSION:
        raise table_error("version", data.get("version"), str(RULES_VERSION))
    rows = data.get("rules")
    if not isinstance(rows, list) or not rows:
        raise table_error("rules", rows, "a non-empty list of rules")
    rules: list[Rule] = []
    for k, row in enumerate(rows):
        label = f"rules.{k}"
        if isinstance(row, Mapping) and isinstance(row.get("id"), str):
            label = f"{row['id']!r} ({label})"

        def fail(field, value, expected, _label=label):
            return RuleError(source, _label, field, value, expected)

        if not isinstance(row, Mapping):
            raise fail("rule", row, "a mapping of " + ", ".join(_RULE_KEYS))
        unknown = sorted(set(row) - set(_RULE_KEYS) - set(_OPTIONAL_KEYS))
        if unknown:
            keys = ", ".join(_RULE_KEYS + _OPTIONAL_KEYS)
            raise fail(unknown[0], row[unknown[0]], f"a known key ({keys})")
        for key in _RULE_KEYS:
            if key not in row:
                raise fail(key, None, "a value (this key is required)")
        rule_id = row["id"]
        if not isinstance(rule_id, str) or not rule_id.isidentifier():
            raise fail("id", rule_id, "a name of letters, digits and underscores")
        if rule_id in (r.id for r in rules):
            raise fail("id", rule_id, "an id not used by an earlier rule")
        for key in ("title", "action", "reason", "source"):
            if not isinstance(row[key], str) or not row[key].strip():
                raise fail(key, row[key], "non-empty text")
        try:
            decision = DecisionKind(row["decision"])
        except ValueError:
            raise fail(
                "decision", row["decision"], f"one of {', '.join(d.value for d in DecisionKind)}"
            ) from None
        when = Condition.parse(row["when"], where="when", error=fail)
        minutes = row.get("minutes")
        if minutes is not None:
            ok = (
                isinstance(minutes, list)
                and len(minutes) == 2
                and all(isinstance(m, int | float) and not isinstance(m, bool) for m in minutes)
                and 0 <= minutes[0] <= minutes[1] <= MAX_ACTION_MINUTES
            )
            if not ok:
                raise fail(
                    "minutes",
                    minutes,
                    f"[low, high] with 0 <= low <= high <= {MAX_ACTION_MINUTES:g} (minutes)",
                )
            minutes = (float(minutes[0]), float(minutes[1]))
        rules.append(
            Rule(
                id=rule_id,
                title=row["title"].strip(),
                when=when,
                decision=decision,
                action=" ".join(row["action"].split()),
                reason=" ".join(row["reason"].split()),
                source=" ".join(row["source"].split()),
                minutes=minutes,
            )
        )
    return ScreeningRules(rules=tuple(rules), source=source, version=RULES_VERSION)


def load_rules(path: str | os.PathLike[str] | None = None) -> ScreeningRules:
    """Read and validate a rules table.

    Parameters
    ----------
    path : str or path-like or None
        A YAML (or JSON) rules file; None for the table shipped with ductogram
        (``ductogram/data/screening_rules.yaml``).

    Returns
    -------
    ScreeningRules

    Raises
    ------
    RulesFileError
        If the file is missing, unreadable or not valid YAML.
    RuleError
        If a rule is malformed (the message names the rule and the field).

    Examples
    --------
    >>> table = load_rules()
    >>> table.ids[:3]
    ['pathologic_discharge', 'abnormal_cytology', 'physiologic_pattern']
    """
    if path is None:
        return _shipped_rules()
    file = Path(path)
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RulesFileError(f"rules file {name!r} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesFileError(f"rules file {name!r} cannot be read: {exc}") from exc
    return _parse_text(text, name)


@functools.cache
def _shipped_rules() -> ScreeningRules:
    """The shipped table, read once (a :class:`ScreeningRules` is immutable)."""
    resource = resources.files("ductogram") / "data" / DEFAULT_RULES
    return _parse_text(resource.read_text(encoding="utf-8"), f"ductogram/data/{DEFAULT_RULES}")


def _parse_text(text: str, name: str) -> ScreeningRules:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RulesFileError(f"rules file {name!r} is not valid YAML: {problem}{where}") from exc
    return parse_rules(data, source=name)


# --------------------------------------------------------------------------- screening


class Decision(BaseModel):
    """The decision of one rule that applies, with its reason."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(description="rule id")
    title: str
    decision: DecisionKind
    action: str
    reason: str
    source: str
    facts: dict[str, Any] = Field(
        default_factory=dict, description="the values of the fields the rule read"
    )
    minutes: list[float] | None = Field(
        None, description="time the action takes (low, high), if the table gives it"
    )


class Screening(BaseModel):
    """The result of screening: the outcome and the decisions, in rule order."""

    model_config = ConfigDict(extra="forbid")

    outcome: ScreeningOutcome
    outcome_reason: str = Field(description="why, from the deciding rules' reasons")
    decisions: list[Decision]
    visit: VisitFacts
    rules_source: str = Field(description="the rules table used")

    def decision(self, rule_id: str) -> Decision | None:
        """The decision of rule ``rule_id``, None if it did not apply."""
        return next((d for d in self.decisions if d.rule == rule_id), None)

    def of_kind(self, kind: DecisionKind | str) -> list[Decision]:
        """Decisions of one kind, in rule order."""
        kind = DecisionKind(kind)
        return [d for d in self.decisions if d.decision == kind]

    @property
    def precautions(self) -> list[Decision]:
        return self.of_kind(DecisionKind.PROCEED_WITH_PRECAUTION)

    @property
    def preparations(self) -> list[Decision]:
        return self.of_kind(DecisionKind.PREPARE)


def _outcome(decisions: Sequence[Decision]) -> tuple[ScreeningOutcome, str]:
    kinds = {d.decision for d in decisions}

    def reasons(kind: DecisionKind) -> str:
        return " ".join(d.reason for d in decisions if d.decision == kind)

    if DecisionKind.CONTRAINDICATED in kinds:
        return ScreeningOutcome.CONTRAINDICATED, reasons(DecisionKind.CONTRAINDICATED)
    if DecisionKind.INDICATED not in kinds:
        why = reasons(DecisionKind.NOT_INDICATED) or "No indication rule applies."
        return ScreeningOutcome.NOT_INDICATED, why
    if DecisionKind.DEFER in kinds:
        return ScreeningOutcome.DEFERRED, reasons(DecisionKind.DEFER)
    return ScreeningOutcome.PROCEED, reasons(DecisionKind.INDICATED)


def screen(
    patient: Patient | Mapping[str, Any],
    *,
    rules: ScreeningRules | str | os.PathLike[str] | None = None,
    shielding_available: bool = True,
    warm_compress_works: bool | None = None,
    warm_compress_probability: float = WARM_COMPRESS_SUCCESS_PROBABILITY,
    rng: RNGLike = None,
) -> Screening:
    """Screen a patient for ductography with a rules table.

    Parameters
    ----------
    patient : Patient or mapping
    rules : ScreeningRules or path or None
        The table (or a rules file); None for the shipped table (:func:`load_rules`).
    shielding_available : bool
        Whether abdominal shielding is at hand (``visit.shielding_available``).
    warm_compress_works : bool or None
        For a patient without discharge on the day: whether a warm compress brings it out.
        None draws it with ``rng`` (probability ``warm_compress_probability``). Ignored,
        and recorded as null, when there is discharge.
    warm_compress_probability : float
        In [0, 1]; default :data:`WARM_COMPRESS_SUCCESS_PROBABILITY` (0.5 [estimate]).
    rng : numpy.random.Generator or int or None
        Used only to draw ``warm_compress_works``.

    Returns
    -------
    Screening
        The outcome (:data:`OUTCOME_ORDER`), and the decision of every rule that applies,
        in rule order, each with its action, reason and source.

    Raises
    ------
    ParameterError
        If the patient record is invalid, or ``warm_compress_probability`` is outside [0, 1].
    RulesFileError, RuleError
        If ``rules`` names a file that cannot be read or is malformed.

    Examples
    --------
    >>> s = screen({"id": "SYN-1", "age_years": 45, "deodorant_or_powder": True,
    ...     "discharge": {"spontaneous": True, "laterality": "R", "ducts": "single",
    ...                   "colour": "bloody"}})
    >>> s.outcome.value
    'proceed'
    >>> [d.rule for d in s.decisions]
    ['pathologic_discharge', 'deodorant_or_powder', 'cytology_sample']
    >>> s.decision("deodorant_or_powder").action
    'Remove deodorant and powder from the breast and axilla before imaging.'
    """
    patient = Patient.parse(patient, prefix="patient")
    if not 0.0 <= warm_compress_probability <= 1.0:
        raise ParameterError(
            "warm_compress_probability", warm_compress_probability, "a probability in [0, 1]"
        )
    table = rules if isinstance(rules, ScreeningRules) else load_rules(rules)
    compress: bool | None = None
    if not patient.discharge.present_today:
        if warm_compress_works is None:
            compress = bool(as_generator(rng).random() < warm_compress_probability)
        else:
            compress = bool(warm_compress_works)
    visit = VisitFacts(shielding_available=bool(shielding_available), warm_compress_works=compress)
    context = {"patient": patient.model_dump(mode="json"), "visit": visit.model_dump(mode="json")}
    decisions = [
        Decision(
            rule=rule.id,
            title=rule.title,
            decision=rule.decision,
            action=rule.action,
            reason=rule.reason,
            source=rule.source,
            facts={f: _resolve(context, f) for f in rule.when.fields()},
            minutes=list(rule.minutes) if rule.minutes else None,
        )
        for rule in table.rules
        if rule.when.holds(context)
    ]
    outcome, why = _outcome(decisions)
    return Screening(
        outcome=outcome,
        outcome_reason=why,
        decisions=decisions,
        visit=visit,
        rules_source=table.source,
    )
