"""Small shared types used by every layer: errors, enums, random generators."""

from .enums import Laterality, ViewPosition
from .errors import DuctogramError, ParameterError
from .seeding import as_generator

__all__ = ["DuctogramError", "Laterality", "ParameterError", "ViewPosition", "as_generator"]
