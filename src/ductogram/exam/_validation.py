"""One clear :class:`~ductogram.core.ParameterError` from a pydantic validation error.

Exam records (patient, exam settings) come from case files; a bad one must give one line
that names the field as written in the case file (``patient.discharge.colour``), the value
and what is allowed.
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..core import ParameterError

M = TypeVar("M", bound=BaseModel)


class _Missing:
    def __repr__(self) -> str:
        return "missing"


MISSING = _Missing()


def validate_model(model: type[M], data: Any, *, prefix: str = "") -> M:
    """Validate ``data`` into ``model``, raising one :class:`ParameterError`.

    Parameters
    ----------
    model : type of pydantic.BaseModel
    data : object
        A mapping (from a case file), or an instance of ``model`` (returned unchanged).
    prefix : str, optional
        Dotted name of the section the data comes from (``"patient"``), put before the
        field names in the message.

    Raises
    ------
    ParameterError
        Naming the first bad field (with ``prefix``), its value and what is allowed.
    """
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise parameter_error(exc, model, prefix=prefix) from exc


def _join(prefix: str, field: str) -> str:
    return ".".join(p for p in (prefix, field) if p)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``X``, ``X | None``, ``list[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _field_at(model: type[BaseModel], loc: tuple[Any, ...]):
    """The model that holds the last named part of ``loc``, and that part's FieldInfo."""
    target: type[BaseModel] | None = model
    holder, info = model, None
    for part in loc:
        if isinstance(part, int) or target is None:
            continue
        fields = target.model_fields
        if part not in fields:
            return target, None
        holder, info = target, fields[part]
        target = _nested_model(info.annotation)
    return holder, info


def _range(name: str, info) -> str | None:
    low = high = None
    low_open = high_open = False
    for meta in info.metadata:
        if getattr(meta, "ge", None) is not None:
            low = meta.ge
        if getattr(meta, "gt", None) is not None:
            low, low_open = meta.gt, True
        if getattr(meta, "le", None) is not None:
            high = meta.le
        if getattr(meta, "lt", None) is not None:
            high, high_open = meta.lt, True
    if low is None or high is None:
        return None
    unit = ""
    for suffix, text in (("_ml", " mL"), ("_years", " years"), ("_per_min", "/min")):
        if name.endswith(suffix):
            unit = text
    return (
        f"a value in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}{unit}"
    )


def parameter_error(exc: ValidationError, model: type[BaseModel], *, prefix: str = ""):
    """The first problem of a pydantic error, as a :class:`ParameterError`."""
    err = exc.errors()[0]
    loc = tuple(err.get("loc", ()))
    field = _join(prefix, ".".join(str(p) for p in loc))
    original = (err.get("ctx") or {}).get("error")
    if isinstance(original, ParameterError):  # raised by one of our own validators
        # A field validator names its own field, a model validator the field it blames.
        same = bool(loc) and str(loc[-1]) == original.field
        inner = (
            ".".join(str(p) for p in loc)
            if same
            else _join(".".join(str(p) for p in loc), original.field)
        )
        return ParameterError(_join(prefix, inner), original.value, original.expected)
    kind = err.get("type")
    if kind == "extra_forbidden":
        holder: type[BaseModel] = model
        if len(loc) > 1:
            # loc[:-1] names the nested field; the unknown key belongs to its model.
            _, info = _field_at(model, loc[:-1])
            nested = _nested_model(info.annotation) if info is not None else None
            holder = nested or holder
        known = ", ".join(holder.model_fields)
        return ParameterError(field, err.get("input"), f"a known field (one of: {known})")
    if kind == "missing":
        return ParameterError(field, MISSING, "a value (this field is required)")
    _, info = _field_at(model, loc)
    msg = err.get("msg", "invalid value").removeprefix("Value error, ")
    names = [p for p in loc if isinstance(p, str)]
    allowed = _range(names[-1], info) if info is not None and names else None
    if allowed is not None and kind in {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
    }:
        return ParameterError(field, err.get("input"), allowed)
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        return ParameterError(field, err.get("input"), f"a string matching {pattern}")
    if kind == "enum":
        expected = (err.get("ctx") or {}).get("expected", msg)
        return ParameterError(field, err.get("input"), f"one of {expected}")
    return ParameterError(field, err.get("input"), msg[:1].lower() + msg[1:])
