"""The breast phantom: breast, lobes, duct systems and lesions, generated from parameters.

:func:`generate_phantom` is the one entry point: parameters (a :class:`PhantomParameters`
or a mapping from a case file) and a seed in, a :class:`Phantom` out. The same parameters
and seed give the same phantom, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..core import Laterality, ParameterError, ViewPosition
from ..core.seeding import RNGLike, as_generator
from ._growth import RawTree, SystemDraws, SystemGrower, grow_all
from ._neighbourhood import DuctNeighbourhood
from .breast import Breast
from .compression import Compression, compress
from .ducts import DuctTree
from .lesions import Lesion, LesionRequest, place_lesion
from .lobes import LobeLayout, make_lobe_layout
from .parameters import LesionSpec, PhantomParameters

# Territory points per TDLU: a branch that drains this many points or fewer is terminal.
# Divisions cut 30-70 %, so terminal branches hold about half of it on average.
LEAF_POINTS = 12
STEP_MM = 1.0  # largest node spacing along a duct
MIN_TDLUS_PER_SYSTEM = 100  # about 200 branches


class SystemParameters(BaseModel):
    """Per-system values actually used (drawn or given)."""

    model_config = ConfigDict(extra="forbid")

    main_duct_diameter_mm: float
    first_branch_mm: float
    ampulla_factor: float
    ampulla_centre_mm: float
    ampulla_length_mm: float


class ResolvedParameters(BaseModel):
    """Every value used to build a phantom; with the seed, enough to build it again."""

    model_config = ConfigDict(extra="forbid")

    laterality: Laterality
    volume_ml: float
    glandular_fraction: float
    compressed_thickness_mm: float
    lobes: int
    orifices: int
    tdlus_per_lobe: int
    height_to_width: float
    depth_to_width: float
    profile_exponent: float
    section_exponent: float
    ptosis_fraction: float
    systems: list[SystemParameters]
    lesions: list[LesionSpec]


def _truncated(draw, low: float, high: float, rng: np.random.Generator) -> float:
    for _ in range(1000):
        value = float(draw())
        if low <= value <= high:
            return value
    return float(np.clip(draw(), low, high))  # pragma: no cover - never seen


def _lognormal_mean_sd(mean: float, sd: float, rng: np.random.Generator) -> float:
    sigma2 = np.log(1.0 + (sd / mean) ** 2)
    return float(rng.lognormal(np.log(mean) - 0.5 * sigma2, np.sqrt(sigma2)))


def resolve(params: PhantomParameters, rng: RNGLike) -> ResolvedParameters:
    """Draw every unset parameter from its distribution (see :mod:`.parameters`)."""
    rng = as_generator(rng)
    p = params
    volume = p.volume_ml or _truncated(
        lambda: 600.0 * np.exp(rng.normal(0.0, 0.45)), 200.0, 1500.0, rng
    )
    # Yaffe 2009: mean 19.3 %, 80 % below 27 %, 95 % below 45 % -> lognormal with median
    # 15.8 % and sigma 0.636 (its 80th and 95th percentiles are 27 % and 45 %) [estimate].
    glandular = p.glandular_fraction or _truncated(
        lambda: 0.158 * np.exp(rng.normal(0.0, 0.636)), 0.05, 0.45, rng
    )
    lobes = p.lobes or int(rng.integers(10, 17))
    orifices = p.orifices or min(int(rng.integers(5, 10)), lobes)
    if orifices > lobes:
        raise ParameterError("orifices", orifices, f"an integer in [1, lobes = {lobes}]")
    shape = {
        "height_to_width": p.height_to_width or float(rng.uniform(0.8, 1.0)),
        "depth_to_width": p.depth_to_width or float(rng.uniform(0.8, 1.2)),
        "profile_exponent": float(rng.uniform(1.8, 2.6)),
        "section_exponent": float(rng.uniform(2.0, 2.5)),
        "ptosis_fraction": p.ptosis_fraction
        if p.ptosis_fraction is not None
        else float(rng.uniform(0.0, 0.25)),
    }
    breast = Breast.from_volume(volume, glandular_fraction=glandular, **shape)
    height = 2.0 * breast.semi_height_mm
    if p.compressed_thickness_mm is not None:
        thickness = p.compressed_thickness_mm
        if thickness >= 0.95 * height:
            raise ParameterError(
                "compressed_thickness_mm",
                thickness,
                f"a thickness in [10, {0.95 * height:.0f}) mm: less than this breast's "
                f"uncompressed height of {height:.0f} mm",
            )
    else:  # Yaffe 2009: 5.9 ± 1.6 cm
        thickness = _truncated(lambda: rng.normal(59.0, 16.0), 25.0, 0.85 * height, rng)
    systems = []
    for _ in range(orifices):
        diameter = p.main_duct_diameter_mm or _truncated(
            lambda: rng.normal(1.5, 0.25), 1.0, 2.0, rng
        )
        first = p.first_branch_mm or float(np.clip(_lognormal_mean_sd(8.0, 5.5, rng), 2.0, 30.0))
        # Ampulla (lactiferous sinus) beneath the nipple: widening of 1.15-1.45x over
        # 4-6 mm, kept below the 3 mm ectasia threshold.
        factor = min(float(rng.uniform(1.15, 1.45)), 2.8 / diameter)
        systems.append(
            SystemParameters(
                main_duct_diameter_mm=diameter,
                first_branch_mm=first,
                ampulla_factor=max(factor, 1.0),
                ampulla_centre_mm=float(rng.uniform(2.0, 4.0)),
                ampulla_length_mm=float(rng.uniform(4.0, 6.0)),
            )
        )
    for k, spec in enumerate(p.lesions):
        if spec.system is not None and spec.system >= orifices:
            raise ParameterError(
                f"lesions.{k}.system", spec.system, f"a duct system index in [0, {orifices - 1}]"
            )
    return ResolvedParameters(
        laterality=p.laterality,
        volume_ml=volume,
        glandular_fraction=glandular,
        compressed_thickness_mm=thickness,
        lobes=lobes,
        orifices=orifices,
        tdlus_per_lobe=p.tdlus_per_lobe,
        systems=systems,
        lesions=list(p.lesions),
        **shape,
    )


@dataclass(frozen=True, eq=False)
class Phantom:
    """A breast with its lobes, duct systems (one :class:`DuctTree` per orifice) and
    lesions, in the breast frame (see :mod:`ductogram.anatomy.breast`)."""

    parameters: ResolvedParameters
    seed: int | None
    breast: Breast
    lobes: LobeLayout
    trees: tuple[DuctTree, ...]

    @property
    def compressed_thickness_mm(self) -> float:
        return self.parameters.compressed_thickness_mm

    @property
    def lesions(self) -> tuple[Lesion, ...]:
        return tuple(lesion for tree in self.trees for lesion in tree.lesions)

    def compression(self, view: ViewPosition | str, **kwargs: Any) -> Compression:
        """The compressed geometry of ``view`` at the phantom's compressed thickness."""
        return compress(self.breast, view, self.compressed_thickness_mm, **kwargs)

    @cached_property
    def n_branches(self) -> int:
        return sum(t.n_branches for t in self.trees)

    def tree(self, system: int) -> DuctTree:
        """The duct system drained by orifice ``system``."""
        if not 0 <= system < len(self.trees):
            raise ParameterError(
                "system", system, f"an orifice index in [0, {len(self.trees) - 1}]"
            )
        return self.trees[system]


