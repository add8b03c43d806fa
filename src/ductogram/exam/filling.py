"""How injected contrast fills a cannulated duct system: :func:`fill_ducts`.

Model (tree frame and notation of :class:`ductogram.anatomy.DuctTree`):

1. **Capacity.** Each segment ``parent[i] -> i`` is a tapered tube (frustum) of volume
   ``π L (r0² + r0 r1 + r1²) / 3``, less the volume of any intraluminal mass (papilloma)
   or air bubble inside it. A terminal duct's TDLU takes contrast when its duct is full
   (the lobular blush) — its ellipsoid volume times ``ACINAR_SHARE`` — and a cyst fed by
   that duct then fills. Segments beyond an obstruction (``Lesion.stop_node``) hold nothing;
   the obstructed segment fills only up to the mass.
2. **Division of flow.** Contrast advances from the orifice as a column: a segment fills
   before anything beyond it, and at a branch point the volume divides between the child
   subtrees in proportion to their hydraulic conductance (Poiseuille: a tube's resistance
   is ``8 μ L / (π r⁴)``; for a linear taper ``8 μ L (r0² + r0 r1 + r1²) / (3 π r0³ r1³)``;
   subtrees combine in series and parallel, each TDLU an outlet of its own size). A subtree
   that is full passes its share on to its siblings (water filling), so the result is
   monotone in the volume injected.
3. **Excess.** When every reachable duct, TDLU and cyst is full, the ducts distend under the
   pressure, up to ``MAX_DISTENSION`` of their radius (ducts before an obstruction distend
   further, up to ``OBSTRUCTION_DILATION``: the dilated duct proximal to a blocking lesion);
   what still remains leaves the system: back out of the nipple around the cannula
   (reflux), and through the duct wall into the tissue (extravasation): a share of the
   excess that grows from 0 to ``EXTRAVASATED_SHARE`` as the excess grows from twice to
   three times what the system holds [estimate], and ``EXTRAVASATED_SHARE_OBSTRUCTED`` of it, at the
   lesion, when the flow is blocked. Injecting faster than ``SAFE_RATE_ML_PER_MIN``
   ruptures the duct at the head of the column for a share of the volume.
4. **Bubbles.** Without a flush, air in the line enters the duct as 1-4 round bubbles in
   the proximal ducts, displacing contrast (Slawson & Johnson 2001: bubbles mimic filling
   defects; clinical.md §1.4).

Conservation: ``injected = held + extravasated + refluxed`` exactly (up to rounding).

The constants marked [estimate] are not in the literature we have (clinical.md §1.4 lists the
gaps); they are chosen so that the default 1 mL fills a typical system out to its TDLUs,
as ductograms at 0.3-2 mL do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..anatomy import DuctTree, Ellipsoid, LesionKind
from ..core import ParameterError
from ..core.seeding import RNGLike, as_generator

MAX_VOLUME_ML = 5.0  # issue 3: volumes outside 0-5 mL are refused
ACINAR_SHARE = 0.5  # share of a TDLU's volume that takes contrast (acini) [estimate]
MAX_DISTENSION = 0.3  # radius gain of a duct at full injection pressure [estimate]
OBSTRUCTION_DILATION = 0.6  # radius gain before a blocking lesion [estimate]
OBSTRUCTION_DILATION_MM = 20.0  # how far back from the obstruction the duct dilates
SAFE_RATE_ML_PER_MIN = 1.0  # 0.3-0.5 mL over >= 1 min avoids extravasation (theradiologyblog)
EXTRAVASATED_SHARE = 0.3  # of the excess, without obstruction [estimate]
EXTRAVASATED_SHARE_OBSTRUCTED = 0.6  # of the excess, against a blocked duct [estimate]
TISSUE_POROSITY = 0.25  # interstitial share of tissue that extravasated contrast fills
BUBBLE_RADIUS_OF_LUMEN = (0.5, 0.9)
BUBBLE_MAX_DISTANCE_MM = 30.0


@dataclass(frozen=True)
class Bubble:
    """An air bubble in the lumen: a round lucency in the contrast column."""

    centre_mm: np.ndarray
    radius_mm: float
    segment: int


@dataclass(frozen=True)
class Extravasation:
    """Contrast that left the duct into the tissue, as a sphere of the tissue it soaks."""

    centre_mm: np.ndarray
    radius_mm: float
    volume_ml: float
    node: int
    cause: str  # "pressure", "obstruction" or "rate"


@dataclass(frozen=True, eq=False)
class ContrastFill:
    """Where the contrast is after an injection into one duct system.

    Parameters
    ----------
    system : int
        The cannulated system (orifice index).
    injected_ml, held_ml, extravasated_ml, refluxed_ml : float
        Volumes (mL); ``injected = held + extravasated + refluxed``.
    concentration_mgi_per_ml : float
        Iodine concentration of the agent.
    fill_fraction : (N,) array
        Share of each segment's lumen (``parent[i] -> i``; 0 for the orifice) that holds
        contrast, filled from its proximal end.
    radii_mm : (N,) array
        Lumen radius at each node during the exposures (distended under pressure).
    segment_contrast_ml : (N,) array
        Contrast held in each segment.
    tdlu_fill : (K,) array
        Share of each TDLU's acinar space filled (the lobular blush).
    cyst_fill : tuple of (Ellipsoid, float)
        Cysts and the share of each holding contrast.
    defects : tuple of Ellipsoid
        Intraluminal masses inside filled lumen (filling defects).
    bubbles, extravasations : tuples
    obstructed_at : int or None
        Node of the obstruction the column reached, if any.
    """

    system: int
    injected_ml: float
    held_ml: float
    extravasated_ml: float
    refluxed_ml: float
    concentration_mgi_per_ml: float
    fill_fraction: np.ndarray
    radii_mm: np.ndarray
    segment_contrast_ml: np.ndarray
    tdlu_fill: np.ndarray
    cyst_fill: tuple[tuple[Ellipsoid, float], ...] = ()
    defects: tuple[Ellipsoid, ...] = ()
    bubbles: tuple[Bubble, ...] = ()
    extravasations: tuple[Extravasation, ...] = ()
    obstructed_at: int | None = None
    max_generation_filled: int = 0
    generation: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def lobular_blush(self) -> bool:
        """Whether contrast reached the lobules (some TDLU at least half filled)."""
        return bool(len(self.tdlu_fill) and self.tdlu_fill.max() >= 0.5)

    @property
    def filled(self) -> np.ndarray:
        """(N,) True for segments holding any contrast."""
        return self.fill_fraction > 0

    def summary(self) -> dict[str, Any]:
        """The figures a procedure record keeps (JSON-ready)."""
        return {
            "system": self.system,
            "injected_ml": round(self.injected_ml, 4),
            "held_ml": round(self.held_ml, 4),
            "extravasated_ml": round(self.extravasated_ml, 4),
            "refluxed_ml": round(self.refluxed_ml, 4),
            "segments_filled": int(np.count_nonzero(self.fill_fraction > 0)),
            "segments_total": int(len(self.fill_fraction) - 1),
            "max_generation_filled": self.max_generation_filled,
            "tdlus_filled": int(np.count_nonzero(self.tdlu_fill >= 0.5)),
            "lobular_blush": self.lobular_blush,
            "obstructed_at_node": self.obstructed_at,
            "filling_defects": len(self.defects),
            "bubbles": len(self.bubbles),
            "extravasations": [
                {"volume_ml": round(e.volume_ml, 4), "cause": e.cause, "node": e.node}
                for e in self.extravasations
            ],
            "cysts_filled": sum(1 for _, f in self.cyst_fill if f > 0),
        }


def _frustum_mm3(r0: np.ndarray, r1: np.ndarray, length: np.ndarray) -> np.ndarray:
    return np.pi * length * (r0**2 + r0 * r1 + r1**2) / 3.0


def _resistance(r0: np.ndarray, r1: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Poiseuille resistance of a linearly tapered tube, in units of 8μ/π (mm⁻³)."""
    return length * (r0**2 + r0 * r1 + r1**2) / (3.0 * r0**3 * r1**3)


