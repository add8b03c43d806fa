"""Compressed breast geometry of the CC, ML, MLO and LM views.

A documented, invertible deformation maps every point of the uncompressed breast (breast
frame, see :mod:`ductogram.anatomy.breast`: origin at the nipple base, ``x`` towards the
chest wall, ``y`` superior, ``z`` lateral; mm) to the compressed frame of a view and back,
so that one duct can be followed consistently from one view to another:
``other.to_compressed(view.to_breast(q))``.

Model
-----
Beam and compression axis. The x-ray beam is perpendicular to ``x`` and tilted by the
*beam angle* ``θ`` from straight down (``-y``) towards lateral (``+z``)::

    b(θ) = (0, -cos θ, sin θ)        beam direction, source -> detector      (1)
    c    = -b = (0, cos θ, -sin θ)   compression axis, detector -> paddle    (2)
    w    = x̂ × c = (0, sin θ, cos θ) across axis                             (3)

with ``θ = 0°`` for CC (beam superior -> inferior, detector below the breast), ``θ = 90°``
for ML (beam medial -> lateral, detector on the lateral side), ``θ = -90°`` for LM (beam
lateral -> medial, detector on the medial side) and ``θ = obliquity_deg`` in [30°, 70°]
(45° by default) for MLO (beam superomedial -> inferolateral, detector inferolateral).

Deformation. A homogeneous, incompressible affine map: with ``[h_lo, h_hi]`` the extent
of the uncompressed breast along ``c`` (:meth:`Breast.extent_along`), ``H = h_hi - h_lo``
its uncompressed thickness, ``T`` the compressed thickness and ``D`` the breast depth,

    k = T / H                         compression ratio along c              (4)
    s = k^(-1/2)                      stretch along x and along w            (5)
    height   = k (p · c - h_lo)       0 at the support, T at the paddle      (6)
    anterior = s (D - p · x̂)          0 at the chest wall, forwards > 0      (7)
    across   = s (p · w)              0 on the nipple axis                   (8)

that is ``q = J p + t`` with ``J = diag(k, s, s) R``, ``R`` the rotation whose rows are
``(c, -x̂, w)`` and ``t = (-k h_lo, s D, 0)``. ``det R = c · (-x̂ × w) = 1`` (the frame is
right-handed) and ``det J = k s² = 1``: volume is preserved exactly. Equation (6) is the
scaling by ``k`` about the centre of the extent, shifted so the support side is at 0;
(7) keeps the chest wall (``x = D``) in place and moves the nipple base forwards by
``D (s - 1)``; (8) stretches about the nipple axis (the ``x`` axis).

Compressed frame of a view (mm), axis order (height, anterior, across):

* axis 0 ``height_mm``: above the breast support (detector side), in [0, T] for every
  point of the breast;
* axis 1 ``anterior_mm``: forwards from the chest wall, towards the nipple;
* axis 2 ``across_mm``: along ``w`` (right-handed with the first two); positive towards
  **lateral** in CC, **superior** in ML, **inferior** in LM and **superolateral**
  (``sin θ`` superior + ``cos θ`` lateral) in MLO.

The breast frame is a left-handed patient frame on a right breast (``z`` is always
lateral), so "right-handed" above refers to the breast frame's own coordinates.

This is a first-order model [model assumption]: a real breast under a paddle bulges,
slides on the support and stiffens unevenly, which finite-element models (FEBio in
VICTRE and OpenVCT) capture and this one does not. It keeps what cross-view
correspondence needs: every point has one place in every view, the maps are exact
inverses, the breast fills [0, T] in height and the anatomy keeps its order
(chest wall to nipple, support to paddle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import ParameterError, ViewPosition
from .breast import Breast

__all__ = ["MIN_THICKNESS_MM", "OBLIQUITY_RANGE_DEG", "Compression", "compress"]

#: Smallest compressed thickness accepted (mm).
MIN_THICKNESS_MM = 10.0
#: Allowed MLO obliquity (beam angle from vertical towards lateral), degrees.
OBLIQUITY_RANGE_DEG = (30.0, 70.0)
#: Default MLO obliquity (degrees).
DEFAULT_OBLIQUITY_DEG = 45.0

# Rim samples for Breast.extent_along: 400 angles per section (a multiple of 4, so the
# axis-aligned extremes of CC, ML and LM are sampled exactly) on its 201 sections.
_EXTENT_SAMPLES = 201 * 400

# Beam angle θ of the views whose angle is fixed (eq. 1).
_FIXED_BEAM_ANGLE_DEG = {ViewPosition.CC: 0.0, ViewPosition.ML: 90.0, ViewPosition.LM: -90.0}


def _as_view(view: str | ViewPosition) -> ViewPosition:
    try:
        return ViewPosition(view)
    except ValueError as exc:
        choices = ", ".join(repr(v.value) for v in ViewPosition)
        raise ParameterError("view", view, f"one of {choices}") from exc


def _check_obliquity(view: ViewPosition, obliquity_deg: float) -> float:
    theta = float(obliquity_deg)
    if view is ViewPosition.MLO:
        low, high = OBLIQUITY_RANGE_DEG
        if not (np.isfinite(theta) and low <= theta <= high):
            raise ParameterError(
                "obliquity_deg", obliquity_deg, f"a number in [{low:g}, {high:g}] degrees for MLO"
            )
    elif theta != _FIXED_BEAM_ANGLE_DEG[view]:
        raise ParameterError(
            "obliquity_deg",
            obliquity_deg,
            f"{_FIXED_BEAM_ANGLE_DEG[view]:g} degrees for {view.value} (the angle is only "
            "chosen for MLO; leave it out for the other views)",
        )
    return theta


def _axes(theta_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Compression axis ``c`` (eq. 2) and across axis ``w`` (eq. 3) in the breast frame."""
    t = np.deg2rad(theta_deg)
    c = np.array([0.0, np.cos(t), -np.sin(t)])
    w = np.array([0.0, np.sin(t), np.cos(t)])
    # Exact zeros for the axis-aligned views (cos 90° is 6e-17 in floating point).
    c[np.abs(c) < 1e-15] = 0.0
    w[np.abs(w) < 1e-15] = 0.0
    return c, w