def generate_phantom(
    parameters: PhantomParameters | dict[str, Any] | None = None, *, seed: int | None = None
) -> Phantom:
    """Generate a breast phantom.

    Parameters
    ----------
    parameters : PhantomParameters or mapping or None
        Case-file parameters; unset ones are drawn (see :mod:`.parameters`).
    seed : int or None
        Seed of the random generator. The same parameters and seed give the same phantom.

    Returns
    -------
    Phantom

    Raises
    ------
    ParameterError
        If a parameter is out of range or inconsistent (the message names the field).

    Examples
    --------
    >>> ph = generate_phantom({"lobes": 10, "orifices": 5, "tdlus_per_lobe": 40}, seed=1)
    >>> len(ph.trees), ph.lobes.n_lobes
    (5, 10)
    """
    if parameters is None:
        parameters = PhantomParameters()
    elif not isinstance(parameters, PhantomParameters):
        parameters = PhantomParameters.parse(parameters)
    root = np.random.default_rng(seed)
    rng_params, rng_layout, rng_points, rng_systems, rng_lesions = root.spawn(5)
    resolved = resolve(parameters, rng_params)
    return build_phantom(
        resolved, seed=seed, rngs=(rng_layout, rng_points, rng_systems, rng_lesions)
    )


def build_phantom(
    resolved: ResolvedParameters,
    *,
    seed: int | None,
    rngs: tuple[np.random.Generator, ...],
) -> Phantom:
    """Build the phantom for fully resolved parameters (see :func:`generate_phantom`)."""
    rng_layout, rng_points, rng_systems, rng_lesions = rngs
    r = resolved
    breast = Breast.from_volume(
        r.volume_ml,
        laterality=r.laterality,
        height_to_width=r.height_to_width,
        depth_to_width=r.depth_to_width,
        profile_exponent=r.profile_exponent,
        section_exponent=r.section_exponent,
        ptosis_fraction=r.ptosis_fraction,
        glandular_fraction=r.glandular_fraction,
    )
    layout = make_lobe_layout(breast, r.lobes, r.orifices, rng_layout)
    n_points = round(r.tdlus_per_lobe * r.lobes * 0.6 * LEAF_POINTS)
    points = breast.sample_parenchyma(n_points, rng_points)
    labels = layout.label(points, breast)
    growers = []
    for s, (sp, rng) in enumerate(zip(r.systems, rng_systems.spawn(r.orifices), strict=True)):
        mine = np.isin(labels, layout.lobes_of_system(s))
        draws = SystemDraws(
            main_radius_mm=0.5 * sp.main_duct_diameter_mm,
            first_branch_mm=sp.first_branch_mm,
            ampulla_factor=sp.ampulla_factor,
            ampulla_centre_mm=sp.ampulla_centre_mm,
            ampulla_length_mm=sp.ampulla_length_mm,
        )
        # A small system (a narrow lobe) gets finer terminal territories, so that every
        # system still branches through at least 7 generations.
        leaf = int(np.clip(np.count_nonzero(mine) / (0.6 * MIN_TDLUS_PER_SYSTEM), 3, LEAF_POINTS))
        growers.append(
            SystemGrower(
                breast,
                layout,
                s,
                points[mine],
                labels[mine],
                draws,
                leaf_points=leaf,
                step_mm=STEP_MM,
                rng=rng,
            )
        )
    raws = grow_all(growers)
    trees = [_to_tree(s, raw) for s, raw in enumerate(raws)]
    trees = _attach_lesions(trees, r.lesions, rng_lesions)
    return Phantom(parameters=r, seed=seed, breast=breast, lobes=layout, trees=tuple(trees))


def _to_tree(system: int, raw: RawTree) -> DuctTree:
    return DuctTree(
        system=system,
        positions_mm=raw.positions_mm,
        radii_mm=raw.radii_mm,
        parent=raw.parent,
        generation=raw.generation,
        lobe=raw.lobe,
        tdlu_node=raw.tdlu_node,
        tdlu_centre_mm=raw.tdlu_centre_mm,
        tdlu_axis=raw.tdlu_axis,
        tdlu_semi_axes_mm=raw.tdlu_semi_axes_mm,
    )


def _attach_lesions(
    trees: list[DuctTree], specs: list[LesionSpec], rng: np.random.Generator
) -> list[DuctTree]:
    for k, spec in enumerate(specs):
        system = spec.system if spec.system is not None else int(rng.integers(len(trees)))
        others = [t for t in trees if t.system != system]
        request = LesionRequest(
            kind=spec.kind,
            segment=spec.segment,
            size_mm=spec.size_mm,
            count=spec.count,
            obstructs=spec.obstructs,
            extent=spec.extent,
            field=f"lesions.{k}",
        )

        trees[system] = place_lesion(
            trees[system], request, rng, neighbourhood=DuctNeighbourhood(others)
        )
    return trees
