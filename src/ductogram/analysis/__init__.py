"""Reading a ductogram: the breast, the contrast-filled duct tree, its graph and calibres.

Works on any :class:`ductogram.core.Image`, simulated or real. It never imports the
simulator (``ductogram.anatomy``, ``ductogram.exam``, ``ductogram.imaging``).

- :func:`read_view`: one view → :class:`Reading` (the tree graph, the mask, how sure);
- :func:`build_tree`: a duct mask → :class:`DuctTree` (segments, lengths, calibres,
  generations, Horton–Strahler orders, R-matrix);
- :func:`draw_overlay`: the tree over its image, as a PNG;
- :func:`find_landmarks`, :func:`duct_scale` (breast, nipple, cannula tip; the intensity
  scale) and :func:`segment_ducts` (the duct mask), the steps of the reading.
"""

from __future__ import annotations

import importlib

from .graph import DuctTree, build_tree
from .overlay import draw_overlay
from .reading import Reading, read_view

__all__ = [
    "DuctTree",
    "Landmarks",
    "Reading",
    "Segmentation",
    "build_tree",
    "draw_overlay",
    "duct_scale",
    "find_landmarks",
    "read_view",
    "segment_ducts",
]

_LAZY = {
    "Landmarks": "landmarks",
    "duct_scale": "landmarks",
    "find_landmarks": "landmarks",
    "Segmentation": "segmentation",
    "segment_ducts": "segmentation",
}


def __getattr__(name: str):
    # The steps of the reading load on first use.
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
