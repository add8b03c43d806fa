"""Intraductal lesions and what they do to the lumen.

:class:`Lesion` and :class:`Ellipsoid` are the records every later layer reads;
:func:`place_lesion` attaches a lesion to a duct system and changes the lumen as the lesion
does in life:

- solitary papilloma: an ellipsoidal mass in a central duct, the duct widened around it;
  a filling defect with a rim of contrast, or, when it obstructs, a cut-off at its surface;
- multiple peripheral papillomas: several small masses in one peripheral segment;
- carcinoma/DCIS: a duct held open over 1-3 cm with its calibre irregular, saccules
  alternating with narrowings, and a rough wall, often ending abruptly;
- duct ectasia: segmental or diffuse widening beyond 2 mm (3 mm at the ampulla);
- cyst: a cavity filled through a terminal duct;
- stricture: a short smooth narrowing, which may close the lumen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..core import ParameterError
from ..core.seeding import RNGLike, as_generator


class LesionKind(StrEnum):
    """Kinds of ductal lesion (../shared/reference/clinical.md §2)."""

    PAPILLOMA = "papilloma"
    MULTIPLE_PAPILLOMAS = "multiple_papillomas"
    CARCINOMA = "carcinoma"
    ECTASIA = "ectasia"
    CYST = "cyst"
    STRICTURE = "stricture"


@dataclass(frozen=True, eq=False)
class Ellipsoid:
    """A solid body in the breast frame (mm).

    ``rotation`` (3, 3) has the ellipsoid's axes as columns; ``semi_axes_mm`` (3,) their
    half-lengths. A point p is inside when ``|R^T (p - c) / a| <= 1``.
    """

    centre_mm: np.ndarray
    semi_axes_mm: np.ndarray
    rotation: np.ndarray

    def __post_init__(self) -> None:
        for name, shape in (("centre_mm", (3,)), ("semi_axes_mm", (3,)), ("rotation", (3, 3))):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}: expected {shape}")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def contains(self, points_mm: np.ndarray) -> np.ndarray:
        """True for points (…, 3) inside the ellipsoid."""
        local = (np.asarray(points_mm, dtype=float) - self.centre_mm) @ self.rotation
        return np.sum((local / self.semi_axes_mm) ** 2, axis=-1) <= 1.0

    @property
    def volume_ml(self) -> float:
        return float(4.0 / 3.0 * np.pi * np.prod(self.semi_axes_mm) / 1000.0)


@dataclass(frozen=True, eq=False)
class Lesion:
    """A lesion attached to the ducts of one system.

    Parameters
    ----------
    kind : LesionKind
    system : int
        Duct system (orifice index) the lesion sits in.
    segment : int
        Node index of the segment the lesion is attached to (its centre, or the start of
        its extent for a lesion that runs along the duct).
    centre_mm : (3,) array
        Representative position (breast frame).
    size_mm : float
        Largest dimension (mass diameter, or extent along the duct).
    obstructs : bool
        Whether the lesion blocks the flow of contrast beyond it.
    stop_node : int or None
        For an obstructing lesion, the node where the lumen closes: everything from this
        node downstream is beyond the obstruction.
    affected_nodes : (M,) int array
        Nodes whose lumen radius the lesion changed.
    radius_before_mm : (M,) float array
        Their radii before the change (the tree holds the radii after).
    masses : tuple of Ellipsoid
        Solid masses inside the lumen (papillomas, a carcinoma's intraluminal part): they
        displace contrast.
    cavities : tuple of Ellipsoid
        Spaces that fill with contrast through the duct (a cyst).
    description : str
        One line on what the lesion does to the lumen.
    """

    kind: LesionKind
    system: int
    segment: int
    centre_mm: np.ndarray
    size_mm: float
    obstructs: bool
    stop_node: int | None = None
    affected_nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    radius_before_mm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    masses: tuple[Ellipsoid, ...] = ()
    cavities: tuple[Ellipsoid, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LesionKind(self.kind))
        object.__setattr__(self, "centre_mm", np.asarray(self.centre_mm, dtype=float))
        object.__setattr__(
            self, "affected_nodes", np.asarray(self.affected_nodes, dtype=np.int64).reshape(-1)
        )
        object.__setattr__(
            self, "radius_before_mm", np.asarray(self.radius_before_mm, dtype=float).reshape(-1)
        )
        if len(self.affected_nodes) != len(self.radius_before_mm):
            raise ValueError(
                f"affected_nodes ({len(self.affected_nodes)}) and radius_before_mm "
                f"({len(self.radius_before_mm)}) must have the same length"
            )


# ---------------------------------------------------------------------------- placement
# Sizes and sites (../shared/reference/clinical.md §3, "Intraductal papilloma: size and
# location", and §2): solitary papillomas are central/subareolar, 2-10 mm (median about
# 5-6 mm), mostly within about 3 cm of the nipple; peripheral papillomas are often multiple;
# ectasia is a duct wider than 2 mm, or 3 mm at the ampulla (Radiopaedia).
PAPILLOMA_SIZE_MM = (2.0, 10.0)
PAPILLOMA_MEDIAN_MM = 5.0
PAPILLOMA_MAX_DISTANCE_MM = 30.0
PERIPHERAL_PAPILLOMA_SIZE_MM = (1.5, 4.0)
ECTASIA_DIAMETER_MM = 2.0
ECTASIA_AMPULLA_DIAMETER_MM = 3.0
# Carcinoma/DCIS: sacculation alternating with narrowing (clinical.md §2.1) [estimate]
CARCINOMA_PERIOD_MM = (3.0, 6.0)  # one saccule and one narrowing
CARCINOMA_SWING = (0.4, 0.6)  # saccules 1.4-1.6 times the held calibre, narrowings 0.4-0.6
CARCINOMA_ROUGHNESS = 0.1  # node-to-node scatter of the wall
CARCINOMA_RAMP_MM = 1.0  # the swing fades in and out over this at the extent's ends


@dataclass(frozen=True)
class LesionRequest:
    """What the caller asks for; None means "draw it" (see :func:`place_lesion`)."""

    kind: LesionKind
    segment: int | None = None
    size_mm: float | None = None
    count: int | None = None
    obstructs: bool | None = None
    extent: str | None = None  # ectasia: "segmental" or "diffuse"
    field: str = "lesion"  # name used in error messages (e.g. "lesions.0")


def _children_lists(tree) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in range(tree.n_nodes)]
    for i, p in enumerate(tree.parent[1:].tolist(), start=1):
        kids[p].append(i)
    return kids


def _duct_run(tree, kids, node: int, back_mm: float, ahead_mm: float):
    """Nodes along one duct around ``node``: up through the parents for ``back_mm`` and down
    the widest child for ``ahead_mm``. Returns (nodes proximal→distal, signed path offsets
    from ``node`` in mm)."""
    pos, par, rad = tree.positions_mm, tree.parent, tree.radii_mm
    up, s_up = [], []
    s, i = 0.0, node
    while par[i] >= 0 and s < back_mm:
        s += float(np.linalg.norm(pos[i] - pos[par[i]]))
        i = int(par[i])
        up.append(i)
        s_up.append(-s)
    down, s_down = [], []
    s, i = 0.0, node
    while kids[i] and s < ahead_mm:
        j = max(kids[i], key=lambda k: rad[k])
        s += float(np.linalg.norm(pos[j] - pos[i]))
        down.append(j)
        s_down.append(s)
        i = j
    nodes = np.array([*up[::-1], node, *down], dtype=np.int64)
    offsets = np.array([*s_up[::-1], 0.0, *s_down])
    return nodes, offsets


def _frame(axis: np.ndarray) -> np.ndarray:
    """Rotation whose first column is ``axis``."""
    a = axis / np.linalg.norm(axis)
    helper = np.array([0.0, 0.0, 1.0]) if abs(a[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    b = np.cross(a, helper)
    b /= np.linalg.norm(b)
    return np.stack([a, b, np.cross(a, b)], axis=1)


def _raised(offsets: np.ndarray, flat_mm: float, ramp_mm: float) -> np.ndarray:
    """1 within ``flat_mm`` of 0, a raised-cosine ramp to 0 over the next ``ramp_mm``."""
    d = np.abs(offsets) - flat_mm
    w = 0.5 * (1.0 + np.cos(np.pi * np.clip(d / ramp_mm, 0.0, 1.0)))
    return np.where(d <= 0, 1.0, w)


def _with_radii(tree, nodes: np.ndarray, new_radii: np.ndarray):
    radii = tree.radii_mm.copy()
    before = radii[nodes].copy()
    radii[nodes] = new_radii
    return radii, before


def _mass_in_duct(tree, kids, node, size_mm, obstructs, rng, *, squeeze=(0.6, 0.85)):
    """An ellipsoidal mass centred on ``node``, along the duct, and the lumen dilated around
    it: to the mass's width when it obstructs (no contrast passes), else with a rim of
    lumen around it (a filling defect in the contrast column)."""
    pos = tree.positions_mm
    axis = pos[node] - pos[tree.parent[node]]
    rotation = _frame(axis)
    a = 0.5 * size_mm
    b, c = a * rng.uniform(*squeeze, size=2)
    mass = Ellipsoid(pos[node], np.array([a, b, c]), rotation)
    across = max(b, c)
    rim = 0.0 if obstructs else max(0.3, 0.25 * across)
    lumen = across + rim
    ramp = 1.5
    nodes, offsets = _duct_run(tree, kids, node, a + ramp + 1.0, a + ramp + 1.0)
    weight = _raised(offsets, a + 0.5, ramp)
    old = tree.radii_mm[nodes]
    new = np.maximum(old, old + (lumen - old) * weight)
    changed = new > old
    stop = None
    if obstructs:
        inside = np.flatnonzero(offsets >= -a)
        stop = int(nodes[inside[0]])
    return mass, nodes[changed], new[changed], stop


def _candidates(tree, rng, mask: np.ndarray, segment: int | None, field: str) -> np.ndarray:
    if segment is not None:
        if not 1 <= segment < tree.n_nodes:
            raise ParameterError(
                f"{field}.segment",
                segment,
                f"a node index in [1, {tree.n_nodes - 1}] of duct system {tree.system}",
            )
        return np.array([segment])
    nodes = np.flatnonzero(mask)
    if len(nodes) == 0:
        nodes = np.arange(1, tree.n_nodes)
    return rng.permutation(nodes)


def place_lesion(tree, request: LesionRequest, rng: RNGLike, *, neighbourhood=None):
    """Attach a lesion to a duct system and change its lumen as the lesion does.

    Sites are chosen where the lesion fits: a mass or a widened duct must not press into a
    duct it is not next to (another system's, or a distant one of its own). Sizes are
    reduced (by 15 % a step) only when no site has room.

    Parameters
    ----------
    tree : DuctTree
        The duct system (its ``system`` index is recorded in the lesion).
    request : LesionRequest
        Kind, and optionally the segment (node index), size, count, obstruction and extent.
    rng : numpy.random.Generator or int
    neighbourhood : DuctNeighbourhood, optional
        The breast's other duct systems (default: none).

    Returns
    -------
    DuctTree
        A new tree with the changed radii and the lesion appended to ``lesions``.

    Raises
    ------
    ParameterError
        If ``request.segment`` is not a node of the tree or a size is out of range.
    """
    from ._neighbourhood import DuctNeighbourhood

    rng = as_generator(rng)
    hood = neighbourhood if neighbourhood is not None else DuctNeighbourhood([])
    kind = LesionKind(request.kind)
    place = {
        LesionKind.PAPILLOMA: _papilloma,
        LesionKind.MULTIPLE_PAPILLOMAS: _multiple_papillomas,
        LesionKind.CARCINOMA: _carcinoma,
        LesionKind.ECTASIA: _ectasia,
        LesionKind.CYST: _cyst,
        LesionKind.STRICTURE: _stricture,
    }[kind]
    first = None
    # Ectasia widens ducts only as far as their neighbours leave room (but always past the
    # ectasia threshold): one placement. Other lesions look for a site with room.
    for attempt in range(1 if kind == LesionKind.ECTASIA else 12):
        shrink = 0.85 ** (attempt // 3)
        new_tree, nodes = place(tree, request, rng, hood=hood, shrink=shrink)
        if first is None:
            first = new_tree
        if not hood.touches(new_tree, nodes):
            return new_tree
    return first


def _roomy(tree, hood, nodes: np.ndarray, radius_mm: float, path_mm: float) -> np.ndarray:
    """The nodes with at least ``radius_mm`` of free room around them."""
    if len(nodes) == 0:
        return nodes
    room = hood.clearance(tree, nodes, path_mm)
    return nodes[room >= radius_mm]


def _append(tree, lesion: Lesion, radii: np.ndarray | None = None):
    changes = {"lesions": (*tree.lesions, lesion)}
    if radii is not None:
        changes["radii_mm"] = radii
    return tree.with_changes(**changes)


def _draw_size(request, rng, low_high, median, field, shrink):
    if request.size_mm is not None:
        low, high = 0.5, 60.0
        if not low <= request.size_mm <= high:
            raise ParameterError(
                f"{field}.size_mm", request.size_mm, f"a size in [{low}, {high}] mm"
            )
        return float(request.size_mm) * shrink
    size = float(np.clip(median * np.exp(rng.normal(0.0, 0.4)), *low_high))
    return max(low_high[0], size * shrink)


def _papilloma(tree, request, rng, *, hood, shrink=1.0):
    field = request.field
    size = _draw_size(request, rng, PAPILLOMA_SIZE_MM, PAPILLOMA_MEDIAN_MM, field, shrink)
    kids = _children_lists(tree)
    dist = tree.distance_from_nipple_mm
    central = (
        (dist >= 3.0)
        & (dist <= PAPILLOMA_MAX_DISTANCE_MM)
        & (tree.generation <= 3)
        & (tree.n_children == 1)
        & (tree.radii_mm >= 0.25)
    )
    sites = _candidates(tree, rng, central, request.segment, field)
    obstructs = bool(rng.random() < 0.3) if request.obstructs is None else request.obstructs
    roomy = _roomy(tree, hood, sites, 0.5 * size * 0.85 + 0.4, size + 3.0)
    node = int(roomy[0] if len(roomy) else sites[0])
    mass, nodes, new, stop = _mass_in_duct(tree, kids, node, size, obstructs, rng)
    radii, before = _with_radii(tree, nodes, new)
    lesion = Lesion(
        kind=LesionKind.PAPILLOMA,
        system=tree.system,
        segment=node,
        centre_mm=mass.centre_mm,
        size_mm=size,
        obstructs=obstructs,
        stop_node=stop,
        affected_nodes=nodes,
        radius_before_mm=before,
        masses=(mass,),
        description=(
            f"solitary intraductal papilloma, {size:.1f} mm, {dist[node]:.0f} mm from the "
            "nipple: "
            + (
                "fills the lumen and stops the contrast"
                if obstructs
                else "a filling defect with contrast around it"
            )
        ),
    )
    return _append(tree, lesion, radii), nodes


def _multiple_papillomas(tree, request, rng, *, hood, shrink=1.0):
    field = request.field
    count = request.count if request.count is not None else int(rng.integers(3, 6))
    if not 2 <= count <= 10:
        raise ParameterError(f"{field}.count", count, "an integer in [2, 10]")
    kids = _children_lists(tree)
    dist = tree.distance_from_nipple_mm
    # A peripheral segment: the subtree of a branch of generation 3-6 beyond 15 mm.
    starts = np.flatnonzero(
        (tree.generation >= 3)
        & (tree.generation <= 6)
        & (dist >= 15.0)
        & (tree.n_children[tree.parent] >= 2)
    )
    if request.segment is not None:
        root = int(_candidates(tree, rng, np.zeros(tree.n_nodes, bool), request.segment, field)[0])
    else:
        big = [s for s in rng.permutation(starts) if len(tree.subtree(int(s))) >= 8 * count]
        root = int(big[0]) if big else int(rng.choice(starts)) if len(starts) else 1
    sub = tree.subtree(root)
    ok = sub[(tree.n_children[sub] == 1) & (tree.radii_mm[sub] >= 0.1)]
    top = PERIPHERAL_PAPILLOMA_SIZE_MM[1] * shrink if request.size_mm is None else request.size_mm
    roomy = _roomy(tree, hood, ok, 0.5 * top * 0.85 + 0.3, top + 3.0)
    ok = roomy if len(roomy) >= count else ok if len(ok) else sub
    chosen: list[int] = []
    for node in rng.permutation(ok):
        far = all(
            abs(dist[node] - dist[c]) >= 3.0 or not _same_path(tree, int(node), c) for c in chosen
        )
        if far and all(
            np.linalg.norm(tree.positions_mm[node] - tree.positions_mm[c]) >= 3.0 for c in chosen
        ):
            chosen.append(int(node))
        if len(chosen) == count:
            break
    obstructs = False if request.obstructs is None else request.obstructs
    radii = tree.radii_mm.copy()
    masses, all_nodes, before = [], [], []
    changed_tree = tree
    proximal = min(chosen, key=lambda n: dist[n])
    stop = None
    for node in chosen:
        if request.size_mm is not None:
            size = float(request.size_mm) * shrink
        else:
            size = float(rng.uniform(*PERIPHERAL_PAPILLOMA_SIZE_MM)) * shrink
        blocks = obstructs and node == proximal
        mass, nodes, new, node_stop = _mass_in_duct(changed_tree, kids, node, size, blocks, rng)
        if blocks:
            stop = node_stop
        fresh = [k for k in nodes.tolist() if k not in all_nodes]
        before.extend(tree.radii_mm[fresh].tolist())
        all_nodes.extend(fresh)
        radii[nodes] = np.maximum(radii[nodes], new)
        changed_tree = changed_tree.with_changes(radii_mm=radii)
        masses.append(mass)
    centre = np.mean([m.centre_mm for m in masses], axis=0)
    lesion = Lesion(
        kind=LesionKind.MULTIPLE_PAPILLOMAS,
        system=tree.system,
        segment=proximal,
        centre_mm=centre,
        size_mm=float(max(2 * m.semi_axes_mm[0] for m in masses)),
        obstructs=obstructs,
        stop_node=stop,
        affected_nodes=np.array(all_nodes, dtype=np.int64),
        radius_before_mm=np.array(before),
        masses=tuple(masses),
        description=f"{len(masses)} peripheral papillomas in one segment, filling defects",
    )
    return _append(tree, lesion, radii), np.array(all_nodes, dtype=np.int64)


def _same_path(tree, a: int, b: int) -> bool:
    return b in tree.path_to_root(a) or a in tree.path_to_root(b)


def _carcinoma(tree, request, rng, *, hood, shrink=1.0):
    field = request.field
    kids = _children_lists(tree)
    dist = tree.distance_from_nipple_mm
    mask = (
        (tree.generation >= 2)
        & (tree.generation <= 5)
        & (dist >= 10.0)
        & (dist <= 60.0)
        & (tree.radii_mm >= 0.2)
    )
    sites = _candidates(tree, rng, mask, request.segment, field)
    if request.size_mm is not None:
        _draw_size(request, rng, (5.0, 60.0), 20.0, field, 1.0)
        length = float(request.size_mm)
    else:
        length = float(rng.uniform(10.0, 30.0))
    # The first site (of up to 20) whose duct runs on for the whole extent, else the longest.
    best = None
    for node in sites[:20].tolist():
        nodes, offsets = _duct_run(tree, kids, node, 0.0, length)
        if best is None or offsets[-1] > best[2][-1]:
            best = (node, nodes, offsets)
        if offsets[-1] >= 0.9 * length:
            break
    node, nodes, offsets = best
    before = tree.radii_mm[nodes]
    # The tumour holds its duct open along the extent where a normal duct would thin out
    # into its terminal branches: the lumen keeps at least the entry calibre tapering to
    # 60 % at the end [estimate; clinical.md §2.1 lists duct expansion among the findings
    # without tying it to carcinoma]. A retry for room (``shrink``) holds it less.
    t = offsets / max(offsets[-1], 1e-9)
    held = before + shrink * np.maximum(before[0] * (1.0 - 0.4 * t) - before, 0.0)
    # Caliber irregularity, sacculation alternating with narrowing (clinical.md §2.1, Cho
    # 2005; basicmedicalkey Fig 7.3): the calibre swings about the held one with a period of
    # a few mm [estimate], saccules 1.4-1.6 times it (less on a retry for room) and
    # narrowings 0.4-0.6 times, and the wall is rough from node to node on top of that.
    period = rng.uniform(*CARCINOMA_PERIOD_MM)
    swing = rng.uniform(*CARCINOMA_SWING)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    wave = swing * np.cos(2.0 * np.pi * offsets / period + phase)
    wave = np.where(wave > 0, shrink * wave, wave)
    rough = rng.normal(0.0, CARCINOMA_ROUGHNESS, len(nodes))
    # The swing fades in over the first millimetre (the duct enters smoothly) and out over
    # the last (an obstructing tumour's stop is not lost in a saccule or a narrowing).
    entry = np.clip(offsets / CARCINOMA_RAMP_MM, 0.0, 1.0)
    ramp = entry * np.clip((offsets[-1] - offsets) / CARCINOMA_RAMP_MM, 0.0, 1.0)
    factor = np.clip(1.0 + ramp * wave + entry * rough, 0.3, 1.8)
    # Saccules stay under the ectasia limit (clinical.md §2.1: DCIS in non-dilated ducts).
    new = np.minimum(held * factor, np.maximum(before, 0.95 * 0.5 * ECTASIA_DIAMETER_MM))
    obstructs = bool(rng.random() < 0.7) if request.obstructs is None else request.obstructs
    radii, _ = _with_radii(tree, nodes, new)
    masses: tuple[Ellipsoid, ...] = ()
    stop = None
    if obstructs:
        # Abrupt termination: tumour fills the lumen at the end of the extent.
        stop = int(nodes[-1])
        end = tree.positions_mm[stop]
        axis = end - tree.positions_mm[tree.parent[stop]]
        r = float(radii[stop])
        masses = (Ellipsoid(end, np.array([min(1.5, 3 * r), r, r]), _frame(axis)),)
    lesion = Lesion(
        kind=LesionKind.CARCINOMA,
        system=tree.system,
        segment=node,
        centre_mm=tree.positions_mm[nodes[len(nodes) // 2]],
        size_mm=float(offsets[-1]),
        obstructs=obstructs,
        stop_node=stop,
        affected_nodes=nodes,
        radius_before_mm=before,
        masses=masses,
        description=(
            f"carcinoma/DCIS over {offsets[-1]:.0f} mm of duct: caliber irregularity "
            "(sacculation alternating with narrowing) and wall irregularity"
            f"{', abrupt termination' if obstructs else ''}"
        ),
    )
    return _append(tree, lesion, radii), nodes


def _ectasia(tree, request, rng, *, hood, shrink=1.0):
    field = request.field
    extent = request.extent or ("segmental" if rng.random() < 0.6 else "diffuse")
    if extent not in ("segmental", "diffuse"):
        raise ParameterError(f"{field}.extent", extent, "'segmental' or 'diffuse'")
    dist = tree.distance_from_nipple_mm
    if extent == "diffuse":
        region = np.flatnonzero((tree.generation <= 3) & (dist >= 0.0))
        node = int(region[0])
    else:
        starts = np.flatnonzero((tree.generation == 2) & (tree.n_children[tree.parent] >= 2))
        if request.segment is not None:
            node = int(
                _candidates(tree, rng, np.zeros(tree.n_nodes, bool), request.segment, field)[0]
            )
        else:
            node = int(rng.choice(starts)) if len(starts) else 1
        sub = tree.subtree(node)
        region = sub[tree.generation[sub] <= tree.generation[node] + 1]
        # The main duct from the nipple base to the segment dilates with it.
        path = tree.path_to_root(node)
        region = np.union1d(region, path[dist[path] >= 0.0])
    # Dilated calibre: main ducts 2.5-4 mm, > 3 mm at the ampulla, > 2 mm elsewhere.
    main = float(rng.uniform(2.5, 4.0)) * max(shrink, 0.8)
    new = np.empty(len(region))
    for k, n in enumerate(region.tolist()):
        g = int(tree.generation[n])
        diameter = max(main * 0.8 ** (g - 1), ECTASIA_DIAMETER_MM * 1.05)
        if dist[n] <= 8.0 and g == 1:  # the ampulla, beneath the nipple base
            diameter = max(diameter * 1.15, ECTASIA_AMPULLA_DIAMETER_MM * 1.05)
        new[k] = max(tree.radii_mm[n], 0.5 * diameter)
    # Widen only as far as the neighbouring ducts leave room, but past the threshold.
    room = hood.clearance(tree, region, 4.0 * new.max() + 2.0) - 0.05
    floor = np.where(
        (tree.generation[region] == 1) & (dist[region] <= 8.0),
        0.5 * ECTASIA_AMPULLA_DIAMETER_MM * 1.03,
        0.5 * ECTASIA_DIAMETER_MM * 1.03,
    )
    new = np.maximum(np.maximum(np.minimum(new, room), floor), tree.radii_mm[region])
    radii, before = _with_radii(tree, region, new)
    lesion = Lesion(
        kind=LesionKind.ECTASIA,
        system=tree.system,
        segment=node,
        centre_mm=tree.positions_mm[region[len(region) // 2]],
        size_mm=float(2.0 * new.max()),
        obstructs=False,
        affected_nodes=region,
        radius_before_mm=before,
        description=(
            f"{extent} duct ectasia: ducts up to {2 * new.max():.1f} mm wide "
            f"(normal <= 2 mm, <= 3 mm at the ampulla)"
        ),
    )
    return _append(tree, lesion, radii), region


def _cyst(tree, request, rng, *, hood, shrink=1.0):
    field = request.field
    dist = tree.distance_from_nipple_mm
    leaves = tree.tdlu_node
    if request.segment is not None:
        node = int(_candidates(tree, rng, np.zeros(tree.n_nodes, bool), request.segment, field)[0])
        if tree.n_children[node] != 0:
            raise ParameterError(
                f"{field}.segment",
                request.segment,
                "a terminal node (a cyst fills through a terminal duct)",
            )
    size = _draw_size(request, rng, (3.0, 15.0), 7.0, field, shrink)
    radius = 0.5 * size
    if request.segment is None:
        far = leaves[dist[leaves] >= 15.0]
        far = rng.permutation(far if len(far) else leaves)[:60]
        roomy = _roomy(tree, hood, far, 2.0 * radius + 0.3, 2.5 * radius + 2.0)
        node = int(roomy[0] if len(roomy) else far[0])
    axis = tree.positions_mm[node] - tree.positions_mm[tree.parent[node]]
    axis = axis / np.linalg.norm(axis)
    centre = tree.positions_mm[node] + axis * 0.9 * radius
    semi = radius * np.array([1.0, *rng.uniform(0.8, 1.0, 2)])
    cavity = Ellipsoid(centre, semi, _frame(axis))
    lesion = Lesion(
        kind=LesionKind.CYST,
        system=tree.system,
        segment=node,
        centre_mm=centre,
        size_mm=float(2 * semi.max()),
        obstructs=False,
        cavities=(cavity,),
        description=f"cyst of {2 * semi.max():.1f} mm filling through a terminal duct",
    )
    return _append(tree, lesion), np.array([node])


def _stricture(tree, request, rng, *, hood, shrink=1.0):
    field = request.field
    kids = _children_lists(tree)
    dist = tree.distance_from_nipple_mm
    mask = (tree.generation <= 3) & (dist >= 5.0) & (dist <= 40.0) & (tree.n_children == 1)
    node = int(_candidates(tree, rng, mask, request.segment, field)[0])
    length = float(request.size_mm) if request.size_mm is not None else float(rng.uniform(2.0, 5.0))
    if not 0.5 <= length <= 20.0:
        raise ParameterError(f"{field}.size_mm", length, "a stricture length in [0.5, 20] mm")
    obstructs = bool(rng.random() < 0.2) if request.obstructs is None else request.obstructs
    nodes, offsets = _duct_run(tree, kids, node, length, length)
    depth = 0.97 if obstructs else float(rng.uniform(0.4, 0.7))
    weight = _raised(offsets, 0.15 * length, 0.35 * length)
    new = tree.radii_mm[nodes] * (1.0 - depth * weight)
    keep = weight > 0
    nodes, new = nodes[keep], new[keep]
    radii, before = _with_radii(tree, nodes, new)
    lesion = Lesion(
        kind=LesionKind.STRICTURE,
        system=tree.system,
        segment=node,
        centre_mm=tree.positions_mm[node],
        size_mm=length,
        obstructs=obstructs,
        stop_node=node if obstructs else None,
        affected_nodes=nodes,
        radius_before_mm=before,
        description=(
            f"stricture over {length:.1f} mm, lumen narrowed by {100 * depth:.0f} %"
            f"{': no contrast passes' if obstructs else ''}"
        ),
    )
    return _append(tree, lesion, radii), nodes
