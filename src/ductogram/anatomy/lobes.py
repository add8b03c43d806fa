"""Lobes, their territories and the duct orifices that drain them.

Lobes are wedges around the nipple axis (the x axis of the breast frame), as seen in
whole-breast reconstructions where the duct systems are "arranged radially" and their
territories "did not overlap" (Ohtake 2001; Moffat & Going 1996; ../shared/reference/
clinical.md §3). Lobe ``i`` holds the points of the parenchymal envelope whose azimuth

    φ(p) = azimuth about the nipple axis (0 = superior, π/2 = lateral; see
           Breast.axis_distance_mm: the straight line from the nipple to the chest wall)

lies in ``[β_i(x), β_{i+1}(x))``, with boundaries that turn slowly with depth

    β_i(x) = β_i + τ x / D + a_i sin(π x / D).

Because every point gets exactly one label, territories cannot overlap. Lobe widths vary
(Dirichlet), since catchment volumes "varied greatly" (Moffat & Going 1996).

Each of the 5–9 patent orifices (Love & Barsky 2004) drains a run of neighbouring lobes;
several lobes sharing one orifice matches the 29 ducts from 15 orifices of Rusby 2007.
Orifices lie on the nipple tip in a central and a peripheral group (Love & Barsky 2004).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import ParameterError
from ..core.seeding import RNGLike, as_generator
from .breast import Breast

TWO_PI = 2.0 * np.pi
# Two nipple ducts of up to 0.5 mm radius (see _growth.py) stay apart.
MIN_ORIFICE_GAP_MM = 1.2


@dataclass(frozen=True, eq=False)
class LobeLayout:
    """Lobe territories and orifices of one breast.

    Parameters
    ----------
    boundaries_rad : (L,) array
        Azimuth β_i of the start of each lobe's wedge at x = 0, increasing, within 2π.
    twist_rad : float
        τ: common turn of all boundaries from the nipple (x = 0) to the chest wall.
    wobble_rad : (L,) array
        a_i: amplitude of each boundary's mid-depth bend.
    system_of_lobe : (L,) int array
        Orifice (duct system) draining each lobe; the lobes of a system are neighbours.
    orifice_mm : (S, 3) array
        Orifice positions on the nipple tip (breast frame).
    depth_mm : float
        Breast depth D used by the boundary formula.
    """

    boundaries_rad: np.ndarray
    twist_rad: float
    wobble_rad: np.ndarray
    system_of_lobe: np.ndarray
    orifice_mm: np.ndarray
    depth_mm: float

    @property
    def n_lobes(self) -> int:
        return len(self.boundaries_rad)

    @property
    def n_systems(self) -> int:
        return len(self.orifice_mm)

    def lobes_of_system(self, system: int) -> np.ndarray:
        """Lobe indices drained by orifice ``system``, in azimuth order."""
        return np.flatnonzero(self.system_of_lobe == system)

    def boundaries_at(self, x_mm: np.ndarray) -> np.ndarray:
        """(..., L) boundary azimuths β_i(x) at depths ``x_mm``."""
        t = np.clip(np.asarray(x_mm, dtype=float) / self.depth_mm, 0.0, 1.0)[..., None]
        return self.boundaries_rad + self.twist_rad * t + self.wobble_rad * np.sin(np.pi * t)

    def label(self, points_mm: np.ndarray, breast: Breast) -> np.ndarray:
        """Lobe index of each point (…, 3) in the breast frame (every point gets one)."""
        p = np.asarray(points_mm, dtype=float)
        _, phi = breast.axis_distance_mm(p)
        rel = np.mod(phi[..., None] - self.boundaries_at(p[..., 0]), TWO_PI)
        # The lobe whose start boundary lies closest below φ (in the turning direction).
        return np.argmin(rel, axis=-1)

    def centre_azimuth_rad(self, lobe: int) -> float:
        """Azimuth of the middle of a lobe's wedge at x = 0."""
        b = self.boundaries_rad
        nxt = b[(lobe + 1) % len(b)] + (TWO_PI if lobe + 1 == len(b) else 0.0)
        return float(np.mod(0.5 * (b[lobe] + nxt), TWO_PI))