def _points(points_mm: np.ndarray) -> np.ndarray:
    p = np.asarray(points_mm)
    if p.ndim == 0 or p.shape[-1] != 3:
        raise ValueError(f"points_mm has shape {p.shape}: expected an array of shape (..., 3)")
    # One dtype rule: float32 stays float32, everything else becomes float64.
    dtype = np.float32 if p.dtype == np.float32 else np.float64
    return p.astype(dtype, copy=False)


@dataclass(frozen=True)
class Compression:
    """The compressed geometry of one view: an affine, volume-preserving map (module doc).

    Build it with :func:`compress`; the fields are the numbers the map needs, so an
    instance can also be rebuilt from a record. Points are (..., 3) arrays: breast frame
    ``(x, y, z)`` on one side, compressed frame ``(height_mm, anterior_mm, across_mm)`` on
    the other, both in mm.

    Parameters
    ----------
    view : ViewPosition or str
        CC, ML, MLO or LM.
    thickness_mm : float
        Compressed thickness T (mm), in ``[10, H)``.
    obliquity_deg : float
        Beam angle θ from vertical towards lateral (degrees, eq. 1): chosen in [30, 70]
        for MLO, fixed at 0 (CC), 90 (ML) and -90 (LM).
    depth_mm : float
        Breast depth D, nipple base to chest wall (mm).
    extent_mm : tuple of float
        ``(h_lo, h_hi)``: min and max of ``p · c`` over the uncompressed breast (mm).

    Raises
    ------
    ParameterError
        If the view is unknown, the obliquity is out of range (or given for a view other
        than MLO), the extent is empty, or T is not in ``[10, H)``.
    """

    view: ViewPosition
    thickness_mm: float
    obliquity_deg: float
    depth_mm: float
    extent_mm: tuple[float, float]

    def __post_init__(self) -> None:
        view = _as_view(self.view)
        object.__setattr__(self, "view", view)
        object.__setattr__(self, "obliquity_deg", _check_obliquity(view, self.obliquity_deg))
        depth = float(self.depth_mm)
        if not (np.isfinite(depth) and depth > 0):
            raise ParameterError("depth_mm", self.depth_mm, "a positive number of mm")
        object.__setattr__(self, "depth_mm", depth)
        low, high = (float(v) for v in self.extent_mm)
        if not (np.isfinite(low) and np.isfinite(high) and high > low):
            raise ParameterError("extent_mm", self.extent_mm, "(low, high) with low < high, mm")
        object.__setattr__(self, "extent_mm", (low, high))
        t = float(self.thickness_mm)
        h = high - low
        if not (np.isfinite(t) and MIN_THICKNESS_MM <= t < h):
            raise ParameterError(
                "thickness_mm",
                self.thickness_mm,
                f"a number in [{MIN_THICKNESS_MM:g}, {h:.1f}) mm: at least "
                f"{MIN_THICKNESS_MM:g} mm and less than the uncompressed thickness "
                f"H = {h:.1f} mm of the breast along the {view.value} compression axis",
            )
        object.__setattr__(self, "thickness_mm", t)

    # ------------------------------------------------------------------ scalars
    @property
    def uncompressed_thickness_mm(self) -> float:
        """H: extent of the uncompressed breast along the compression axis (mm)."""
        return self.extent_mm[1] - self.extent_mm[0]

    @property
    def compression_ratio(self) -> float:
        """k = T / H, in (0, 1) (eq. 4)."""
        return self.thickness_mm / self.uncompressed_thickness_mm

    @property
    def stretch(self) -> float:
        """s = k^(-1/2) > 1, the stretch along x and across (eq. 5)."""
        return float(self.compression_ratio**-0.5)

    # ------------------------------------------------------------------ directions
    @property
    def compression_axis(self) -> np.ndarray:
        """c: unit vector in the breast frame from the support towards the paddle (eq. 2)."""
        return _axes(self.obliquity_deg)[0]

    @property
    def across_axis(self) -> np.ndarray:
        """w = x̂ × c: unit vector in the breast frame along ``across_mm`` (eq. 3)."""
        return _axes(self.obliquity_deg)[1]

    @property
    def beam_direction(self) -> np.ndarray:
        """Unit vector in the breast frame from the source towards the detector (eq. 1)."""
        return 0.0 - self.compression_axis  # no negative zeros

    # ------------------------------------------------------------------ the map
    @property
    def jacobian(self) -> np.ndarray:
        """J = d(compressed) / d(breast), a (3, 3) array with det J = 1.

        Rows: ``k c``, ``-s x̂``, ``s w`` (eqs. 6 to 8).
        """
        k, s = self.compression_ratio, self.stretch
        c, w = _axes(self.obliquity_deg)
        return np.stack([k * c, np.array([-s, 0.0, 0.0]), s * w])

    @property
    def offset_mm(self) -> np.ndarray:
        """t, the (3,) offset of ``q = J p + t`` (mm): ``(-k h_lo, s D, 0)``."""
        k, s = self.compression_ratio, self.stretch
        return np.array([-k * self.extent_mm[0], s * self.depth_mm, 0.0])

    @property
    def inverse_jacobian(self) -> np.ndarray:
        """J⁻¹ = Rᵀ diag(1/k, 1/s, 1/s), in closed form (columns ``c/k``, ``-x̂/s``, ``w/s``)."""
        k, s = self.compression_ratio, self.stretch
        c, w = _axes(self.obliquity_deg)
        return np.stack([c / k, np.array([-1.0 / s, 0.0, 0.0]), w / s], axis=-1)

    def to_compressed(self, points_mm: np.ndarray) -> np.ndarray:
        """Map breast-frame points to this view's compressed frame.

        Parameters
        ----------
        points_mm : (..., 3) array_like
            Positions ``(x, y, z)`` in the uncompressed breast frame (mm).

        Returns
        -------
        (..., 3) ndarray
            ``(height_mm, anterior_mm, across_mm)`` in the compressed frame (mm); float32
            for float32 input, float64 otherwise. The input is not modified.

        Raises
        ------
        ValueError
            If the last axis does not have length 3.

        Examples
        --------
        >>> from ductogram.anatomy.breast import Breast
        >>> b = Breast("L", depth_mm=60.0, semi_height_mm=50.0, semi_width_mm=70.0)
        >>> cc = compress(b, "CC", 50.0)          # H = 100 mm, k = 0.5, s = sqrt(2)
        >>> q = cc.to_compressed([30.0, 10.0, 20.0])
        >>> print(np.round(q / [1.0, np.sqrt(2), np.sqrt(2)], 6))
        [30. 30. 20.]
        """
        p = _points(points_mm)
        j = self.jacobian.astype(p.dtype)
        t = self.offset_mm.astype(p.dtype)
        return p @ j.T + t

    def to_breast(self, points_mm: np.ndarray) -> np.ndarray:
        """Map compressed-frame points back to the breast frame (the exact inverse).

        Parameters
        ----------
        points_mm : (..., 3) array_like
            ``(height_mm, anterior_mm, across_mm)`` in this view's compressed frame (mm).

        Returns
        -------
        (..., 3) ndarray
            ``(x, y, z)`` in the uncompressed breast frame (mm), same dtype rule as
            :meth:`to_compressed`.

        Raises
        ------
        ValueError
            If the last axis does not have length 3.
        """
        q = _points(points_mm)
        j_inv = self.inverse_jacobian.astype(q.dtype)
        t = self.offset_mm.astype(q.dtype)
        return (q - t) @ j_inv.T

    @property
    def nipple_compressed_mm(self) -> np.ndarray:
        """Position of the nipple base (breast-frame origin) in the compressed frame (mm).

        ``(-k h_lo, s D, 0)``: on the nipple axis, ``D (s - 1)`` further from the chest
        wall than before compression.
        """
        return self.to_compressed(np.zeros(3))