def _segment_of(tree: DuctTree, point: np.ndarray) -> tuple[int, float]:
    """The segment closest to a point, and the point's position along it (0..1)."""
    a = tree.positions_mm[tree.parent[1:]]
    b = tree.positions_mm[1:]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", point - a, ab) / np.einsum("ij,ij->i", ab, ab), 0, 1)
    d = np.linalg.norm(a + t[:, None] * ab - point, axis=1)
    k = int(np.argmin(d))
    return k + 1, float(t[k])


def _allocate(volume: float, weights: list[float], caps: list[float]) -> list[float]:
    """Share ``volume`` in proportion to ``weights``, none above its cap (water filling)."""
    n = len(weights)
    out = [0.0] * n
    total_cap = sum(caps)
    if volume >= total_cap:
        return list(caps)
    active = [k for k in range(n) if caps[k] > 0 and weights[k] > 0]
    remaining = volume
    while active and remaining > 1e-15:
        wsum = sum(weights[k] for k in active)
        # The first to fill up at this rate, if any, fills; the rest share what is left.
        scale = remaining / wsum
        full = [k for k in active if caps[k] - out[k] <= weights[k] * scale]
        if not full:
            for k in active:
                out[k] += weights[k] * scale
            break
        step = min((caps[k] - out[k]) / weights[k] for k in full)
        for k in active:
            out[k] += weights[k] * step
        remaining -= step * wsum
        active = [k for k in active if caps[k] - out[k] > 1e-15]
    return out


