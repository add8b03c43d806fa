"""Small shared types used by every layer: errors, enums, random generators."""

from .enums import Laterality, ViewPosition
from .errors import DuctogramError, ParameterError
from .image import Image, PixelKind
from .seeding import as_generator

__all__ = [
    "DuctogramError",
    "Image",
    "Laterality",
    "ParameterError",
    "PixelKind",
    "ViewPosition",
    "as_generator",
]
