"""Growing one duct system into the territory of the lobes it drains.

The tree fills its territory by recursive division of a cloud of points drawn uniformly in
it (space filling by territory division, in the spirit of the VICTRE generator's
fill-map steering, ../shared/reference/simulation.md §1.1, but without its 50-try search):

1. The main duct leaves the orifice straight through the nipple, widens into the
   lactiferous sinus (ampulla) beneath the nipple and runs towards the centroid of the
   system's territory; it divides at the first branch point, ``first_branch_mm`` from the
   nipple base (Ramsay 2005: 8.0 ± 5.5 mm).
2. At each branch point the branch's points are cut in two: between lobes while the branch
   still drains several lobes, else across the branch by the principal axis of the points
   (fraction 0.3–0.7). Each child drains its half.
3. Murray's law sets the radii: a branch's radius is ∝ (points it drains)^(1/3), so at
   every division r_parent_end³ = r_child1³ + r_child2³ exactly (Murray 1926, PNAS 12:207).
   Branch angles are Murray's minimum-work angles for those radii,
   cos θ₁ = (r₀⁴ + r₁⁴ − r₂⁴) / (2 r₀² r₁²) (Murray 1926, J Gen Physiol 9:835),
   jittered and kept in the VICTRE range 18°–90°.
4. Each child leaves along its angle and bends towards the centroid of its points: a
   cubic Bézier curve, with a random sideways bend, cut into nodes ≤ ``step_mm`` apart.
   It runs a fraction (0.35–0.6) of the way and divides again, until a branch drains no
   more than ``leaf_points`` points: that branch is a terminal duct and ends in a TDLU.
5. Branches that leave their lobe's territory or come within the skin, or whose capsule
   touches another duct, are pruned with their subtree; a branch point left with one child
   becomes a plain bend of the duct. Radii and generations are then recomputed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._collisions import capsule_contacts, capsule_contacts_between
from .breast import Breast
from .lobes import LobeLayout, system_azimuth_rad

MIN_ANGLE_DEG = 18.0  # VICTRE parent–child angle range 0.1π–0.5π (clinical.md §3)
MAX_ANGLE_DEG = 90.0
TDLU_LENGTH_MM = (1.0, 2.0)  # VICTRE TDLU length and width (clinical.md §3) [model]
TDLU_WIDTH_MM = (0.5, 1.0)
AMPULLA_LENGTH_MM = (4.0, 6.0)  # THUBreast ampullae (clinical.md §3) [model]
NORMAL_AMPULLA_MAX_DIAMETER_MM = 2.8
# Within this distance of the nipple axis all lobe wedges meet: ducts may cross there.
CORE_RADIUS_MM = 4.0
# Beyond this distance (the areola radius, clinical.md §3) every duct is in its own lobe.
ENTRY_RADIUS_MM = 8.0
SQUEEZE = 0.8  # narrowing a round where two major ducts press on each other
MAJOR_FLOW = 0.15  # a branch draining this share of its system is never pruned for a contact
# Nipple ducts are "very narrow under the skin and widen deeper" (Rusby 2007): fraction of
# the main-duct radius at the orifice and at the nipple base [estimate].
NIPPLE_DUCT_FRACTION = (0.35, 0.5)  # ectasia begins > 3 mm at the ampulla (Radiopaedia)


@dataclass
class _Branch:
    parent: int  # branch index, -1 for the main duct
    nodes: np.ndarray  # (k, 3) node positions, the branch point it starts from excluded
    points: int  # territory points it drains when it is a terminal branch
    allowed: tuple[int, ...]  # lobes it may run in
    taper: float  # fraction of radius lost along the branch
    profile: np.ndarray | None = None  # per-node radius multiplier (nipple, ampulla, squeeze)
    entry: bool = True  # drains fewer lobes than its parent (it runs into its lobes)
    children: list[int] = field(default_factory=list)
    alive: bool = True


@dataclass(frozen=True)
class _ChildSpec:
    parent: int
    subset: np.ndarray
    allowed: tuple[int, ...]
    start: np.ndarray
    t0: np.ndarray
    target: np.ndarray
    terminal: bool
    entry: bool


@dataclass(frozen=True)
class SystemDraws:
    """Per-system random quantities, drawn once by the caller."""

    main_radius_mm: float
    first_branch_mm: float
    ampulla_factor: float
    ampulla_centre_mm: float
    ampulla_length_mm: float


@dataclass(frozen=True)
class RawTree:
    """Arrays of a grown system, before it is wrapped in a DuctTree."""

    positions_mm: np.ndarray
    radii_mm: np.ndarray
    parent: np.ndarray
    generation: np.ndarray
    lobe: np.ndarray
    branch_of_node: np.ndarray  # growth branch that holds each node
    flow_of_node: np.ndarray  # territory points drained through each node
    index_in_branch: np.ndarray  # position of each node in its growth branch
    chain_end: np.ndarray  # True at the last node of a branch (a branch point or an end)
    tdlu_node: np.ndarray
    tdlu_centre_mm: np.ndarray
    tdlu_axis: np.ndarray
    tdlu_semi_axes_mm: np.ndarray
    n_pruned: int


def _unit(v: np.ndarray) -> np.ndarray:
    if v.ndim == 1:
        n = math.sqrt(float(v @ v))
        return v / n if n > 0 else v
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def _slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Unit vector a fraction t of the way from unit vector a to unit vector b."""
    cos = min(max(float(a @ b), -1.0), 1.0)
    if cos > 0.9999:
        return _unit(a + t * (b - a))
    omega = math.acos(cos)
    return _unit((math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega))


