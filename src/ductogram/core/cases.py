"""Case files: the YAML or JSON mappings that describe a phantom or a whole exam."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import DuctogramError

__all__ = ["CaseFileError", "load_case"]


class CaseFileError(DuctogramError, ValueError):
    """A case file cannot be read: missing, malformed, or not a mapping."""


def load_case(path: Path) -> dict[str, Any]:
    """Read a case file: a YAML or JSON mapping of phantom parameters.

    Parameters
    ----------
    path : pathlib.Path
        ``*.json`` is read as JSON, anything else as YAML (which also reads JSON).

    Returns
    -------
    dict
        The mapping, not yet validated (see :func:`merge_parameters`).

    Raises
    ------
    CaseFileError
        If the file is missing or unreadable, is not valid YAML or JSON, or does not
        hold a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CaseFileError(f"case file {str(path)!r} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError(f"case file {str(path)!r} cannot be read: {exc}") from exc
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise CaseFileError(
            f"case file {str(path)!r} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from exc
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CaseFileError(f"case file {str(path)!r} is not valid YAML: {problem}{where}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CaseFileError(
            f"case file {str(path)!r} must hold a mapping of parameters "
            f"(field: value), got a {type(data).__name__}"
        )
    return data
