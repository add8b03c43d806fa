"""Ground truth of a duct tree: JSON-ready dictionaries and networkx graphs.

:func:`tree_to_dict` writes everything a reader of a simulated ductogram may be scored
against (nodes, segments, branches with their Strahler orders, TDLUs, lesions and summary
descriptors) as plain lists, floats, ints, strings and ``None``, so that
``json.dumps(tree_to_dict(tree), allow_nan=False)`` works. :func:`tree_from_dict` reads it
back into an identical :class:`~ductogram.anatomy.ducts.DuctTree`; it reads only the node,
TDLU and lesion records and ignores the derived ones (segments, branches, descriptors).

Floats are written as Python floats, whose JSON text (shortest ``repr``) reads back to the
same float64, so a round trip through a JSON file is exact. NaN and infinity are written as
``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np

from ..core import ParameterError
from .ducts import DuctTree
from .lesions import Ellipsoid, Lesion, LesionKind
from .topology import (
    Branches,
    _angles_deg,
    _check_tree,
    _normalise_rows,
    _ramification_counts,
    _strahler,
    _tortuosity,
    branches,
    murray_residuals,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "branch_graph",
    "tree_from_dict",
    "tree_to_dict",
    "tree_to_networkx",
]

#: Value of the ``"format"`` key of a tree dictionary.
FORMAT = "ductogram.duct_tree"
#: Version of the dictionary layout written by :func:`tree_to_dict`.
FORMAT_VERSION = 1


class _Missing:
    def __repr__(self) -> str:
        return "missing"


_MISSING = _Missing()


def _num(x: float) -> float | None:
    """A finite float, or None for NaN and infinity (strict JSON)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _num_list(a: np.ndarray) -> list:
    """Nested lists of floats with None for NaN and infinity."""
    a = np.asarray(a, dtype=float)
    if np.all(np.isfinite(a)):
        return a.tolist()
    obj = a.astype(object)
    obj[~np.isfinite(a)] = None
    return obj.tolist()


def _ellipsoid_to_dict(e: Ellipsoid) -> dict[str, Any]:
    return {
        "centre_mm": e.centre_mm.tolist(),
        "semi_axes_mm": e.semi_axes_mm.tolist(),
        "rotation": e.rotation.tolist(),
    }


def _lesion_to_dict(lesion: Lesion) -> dict[str, Any]:
    return {
        "kind": LesionKind(lesion.kind).value,
        "system": int(lesion.system),
        "segment": int(lesion.segment),
        "centre_mm": np.asarray(lesion.centre_mm, dtype=float).tolist(),
        "size_mm": float(lesion.size_mm),
        "obstructs": bool(lesion.obstructs),
        "stop_node": None if lesion.stop_node is None else int(lesion.stop_node),
        "affected_nodes": lesion.affected_nodes.tolist(),
        "radius_before_mm": lesion.radius_before_mm.tolist(),
        "masses": [_ellipsoid_to_dict(e) for e in lesion.masses],
        "cavities": [_ellipsoid_to_dict(e) for e in lesion.cavities],
        "description": str(lesion.description),
    }


def _descriptors(tree: DuctTree, br: Branches, order: np.ndarray) -> dict[str, Any]:
    counts = _ramification_counts(br, order)
    murray = murray_residuals(tree)
    return {
        "n_nodes": tree.n_nodes,
        "n_segments": tree.n_segments,
        "n_branches": br.n_branches,
        "n_terminal": len(tree.terminal_nodes),
        "n_tdlus": len(tree.tdlu_node),
        "n_lesions": len(tree.lesions),
        "max_generation": tree.max_generation,
        "strahler_max_order": int(order.max()),
        "ramification_matrix": _num_list(_normalise_rows(counts)),
        "ramification_counts": counts.tolist(),
        "total_length_mm": float(tree.segment_lengths_mm.sum()),
        "lumen_volume_ml": float(tree.lumen_volume_ml),
        "murray_residual_max_abs": _num(np.abs(murray).max()) if len(murray) else None,
    }