def _slerp_rows(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Row-wise :func:`_slerp` of unit vectors (K, 3)."""
    cos = np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)
    omega = np.arccos(cos)
    small = cos > 0.9999
    sin = np.where(small, 1.0, np.sin(omega))
    wa = np.where(small, 1.0 - t, np.sin((1 - t) * omega) / sin)
    wb = np.where(small, t, np.sin(t * omega) / sin)
    return _unit(wa[:, None] * a + wb[:, None] * b)


def _perpendicular(d: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    v -= (v @ d) * d
    return _unit(v)


def _bezier(p0, p1, p2, p3, n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n + 1)[1:, None]
    u = 1.0 - t
    return u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3


class SystemGrower:
    """Grows one duct system (see the module docstring).

    Parameters
    ----------
    breast, layout : Breast, LobeLayout
    system : int
        Orifice index.
    points_mm : (P, 3) array
        Territory points of the system's lobes (breast frame).
    point_lobe : (P,) int array
        Lobe of each point.
    draws : SystemDraws
    leaf_points : int
        A branch that drains this many points or fewer is terminal.
    step_mm : float
        Largest distance between nodes along a duct.
    rng : numpy.random.Generator
    """

    def __init__(
        self,
        breast: Breast,
        layout: LobeLayout,
        system: int,
        points_mm: np.ndarray,
        point_lobe: np.ndarray,
        draws: SystemDraws,
        *,
        leaf_points: int,
        step_mm: float,
        rng: np.random.Generator,
    ) -> None:
        self.breast = breast
        self.layout = layout
        self.system = system
        self.points = points_mm
        self.point_lobe = point_lobe
        self.draws = draws
        self.leaf_points = leaf_points
        self.step_mm = step_mm
        self.rng = rng
        self.tdlu_rng = np.random.default_rng(rng.integers(2**63))
        self.branches: list[_Branch] = []
        azimuth = system_azimuth_rad(layout, system)
        lobes = layout.lobes_of_system(system)
        rel = np.array(
            [np.angle(np.exp(1j * (layout.centre_azimuth_rad(i) - azimuth))) for i in lobes]
        )
        self.lobe_order = lobes[np.argsort(rel)]  # neighbours next to each other

    # ------------------------------------------------------------------ growth
    def grow(self) -> None:
        """Grow the system wave by wave (all branches of one generation together, so that
        the placement checks run on many curves at once)."""
        self._main_duct()
        wave = [(0, np.arange(len(self.points)))]
        while wave:
            specs = []
            for b, subset in wave:
                if len(subset) <= self.leaf_points:
                    self.branches[b].points = len(subset)
            wave = [(b, subset) for b, subset in wave if len(subset) > self.leaf_points]
            inside = self._tips_in_own_lobes([b for b, _ in wave])
            for (b, subset), tip_inside in zip(wave, inside, strict=True):
                children = self._division(b, subset, bool(tip_inside))
                if not children:
                    self.branches[b].points = len(subset)
                specs.extend(children)
            curves = self._placed_curves(specs)
            wave = []
            for spec, nodes in zip(specs, curves, strict=True):
                parent = self.branches[spec.parent]
                child = len(self.branches)
                self.branches.append(
                    _Branch(
                        parent=spec.parent,
                        nodes=nodes,
                        points=0,
                        allowed=spec.allowed,
                        taper=float(self.rng.uniform(0.0, 0.04)),
                        entry=spec.entry,
                    )
                )
                parent.children.append(child)
                wave.append((child, spec.subset))

    def _main_duct(self) -> None:
        br, dr, rng = self.breast, self.draws, self.rng
        orifice = self.layout.orifice_mm[self.system]
        n_nip = max(2, int(np.ceil(br.nipple_length_mm / self.step_mm)))
        base = orifice + np.array([br.nipple_length_mm, 0.0, 0.0])
        nipple = orifice + np.outer(np.arange(1, n_nip + 1) / n_nip, base - orifice)
        centroid = self._aim(np.arange(len(self.points)), tuple(int(i) for i in self.lobe_order))
        x_hat = np.array([1.0, 0.0, 0.0])
        # Peripheral ducts fan out beneath the nipple base, central ones run straight back:
        # this keeps the 5-9 main ducts apart where they widen into their sinuses.
        radial = np.array([0.0, base[1], base[2]])
        peripheral = np.linalg.norm(radial) / br.nipple_radius_mm
        start_dir = _slerp(x_hat, _unit(radial), float(np.clip(peripheral, 0.0, 0.6)))
        toward = _slerp(start_dir, _unit(centroid - base), 0.85)
        d1 = dr.first_branch_mm
        end = base + d1 * toward
        n_sub = max(2, int(np.ceil(d1 / self.step_mm)))
        bend = _perpendicular(toward, rng) * rng.uniform(0.0, 0.12) * d1
        sub = _bezier(base, base + start_dir * d1 / 3, end - toward * d1 / 3 + bend, end, n_sub)
        nodes = np.concatenate([orifice[None], nipple, sub])
        # Radius profile: narrow at the orifice, widening through the nipple (Rusby 2007),
        # a fusiform ampulla beneath the nipple base, then the main duct.
        nodes[:, 0]
        s_along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(nodes, axis=0), axis=1))])
        s_base = s_along - br.nipple_length_mm  # path distance from the nipple base
        # 0.35 at the orifice, 0.5 at the nipple base, full calibre 4 mm beneath it, where
        # the main ducts have fanned out.
        profile = np.interp(
            s_base,
            [-br.nipple_length_mm, 0.0, 4.0],
            [NIPPLE_DUCT_FRACTION[0], NIPPLE_DUCT_FRACTION[1], 1.0],
        )
        arg = (s_base - dr.ampulla_centre_mm) / (0.5 * dr.ampulla_length_mm)
        bump = np.where(np.abs(arg) < 1.0, 0.5 * (1.0 + np.cos(np.pi * arg)), 0.0)
        profile = profile * (1.0 + (dr.ampulla_factor - 1.0) * bump)
        self.base_profile = {0: profile.copy()}
        self.branches.append(
            _Branch(
                parent=-1,
                nodes=nodes,
                points=0,
                allowed=tuple(int(i) for i in self.lobe_order),
                taper=0.0,
                profile=profile,
            )
        )

    def _division(self, b: int, subset: np.ndarray, tip_inside: bool) -> list[_ChildSpec]:
        """Cut a branch's points in two and aim a child at each half (Murray angles)."""
        rng = self.rng
        parent = self.branches[b]
        tip = parent.nodes[-1]
        d = _unit(tip - parent.nodes[-2])
        lobes_here = [lobe for lobe in self.lobe_order if lobe in parent.allowed]
        if len(lobes_here) > 1:
            halves = self._split_by_lobe(subset, lobes_here)
        else:
            halves = self._split_by_axis(subset, d)
        if halves is None:
            return []
        (s1, allowed1), (s2, allowed2) = halves
        c1 = self.points[s1].mean(axis=0)
        c2 = self.points[s2].mean(axis=0)
        e = (c1 - c2) - float((c1 - c2) @ d) * d
        e = _unit(e) if float(e @ e) > 1e-18 else _perpendicular(d, rng)
        f1 = len(s1) / len(subset)
        r1, r2 = f1 ** (1 / 3), (1 - f1) ** (1 / 3)
        # Murray's minimum-work angles (Murray 1926, J Gen Physiol 9:835).
        theta1 = math.degrees(math.acos(min(1.0, (1 + r1**4 - r2**4) / (2 * r1**2))))
        theta2 = math.degrees(math.acos(min(1.0, (1 + r2**4 - r1**4) / (2 * r2**2))))
        out = []
        for sub, allowed, theta, side, centroid in (
            (s1, allowed1, theta1, 1.0, self._aim(s1, allowed1, c1)),
            (s2, allowed2, theta2, -1.0, self._aim(s2, allowed2, c2)),
        ):
            jittered = min(max(theta + rng.normal(0.0, 6.0), MIN_ANGLE_DEG), MAX_ANGLE_DEG)
            angle = math.radians(jittered)
            t0 = math.cos(angle) * d + side * math.sin(angle) * e
            # A child runs into its lobes (an entry branch) when it drains fewer lobes than its
            # parent, or starts where its parent has not yet reached them (the core).
            entry = b == 0 or allowed != parent.allowed or not tip_inside
            terminal = len(sub) <= self.leaf_points
            out.append(_ChildSpec(b, sub, allowed, tip, t0, centroid, terminal, entry))
        return out

    def _tips_in_own_lobes(self, branches: list[int]) -> np.ndarray:
        """Whether each branch's end lies in one of its lobes' wedges, outside the core."""
        if not branches:
            return np.zeros(0, dtype=bool)
        br = self.breast
        tips = np.array([self.branches[b].nodes[-1] for b in branches])
        radial, _ = br.axis_distance_mm(tips)
        labels = self.layout.label(tips, br)
        member = np.array(
            [
                lab in self.branches[b].allowed
                for b, lab in zip(branches, labels.tolist(), strict=True)
            ]
        )
        return member & (radial >= CORE_RADIUS_MM)

    def _aim(self, subset: np.ndarray, allowed: tuple[int, ...], centroid=None) -> np.ndarray:
        """Where a branch heads: the centroid of its points, or, for a branch that will be
        divided between lobes, the middle of its two lobe groups' centroids, which lies near
        their common boundary, so that each child enters its own lobes at once."""
        if len(allowed) > 1:
            halves = self._split_by_lobe(subset, [i for i in self.lobe_order if i in allowed])
            if halves is not None:
                (a, _), (b, _) = halves
                return 0.5 * (self.points[a].mean(axis=0) + self.points[b].mean(axis=0))
        return self.points[subset].mean(axis=0) if centroid is None else centroid

    def _split_by_lobe(self, subset, lobes_here):
        counts = np.array(
            [np.count_nonzero(self.point_lobe[subset] == lobe) for lobe in lobes_here]
        )
        cum = np.cumsum(counts)[:-1]
        cut = int(np.argmin(np.abs(cum - 0.5 * counts.sum()))) + 1
        first = tuple(int(i) for i in lobes_here[:cut])
        second = tuple(int(i) for i in lobes_here[cut:])
        in_first = np.isin(self.point_lobe[subset], first)
        if in_first.all() or not in_first.any():
            return None
        return (subset[in_first], first), (subset[~in_first], second)

    def _split_by_axis(self, subset, d):
        pts = self.points[subset]
        q = pts - pts.mean(axis=0)
        q -= np.outer(q @ d, d)
        cov = q.T @ q
        _, vecs = np.linalg.eigh(cov)
        proj = q @ vecs[:, -1]
        k = round(self.rng.uniform(0.3, 0.7) * len(subset))
        k = min(max(k, 1), len(subset) - 1)
        order = np.argpartition(proj, k)
        lobe = (int(self.point_lobe[subset[0]]),)
        return (subset[order[:k]], lobe), (subset[order[k:]], lobe)

    def _placed_curves(self, specs: list[_ChildSpec]) -> list[np.ndarray]:
        """Curves that stay in their lobes and under the skin: the drawn one if it does, else
        one that turns sooner towards its target, else a straighter one (kept in any case;
        the pruning pass removes it if it still strays)."""
        curves: list[np.ndarray | None] = [None] * len(specs)
        if not specs:
            return []
        starts = np.array([sp.start for sp in specs])
        t0s = np.array([sp.t0 for sp in specs])
        targets = np.array([sp.target for sp in specs])
        terminal = np.array([sp.terminal for sp in specs])
        todo = np.arange(len(specs))
        tries = ((0.0, 1.0), (0.5, 0.3), (0.9, 0.0), (1.0, 0.0))
        for attempt, (turn, bend) in enumerate(tries):
            if len(todo) == 0:
                break
            t0 = t0s[todo]
            if turn:
                t0 = _slerp_rows(t0, _unit(targets[todo] - starts[todo]), turn)
            drawn = self._curves(starts[todo], t0, targets[todo], terminal[todo], bend)
            ok = self._well_placed(
                drawn,
                [specs[k].allowed for k in todo],
                [specs[k].entry for k in todo],
                [specs[k].terminal for k in todo],
            )
            last = attempt == len(tries) - 1
            for k, nodes, good in zip(todo, drawn, ok, strict=True):
                if good or last:
                    curves[k] = nodes
            todo = todo[~ok]
        return curves  # type: ignore[return-value]

    def _well_placed(
        self,
        curves: list[np.ndarray],
        allowed: list[tuple[int, ...]],
        entry: list[bool],
        terminal: list[bool],
    ) -> np.ndarray:
        """For each curve, whether all its nodes (and the far end of its TDLU, for a terminal
        duct) are under the skin and in its lobes."""
        if not curves:
            return np.zeros(0, dtype=bool)
        nodes = np.concatenate(curves)
        sizes = np.array([len(c) for c in curves])
        owner = np.repeat(np.arange(len(curves)), sizes)
        br = self.breast
        bad = br.depth_below_skin_mm(nodes) < br.skin_mm + 0.5
        bad |= self._outside_lobes(nodes, owner, allowed, entry)
        verdict = np.bincount(owner, weights=bad, minlength=len(curves)) == 0
        # A terminal duct's TDLU (at most 2 mm long) must lie in its own lobes, outside the
        # core, and under the skin: check its middle and its far end.
        ends = [
            k for k, (c, t) in enumerate(zip(curves, terminal, strict=True)) if t and len(c) > 1
        ]
        if ends:
            last = np.array([curves[k][-1] for k in ends])
            axis = _unit(last - np.array([curves[k][-2] for k in ends]))
            probes = np.concatenate(
                [last + 0.5 * TDLU_LENGTH_MM[1] * axis, last + TDLU_LENGTH_MM[1] * axis]
            )
            radial, _ = br.axis_distance_mm(probes)
            table = np.zeros((len(ends), self.layout.n_lobes), dtype=bool)
            for m, k in enumerate(ends):
                table[m, list(allowed[k])] = True
            labels = self.layout.label(probes, br).reshape(2, -1)
            rows = np.arange(len(ends))
            member = table[rows, labels[0]] & table[rows, labels[1]]
            core = (radial < CORE_RADIUS_MM).reshape(2, -1).any(axis=0)
            skin = (br.depth_below_skin_mm(probes) < br.skin_mm + 0.5).reshape(2, -1).any(axis=0)
            verdict[ends] &= member & ~core & ~skin
        return verdict

    def _outside_lobes(
        self,
        nodes: np.ndarray,
        owner: np.ndarray,
        allowed: list[tuple[int, ...]],
        entry: list[bool],
    ) -> np.ndarray:
        """Nodes outside their branch's lobes. ``owner`` gives each node's branch (nodes of a
        branch are contiguous and in order), ``allowed`` each branch's lobes and ``entry``
        whether it is a branch that runs into them.

        Exempt: the central core (within ``CORE_RADIUS_MM`` of the nipple axis), where every
        wedge is thin, and, up to ``ENTRY_RADIUS_MM`` from the axis, the part of an entry
        branch (a lobe's main duct, or a child of the main duct) that has not yet entered its
        lobes: it runs from the core into its wedge, and from where it enters, it and its
        subtree stay in it. Beyond ``ENTRY_RADIUS_MM`` every duct is in its own lobes."""
        br = self.breast
        radial, _ = br.axis_distance_mm(nodes)
        outer = radial >= CORE_RADIUS_MM
        member = np.zeros((len(allowed), self.layout.n_lobes), dtype=bool)
        for k, lobes in enumerate(allowed):
            member[k, list(lobes)] = True
        inside = member[owner, self.layout.label(nodes, br)]
        hits = np.cumsum(inside & outer)
        first = np.searchsorted(owner, np.arange(len(allowed)))
        before = np.concatenate([[0], hits])[first][owner]
        entered = (hits - before > 0) | ~np.asarray(entry, dtype=bool)[owner]
        return (entered | (radial >= ENTRY_RADIUS_MM)) & ~inside & outer

    def _curves(
        self,
        starts: np.ndarray,
        t0: np.ndarray,
        targets: np.ndarray,
        terminal: np.ndarray,
        bend: float,
    ) -> list[np.ndarray]:
        """One cubic Bézier curve per row: from ``starts`` along ``t0``, bending towards
        ``targets`` with a random sideways bend, cut into nodes <= ``step_mm`` apart."""
        rng = self.rng
        k = len(starts)
        to_target = targets - starts
        dist = np.linalg.norm(to_target, axis=1)
        u = np.where(dist[:, None] > 1e-9, to_target / np.maximum(dist, 1e-12)[:, None], t0)
        frac = np.where(terminal, rng.uniform(0.75, 1.0, k), rng.uniform(0.35, 0.6, k))
        length = np.maximum(frac * dist, 0.8)
        end_dir = _slerp_rows(t0, u, 0.7)
        end = starts + length[:, None] * end_dir
        side = rng.normal(size=(k, 3))
        side -= np.einsum("ij,ij->i", side, end_dir)[:, None] * end_dir
        side = _unit(side) * (rng.uniform(0.0, 0.15, k) * length * bend)[:, None]
        n = np.maximum(2, np.ceil(length / self.step_mm).astype(np.int64))
        owner = np.repeat(np.arange(k), n)
        t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 1) / n[owner]
        t = t[:, None]
        w = 1.0 - t
        p1 = starts + t0 * (length / 3)[:, None]
        p2 = end - end_dir * (length / 3)[:, None] + side
        nodes = (
            w**3 * starts[owner]
            + 3 * w**2 * t * p1[owner]
            + 3 * w * t**2 * p2[owner]
            + t**3 * end[owner]
        )
        return np.split(nodes, np.cumsum(n)[:-1])

    # ------------------------------------------------------------------ pruning
    def prune(self, branch: int) -> None:
        """Remove a branch and its subtree (never the main duct)."""
        if branch <= 0:
            return
        stack = [branch]
        while stack:
            b = stack.pop()
            self.branches[b].alive = False
            stack.extend(self.branches[b].children)

    def squeeze(self, raw: RawTree, nodes: set[int]) -> bool:
        """Narrow the duct by 20 % at ``nodes`` of the assembled tree ``raw`` and beside them,
        as ducts pressed together are, down to half their calibre. At a branch point the
        parent's end and every child's first node narrow together, so Murray's law still
        holds there. Returns whether anything could still be narrowed."""
        done = False
        for n in nodes:
            for k in (n - 1, n, n + 1):
                if not 0 < k < len(raw.parent):
                    continue
                if raw.chain_end[k] or raw.index_in_branch[k] == 0:
                    junction = k if raw.chain_end[k] else int(raw.parent[k])
                    members = [junction, *np.flatnonzero(raw.parent == junction).tolist()]
                else:
                    members = [k]
                slots = [(int(raw.branch_of_node[m]), int(raw.index_in_branch[m])) for m in members]
                if all(self._squeezable(b, i) for b, i in slots):
                    for b, i in slots:
                        self._profile(b)[i] *= SQUEEZE
                    done = True
        return done

    def _profile(self, b: int) -> np.ndarray:
        branch = self.branches[b]
        if branch.profile is None:
            branch.profile = np.ones(len(branch.nodes))
        return branch.profile

    def _squeezable(self, b: int, i: int) -> bool:
        base = self.base_profile[0][i] if b == 0 else 1.0
        return self._profile(b)[i] * SQUEEZE >= 0.5 * base

    # ------------------------------------------------------------------ assembly
    def assemble(self) -> RawTree:
        """Arrays of the living tree, with radii (Murray), generations and TDLUs."""
        br = self.branches
        alive = [b for b in range(len(br)) if br[b].alive]
        kids = {b: [c for c in br[b].children if br[c].alive] for b in alive}
        # Merge chains: a branch left with one child continues into it.
        chains: dict[int, list[int]] = {}
        merged: set[int] = set()
        for b in alive:  # parents come before children in ``alive``
            if b in merged:
                continue
            chain = [b]
            while len(kids[chain[-1]]) == 1:
                chain.append(kids[chain[-1]][0])
                merged.add(chain[-1])
            chains[b] = chain
        heads = list(chains)
        head_children = {h: kids[chains[h][-1]] for h in heads}
        head_parent = {c: h for h in heads for c in head_children[h]}
        # Points drained (flow) from the terminal branches up.
        flow: dict[int, float] = {}
        for h in reversed(heads):
            ch = head_children[h]
            last = br[chains[h][-1]]
            flow[h] = float(sum(flow[c] for c in ch)) if ch else float(max(last.points, 1))
        r_start: dict[int, float] = {}
        r_end: dict[int, float] = {}
        generation: dict[int, int] = {}
        for h in heads:
            if h == 0:
                r_start[h] = self.draws.main_radius_mm
                generation[h] = 1
            else:
                p = head_parent[h]
                r_start[h] = r_end[p] * (flow[h] / flow[p]) ** (1.0 / 3.0)
                generation[h] = generation[p] + 1
            r_end[h] = r_start[h] * max(1.0 - sum(br[b].taper for b in chains[h]), 0.5)
            if h == 0 and len(chains[0]) == 1:
                # The main duct's calibre follows its profile (nipple, ampulla) to its end;
                # a squeeze there is applied to the children's first nodes too (squeeze()).
                r_end[h] *= float(self.base_profile[0][-1])

        # Node arrays, all heads at once: each head's chain of branches, in head order.
        blocks = [br[b].nodes for h in heads for b in chains[h]]
        block_owner = [b for h in heads for b in chains[h]]
        block_sizes = np.array([len(x) for x in blocks])
        head_sizes = np.array([sum(len(br[b].nodes) for b in chains[h]) for h in heads])
        positions_a = np.concatenate(blocks)
        n = len(positions_a)
        head_index = {h: k for k, h in enumerate(heads)}
        first = np.concatenate([[0], np.cumsum(head_sizes)[:-1]])
        last = first + head_sizes - 1
        head_of = np.repeat(np.arange(len(heads)), head_sizes)
        parent_a = np.arange(-1, n - 1, dtype=np.int64)
        for k, h in enumerate(heads):
            if h != 0:
                parent_a[first[k]] = last[head_index[head_parent[h]]]
        steps = np.zeros(n)
        steps[1:] = np.linalg.norm(positions_a[1:] - positions_a[parent_a[1:]], axis=1)
        cs = np.cumsum(steps)
        span = np.maximum(cs[last] - cs[first], 1e-9)
        frac = (cs - cs[first][head_of]) / span[head_of]
        # The first node after a branch point has the child's Murray radius; it tapers from
        # there to the branch's end.
        rs = np.array([r_start[h] for h in heads])
        re = np.array([r_end[h] for h in heads])
        radii_a = rs[head_of] + (re - rs)[head_of] * frac
        profile = np.concatenate(
            [
                br[b].profile if br[b].profile is not None else np.ones(len(br[b].nodes))
                for b in block_owner
            ]
        )
        radii_a *= profile
        if len(chains[0]) == 1:  # the main duct: main radius x profile, taper-free
            radii_a[: head_sizes[0]] = r_start[0] * profile[: head_sizes[0]]
        chain_end = np.zeros(n, dtype=bool)
        chain_end[last] = True
        lobe_of_block = np.array(
            [br[b].allowed[0] if len(br[b].allowed) == 1 else -1 for b in block_owner]
        )
        gen_of_head = np.array([generation[h] for h in heads])
        flow_of_head = np.array([flow[h] for h in heads])
        terminal = np.array([not head_children[h] for h in heads])
        tdlu_node_a = last[terminal].astype(np.int64)
        axis = _unit(positions_a[tdlu_node_a] - positions_a[parent_a[tdlu_node_a]])
        semi = np.stack(
            [
                0.5 * self.tdlu_rng.uniform(*TDLU_LENGTH_MM, len(tdlu_node_a)),
                0.5 * self.tdlu_rng.uniform(*TDLU_WIDTH_MM, len(tdlu_node_a)),
            ],
            axis=1,
        ).reshape(-1, 2)
        return RawTree(
            positions_mm=positions_a,
            radii_mm=radii_a,
            parent=parent_a,
            generation=gen_of_head[head_of],
            lobe=np.repeat(lobe_of_block, block_sizes),
            branch_of_node=np.repeat(np.array(block_owner), block_sizes),
            index_in_branch=np.arange(n)
            - np.repeat(np.cumsum(block_sizes) - block_sizes, block_sizes),
            chain_end=chain_end,
            flow_of_node=flow_of_head[head_of],
            tdlu_node=tdlu_node_a,
            tdlu_centre_mm=positions_a[tdlu_node_a] + axis * semi[:, :1],
            tdlu_axis=axis,
            tdlu_semi_axes_mm=semi,
            n_pruned=sum(not b.alive for b in br),
        )

    def misplaced_branches(self, raw: RawTree) -> set[int]:
        """Growth branches (not the main duct) with a node within the skin or outside their
        lobes (see :meth:`_outside_lobes` for the exemptions)."""
        live = [b for b in range(1, len(self.branches)) if self.branches[b].alive]
        if not live:
            return set()
        ends = [not any(self.branches[c].alive for c in self.branches[b].children) for b in live]
        ok = self._well_placed(
            [self.branches[b].nodes for b in live],
            [self.branches[b].allowed for b in live],
            [self.branches[b].entry for b in live],
            ends,
        )
        return {b for b, good in zip(live, ok, strict=True) if not good}


