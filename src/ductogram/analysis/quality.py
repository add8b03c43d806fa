"""Image quality of one ductogram view: what went wrong, with the action that mends it.

:func:`assess_quality` returns a list of :class:`QualityFlag` (empty for a good view).
Each flag has a code, a description, the recommended action and the numbers it rests on
(:func:`quality_evidence` gives every detector's numbers, flagged or not; :func:`flagged`
applies the thresholds). The detectors are separate functions, so that other steps (the
findings) can reuse them.

Common ground (:class:`_Context`): the duct scale (:func:`~.landmarks.duct_scale`:
attenuation for a FOR PROCESSING image, normalised display values for a FOR PRESENTATION
one); on a work grid of ``WORK_PITCH_MM``, the tissue background (a grey opening
``BACKGROUND_MM`` wide, wider than any blush) and the *excess* over it; the **duct
contrast** (``DUCT_PERCENTILE`` of the excess on the read duct mask inside the breast's
interior) and the **tissue contrast** (the same off the ducts). Levels are ratios to these
or to the noise σ.

- :func:`no_contrast_evidence` (**no contrast / cannulation failed**): less than
  ``MIN_TREE_MM`` of duct read, or a duct mask that stands less than
  ``MIN_DUCT_OVER_TISSUE`` times the tissue contrast above the background (what was read
  is tissue), or a short tree (< ``SHORT_TREE_MM``) below ``MIN_SHORT_DUCT_OVER_TISSUE``;
- :func:`under_filling_evidence` (**under-filling**): fewer than ``MIN_GENERATIONS``
  generations read (counting the segments of at least ``GENERATION_MIN_MM`` along a path);
- :func:`extravasation_evidence` (**extravasation**): an opening with a disc
  ``BLUSH_OPENING_MM`` wide removes the ducts; what stays above ``BLUSH_LEVEL`` times the
  duct contrast (``BLUSH_LEVEL_PRESENTATION`` on a display image, whose unsharp mask lifts
  the ducts over a broad blush), within ``BLUSH_NEAR_DUCT_MM`` of the ducts, cut at half
  its own peak, round and at least ``BLUSH_MIN_AREA_MM2``, is a blush outside the tree;
- :func:`air_bubble_evidence` (**air bubbles**): along each read duct path of at least
  ``BUBBLE_MIN_CALIBRE_MM`` within ``BUBBLE_REACH_MM`` of the root, moved onto the duct's
  axis (``BUBBLE_AXIS_MM``; on a FOR PRESENTATION view with the top of its display range
  expanded again, :func:`~.landmarks.undo_display_shoulder`, as the findings read it),
  every short dip of the duct's cross-section is measured
  (:class:`BubbleDip`, :func:`bubble_dips`): how much of the centre line and of the
  cross-section it takes (a sphere of radius ρ in a lumen of radius R takes ρ/R of the
  one and (ρ/R)² of the other, a seam across the duct the same share of both), how long
  it is, whether the image is a pit there, whether the path runs straight through it, and
  how well a sphere in the lumen explains what is missing (:func:`_sphere_fit`, a matched
  filter), and the excess around it on a grid along the duct (:func:`_dip_patch`).
  :class:`BubbleClassifier`, a generalised additive logistic model of these measures and
  of the patch's principal components, trained on simulated views, gives each dip its
  probability of being a
  bubble: from ``BUBBLE_CLEAR_P`` a clear site, one of which flags the view, from
  ``BUBBLE_FAINT_P`` a faint one, ``BUBBLE_MIN_FAINT`` of which do (bubbles come several
  at a time). The sites, for the findings: :func:`bubble_sites`, a list of
  :class:`BubbleSite`;
- :func:`speck_evidence` (**deodorant / powder specks**): at least ``SPECK_MIN_COUNT``
  isolated dots (white top-hat over ``SPECK_SIGMAS`` noise σ, their whole component above
  ``SPECK_LOW_SIGMAS`` at most ``SPECK_MAX_AREA_MM2``) within ``SPECK_SKIN_MM`` of the skin
  line and outside the duct tree's hull;
- :func:`metal_evidence` (**jewellery or metal**): an object of at least
  ``METAL_MIN_AREA_MM2`` brighter than ``METAL_RATIO`` times the reference contrast (the
  duct contrast, capped at ``METAL_TISSUE_RATIO`` times the tissue's) whose edge rises from
  20 % to 80 % of its peak within ``METAL_EDGE_MM`` (metal stops the beam: flat top,
  sharp edge); on a display image, where the display's shoulder puts metal level with the
  widest ducts, the display's flat top instead (within ``METAL_PLATEAU`` of the top over a
  disc of ``METAL_PLATEAU_MM``, ``METAL_PLATEAU_DROP`` lower just outside it). Its place
  (:func:`metal_region`) tells the findings what to leave out;
- :func:`motion_evidence` (**motion blur**): blur along one direction makes neighbouring
  pixels alike along it: the correlation of the fine-scale residual (less a Gaussian of
  σ = 1 pixel, over its local spread) between neighbours along rows, columns and both
  diagonals differs by more than ``MOTION_ANISOTROPY`` between directions. In simulated
  views the quantum noise is blurred with the image; on a real detector the noise is added
  after the motion, so there the anatomy's edges carry the sign (a weakness to revisit).

Thresholds marked [measured] were tuned on simulated FOR PROCESSING views (seeds
1000-1079 of :func:`ductogram.evaluate.quality_eval.simulate_quality_case`); the air
bubbles' classifier was trained on 1000-1069, 5000-5049 and 7000-7139, both pixel kinds
(``scripts/train_bubbles.py``). All are reported on seeds 2000-2139
(``evaluate_quality``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import ndimage as ndi

from ..core.errors import ParameterError
from ..core.image import Image, PixelKind
from .classifier import AdditiveLogisticModel
from .landmarks import _block_mean, _grey_opening, contrast_scale
from .stats import median

__all__ = [
    "BUBBLE_FEATURES",
    "BUBBLE_PATCH_SHAPE",
    "BUBBLE_PATCH_SIZE",
    "BUBBLE_ROW_SIZE",
    "QUALITY_CODES",
    "BubbleClassifier",
    "BubbleDip",
    "BubbleSite",
    "QualityFlag",
    "air_bubble_evidence",
    "assess_quality",
    "bubble_classifier",
    "bubble_dips",
    "bubble_shaped",
    "bubble_site_picks",
    "bubble_sites",
    "extravasation_evidence",
    "flagged",
    "metal_evidence",
    "metal_region",
    "motion_evidence",
    "no_contrast_evidence",
    "quality_and_bubbles",
    "quality_evidence",
    "speck_evidence",
    "under_filling_evidence",
]

MIN_TREE_MM = 10.0  # less filled duct than this is no ductogram: the main duct alone is
# longer (first branch point 2-30 mm, mean 8 mm from the orifice: Ramsay 2005) [estimate]
MIN_DUCT_OVER_TISSUE = 1.2  # filled ducts stand this many times higher over the tissue
# background than the tissue's own texture does (99th percentiles) [measured: 1.7-7 with
# contrast, 0-1.7 without]
SHORT_TREE_MM = 60.0  # a short read tree must stand out more: a cannula and a little
MIN_SHORT_DUCT_OVER_TISSUE = 2.0  # tissue texture read as duct [measured]
GENERATION_MIN_MM = 2.0  # a generation counts when a duct of it is seen this long [estimate]
MIN_GENERATIONS = 3  # a diagnostic ductogram shows the main duct, its segmental and
# subsegmental branches (clinical.md §2.1: lactiferous sinus → segmental → subsegmental);
# fewer generations leave the periphery, where papillomas sit, unseen [estimate]
WORK_PITCH_MM = 0.5  # working pitch of the area detectors (blush, metal) [estimate]
BACKGROUND_PITCH_MM = 1.0  # pitch of the background's opening
BACKGROUND_MM = 40.0  # tissue background: grey opening this wide, wider than a blush (a
# soaked sphere up to 11 mm in radius, stretched up to 1.7 times by compression)
INTERIOR_MM = 3.0  # the interior of the breast: this far inside the skin line
DUCT_PERCENTILE = 99.0  # the duct contrast: this percentile of the excess on the duct mask
TISSUE_PERCENTILE = 99.0  # the tissue contrast: the same off the ducts
BLUSH_OPENING_MM = 4.0  # removes ducts (< 3 mm wide, ectatic up to ~3.5 mm) [estimate]
BLUSH_LEVEL = 0.42  # of the duct contrast [measured: 0.44-0.52 with extravasation,
# mostly 0.3-0.4 in clean views (dense tissue, duct crowns)]
BLUSH_LEVEL_PRESENTATION = 0.35  # ... on a FOR PRESENTATION view, whose unsharp mask
# (sigma 4 mm, imaging.presentation) lifts the ducts over a blush several mm across
# [measured on the FOR PRESENTATION views of TUNING_SEEDS: extravasation found in 5, 7,
# 8, 10 of 10 views at 0.42, 0.38, 0.35, 0.32, with 0, 2, 3, 6 of 130 false flags]
BLUSH_NEAR_DUCT_MM = 5.0  # extravasated contrast lies beside the duct it left
BLUSH_CIRCULARITY = 0.7  # soaked tissue is a round blush; tissue and duct crowns are not
BLUSH_MIN_AREA_MM2 = 20.0  # a soaked sphere of 0.05 mL at 25 % porosity is ~4 mm in
# radius (50 mm² in projection, 12 mm² at half its peak); smaller is a lobular blush [estimate]
# Air bubbles (filling.py: 1-4 spheres of 0.5-0.9 of the lumen radius, within 30 mm of the
# orifice along the duct; 0.35-1.2 mm across in the image). The dips are weighed by
# BubbleClassifier, trained on tuning views (scripts/train_bubbles.py: seeds 1000-1069 and
# 7000-7139 of simulate_quality_case, 5000-5049 all with bubbles).
BUBBLE_REACH_MM = 50.0  # dips this close to the read root in the image are weighed
# (compression stretches the 30 mm along the duct: bubbles out to 47 mm in tuning views)
BUBBLE_MIN_CALIBRE_MM = 0.6  # ... on read segments this wide or wider [measured: 2 % of
# the bubbles' segments narrower]
BUBBLE_CONTEXT_MM = 3.0  # the duct's level: the median along the path this far each side
BUBBLE_SIDE_MM = (0.5, 1.5)  # the duct goes on on both sides of the dip
BUBBLE_MARGIN_PX = 1.5  # the cross-section spans the read calibre and this margin
BUBBLE_AXIS_MM = 2.0  # the profiles are read on the duct's axis: the read path moved to the
# centroid of the duct's cross-section, its median over this length (more than twice a
# bubble's size, so a bubble does not move it); a read path may run along one side of a
# wide duct
BUBBLE_TEMPLATE_MM = 1.2  # the sphere is fitted to the strip this far either side of a dip
BUBBLE_TEMPLATE_GAP_MM = 1.0  # ... against the duct as it runs on, from this far ...
BUBBLE_TEMPLATE_CONTEXT_MM = 3.0  # ... to this far either side
BUBBLE_TEMPLATE_RADII = (0.4, 0.55, 0.7, 0.85)  # spheres tried, shares of the lumen's radius
BUBBLE_SMOOTH_PX = 0.6  # Gaussian σ of the image before the profiles are read [estimate]
BUBBLE_PATCH_ALONG_MM = 1.6  # the dip's patch: the excess this far along the duct each side
BUBBLE_PATCH_ACROSS = 1.5  # ... and this many lumen radii across it each side, ...
BUBBLE_PATCH_POINTS = (17, 13)  # ... on a grid of this many points (0.2 mm along), folded
# about the dip into a quarter (9 x 7): a bubble is symmetric across and along its duct
BUBBLE_PATCH_COMPONENTS = 8  # the patch's principal components the classifier weighs
# [measured, 5 folds by seed on the tuning views, the flag's rule at 0.5 / 0.3: with 0 / 4
# / 8 / 12 / 16 components, 0.815 / 0.838 / 0.831 / 0.823 / 0.831 of the views with
# bubbles flagged at 4.4 / 3.3 / 2.3 / 3.1 / 3.3 % false flags]
BUBBLE_SAME_MM = 1.0  # sites closer than this are one bubble (at most 1.2 mm across)
BUBBLE_MIN_CURVATURE = 0.05  # a bubble is a pit: the image curves up at the dip's floor
# (the largest Hessian eigenvalue at σ = 1 pixel, times σ², over the line's level; a sphere
# of 0.6 R gives 0.096) [measured on the tuning views: 79 % of the dips on a bubble pass;
# the views' flags keep their sensitivity (5 folds by seed) while false flags go from 2.6 %
# to 2.3 %: a path's profile sagging where the duct thins or overlaps is flat]
BUBBLE_SEAM_SHARE = 0.9  # a dip that takes this share of the cross-section or more of what
BUBBLE_SEAM_MM = 0.4  # ... it takes of the centre line, over less than this along the duct,
# is a seam or stripe across it (a bubble that fills the lumen is longer) [estimate]
BUBBLE_CLEAR_P = 0.5  # a dip this sure is a clear bubble: one flags the view
BUBBLE_FAINT_P = 0.3  # ... one this sure a faint one: BUBBLE_MIN_FAINT of them flag it
# [measured, 5 folds by seed on the tuning views (scripts/train_bubbles.py evaluate): 0.831
# of the 130 views with bubbles flagged, 2.3 % of the 390 without; with 0.3, a clear
# probability of 0.4 / 0.45 / 0.6: 0.831 / 0.831 / 0.808 at 5.4 / 3.1 / 1.5 %. Without
# the patch and the display's shoulder undone: 0.762 at 2.3 %]
BUBBLE_MIN_FAINT = 2  # sites (clear or faint) that flag a view: bubbles come 1-4 at a time
SPECK_OPENING_MM = 0.6  # wider than a speck (0.1-0.4 mm), narrower than most ducts
SPECK_SIGMAS = 12.0  # white top-hat over the noise σ [measured]
SPECK_MAX_AREA_MM2 = 0.2  # a speck is a dot [estimate]
SPECK_LOW_SIGMAS = 4.0  # ... and all of its component above this is a dot [measured]
SPECK_MIN_COUNT = 5  # deodorant leaves many; one or two dots may be calcifications
SPECK_DUCT_MARGIN_MM = 3.0  # dots this close to the duct tree's hull are its own
SPECK_SKIN_MM = 40.0  # deodorant and powder lie on the skin: in projection, near the skin
# line [measured: 2-35 mm on simulated views; tissue dots lie deeper]
METAL_RATIO = 1.3  # object contrast over the reference (duct) contrast [measured]
METAL_TISSUE_RATIO = 4.0  # ... or over the tissue contrast, this many times [measured]
METAL_MIN_AREA_MM2 = 4.0  # a pendant, clip or piercing; the cannula (0.3 mm) is thinner
METAL_OPENING_MM = 1.0  # removes the cannula and its tubing
METAL_EDGE_MM = 0.6  # metal stops the beam: its edge rises from 20 % to 80 % within this;
# a projected sphere of contrast takes 0.4 of its radius (>= 1.5 mm) [measured]
METAL_PLATEAU = 0.01  # FOR PRESENTATION: metal is the display's brightest object, flat
# within this (duct-scale units) of the top over its area: no beam passes it, and the
# display's shoulder and curve flatten what is above the window ...
METAL_PLATEAU_MM = 1.0  # ... and the flat top holds a disc this wide (radius, mm): the
# brightest part of a duct or pool of contrast is a thin line or a small disc [measured on
# the FOR PRESENTATION views of TUNING_SEEDS: a 6 x 4 mm pendant's plateau 21-22 mm2, its
# inscribed radius 2.05-2.23 mm; the brightest plateau of clean views about 1 mm2, 0.2 mm]
METAL_PLATEAU_RIM_MM = (0.2, 0.6)  # ... and its edge is sharp: this far outside it ...
METAL_PLATEAU_DROP = 0.08  # ... the view is at least this much below the top (duct-scale
# units) [measured on the same views: 0.17-0.32 around the pendant; 0.013-0.018 around the
# flat top of dense tissue in views with little or no contrast, which the display's
# shoulder flattens too (9 of 130 views flagged without this)]
MOTION_ANISOTROPY = 0.12  # neighbour correlation, most minus least correlated direction
# [measured: 0.02-0.06 on still views, 0.2-0.8 blurred by 0.3-1 mm]
MOTION_EDGE_MM = 3.0  # residuals this close to the skin or a duct are left out

QUALITY_CODES = {
    "no_breast": (
        "no breast found in the field",
        "check the image (exposure, positioning) and repeat the view",
    ),
    "no_contrast": (
        "no contrast-filled duct: cannulation failed or nothing was injected",
        "repeat the injection after re-cannulation of the discharging duct",
    ),
    "under_filling": (
        "under-filling: too few duct generations filled",
        "inject more contrast (0.2-0.5 mL increments) and repeat the view",
    ),
    "extravasation": (
        "extravasation: a diffuse contrast blush outside the duct tree",
        "stop the injection; the view may be read with care, repeat another day if needed",
    ),
    "air_bubbles": (
        "air bubbles: round lucencies in the proximal ducts",
        "flush the cannula and tubing of air and repeat the injection and view",
    ),
    "specks": (
        "deodorant or powder specks on the skin",
        "wipe the skin (axilla and breast) clean and repeat the view",
    ),
    "metal": (
        "jewellery or metal in the field",
        "remove jewellery and repeat the view",
    ),
    "motion_blur": (
        "motion blur: the image is unsharp along one direction",
        "repeat the view with the patient still (firm compression, breath held)",
    ),
}


class QualityFlag(BaseModel):
    """One image-quality problem of a view."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description=f"one of {', '.join(QUALITY_CODES)}")
    description: str
    action: str = Field(description="the recommended action")
    evidence: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def of(cls, code: str, evidence: dict[str, Any]) -> QualityFlag:
        description, action = QUALITY_CODES[code]
        return cls(
            code=code,
            description=description,
            action=action,
            evidence={k: float(v) for k, v in evidence.items() if v is not None},
        )


