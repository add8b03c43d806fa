"""Exceptions raised by ductogram.

Every message names the bad value and what was expected, e.g.
``lobes = 0: expected an integer in [1, 24]``.
"""

from __future__ import annotations


class DuctogramError(Exception):
    """Base class of the errors ductogram raises on its own account."""


class ParameterError(DuctogramError, ValueError):
    """A parameter (from a flag, a case file or a call) is out of range or inconsistent.

    Parameters
    ----------
    field : str
        Dotted name of the parameter, as written in a case file (``lesions.0.size_mm``).
    value : object
        The value that was given.
    expected : str
        What would have been accepted (a range with its unit, a list of choices, ...).
    """

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} = {value!r}: expected {expected}")

    def __reduce__(self) -> tuple:
        # Rebuilt from its three parts (the default would pass the message alone), with
        # its attributes (notes included), so that it crosses a process pool intact.
        return type(self), (self.field, self.value, self.expected), self.__dict__