def tree_to_dict(tree: DuctTree) -> dict[str, Any]:
    """Ground truth of a duct tree as a JSON-ready dictionary.

    Parameters
    ----------
    tree : DuctTree
        The duct system (breast frame, mm).

    Returns
    -------
    dict
        Plain Python values only (lists, floats, ints, str, bool, None):

        - ``format``, ``version``: ``"ductogram.duct_tree"`` and 1;
        - ``system``: orifice index;
        - ``nodes``: columns ``positions_mm`` (N × 3), ``radii_mm``, ``parent``,
          ``generation``, ``lobe`` (N each);
        - ``segments``: one record per segment, ``{"id", "from", "to", "branch",
          "generation", "length_mm", "r_start_mm", "r_end_mm"}`` (id = end node ``to``);
        - ``branches``: one record per branch of :func:`~ductogram.anatomy.topology.branches`,
          ``{"id", "parent", "start_node", "end_node", "nodes", "generation",
          "strahler_order", "length_mm", "tortuosity", "angle_deg"}`` (``angle_deg`` is
          None for the main duct);
        - ``tdlus``: ``{"id", "node", "centre_mm", "axis", "semi_axes_mm"}``;
        - ``lesions``: every :class:`~ductogram.anatomy.lesions.Lesion` field, ``kind`` as
          its string value, ellipsoids as ``{"centre_mm", "semi_axes_mm", "rotation"}``;
        - ``descriptors``: ``n_nodes``, ``n_segments``, ``n_branches``, ``n_terminal``,
          ``n_tdlus``, ``n_lesions``, ``max_generation``, ``strahler_max_order``,
          ``ramification_matrix`` (K × K, None where NaN), ``ramification_counts``,
          ``total_length_mm``, ``lumen_volume_ml`` (mL), ``murray_residual_max_abs``.

        NaN and infinity are written as None.

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    See Also
    --------
    tree_from_dict : the inverse.
    ductogram.core.files.write_json_atomic : write the dictionary to a file.

    Examples
    --------
    >>> import json
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.truth import tree_from_dict, tree_to_dict
    >>> tree = DuctTree(
    ...     system=2,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]],
    ...     radii_mm=[1.0, 1.0, 0.8, 0.8], parent=[-1, 0, 1, 1],
    ...     generation=[1, 1, 2, 2], lobe=[0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> d = tree_to_dict(tree)
    >>> d["descriptors"]["n_branches"], d["descriptors"]["ramification_matrix"]
    (3, [[None, None], [0.0, 1.0]])
    >>> back = tree_from_dict(json.loads(json.dumps(d)))
    >>> bool((back.positions_mm == tree.positions_mm).all())
    True
    """
    tree = _check_tree(tree)
    br = branches(tree)
    order = _strahler(br)
    parent = tree.parent
    radii = tree.radii_mm
    seg_len = tree.segment_lengths_mm

    seg_to = np.arange(1, tree.n_nodes)
    segments = [
        {
            "id": i,
            "from": p,
            "to": i,
            "branch": b,
            "generation": g,
            "length_mm": length,
            "r_start_mm": r0,
            "r_end_mm": r1,
        }
        for i, p, b, g, length, r0, r1 in zip(
            seg_to.tolist(),
            parent[1:].tolist(),
            br.node_branch[1:].tolist(),
            tree.generation[1:].tolist(),
            seg_len[1:].tolist(),
            radii[parent[1:]].tolist(),
            radii[1:].tolist(),
            strict=True,
        )
    ]

    angles = _angles_deg(tree, br)
    tort = _tortuosity(tree, br)
    branch_records = [
        {
            "id": b,
            "parent": int(br.parent_branch[b]),
            "start_node": int(br.start_node[b]),
            "end_node": int(br.end_node[b]),
            "nodes": br.nodes[b].tolist(),
            "generation": int(br.generation[b]),
            "strahler_order": int(order[b]),
            "length_mm": float(br.length_mm[b]),
            "tortuosity": _num(tort[b]),
            "angle_deg": _num(angles[b]),
        }
        for b in range(br.n_branches)
    ]

    tdlus = [
        {
            "id": k,
            "node": int(tree.tdlu_node[k]),
            "centre_mm": tree.tdlu_centre_mm[k].tolist(),
            "axis": tree.tdlu_axis[k].tolist(),
            "semi_axes_mm": tree.tdlu_semi_axes_mm[k].tolist(),
        }
        for k in range(len(tree.tdlu_node))
    ]

    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "system": int(tree.system),
        "nodes": {
            "positions_mm": tree.positions_mm.tolist(),
            "radii_mm": radii.tolist(),
            "parent": parent.tolist(),
            "generation": tree.generation.tolist(),
            "lobe": tree.lobe.tolist(),
        },
        "segments": segments,
        "branches": branch_records,
        "tdlus": tdlus,
        "lesions": [_lesion_to_dict(lesion) for lesion in tree.lesions],
        "descriptors": _descriptors(tree, br, order),
    }