def tree_capsules(raw: RawTree) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Segments (child node index, start, end, capsule radius) and TDLU capsules of a tree.

    TDLUs are appended as capsules running from the terminal node along their axis; their
    "child node" is the terminal node.
    """
    child = np.arange(1, len(raw.parent))
    starts = raw.positions_mm[raw.parent[1:]]
    ends = raw.positions_mm[1:]
    radii = np.maximum(raw.radii_mm[raw.parent[1:]], raw.radii_mm[1:])
    t_start = raw.positions_mm[raw.tdlu_node]
    t_end = t_start + 2.0 * raw.tdlu_axis * (
        raw.tdlu_semi_axes_mm[:, :1] - raw.tdlu_semi_axes_mm[:, 1:]
    )
    return (
        np.concatenate([child, raw.tdlu_node]),
        np.vstack([starts, t_start]),
        np.vstack([ends, t_end]),
        np.concatenate([radii, raw.tdlu_semi_axes_mm[:, 1]]),
    )


def _depth_and_path(parent: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node depth (segments from the orifice) and path length (mm); ``parent[i] < i``."""
    n = len(parent)
    seg = np.zeros(n)
    seg[1:] = np.linalg.norm(positions[1:] - positions[parent[1:]], axis=1)
    depth = np.zeros(n, dtype=np.int64)
    path = seg.copy()
    par = parent.tolist()
    dl = depth.tolist()
    pl = path.tolist()
    for i in range(1, n):
        p = par[i]
        dl[i] = dl[p] + 1
        pl[i] += pl[p]
    return np.asarray(dl, dtype=np.int64), np.asarray(pl)