def fill_ducts(
    tree: DuctTree,
    volume_ml: float,
    *,
    flushed: bool = True,
    rate_ml_per_min: float = 0.5,
    concentration_mgi_per_ml: float = 300.0,
    stop_when_full: bool = False,
    rng: RNGLike = None,
) -> ContrastFill:
    """Fill a cannulated duct system with ``volume_ml`` of contrast (see the module doc).

    Parameters
    ----------
    tree : DuctTree
        The cannulated system, with its lesions.
    volume_ml : float
        Volume injected, in [0, 5] mL (typically 0.3-2 mL; clinical.md §1.4).
    flushed : bool
        Whether the line was flushed with contrast first; if not, air bubbles enter.
    rate_ml_per_min : float
        Injection rate, in (0, 60] mL/min.
    concentration_mgi_per_ml : float
        Iodine concentration of the agent (recorded for the imaging).
    stop_when_full : bool
        Stop injecting when the system is full at full pressure (the radiologist feels
        fullness or the patient discomfort: clinical.md §1.4): ``injected_ml`` is then
        at most what the system holds, and nothing refluxes or leaks for the volume
        (default False: all of ``volume_ml`` goes in).
    rng : numpy.random.Generator or int or None
        Draws the bubbles' number, size and place.

    Returns
    -------
    ContrastFill

    Raises
    ------
    ParameterError
        If the volume or rate is out of range.

    Examples
    --------
    >>> from ductogram.anatomy import generate_phantom
    >>> tree = generate_phantom({"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30}, seed=1).trees[0]
    >>> fill = fill_ducts(tree, 0.05)
    >>> round(fill.held_ml + fill.extravasated_ml + fill.refluxed_ml, 6)
    0.05
    """
    if not isinstance(tree, DuctTree):
        raise TypeError(f"tree must be a DuctTree, got {type(tree).__name__}")
    if not (np.isfinite(volume_ml) and 0.0 <= volume_ml <= MAX_VOLUME_ML):
        raise ParameterError("volume_ml", volume_ml, f"a volume in [0, {MAX_VOLUME_ML:g}] mL")
    if not (np.isfinite(rate_ml_per_min) and 0.0 < rate_ml_per_min <= 60.0):
        raise ParameterError("rate_ml_per_min", rate_ml_per_min, "a rate in (0, 60] mL/min")
    rng = as_generator(rng)
    n = tree.n_nodes
    par = tree.parent
    pos = tree.positions_mm
    r = tree.radii_mm
    length = tree.segment_lengths_mm
    seg_vol = np.zeros(n)
    seg_vol[1:] = _frustum_mm3(r[par[1:]], r[1:], length[1:])
    seg_res = np.zeros(n)
    seg_res[1:] = _resistance(r[par[1:]], r[1:], np.maximum(length[1:], 1e-6))

    # Obstruction: nothing beyond stop_node; its own segment fills up to the lesion.
    blocked = np.zeros(n, dtype=bool)
    open_share = np.ones(n)
    stop_nodes = []
    defects: list[Ellipsoid] = []
    displaced = np.zeros(n)
    cysts: dict[int, Ellipsoid] = {}
    for lesion in tree.lesions:
        if lesion.obstructs and lesion.stop_node is not None:
            stop = int(lesion.stop_node)
            stop_nodes.append(stop)
            sub = tree.subtree(stop)
            blocked[sub[1:]] = True
            share = 0.5
            if lesion.masses:
                seg, t = _segment_of(tree, lesion.masses[0].centre_mm)
                if seg == stop:
                    reach = lesion.masses[0].semi_axes_mm[0] / max(length[stop], 1e-9)
                    share = float(np.clip(t - reach, 0.0, 1.0))
            open_share[stop] = min(open_share[stop], share)
        for mass in lesion.masses if not lesion.obstructs else ():
            seg, _ = _segment_of(tree, mass.centre_mm)
            displaced[seg] += min(mass.volume_ml * 1000.0, 0.9 * seg_vol[seg])
            defects.append(mass)
        if lesion.kind == LesionKind.CYST:
            cysts[int(lesion.segment)] = lesion.cavities[0]

    # Bubbles (no flush): in filled proximal ducts; drawn before filling, placed after.
    bubble_draws = []
    if not flushed:
        dist = tree.distance_from_nipple_mm
        proximal = np.flatnonzero((dist > 0) & (dist <= BUBBLE_MAX_DISTANCE_MM) & ~blocked)
        proximal = proximal[proximal > 0]
        for _ in range(int(rng.integers(1, 5))):
            if len(proximal) == 0:
                break
            seg = int(rng.choice(proximal))
            t = float(rng.uniform(0.1, 0.9))
            lumen = (1 - t) * r[par[seg]] + t * r[seg]
            radius = float(rng.uniform(*BUBBLE_RADIUS_OF_LUMEN) * lumen)
            vol = 4.0 / 3.0 * math.pi * radius**3
            if displaced[seg] + vol < 0.9 * seg_vol[seg]:
                displaced[seg] += vol
                bubble_draws.append((seg, t, radius))

    cap_seg = np.where(blocked, 0.0, (seg_vol - displaced) * open_share)
    cap_seg[0] = 0.0
    tdlu_cap = np.zeros(n)
    tdlu_index = np.full(n, -1)
    semi = tree.tdlu_semi_axes_mm
    tdlu_cap[tree.tdlu_node] = ACINAR_SHARE * 4.0 / 3.0 * np.pi * semi[:, 0] * semi[:, 1] ** 2
    tdlu_index[tree.tdlu_node] = np.arange(len(tree.tdlu_node))
    cyst_cap = np.zeros(n)
    for node, cavity in cysts.items():
        cyst_cap[node] = cavity.volume_ml * 1000.0
    end_cap = np.where(blocked, 0.0, tdlu_cap + cyst_cap)
    # An obstructed segment is a dead end: nothing beyond it.
    for stop in stop_nodes:
        end_cap[stop] = 0.0

    # Children lists, then capacity and conductance from the ends up (plain Python lists:
    # the loops visit every node once).
    kids: list[list[int]] = [[] for _ in range(n)]
    for i, p in enumerate(par[1:].tolist(), start=1):
        kids[p].append(i)
    stops = set(stop_nodes)
    outlet = np.zeros(n)
    outlet[tree.tdlu_node] = _resistance(semi[:, 1], semi[:, 1], 2 * semi[:, 0])
    sub_cap_l = (cap_seg + end_cap).tolist()
    cond = [0.0] * n  # conductance of each subtree (0: no flow)
    seg_res_l = seg_res.tolist()
    outlet_l = outlet.tolist()
    blocked_l = blocked.tolist()
    par_l = par.tolist()
    for i in range(n - 1, 0, -1):
        if blocked_l[i]:
            continue
        if i in stops:
            # A blocked duct still fills up to the lesion (the column ends on it), as a dead
            # end: its outlet is the give of its wall, taken as a 5 mm tube of its calibre.
            beyond = float(_resistance(r[i], r[i], 5.0)) / max(open_share[i], 0.05)
        elif kids[i]:
            g = sum(cond[c] for c in kids[i])
            beyond = 1.0 / g if g > 0 else math.inf
        else:
            beyond = outlet_l[i] if outlet_l[i] > 0 else math.inf
        total = seg_res_l[i] + beyond
        cond[i] = 1.0 / total if math.isfinite(total) else 0.0
        sub_cap_l[par_l[i]] += sub_cap_l[i]

    # Rate: a share of the volume leaks at the head of the column if injected too fast.
    rate_leak = 0.0
    if rate_ml_per_min > SAFE_RATE_ML_PER_MIN:
        rate_leak = volume_ml * min(0.3, 0.15 * (rate_ml_per_min / SAFE_RATE_ML_PER_MIN - 1.0))
    volume_mm3 = (volume_ml - rate_leak) * 1000.0

    # Top-down water filling.
    into_l = [0.0] * n  # volume entering each subtree
    held_seg_l = [0.0] * n
    held_end_l = [0.0] * n
    cap_seg_l = cap_seg.tolist()
    end_cap_l = end_cap.tolist()

    def share(volume: float, children: list[int]) -> None:
        if len(children) == 1:
            c = children[0]
            into_l[c] = min(volume, sub_cap_l[c])
            return
        alloc = _allocate(volume, [cond[c] for c in children], [sub_cap_l[c] for c in children])
        for c, a in zip(children, alloc, strict=True):
            into_l[c] = a

    if kids[0]:
        share(volume_mm3, kids[0])
    for i in range(1, n):
        v = into_l[i]
        if v <= 0.0:
            continue
        take = min(v, cap_seg_l[i])
        held_seg_l[i] = take
        v -= take
        if v <= 1e-15:
            continue
        if kids[i] and i not in stops:
            share(v, kids[i])
        else:
            held_end_l[i] = min(v, end_cap_l[i])
    held_seg = np.asarray(held_seg_l)
    held_end = np.asarray(held_end_l)

    reachable = (cap_seg > 0) & (held_seg > 0)
    excess_mm3 = volume_mm3 - held_seg.sum() - held_end.sum()
    rounding = 1e-9 * max(volume_mm3, 1.0)  # less excess than this is the sums' rounding
    if excess_mm3 <= rounding:
        excess_mm3 = 0.0
    radii = r.copy()
    extra_seg = np.zeros(n)
    if excess_mm3 > 1e-12:
        # Every reachable duct is full: the ducts distend (uniformly), then dilate before an
        # obstruction.
        base = cap_seg * reachable
        room = ((1.0 + MAX_DISTENSION) ** 2 - 1.0) * base.sum()
        absorbed = min(excess_mm3, room)
        if room > 0:
            phi = absorbed / room
            gain = math.sqrt(1.0 + phi * ((1.0 + MAX_DISTENSION) ** 2 - 1.0))
            extra_seg += base * (gain**2 - 1.0)
            grow = np.zeros(n, dtype=bool)
            grow[np.flatnonzero(reachable)] = True
            grow[par[np.flatnonzero(reachable)]] = True
            radii = np.where(grow, r * gain, r)
        excess_mm3 -= absorbed
        if excess_mm3 > 1e-12 and stop_nodes:
            path = _path_before(tree, stop_nodes[0], OBSTRUCTION_DILATION_MM)
            segs = [s for s in path if reachable[s]]
            now = radii.copy()
            target = r * (1.0 + OBSTRUCTION_DILATION)
            seg_room = np.zeros(n)
            for s in segs:
                a, b = par[s], s
                seg_room[s] = max(
                    _frustum_mm3(target[a], target[b], length[b]) * open_share[b]
                    - _frustum_mm3(now[a], now[b], length[b]) * open_share[b],
                    0.0,
                )
            room2 = seg_room.sum()
            if room2 > 0:
                take = min(excess_mm3, room2)
                phi2 = take / room2
                extra_seg += seg_room * phi2
                nodes = sorted({s for s in segs} | {int(par[s]) for s in segs})
                for k in nodes:
                    radii[k] = now[k] + phi2 * (target[k] - now[k])
                excess_mm3 -= take
        if excess_mm3 <= rounding:  # a system filled just to what it holds
            excess_mm3 = 0.0

    injected_mm3 = volume_ml * 1000.0  # the rate's leak included
    if stop_when_full:
        injected_mm3 -= excess_mm3
        excess_mm3 = 0.0
    held_seg = held_seg + extra_seg
    fill_fraction = np.zeros(n)
    nominal = np.where(cap_seg > 0, cap_seg, 1.0)
    fill_fraction[1:] = np.where(
        extra_seg[1:] > 0, 1.0, np.clip(held_seg[1:] / nominal[1:], 0.0, 1.0)
    )
    fill_fraction[cap_seg <= 0] = 0.0
    # An obstructed segment is filled only up to the lesion: its share of the length.
    fill_fraction = np.where(open_share < 1.0, fill_fraction * open_share, fill_fraction)

    # What is left leaves the system: most back out around the cannula; the more the
    # excess outweighs what the system holds, the more breaks through the duct wall.
    obstructed = [s for s in stop_nodes if held_seg[s] > 0 or fill_fraction[par[s]] > 0]
    share = EXTRAVASATED_SHARE_OBSTRUCTED if obstructed else EXTRAVASATED_SHARE
    holds = max(held_seg.sum() + held_end.sum(), 1e-9)
    pressure = min(max(excess_mm3 / holds - 2.0, 0.0), 1.0)
    extravasated_mm3 = excess_mm3 * share * (1.0 if obstructed else pressure)
    refluxed_mm3 = excess_mm3 - extravasated_mm3
    extravasations = []
    if extravasated_mm3 > 0:
        site = obstructed[0] if obstructed else _column_head(tree, held_seg, cap_seg)
        cause = "obstruction" if obstructed else "pressure"
        extravasations.append(_blob(tree, site, extravasated_mm3, cause, rng))
    if rate_leak > 0:
        site = _column_head(tree, held_seg, cap_seg)
        extravasations.append(_blob(tree, site, rate_leak * 1000.0, "rate", rng))
        extravasated_mm3 += rate_leak * 1000.0

    tdlu_fill = np.zeros(len(tree.tdlu_node))
    for k, node in enumerate(tree.tdlu_node.tolist()):
        if tdlu_cap[node] > 0:
            tdlu_fill[k] = min(held_end[node], tdlu_cap[node]) / tdlu_cap[node]
    cyst_fill = []
    for node, cavity in cysts.items():
        into_cyst = max(held_end[node] - tdlu_cap[node], 0.0)
        cyst_fill.append(
            (cavity, float(min(into_cyst / cyst_cap[node], 1.0)) if cyst_cap[node] else 0.0)
        )

    bubbles = tuple(
        Bubble(
            centre_mm=(1 - t) * pos[par[seg]] + t * pos[seg],
            radius_mm=radius,
            segment=seg,
        )
        for seg, t, radius in bubble_draws
        if fill_fraction[seg] >= t
    )
    filled_defects = tuple(
        m for m in defects if fill_fraction[_segment_of(tree, m.centre_mm)[0]] > 0
    )
    held_ml = (held_seg.sum() + held_end.sum()) / 1000.0
    gen_filled = tree.generation[fill_fraction > 0]
    return ContrastFill(
        system=tree.system,
        injected_ml=float(injected_mm3 / 1000.0),
        held_ml=float(held_ml),
        extravasated_ml=float(extravasated_mm3 / 1000.0),
        refluxed_ml=float(refluxed_mm3 / 1000.0),
        concentration_mgi_per_ml=float(concentration_mgi_per_ml),
        fill_fraction=fill_fraction,
        radii_mm=radii,
        segment_contrast_ml=held_seg / 1000.0,
        tdlu_fill=tdlu_fill,
        cyst_fill=tuple(cyst_fill),
        defects=filled_defects,
        bubbles=bubbles,
        extravasations=tuple(extravasations),
        obstructed_at=obstructed[0] if obstructed else None,
        max_generation_filled=int(gen_filled.max()) if len(gen_filled) else 0,
        generation=tree.generation.copy(),
    )