def _get(d: Mapping[str, Any], key: str, where: str, expected: str) -> Any:
    if not isinstance(d, Mapping):
        raise TypeError(f"{where or 'tree'} must be a dict, got {type(d).__name__}")
    if key not in d:
        raise ParameterError(f"{where}.{key}" if where else key, _MISSING, expected)
    return d[key]


def _ellipsoid_from_dict(d: Mapping[str, Any], where: str) -> Ellipsoid:
    return Ellipsoid(
        centre_mm=_get(d, "centre_mm", where, "a 3-vector (mm)"),
        semi_axes_mm=_get(d, "semi_axes_mm", where, "3 semi-axes (mm)"),
        rotation=_get(d, "rotation", where, "a 3 × 3 rotation matrix"),
    )


def _lesion_from_dict(d: Mapping[str, Any], where: str) -> Lesion:
    kind = _get(d, "kind", where, f"one of {[k.value for k in LesionKind]}")
    try:
        kind = LesionKind(kind)
    except ValueError as exc:
        raise ParameterError(
            f"{where}.kind", kind, f"one of {[k.value for k in LesionKind]}"
        ) from exc
    stop = d.get("stop_node")
    return Lesion(
        kind=kind,
        system=int(_get(d, "system", where, "an orifice index")),
        segment=int(_get(d, "segment", where, "a segment (end node) index")),
        centre_mm=_get(d, "centre_mm", where, "a 3-vector (mm)"),
        size_mm=float(_get(d, "size_mm", where, "a size in mm")),
        obstructs=bool(_get(d, "obstructs", where, "true or false")),
        stop_node=None if stop is None else int(stop),
        affected_nodes=np.asarray(d.get("affected_nodes", []), dtype=np.int64),
        radius_before_mm=np.asarray(d.get("radius_before_mm", []), dtype=float),
        masses=tuple(
            _ellipsoid_from_dict(e, f"{where}.masses.{i}")
            for i, e in enumerate(d.get("masses", []))
        ),
        cavities=tuple(
            _ellipsoid_from_dict(e, f"{where}.cavities.{i}")
            for i, e in enumerate(d.get("cavities", []))
        ),
        description=str(d.get("description", "")),
    )


