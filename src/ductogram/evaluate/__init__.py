"""Evaluation of readings against the simulator's truth and against real annotated images.

- :func:`evaluate` (``ductogram evaluate``): simulate a seeded mix of varied cases, read
  them, score the readings; :func:`draw_cases`, :func:`score_reading` are its steps;
- :func:`dice`, :func:`cl_dice`: overlap of duct masks;
- :func:`match_points`: one-to-one matching of branch and end points within a distance;
  :func:`segment_tree_points`: the branch points and free ends of a tree of segments.
"""

from __future__ import annotations

from .harness import CaseSpec, draw_cases, evaluate, score_reading
from .metrics import cl_dice, dice
from .points import PointMatch, TreePoints, match_points, segment_tree_points

__all__ = [
    "CaseSpec",
    "PointMatch",
    "TreePoints",
    "cl_dice",
    "dice",
    "draw_cases",
    "evaluate",
    "match_points",
    "score_reading",
    "segment_tree_points",
]
