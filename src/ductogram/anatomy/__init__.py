"""The breast phantom: breast shape and compression, lobes, duct systems, lesions, truth.

Positions are in the breast frame (mm): origin at the nipple base, x towards the chest
wall, y superior, z lateral (see :mod:`ductogram.anatomy.breast`).
"""

from .breast import Breast
from .compression import Compression, compress
from .ducts import DuctTree
from .lesions import Ellipsoid, Lesion, LesionKind, LesionRequest, place_lesion
from .lobes import LobeLayout, make_lobe_layout
from .parameters import LesionSpec, PhantomParameters
from .phantom import Phantom, ResolvedParameters, generate_phantom
from .topology import (
    Branches,
    branch_angles_deg,
    branches,
    murray_residuals,
    ramification_counts,
    ramification_matrix,
    strahler_orders,
    tortuosity,
)
from .truth import (
    branch_graph,
    phantom_to_dict,
    tree_from_dict,
    tree_to_dict,
    tree_to_networkx,
    write_phantom,
)

__all__ = [
    "Branches",
    "Breast",
    "Compression",
    "DuctTree",
    "Ellipsoid",
    "Lesion",
    "LesionKind",
    "LesionRequest",
    "LesionSpec",
    "LobeLayout",
    "Phantom",
    "PhantomParameters",
    "ResolvedParameters",
    "branch_angles_deg",
    "branch_graph",
    "branches",
    "compress",
    "generate_phantom",
    "make_lobe_layout",
    "murray_residuals",
    "phantom_to_dict",
    "place_lesion",
    "ramification_counts",
    "ramification_matrix",
    "strahler_orders",
    "tortuosity",
    "tree_from_dict",
    "tree_to_dict",
    "tree_to_networkx",
    "write_phantom",
]
