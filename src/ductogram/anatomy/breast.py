"""The breast: outer shape, nipple, areola, skin and the parenchymal envelope.

Breast frame (used by every function of :mod:`ductogram.anatomy` that takes positions):
origin at the nipple base (the apex of the breast mound, where the nipple stands), ``x``
towards the chest wall (posterior), ``y`` superior (cranial), ``z`` lateral (away from the
midline; patient left on a left breast, patient right on a right breast). Millimetres.

Shape model. At depth ``x`` in ``[0, depth_mm]`` the cross-section is a superellipse of
exponent ``section_exponent`` with semi-axes ``semi_height_mm * s(x)`` (along y) and
``semi_width_mm * s(x)`` (along z), centred at ``(y, z) = (c(x), 0)`` with

    s(x) = (1 - (1 - x / D)^q)^(1/q)            (profile; q = 2 is a half ellipsoid)
    c(x) = ptosis_mm * (1 - (1 - x / D)^2)      (the chest-wall base sits higher than the
                                                 nipple on a ptotic breast)

The breast is ``{0 <= x <= D, u(p) <= 1}`` with ``u`` the normalised radius below, plus the
nipple, a cylinder of ``nipple_radius_mm`` standing ``nipple_length_mm`` in front of x = 0.
The volume is ``A_n * a_y * a_z * D * I_q`` (``A_n`` the unit superellipse area, ``I_q`` the
profile integral); the ptosis is a shear and does not change it.

The parenchymal envelope (where the lobes and their ducts lie) is the same shape scaled
in cross-section by ``parenchyma_scale`` and stopped ``retromammary_mm`` in front of the
chest wall; the rest is subcutaneous and retromammary fat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate
from scipy.special import gamma

from ..core import Laterality, ParameterError
from ..core.seeding import RNGLike, as_generator

# VICTRE breastPhantom model values (../shared/reference/clinical.md §3, "Nipple and skin").
NIPPLE_RADIUS_MM = 4.0
NIPPLE_LENGTH_MM = 4.0
AREOLA_RADIUS_MM = 8.0
SKIN_THICKNESS_MM = 0.75


def superellipse_area(exponent: float) -> float:
    """Area of the unit superellipse ``|y|^n + |z|^n <= 1``: ``4 Γ(1+1/n)^2 / Γ(1+2/n)``.

    >>> round(superellipse_area(2.0), 6) == round(np.pi, 6)
    True
    """
    n = float(exponent)
    return float(4.0 * gamma(1.0 + 1.0 / n) ** 2 / gamma(1.0 + 2.0 / n))


def _profile_integral(q: float, upper: float = 1.0) -> float:
    """``∫_0^upper s(t)^2 dt`` with ``s(t) = (1 - (1 - t)^q)^(1/q)``, t = x / D."""
    value, _ = integrate.quad(lambda t: (1.0 - (1.0 - t) ** q) ** (2.0 / q), 0.0, upper)
    return float(value)


def _check_range(field: str, value: float, low: float, high: float, unit: str = "") -> None:
    if not (np.isfinite(value) and low <= value <= high):
        suffix = f" {unit}" if unit else ""
        raise ParameterError(field, value, f"a number in [{low:g}, {high:g}]{suffix}")


@dataclass(frozen=True)
class Breast:
    """An uncompressed breast in the breast frame (see the module docstring).

    Parameters
    ----------
    laterality : Laterality
        Left or right breast.
    depth_mm : float
        Distance D from the nipple base to the chest wall along x.
    semi_height_mm, semi_width_mm : float
        Semi-axes of the chest-wall cross-section along y (superior) and z (lateral).
    profile_exponent : float
        q of the profile s(x); 2 is a half ellipsoid, larger is fuller towards the nipple.
    section_exponent : float
        Superellipse exponent of the cross-sections; 2 is an ellipse.
    ptosis_mm : float
        Height of the chest-wall centre above the nipple (sag of the breast).
    glandular_fraction : float
        Fibroglandular share of the breast volume (Yaffe 2009, mean 19.3 %).
    parenchyma_scale : float
        Cross-section scale of the parenchymal envelope, in (0, 1).
    retromammary_mm : float
        Fat layer between the parenchyma and the chest wall.

    Raises
    ------
    ParameterError
        If a size is not positive, an exponent or a fraction is out of range.
    """

    laterality: Laterality
    depth_mm: float
    semi_height_mm: float
    semi_width_mm: float
    profile_exponent: float = 2.0
    section_exponent: float = 2.0
    ptosis_mm: float = 0.0
    glandular_fraction: float = 0.193
    parenchyma_scale: float = 0.7
    retromammary_mm: float = 5.0
    skin_mm: float = SKIN_THICKNESS_MM
    nipple_radius_mm: float = NIPPLE_RADIUS_MM
    nipple_length_mm: float = NIPPLE_LENGTH_MM
    areola_radius_mm: float = AREOLA_RADIUS_MM

    def __post_init__(self) -> None:
        object.__setattr__(self, "laterality", Laterality(self.laterality))
        _check_range("depth_mm", self.depth_mm, 20.0, 300.0, "mm")
        _check_range("semi_height_mm", self.semi_height_mm, 20.0, 200.0, "mm")
        _check_range("semi_width_mm", self.semi_width_mm, 20.0, 200.0, "mm")
        _check_range("profile_exponent", self.profile_exponent, 1.0, 6.0)
        _check_range("section_exponent", self.section_exponent, 1.5, 6.0)
        _check_range("ptosis_mm", self.ptosis_mm, 0.0, 0.5 * self.semi_height_mm, "mm")
        _check_range("glandular_fraction", self.glandular_fraction, 0.01, 0.95)
        _check_range("parenchyma_scale", self.parenchyma_scale, 0.2, 0.97)
        _check_range("retromammary_mm", self.retromammary_mm, 0.0, 0.3 * self.depth_mm, "mm")
        _check_range("skin_mm", self.skin_mm, 0.1, 5.0, "mm")
        _check_range("nipple_radius_mm", self.nipple_radius_mm, 1.0, 10.0, "mm")
        _check_range("nipple_length_mm", self.nipple_length_mm, 0.0, 20.0, "mm")
        _check_range("areola_radius_mm", self.areola_radius_mm, self.nipple_radius_mm, 40.0, "mm")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_volume(
        cls,
        volume_ml: float,
        *,
        laterality: Laterality | str = Laterality.L,
        height_to_width: float = 0.9,
        depth_to_width: float = 1.0,
        profile_exponent: float = 2.0,
        section_exponent: float = 2.0,
        ptosis_fraction: float = 0.0,
        glandular_fraction: float = 0.193,
    ) -> Breast:
        """A breast of ``volume_ml`` with the given proportions.

        Parameters
        ----------
        volume_ml : float
            Breast volume without the nipple, in mL, within [100, 3000].
        height_to_width, depth_to_width : float
            ``semi_height / semi_width`` and ``depth / semi_width``.
        ptosis_fraction : float
            ``ptosis_mm / semi_height_mm``.

        Examples
        --------
        >>> b = Breast.from_volume(600.0)
        >>> round(b.volume_ml, 3)
        600.0
        """
        _check_range("volume_ml", volume_ml, 100.0, 3000.0, "mL")
        _check_range("height_to_width", height_to_width, 0.4, 1.6)
        _check_range("depth_to_width", depth_to_width, 0.4, 2.0)
        _check_range("profile_exponent", profile_exponent, 1.0, 6.0)
        _check_range("section_exponent", section_exponent, 1.5, 6.0)
        _check_range("ptosis_fraction", ptosis_fraction, 0.0, 0.5)
        unit = (
            superellipse_area(section_exponent)
            * height_to_width
            * depth_to_width
            * _profile_integral(profile_exponent)
        )
        width = (volume_ml * 1000.0 / unit) ** (1.0 / 3.0)
        height = height_to_width * width
        depth = depth_to_width * width
        phi = cls.parenchyma_volume_fraction(glandular_fraction)
        retro = 0.08 * depth
        inner = _profile_integral(profile_exponent, 1.0 - retro / depth)
        scale = float(
            np.clip(np.sqrt(phi * _profile_integral(profile_exponent) / inner), 0.2, 0.95)
        )
        return cls(
            laterality=Laterality(laterality),
            depth_mm=depth,
            semi_height_mm=height,
            semi_width_mm=width,
            profile_exponent=profile_exponent,
            section_exponent=section_exponent,
            ptosis_mm=ptosis_fraction * height,
            glandular_fraction=glandular_fraction,
            parenchyma_scale=scale,
            retromammary_mm=retro,
        )

    @staticmethod
    def parenchyma_volume_fraction(glandular_fraction: float) -> float:
        """Share of the breast volume inside the parenchymal envelope.

        Fibroglandular tissue is taken to fill about half of the envelope (the rest is
        intraglandular fat), within [0.15, 0.85] of the breast. [estimate]
        """
        return float(np.clip(glandular_fraction / 0.5, 0.15, 0.85))

    # ------------------------------------------------------------------ shape
    @property
    def volume_ml(self) -> float:
        """Breast volume without the nipple (mL), from the closed form in the module doc."""
        v = (
            superellipse_area(self.section_exponent)
            * self.semi_height_mm
            * self.semi_width_mm
            * self.depth_mm
            * _profile_integral(self.profile_exponent)
        )
        return v / 1000.0

    @property
    def parenchyma_volume_ml(self) -> float:
        """Volume of the parenchymal envelope (mL)."""
        upper = 1.0 - self.retromammary_mm / self.depth_mm
        v = (
            superellipse_area(self.section_exponent)
            * self.semi_height_mm
            * self.semi_width_mm
            * self.depth_mm
            * self.parenchyma_scale**2
            * _profile_integral(self.profile_exponent, upper)
        )
        return v / 1000.0

    def profile(self, x_mm: np.ndarray) -> np.ndarray:
        """Cross-section scale s(x) in [0, 1] (0 outside [0, depth_mm])."""
        t = np.clip(np.asarray(x_mm, dtype=float) / self.depth_mm, 0.0, 1.0)
        q = self.profile_exponent
        return (1.0 - (1.0 - t) ** q) ** (1.0 / q)

    def section_centre_y(self, x_mm: np.ndarray) -> np.ndarray:
        """y of the cross-section centre at depth x (mm): the ptosis shear c(x)."""
        t = np.clip(np.asarray(x_mm, dtype=float) / self.depth_mm, 0.0, 1.0)
        return self.ptosis_mm * (1.0 - (1.0 - t) ** 2)

    def axis_distance_mm(self, points_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance from the nipple axis and azimuth about it, for points (…, 3).

        The nipple axis is the straight line from the nipple base (the origin) to the centre
        of the chest-wall section, ``(D, ptosis_mm, 0)``. Azimuth ``atan2(z, y - y_axis)``: 0
        superior, π/2 lateral. Lobe wedges are sectors about this line
        (:mod:`ductogram.anatomy.lobes`).
        """
        p = np.asarray(points_mm, dtype=float)
        dy = p[..., 1] - self.ptosis_mm * p[..., 0] / self.depth_mm
        return np.hypot(dy, p[..., 2]), np.arctan2(p[..., 2], dy)

    def normalized_radius(self, points_mm: np.ndarray) -> np.ndarray:
        """u(p): 0 on the axis, 1 on the skin surface, > 1 outside (and inf beyond x range).

        Parameters
        ----------
        points_mm : (..., 3) array
            Positions in the breast frame (mm).
        """
        p = np.asarray(points_mm, dtype=float)
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        s = self.profile(x)
        n = self.section_exponent
        dy = np.abs(y - self.section_centre_y(x)) / self.semi_height_mm
        dz = np.abs(z) / self.semi_width_mm
        r = (dy**n + dz**n) ** (1.0 / n)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(s > 0, r / np.where(s > 0, s, 1.0), np.inf)
        outside_x = (x < 0) | (x > self.depth_mm)
        return np.where(outside_x, np.inf, u)

    def in_nipple(self, points_mm: np.ndarray) -> np.ndarray:
        """True for points inside the nipple cylinder (from its tip to the nipple base, x = 0)."""
        p = np.asarray(points_mm, dtype=float)
        rho = np.hypot(p[..., 1], p[..., 2])
        return (
            (p[..., 0] >= -self.nipple_length_mm)
            & (p[..., 0] <= 0)
            & (rho <= self.nipple_radius_mm)
        )

    def contains(self, points_mm: np.ndarray, *, include_nipple: bool = True) -> np.ndarray:
        """True for points inside the breast (skin included), optionally with the nipple."""
        inside = self.normalized_radius(points_mm) <= 1.0
        if include_nipple:
            inside |= self.in_nipple(points_mm)
        return inside

    def in_parenchyma(self, points_mm: np.ndarray) -> np.ndarray:
        """True for points inside the parenchymal envelope."""
        p = np.asarray(points_mm, dtype=float)
        u = self.normalized_radius(p)
        return (u <= self.parenchyma_scale) & (p[..., 0] <= self.depth_mm - self.retromammary_mm)

    def depth_below_skin_mm(self, points_mm: np.ndarray) -> np.ndarray:
        """Distance from a point to the skin surface, measured in its cross-section along the
        ray from the section centre (exact for a cylinder, a close approximation away from
        the apex). Negative outside."""
        p = np.asarray(points_mm, dtype=float)
        u = self.normalized_radius(p)
        centre = np.stack(
            [np.zeros_like(p[..., 0]), self.section_centre_y(p[..., 0]), np.zeros_like(p[..., 0])],
            axis=-1,
        )
        radial = np.linalg.norm((p - centre)[..., 1:], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(u > 0, radial * (1.0 / u - 1.0), np.inf)
        return d

    def in_skin(self, points_mm: np.ndarray) -> np.ndarray:
        """True for points within ``skin_mm`` of the surface (the skin layer)."""
        d = self.depth_below_skin_mm(points_mm)
        return (d >= 0) & (d <= self.skin_mm) & np.isfinite(self.normalized_radius(points_mm))

    def in_areola(self, points_mm: np.ndarray) -> np.ndarray:
        """True for skin points within ``areola_radius_mm`` of the nipple axis."""
        p = np.asarray(points_mm, dtype=float)
        rho = np.hypot(p[..., 1], p[..., 2])
        return self.in_skin(p) & (rho <= self.areola_radius_mm)

    def sample_parenchyma(self, n: int, rng: RNGLike) -> np.ndarray:
        """``n`` points drawn uniformly in the parenchymal envelope (mm, breast frame).

        Points are drawn in the bounding box and kept when inside (rejection sampling).
        """
        rng = as_generator(rng)
        s = self.parenchyma_scale
        low = np.array([0.0, -s * self.semi_height_mm, -s * self.semi_width_mm])
        high = np.array(
            [
                self.depth_mm - self.retromammary_mm,
                s * self.semi_height_mm + self.ptosis_mm,
                s * self.semi_width_mm,
            ]
        )
        out: list[np.ndarray] = []
        have = 0
        while have < n:
            batch = rng.uniform(low, high, size=(max(2 * (n - have), 256), 3))
            batch = batch[self.in_parenchyma(batch)]
            out.append(batch)
            have += len(batch)
        return np.concatenate(out)[:n]

    def sample_volume(self, n: int, rng: RNGLike) -> np.ndarray:
        """``n`` points drawn uniformly in the breast (without the nipple)."""
        rng = as_generator(rng)
        low = np.array([0.0, -self.semi_height_mm, -self.semi_width_mm])
        high = np.array([self.depth_mm, self.semi_height_mm + self.ptosis_mm, self.semi_width_mm])
        out: list[np.ndarray] = []
        have = 0
        while have < n:
            batch = rng.uniform(low, high, size=(max(2 * (n - have), 256), 3))
            batch = batch[self.contains(batch, include_nipple=False)]
            out.append(batch)
            have += len(batch)
        return np.concatenate(out)[:n]

    def extent_along(self, direction: np.ndarray, n_samples: int = 20000) -> tuple[float, float]:
        """Min and max of ``p · direction`` over the breast surface (mm), for a unit direction
        perpendicular to x (compression axes); computed on the chest-wall section and the
        sections in front of it."""
        d = np.asarray(direction, dtype=float)
        d = d / np.linalg.norm(d)
        # The extremes of a linear function over the body lie on its cross-sections' rims.
        xs = np.linspace(0.0, self.depth_mm, 201)
        theta = np.linspace(0.0, 2 * np.pi, max(n_samples // 201, 64), endpoint=False)
        n = self.section_exponent
        cy = np.cos(theta)
        sz = np.sin(theta)
        ry = np.sign(cy) * np.abs(cy) ** (2.0 / n)
        rz = np.sign(sz) * np.abs(sz) ** (2.0 / n)
        s = self.profile(xs)[:, None]
        y = self.section_centre_y(xs)[:, None] + self.semi_height_mm * s * ry[None, :]
        z = self.semi_width_mm * s * rz[None, :]
        proj = xs[:, None] * d[0] + y * d[1] + z * d[2]
        return float(proj.min()), float(proj.max())