def _path_before(tree: DuctTree, node: int, back_mm: float) -> list[int]:
    """Segments (child node indices) on the path from ``node`` up towards the orifice,
    within ``back_mm`` of it."""
    out = []
    s = 0.0
    i = int(tree.parent[node])
    while i > 0 and s < back_mm:
        out.append(i)
        s += float(tree.segment_lengths_mm[i])
        i = int(tree.parent[i])
    return out


def _column_head(tree: DuctTree, held: np.ndarray, cap: np.ndarray) -> int:
    """The most distal filled segment along the widest path (the head of the column)."""
    filled = np.flatnonzero(held[1:] > 0) + 1
    if len(filled) == 0:
        return 1
    dist = tree.path_length_mm[filled]
    return int(filled[np.argmax(dist * tree.radii_mm[filled])])


def _blob(tree: DuctTree, node: int, volume_mm3: float, cause: str, rng) -> Extravasation:
    """Extravasated contrast as a sphere of soaked tissue beside the duct at ``node``."""
    radius = (3.0 * volume_mm3 / (4.0 * math.pi * TISSUE_POROSITY)) ** (1.0 / 3.0)
    p = tree.positions_mm[node]
    axis = p - tree.positions_mm[tree.parent[node]]
    side = np.cross(axis, rng.normal(size=3))
    side /= max(np.linalg.norm(side), 1e-12)
    centre = p + side * (tree.radii_mm[node] + 0.5 * radius)
    return Extravasation(
        centre_mm=centre,
        radius_mm=float(radius),
        volume_ml=float(volume_mm3 / 1000.0),
        node=int(node),
        cause=cause,
    )
