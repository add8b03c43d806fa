"""Intraductal lesions and what they do to the lumen.

Placement and lumen changes are filled in by the phantom generator; this module defines the
records (:class:`Lesion`, :class:`Ellipsoid`) every later layer reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class LesionKind(str, Enum):
    """Kinds of ductal lesion (../shared/reference/clinical.md §2)."""

    PAPILLOMA = "papilloma"
    MULTIPLE_PAPILLOMAS = "multiple_papillomas"
    CARCINOMA = "carcinoma"
    ECTASIA = "ectasia"
    CYST = "cyst"
    STRICTURE = "stricture"


@dataclass(frozen=True, eq=False)
class Ellipsoid:
    """A solid body in the breast frame (mm).

    ``rotation`` (3, 3) has the ellipsoid's axes as columns; ``semi_axes_mm`` (3,) their
    half-lengths. A point p is inside when ``|R^T (p - c) / a| <= 1``.
    """

    centre_mm: np.ndarray
    semi_axes_mm: np.ndarray
    rotation: np.ndarray

    def __post_init__(self) -> None:
        for name, shape in (("centre_mm", (3,)), ("semi_axes_mm", (3,)), ("rotation", (3, 3))):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}: expected {shape}")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def contains(self, points_mm: np.ndarray) -> np.ndarray:
        """True for points (…, 3) inside the ellipsoid."""
        local = (np.asarray(points_mm, dtype=float) - self.centre_mm) @ self.rotation
        return np.sum((local / self.semi_axes_mm) ** 2, axis=-1) <= 1.0

    @property
    def volume_ml(self) -> float:
        return float(4.0 / 3.0 * np.pi * np.prod(self.semi_axes_mm) / 1000.0)


@dataclass(frozen=True, eq=False)
class Lesion:
    """A lesion attached to the ducts of one system.

    Parameters
    ----------
    kind : LesionKind
    system : int
        Duct system (orifice index) the lesion sits in.
    segment : int
        Node index of the segment the lesion is attached to (its centre, or the start of
        its extent for a lesion that runs along the duct).
    centre_mm : (3,) array
        Representative position (breast frame).
    size_mm : float
        Largest dimension (mass diameter, or extent along the duct).
    obstructs : bool
        Whether the lesion blocks the flow of contrast beyond it.
    stop_node : int or None
        For an obstructing lesion, the node where the lumen closes: everything from this
        node downstream is beyond the obstruction.
    affected_nodes : (M,) int array
        Nodes whose lumen radius the lesion changed.
    radius_before_mm : (M,) float array
        Their radii before the change (the tree holds the radii after).
    masses : tuple of Ellipsoid
        Solid masses inside the lumen (papillomas, a carcinoma's intraluminal part): they
        displace contrast.
    cavities : tuple of Ellipsoid
        Spaces that fill with contrast through the duct (a cyst).
    description : str
        One line on what the lesion does to the lumen.
    """

    kind: LesionKind
    system: int
    segment: int
    centre_mm: np.ndarray
    size_mm: float
    obstructs: bool
    stop_node: int | None = None
    affected_nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    radius_before_mm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    masses: tuple[Ellipsoid, ...] = ()
    cavities: tuple[Ellipsoid, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LesionKind(self.kind))
        object.__setattr__(self, "centre_mm", np.asarray(self.centre_mm, dtype=float))
        object.__setattr__(
            self, "affected_nodes", np.asarray(self.affected_nodes, dtype=np.int64).reshape(-1)
        )
        object.__setattr__(
            self, "radius_before_mm", np.asarray(self.radius_before_mm, dtype=float).reshape(-1)
        )
        if len(self.affected_nodes) != len(self.radius_before_mm):
            raise ValueError(
                f"affected_nodes ({len(self.affected_nodes)}) and radius_before_mm "
                f"({len(self.radius_before_mm)}) must have the same length"
            )