def compress(
    breast: Breast,
    view: str | ViewPosition,
    thickness_mm: float,
    *,
    obliquity_deg: float | None = None,
) -> Compression:
    """The compressed geometry of ``breast`` in ``view`` at thickness ``thickness_mm``.

    Parameters
    ----------
    breast : Breast
        The uncompressed breast (breast frame, mm).
    view : {'CC', 'ML', 'MLO', 'LM'} or ViewPosition
        The view; sets the compression axis (module doc, eqs. 1 to 3).
    thickness_mm : float
        Compressed thickness T (mm): at least 10 mm and less than the breast's extent H
        along the compression axis.
    obliquity_deg : float, optional
        MLO beam angle from vertical towards lateral, in [30, 70] degrees; 45 when left
        out. For CC, ML and LM leave it out (or give the fixed 0, 90, -90).

    Returns
    -------
    Compression

    Raises
    ------
    ParameterError
        ``view`` unknown; ``obliquity_deg`` out of range or given for a view other than
        MLO; ``thickness_mm`` not in ``[10, H)``.

    Notes
    -----
    H comes from :meth:`Breast.extent_along` on its 201 sections with 400 rim angles
    each: the axis-aligned extremes (CC, ML, LM) are sampled exactly, and an MLO extent
    is low by at most about ``R (1 - cos(π / 400))`` (0.002 mm for R = 60 mm).

    Examples
    --------
    >>> from ductogram.anatomy.breast import Breast
    >>> b = Breast("L", depth_mm=60.0, semi_height_mm=50.0, semi_width_mm=70.0)
    >>> ml = compress(b, "ML", 35.0)             # H = 140 mm along z
    >>> ml.compression_ratio, ml.stretch
    (0.25, 2.0)
    >>> ml.beam_direction.tolist()                # medial -> lateral
    [0.0, 0.0, 1.0]
    >>> ml.to_compressed([30.0, 10.0, 20.0]).tolist()
    [12.5, 60.0, 20.0]
    >>> round(float(np.linalg.det(ml.jacobian)), 12)
    1.0
    """
    view = _as_view(view)
    if obliquity_deg is None:
        obliquity_deg = _FIXED_BEAM_ANGLE_DEG.get(view, DEFAULT_OBLIQUITY_DEG)
    theta = _check_obliquity(view, obliquity_deg)
    c, _ = _axes(theta)
    return Compression(
        view=view,
        thickness_mm=thickness_mm,
        obliquity_deg=theta,
        depth_mm=breast.depth_mm,
        extent_mm=breast.extent_along(c, n_samples=_EXTENT_SAMPLES),
    )
