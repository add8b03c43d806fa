"""Ground truth of a duct tree: JSON-ready dictionaries and networkx graphs.

:func:`tree_to_dict` writes everything a reader of a simulated ductogram may be scored
against (nodes, segments, branches with their Strahler orders, TDLUs, lesions and summary
descriptors) as plain lists, floats, ints, strings and ``None``, so that
``json.dumps(tree_to_dict(tree), allow_nan=False)`` works. :func:`tree_from_dict` reads it
back into an identical :class:`~ductogram.anatomy.ducts.DuctTree`; it reads only the node,
TDLU and lesion records and ignores the derived ones (segments, branches, descriptors).

:func:`phantom_to_dict` does the same for a whole :class:`~ductogram.anatomy.phantom.Phantom`
(seed, resolved parameters, breast, lobes, compressed views, one tree dictionary per duct
system), and :func:`write_phantom` writes it to a folder, ``phantom.json`` plus one GraphML
file per duct system, all at once.

Floats are written as Python floats, whose JSON text (shortest ``repr``) reads back to the
same float64, so a round trip through a JSON file is exact. NaN and infinity are written as
``None``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from ..core import Laterality, ParameterError, ViewPosition
from ..core.files import atomic_directory, write_json_atomic, write_text_atomic
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

if TYPE_CHECKING:
    from .phantom import Phantom

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PHANTOM_FORMAT",
    "PHANTOM_FORMAT_VERSION",
    "branch_graph",
    "phantom_to_dict",
    "tree_from_dict",
    "tree_to_dict",
    "tree_to_graphml",
    "tree_to_networkx",
    "write_phantom",
]

#: Value of the ``"format"`` key of a tree dictionary.
FORMAT = "ductogram.duct_tree"
#: Version of the dictionary layout written by :func:`tree_to_dict`.
FORMAT_VERSION = 1
#: Value of the ``"format"`` key of a phantom dictionary.
PHANTOM_FORMAT = "ductogram.phantom"
#: Version of the dictionary layout written by :func:`phantom_to_dict`.
PHANTOM_FORMAT_VERSION = 1
#: Views summarised in a phantom dictionary, in this order.
PHANTOM_VIEWS = (ViewPosition.CC, ViewPosition.ML, ViewPosition.MLO, ViewPosition.LM)


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


# ----------------------------------------------------------------------------- phantom


def _breast_to_dict(breast: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for f in dataclasses.fields(breast):
        value = getattr(breast, f.name)
        d[f.name] = Laterality(value).value if f.name == "laterality" else _num(value)
    d["volume_ml"] = _num(breast.volume_ml)
    d["parenchyma_volume_ml"] = _num(breast.parenchyma_volume_ml)
    return d


def _lobes_to_dict(layout: Any) -> dict[str, Any]:
    return {
        "n_lobes": int(layout.n_lobes),
        "n_systems": int(layout.n_systems),
        "boundaries_rad": _num_list(layout.boundaries_rad),
        "twist_rad": _num(layout.twist_rad),
        "wobble_rad": _num_list(layout.wobble_rad),
        "system_of_lobe": np.asarray(layout.system_of_lobe, dtype=np.int64).tolist(),
        "orifice_mm": _num_list(layout.orifice_mm),
        "depth_mm": _num(layout.depth_mm),
    }


def _view_to_dict(phantom: Phantom, view: ViewPosition) -> dict[str, Any] | None:
    try:
        comp = phantom.compression(view)
    except ParameterError:  # the breast is thinner than T along this view's axis
        return None
    return {
        "thickness_mm": _num(comp.thickness_mm),
        "uncompressed_thickness_mm": _num(comp.uncompressed_thickness_mm),
        "compression_ratio": _num(comp.compression_ratio),
        "stretch": _num(comp.stretch),
        "obliquity_deg": _num(comp.obliquity_deg),
    }


def _lesion_brief(lesion: Lesion) -> dict[str, Any]:
    return {
        "system": int(lesion.system),
        **_lesion_summary(lesion),
        "description": str(lesion.description),
    }


def phantom_to_dict(phantom: Phantom) -> dict[str, Any]:
    """Ground truth of a whole phantom as a JSON-ready dictionary.

    Parameters
    ----------
    phantom : Phantom
        A phantom from :func:`~ductogram.anatomy.phantom.generate_phantom`.

    Returns
    -------
    dict
        Plain Python values only (NaN and infinity written as None):

        - ``format``, ``version``: ``"ductogram.phantom"`` and 1;
        - ``seed``: the seed (int or None); with ``parameters`` enough to build the
          phantom again;
        - ``parameters``: every value used (``ResolvedParameters``, as JSON);
        - ``breast``: the :class:`~ductogram.anatomy.breast.Breast` fields (mm;
          ``laterality`` as ``"L"`` or ``"R"``) plus ``volume_ml`` and
          ``parenchyma_volume_ml`` (mL);
        - ``lobes``: the lobe layout, ``boundaries_rad`` (L), ``twist_rad``, ``wobble_rad``
          (L), ``system_of_lobe`` (L), ``orifice_mm`` (S × 3), ``depth_mm``;
        - ``compressed_thickness_mm``: T (mm);
        - ``views``: for ``"CC"``, ``"ML"``, ``"MLO"`` (45°) and ``"LM"``, the compression
          ``{"thickness_mm", "uncompressed_thickness_mm", "compression_ratio", "stretch",
          "obliquity_deg"}``, or None where the breast is thinner than T along that view;
        - ``systems``: :func:`tree_to_dict` of each duct system, in orifice order;
        - ``summary``: ``n_systems``, ``n_lobes``, ``n_nodes``, ``n_branches`` (all
          systems), ``branches_per_system``, ``max_generation``, ``n_lesions`` and
          ``lesions`` (``{"system", "kind", "segment", "size_mm", "obstructs",
          "stop_node", "description"}`` each).

    See Also
    --------
    write_phantom : write it to a folder.
    tree_from_dict : read one of ``systems`` back into a :class:`DuctTree`.

    Examples
    --------
    >>> from ductogram.anatomy import generate_phantom
    >>> ph = generate_phantom({"lobes": 3, "orifices": 2, "tdlus_per_lobe": 10}, seed=4)
    >>> d = phantom_to_dict(ph)
    >>> d["format"], d["seed"], d["summary"]["n_systems"], len(d["systems"])
    ('ductogram.phantom', 4, 2, 2)
    >>> tree_from_dict(d["systems"][1]).n_nodes == ph.trees[1].n_nodes
    True
    """
    trees = phantom.trees
    lesions = [lesion for tree in trees for lesion in tree.lesions]
    return {
        "format": PHANTOM_FORMAT,
        "version": PHANTOM_FORMAT_VERSION,
        "seed": None if phantom.seed is None else int(phantom.seed),
        "parameters": phantom.parameters.model_dump(mode="json"),
        "breast": _breast_to_dict(phantom.breast),
        "lobes": _lobes_to_dict(phantom.lobes),
        "compressed_thickness_mm": _num(phantom.compressed_thickness_mm),
        "views": {view.value: _view_to_dict(phantom, view) for view in PHANTOM_VIEWS},
        "systems": [tree_to_dict(tree) for tree in trees],
        "summary": {
            "n_systems": len(trees),
            "n_lobes": int(phantom.lobes.n_lobes),
            "n_nodes": sum(tree.n_nodes for tree in trees),
            "n_branches": sum(tree.n_branches for tree in trees),
            "branches_per_system": [tree.n_branches for tree in trees],
            "max_generation": max(tree.max_generation for tree in trees),
            "n_lesions": len(lesions),
            "lesions": [_lesion_brief(lesion) for lesion in lesions],
        },
    }


def tree_to_graphml(tree: DuctTree) -> nx.DiGraph:
    """:func:`tree_to_networkx` with scalar attributes only, as GraphML requires.

    ``pos`` becomes ``x_mm``, ``y_mm``, ``z_mm`` (breast frame); the graph's ``lesions``
    list becomes ``lesions_json``, its JSON text, and ``n_lesions``; graph attributes
    ``format`` (``"ductogram.duct_tree"``) and ``version`` are added. Other attributes are
    kept as they are (int, float, bool, str).

    Examples
    --------
    >>> from ductogram.anatomy.ducts import DuctTree
    >>> tree = DuctTree(
    ...     system=0, positions_mm=[[0, 0, 0], [1, 2, 3]], radii_mm=[1.0, 0.8],
    ...     parent=[-1, 0], generation=[1, 1], lobe=[0, 0], tdlu_node=[],
    ...     tdlu_centre_mm=[], tdlu_axis=[], tdlu_semi_axes_mm=[],
    ... )
    >>> g = tree_to_graphml(tree)
    >>> g.nodes[1]["x_mm"], g.nodes[1]["z_mm"], "pos" in g.nodes[1]
    (1.0, 3.0, False)
    """
    g = tree_to_networkx(tree)
    scalar = (bool, int, float, str)
    for _, data in g.nodes(data=True):
        x, y, z = data.pop("pos")
        data.update(x_mm=float(x), y_mm=float(y), z_mm=float(z))
        for key in [k for k, v in data.items() if not isinstance(v, scalar)]:
            del data[key]
    for _, _, data in g.edges(data=True):
        for key in [k for k, v in data.items() if not isinstance(v, scalar)]:
            del data[key]
    lesions = g.graph.pop("lesions", [])
    g.graph.update(
        format=FORMAT,
        version=FORMAT_VERSION,
        n_lesions=len(lesions),
        lesions_json=json.dumps(lesions, allow_nan=False),
    )
    for key in [k for k, v in g.graph.items() if not isinstance(v, scalar)]:
        del g.graph[key]
    return g


def _graphml_text(tree: DuctTree) -> str:
    return "\n".join(nx.generate_graphml(tree_to_graphml(tree))) + "\n"


def write_phantom(
    phantom: Phantom,
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    also: Iterable[Callable[[Phantom, Path], Iterable[Path]]] = (),
) -> list[Path]:
    """Write a phantom's ground truth to a new folder, all at once.

    Writes ``phantom.json`` (:func:`phantom_to_dict`) and ``system_XX.graphml``
    (:func:`tree_to_graphml`, ``XX`` the orifice index on two digits) into a temporary
    sibling folder, then renames it to ``out_dir`` (:func:`~ductogram.core.files.
    atomic_directory`). If anything fails nothing is left behind and an existing
    ``out_dir`` is untouched.

    Parameters
    ----------
    phantom : Phantom
        The phantom to write.
    out_dir : str or path-like
        The output folder; missing parents are created.
    overwrite : bool, optional
        Replace ``out_dir`` (and everything in it) if it exists and is not empty
        (default False).
    also : iterable of callables, optional
        More writers, each called as ``writer(phantom, folder)`` with the temporary
        folder and returning the paths it wrote there, e.g.
        :func:`ductogram.anatomy.figures.save_figures`. Their files are part of the same
        all-at-once write.

    Returns
    -------
    list of pathlib.Path
        The files written, under ``out_dir``: ``phantom.json``, the GraphML files, then
        those of ``also``.

    Raises
    ------
    FileExistsError
        If ``out_dir`` exists, is not empty and ``overwrite`` is False, or is a file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ductogram.anatomy import generate_phantom
    >>> ph = generate_phantom({"lobes": 3, "orifices": 2, "tdlus_per_lobe": 10}, seed=4)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = write_phantom(ph, pathlib.Path(d) / "case")
    ...     [f.name for f in files]
    ['phantom.json', 'system_00.graphml', 'system_01.graphml']
    """
    target = Path(out_dir).absolute()
    with atomic_directory(target, overwrite=overwrite) as tmp:
        data = phantom_to_dict(phantom)
        written = [write_json_atomic(tmp / "phantom.json", data, indent=None)]
        for tree in phantom.trees:
            name = f"system_{int(tree.system):02d}.graphml"
            written.append(write_text_atomic(tmp / name, _graphml_text(tree)))
        for writer in also:
            written.extend(Path(p) for p in writer(phantom, tmp))
        relative = [Path(p).absolute().relative_to(tmp) for p in written]
    return [target / r for r in relative]