def make_lobe_layout(breast: Breast, n_lobes: int, n_orifices: int, rng: RNGLike) -> LobeLayout:
    """Draw lobe wedges and orifices.

    Parameters
    ----------
    breast : Breast
    n_lobes : int
        Number of lobes, in [1, 24] (default in the phantom: 10–16).
    n_orifices : int
        Number of patent orifices, in [1, n_lobes] (default 5–9).
    rng : numpy.random.Generator or int

    Raises
    ------
    ParameterError
        If ``n_lobes`` or ``n_orifices`` is out of range.
    """
    rng = as_generator(rng)
    if not 1 <= n_lobes <= 24:
        raise ParameterError("lobes", n_lobes, "an integer in [1, 24]")
    if not 1 <= n_orifices <= n_lobes:
        raise ParameterError("orifices", n_orifices, f"an integer in [1, lobes = {n_lobes}]")
    widths = rng.dirichlet(np.full(n_lobes, 6.0)) * TWO_PI
    start = rng.uniform(0.0, TWO_PI)
    boundaries = np.mod(start + np.concatenate([[0.0], np.cumsum(widths[:-1])]), TWO_PI)
    order = np.argsort(boundaries)
    boundaries = boundaries[order]
    widths = np.diff(np.concatenate([boundaries, [boundaries[0] + TWO_PI]]))
    # Boundaries bend by at most a quarter of the narrower neighbouring wedge: order is kept.
    limit = 0.25 * np.minimum(widths, np.roll(widths, 1))
    wobble = rng.uniform(-1.0, 1.0, n_lobes) * limit
    twist = float(rng.uniform(-0.25, 0.25))

    # Orifices drain runs of neighbouring lobes: cut the ring of lobes into n_orifices runs.
    cuts = np.sort(rng.choice(n_lobes, size=n_orifices, replace=False))
    system_of_lobe = np.empty(n_lobes, dtype=np.int64)
    for s in range(n_orifices):
        first, last = cuts[s], cuts[(s + 1) % n_orifices]
        members = np.arange(first, last if last > first else last + n_lobes) % n_lobes
        if n_orifices == 1:
            members = np.arange(n_lobes)
        system_of_lobe[members] = s

    layout = LobeLayout(
        boundaries_rad=boundaries,
        twist_rad=twist,
        wobble_rad=wobble,
        system_of_lobe=system_of_lobe,
        orifice_mm=np.zeros((n_orifices, 3)),
        depth_mm=breast.depth_mm,
    )
    orifices = _place_orifices(breast, layout, rng)
    return LobeLayout(
        boundaries_rad=boundaries,
        twist_rad=twist,
        wobble_rad=wobble,
        system_of_lobe=system_of_lobe,
        orifice_mm=orifices,
        depth_mm=breast.depth_mm,
    )


def system_azimuth_rad(layout: LobeLayout, system: int) -> float:
    """Circular mean azimuth of the wedges a system drains, at x = 0."""
    angles = [layout.centre_azimuth_rad(i) for i in layout.lobes_of_system(system)]
    return float(np.mod(np.angle(np.mean(np.exp(1j * np.asarray(angles)))), TWO_PI))


def _place_orifices(breast: Breast, layout: LobeLayout, rng: np.random.Generator) -> np.ndarray:
    """Orifices on the nipple tip, each at the azimuth of the lobes it drains, at least
    ``MIN_ORIFICE_GAP_MM`` apart: each goes on the outer ring (0.55-0.7 of the nipple
    radius) if it fits there, else on an inner ring, else near the axis, giving the
    peripheral and central groups of Love & Barsky (2004)."""
    n = layout.n_systems
    phi0 = np.array([system_azimuth_rad(layout, s) for s in range(n)])
    for attempt in range(500):
        phi = phi0 + rng.normal(0.0, 0.05 + 0.002 * attempt, n)
        outer = breast.nipple_radius_mm * rng.uniform(0.55, 0.7)
        rings = (outer, 0.55 * outer, 0.0)
        placed = np.full((n, 2), np.nan)
        for s in rng.permutation(n) if attempt else range(n):
            for ring in rings:
                rho = ring + (rng.uniform(0.0, 0.5) if ring == 0.0 else 0.0)
                yz = np.array([rho * np.cos(phi[s]), rho * np.sin(phi[s])])
                others = placed[~np.isnan(placed[:, 0])]
                if (
                    len(others) == 0
                    or np.min(np.linalg.norm(others - yz, axis=1)) >= MIN_ORIFICE_GAP_MM
                ):
                    placed[s] = yz
                    break
        if not np.isnan(placed).any():
            break
    else:  # pragma: no cover - would need many more orifices than the nipple holds
        raise ParameterError("orifices", n, "few enough orifices to fit on the nipple tip")
    x = np.full((n, 1), -breast.nipple_length_mm)
    return np.concatenate([x, placed], axis=1)