def path_gaps_mm(
    parent: np.ndarray, positions: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Distance along the ducts between node pairs (a[k], b[k]), through their lowest
    common ancestor, found for all pairs at once by binary lifting."""
    a0 = np.asarray(a, dtype=np.int64)
    b0 = np.asarray(b, dtype=np.int64)
    depth, path = _depth_and_path(parent, positions)
    up = [np.where(parent < 0, 0, parent)]
    while (1 << len(up)) <= max(int(depth.max()), 1):
        up.append(up[-1][up[-1]])
    deep = np.where(depth[a0] >= depth[b0], a0, b0)
    shallow = np.where(depth[a0] >= depth[b0], b0, a0)
    diff = depth[deep] - depth[shallow]
    for k, table in enumerate(up):
        move = ((diff >> k) & 1) == 1
        deep = np.where(move, table[deep], deep)
    for table in reversed(up):
        move = table[deep] != table[shallow]
        deep = np.where(move, table[deep], deep)
        shallow = np.where(move, table[shallow], shallow)
    lca = np.where(deep == shallow, deep, up[0][deep])
    return path[a0] + path[b0] - 2.0 * path[lca]


def contacts(raws: list[RawTree], only: set[int] | None = None) -> list[tuple[int, int, int, int]]:
    """Touching segments or TDLUs, within and between systems, as
    (system a, node a, system b, node b); with ``only``, just the contacts that involve one
    of those systems.

    Within a system, two capsules on either side of one branch point touch by construction;
    such neighbours (closer along the ducts than their lengths plus 2.5 times their radii)
    are not contacts.
    """
    caps = [tree_capsules(r) for r in raws]
    owner = np.concatenate([np.full(len(c[0]), s) for s, c in enumerate(caps)])
    node = np.concatenate([c[0] for c in caps])
    starts = np.vstack([c[1] for c in caps])
    ends = np.vstack([c[2] for c in caps])
    radii = np.concatenate([c[3] for c in caps])
    if only is None:
        i, j, _ = capsule_contacts(starts, ends, radii)
    else:
        probe = np.flatnonzero(np.isin(owner, list(only)))
        a, b = capsule_contacts_between(
            (starts[probe], ends[probe], radii[probe]), (starts, ends, radii)
        )
        i, j = probe[a], b
        # Each pair once: i < j, or the partner is outside the probed systems.
        keep = (i < j) | ~np.isin(owner[j], list(only))
        i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    keep = owner[i] != owner[j]
    for s, raw in enumerate(raws):
        same = (owner[i] == s) & (owner[j] == s)
        if not same.any():
            continue
        ii, jj = i[same], j[same]
        lengths = np.linalg.norm(ends[ii] - starts[ii], axis=1) + np.linalg.norm(
            ends[jj] - starts[jj], axis=1
        )
        gap = path_gaps_mm(raw.parent, raw.positions_mm, node[ii], node[jj])
        keep[np.flatnonzero(same)[gap > lengths + 2.5 * (radii[ii] + radii[jj])]] = True
    i, j = i[keep], j[keep]
    return list(
        zip(owner[i].tolist(), node[i].tolist(), owner[j].tolist(), node[j].tolist(), strict=True)
    )


def grow_all(growers: list[SystemGrower], *, max_rounds: int = 20) -> list[RawTree]:
    """Grow every system, then prune until no duct leaves its lobe or touches another.

    Each round prunes, for every contact, the branch that drains less (never a main duct),
    and every branch that left its territory; radii are then recomputed (Murray), which can
    thicken ducts a little, hence the rounds. Where two major ducts touch (main ducts, or
    branches draining at least 15 % of their system, mostly beneath the nipple where the
    systems converge), both are narrowed there by 20 % a round instead, as ducts pressed
    together are.

    Raises
    ------
    RuntimeError
        If contacts remain after ``max_rounds`` rounds.
    """
    for g in growers:
        g.grow()
    raws = [g.assemble() for g in growers]
    changed: set[int] | None = None  # first round: every system
    for _ in range(max_rounds):
        doomed = [
            g.misplaced_branches(r) if changed is None or s in changed else set()
            for s, (g, r) in enumerate(zip(growers, raws, strict=True))
        ]
        squeezed: set[int] = set()
        for sa, na, sb, nb in contacts(raws, changed):
            ra, rb = raws[sa], raws[sb]
            ba, bb = int(ra.branch_of_node[na]), int(rb.branch_of_node[nb])
            major_a = ba == 0 or ra.flow_of_node[na] >= MAJOR_FLOW * ra.flow_of_node[0]
            major_b = bb == 0 or rb.flow_of_node[nb] >= MAJOR_FLOW * rb.flow_of_node[0]
            if major_a and major_b:
                # Two large ducts: press them together (narrow both), prune neither.
                done_a = growers[sa].squeeze(ra, {na})
                done_b = growers[sb].squeeze(rb, {nb})
                if done_a or done_b:
                    squeezed.update(s for s, done in ((sa, done_a), (sb, done_b)) if done)
                    continue
            if (ra.flow_of_node[na] <= rb.flow_of_node[nb] and ba != 0) or bb == 0:
                doomed[sa].add(ba)  # prune the one that drains less
            else:
                doomed[sb].add(bb)
        doomed = [{b for b in d if b != 0} for d in doomed]
        if not any(doomed) and not squeezed:
            return raws
        changed = set()
        for s, d in enumerate(doomed):
            for b in d:
                growers[s].prune(b)
            if d or s in squeezed:
                raws[s] = growers[s].assemble()
                changed.add(s)
    raise RuntimeError(f"ducts still touch after {max_rounds} pruning rounds")
