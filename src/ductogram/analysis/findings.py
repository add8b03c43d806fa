"""Findings of one ductogram view: filling defects, cut-offs, narrowing, ectasia, cysts.

:func:`find_findings` looks at the duct tree of a :class:`~ductogram.analysis.reading.Reading`
and the intensities of its view (:func:`~ductogram.analysis.landmarks.duct_scale`) and
returns a list of :class:`Finding`, each with its code from DICOM CID 6057 "Ductography
Finding for Breast" (or SNOMED CT where CID 6057 takes it from there), its size, the
branch it sits on, its distance from the nipple and a confidence. The lexicon is the one
radiologists use (clinical.md §2.1); the codes are in one table, :data:`CODES`.

Method (image frame: row, col in pixels; sizes in mm at object scale, detector size
divided by the magnification). Along every segment of the tree two profiles are read at
each skeleton pixel: the lumen width ``w`` (the full width at half maximum of the
contrast across the duct, along the path's normal, from its crest within 1.5 pixels of
the path, divided by sqrt(3)/2 so that a round lumen gives its diameter; at most the duct
mask's width, as in :mod:`.graph`, plus 2 pixels; the mask's width where there is no
contrast to measure) and the central excess ``e`` (the duct-scale intensity over its local
background, a grey opening wider than any duct). A filled tube's central excess grows
with its calibre (the path length through the contrast). Each segment's baseline is the
median width and excess of the segment it leaves (the narrower half of itself at a root).
A FOR PRESENTATION view is read with the top of its display range expanded again
(:func:`~.landmarks.undo_display_shoulder`): display curves compress it, where the widest columns
of contrast, and the papillomas in them, lie.

- **Intraluminal filling defect** (a papilloma): a lucency inside the column of contrast
  (:func:`_lucencies`). On a grid of ``LUCENCY_PITCH_MM`` the excess is smoothed, thin
  lucent lines (noise, seams) are closed over ``LUCENCY_SEAM_MM``, and grey closings with
  discs ``LUCENCY_REACH_MM`` across fill every dip that contrast surrounds; the dip's
  depth is the closing less the excess. A candidate is a region at least
  ``LUCENCY_MIN_MM2`` in area that dips by at least ``LUCENCY_DEPTH`` of the tree's
  typical central excess (the median over its skeleton) while its floor still holds at
  least ``LUCENCY_FLOOR`` of it: contrast runs over and under the mass, so the floor of a
  filling defect is contrast, while the gaps between ducts (also surrounded by contrast)
  fall to the background. Dips within ``LUCENCY_ROOT_MM`` of the root are left out (the
  contrast pooled at the cannula's tip). Each candidate (:class:`Lucency`,
  :func:`lucency_candidates`) is measured: its floor, depth and area; the widening of
  its duct (the widest lumen next to it over the width of the duct feeding it, and over
  the same duct a little farther on: a mass widens its duct, an air bubble does not);
  its shape; where it lies on the tree (path length, generation, the duct's width, its
  distance to the centre line, the share of it inside the duct mask: the gaps between
  ducts lie off the mask); and the hand-made score ``S`` = floor x depth (up to 1) x
  sqrt(area in mm2, up to ``LUCENCY_AREA_CAP_MM2``) x (widening / ``DEFECT_WIDENING``,
  up to 1)², floor and depth in units of the typical excess. Its confidence is the
  probability that it is a mass, from :class:`DefectClassifier`, a logistic regression
  on those measures trained on simulated exams (``scripts/train_findings.py``; ranking
  the lucencies of its training exams, 5 folds by exam, it replaced ``S`` alone
  [measured: ROC AUC 0.942 against 0.895; exam-level, filling defects >= 3 mm found at
  0.25 false positives a view 0.849 against 0.830]). Two or more in one view are
  *multiple filling defects* (111426).
- **Air bubble** (the mimic, Slawson & Johnson 2001; clinical.md §2.1): the clear sites
  of the quality step's detector (:func:`~.quality.bubble_sites`: a short dip in a
  proximal duct that a sphere in the lumen explains, which takes a smaller share of the
  duct's cross-section than of its centre line, as a sphere does, while a seam takes the
  same share of both; weighed by :class:`~.quality.BubbleClassifier`). A filling defect
  on a bubble (within its radius and ``BUBBLE_VETO_MM``) in a duct not widened to
  ``BUBBLE_VETO_WIDENING`` is that bubble, reported as a bubble, not as a papilloma.
- **Abrupt duct termination** (cut-off): a free end of the tree where the duct is still
  wider than ``CUTOFF_MIN_MM`` and has not tapered (at least ``CUTOFF_TAPER`` of the
  segment's width before it: the column stops at an obstruction), inside the breast.
  Ends inside a cyst fill (confidence ``CYST_OVER_CUTOFF`` or more) are left out. The
  finding lies where the column stops (the mask's end along the path's last direction),
  not at the skeleton's tip, which stops about a radius short of it. Its confidence
  rises from 0 to 1 as the widest round lumen within ``CUTOFF_BULB_REACH_MM`` of that
  end (twice the mask's largest distance to its wall there) goes from
  ``CUTOFF_BULB_MIN_MM`` to ``CUTOFF_BULB_SURE_MM``: a papilloma that stops the column
  widens the duct before it into a bulb, while a duct that merely ends (the fill ran
  out, the tree was cut at a crossing) keeps its width. A central duct that stops dense with
  contrast is one too, whatever its bulb: an abrupt end of generation <=
  ``CUTOFF_FULL_GENERATION``, ``CUTOFF_FULL_REACH_MM`` from the root along the tree and
  at least ``CUTOFF_FULL_MIN_MM`` wide is as sure as its end's contrast (the median
  central excess: the contrast's thickness, which the lumen's width sets where it is
  filled) rises from ``CUTOFF_FULL_EXCESS[0]`` to ``CUTOFF_FULL_EXCESS[1]`` times the
  tree's typical one (which its many thin ducts set): the column fills a central duct
  before anything beyond it (``exam/filling.py``), so a fill that ran out stops in the
  thin ducts, and a wide central duct that stops was closed there (a stricture, a mass)
  and dilated before it under the injection, while an end that reads wide but faint is
  a path over tissue or a spur of the mask. Contrast that stops in a pool at
  the duct's opening, with no tree beyond (:attr:`~.reading.Reading.pooled`: a papilloma
  in the lactiferous sinus), is a cut-off where the pool ends (:func:`_pool_stop`), at
  confidence 0.5 for the narrowest pool read and 1 from ``POOL_SURE_MM`` wide. A free
  end that the width gates turn down is still a cut-off where its column stops in a
  bulb at least ``CUTOFF_FLARE_MM`` wide (the duct dilated before an obstruction flares
  into a cone, whose skeleton runs out into a corner and reads it narrow), its
  confidence rising from 0 there to 1 at ``CUTOFF_BULB_SURE_MM``; that finding lies at
  the bulb's centre (the widest round lumen), as the path's last direction in the cone
  is not the duct's. An end that passes the width gates but whose column stops within
  ``CUTOFF_OTHER_RADII`` radii of another segment's centre line is no cut-off: it stops
  in or against another duct's image (a spur of a wide duct's outline, or a duct that
  meets another in the projection and may go on behind it; so is a branch blocked where it
  leaves a wider duct, that close to it). A flared end is kept there: the cone's own
  outline has spurs.
- **Duct narrowing** (a stricture): read along each path from the root (the profiles of
  a chain of segments joined, so that a stricture where the read tree branches or breaks
  has its duct on either side), on the central ducts (generation at most
  ``NARROWING_MAX_GENERATION``, from ``NARROWING_ROOT_MM`` to ``NARROWING_REACH_MM``
  from the root along the tree, the duct on either side at least ``NARROWING_MIN_MM``
  wide, and filled: its central excess at least ``NARROWING_FILLED`` of the tree's
  typical one, which its thin ducts set), with the same duct on either side (the lesser
  side's central excess at least ``NARROWING_SIDE_BALANCE`` of the other's: not where a
  duct meets the cannula or runs into a branch), a place where the duct's contrast
  cross-section (the excess summed across it: the lumen's area, as the path through a
  round lumen is its chord) falls to a small share of the duct's on either side
  (``NARROWING_SIDE_MM``: the lesser of the medians over 2-5 mm before it and after it),
  while the width within 2 mm of it falls to at most ``NARROWING_WIDTH_RATIO`` of the
  duct's, and a thread of contrast goes through it (the central excess within 1 mm at
  least ``NARROWING_THREAD`` of the tree's typical: a path over tissue between two
  ducts, which the read tree bridged, has none), and the path keeps its course through
  it (turns by at most ``NARROWING_TURN_DEG`` from 2-5 mm before it to 2-5 mm after it:
  not a path that leaves one duct for another through a thin duct between them). The
  excess is summed over half the duct's width (its median over 10 mm of path) and 2
  pixels either side of the centre line, below 0 counted as 0, and smoothed over 3
  points (a drawn 1.6 mm duct narrowed to 0.6 mm, without noise, reads 0.16 of its
  cross-section against the lumen's 0.14; noise counted where it is positive adds more).
  The confidence falls from 1 at no contrast to 0.5 at ``NARROWING_AREA_RATIO`` and 0 at
  ``NARROWING_NONE``: the area drops as the square of the width, so a stricture that
  halves the lumen keeps a quarter of its contrast, while a crossing or a change of the
  background beside the duct moves the sum but not the width. The deepest place of a
  segment is its narrowing.
- **Wall irregularity** (caliber irregularity: saccules alternating with narrowings,
  clinical.md §2.1): along each read path from the root, the central excess (smoothed by
  ``IRREGULARITY_SMOOTH_MM``) dips at a narrowing between two saccules within
  ``IRREGULARITY_SIDE_MM``: the dip holds at most ``IRREGULARITY_DEPTH`` of the lesser
  saccule's excess and the width at most ``IRREGULARITY_WIDTH`` of its width, the
  saccules are full of contrast (``IRREGULARITY_SACCULE`` times the tree's typical duct)
  and the duct stays filled through the narrowing (``IRREGULARITY_FILLED``: a path that
  crosses tissue between ducts falls to nothing). ``IRREGULARITY_MIN_COUNT`` or more such
  narrowings, ``IRREGULARITY_SPACING_MM`` apart at least, within
  ``IRREGULARITY_STRETCH_MM`` of one path are one irregular stretch, its confidence from
  ``IRREGULARITY_CONFIDENCE``: under the count's, so that it counts when the other view
  shows it too (a crossing duct in one projection makes such dips too, rarely in both).
- **Duct ectasia**: a segment's calibre above 2 mm, or above 3 mm within
  ``AMPULLA_MM`` of the root (Radiopaedia, clinical.md §2.1), that holds at least
  ``ECTASIA_FILLED`` of the tree's typical central excess per mm of calibre (a filled
  duct's excess grows with its width; tissue the mask took in is wide but faint); sure
  when ``ECTASIA_SURE_MM`` of duct is that wide.
- **Cyst fill**: a round pool of contrast on the tree (:func:`_cysts`). Blobs of the
  excess are found with a Laplacian of Gaussian (:func:`skimage.feature.blob_log`) on a
  ``CYST_PITCH_MM`` grid, for radii ``CYST_RADII_MM``. Along ``CYST_RAYS`` rays from a
  blob's centre the excess falls to half its centre value at the pool's half-maximum
  radius: a pool is round where those radii agree (their scatter, std / mean, from
  ``CYST_ROUND_SURE``, sure, to ``CYST_ROUND_NONE``, none), while a junction, a crossing
  or a widened duct reaches out along its ducts. A cyst stands at least
  ``CYST_MIN_EXCESS`` times the ducts' excess (it is thicker than a duct), its
  half-maximum radius is at least ``CYST_MIN_HALF_MM``, and at least ``CYST_ON_TREE`` of
  the rays meet the duct mask between half and 1.2 times that radius (it fills through a
  duct of the tree, and the mask covers it or its rim: round tissue blobs lie off the
  tree). Its size is twice the radius where the rays fall steepest: the projected
  pool, which compression widens; pools under ``CYST_MIN_MM`` are not read as cysts.
- **Extravasation**: contrast outside the duct tree (bright over the background, off
  the mask, next to it) over more than ``EXTRAVASATION_MIN_MM2``.

A view with a tree and none of these has a normal arborisation (code 111287, added by
:mod:`.assessment`).

The thresholds marked [estimate] were set on simulated views (seeds other than those
of the reported evaluation, :mod:`ductogram.evaluate.findings_eval`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field
from scipy import ndimage as ndi

from ..core import Image, ParameterError, PixelKind
from .classifier import LogisticModel
from .stats import median

__all__ = [
    "CODES",
    "DEFECT_FEATURES",
    "DefectClassifier",
    "Finding",
    "FindingCode",
    "FindingKind",
    "Lucency",
    "defect_classifier",
    "find_findings",
    "lucency_candidates",
]


class FindingCode(BaseModel):
    """A coded concept (DICOM PS3.16 style: code value, coding scheme, code meaning)."""

    model_config = ConfigDict(frozen=True)

    value: str
    scheme: str = Field(description="DCM (DICOM), SCT (SNOMED CT)")
    meaning: str


class FindingKind:
    """The kinds of finding (string constants)."""

    FILLING_DEFECT = "filling defect"
    CUT_OFF = "abrupt duct termination"
    NARROWING = "duct narrowing"
    WALL_IRREGULARITY = "wall irregularity"
    ECTASIA = "duct ectasia"
    EXTRAVASATION = "extravasation"
    CYST_FILL = "cyst fill"
    NORMAL = "normal arborisation"
    AIR_BUBBLE = "air bubble"


#: Codes of the findings: DICOM CID 6057 "Ductography Finding for Breast"
#: (PS3.16; OID 1.2.840.10008.6.1.386), as listed in ../shared/reference/ecosystem.md §1.4.
#: Wall irregularity and air bubbles have no CID 6057 term: their code is None.
CODES: dict[str, FindingCode | None] = {
    FindingKind.FILLING_DEFECT: FindingCode(
        value="111425", scheme="DCM", meaning="Intraluminal filling defect"
    ),
    "multiple filling defects": FindingCode(
        value="111426", scheme="DCM", meaning="Multiple filling defect"
    ),
    FindingKind.CUT_OFF: FindingCode(
        value="111427", scheme="DCM", meaning="Abrupt duct termination"
    ),
    FindingKind.EXTRAVASATION: FindingCode(value="111428", scheme="DCM", meaning="Extravasation"),
    FindingKind.NARROWING: FindingCode(value="111429", scheme="DCM", meaning="Duct narrowing"),
    FindingKind.CYST_FILL: FindingCode(value="111430", scheme="DCM", meaning="Cyst fill"),
    FindingKind.ECTASIA: FindingCode(
        value="22049009", scheme="SCT", meaning="Mammary duct ectasia"
    ),
    FindingKind.NORMAL: FindingCode(value="111287", scheme="DCM", meaning="Normal breast tissue"),
    FindingKind.WALL_IRREGULARITY: None,
    FindingKind.AIR_BUBBLE: None,
}

# Thresholds (object scale). Clinical ones cite their source; the rest are [estimate],
# set on simulated views.
ECTASIA_MM = 2.0  # duct ectasia: > 2 mm ... (Radiopaedia; clinical.md §2.1)
ECTASIA_AMPULLA_MM = 3.0  # ... or > 3 mm at the ampulla
ECTASIA_FILLED = 0.4  # a wide segment holds at least this share of the tree's typical
# central excess per mm of calibre to be a filled, widened duct [estimate]
ECTASIA_SURE_MM = 40.0  # length of widened duct that makes ectasia sure [estimate]
AMPULLA_MM = 10.0  # the ampulla (lactiferous sinus): within this path length of the root
BACKGROUND_MM = 8.0  # local background: a grey opening wider than any duct or defect
BACKGROUND_PITCH_MM = 0.5  # ... computed on a grid this coarse
PROFILE_SMOOTH_PX = 5  # window of the mask-width profile (skeleton pixels)
HALF_MAX_REACH_MM = 6.0  # the cross-section is read this far either side of the skeleton
HALF_MAX_OF_ROUND = 3**0.5 / 2  # full width at half maximum / diameter of a round lumen
LUCENCY_PITCH_MM = 0.25  # grid of the lucency search (a 3 mm mass spans 12 cells)
LUCENCY_SMOOTH_MM = 0.3  # Gaussian smoothing of the excess before it (noise)
LUCENCY_SEAM_MM = 0.8  # lucent lines narrower than this are closed first [estimate]
LUCENCY_REACH_MM = (3.0, 6.0)  # discs of the closings: the contrast around a mass of
# 2-10 mm (lesions.py, clinical.md §3)
LUCENCY_DEPTH = 0.3  # a lucency dips by at least this share of the typical excess ...
LUCENCY_FLOOR = 0.5  # ... and its floor holds at least this share of it [estimate]
LUCENCY_MIN_MM2 = 1.0  # smallest lucency taken (mm2)
LUCENCY_AREA_CAP_MM2 = 7.0  # the score grows with the lucency's area up to this (3 mm
# across: the defects that matter, issue 7; an air bubble is 0.5-0.9 of its lumen's
# width, filling.py, mostly smaller) [estimate]
LUCENCY_ROOT_MM = 4.0  # dips this close to the root are the contrast pooled at the
# cannula's tip (papillomas lie 3 mm or more from the nipple: lesions.py) [estimate]
DEFECT_WIDENING = 1.3  # a mass widens its duct to at least this many times the width of
# the duct that feeds it (a bubble does not) [estimate]
WIDENING_REACH_MM = 1.0  # ... its widest lumen taken this far beyond the lucency's radius
# [estimate]
BUBBLE_ROUND = 1.45  # a lucency whose long axis is at most this many times its short
# one is round, as an air bubble is; a mass is oval along its duct (its cross axes
# 0.6-0.85 of its length: lesions.py) [measured on tuning exams, draw_cases(20, 28)
# ectasia with bubbles, (30, 24) papillomas, (24, 27) multiple papillomas, (30, 23), the
# normals of (70, 25): lucencies of confidence >= 0.3 on a papilloma 1.56-4.5, on a
# bubble 1.0-2.7 (17 of 22 under 1.45)]
BUBBLE_MAX_MM = 4.0  # ... no larger than this (a bubble is 0.5-0.9 of its lumen's width,
# filling.py; the widest proximal ducts, ectatic, are 4 mm: lesions.py) [estimate]
BUBBLE_PROXIMAL_MM = 30.0  # ... in the proximal ducts, this near the root along the tree
# (bubbles enter with the contrast: clinical.md §1; the simulator puts them within 30 mm
# of the nipple, filling.py); peripheral papillomas, round too, lie farther out
BUBBLE_VETO_MM = 1.0  # a filling defect in an unwidened duct within a bubble's radius and
# this of its site is that bubble [estimate: the site lies on the read path, the lucency's
# centre on the bubble]
LOCAL_RING_MM = (1.5, 4.0)  # the duct's own width: this far beyond a lucency's reach (a
# mass's widening ramps down over 1.5 mm past its end: lesions.py) [estimate]
BUBBLE_VETO_WIDENING = 1.7  # ... in a duct widened less than this (a mass widens its duct
# more than the proximal column around a bubble is wide) [measured on tuning exams,
# draw_cases(30, 23), (30, 24) papillomas, (70, 25) normals: lucencies on bubble sites
# widened 1.42-2.01 (median 1.5, 6 of 7 under 1.7), on a papilloma 1.89]
METAL_MARGIN_MM = 3.0  # findings this near metal in the field are its edges' (a bright
# object with sharp edges reads as an ending, irregular or leaking duct) [estimate]
CUTOFF_MIN_MM = 1.0  # a duct that ends wider than this ends abruptly (terminal ducts
# are 0.1-0.5 mm: clinical.md §3) [estimate]
CUTOFF_BULB_REACH_MM = 2.5  # the bulb at a column's end: the lumen this near where it stops
CUTOFF_BULB_MIN_MM = 2.0  # the bulb's width (widest round lumen) where confidence starts ...
CUTOFF_BULB_SURE_MM = 3.0  # ... and where it is sure [measured on draw_cases seeds 7, 8, 9
# (papillomas forced in 8 and 9), 0.2 mm views: the 13 obstructing papillomas' ends read
# 1.2-4.0 mm (median 2.9; 11 at >= 2.25), the 1,712 other ends >= 2.5 mm in 11 cases,
# >= 3.0 mm in 1; the width profile's end, the old measure, gave the papillomas 0.06-0.97
# of confidence and 47 other ends >= 0.25]
CUTOFF_FLARE_MM = 2.5  # an end narrow by its width profile is a cut-off from this bulb
# on [measured on tuning exams, draw_cases(100, 44) and 40 papilloma exams of
# draw_cases(40, 45): of the 19,224 free ends, those that fail the width gates with a bulb
# of >= 2.5 mm were 7 on papillomas of >= 3 mm (6 exams), 4 on other lesions and 9
# elsewhere (2 of them in one normal exam); >= 2.0 mm: 76 elsewhere; >= 3.0 mm: 3 on
# papillomas]
POOL_SURE_MM = 2.5  # a pool at the root this wide is a sure stop [measured: pools of
# 1.8-3.3 mm behind papillomas in the sinus; a cannula without contrast reads 0.8 mm at
# most (reading.POOL_MIN_WIDTH_MM)]
CUTOFF_TAPER = 0.8  # ... and at least this share of the segment's width before its end
HEAD_COURSE_MM = 5.0  # the course of a duct at its end: from this far behind its middle
CUTOFF_EDGE_MM = 3.0  # ends this close to the breast's edge are not read as cut-offs
CUTOFF_OTHER_RADII = 2.0  # ... nor ends that pass the width gates and whose column stops
# within this many radii (the mask's distance to its wall there) of another segment's
# centre line [measured on CUTOFF_FLARE_MM's tuning exams: of the ends that pass
# the width gates and reach the 0.25 FP/view threshold, 9 of the 19 on no lesion stop
# within 1.3 radii of the nearest other centre line (12 within 2.3), the 7 on papillomas
# of >= 3 mm 11.8 radii or farther]
CUTOFF_FULL_GENERATION = 4  # an abrupt end of a central duct (generation <= this, ...
CUTOFF_FULL_REACH_MM = (10.0, 50.0)  # ... this far from the root along the tree: strictures
# lie 5-40 mm from the nipple, anatomy/lesions.py; nearer the root the cannula and the
# skin line cut the ducts: NARROWING_ROOT_MM) ...
CUTOFF_FULL_MIN_MM = 1.0  # ... this wide (where a closing stricture tapers it, CUTOFF_MIN_MM
# wide) ... [1.1 before: on draw_cases(30, 3) with stricture forced, 1.0 calls one more of
# the 6 closed strictures (its duct ends 1.0 mm wide at 32 mm), and none of the 95 normal
# exams of draw_cases(140, 61) and (120, 62) more]
CUTOFF_FULL_EXCESS = (1.0, 2.0)  # ... is a cut-off from this contrast (its end's excess
# over the tree's typical) on, and sure at that: the duct before a stricture that closes
# it fills and dilates under the injection (exam/filling.py OBSTRUCTION_DILATION)
NARROWING_MIN_MM = 0.9  # narrowings are read on ducts at least this wide (the median on
# either side) ...
NARROWING_MAX_GENERATION = 4  # ... of these generations ...
NARROWING_REACH_MM = 60.0  # ... within this path length of the root: where strictures lie
# (lesions.py: generations 1-3, 5-40 mm from the nipple, which compression stretches)
# and where crossings are fewest ...
NARROWING_ROOT_MM = 10.0  # ... but not this near it, where the cannula, the contrast pooled
# at its tip and the skin line cross the duct ...
NARROWING_FILLED = 1.0  # ... on ducts whose central excess (the greater of the medians on
# either side) is at least this share of the tree's typical one (the median along its
# centre lines, which its many thin ducts set): a central duct, not a thin or faint path
# over tissue between ducts
# [measured, on segments' medians before the narrowings were read along paths, on 116
# normal and 43 stricture exams: the 74 normals of draw_cases(200, 51), all of (120, 52)
# and 30 strictures forced of (30, 50): the segments of the counted narrowings on true
# strictures read 2.2-5.6 times it, those of the 7 counted places in 5 normal exams
# 0.55-0.78 but two (4.6-4.8, where the duct meets the cannula: NARROWING_SIDE_BALANCE,
# 0.42-0.44 there and 0.79-0.98 on the strictures); with 0.5 before, the narrowings called
# those 5 normal exams (4 for a narrowing alone), now none, for the same 19 stricture
# exams found (all findings)]
NARROWING_SIDE_BALANCE = 0.7  # ... and whose central excess on the lesser side is at
# least this share of the other's [read along paths, on draw_cases(30, 3) with stricture
# forced and the normal exams of draw_cases(140, 61) and (120, 62): the counted places on
# the strictures 0.85-1.0, the 3 in normal exams 0.60-0.66, where the path leaves a wide
# duct for a branch beside it]
NARROWING_SIDE_MM = (2.0, 5.0)  # the duct on either side: this far along it (a stricture
# is 2-5 mm long, lesions.py)
NARROWING_WIDTH_RATIO = 0.85  # a narrowing's width is at most this share of the duct's
# (its half-maximum width, which blur holds up over a short stricture: 0.8-0.94 on
# strictures narrowed by 57-68 %) [measured on sets simulated once, 185 exams with each
# reading stored: draw_cases(30, 3) with stricture forced, (30, 1) and (30, 2) with
# carcinoma forced, the 95 normals of (140, 61) and (120, 62); from 0.7, 0.78 called 2
# more carcinoma exams, 0.85 and 0.9 3 more (2 for a narrowing on the carcinoma, 1 for
# one 35 mm from it), strictures and normals the same; 0.85 with NARROWING_AREA_RATIO
# 0.3, 6 more carcinomas and 2 more normals] ...
NARROWING_NONE = 0.5  # a place whose cross-section holds this share of the duct's or more
# is no narrowing (confidence 0; 0.6 called no more strictures of draw_cases(30, 3) and
# more normal exams in the tuning of the paths' gates) ...
NARROWING_THREAD = 0.2  # ... nor one whose central excess within 1 mm falls under this
# share of the tree's typical: no contrast goes through it [on the same exams: the
# narrowings on strictures 0.28-2.7, the path over tissue between a wide duct and a
# branch crossing it in a normal exam 0.14 (a 4 % cross-section, confidence 0.93)] ...
NARROWING_TURN_DEG = 60.0  # ... nor one where the path turns by more than this (its course
# 2-5 mm before the place against 2-5 mm after it): a duct keeps its course through a
# stricture, while a read path that leaves one duct for another through a thin duct
# between them (crossing or side by side in the projection) turns [measured on the
# narrowings counted before this gate: on strictures and carcinomas (draw_cases(30, 3),
# draw_cases(30, 1), draw_cases(30, 2) with the lesion forced, and the report's) 3-46
# degrees, the four that called normal exams of the report's draw_cases(200, 1) 87-164]
NARROWING_AREA_RATIO = 0.25  # ... and its contrast cross-section this share for
# confidence 0.5, the finding counted [measured on tuning exams: draw_cases(100, 44), 40
# papilloma exams of draw_cases(40, 45), draw_cases(100, 46), and the 120 normal and 28
# stricture exams of draw_cases(300, 47). Without the root and filled gates, a place at
# or under 0.25 in 9 of the 197 normal exams (7 on draw_cases(300, 47): at the nipple, or
# on tissue) and on the stricture in 10 of the 44 stricture exams; with them, 2 of 197 and
# the same 10 (the gates were set on the even half of draw_cases(300, 47), 1 normal and 2
# strictures, and held on its odd half: 1 and 4). The strictures not found were read
# shallower (0.24-1.3) or where the read tree breaks at them]
# Wall irregularity, read as caliber irregularity: saccules alternating with narrowings
# along one duct (clinical.md §2.1; anatomy/lesions.py draws a carcinoma so) [set on
# draw_cases(30, 1) with carcinoma forced and the 45 normal exams of draw_cases(140, 61):
# as a prototype, two or more such narrowings within 15 mm of one read path were in both
# views of 8 of the 30 carcinoma exams (on the carcinoma in 7) and of none of the normal
# ones, in one view of 24 of the 60 carcinoma views and 14 of the 90 normal ones: one
# view's finding is reported, not counted (IRREGULARITY_CONFIDENCE), two paired are.
# Read as exams with this code, held out (draw_cases(30, 2) with carcinoma forced, the 50
# normals of draw_cases(120, 62)): 7 -> 10 carcinoma exams called, the same 4 normals]
IRREGULARITY_SMOOTH_MM = (1.0, 0.6)  # central excess along the path: median, then mean
IRREGULARITY_SIDE_MM = 4.0  # a narrowing's saccules: the most contrast this far either side
# (a carcinoma's period is up to 6 mm, lesions.CARCINOMA_PERIOD_MM: a saccule's crest lies
# up to 3 mm from the narrowings beside it, and blur and the wall's roughness move it)
# [2.5 before; on the 185 cached tuning exams of NARROWING_WIDTH_RATIO (60 carcinoma, 30
# stricture and 95 normal exams, each reading stored once), carcinoma exams called 15 + 14
# at 2.5, 16 + 15 at 3.0, 17 + 15 at 3.5, 17 + 16 at 4.0, 18 + 18 at 4.5 and 18 + 17 at 5.0,
# normal exams 5 + 4 up to 4.0, 5 + 5 at 4.5 and 6 + 6 at 5.0; strictures 13 throughout.
# Tried at 2.5: IRREGULARITY_FILLED 0.5, or a one-view confidence of 0.6 for 5 narrowings,
# changed no call; IRREGULARITY_DEPTH 0.65 called 2 more carcinomas and 1 more normal.
# At 3.5, FILLED 0.5 with DEPTH 0.65 called 2 more carcinomas and 5 more normals]
IRREGULARITY_DEPTH = 0.6  # the narrowing's central excess is at most this share of the
# lesser saccule's ...
IRREGULARITY_WIDTH = 0.7  # ... its width at most this share of the lesser saccule's ...
IRREGULARITY_SACCULE = 1.5  # ... the saccules at least this many times the tree's typical
# central excess (ctx.level) ...
IRREGULARITY_FILLED = 0.8  # ... and the narrowing still this many (the duct stays filled:
# where a read path runs over tissue between ducts, its excess falls to 0)
IRREGULARITY_ROOT_MM = 5.0  # not this near the root (the cannula)
IRREGULARITY_SPACING_MM = 2.0  # narrowings at least this far apart (a saccule between)
IRREGULARITY_STRETCH_MM = 15.0  # narrowings this close along one path make one stretch
IRREGULARITY_MIN_COUNT = 2  # ... of at least this many narrowings
IRREGULARITY_MAX_COUNT = 5  # ... (confidence rising to this many)
IRREGULARITY_CONFIDENCE = (0.3, 0.45)  # a stretch of 2 narrowings, and of 5 or more: one
# view's finding stays under its CALL_CONFIDENCE (0.5), two paired are over it
CYST_MIN_MM = 3.0  # smallest cyst read (diameter) [estimate; the simulated cysts are 3-15 mm]
CYST_PITCH_MM = 0.5  # grid of the cyst search
CYST_OVER_CUTOFF = 0.5  # a free end inside a pool read this round is the cyst's duct, not a
# cut-off (a cup at an obstruction is less round: 0.08 for the drawn 4.4 mm bulb)
CYST_RADII_MM = (1.5, 12.0)  # radii searched: cysts of 3-15 mm, which compression widens in
# projection (by up to 1.7 in the simulated views)
CYST_SMOOTH_MM = 0.15  # Gaussian smoothing of the excess before the rays are read (noise)
CYST_RAYS = 24  # rays from a candidate's centre
CYST_RECENTRE = 2  # times the centre is moved to the middle of the rays' half-maximum points
CYST_MIN_EXCESS = 1.3  # a cyst's centre stands this many times the ducts' excess (the
# 75th percentile over the mask) or more: a pool is thicker than a duct
CYST_MIN_HALF_MM = 1.3  # ... its half-maximum radius (median over the rays) at least this
CYST_ON_TREE = 0.5  # ... and at least this share of its rays meet the duct mask
CYST_OUTSIDE_AT = 1.6  # ... and at this many half-maximum radii out, the median ray holds
CYST_OUTSIDE = 0.4  # at most this share of the centre's excess [estimate]
CYST_ROUND_SURE = 0.06  # the rays' half-maximum radii scatter (std / mean) this little or
CYST_ROUND_NONE = 0.16  # less: sure; this much or more: not round [measured on 20 exams
# of draw_cases(20, 26) with a cyst and the normals of draw_cases(70, 25): 34 of 39 cyst
# views read a blob at <= 0.16 (28 at <= 0.095), the normal views' blobs at >= 0.096
# (tissue, off the tree). As built, at confidence >= 0.6: 31 of the 39 cyst views (19 of
# 20 exams); no cyst in the 28 normal exams, in draw_cases(30, 23) (3 of its 3 cysts
# found) or in 30 papilloma exams of draw_cases(30, 24); 1 of 24 exams with multiple
# papillomas (draw_cases(24, 27)), on a papilloma]
EXTRAVASATION_MIN_MM2 = 12.0  # contrast off the tree over at least this area


class Finding(BaseModel):
    """One finding in one view (image frame; sizes and distances in mm, object scale).

    ``path_from_root`` lists the segments from the root (the cannula tip or nipple) down
    to the one the finding sits on; ``distance_from_nipple_mm`` is the straight distance
    in the image plane from the nipple (or the tree's root when no nipple was found),
    divided by the magnification; ``path_length_mm`` the distance along the ducts from
    the root. ``confidence`` is in [0, 1]; ``evidence`` says what was measured.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    code: FindingCode | None = None
    view: str | None = None
    row: float = Field(description="centre row (pixels)")
    col: float = Field(description="centre column (pixels)")
    size_mm: float = Field(ge=0.0, description="largest dimension (mm)")
    segment: int | None = Field(None, description="segment of the reading it sits on")
    generation: int | None = None
    path_from_root: list[int] = Field(default_factory=list)
    distance_from_nipple_mm: float | None = None
    path_length_mm: float | None = None
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    evidence: str = ""

    @property
    def distance_from_nipple_cm(self) -> float | None:
        """The distance from the nipple in cm (None when unknown)."""
        d = self.distance_from_nipple_mm
        return None if d is None else d / 10.0


@dataclass
class _Profile:
    """Per skeleton pixel of one segment: position, width (mm), central excess,
    path length from the root (mm)."""

    rc: np.ndarray
    width_mm: np.ndarray
    excess: np.ndarray
    from_root_mm: np.ndarray


def _background(scale: np.ndarray, mm_per_px: float) -> np.ndarray:
    """The local background: a grey opening ``BACKGROUND_MM`` wide on a coarse grid."""
    img = np.asarray(scale, dtype=np.float32)
    f = max(int(BACKGROUND_PITCH_MM / mm_per_px), 1)
    h, w = img.shape
    hh, ww = -(-h // f) * f, -(-w // f) * f
    padded = np.pad(img, ((0, hh - h), (0, ww - w)), mode="edge")
    small = padded.reshape(hh // f, f, ww // f, f).mean(axis=(1, 3))
    k = max(int(np.ceil(BACKGROUND_MM / (mm_per_px * f))), 3) | 1
    bg = ndi.uniform_filter(ndi.grey_opening(small, size=(k, k)), k, mode="nearest")
    return np.repeat(np.repeat(bg, f, axis=0), f, axis=1)[:h, :w]


def _steps(p: np.ndarray) -> np.ndarray:
    """Skeleton length (pixels) each path pixel stands for."""
    if len(p) < 2:
        return np.ones(len(p))
    d = np.hypot(*np.diff(p.astype(float), axis=0).T)
    w = np.zeros(len(p))
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    w[0] += 0.5 * d[0]
    w[-1] += 0.5 * d[-1]
    return w


def _profiles(
    tree: Any, mask: np.ndarray, excess: np.ndarray, mm: float, gap_mm: float = 0.0
) -> list[_Profile]:
    """Width and excess profiles of every segment (bounding box of the mask only); path
    lengths from the root, plus ``gap_mm`` on the main tree when it was read beyond a gap
    (``Reading.root_gap_mm``)."""
    sk = tree.skeleton_rc
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    r0 = max(min(rows[0], sk[:, 0].min()) - 1, 0)
    r1 = min(max(rows[-1], sk[:, 0].max()) + 2, mask.shape[0])
    c0 = max(min(cols[0], sk[:, 1].min()) - 1, 0)
    c1 = min(max(cols[-1], sk[:, 1].max()) + 2, mask.shape[1])
    sub = mask[r0:r1, c0:c1]
    skel = np.zeros(sub.shape, dtype=bool)
    skel[sk[:, 0] - r0, sk[:, 1] - c0] = True
    _, (ir, ic) = ndi.distance_transform_edt(~skel, return_indices=True)
    area = (
        np.bincount(ir[sub] * sub.shape[1] + ic[sub], minlength=sub.size)
        .reshape(sub.shape)
        .astype(np.float64)
    )
    ex = ndi.uniform_filter(excess[r0:r1, c0:c1], 3)
    out = []
    reach_px = HALF_MAX_REACH_MM / mm
    start_mm = np.zeros(tree.n_segments)
    main_root = int(tree.root[0]) if len(tree.root) else -1
    qs = [p - (r0, c0) for p in tree.paths_rc]
    half_maxes = _half_max_widths(ex, qs, reach_px)
    for s, (p, q) in enumerate(zip(tree.paths_rc, qs, strict=True)):
        st = _steps(p)
        w_mask = ndi.uniform_filter1d(area[q[:, 0], q[:, 1]], PROFILE_SMOOTH_PX, mode="nearest")
        w_mask = w_mask / np.maximum(
            ndi.uniform_filter1d(st, PROFILE_SMOOTH_PX, mode="nearest"), 1e-9
        )
        # Full width at half maximum of a round tube is sqrt(3)/2 of its diameter; where
        # the path shows no contrast over the background (a gap the mask bridged, a
        # crossing's shadow) the mask's own width stands in.
        half_max = half_maxes[s]
        w = np.where(
            np.isnan(half_max), w_mask, np.minimum(half_max / HALF_MAX_OF_ROUND, w_mask + 2.0)
        )
        e = ndi.median_filter(ex[q[:, 0], q[:, 1]], 3, mode="nearest")
        par = int(tree.parent[s])
        if par >= 0:
            start_mm[s] = start_mm[par] + float(tree.length_mm[par])
        elif int(tree.start[s]) == main_root:
            start_mm[s] = gap_mm
        along = start_mm[s] + (np.cumsum(st) - 0.5 * st[0]) * mm
        out.append(_Profile(p, w * mm, e, along))
    return out


def _normals(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A path (pixels, (n, 2), n >= 1) smoothed over 5 pixels (over n where n < 5), and
    its unit normals."""
    n = len(q)
    c = q.astype(float)
    if n >= 3:
        c = ndi.uniform_filter1d(c, min(5, n), axis=0, mode="nearest")
        t = np.gradient(c, axis=0)
    else:
        t = np.tile(np.diff(c, axis=0)[:1] if n == 2 else [[1.0, 0.0]], (n, 1))
    t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
    return c, np.column_stack([-t[:, 1], t[:, 0]])


def _half_max_widths(ex: np.ndarray, paths: list[np.ndarray], reach_px: float) -> list[np.ndarray]:
    """Width (pixels) of the duct across each pixel of each path: where the excess stays
    above half its crest (full width at half maximum), along the path's normal. It
    follows the contrast, not the mask, whose edge may take in background. NaN where the
    excess near the path is not above 0 (no contrast to measure). All paths are sampled
    at once (a view's tree has hundreds)."""
    sizes = [len(q) for q in paths]
    if not sum(sizes):
        return [np.zeros(0) for _ in paths]
    normals = [_normals(q) for q in paths if len(q)]
    c = np.concatenate([cn[0] for cn in normals])
    nrm = np.concatenate([cn[1] for cn in normals])
    from .landmarks import _sample_along

    x = np.arange(-reach_px, reach_px + 0.25, 0.5)
    v, _ = _sample_along(ex, c, nrm, x)
    near = np.flatnonzero(np.abs(x) <= 1.5)
    # The crest: the brightest sample within 1.5 pixels of the path (the path may run
    # beside it), and from there the first sample below half of it on each side.
    crest = near[0] + np.argmax(v[:, near], axis=1)
    peak = v[np.arange(len(v)), crest]
    below = v < 0.5 * peak[:, None]
    j = np.arange(len(x))[None, :]
    last = len(x) - 1
    right = np.where(below & (j > crest[:, None]), j, last).min(axis=1)
    left = np.where(below & (j < crest[:, None]), j, 0).max(axis=1)
    width = np.where(peak > 0, (right - left) * 0.5, np.nan)
    return np.split(width, np.cumsum(sizes)[:-1])


def _path_from_root(parent: np.ndarray, s: int) -> list[int]:
    path = [int(s)]
    while parent[path[-1]] >= 0:
        path.append(int(parent[path[-1]]))
    return path[::-1]


def _check(image: object, reading: object) -> None:
    from .reading import Reading

    if not isinstance(image, Image):
        raise ParameterError("image", type(image).__name__, "a ductogram.core.Image")
    if not isinstance(reading, Reading):
        raise ParameterError("reading", type(reading).__name__, "a Reading (read_view)")
    if tuple(reading.image_shape) != tuple(image.shape):
        raise ParameterError(
            "reading.image_shape", tuple(reading.image_shape), f"the image's {image.shape}"
        )


class _Context:
    """What every detector needs of one view."""

    def __init__(self, image: Image, reading: Any, landmarks: Any) -> None:
        from .graph import build_tree
        from .landmarks import contrast_scale, duct_scale

        self.image = image
        self.reading = reading
        self.view = reading.view
        self.pixel_mm = float(np.mean(image.pixel_spacing_mm))
        self.mm = self.pixel_mm / float(image.magnification)  # object mm per pixel
        self.mask = reading.mask_array()
        tree = reading.tree
        if tree is None:  # a reading loaded from JSON: rebuild the tree from its mask,
            # from where it started (beyond a gap that is not the root: Reading.root_gap_mm)
            start = reading.root_rc
            if reading.segments:
                first = reading.nodes[reading.segments[0].start]
                start = (first.row, first.col)
            tree = build_tree(self.mask, start, self.pixel_mm, image.magnification)
        self.tree = tree
        scale = contrast_scale(duct_scale(image), image.kind)
        self.excess = (scale - _background(scale, self.mm)).astype(np.float32)
        self.profiles = _profiles(tree, self.mask, self.excess, self.mm, reading.root_gap_mm or 0.0)
        self.landmarks = landmarks
        nipple = None if landmarks is None else landmarks.nipple_rc
        self.nipple = np.asarray(nipple if nipple is not None else reading.root_rc or (0, 0), float)
        self.has_nipple = nipple is not None or reading.root_rc is not None
        breast = None if landmarks is None else landmarks.breast_mask
        self.breast = None if breast is None or not np.any(breast) else np.asarray(breast, bool)
        # Baseline of each segment: width and excess of the duct feeding it.
        self.base_w = np.zeros(tree.n_segments)
        self.base_e = np.zeros(tree.n_segments)
        for s, pr in enumerate(self.profiles):
            par = int(tree.parent[s])
            src = self.profiles[par] if par >= 0 and len(self.profiles[par].rc) >= 6 else pr
            n = len(src.rc)
            inner = slice(n // 5, max(n - n // 5, n // 5 + 1))
            if src is pr:  # no parent: the narrower half of the segment itself
                low = src.width_mm <= median(src.width_mm)
                self.base_w[s] = float(median(src.width_mm[low]))
                self.base_e[s] = float(median(src.excess[low]))
            else:
                self.base_w[s] = float(median(src.width_mm[inner]))
                self.base_e[s] = float(median(src.excess[inner]))

    @cached_property
    def widths_over_feed(self) -> tuple[np.ndarray, np.ndarray]:
        """Every profile point (row, col) of the segments with a baseline width, and its
        width over that baseline (the duct that feeds its segment), for
        :func:`_widening`."""
        keep = [s for s, pr in enumerate(self.profiles) if self.base_w[s] > 0 and len(pr.rc)]
        if not keep:
            return np.zeros((0, 2)), np.zeros(0)
        rc = np.vstack([self.profiles[s].rc for s in keep]).astype(float)
        ratio = np.concatenate([self.profiles[s].width_mm / self.base_w[s] for s in keep])
        return rc, ratio

    @cached_property
    def level(self) -> float:
        """The tree's typical central excess: the median along its centre lines (0
        without one)."""
        sk = self.tree.skeleton_rc
        return float(np.median(self.excess[sk[:, 0], sk[:, 1]])) if len(sk) else 0.0

    @cached_property
    def wall_mm(self) -> np.ndarray:
        """Each mask pixel's distance to the mask's wall (object mm; 0 off the mask)."""
        out = np.zeros(self.mask.shape)
        rows, cols = np.flatnonzero(self.mask.any(axis=1)), np.flatnonzero(self.mask.any(axis=0))
        if len(rows):
            # Over the mask's box and a pixel around it, which holds every mask pixel's
            # nearest wall: the same distances as over the whole view, at a fraction of it.
            box = np.s_[max(rows[0] - 1, 0) : rows[-1] + 2, max(cols[0] - 1, 0) : cols[-1] + 2]
            out[box] = ndi.distance_transform_edt(self.mask[box]) * self.mm
        return out

    @cached_property
    def skeleton_radius_mm(self) -> np.ndarray:
        """The lumen's radius at each centre-line pixel of the tree (object mm: the
        mask's distance to its wall there)."""
        sk = self.tree.skeleton_rc
        return self.wall_mm[sk[:, 0], sk[:, 1]]

    def nearest(self, rc: tuple[float, float]) -> tuple[int, int]:
        """The segment whose centre line passes nearest ``rc`` (pixels), and the index of
        its profile's pixel nearest ``rc``."""
        tree = self.tree
        d = np.hypot(*(tree.skeleton_rc - np.asarray(rc)).T)
        segment = int(tree.skeleton_segment[int(np.argmin(d))])
        pr = self.profiles[segment]
        return segment, int(np.argmin(np.hypot(*(pr.rc - np.asarray(rc)).T)))

    def finding(
        self,
        kind: str,
        rc: tuple[float, float],
        size_mm: float,
        segment: int | None,
        confidence: float,
        evidence: str,
        along_mm: float | None = None,
    ) -> Finding:
        tree = self.tree
        if segment is None and tree.n_segments:
            segment, k = self.nearest(rc)
            if along_mm is None:
                along_mm = float(self.profiles[segment].from_root_mm[k])
        dist = None
        if self.has_nipple:
            dist = float(np.hypot(*(np.asarray(rc, float) - self.nipple)) * self.mm)
        return Finding(
            kind=kind,
            code=CODES.get(kind),
            view=self.view,
            row=float(rc[0]),
            col=float(rc[1]),
            size_mm=round(float(max(size_mm, 0.0)), 2),
            segment=segment,
            generation=None if segment is None else int(tree.generation[segment]),
            path_from_root=[] if segment is None else _path_from_root(tree.parent, segment),
            distance_from_nipple_mm=None if dist is None else round(dist, 1),
            path_length_mm=None if along_mm is None else round(float(along_mm), 1),
            confidence=float(np.clip(confidence, 0.0, 1.0)),
            evidence=evidence,
        )


@dataclass(frozen=True)
class Lucency:
    """One lucency inside the column of contrast: a candidate filling defect and what was
    measured of it (see :func:`lucency_candidates`). Image frame (pixels); sizes and
    lengths in object mm; ``floor``, ``dip`` and ``around`` in units of the tree's
    typical central excess (the median over its skeleton)."""

    row: float
    col: float
    area_mm2: float  # the region that dips
    floor: float  # the excess left at its floor (median): contrast over and under a mass
    dip: float  # its deepest dip below the contrast around it
    around: float  # the contrast around it (floor + dip, the deepest point)
    widened: float  # the widest lumen near it over the width of the duct feeding it
    local_widening: float  # ... over the same duct's width a little farther on
    elongation: float  # long over short axis of the region
    size_mm: float  # its longest extent
    segment: int  # the segment of the tree nearest its centre ...
    generation: int
    along_mm: float  # ... the path length from the root there ...
    width_mm: float  # ... the lumen's width there ...
    feed_width_mm: float  # ... the width of the duct feeding that segment ...
    skeleton_mm: float  # ... and its centre's distance to that segment's centre line
    segment_excess: float  # the median central excess of that segment
    in_mask: float  # share of the region inside the duct mask
    root_mm: float  # straight distance from the root (inf without one)
    presentation: bool  # read on a FOR PRESENTATION image

    @property
    def score(self) -> float:
        """The hand-made lucency score S (module docstring): floor x depth (up to 1) x
        sqrt(area, up to ``LUCENCY_AREA_CAP_MM2``) x (widening / ``DEFECT_WIDENING``, up to
        1)²; a feature of :class:`DefectClassifier`."""
        return (
            self.floor
            * min(self.dip, 1.0)
            * np.sqrt(min(self.area_mm2, LUCENCY_AREA_CAP_MM2))
            * min(self.widened / DEFECT_WIDENING, 1.0) ** 2
        )

    def features(self) -> np.ndarray:
        """The inputs of :class:`DefectClassifier`, in the order of :data:`DEFECT_FEATURES`
        (logarithms of the ratios and sizes, which spread over decades)."""
        return np.array(
            [
                np.log(self.area_mm2),
                np.log(max(self.floor, 0.3)),
                np.log(max(self.dip, 1e-3)),
                np.log(max(self.widened, 1e-3)),
                np.log(self.elongation),
                np.log1p(self.along_mm),
                np.log(self.width_mm + 0.1),
                np.log(self.skeleton_mm + 0.1),
                np.log(max(self.local_widening, 1e-3)),
                self.in_mask,
                np.log(max(self.around, 1e-3)),
                np.log1p(min(self.root_mm, 300.0)),
                np.log(max(self.segment_excess, 0.05)),
                float(self.presentation),
                np.log1p(self.generation),
                np.log(self.score + 1e-3),
                np.log(self.feed_width_mm + 0.1),
            ]
        )


#: Names of :meth:`Lucency.features`, as the classifier file lists them.
DEFECT_FEATURES = (
    "log_area",
    "log_floor",
    "log_dip",
    "log_widened",
    "log_elongation",
    "log1p_along",
    "log_width",
    "log_skeleton_distance",
    "log_local_widening",
    "in_mask",
    "log_around",
    "log1p_root_distance",
    "log_segment_excess",
    "presentation",
    "log1p_generation",
    "log_score",
    "log_feed_width",
)
DEFECT_CLASSIFIER_FILE = "defect_classifier.npz"


@dataclass(frozen=True)
class DefectClassifier(LogisticModel):
    """The probability that a lucency is a mass (papilloma, carcinoma) in its duct: a
    logistic regression (:class:`~.classifier.LogisticModel`) on :meth:`Lucency.features`,
    standardised.

    Trained by ``scripts/train_findings.py`` on simulated exams (the training seeds are
    in the file's ``provenance``; none is a seed of the reported evaluation), where the
    lucencies on a mass are the positives and the rest, but those on other lesions, the
    negatives.
    """

    FEATURES: ClassVar[tuple[str, ...]] = DEFECT_FEATURES


@lru_cache(maxsize=1)
def defect_classifier() -> DefectClassifier:
    """The shipped :class:`DefectClassifier` (``analysis/data/defect_classifier.npz``)."""
    return DefectClassifier.from_npz(Path(__file__).parent / "data" / DEFECT_CLASSIFIER_FILE)


def lucency_candidates(image: Image, reading: Any, landmarks: Any = None) -> list[Lucency]:
    """The lucencies of one view that may be filling defects, with their measures (see
    the module's docstring): what :class:`DefectClassifier` ranks, for those who study or
    retrain it.

    Raises
    ------
    ParameterError
        As :func:`find_findings`.
    """
    _check(image, reading)
    if not reading.segments:
        return []
    if landmarks is None:
        from .landmarks import find_landmarks

        landmarks = find_landmarks(image)
    ctx = _Context(image, reading, landmarks)
    return _lucency_candidates(ctx) if ctx.tree.n_segments else []


def _lucency_candidates(ctx: _Context) -> list[Lucency]:
    """Lucencies that contrast surrounds and whose floor is still contrast."""
    from .landmarks import _block_mean, _disc, _grey_closing

    tree = ctx.tree
    level = ctx.level  # 0 without a centre line
    if level <= 0 or not ctx.mask.any():
        return []
    f = max(round(LUCENCY_PITCH_MM / ctx.mm), 1)
    pitch = ctx.mm * f
    rows = np.flatnonzero(ctx.mask.any(axis=1))
    cols = np.flatnonzero(ctx.mask.any(axis=0))
    pad = int(np.ceil(max(LUCENCY_REACH_MM) / ctx.mm))
    r0, c0 = max(rows[0] - pad, 0), max(cols[0] - pad, 0)
    r1 = min(rows[-1] + pad + 1, ctx.mask.shape[0])
    c1 = min(cols[-1] + pad + 1, ctx.mask.shape[1])
    ex = _block_mean(ctx.excess[r0:r1, c0:c1], f)
    ex = ndi.gaussian_filter(ex, LUCENCY_SMOOTH_MM / pitch)
    ex = _grey_closing(ex, _disc(0.5 * LUCENCY_SEAM_MM / pitch))
    depth = np.zeros_like(ex)
    for d in LUCENCY_REACH_MM:
        depth = np.maximum(depth, _grey_closing(ex, _disc(0.5 * d / pitch)) - ex)
    in_mask = _block_mean(ctx.mask[r0:r1, c0:c1].astype(np.float32), f)
    lab, _ = ndi.label((depth >= LUCENCY_DEPTH * level) & (ex >= LUCENCY_FLOOR * level))
    root = None if ctx.reading.root_rc is None else np.asarray(ctx.reading.root_rc, float)
    presentation = ctx.image.kind == PixelKind.FOR_PRESENTATION
    out = []
    for i, box in enumerate(ndi.find_objects(lab)):
        rr, cc = np.nonzero(lab[box] == i + 1)
        area = len(rr) * pitch**2
        if area < LUCENCY_MIN_MM2:
            continue
        rr, cc = rr + box[0].start, cc + box[1].start
        centre = (r0 + (rr.mean() + 0.5) * f - 0.5, c0 + (cc.mean() + 0.5) * f - 0.5)
        root_mm = np.inf if root is None else float(np.hypot(*(np.asarray(centre) - root)) * ctx.mm)
        if root_mm < LUCENCY_ROOT_MM:
            continue
        # Its length: the region's longest extent (4 standard deviations along its axis).
        spread = np.linalg.eigvalsh(np.cov(np.vstack([rr, cc]))) if len(rr) > 2 else [1.0]
        size = max(4.0 * np.sqrt(max(spread[-1], 0.0)) * pitch, 2.0 * np.sqrt(area / np.pi))
        # The segment whose centre line passes nearest, and the duct there.
        seg, k = ctx.nearest(centre)
        pr = ctx.profiles[seg]
        reach = 0.5 * size + WIDENING_REACH_MM
        out.append(
            Lucency(
                row=float(centre[0]),
                col=float(centre[1]),
                area_mm2=float(area),
                floor=float(median(ex[rr, cc])) / level,
                dip=float(depth[rr, cc].max()) / level,
                around=float((ex[rr, cc] + depth[rr, cc]).max()) / level,
                widened=_widening(ctx, centre, np.sqrt(area / np.pi) + WIDENING_REACH_MM),
                local_widening=_local_widening(ctx, centre, reach, seg),
                elongation=(
                    float(np.sqrt(spread[-1] / max(spread[0], 1e-9))) if len(rr) > 2 else 1.0
                ),
                size_mm=float(size),
                segment=seg,
                generation=int(tree.generation[seg]),
                along_mm=float(pr.from_root_mm[k]),
                width_mm=float(pr.width_mm[k]),
                feed_width_mm=float(ctx.base_w[seg]),
                skeleton_mm=float(np.hypot(*(pr.rc[k] - np.asarray(centre))) * ctx.mm),
                segment_excess=float(median(pr.excess)) / level,
                in_mask=float(in_mask[rr, cc].mean()),
                root_mm=root_mm,
                presentation=presentation,
            )
        )
    return out


def _lucencies(ctx: _Context) -> list[Finding]:
    """Filling defects: the lucencies of :func:`_lucency_candidates`, each as sure as
    :class:`DefectClassifier` makes it a mass; the round ones in a proximal duct are air
    bubbles (:func:`_round_bubble`)."""
    found = _lucency_candidates(ctx)
    if not found:
        return []
    p = defect_classifier().probability(np.vstack([c.features() for c in found]))
    out = []
    for c, confidence in zip(found, p.tolist(), strict=True):
        defect = ctx.finding(
            FindingKind.FILLING_DEFECT,
            (c.row, c.col),
            c.size_mm,
            c.segment,
            confidence,
            f"a lucency of {c.area_mm2:.1f} mm2 inside the contrast: {c.dip:.1f} x the tree's "
            f"typical excess below the contrast around it, over a floor of {c.floor:.1f} x "
            f"(contrast over and under a mass), in a duct widened {c.widened:.1f} x",
            along_mm=c.along_mm,
        )
        out.append(_round_bubble(defect, c.elongation))
    return out


def _round_bubble(defect: Finding, elongation: float) -> Finding:
    """A lucency as round as a sphere's (``elongation``: the ratio of its long to its
    short axis), no larger than a bubble in a wide duct, in a proximal duct is an air
    bubble, as sure as the lucency is; a mass is oval along its duct. The same lucency
    farther out stays a defect (small peripheral papillomas are round)."""
    along = defect.path_length_mm
    if elongation > BUBBLE_ROUND or defect.size_mm > BUBBLE_MAX_MM:
        return defect
    if along is None or along > BUBBLE_PROXIMAL_MM:
        return defect
    return defect.model_copy(
        update={
            "kind": FindingKind.AIR_BUBBLE,
            "code": CODES.get(FindingKind.AIR_BUBBLE),
            "evidence": (
                f"round lucency of {defect.size_mm:.1f} mm (axes {elongation:.2f} : 1) "
                f"{along:.0f} mm along a proximal duct: an air bubble, not a mass"
            ),
        }
    )


def _widening(ctx: _Context, rc: tuple[float, float], radius_mm: float) -> float:
    """The widest lumen within ``radius_mm`` of ``rc`` over the width of the duct that
    feeds its segment (:class:`_Context` baselines); 1 where no skeleton is that near."""
    points, ratio = ctx.widths_over_feed
    near = np.hypot(points[:, 0] - rc[0], points[:, 1] - rc[1]) * ctx.mm <= radius_mm
    return max(1.0, float(ratio[near].max())) if near.any() else 1.0


def _local_widening(
    ctx: _Context, rc: tuple[float, float], radius_mm: float, segment: int | None
) -> float:
    """The widest lumen within ``radius_mm`` of ``rc`` over the median width of the same
    duct ``LOCAL_RING_MM`` beyond that (``segment``, its parent and its children): a mass
    widens its duct over a few mm; an ectatic duct is as wide on either side. 1 where no
    skeleton is that near or the duct does not go on."""
    if segment is None:
        return 1.0
    tree = ctx.tree
    family = {segment, int(tree.parent[segment]), *np.flatnonzero(tree.parent == segment)}
    family.discard(-1)
    inner, ring = [], []
    for k in family:
        pr = ctx.profiles[int(k)]
        dk = np.hypot(pr.rc[:, 0] - rc[0], pr.rc[:, 1] - rc[1]) * ctx.mm
        inner.append(pr.width_mm[dk <= radius_mm])
        lo, hi = radius_mm + LOCAL_RING_MM[0], radius_mm + LOCAL_RING_MM[1]
        ring.append(pr.width_mm[(dk >= lo) & (dk <= hi)])
    inner_w, ring_w = np.concatenate(inner), np.concatenate(ring)
    if not len(inner_w) or len(ring_w) < 3 or median(ring_w) <= 0:
        return 1.0
    return float(inner_w.max() / median(ring_w))


def _bubbles(ctx: _Context, sites: list[Any] | None) -> list[Finding]:
    """Air bubbles: the clear sites of :func:`~.quality.bubble_sites` (a short dip in a
    proximal duct shaped like a sphere in the lumen; found here when ``sites`` is None),
    each as a finding the size of
    the sphere that dip implies (diameter: the dip's share of the centre line times the
    duct's calibre), as sure as the bubble classifier is of it (its probability: among
    the sites of the tuning views' flagged views, 5 folds by seed, those at 0.5-0.7 /
    0.7-0.9 / 0.9-1 lay on a bubble in 78 / 89 / 100 % of cases)."""
    if sites is None:
        from .quality import bubble_sites

        sites = bubble_sites(ctx.image, ctx.reading, ctx.landmarks)
    out = []
    for site in sites:
        if not site.clear:  # a faint site: mostly not a bubble on its own
            continue
        size = float(np.clip(site.depth, 0.0, 1.0)) * site.calibre_mm
        out.append(
            ctx.finding(
                FindingKind.AIR_BUBBLE,
                (site.row, site.col),
                size,
                site.segment if 0 <= site.segment < ctx.tree.n_segments else None,
                site.probability,
                f"round lucency of {size:.1f} mm in a proximal duct {site.calibre_mm:.1f} mm "
                f"wide: the centre line dips {site.depth:.0%}, the cross-section "
                f"{site.depth * site.section_share:.0%} (a sphere's share), no widening",
            )
        )
    return out


def _not_bubbles(ctx: _Context, defects: list[Finding], bubbles: list[Finding]) -> list[Finding]:
    """The lucencies that are not one of the air bubbles: a lucency within the
    bubble's radius and ``BUBBLE_VETO_MM`` of its site, in a duct not widened to
    ``BUBBLE_VETO_WIDENING`` (a mass widens its duct, a bubble does not) over the duct that
    feeds it or over itself a little farther on (:func:`_local_widening`: an ectatic duct
    is wide all along), is the bubble."""
    keep = []
    for d in defects:
        on_bubble = any(
            np.hypot(d.row - b.row, d.col - b.col) * ctx.mm <= 0.5 * b.size_mm + BUBBLE_VETO_MM
            for b in bubbles
        )
        if on_bubble and d.kind == FindingKind.AIR_BUBBLE:  # the same bubble, read twice
            continue
        if on_bubble:
            rc, reach = (d.row, d.col), 0.5 * d.size_mm + WIDENING_REACH_MM
            widened = min(_widening(ctx, rc, reach), _local_widening(ctx, rc, reach, d.segment))
            if widened < BUBBLE_VETO_WIDENING:
                continue
        keep.append(d)
    return keep


def _inside_breast(ctx: _Context, rc: np.ndarray, margin_mm: float) -> bool:
    if ctx.breast is None:
        r, c = int(rc[0]), int(rc[1])
        m = int(margin_mm / ctx.mm)
        h, w = ctx.mask.shape
        return m <= r < h - m and m <= c < w - m
    r = int(np.clip(round(rc[0]), 0, ctx.mask.shape[0] - 1))
    c = int(np.clip(round(rc[1]), 0, ctx.mask.shape[1] - 1))
    # At least margin_mm from every pixel outside the breast (the view's edge is none).
    m = int(np.ceil(margin_mm / ctx.mm))
    r0, c0 = max(r - m, 0), max(c - m, 0)
    outside = ~ctx.breast[r0 : r + m + 1, c0 : c + m + 1]
    dr, dc = np.nonzero(outside)
    return not bool(np.any(np.sqrt((dr + r0 - r) ** 2 + (dc + c0 - c) ** 2) * ctx.mm < margin_mm))


def _column_head(ctx: _Context, rc: np.ndarray, width_mm: float) -> tuple[float, float]:
    """Where the contrast column of a path ending at ``rc[-1]`` stops: from the middle of
    its end (the path pixel deepest in the mask over the last two widths) on along the
    duct's course (from ``HEAD_COURSE_MM`` back from there) while the duct mask goes on. The
    skeleton's tip stops about a radius short of the end, often in a corner of it."""
    if len(rc) < 2:
        return float(rc[-1][0]), float(rc[-1][1])
    steps = np.r_[0.0, np.cumsum(np.hypot(*np.diff(rc.astype(float), axis=0).T))] * ctx.mm
    near = np.flatnonzero(steps[-1] - steps <= 2.0 * width_mm)
    # Not the junction the path leaves (wider than either duct), if the path is longer.
    clear = near[steps[near] >= 0.5 * width_mm]
    near = clear if len(clear) else near
    # The deepest pixel, the one nearest the end among equals (a duct of even width).
    wall = ctx.wall_mm[rc[near, 0], rc[near, 1]]
    k = int(near[len(near) - 1 - int(np.argmax(wall[::-1]))])
    middle = rc[k].astype(float)
    before = np.flatnonzero(steps <= steps[k] - HEAD_COURSE_MM)
    back = rc[int(before[-1]) if len(before) else 0]
    course = middle - back.astype(float)
    norm = float(np.hypot(*course))
    if norm == 0:
        return float(middle[0]), float(middle[1])
    course /= norm
    head = middle
    h, w = ctx.mask.shape
    for k in range(1, int(4 * width_mm / ctx.mm) + 1):
        p = middle + 0.5 * k * course
        r, c = round(p[0]), round(p[1])
        if not (0 <= r < h and 0 <= c < w and ctx.mask[r, c]):
            break
        head = p
    return float(head[0]), float(head[1])


def _end_bulb(
    ctx: _Context, head: tuple[float, float], segment: int
) -> tuple[float, tuple[float, float]]:
    """The widest round lumen (mm: twice the mask's largest distance to its wall) within
    ``CUTOFF_BULB_REACH_MM`` of ``head``, where the column of ``segment`` stops, over the
    mask pixels nearer to that segment's skeleton than to any other's (a duct that ends
    beside another, or beside a crossing's blob, does not borrow its width), and its
    centre (of equals, the one nearest ``head``; ``head`` itself where none of the lumen
    there is the segment's own)."""
    reach = CUTOFF_BULB_REACH_MM / ctx.mm
    k = int(np.ceil(reach))
    r, c = round(head[0]), round(head[1])
    h, w = ctx.mask.shape
    r0, c0, r1, c1 = max(r - k, 0), max(c - k, 0), min(r + k + 1, h), min(c + k + 1, w)
    rows, cols = np.mgrid[r0:r1, c0:c1]
    near = (np.hypot(rows - head[0], cols - head[1]) <= reach) & ctx.mask[r0:r1, c0:c1]
    if not near.any():
        return 0.0, head
    wall = ctx.wall_mm[r0:r1, c0:c1]
    pick = near.copy()
    owned = True
    # Owner of each pixel: the segment of the nearest skeleton pixel (those within the
    # window and a margin as wide as the widest lumen it may hold).
    sk = ctx.tree.skeleton_rc
    margin = 2 * k
    inside = (
        (sk[:, 0] >= r0 - margin)
        & (sk[:, 0] < r1 + margin)
        & (sk[:, 1] >= c0 - margin)
        & (sk[:, 1] < c1 + margin)
    )
    if inside.any():
        from scipy.spatial import cKDTree

        pts = np.column_stack([rows[near], cols[near]])
        _, nearest = cKDTree(sk[inside]).query(pts)
        own = ctx.tree.skeleton_segment[inside][nearest] == segment
        owned = bool(own.any())
        if owned:
            pick[near] = own
    depth = np.where(pick, wall, -1.0).ravel()
    top = np.flatnonzero(depth >= depth.max())
    j = int(top[np.argmin(np.hypot(rows.flat[top] - head[0], cols.flat[top] - head[1]))])
    centre = (float(rows.flat[j]), float(cols.flat[j])) if owned else head
    return float(2.0 * depth[j]), centre


def _in_other_duct(ctx: _Context, head: tuple[float, float], segment: int) -> bool:
    """Whether ``head``, where the column of ``segment`` stops, lies within
    ``CUTOFF_OTHER_RADII`` radii of another segment's centre line (each centre-line
    pixel's radius: the mask's distance to its wall there)."""
    tree = ctx.tree
    other = tree.skeleton_segment != segment
    d_mm = np.hypot(*(tree.skeleton_rc[other] - np.asarray(head)).T) * ctx.mm
    return bool(np.any(d_mm <= CUTOFF_OTHER_RADII * ctx.skeleton_radius_mm[other]))


def _full_stop(
    ctx: _Context, pr: _Profile, s: int, w_end: float, lo: int, hi: int
) -> tuple[float, float]:
    """How sure the abrupt end of segment ``s`` (width ``w_end`` over profile points
    ``lo:hi``) is the stop of a central duct dense with contrast (``CUTOFF_FULL_*``), and its
    end's contrast (median central excess over the tree's typical one, ``ctx.level``):
    0 off the central ducts or narrower than ``CUTOFF_FULL_MIN_MM``, else rising with
    that contrast from ``CUTOFF_FULL_EXCESS[0]`` to ``CUTOFF_FULL_EXCESS[1]``."""
    if (
        ctx.tree.generation[s] > CUTOFF_FULL_GENERATION
        or not CUTOFF_FULL_REACH_MM[0] <= pr.from_root_mm[-1] <= CUTOFF_FULL_REACH_MM[1]
        or w_end < CUTOFF_FULL_MIN_MM
        or ctx.level <= 0
    ):
        return 0.0, 0.0
    dense = float(median(pr.excess[lo:hi])) / ctx.level
    low, sure = CUTOFF_FULL_EXCESS
    return float(np.clip((dense - low) / (sure - low), 0.0, 1.0)), dense


def _cutoffs(ctx: _Context, cysts: list[Finding]) -> list[Finding]:
    """Free ends where the duct stops at a calibre well above a terminal duct's, or
    flares into a bulb (``CUTOFF_FLARE_MM``)."""
    out = []
    tree = ctx.tree
    for s, pr in enumerate(ctx.profiles):
        end = int(tree.end[s])
        if tree.degree[end] != 1 or tree.overlap[end] or end in set(tree.root.tolist()):
            continue
        n = len(pr.rc)
        if n < 4:
            continue
        cap = max(int(0.3 / ctx.mm), 1)
        span = max(int(2.0 / ctx.mm), 3)
        lo = max(n - cap - span, 0)
        hi = max(n - cap, lo + 1)  # the end: the last 2 mm but its cap
        w_end = float(median(pr.width_mm[lo:hi]))
        # No tapering along the segment: the end is as wide as the segment before it.
        feed = float(median(pr.width_mm[max(n // 5, 1) : max(lo, n // 5 + 2)]))
        abrupt = w_end >= CUTOFF_MIN_MM and w_end >= CUTOFF_TAPER * feed
        tip = pr.rc[-1]
        if not _inside_breast(ctx, tip, CUTOFF_EDGE_MM):
            continue
        if any(
            np.hypot(c.row - tip[0], c.col - tip[1]) * ctx.mm <= c.size_mm
            for c in cysts
            if c.confidence >= CYST_OVER_CUTOFF
        ):
            continue
        head = _column_head(ctx, pr.rc, w_end)
        if abrupt and _in_other_duct(ctx, head, s):
            continue
        bulb, centre = _end_bulb(ctx, head, s)
        start = CUTOFF_BULB_MIN_MM if abrupt else CUTOFF_FLARE_MM
        if not abrupt and bulb < start:
            continue
        conf = float(np.clip((bulb - start) / (CUTOFF_BULB_SURE_MM - start), 0, 1))
        full, dense = _full_stop(ctx, pr, s, w_end, lo, hi) if abrupt else (0.0, 0.0)
        if abrupt:
            why = (
                f"the duct ends at {w_end:.1f} mm wide (before it {feed:.1f} mm; terminal "
                f"ducts are under {CUTOFF_MIN_MM:g} mm)"
            )
        else:
            why = f"the duct flares to its end ({w_end:.1f} mm wide along its centre line)"
        if full > conf:
            conf = full
            why += (
                f", a central duct dense with contrast to its end ({dense:.1f} times the "
                "tree's typical duct)"
            )
        out.append(
            ctx.finding(
                FindingKind.CUT_OFF,
                head if abrupt else centre,
                max(w_end, bulb),
                s,
                conf,
                f"{why} in a lumen {bulb:.1f} mm wide, no filling beyond",
                along_mm=float(pr.from_root_mm[-1]),
            )
        )
    return out


def _pool_stop(image: Image, reading: Any, landmarks: Any) -> Finding:
    """The cut-off of a view whose contrast stopped in a pool at the root, with no tree
    beyond it (:attr:`~.reading.Reading.pooled`): where the pool ends, as wide as it;
    its distance from the nipple (from the root where no nipple was found)."""
    from .reading import POOL_MIN_WIDTH_MM

    mm = float(np.mean(image.object_spacing_mm))
    end = np.asarray(reading.pool_end_rc, float)
    width = float(reading.pool_width_mm)
    sure = (width - POOL_MIN_WIDTH_MM) / (POOL_SURE_MM - POOL_MIN_WIDTH_MM)
    root = np.asarray(reading.root_rc, float)  # a pool has a root (reading._root_pool)
    nipple = root if landmarks.nipple_rc is None else np.asarray(landmarks.nipple_rc, float)
    along = float(np.hypot(*(end - root))) * mm
    return Finding(
        kind=FindingKind.CUT_OFF,
        code=CODES.get(FindingKind.CUT_OFF),
        view=reading.view,
        row=float(end[0]),
        col=float(end[1]),
        size_mm=round(width, 2),
        distance_from_nipple_mm=round(float(np.hypot(*(end - nipple))) * mm, 1),
        path_length_mm=round(along, 1),
        confidence=float(np.clip(0.5 + 0.5 * sure, 0.0, 1.0)),
        evidence=(
            f"the contrast stops {along:.0f} mm from the root in a pool {width:.1f} mm wide "
            f"({reading.pool_area_mm2:.0f} mm2), no duct beyond it filled: the duct is "
            "obstructed at its opening (a papilloma in the lactiferous sinus)"
        ),
    )


def _cross_sections(ctx: _Context, rc: np.ndarray, half_px: np.ndarray | float) -> np.ndarray:
    """The contrast cross-section at each point of a path (pixels): the excess over the
    background summed along the path's normal within ``half_px`` (one, or one per point)
    of it (mm x excess; below 0 counts as 0), smoothed over 3 points."""
    from .landmarks import _sample_along

    c, nrm = _normals(rc)
    half = np.broadcast_to(np.asarray(half_px, float), (len(rc),))
    x = np.arange(-half.max(initial=0.0), half.max(initial=0.0) + 0.25, 0.5)
    v, _ = _sample_along(ctx.excess, c, nrm, x)
    v = np.where(np.abs(x)[None, :] <= half[:, None] + 1e-9, np.clip(v, 0.0, None), 0.0)
    area = v.sum(axis=1) * 0.5 * ctx.mm
    return ndi.uniform_filter1d(area, 3, mode="nearest")


def _side_medians(along: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(..., 2, n): at each point, the medians of ``values`` ((n,) or a stack (m, n) of
    profiles along the same path) over the points more than ``NARROWING_SIDE_MM[0]`` and
    at most ``NARROWING_SIDE_MM[1]`` before it along the duct, and over those as far after
    it (both NaN where either side has fewer than 3 points)."""
    near, far = NARROWING_SIDE_MM
    values = np.asarray(values, dtype=float)
    n = len(along)
    out = np.full((*values.shape[:-1], 2, n), np.nan)
    sides = []
    for lo, hi in (
        (np.searchsorted(along, along - far), np.searchsorted(along, along - near)),
        (
            np.searchsorted(along, along + near, side="right"),
            np.searchsorted(along, along + far, side="right"),
        ),
    ):
        idx = lo[:, None] + np.arange(max(int((hi - lo).max(initial=0)), 1))[None, :]
        sides.append((idx, idx < hi[:, None], hi - lo))
    ok = (sides[0][2] >= 3) & (sides[1][2] >= 3)
    if ok.any():
        for k, (idx, inside, _) in enumerate(sides):
            window = np.where(inside[ok], values[..., np.minimum(idx[ok], n - 1)], np.nan)
            out[..., k, ok] = np.nanmedian(window, axis=-1)
    return out


def _narrowing_paths(ctx: _Context) -> list[list[int]]:
    """The segment chains from a root along which narrowings are read: each leaf's path
    cut after its first segment beyond ``NARROWING_MAX_GENERATION`` or starting beyond
    ``NARROWING_REACH_MM`` (kept for the duct after a place near its start), those that
    are a prefix of another left out."""
    tree = ctx.tree
    chains = set()
    for leaf in np.flatnonzero(tree.n_children == 0).tolist():
        chain = _path_from_root(tree.parent, leaf)
        for i, s in enumerate(chain):
            pr = ctx.profiles[s]
            beyond = len(pr.from_root_mm) and pr.from_root_mm[0] > NARROWING_REACH_MM
            if tree.generation[s] > NARROWING_MAX_GENERATION or beyond:
                chain = chain[: i + 1]
                break
        chains.add(tuple(chain))
    prefixes = {c[:i] for c in chains for i in range(1, len(c))}
    return [list(c) for c in sorted(chains - prefixes)]


def _narrowing_confidence(ratio: float) -> float:
    """1 at no contrast through the place, 0.5 at ``NARROWING_AREA_RATIO`` of the duct's
    cross-section and 0 at ``NARROWING_NONE``, linear between."""
    if ratio <= NARROWING_AREA_RATIO:
        return 1.0 - 0.5 * ratio / NARROWING_AREA_RATIO
    return max(0.5 * (NARROWING_NONE - ratio) / (NARROWING_NONE - NARROWING_AREA_RATIO), 0.0)


def _narrowings(ctx: _Context) -> list[Finding]:
    """Duct narrowings (see the module's docstring), read along paths from the root (a
    stricture where the read tree branches or breaks has its duct on either side): the
    deepest place of each segment."""
    tree = ctx.tree
    near, far = NARROWING_SIDE_MM
    found = []  # (ratio, row, col, segment, along, width, sides width)
    for chain in _narrowing_paths(ctx):
        along, excess, w, rc, seg = _path_profile(ctx, chain)
        if len(along) < 9:
            continue
        step = float(along[1] - along[0])
        # The contrast cross-section over the duct's width (its median over 2 x far mm)
        # and 2 pixels either side of the centre line.
        typical = ndi.median_filter(w, max(round(2 * far / step), 1) | 1, mode="nearest")
        area = _cross_sections(ctx, rc, 0.5 * typical / ctx.mm + 2.0)
        (w_sides, area_sides, (before, after)) = _side_medians(along, np.stack([w, area, excess]))
        sides = w_sides.min(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = area / area_sides.min(axis=0)
            width = w / sides
            # The same duct on either side: as full of contrast before the place as
            # after it (where a duct meets the cannula, or runs into a branch, it is not).
            balance = np.where(
                np.maximum(before, after) > 0,
                np.minimum(before, after) / np.maximum(before, after),
                0.0,
            )
        ratio[
            ~np.isfinite(ratio)
            | (tree.generation[seg] > NARROWING_MAX_GENERATION)
            | (along < NARROWING_ROOT_MM)
            | (along > NARROWING_REACH_MM)
            | ~(balance >= NARROWING_SIDE_BALANCE)
            | ~(np.fmax(before, after) >= NARROWING_FILLED * ctx.level)
            | ~(sides >= NARROWING_MIN_MM)
        ] = np.inf
        width[~np.isfinite(width)] = np.inf
        k_near = max(round(near / step), 1)
        deepest = ratio <= ndi.minimum_filter1d(ratio, 2 * k_near + 1, mode="nearest")
        # A thread of contrast through the narrowing (within 1 mm of the place).
        reach = 2 * max(round(1.0 / step), 1) + 1
        thread = ndi.minimum_filter1d(excess, reach, mode="nearest") >= NARROWING_THREAD * ctx.level
        # The duct's course through the place: 2-5 mm before it and after it.
        ends = [np.searchsorted(along, along + d) for d in (-far, -near, near, far)]
        a0, a1, b0, b1 = (np.clip(e, 0, len(along) - 1) for e in ends)
        u, v = rc[a1] - rc[a0], rc[b1] - rc[b0]
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = np.sum(u * v, axis=1) / (np.hypot(*u.T) * np.hypot(*v.T))
        half = 0.5 * (far - near)  # each course at least half its span (not at a path's end)
        spans = (along[a1] - along[a0] >= half) & (along[b1] - along[b0] >= half)
        straight = (cos >= np.cos(np.radians(NARROWING_TURN_DEG))) & spans
        candidates = deepest & (ratio < NARROWING_NONE) & thread & straight
        for j in np.flatnonzero(candidates).tolist():
            around = slice(max(j - k_near, 0), j + k_near + 1)
            k = around.start + int(np.argmin(width[around]))  # the narrowest width near it
            if width[k] <= NARROWING_WIDTH_RATIO:
                found.append((float(ratio[j]), *rc[j], int(seg[j]), along[j], w[k], sides[k]))
    out: list[Finding] = []
    taken_segments: set[int] = set()
    taken = np.zeros((0, 2))
    for r, row, col, s, at, narrow, side in sorted(found, key=lambda t: t[0]):
        if s in taken_segments or (
            len(taken) and np.min(np.hypot(*(taken - (row, col)).T)) * ctx.mm <= near
        ):
            continue
        taken_segments.add(s)
        taken = np.vstack([taken, (row, col)])
        out.append(
            ctx.finding(
                FindingKind.NARROWING,
                (float(row), float(col)),
                float(narrow),
                s,
                _narrowing_confidence(r),
                f"lumen narrows to {narrow:.1f} mm from {side:.1f} mm on either side, its "
                f"contrast cross-section to {r:.0%} of the duct's",
                along_mm=float(at),
            )
        )
    return out


def _path_profile(ctx: _Context, chain: list[int]) -> tuple[np.ndarray, ...]:
    """Along (mm from the root), central excess, width, (row, col) and segment along the
    segments of ``chain`` (from a root down, each the parent of the next): their
    profiles joined in path order (a pixel the parent ends on and the child starts on
    taken once) and resampled every ``ctx.mm`` of path. (Each profile's ``from_root_mm``
    starts at its parent's smoothed length, which the parent's raw pixel steps overrun by
    up to some %: joined, the path runs on.)"""
    parts = []
    last = None
    for k in chain:
        pr = ctx.profiles[k]
        if len(pr.rc) == 0:
            continue
        first = 1 if last is not None and np.array_equal(pr.rc[0], last) else 0
        parts.append((pr, first, k))
        last = pr.rc[-1]
    if not parts:
        return (np.zeros(0),) * 3 + (np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    rc = np.concatenate([pr.rc[f:] for pr, f, _ in parts]).astype(float)
    excess = np.concatenate([pr.excess[f:] for pr, f, _ in parts])
    width = np.concatenate([pr.width_mm[f:] for pr, f, _ in parts])
    segment = np.concatenate([np.full(len(pr.rc) - f, k) for pr, f, k in parts])
    steps = np.hypot(*np.diff(rc, axis=0).T) * ctx.mm
    along = parts[0][0].from_root_mm[0] + np.r_[0.0, np.cumsum(steps)]
    grid = np.arange(along[0], along[-1] + 1e-9, ctx.mm)
    nearest = np.rint(np.interp(grid, along, np.arange(len(along)))).astype(np.int64)
    return (
        grid,
        np.interp(grid, along, excess),
        np.interp(grid, along, width),
        np.column_stack([np.interp(grid, along, rc[:, 0]), np.interp(grid, along, rc[:, 1])]),
        segment[nearest],
    )


def _caliber_narrowings(along: np.ndarray, excess: np.ndarray, width: np.ndarray, level: float):
    """Indices of the narrowings between saccules along one path sampled evenly (see the
    module's docstring, wall irregularity)."""
    if len(along) < 10 or level <= 0:
        return np.zeros(0, dtype=np.int64)
    step = float(along[1] - along[0])
    med, mean = IRREGULARITY_SMOOTH_MM
    e = ndi.median_filter(excess, max(round(med / step), 1) | 1, mode="nearest")
    e = ndi.uniform_filter1d(e, max(round(mean / step), 1), mode="nearest")
    # The lowest point within IRREGULARITY_SPACING_MM either side (the first of a flat run).
    k = max(round(IRREGULARITY_SPACING_MM / step), 1)
    lowest = (e <= ndi.minimum_filter1d(e, 2 * k + 1, mode="nearest")) & (
        e < ndi.maximum_filter1d(e, 3, mode="nearest")
    )
    dips = np.flatnonzero(lowest)
    dips = dips[np.r_[True, np.diff(dips) > k]] if len(dips) else dips
    side = max(round(IRREGULARITY_SIDE_MM / step), 3)
    dips = dips[(along[dips] >= IRREGULARITY_ROOT_MM) & (dips >= side) & (dips + side < len(e))]
    if len(dips) == 0:
        return dips.astype(np.int64)
    # The most contrast and the widest within ``side`` samples before and after each dip
    # (window i holds the samples i .. i + side - 1), and the least width within 2 of it.
    e_top = sliding_window_view(e, side).max(axis=1)
    w_top = sliding_window_view(width, side).max(axis=1)
    saccule = np.minimum(e_top[dips - side], e_top[dips + 1])
    wide = np.minimum(w_top[dips - side], w_top[dips + 1])
    narrow = sliding_window_view(width, 5).min(axis=1)[dips - 2]
    keep = (
        (saccule >= IRREGULARITY_SACCULE * level)
        & (IRREGULARITY_FILLED * level <= e[dips])
        & (e[dips] <= IRREGULARITY_DEPTH * saccule)
        & (narrow <= IRREGULARITY_WIDTH * wide)
    )
    return dips[keep].astype(np.int64)


def _wall_irregularity(ctx: _Context) -> list[Finding]:
    """Irregular stretches (see the module's docstring): where stretches read along
    several paths share a narrowing (within 1 mm), the one with the most narrowings."""
    tree = ctx.tree
    if tree.n_segments == 0:
        return []
    stretches = []  # (count, places (row, col), along of each)
    for leaf in np.flatnonzero(tree.n_children == 0).tolist():
        along, excess, width, rc, _ = _path_profile(ctx, _path_from_root(tree.parent, leaf))
        js = _caliber_narrowings(along, excess, width, ctx.level)
        for i in range(len(js)):
            run = js[i:][along[js[i:]] - along[js[i]] <= IRREGULARITY_STRETCH_MM]
            if len(run) >= IRREGULARITY_MIN_COUNT:
                stretches.append((len(run), rc[run], along[run]))
    out: list[Finding] = []
    taken = np.zeros((0, 2))
    same = 1.0 / ctx.mm  # pixels: narrowings this near are one
    lo, hi = IRREGULARITY_CONFIDENCE
    span = IRREGULARITY_MAX_COUNT - IRREGULARITY_MIN_COUNT
    for count, places, at in sorted(stretches, key=lambda t: (-t[0], t[2][0])):
        if len(taken) and np.min(np.hypot(*(places[:, None] - taken[None]).T)) <= same:
            continue
        taken = np.vstack([taken, places])
        middle = len(places) // 2
        length = float(at[-1] - at[0])
        confidence = lo + (hi - lo) * min((count - IRREGULARITY_MIN_COUNT) / span, 1.0)
        out.append(
            ctx.finding(
                FindingKind.WALL_IRREGULARITY,
                tuple(float(v) for v in places[middle]),
                length,
                None,
                confidence,
                f"{count} narrowings between saccules over {length:.0f} mm of one duct "
                "(caliber irregularity)",
                along_mm=float(at[middle]),
            )
        )
    return out


def _ectasia(ctx: _Context) -> list[Finding]:
    tree = ctx.tree
    # A filled duct's central excess grows with its calibre (the path through the
    # contrast): a wide segment holding much less per mm of width than the tree's ducts do
    # is not a widened duct but tissue or a blob the segmentation took in.
    held = np.array(
        [
            float(median(pr.excess)) / max(float(tree.calibre_mm[s]), 1e-9)
            if len(pr.excess)
            else 0.0
            for s, pr in enumerate(ctx.profiles)
        ]
    )
    long_enough = tree.length_mm >= 2.0
    typical = float(np.median(held[long_enough])) if long_enough.any() else 0.0
    best = None
    for s, pr in enumerate(ctx.profiles):
        cal = float(tree.calibre_mm[s])
        start = float(pr.from_root_mm[0])
        limit = ECTASIA_AMPULLA_MM if start < AMPULLA_MM else ECTASIA_MM
        if tree.length_mm[s] < 2.0 or cal <= limit or held[s] < ECTASIA_FILLED * typical:
            continue
        excess = cal / limit
        if best is None or excess > best[0]:
            best = (excess, s, cal, limit)
    if best is None:
        return []
    _, s, cal, limit = best
    # Ectasia is a duct widened along its course, not one wide spot: the confidence grows
    # with the length of duct wider than the limit (ECTASIA_SURE_MM for 1).
    wide = [
        k
        for k, prof in enumerate(ctx.profiles)
        if tree.length_mm[k] >= 2.0
        and held[k] >= ECTASIA_FILLED * typical
        and tree.calibre_mm[k]
        > (ECTASIA_AMPULLA_MM if prof.from_root_mm[0] < AMPULLA_MM else ECTASIA_MM)
    ]
    wide_mm = float(sum(tree.length_mm[k] for k in wide))
    pr = ctx.profiles[s]
    k = len(pr.rc) // 2
    return [
        ctx.finding(
            FindingKind.ECTASIA,
            tuple(pr.rc[k].tolist()),
            cal,
            s,
            float(np.clip(wide_mm / ECTASIA_SURE_MM, 0, 1)),
            f"duct {cal:.1f} mm wide (> {limit:g} mm"
            f"{' at the ampulla' if limit == ECTASIA_AMPULLA_MM else ''}); "
            f"{len(wide)} segment(s), {wide_mm:.0f} mm of duct, wider than normal",
            along_mm=float(pr.from_root_mm[k]),
        )
    ]


def _rays(
    smooth: np.ndarray, centre_rc: np.ndarray, reach: np.ndarray, rays: np.ndarray, mm: float
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Profiles of ``smooth`` along ``rays`` (unit vectors) from ``centre_rc`` out to
    ``reach`` (pixels): the sample points, the values, the centre's value (median of the
    first samples) and each ray's half-maximum radius (mm; the reach where it stays
    above half)."""
    from .landmarks import _sample_along

    v, pts = _sample_along(smooth, np.reshape(centre_rc, (1, 2)), rays, reach)
    centre = float(median(v[:, :3]))
    below = v < 0.5 * centre
    half = reach[np.where(below.any(axis=1), below.argmax(axis=1), len(reach) - 1)] * mm
    return pts, v, centre, half


def _log_blobs(image: np.ndarray, min_sigma: float, max_sigma: float) -> np.ndarray:
    """Blobs (row, col, sigma; float32) of a float32 ``image``: the local maxima over place
    and scale of its scale-normalised Laplacian of Gaussian on 8 scales spaced evenly in
    log, over 0.05. These are the blobs of ``skimage.feature.blob_log(image, min_sigma,
    max_sigma, num_sigma=8, threshold=0.05, overlap=1.0, log_scale=True)``, without its
    pruning, which at an overlap of 1 drops none but compares every pair of blobs within
    reach (9,000 pairs on a dense tree, 0.3 s under the profiler)."""
    from skimage.feature import peak_local_max

    sigmas = np.logspace(*np.log10(np.float32([min_sigma, max_sigma])), 8)
    cube = np.stack([-ndi.gaussian_laplace(image, s) * s**2 for s in sigmas], axis=-1)
    peaks = peak_local_max(
        cube, threshold_abs=0.05, exclude_border=False, footprint=np.ones((3,) * 3)
    )
    return np.column_stack([peaks[:, :2].astype(np.float32), sigmas[peaks[:, 2]]])


def _cysts(ctx: _Context) -> list[Finding]:
    """Round pools of contrast on the tree: blobs of the excess (Laplacian of Gaussian on
    a ``CYST_PITCH_MM`` grid) whose half-maximum radius is the same along every ray from
    their centre (see the module's docstring)."""
    from .landmarks import _block_mean

    mask = ctx.mask
    if not mask.any():
        return []
    typical = float(np.percentile(ctx.excess[mask], 75))
    if typical <= 0:
        return []
    k = max(1, round(CYST_PITCH_MM / ctx.mm))
    step = k * ctx.mm  # mm per grid cell
    # Only around the tree (a cyst is on it): its bounding box and a margin, in whole cells.
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    margin = int(CYST_RADII_MM[1] / ctx.mm)
    r0 = max(rows[0] - margin, 0) // k * k
    c0 = max(cols[0] - margin, 0) // k * k
    r1, c1 = rows[-1] + margin + 1, cols[-1] + margin + 1
    small = np.clip(_block_mean(ctx.excess[r0:r1, c0:c1], k) / typical, 0.0, None)
    # A disc of radius r gives the largest Laplacian-of-Gaussian response at r / sqrt(2).
    lo, hi = (r / np.sqrt(2.0) / step for r in CYST_RADII_MM)
    blobs = _log_blobs(small, lo, hi)
    smooth = ndi.gaussian_filter(ctx.excess, CYST_SMOOTH_MM / ctx.mm)
    ang = np.linspace(0.0, 2.0 * np.pi, CYST_RAYS, endpoint=False)
    rays = np.column_stack([np.sin(ang), np.cos(ang)])
    candidates = []
    for r, c, sigma in blobs:
        if small[int(r), int(c)] < 0.5 * CYST_MIN_EXCESS:
            continue
        centre_rc = np.array([r, c]) * k + 0.5 * (k - 1) + (r0, c0)
        reach = np.arange(0.0, 3.0 * sigma * np.sqrt(2.0) * k + 1.0, 0.5)  # pixels
        # The blob's centre is only as good as its scale's grid: move it to the middle
        # of the rays' half-maximum points (off by d from a circle's centre, the radius
        # along ray u reads R + d.u, so d = 2 mean(radius u); rays running out along a
        # duct are held to 1.5 times the median).
        for _ in range(CYST_RECENTRE):
            pts, v, centre, half = _rays(smooth, centre_rc, reach, rays, ctx.mm)
            held = np.minimum(half, 1.5 * median(half)) / ctx.mm
            centre_rc = centre_rc + 2.0 * (held[:, None] * rays).mean(axis=0)
        pts, v, centre, half = _rays(smooth, centre_rc, reach, rays, ctx.mm)
        if centre < CYST_MIN_EXCESS * typical:
            continue
        half_mm = float(median(half))
        if half_mm < CYST_MIN_HALF_MM:
            continue
        scatter = float(np.std(half) / max(np.mean(half), 1e-9))
        span = CYST_ROUND_NONE - CYST_ROUND_SURE
        conf = float(np.clip((CYST_ROUND_NONE - scatter) / span, 0, 1))
        if conf <= 0:
            continue
        # A pool stands out of the tissue: beyond its edge the excess falls to the
        # background, but for the ducts that cross or feed it (a round spot inside a wider
        # bright region is not a pool).
        j = min(int(np.searchsorted(reach * ctx.mm, CYST_OUTSIDE_AT * half_mm)), len(reach) - 1)
        if float(median(v[:, j])) > CYST_OUTSIDE * centre:
            continue
        # A cyst fills through a duct of the tree: the read mask covers the pool or rings
        # it (a ridge filter may take its rim only), so most rays from its centre meet the
        # mask between half and 1.2 times its half-maximum radius; a duct passing a blob
        # of tissue meets a few.
        ring = (reach * ctx.mm >= 0.5 * half_mm) & (reach * ctx.mm <= 1.2 * half_mm)
        rr = np.clip(np.round(pts[:, ring, 0]).astype(int), 0, mask.shape[0] - 1)
        cc = np.clip(np.round(pts[:, ring, 1]).astype(int), 0, mask.shape[1] - 1)
        on_tree = float(mask[rr, cc].any(axis=1).mean())
        if on_tree < CYST_ON_TREE:
            continue
        # Its size: where the rays fall steepest (the pool's edge; half maximum lies inside
        # it on a dome).
        edge = reach[np.argmin(np.diff(v, axis=1), axis=1)] + 0.25
        size = 2.0 * float(median(edge)) * ctx.mm
        if size < CYST_MIN_MM:
            continue
        candidates.append((conf, centre_rc, size, scatter, centre / typical))
    out: list[Finding] = []
    for conf, rc, size, scatter, contrast in sorted(candidates, key=lambda t: -t[0]):
        if any(np.hypot(f.row - rc[0], f.col - rc[1]) * ctx.mm < 0.5 * f.size_mm for f in out):
            continue
        out.append(
            ctx.finding(
                FindingKind.CYST_FILL,
                (float(rc[0]), float(rc[1])),
                size,
                None,
                conf,
                f"round pool of contrast {size:.1f} mm across on the duct tree, {contrast:.1f} x "
                f"the ducts' contrast, its half-maximum radius varying {scatter:.0%} around it",
            )
        )
    return out


def _extravasation(ctx: _Context) -> list[Finding]:
    """Contrast outside the tree: bright over the background next to the mask, off it."""
    level = ctx.level  # 0 without a centre line
    if level <= 0:
        return []
    near = ndi.binary_dilation(ctx.mask, iterations=max(int(3.0 / ctx.mm), 1))
    off = ndi.binary_dilation(ctx.mask, iterations=max(int(0.6 / ctx.mm), 1))
    cand = (ctx.excess >= 0.5 * level) & near & ~off
    if ctx.breast is not None:
        cand &= ctx.breast
    lab, k = ndi.label(cand)
    if k == 0:
        return []
    areas = np.bincount(lab.ravel())[1:] * ctx.mm**2
    out = []
    for i in np.flatnonzero(areas >= EXTRAVASATION_MIN_MM2):
        rr, cc = np.nonzero(lab == i + 1)
        size = float(max(np.ptp(rr), np.ptp(cc)) + 1) * ctx.mm
        out.append(
            ctx.finding(
                FindingKind.EXTRAVASATION,
                (float(rr.mean()), float(cc.mean())),
                size,
                None,
                0.3 + 0.7 * float(np.clip(areas[i] / (4 * EXTRAVASATION_MIN_MM2), 0, 1)),
                f"{areas[i]:.0f} mm2 of contrast outside the ducts, beside them",
            )
        )
    return out


def find_findings(
    image: Image,
    reading: Any,
    landmarks: Any = None,
    *,
    bubbles: list[Any] | None = None,
    metal: list[tuple[float, float, float]] | None = None,
) -> list[Finding]:
    """The findings of one view.

    Parameters
    ----------
    image : Image
        The view (FOR PROCESSING or FOR PRESENTATION).
    reading : Reading
        Its reading (:func:`~ductogram.analysis.reading.read_view`); a reading loaded from
        JSON (no tree in memory) has its tree rebuilt from its mask.
    landmarks : Landmarks, optional
        The view's landmarks (:func:`~ductogram.analysis.landmarks.find_landmarks`): the
        nipple for the distances and the breast for the edge test; found when not given.
    bubbles : list of BubbleSite, optional
        The view's air-bubble sites (:func:`~.quality.quality_and_bubbles`, which gives
        them with the quality flags from the same work); found when not given.
    metal : list of (row, col, radius), optional
        Where metal lies in the view (pixels; :func:`~.quality.metal_region` of a metal
        flag): findings within ``METAL_MARGIN_MM`` of it are the metal's, not the ducts',
        and are left out, but for lucencies (filling defects, air bubbles), which metal
        does not make.

    Returns
    -------
    list of Finding
        Abnormal findings and air bubbles, most confident first; empty when the view has
        no tree or nothing abnormal.

    Raises
    ------
    ParameterError
        If ``image`` is not an :class:`~ductogram.core.Image`, ``reading`` not a
        ``Reading``, or the reading is of an image of another shape.

    Examples
    --------
    >>> import numpy as np
    >>> from ductogram.core import Image
    >>> from ductogram.analysis.reading import Reading
    >>> img = Image(np.zeros((32, 32)), (0.1, 0.1))
    >>> find_findings(img, Reading(image_shape=(32, 32), pixel_spacing_mm=(0.1, 0.1),
    ...                            magnification=1.0))
    []
    """
    _check(image, reading)
    if not reading.segments and not reading.pooled:
        return []
    if landmarks is None:
        from .landmarks import find_landmarks

        landmarks = find_landmarks(image)
    if reading.pooled:
        return [_pool_stop(image, reading, landmarks)]
    ctx = _Context(image, reading, landmarks)
    if ctx.tree.n_segments == 0:
        return []
    cysts = _cysts(ctx)
    air = _bubbles(ctx, bubbles)
    found = _not_bubbles(ctx, _lucencies(ctx), air) + air + _cutoffs(ctx, cysts) + cysts
    found += _narrowings(ctx) + _wall_irregularity(ctx) + _ectasia(ctx) + _extravasation(ctx)
    # What lies on flagged metal is the metal's, but for lucencies: metal, the brightest
    # thing in the view, leaves none in the contrast (and a falsely flagged metal, the
    # densest contrast, may hold a mass's).
    lucent = (FindingKind.FILLING_DEFECT, FindingKind.AIR_BUBBLE)
    for row, col, radius in metal or []:
        reach = radius + METAL_MARGIN_MM / ctx.mm
        found = [f for f in found if f.kind in lucent or np.hypot(f.row - row, f.col - col) > reach]
    defects = [f for f in found if f.kind == FindingKind.FILLING_DEFECT]
    if len(defects) >= 2:
        multiple = CODES["multiple filling defects"]
        found = [
            f.model_copy(update={"code": multiple}) if f.kind == FindingKind.FILLING_DEFECT else f
            for f in found
        ]
    return sorted(found, key=lambda f: -f.confidence)