# ---------------------------------------------------------------- helpers


def _disc(radius_px: float) -> np.ndarray:
    r = max(round(radius_px), 1)
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    return x * x + y * y <= r * r + r


def _noise_sigma(residual: np.ndarray, region: np.ndarray) -> float:
    """Robust σ of the pixel-to-pixel noise (MAD of the residual after a 1-pixel Gaussian)."""
    step = max(1, int(math.sqrt(region.sum() / 200_000)))  # ~200 000 pixels suffice
    values = residual[::step, ::step][region[::step, ::step]]
    if values.size < 100:
        values = residual.ravel()
    return float(1.4826 * np.median(np.abs(values - np.median(values))) + 1e-9)


class _Context:
    """What the detectors share for one view: the duct scale, the breast and duct masks,
    the tissue background and the main duct's contrast over it."""

    def __init__(self, image: Image, reading: Any, landmarks: Any) -> None:
        from .landmarks import duct_scale

        self.image = image
        self.pixel_mm = float(np.mean(image.object_spacing_mm))
        self.scale = duct_scale(image)
        self.breast = np.asarray(landmarks.breast_mask, bool)
        self.reading = reading if reading is not None and reading.found else None
        # Contrast that stopped in a pool at the root (no tree beyond it): contrast all
        # the same (reading.Reading.pooled).
        self.pool_width_mm = float(getattr(reading, "pool_width_mm", None) or 0.0)
        self.landmarks = landmarks
        self.duct = (
            np.asarray(self.reading.mask_array(), bool)
            if self.reading is not None
            else np.zeros(self.scale.shape, bool)
        )
        # Work grid (WORK_PITCH_MM) for the area detectors.
        k = max(1, round(WORK_PITCH_MM / self.pixel_mm))
        self.k = k
        self.step_mm = k * self.pixel_mm
        self.small = _block_mean(self.scale, k)
        self.small_breast = _block_mean(self.breast, k) > 0.99
        # Tissue background: a grey opening with a square BACKGROUND_MM wide on a coarser
        # grid (a monotone fall towards the skin is kept, anything narrower than the
        # square is removed), interpolated back onto the work grid.
        k2 = max(1, round(BACKGROUND_PITCH_MM / self.step_mm))
        coarse = _block_mean(np.where(self.small_breast, self.small, 0.0), k2)
        n = max(3, round(BACKGROUND_MM / (k2 * self.step_mm)))
        opened = ndi.grey_opening(coarse, size=(n, n))
        zoom = (self.small.shape[0] / opened.shape[0], self.small.shape[1] / opened.shape[1])
        self.background = ndi.zoom(opened, zoom, order=1)[
            : self.small.shape[0], : self.small.shape[1]
        ]
        self.excess = np.where(self.small_breast, self.small - self.background, 0.0)
        # The interior (away from the skin, where a reading may trace the skin line).
        self.interior = ndi.binary_erosion(
            self.small_breast, iterations=max(1, round(INTERIOR_MM / self.step_mm))
        )
        self.small_duct = (_block_mean(self.duct, k) > 0.25) & self.interior
        self.residual = self.scale - ndi.gaussian_filter(self.scale, 1.0)
        self.noise = _noise_sigma(self.residual, self.breast)
        tissue = self.interior & ~ndi.binary_dilation(self.small_duct, iterations=2)
        values = self.excess[tissue] if tissue.sum() >= 16 else self.excess[self.small_breast]
        self.tissue_contrast = max(
            float(np.percentile(values, TISSUE_PERCENTILE)) if values.size else 0.0, 1e-6
        )
        if self.small_duct.sum() >= 4:
            values = self.excess[self.small_duct]
            self.duct_contrast = float(np.percentile(values, DUCT_PERCENTILE))
        else:
            self.duct_contrast = 0.0
        # Contrast levels are measured against the ducts', or the tissue's without ducts.
        self.reference_contrast = max(self.duct_contrast, self.tissue_contrast)

    def full_background(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """The tissue background on the full-resolution pixels [r0:r1, c0:c1]."""
        k = self.k
        rows = np.clip((np.arange(r0, r1) + 0.5) / k - 0.5, 0, self.background.shape[0] - 1)
        cols = np.clip((np.arange(c0, c1) + 0.5) / k - 0.5, 0, self.background.shape[1] - 1)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        return ndi.map_coordinates(self.background, [rr, cc], order=1)

    def crop(self, labels: np.ndarray, i: int, pad_mm: float) -> tuple[slice, slice]:
        """Full-resolution slices around object ``i`` of a work-grid label image."""
        rows, cols = np.nonzero(labels == i)
        pad = max(1, round(pad_mm / self.step_mm))
        k = self.k
        r0, r1 = max(rows.min() - pad, 0) * k, min(rows.max() + pad + 1, labels.shape[0]) * k
        c0, c1 = max(cols.min() - pad, 0) * k, min(cols.max() + pad + 1, labels.shape[1]) * k
        return slice(r0, min(r1, self.scale.shape[0])), slice(c0, min(c1, self.scale.shape[1]))


def _circularity(mask: np.ndarray) -> float:
    """4π area / perimeter² of a mask (1 for a disc; perimeter from its outline pixels)."""
    area = float(mask.sum())
    if area < 3:
        return 0.0
    outline = float((mask & ~ndi.binary_erosion(mask)).sum())
    # Outline pixels of a digital disc undercount its perimeter by about pi / 4 * ... use
    # the area-equivalent: a disc of the same area has 2 sqrt(pi area) outline pixels.
    return float(min(1.0, (2.0 * math.sqrt(math.pi * area) / max(outline, 1.0)) ** 2))


# ---------------------------------------------------------------- detectors


def no_contrast_evidence(ctx: _Context) -> dict[str, float]:
    """Evidence for no contrast: the read tree's length (mm), how far the duct mask
    stands above the tissue (the ducts' contrast over the tissue's, both percentiles of
    the excess over the background), and the width of a pool of contrast at the root
    where no tree was read (0 without one: :attr:`~.reading.Reading.pooled`)."""
    reading = ctx.reading
    return {
        "tree_length_mm": float(reading.total_length_mm) if reading is not None else 0.0,
        "pool_width_mm": ctx.pool_width_mm,
        "duct_over_tissue": ctx.duct_contrast / ctx.tissue_contrast,
        "duct_contrast": ctx.duct_contrast,
        "tissue_contrast": ctx.tissue_contrast,
    }


def under_filling_evidence(ctx: _Context) -> dict[str, float]:
    """Evidence for under-filling: the highest generation read and the tree length. Along
    each path from the root only the segments at least ``GENERATION_MIN_MM`` long count
    as a generation: where two ducts' images touch, the tree gains short segments between
    junctions that are no generation of their own."""
    reading = ctx.reading
    depth: dict[int, int] = {}
    for s in reading.segments if reading is not None else ():  # parents come first
        depth[s.index] = depth.get(s.parent, 0) + int(s.length_mm >= GENERATION_MIN_MM)
    seen = max(depth.values(), default=0)
    return {
        "max_generation": float(seen),
        "tree_length_mm": float(reading.total_length_mm) if reading is not None else 0.0,
    }


def metal_evidence(ctx: _Context) -> dict[str, float]:
    """Evidence for metal: the largest object brighter than ``METAL_RATIO`` times the
    reference contrast whose edge is sharp (the excess rises from 20 % to 80 % of its peak
    within ``METAL_EDGE_MM``); its area (mm²), peak, edge width and place (centre and
    reach in pixels, ``metal_row``, ``metal_col``, ``metal_radius_px``). On a FOR
    PRESENTATION view, the display's flat top instead (:func:`_display_plateau`): the
    display's shoulder and curve put metal level with the widest ducts, so there the
    contrast ratio misses the metal and takes the densest contrast for it."""
    if ctx.image.kind == PixelKind.FOR_PRESENTATION:
        return _display_plateau(ctx)
    # Metal read as part of the duct tree raises the duct contrast: the tissue's, times
    # METAL_TISSUE_RATIO, caps the reference.
    ref = min(ctx.reference_contrast, METAL_TISSUE_RATIO * ctx.tissue_contrast)
    bright = ctx.excess > METAL_RATIO * ref
    bright = ndi.binary_opening(bright, structure=_disc(0.5 * METAL_OPENING_MM / ctx.step_mm))
    labels, n = ndi.label(bright)
    best = {"metal_area_mm2": 0.0, "reference_contrast": ref}
    if n == 0:
        return best
    areas = ndi.sum(np.ones_like(ctx.excess), labels, index=np.arange(1, n + 1))
    areas = areas * ctx.step_mm**2
    px = ctx.pixel_mm
    for i in np.flatnonzero(areas >= METAL_MIN_AREA_MM2):
        rs, cs = ctx.crop(labels, i + 1, 3.0)
        local = ctx.scale[rs, cs] - ctx.full_background(rs.start, rs.stop, cs.start, cs.stop)
        peak = float(np.percentile(local, 99.5))
        hi = ndi.binary_fill_holes(local > 0.8 * peak)
        lo = ndi.binary_fill_holes(local > 0.2 * peak)
        mid = local > 0.5 * peak
        perimeter = float((mid & ~ndi.binary_erosion(mid)).sum()) * px
        width = float(lo.sum() - hi.sum()) * px * px / max(perimeter, px)
        if width <= METAL_EDGE_MM and areas[i] > best["metal_area_mm2"]:
            best.update(
                {
                    "metal_area_mm2": float(areas[i]),
                    "metal_peak": peak / ref,
                    "edge_width_mm": width,
                    **_where("metal", *np.nonzero(labels == i + 1), ctx.k),
                }
            )
        best.setdefault("sharpest_edge_mm", width)
        best["sharpest_edge_mm"] = min(best["sharpest_edge_mm"], width)
    return best


def _display_plateau(ctx: _Context) -> dict[str, float]:
    """The flat top of a FOR PRESENTATION view: the largest piece of the breast within
    ``METAL_PLATEAU`` of its top (the brightest value over 1 mm²), its area (mm²), the
    radius of the widest disc it holds (mm) and how far the view lies below the top just
    outside it (``METAL_PLATEAU_RIM_MM``: metal's edge is sharp). The display compresses
    what lies above its window (its shoulder and curve) so that metal, which no beam
    passes, is level with the widest ducts: their contrast ratio no longer tells them
    apart, the flat top does."""
    inside = ctx.breast & np.isfinite(ctx.scale)  # an image may hold NaN pixels
    if not inside.any():
        return {"plateau_area_mm2": 0.0, "plateau_radius_mm": 0.0, "plateau_edge_drop": 0.0}
    # The top: the brightest value that a quarter of the smallest metal object's area
    # reaches (not a single noisy pixel).
    values = ctx.scale[inside]
    n = min(max(round(0.25 * METAL_MIN_AREA_MM2 / ctx.pixel_mm**2), 1), values.size)
    top = float(np.partition(values, values.size - n)[values.size - n])
    labels, _ = ndi.label((ctx.scale >= top - METAL_PLATEAU) & inside)
    areas = np.bincount(labels.ravel())[1:]
    largest = int(np.argmax(areas)) + 1
    # Its crop, padded past the rim where its edge is read.
    pad = int(np.ceil(METAL_PLATEAU_RIM_MM[1] / ctx.pixel_mm)) + 1
    rows, cols = ndi.find_objects(labels)[largest - 1]
    r0, c0 = max(rows.start - pad, 0), max(cols.start - pad, 0)
    box = (slice(r0, rows.stop + pad), slice(c0, cols.stop + pad))
    piece = labels[box] == largest
    radius = float(ndi.distance_transform_edt(np.pad(piece, 1))[1:-1, 1:-1].max()) * ctx.pixel_mm
    out_mm = ndi.distance_transform_edt(~piece) * ctx.pixel_mm
    rim = (out_mm > METAL_PLATEAU_RIM_MM[0]) & (out_mm <= METAL_PLATEAU_RIM_MM[1]) & inside[box]
    drop = float(top - np.median(ctx.scale[box][rim])) if rim.any() else 0.0
    pr, pc = np.nonzero(piece)
    return {
        "plateau_area_mm2": float(areas[largest - 1]) * ctx.pixel_mm**2,
        "plateau_radius_mm": radius,
        "plateau_edge_drop": drop,
        **_where("plateau", pr + r0, pc + c0, 1),
    }


def _where(prefix: str, rows: np.ndarray, cols: np.ndarray, k: int) -> dict[str, float]:
    """Centre and reach (pixels of the view) of an object's pixels on a grid ``k`` times
    coarser."""
    r, c = (rows + 0.5) * k - 0.5, (cols + 0.5) * k - 0.5
    centre = (float(r.mean()), float(c.mean()))
    reach = float(np.hypot(r - centre[0], c - centre[1]).max()) + 0.5 * k
    return {f"{prefix}_row": centre[0], f"{prefix}_col": centre[1], f"{prefix}_radius_px": reach}


def metal_region(evidence: dict[str, float]) -> tuple[float, float, float] | None:
    """Where the metal of a metal flag's evidence lies: (row, col, radius) in pixels of
    the view, from the test that raised the flag; None where no test did."""
    if not flagged("metal", evidence):
        return None
    prefix = "plateau" if "plateau_area_mm2" in evidence else "metal"
    return tuple(float(evidence[f"{prefix}_{key}"]) for key in ("row", "col", "radius_px"))


def extravasation_evidence(ctx: _Context) -> dict[str, float]:
    """Evidence for extravasation: a round, wide contrast blush next to the duct tree.

    An opening with a disc ``BLUSH_OPENING_MM`` wide removes the ducts; of what stays above
    ``BLUSH_LEVEL`` (``BLUSH_LEVEL_PRESENTATION`` on a FOR PRESENTATION view) times the
    duct contrast, objects within ``BLUSH_NEAR_DUCT_MM`` of the duct mask are candidates;
    each is cut at half its own peak and kept when that part is round (circularity ≥
    ``BLUSH_CIRCULARITY``). Returns the largest kept area (mm²), its peak over the duct
    contrast and its circularity.
    """
    if ctx.duct_contrast <= 0 or not ctx.small_duct.any():
        return {"blush_area_mm2": 0.0}
    ref = ctx.duct_contrast
    opened = _grey_opening(ctx.excess, _disc(0.5 * BLUSH_OPENING_MM / ctx.step_mm))
    display = ctx.image.kind == PixelKind.FOR_PRESENTATION
    level = BLUSH_LEVEL_PRESENTATION if display else BLUSH_LEVEL
    labels, n = ndi.label((opened > level * ref) & ctx.interior)
    out = {"blush_area_mm2": 0.0, "duct_contrast": ref}
    if n == 0:
        return out
    near = ndi.binary_dilation(
        ctx.small_duct, iterations=max(1, round(BLUSH_NEAR_DUCT_MM / ctx.step_mm))
    )
    # Metal is the metal detector's: leave out what it would flag.
    metal = ctx.excess > METAL_RATIO * ctx.reference_contrast
    for i in range(1, n + 1):
        obj = labels == i
        if not (obj & near).any():
            continue
        top = float(opened[obj].max())
        core = obj & (opened > 0.5 * top)
        core_labels, _ = ndi.label(core)
        core = (
            core_labels
            == core_labels[np.unravel_index(np.argmax(np.where(obj, opened, -1)), obj.shape)]
        )
        area = float(core.sum()) * ctx.step_mm**2
        if area < 1.0 or (metal & core).mean() > 0.5 * core.mean():
            continue
        circ = _circularity(core)
        key = "blush_area_mm2"
        if circ >= BLUSH_CIRCULARITY and area > out[key]:
            out.update({key: area, "blush_peak_over_duct": top / ref, "blush_circularity": circ})
        out["roundest"] = max(out.get("roundest", 0.0), circ if area >= BLUSH_MIN_AREA_MM2 else 0.0)
    return out


def _extended_paths(tree: Any, s: int, reach_px: int) -> list[tuple[np.ndarray, int]]:
    """Segment ``s``'s path (row, col), led in by ``reach_px`` pixels of its parent's and
    led out by as many of each child's (one path per child), with the index of its first
    own pixel: a dip near a junction keeps its context on both sides."""
    own = np.asarray(tree.paths_rc[s], float)
    parent = int(tree.parent[s])
    head = np.asarray(tree.paths_rc[parent], float)[-reach_px:-1] if parent >= 0 else own[:0]
    tails = [
        np.asarray(tree.paths_rc[c], float)[1:reach_px]
        for c in np.flatnonzero(np.asarray(tree.parent) == s)
    ]
    return [(np.concatenate([head, own, tail]), len(head)) for tail in tails or [own[:0]]]


def _across(image: np.ndarray, path: np.ndarray, normal: np.ndarray, offsets: np.ndarray):
    """``image`` sampled (bilinear) across a path: (P, len(offsets)), at ``offsets`` pixels
    along each point's unit ``normal`` (P, 2) from the path's points (P, 2; row, col); off
    the image, the nearest pixel's value."""
    from .landmarks import _sample_along

    return _sample_along(image, path, normal, offsets, mode="nearest")[0]


def _axis_offset(
    excess: np.ndarray, path: np.ndarray, normal: np.ndarray, calibre_px: float, window: int
) -> np.ndarray:
    """How far (pixels, along ``normal``) the duct's axis lies from each point of a read
    path: the centroid of the top half of the excess across the duct (a calibre and
    ``BUBBLE_MARGIN_PX`` each side), its median over ``window`` points along the path (a
    bubble, shorter, does not move it), at most half the calibre."""
    half = calibre_px + BUBBLE_MARGIN_PX
    offsets = np.arange(-half, half + 1e-6, 0.5)
    profile = _across(excess, path, normal, offsets)
    top = np.clip(profile - 0.5 * profile.max(axis=1, keepdims=True), 0.0, None)
    centroid = (top * offsets).sum(axis=1) / np.maximum(top.sum(axis=1), 1e-12)
    axis = ndi.median_filter(centroid, size=window, mode="nearest")
    return np.clip(axis, -0.5 * calibre_px, 0.5 * calibre_px)


def _dip_width_mm(values: np.ndarray, arc_mm: np.ndarray, i: int, level: float) -> float:
    """Length along the path (mm) over which ``values`` stay below half way from their
    value at ``i`` up to ``level``."""
    half = values[i] + 0.5 * (level - values[i])
    below = values < half
    j, k = i, i
    while j > 0 and below[j - 1]:
        j -= 1
    while k < len(values) - 1 and below[k + 1]:
        k += 1
    # To a micrometre: along a straight path, the summed steps land a hair either side of
    # a whole number of them, and a width equal to the limit must not pass or fail by that.
    return round(float(arc_mm[k] - arc_mm[j]) + float(median(np.diff(arc_mm))), 6)


def _sphere_fit(
    strip: np.ndarray,
    arc_mm: np.ndarray,
    i: int,
    across_px: np.ndarray,
    radius_px: float,
    px: float,
) -> tuple[float, float, float, float]:
    """How well a sphere in the lumen explains the dip at path point ``i``.

    ``strip`` is the excess across the duct (P, len(across_px)) along the path; the duct
    as it runs on (the median of ``strip`` over ``BUBBLE_TEMPLATE_CONTEXT_MM`` each side,
    beyond ``BUBBLE_TEMPLATE_GAP_MM``) is taken from the strip within
    ``BUBBLE_TEMPLATE_MM`` of the dip, and what is missing is matched to the chord of a
    sphere of ``BUBBLE_TEMPLATE_RADII`` times the lumen's radius centred there (the
    contrast a bubble of that size displaces). Returns, for the sphere that fits best:
    the share of the residual's energy it explains (r²), the contrast it removes per unit
    of chord over the duct's (about 1 for air in a full lumen), its matched-filter
    signal-to-noise ratio (over the residual's robust σ beside the dip), and its radius
    as a share of the lumen's; zeros when nothing is missing."""
    d = arc_mm - arc_mm[i]
    beside = (np.abs(d) <= BUBBLE_TEMPLATE_CONTEXT_MM) & (np.abs(d) >= BUBBLE_TEMPLATE_GAP_MM)
    near = np.abs(d) <= BUBBLE_TEMPLATE_MM
    if beside.sum() < 4 or near.sum() < 3:
        return 0.0, 0.0, 0.0, 0.0
    duct = np.median(strip[beside], axis=0)
    spread = strip[beside] - duct
    sigma = 1.4826 * float(median(np.abs(spread - median(spread)))) + 1e-9
    missing = strip[near] - duct
    energy = float((missing**2).sum()) + 1e-12
    per_px = float(np.interp(0.0, across_px, duct)) / max(2.0 * radius_px, 1e-9)
    u = (d[near] / px)[:, None]
    best = (0.0, 0.0, 0.0, 0.0)
    for share in BUBBLE_TEMPLATE_RADII:
        chord = 2.0 * np.sqrt(
            np.clip((share * radius_px) ** 2 - u**2 - across_px[None, :] ** 2, 0, None)
        )
        tt = float((chord**2).sum())
        proj = float((missing * chord).sum())
        if tt <= 0 or proj >= 0:
            continue
        r2 = proj**2 / (tt * energy)
        if r2 > best[0]:
            best = (r2, (-proj / tt) / max(per_px, 1e-9), -proj / (sigma * np.sqrt(tt)), share)
    return best


def _dip_patch(
    excess: np.ndarray,
    point: np.ndarray,
    tangent: np.ndarray,
    normal: np.ndarray,
    radius_px: float,
    px: float,
    level: float,
) -> tuple[float, ...]:
    """The excess around a dip at ``point`` (row, col), on a grid aligned with the duct:
    ``BUBBLE_PATCH_POINTS`` points over ``BUBBLE_PATCH_ALONG_MM`` either side along
    ``tangent`` and ``BUBBLE_PATCH_ACROSS`` lumen radii (``radius_px``) either side along
    ``normal``, as shares of the centre line's ``level`` (clipped to -2..3), folded about
    the dip (the mean of each point and its mirror images across and along the duct, the
    dip's row and column kept): the quarter ``BUBBLE_PATCH_SHAPE`` from the dip outward,
    row by row."""
    n_along, n_across = BUBBLE_PATCH_POINTS
    along = np.linspace(-BUBBLE_PATCH_ALONG_MM / px, BUBBLE_PATCH_ALONG_MM / px, n_along)
    across = np.linspace(-BUBBLE_PATCH_ACROSS, BUBBLE_PATCH_ACROSS, n_across) * radius_px
    grid = (
        np.asarray(point, float)[:, None, None]
        + along[None, :, None] * np.asarray(tangent, float)[:, None, None]
        + across[None, None, :] * np.asarray(normal, float)[:, None, None]
    )
    values = ndi.map_coordinates(excess, grid.reshape(2, -1), order=1, mode="nearest")
    patch = np.clip(values.reshape(n_along, n_across) / max(level, 1e-9), -2.0, 3.0)
    patch = 0.25 * (patch + patch[::-1] + patch[:, ::-1] + patch[::-1, ::-1])
    return tuple(float(v) for v in patch[n_along // 2 :, n_across // 2 :].ravel())


class BubbleDip(BaseModel):
    """A short dip of the contrast column in a proximal duct: a candidate air bubble and
    what was measured of it (see :func:`bubble_dips`). Image frame (pixels); lengths in
    mm (object scale); ``depth``, ``section_dip`` and ``shoulder`` as shares of the
    duct's level there."""

    model_config = ConfigDict(frozen=True)

    row: float
    col: float
    segment: int
    calibre_mm: float  # the read calibre of its segment
    depth: float  # the centre line's dip
    section_dip: float  # the cross-section's dip (about (rho/R)² of a sphere's)
    shoulder: float  # the lower of the cross-section's two sides
    curvature: float  # the image's largest Hessian eigenvalue there, over the line's level
    width_mm: float  # the cross-section's dip, at half its depth, along the duct
    width_shoulder_mm: float  # ... at half way up to its lower side
    bend_mm: float  # the dip's distance from the path's chord 1 mm either side
    line: float  # the centre line's level over the view's duct contrast
    root_mm: float  # straight distance from the read root
    sphere_r2: float  # :func:`_sphere_fit`: the share of the residual a sphere explains,
    sphere_amplitude: float  # ... the contrast it removes per mm of chord over the duct's
    # (air in a sharp image: about 1; blur lowers it, so it is not a feature: a model
    # trained on one system's blur would misjudge another's),
    sphere_snr: float  # ... its matched-filter signal-to-noise ratio,
    sphere_radius: float  # ... and its radius over the lumen's
    presentation: bool  # read on a FOR PRESENTATION image
    patch: tuple[float, ...]  # :func:`_dip_patch`: the excess around it, folded (9 x 7)

    @property
    def section_share(self) -> float:
        """The cross-section's dip over the centre line's (about rho/R for a sphere of
        radius rho in a lumen of radius R; 1 for a seam across the duct)."""
        return self.section_dip / self.depth if self.depth > 0.05 else 0.0

    def features(self) -> np.ndarray:
        """The inputs of :class:`BubbleClassifier`: the measures named by
        :data:`BUBBLE_FEATURES` (ratios clipped to their plausible range, spans and SNR on
        log scales; not the sphere's amplitude, which the system's blur sets as much as the
        bubble), then the ``BUBBLE_PATCH_SIZE`` values of :attr:`patch`."""
        measures = np.array(
            [
                np.clip(self.depth, -1.0, 1.5),
                np.clip(self.section_dip, -1.0, 1.5),
                np.clip(self.section_share, -1.0, 2.0),
                np.clip(self.shoulder, 0.0, 2.0),
                np.clip(self.curvature, -0.5, 0.5),
                min(self.width_mm, 3.0),
                min(self.width_shoulder_mm, 3.0),
                np.log1p(self.bend_mm),
                np.log(self.calibre_mm),
                np.log(max(self.line, 0.05)),
                self.root_mm,
                float(self.presentation),
                self.sphere_r2,
                np.log1p(np.clip(self.sphere_snr, 0.0, 100.0)),
                self.sphere_radius,
            ]
        )
        return np.concatenate([measures, np.asarray(self.patch, float)])


#: Names of :meth:`BubbleDip.features`, as the classifier file lists them.
BUBBLE_FEATURES = (
    "depth",
    "section_dip",
    "section_share",
    "shoulder",
    "curvature",
    "width_mm",
    "width_shoulder_mm",
    "log1p_bend_mm",
    "log_calibre",
    "log_line",
    "root_mm",
    "presentation",
    "sphere_r2",
    "log1p_sphere_snr",
    "sphere_radius",
)
#: A dip's folded patch (:attr:`BubbleDip.patch`): rows along the duct from the dip
#: outward, columns across it from the axis outward; its values follow the measures in a
#: row of :meth:`BubbleDip.features`, which holds ``BUBBLE_ROW_SIZE`` values in all.
BUBBLE_PATCH_SHAPE = (BUBBLE_PATCH_POINTS[0] // 2 + 1, BUBBLE_PATCH_POINTS[1] // 2 + 1)
BUBBLE_PATCH_SIZE = BUBBLE_PATCH_SHAPE[0] * BUBBLE_PATCH_SHAPE[1]
BUBBLE_ROW_SIZE = len(BUBBLE_FEATURES) + BUBBLE_PATCH_SIZE
BUBBLE_CLASSIFIER_FILE = "bubble_classifier.npz"


def bubble_shaped(features: np.ndarray) -> np.ndarray:
    """Which rows of :meth:`BubbleDip.features` can be a bubble at all: a pit (curvature
    at least ``BUBBLE_MIN_CURVATURE``) and not a seam (a dip taking ``BUBBLE_SEAM_SHARE``
    or more of the cross-section of what it takes of the centre line, over less than
    ``BUBBLE_SEAM_MM``)."""
    f = np.atleast_2d(np.asarray(features, float))
    col = {name: f[:, k] for k, name in enumerate(BUBBLE_FEATURES)}
    seam = (col["section_share"] >= BUBBLE_SEAM_SHARE) & (col["width_mm"] < BUBBLE_SEAM_MM)
    return (col["curvature"] >= BUBBLE_MIN_CURVATURE) & ~seam


@dataclass(frozen=True, kw_only=True)
class BubbleClassifier(AdditiveLogisticModel):
    """The probability that a :class:`BubbleDip` is an air bubble: a generalised additive
    logistic model (:class:`~.classifier.AdditiveLogisticModel`) of the dip's measures
    and of the first ``BUBBLE_PATCH_COMPONENTS`` principal components of its patch (the
    rows of :meth:`BubbleDip.features`: the patch less ``patch_mean``, projected on the
    rows of ``patch_axes``), trained by ``scripts/train_bubbles.py`` on simulated views
    (the seeds are in the file's ``provenance``; none is a reported one), where the dips
    on a bubble's image are the positives. The patch shows what the measures summarise
    away (a round pit in the column against a crossing's edge or a lobule beside the
    duct); its principal components keep the model small and each term readable."""

    FEATURES: ClassVar[tuple[str, ...]] = BUBBLE_FEATURES + tuple(
        f"patch_pc{k + 1}" for k in range(BUBBLE_PATCH_COMPONENTS)
    )
    ARRAYS: ClassVar[tuple[str, ...]] = (*AdditiveLogisticModel.ARRAYS, "patch_mean", "patch_axes")

    patch_mean: np.ndarray  # (BUBBLE_PATCH_SIZE,)
    patch_axes: np.ndarray  # (BUBBLE_PATCH_COMPONENTS, BUBBLE_PATCH_SIZE), orthonormal rows

    def __post_init__(self) -> None:
        super().__post_init__()
        shape = (BUBBLE_PATCH_COMPONENTS, BUBBLE_PATCH_SIZE)
        if np.shape(self.patch_mean) != shape[1:]:
            raise ParameterError("patch_mean", np.shape(self.patch_mean), f"{shape[1:]}")
        if np.shape(self.patch_axes) != shape:
            raise ParameterError("patch_axes", np.shape(self.patch_axes), f"{shape}")

    @staticmethod
    def _inputs(features: np.ndarray, mean: np.ndarray, axes: np.ndarray) -> np.ndarray:
        """Rows of :meth:`BubbleDip.features` as the model's inputs: the measures, then the
        patch less ``mean`` projected on the rows of ``axes``."""
        x = np.atleast_2d(np.asarray(features, float))
        if x.shape[1] != BUBBLE_ROW_SIZE:
            raise ParameterError(
                "features", x.shape, f"(n, {BUBBLE_ROW_SIZE}) rows of BubbleDip.features()"
            )
        n = len(BUBBLE_FEATURES)
        return np.hstack([x[:, :n], (x[:, n:] - mean) @ axes.T])

    def inputs(self, features: np.ndarray) -> np.ndarray:
        """The model's inputs (n, ``len(FEATURES)``) from rows of
        :meth:`BubbleDip.features`: the measures, then the patch's components."""
        return self._inputs(features, self.patch_mean, self.patch_axes)

    def shape_functions(self, features: np.ndarray) -> np.ndarray:
        """Each input's term of the log-odds (n, ``len(FEATURES)``) for rows of
        :meth:`BubbleDip.features`."""
        return super().shape_functions(self.inputs(features))

    @classmethod
    def _fitted_arrays(
        cls, features: np.ndarray, labels: np.ndarray, c_inverse: float, n_knots: int
    ) -> dict[str, Any]:
        """For :meth:`~.classifier.AdditiveLogisticModel.fit`: the patch's principal
        components (scikit-learn's ``PCA``) on the rows of :meth:`BubbleDip.features`, then
        the additive model on the measures and components."""
        from sklearn.decomposition import PCA

        patches = np.atleast_2d(np.asarray(features, float))[:, len(BUBBLE_FEATURES) :]
        pca = PCA(BUBBLE_PATCH_COMPONENTS, svd_solver="full").fit(patches)
        mean, axes = pca.mean_.astype(float), pca.components_.astype(float)
        inputs = cls._inputs(features, mean, axes)
        fitted = super()._fitted_arrays(inputs, labels, c_inverse, n_knots)
        return {**fitted, "patch_mean": mean, "patch_axes": axes}


@lru_cache(maxsize=1)
def bubble_classifier() -> BubbleClassifier:
    """The shipped :class:`BubbleClassifier` (``analysis/data/bubble_classifier.npz``)."""
    return BubbleClassifier.from_npz(Path(__file__).parent / "data" / BUBBLE_CLASSIFIER_FILE)


class BubbleSite(BaseModel):
    """One air bubble seen in a duct (see :func:`bubble_sites`); image frame, pixels."""

    model_config = ConfigDict(frozen=True)

    row: float = Field(description="row of the dip on the read path (pixels, image frame)")
    col: float = Field(description="column of the dip on the read path (pixels, image frame)")
    depth: float = Field(description="the centre line's dip, a share of its level")
    section_share: float = Field(
        description="the cross-section's dip (share of its level) over the centre line's; "
        "about rho/R for a sphere of radius rho in a lumen of radius R, 1 for a seam"
    )
    calibre_mm: float = Field(description="the read calibre of the duct it sits on (mm)")
    segment: int = Field(description="index of the reading's segment it sits on")
    probability: float = Field(description="how sure the bubble classifier is (0-1)")
    clear: bool = Field(
        description="a clear bubble (one flags the view); a faint one (less sure) counts "
        "only with another site in the same view"
    )


def bubble_sites(image: Image, reading: Any, landmarks: Any = None) -> list[BubbleSite]:
    """The air bubbles seen in the proximal ducts of one view (see :func:`_bubble_sites`).

    Parameters
    ----------
    image : Image
        One view, FOR PROCESSING or FOR PRESENTATION.
    reading : Reading
        Its :func:`~ductogram.analysis.reading.read_view` (read when None).
    landmarks : Landmarks, optional
        Its :func:`~ductogram.analysis.landmarks.find_landmarks` (found when not given).

    Returns
    -------
    list of BubbleSite
        The sites behind the air-bubble flag: one per bubble (a bubble seen from a path and
        its extension counted once), in the order found, clear and faint (``clear``); empty
        where they do not flag the view (no clear site and fewer than ``BUBBLE_MIN_FAINT``
        faint ones), and without a breast, a reading, a root or duct contrast (the view
        :func:`assess_quality` flags ``no_breast`` or ``no_contrast``).

    Raises
    ------
    ParameterError
        If ``image`` is not an :class:`~ductogram.core.Image`.
    """
    image, reading, landmarks = _inputs(image, reading, landmarks)
    if not np.asarray(landmarks.breast_mask).any():
        return []
    ctx = _Context(image, reading, landmarks)
    return _flagging_sites(_bubble_sites(ctx), no_contrast_evidence(ctx))


def bubble_dips(image: Image, reading: Any, landmarks: Any = None) -> list[BubbleDip]:
    """Every dip the air-bubble detector weighs in one view, with its measures (see
    :func:`_bubble_dips`): what :class:`BubbleClassifier` ranks, for those who study or
    retrain it. Parameters and errors as :func:`bubble_sites`; empty without a breast, a
    reading, a root or duct contrast."""
    image, reading, landmarks = _inputs(image, reading, landmarks)
    if not np.asarray(landmarks.breast_mask).any():
        return []
    return _bubble_dips(_Context(image, reading, landmarks)) or []


def _flagging_sites(
    sites: list[BubbleSite] | None, no_contrast: dict[str, float]
) -> list[BubbleSite]:
    """The sites behind an ``air_bubbles`` flag: none where the view holds no contrast
    (``no_contrast`` evidence flagged) or where the sites do not raise the flag."""
    if flagged("no_contrast", no_contrast) or not flagged("air_bubbles", _bubble_evidence(sites)):
        return []
    return sites or []


def _bubble_dips(ctx: _Context) -> list[BubbleDip] | None:
    """Short dips in the contrast column of the proximal ducts: the candidate air bubbles.

    Along each read path of a segment at least ``BUBBLE_MIN_CALIBRE_MM`` wide, within
    ``BUBBLE_REACH_MM`` of the root (image frame), moved onto the duct's axis
    (:func:`_axis_offset`), two profiles of the excess over the tissue background are read:
    the centre line, and the cross-section (the excess summed across the read calibre and
    ``BUBBLE_MARGIN_PX``). Every local minimum of the cross-section inside the breast with
    the duct going on both sides (``BUBBLE_SIDE_MM`` away) is a dip, measured against the
    duct's level there (the median over ``BUBBLE_CONTEXT_MM`` each side): how deep the
    centre line and the cross-section dip, how long the dip is, whether the image is a pit
    there (the Hessian's largest eigenvalue), whether the path runs straight through it,
    how well a sphere in the lumen explains it (:func:`_sphere_fit`), and the excess
    around it on a grid along the duct (:func:`_dip_patch`). A FOR PRESENTATION view is
    read with the top of its display range expanded again (``contrast_scale``).
    None where there is nothing to look along (no reading, root or tree, no duct contrast).
    """
    reading = ctx.reading
    tree = getattr(reading, "tree", None)
    if reading is None or reading.root_rc is None or tree is None or ctx.duct_contrast <= 0:
        return None
    px = ctx.pixel_mm
    root = np.asarray(reading.root_rc, float)
    reach = BUBBLE_REACH_MM / px
    context = round(BUBBLE_CONTEXT_MM / px)
    window = max(3, round(BUBBLE_AXIS_MM / px) | 1)  # path points, about one a pixel
    pad = context + 10
    rows_n, cols_n = ctx.scale.shape
    r0, r1 = max(int(root[0] - reach) - pad, 0), min(int(root[0] + reach) + pad + 1, rows_n)
    c0, c1 = max(int(root[1] - reach) - pad, 0), min(int(root[1] + reach) + pad + 1, cols_n)
    presentation = ctx.image.kind == PixelKind.FOR_PRESENTATION
    # A FOR PRESENTATION view is read with the top of its display range expanded again,
    # as the findings are (landmarks.contrast_scale): the display's shoulder
    # compresses the widest columns of contrast, and the bubbles in them.
    crop = contrast_scale(ctx.scale, ctx.image.kind)[r0:r1, c0:c1]
    excess = ndi.gaussian_filter(crop, BUBBLE_SMOOTH_PX) - ctx.full_background(r0, r1, c0, c1)
    # The largest Hessian eigenvalue at σ = 1 pixel (scale-normalised).
    hrr = ndi.gaussian_filter(crop, 1.0, order=(2, 0))
    hcc = ndi.gaussian_filter(crop, 1.0, order=(0, 2))
    hrc = ndi.gaussian_filter(crop, 1.0, order=(1, 1))
    curvature = 0.5 * (hrr + hcc) + np.sqrt(0.25 * (hrr - hcc) ** 2 + hrc**2)
    breast = ctx.breast[r0:r1, c0:c1]
    found: list[BubbleDip] = []
    for s in range(len(tree.paths_rc)):
        own = np.asarray(tree.paths_rc[s])
        calibre = float(tree.calibre_mm[s])
        if len(own) < 2 or not calibre >= BUBBLE_MIN_CALIBRE_MM:
            continue
        near = np.hypot(own[:, 0] - root[0], own[:, 1] - root[1]) <= reach
        if not near.any():
            continue
        half_width = 0.5 * calibre / px + BUBBLE_MARGIN_PX
        across = np.arange(-half_width, half_width + 1e-6, 0.5)
        for path, first in _extended_paths(tree, s, context):
            local = path - (r0, c0)
            step = np.hypot(*np.diff(local, axis=0).T)
            arc = np.concatenate([[0.0], np.cumsum(step)]) * px
            tangent = np.gradient(ndi.gaussian_filter1d(local, 3.0, axis=0, mode="nearest"), axis=0)
            tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
            normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
            offset = _axis_offset(excess, local, normal, calibre / px, window)
            local = local + offset[:, None] * normal
            strip = _across(excess, local, normal, across)
            section = np.clip(strip, 0.0, None).sum(axis=1)
            centre = ndi.map_coordinates(excess, local.T, order=1, mode="nearest")
            for i in range(first, first + len(own)):
                if not near[i - first] or not (
                    section[i] <= section[i - 1] and section[i] <= section[min(i + 1, len(arc) - 1)]
                ):
                    continue
                d = arc - arc[i]
                left = (d <= -BUBBLE_SIDE_MM[0]) & (d >= -BUBBLE_SIDE_MM[1])
                right = (d >= BUBBLE_SIDE_MM[0]) & (d <= BUBBLE_SIDE_MM[1])
                around = (np.abs(d) <= BUBBLE_CONTEXT_MM) & (np.abs(d) >= BUBBLE_SIDE_MM[0])
                if not (left.any() and right.any()):
                    continue
                level = float(median(section[around]))
                line = float(median(centre[around]))
                r, c = (int(v) for v in np.round(local[i]))
                if level <= 0 or line <= 0 or not breast[r, c]:
                    continue
                shoulder = min(section[left].max(), section[right].max())
                a, b = local[np.argmin(np.abs(d + 1.0))], local[np.argmin(np.abs(d - 1.0))]
                chord, off = b - a, local[i] - a
                bend = abs(chord[0] * off[1] - chord[1] * off[0]) / max(np.hypot(*chord), 1e-9)
                fit = _sphere_fit(strip, arc, i, across, 0.5 * calibre / px, px)
                patch = _dip_patch(
                    excess, local[i], tangent[i], normal[i], 0.5 * calibre / px, px, line
                )
                found.append(
                    BubbleDip(
                        row=float(r + r0),
                        col=float(c + c0),
                        segment=s,
                        calibre_mm=calibre,
                        depth=float((line - centre[i]) / line),
                        section_dip=float((level - section[i]) / level),
                        shoulder=float(shoulder / level),
                        curvature=float(curvature[r, c] / line),
                        width_mm=_dip_width_mm(section, arc, i, level),
                        width_shoulder_mm=_dip_width_mm(section, arc, i, shoulder),
                        bend_mm=float(bend * px),
                        line=line / ctx.duct_contrast,
                        root_mm=float(np.hypot(*(local[i] + (r0, c0) - root))) * px,
                        sphere_r2=fit[0],
                        sphere_amplitude=fit[1],
                        sphere_snr=fit[2],
                        sphere_radius=fit[3],
                        presentation=presentation,
                        patch=patch,
                    )
                )
    return found


def bubble_site_picks(
    probability: np.ndarray,
    features: np.ndarray,
    rc: np.ndarray,
    pixel_mm: float,
    faint_p: float = BUBBLE_FAINT_P,
) -> list[int]:
    """Which dips are sites, surest first: those shaped like a bubble
    (:func:`bubble_shaped`, on their ``features``) whose ``probability`` is ``faint_p``
    or more, less any within ``BUBBLE_SAME_MM`` of a surer one (the bubble seen again from
    a path's extension, or at a second minimum). ``rc``: the dips' (row, col); the rule of
    :func:`_bubble_sites`, for those who evaluate other thresholds or models."""
    p = np.where(bubble_shaped(features), probability, 0.0)
    picks: list[int] = []
    for k in np.argsort(-p, kind="stable").tolist():
        if p[k] < faint_p:
            break
        if all(np.hypot(*(rc[k] - rc[j])) * pixel_mm > BUBBLE_SAME_MM for j in picks):
            picks.append(k)
    return picks


def _bubble_sites(ctx: _Context) -> list[BubbleSite] | None:
    """The air bubbles among the dips of :func:`_bubble_dips`: those
    :func:`bubble_site_picks` takes with :class:`BubbleClassifier`'s probabilities, clear
    from ``BUBBLE_CLEAR_P`` on. None where there is nothing to look along."""
    dips = _bubble_dips(ctx)
    if dips is None:
        return None
    if not dips:
        return []
    features = np.vstack([d.features() for d in dips])
    p = bubble_classifier().probability(features)
    rc = np.array([(d.row, d.col) for d in dips])
    return [
        BubbleSite(
            row=dips[k].row,
            col=dips[k].col,
            depth=dips[k].depth,
            section_share=dips[k].section_share,
            calibre_mm=dips[k].calibre_mm,
            segment=dips[k].segment,
            probability=float(p[k]),
            clear=bool(p[k] >= BUBBLE_CLEAR_P),
        )
        for k in bubble_site_picks(p, features, rc, ctx.pixel_mm)
    ]


def air_bubble_evidence(ctx: _Context) -> dict[str, float]:
    """Evidence for air bubbles (:func:`_bubble_sites`): how many clear and how many faint
    ones were found, the deepest centre-line dip among them (share of the level) and the
    surest one's probability."""
    return _bubble_evidence(_bubble_sites(ctx))


def _bubble_evidence(sites: list[BubbleSite] | None) -> dict[str, float]:
    """:func:`air_bubble_evidence` of sites found (None: nothing to look along)."""
    if sites is None:
        return {"bubbles": 0.0, "faint": 0.0}
    clear = sum(b.clear for b in sites)
    return {
        "bubbles": float(clear),
        "faint": float(len(sites) - clear),
        "deepest": max((b.depth for b in sites), default=0.0),
        "surest": max((b.probability for b in sites), default=0.0),
    }


def speck_evidence(ctx: _Context) -> dict[str, float]:
    """Evidence for deodorant/powder specks: how many tiny (at most ``SPECK_MAX_AREA_MM2``)
    dots stand more than ``SPECK_SIGMAS`` noise σ above a grey opening ``SPECK_OPENING_MM``
    wide, outside the ducts; and how bright the brightest is (σ)."""
    px = ctx.pixel_mm
    n = max(3, round(SPECK_OPENING_MM / px) | 1)
    tophat = ctx.scale - ndi.grey_opening(ctx.scale, size=(n, n))
    # On the skin (within SPECK_SKIN_MM of the skin line in projection), away from the
    # duct tree's crown (its convex hull and a margin: lobular blush, thin ducts).
    k = ctx.k
    small = ctx.small_breast & (
        ndi.distance_transform_edt(ctx.small_breast) * ctx.step_mm <= SPECK_SKIN_MM
    )
    if ctx.duct.any():
        from skimage.morphology import convex_hull_image

        hull = convex_hull_image(_block_mean(ctx.duct, k) > 0)
        hull = ndi.binary_dilation(
            hull, iterations=max(1, round(SPECK_DUCT_MARGIN_MM / ctx.step_mm))
        )
        small &= ~hull
    region = np.repeat(np.repeat(small, k, 0), k, 1)[: ctx.scale.shape[0], : ctx.scale.shape[1]]
    region &= ctx.breast
    # A dot, not a line: the whole component above SPECK_LOW_SIGMAS is small.
    low = (tophat > SPECK_LOW_SIGMAS * ctx.noise) & region
    high = low & (tophat > SPECK_SIGMAS * ctx.noise)
    if not high.any():
        return {"specks": 0.0}
    labels, count = ndi.label(low)
    areas = np.bincount(labels.ravel(), minlength=count + 1) * px * px
    peaks = np.zeros(count + 1)
    np.maximum.at(peaks, labels[high], tophat[high] / ctx.noise)
    dots = (areas <= SPECK_MAX_AREA_MM2) & (peaks > SPECK_SIGMAS)
    dots[0] = False
    return {
        "specks": float(dots.sum()),
        "brightest_sigmas": float(peaks[dots].max()) if dots.any() else 0.0,
    }


def motion_evidence(ctx: _Context) -> dict[str, float]:
    """Evidence for motion blur: correlations of the fine-scale residual (the duct scale
    less a Gaussian of σ = 1 pixel, divided by its local spread and clipped at 4) between
    neighbours along rows, columns and the two diagonals, and their spread."""
    k = ctx.k
    margin = max(1, round(MOTION_EDGE_MM / ctx.step_mm))
    small = ndi.binary_erosion(ctx.small_breast, iterations=margin)
    if ctx.duct.any():
        small &= ~ndi.binary_dilation(_block_mean(ctx.duct, k) > 0, iterations=margin)
    away = np.repeat(np.repeat(small, k, 0), k, 1)[: ctx.scale.shape[0], : ctx.scale.shape[1]]
    if away.sum() < 2000:
        return {"anisotropy": 0.0}
    residual = ctx.residual
    # Local spread of the residual, on the work grid (smooth), back at full resolution.
    power = ndi.gaussian_filter(_block_mean(residual * residual, k), 1.0)
    spread = np.repeat(np.repeat(np.sqrt(power), k, 0), k, 1)[
        : residual.shape[0], : residual.shape[1]
    ]
    spread = spread + 1e-12
    r = np.where(away, np.clip(residual / spread, -4.0, 4.0), np.nan)
    rows, cols = r.shape
    corr = {}
    for name, (dr, dc) in (
        ("row", (1, 0)),
        ("col", (0, 1)),
        ("diag", (1, 1)),
        ("antidiag", (1, -1)),
    ):
        a = r[: rows - dr, max(0, -dc) : cols - max(0, dc)]
        b = r[dr:, max(0, dc) : cols - max(0, -dc)]
        ok = np.isfinite(a) & np.isfinite(b)
        aa, bb = a[ok], b[ok]
        corr[name] = float(np.mean(aa * bb) / math.sqrt(np.mean(aa * aa) * np.mean(bb * bb)))
    values = list(corr.values())
    return {"anisotropy": max(values) - min(values), **{f"corr_{k}": v for k, v in corr.items()}}


# ---------------------------------------------------------------- the assessment


def assess_quality(image: Image, reading: Any = None, landmarks: Any = None) -> list[QualityFlag]:
    """The image-quality flags of one ductogram view.

    Parameters
    ----------
    image : Image
        One view, FOR PROCESSING or FOR PRESENTATION.
    reading : Reading, optional
        Its :func:`~ductogram.analysis.reading.read_view` (read when not given).
    landmarks : Landmarks, optional
        Its :func:`~ductogram.analysis.landmarks.find_landmarks` (found when not given).

    Returns
    -------
    list of QualityFlag
        Empty for a good view. A view without a breast gives only ``no_breast``; without
        contrast, ``no_contrast`` and the artefact flags (not under-filling, extravasation
        or bubbles).

    Raises
    ------
    ParameterError
        If ``image`` is not an :class:`~ductogram.core.Image`.

    Examples
    --------
    >>> import numpy as np
    >>> from ductogram.core import Image
    >>> [f.code for f in assess_quality(Image(np.zeros((64, 64)), (0.1, 0.1)))]
    ['no_breast']
    """
    return quality_and_bubbles(image, reading, landmarks)[0]


def quality_and_bubbles(
    image: Image, reading: Any = None, landmarks: Any = None
) -> tuple[list[QualityFlag], list[BubbleSite]]:
    """The image-quality flags of one view and the air bubbles' sites behind its
    ``air_bubbles`` flag, from one context (the findings reuse the sites:
    :func:`~ductogram.analysis.findings.find_findings`).

    Parameters and errors as :func:`assess_quality`.

    Returns
    -------
    flags : list of QualityFlag
        As :func:`assess_quality`.
    sites : list of BubbleSite
        As :func:`bubble_sites`; empty when the view has no ``air_bubbles`` flag (no
        breast, no contrast, or no site that flags it).
    """
    if not isinstance(image, Image):
        raise ParameterError("image", type(image).__name__, "a ductogram.core.Image")
    if landmarks is None:
        from .landmarks import find_landmarks

        landmarks = find_landmarks(image)
    if not np.asarray(landmarks.breast_mask).any():
        return [QualityFlag.of("no_breast", {"breast_area_mm2": 0.0})], []
    if reading is None:
        from .reading import read_view

        reading = read_view(image, landmarks)
    ctx = _Context(image, reading, landmarks)
    sites = _bubble_sites(ctx)
    evidence = _evidence(ctx, sites)
    flags = []
    if flagged("no_contrast", evidence["no_contrast"]):
        # Nothing to fill, to leak or to hold bubbles: those detectors have nothing to see.
        for code in ("under_filling", "extravasation", "air_bubbles"):
            evidence.pop(code)
    for code, ev in evidence.items():
        if flagged(code, ev):
            extra = {"needed": MIN_GENERATIONS} if code == "under_filling" else {}
            if code == "under_filling" and ctx.pool_width_mm > 0:
                flags.append(_stopped_at_the_opening({**ev, **extra}))
                continue
            flags.append(QualityFlag.of(code, {**ev, **extra}))
    return flags, _flagging_sites(sites, evidence["no_contrast"])


def _stopped_at_the_opening(evidence: dict[str, float]) -> QualityFlag:
    """The under-filling flag of a view whose contrast stopped in a pool at the duct's
    opening (:attr:`~.reading.Reading.pooled`): an obstruction, which more contrast does
    not pass."""
    return QualityFlag.of("under_filling", evidence).model_copy(
        update={
            "description": "under-filling: the contrast stops in a pool at the duct's "
            "opening (an obstruction: see the cut-off in the findings)",
            "action": "do not push more contrast against the obstruction (it would "
            "extravasate); image the retroareolar duct by ultrasound, where an obstructing "
            "papilloma is often seen and can be biopsied (clinical.md §2)",
        }
    )


def flagged(code: str, evidence: dict[str, float]) -> bool:
    """Whether a detector's evidence (from :func:`quality_evidence`) raises its flag."""
    if code == "no_contrast":
        if evidence.get("pool_width_mm", 0.0) > 0.0:  # contrast, stopped at the root
            return False
        ratio, length = evidence["duct_over_tissue"], evidence["tree_length_mm"]
        return (
            length < MIN_TREE_MM
            or ratio < MIN_DUCT_OVER_TISSUE
            or (length < SHORT_TREE_MM and ratio < MIN_SHORT_DUCT_OVER_TISSUE)
        )
    if code == "under_filling":
        return evidence["max_generation"] < MIN_GENERATIONS
    if code == "extravasation":
        return evidence["blush_area_mm2"] >= BLUSH_MIN_AREA_MM2
    if code == "air_bubbles":
        clear, faint = evidence["bubbles"], evidence.get("faint", 0.0)
        return clear >= 1 or clear + faint >= BUBBLE_MIN_FAINT
    if code == "specks":
        return evidence["specks"] >= SPECK_MIN_COUNT
    if code == "metal":
        if "plateau_area_mm2" in evidence:  # a FOR PRESENTATION view's flat top
            return (
                evidence["plateau_area_mm2"] >= METAL_MIN_AREA_MM2
                and evidence["plateau_radius_mm"] >= METAL_PLATEAU_MM
                and evidence["plateau_edge_drop"] >= METAL_PLATEAU_DROP
            )
        return evidence["metal_area_mm2"] >= METAL_MIN_AREA_MM2
    if code == "motion_blur":
        return evidence["anisotropy"] > MOTION_ANISOTROPY
    raise ParameterError("code", code, f"one of {', '.join(QUALITY_CODES)}")


def quality_evidence(
    image: Image, reading: Any = None, landmarks: Any = None
) -> dict[str, dict[str, float]]:
    """Every detector's evidence, flagged or not, by flag code (see :func:`flagged`).

    Parameters and defaults as :func:`assess_quality`; a view without contrast has no
    under-filling, extravasation or bubble evidence to give (empty-handed values).
    """
    ctx = _Context(*_inputs(image, reading, landmarks))
    return _evidence(ctx, _bubble_sites(ctx))


def _evidence(ctx: _Context, sites: list[BubbleSite] | None) -> dict[str, dict[str, float]]:
    """Every detector's evidence on one context, the air bubbles' from ``sites``."""
    return {
        "no_contrast": no_contrast_evidence(ctx),
        "under_filling": under_filling_evidence(ctx),
        "extravasation": extravasation_evidence(ctx),
        "air_bubbles": _bubble_evidence(sites),
        "specks": speck_evidence(ctx),
        "metal": metal_evidence(ctx),
        "motion_blur": motion_evidence(ctx),
    }


def _inputs(image: Image, reading: Any, landmarks: Any) -> tuple[Image, Any, Any]:
    """The view, its reading and its landmarks, read and found where not given."""
    if not isinstance(image, Image):
        raise ParameterError("image", type(image).__name__, "a ductogram.core.Image")
    if landmarks is None:
        from .landmarks import find_landmarks

        landmarks = find_landmarks(image)
    if reading is None:
        from .reading import read_view

        reading = read_view(image, landmarks)
    return image, reading, landmarks
