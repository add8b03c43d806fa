"""How an exam ends: :class:`ProcedureOutcome`."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ProcedureOutcome"]


class ProcedureOutcome(StrEnum):
    """How a procedure ended. Every value but ``completed`` stops the exam at its step:

    - ``not_indicated``, ``contraindicated``, ``deferred``: at screening;
    - ``declined``: at consent;
    - ``incomplete_cannulation_failed``: at cannulation (about 5 % of attempts,
      clinical.md §1.5).
    """

    COMPLETED = "completed"
    INCOMPLETE_CANNULATION_FAILED = "incomplete_cannulation_failed"
    NOT_INDICATED = "not_indicated"
    CONTRAINDICATED = "contraindicated"
    DEFERRED = "deferred"
    DECLINED = "declined"