def tree_from_dict(d: Mapping[str, Any]) -> DuctTree:
    """Rebuild a :class:`DuctTree` from the dictionary of :func:`tree_to_dict`.

    Reading is tolerant: only ``system``, ``nodes`` and, when present, ``tdlus`` and
    ``lesions`` are read; derived records (``segments``, ``branches``, ``descriptors``) are
    ignored, and a missing ``format`` key is accepted.

    Parameters
    ----------
    d : dict
        A tree dictionary, e.g. ``json.load`` of a file written from :func:`tree_to_dict`.

    Returns
    -------
    DuctTree
        Equal to the tree that was written: same arrays, same lesions field by field.

    Raises
    ------
    TypeError
        If ``d`` (or one of its records) is not a dict.
    ParameterError
        If a required key is missing, ``format`` is not ``"ductogram.duct_tree"``,
        ``version`` is newer than this reader, a lesion kind is unknown, or the arrays do
        not form a valid tree (the message names the field).
    """
    if not isinstance(d, Mapping):
        raise TypeError(f"tree dictionary must be a dict, got {type(d).__name__}")
    fmt = d.get("format", FORMAT)
    if fmt != FORMAT:
        raise ParameterError("format", fmt, f"{FORMAT!r}")
    version = d.get("version", FORMAT_VERSION)
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ParameterError(
            "version", version, f"an integer in [1, {FORMAT_VERSION}]; upgrade ductogram"
        )
    nodes = _get(d, "nodes", "", "a dict of node columns")
    columns = {
        "positions_mm": "an (N, 3) list of positions (mm)",
        "radii_mm": "a list of N radii (mm)",
        "parent": "a list of N parent indices",
        "generation": "a list of N generations",
        "lobe": "a list of N lobe indices",
    }
    arrays = {name: _get(nodes, name, "nodes", what) for name, what in columns.items()}
    tdlus = d.get("tdlus", [])
    tdlu = {
        name: [_get(t, name, f"tdlus.{k}", what) for k, t in enumerate(tdlus)]
        for name, what in (
            ("node", "a node index"),
            ("centre_mm", "a 3-vector (mm)"),
            ("axis", "a unit 3-vector"),
            ("semi_axes_mm", "2 semi-axes (mm)"),
        )
    }
    lesions = tuple(
        _lesion_from_dict(lesion, f"lesions.{i}") for i, lesion in enumerate(d.get("lesions", []))
    )
    return DuctTree(
        system=int(_get(d, "system", "", "an orifice index")),
        positions_mm=np.asarray(arrays["positions_mm"], dtype=float),
        radii_mm=np.asarray(arrays["radii_mm"], dtype=float),
        parent=np.asarray(arrays["parent"], dtype=np.int64),
        generation=np.asarray(arrays["generation"], dtype=np.int64),
        lobe=np.asarray(arrays["lobe"], dtype=np.int64),
        tdlu_node=np.asarray(tdlu["node"], dtype=np.int64),
        tdlu_centre_mm=np.asarray(tdlu["centre_mm"], dtype=float).reshape(-1, 3),
        tdlu_axis=np.asarray(tdlu["axis"], dtype=float).reshape(-1, 3),
        tdlu_semi_axes_mm=np.asarray(tdlu["semi_axes_mm"], dtype=float).reshape(-1, 2),
        lesions=lesions,
    )


def _lesion_summary(lesion: Lesion) -> dict[str, Any]:
    return {
        "kind": LesionKind(lesion.kind).value,
        "segment": int(lesion.segment),
        "size_mm": float(lesion.size_mm),
        "obstructs": bool(lesion.obstructs),
        "stop_node": None if lesion.stop_node is None else int(lesion.stop_node),
    }


def tree_to_networkx(tree: DuctTree) -> nx.DiGraph:
    """The duct tree as a directed node graph, edges pointing away from the orifice.

    Parameters
    ----------
    tree : DuctTree
        The duct system (breast frame, mm).

    Returns
    -------
    networkx.DiGraph
        N nodes and N − 1 edges, an arborescence rooted at node 0.

        - node attributes: ``pos`` (x, y, z) tuple in mm, ``radius_mm``, ``generation``,
          ``lobe``, ``branch`` (-1 for the orifice), ``is_tdlu``;
        - edge ``parent[i] → i`` attributes: ``length_mm``, ``r_start_mm``, ``r_end_mm``,
          ``generation``, ``branch``;
        - graph attributes: ``system``, ``units`` (``"mm"``), ``lesions`` (a list of
          ``{"kind", "segment", "size_mm", "obstructs", "stop_node"}``).

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    Examples
    --------
    >>> import networkx as nx
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.truth import tree_to_networkx
    >>> tree = DuctTree(
    ...     system=0,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]],
    ...     radii_mm=[1.0, 1.0, 0.8, 0.8], parent=[-1, 0, 1, 1],
    ...     generation=[1, 1, 2, 2], lobe=[0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> g = tree_to_networkx(tree)
    >>> g.number_of_nodes(), g.number_of_edges(), nx.is_arborescence(g)
    (4, 3, True)
    >>> g.edges[1, 3]["length_mm"]
    1.0
    """
    tree = _check_tree(tree)
    br = branches(tree)
    is_tdlu = np.zeros(tree.n_nodes, dtype=bool)
    is_tdlu[tree.tdlu_node] = True
    g = nx.DiGraph(
        system=int(tree.system),
        units="mm",
        lesions=[_lesion_summary(lesion) for lesion in tree.lesions],
    )
    g.add_nodes_from(
        (
            i,
            {
                "pos": tuple(p),
                "radius_mm": r,
                "generation": gen,
                "lobe": lobe,
                "branch": b,
                "is_tdlu": t,
            },
        )
        for i, (p, r, gen, lobe, b, t) in enumerate(
            zip(
                tree.positions_mm.tolist(),
                tree.radii_mm.tolist(),
                tree.generation.tolist(),
                tree.lobe.tolist(),
                br.node_branch.tolist(),
                is_tdlu.tolist(),
                strict=True,
            )
        )
    )
    parent = tree.parent
    g.add_edges_from(
        (
            p,
            i,
            {
                "length_mm": length,
                "r_start_mm": r0,
                "r_end_mm": r1,
                "generation": gen,
                "branch": b,
            },
        )
        for i, p, length, r0, r1, gen, b in zip(
            range(1, tree.n_nodes),
            parent[1:].tolist(),
            tree.segment_lengths_mm[1:].tolist(),
            tree.radii_mm[parent[1:]].tolist(),
            tree.radii_mm[1:].tolist(),
            tree.generation[1:].tolist(),
            br.node_branch[1:].tolist(),
            strict=True,
        )
    )
    return g


def branch_graph(tree: DuctTree) -> nx.DiGraph:
    """The duct tree as a directed graph of branches (parent branch → child branch).

    Parameters
    ----------
    tree : DuctTree
        The duct system (breast frame, mm).

    Returns
    -------
    networkx.DiGraph
        One node per branch (numbered as in :func:`~ductogram.anatomy.topology.branches`)
        with attributes ``strahler_order``, ``generation``, ``length_mm``, ``tortuosity``,
        ``start_node``, ``end_node``; one edge per non-root branch with attribute
        ``angle_deg`` (degrees). Graph attribute ``system``.

    Raises
    ------
    TypeError
        If ``tree`` is not a :class:`DuctTree`.

    Examples
    --------
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> from ductogram.anatomy.truth import branch_graph
    >>> tree = DuctTree(
    ...     system=0,
    ...     positions_mm=[[0, 0, 0], [1, 0, 0], [2, 0, 0], [1, 1, 0]],
    ...     radii_mm=[1.0, 1.0, 0.8, 0.8], parent=[-1, 0, 1, 1],
    ...     generation=[1, 1, 2, 2], lobe=[0, 0, 0, 0],
    ...     tdlu_node=[], tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> g = branch_graph(tree)
    >>> sorted(g.successors(0)), g.nodes[0]["strahler_order"]
    ([1, 2], 2)
    """
    tree = _check_tree(tree)
    br = branches(tree)
    order = _strahler(br)
    tort = _tortuosity(tree, br)
    angles = _angles_deg(tree, br)
    g = nx.DiGraph(system=int(tree.system))
    g.add_nodes_from(
        (
            b,
            {
                "strahler_order": int(order[b]),
                "generation": int(br.generation[b]),
                "length_mm": float(br.length_mm[b]),
                "tortuosity": float(tort[b]),
                "start_node": int(br.start_node[b]),
                "end_node": int(br.end_node[b]),
            },
        )
        for b in range(br.n_branches)
    )
    child = np.flatnonzero(br.parent_branch >= 0)
    g.add_edges_from(
        (int(br.parent_branch[b]), int(b), {"angle_deg": float(angles[b])}) for b in child
    )
    return g
