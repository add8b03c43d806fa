"""Analytic duct projection against a plain voxelise-and-sum projection (issue 4).

Voxel simulators (VICTRE/MC-GPU) represent anatomy as voxels (50 µm in VICTRE). Here the
same contrast-filled ducts of one CC view are (a) projected analytically per ray
(:func:`ductogram.imaging.projection.project_segments`, 2 × 2 rays per pixel, the union
of the tubes where they meet, mitred at bends) and (b)
voxelised at 50 µm (a voxel is contrast if its centre lies in a duct) and summed along each
ray by trilinear ray marching at 25 µm steps, on a patch of the detector around the ducts
near the nipple (the whole breast at 50 µm would be billions of voxels).

Prints one JSON line: times, the per-pixel speed ratio, and the difference between the two
contrast path-length images and between the two primary images (monoenergetic 20 keV,
300 mgI/mL) where ducts are (analytic path > 0.05 mm), as RMS of the relative difference.
"""

from __future__ import annotations

import json
import platform
import time

import numpy as np
from scipy.ndimage import map_coordinates

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.materials import iodine_contrast, mu_per_mm
from ductogram.imaging.projection import _junctions, project_segments
from ductogram.imaging.scene import build_scene, contrast_tubes, tube_nodes

VOXEL_MM = 0.05
PATCH_MM = 8.0


def voxelise(a, b, r0, r1, origin, shape, planes=None):
    """Occupancy (0/1) of voxels whose centre lies inside any tapered tube; ``planes``
    (normals and points, one per tube, or None) cut a tube to ``n · (x - p) <= 0``."""
    vol = np.zeros(shape, dtype=np.float32)
    for k in range(len(a)):
        lo = np.floor((np.minimum(a[k], b[k]) - max(r0[k], r1[k]) - origin) / VOXEL_MM).astype(int)
        hi = np.ceil((np.maximum(a[k], b[k]) + max(r0[k], r1[k]) - origin) / VOXEL_MM).astype(int)
        lo = np.clip(lo, 0, np.array(shape))
        hi = np.clip(hi + 1, 0, np.array(shape))
        if np.any(hi <= lo):
            continue
        axes = [origin[i] + (np.arange(lo[i], hi[i]) + 0.5) * VOXEL_MM for i in range(3)]
        x, y, z = np.meshgrid(*axes, indexing="ij")
        p = np.stack([x, y, z], axis=-1)
        axis = b[k] - a[k]
        length = np.linalg.norm(axis)
        e = axis / length
        s = (p - a[k]) @ e
        radial = np.linalg.norm(p - a[k] - s[..., None] * e, axis=-1)
        inside = (s >= 0) & (s <= length) & (radial <= r0[k] + (r1[k] - r0[k]) * s / length)
        if planes is not None:
            inside &= (p - planes[1][k]) @ planes[0][k] <= 0
        block = vol[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        block[inside] = 1.0
    return vol


def main() -> None:
    ph = generate_phantom({"lesions": [{"kind": "papilloma", "obstructs": False}]}, seed=7)
    tree = ph.trees[ph.lesions[0].system]
    fill = fill_ducts(tree, 1.0)
    scene = build_scene(ph, "CC", fill=fill, pixel_mm=0.085, supersample=1, cannula=False)
    g = scene.geometry
    seg, a, b, r0, r1 = contrast_tubes(scene.compression, g, tree, fill)

    t0 = time.perf_counter()
    # The union of the tubes at their junctions, as the voxels hold it.
    nodes = tube_nodes(tree, fill, seg)
    analytic = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=2)
    t_analytic = time.perf_counter() - t0

    # The patch: PATCH_MM square on the detector around the column of contrast nearest
    # the nipple's side of the ducts' centre of mass.
    rows, cols = np.nonzero(analytic > 0.05)
    centre = np.array([np.median(rows), np.median(cols)]).astype(int)
    half = int(PATCH_MM / g.pixel_mm / 2)
    r_lo, r_hi = centre[0] - half, centre[0] + half
    c_lo, c_hi = centre[1] - half, centre[1] + half

    t0 = time.perf_counter()
    corners = g.pixel_centres_mm(
        np.array([r_lo - 2, r_lo - 2, r_hi + 2, r_hi + 2]),
        np.array([c_lo - 2, c_hi + 2, c_lo - 2, c_hi + 2]),
    )[:, :2]
    scales = 1.0 / g.magnification_at(np.array([g.lift_mm, g.lift_mm + scene.thickness_mm]))
    spread = (corners[None] * scales[:, None, None]).reshape(-1, 2)
    lo_xy, hi_xy = spread.min(axis=0), spread.max(axis=0)
    origin = np.array([lo_xy[0], lo_xy[1], g.lift_mm])
    shape = tuple(
        int(np.ceil(v / VOXEL_MM))
        for v in (hi_xy[0] - lo_xy[0], hi_xy[1] - lo_xy[1], scene.thickness_mm)
    )
    near = np.all(
        (np.maximum(a, b) >= origin - 2)
        & (np.minimum(a, b) <= origin + np.array(shape) * VOXEL_MM + 2),
        axis=1,
    )
    vol = voxelise(a[near], b[near], r0[near], r1[near], origin, shape)
    # The wedges that mitre the bends (:func:`ductogram.imaging.projection._mitre`).
    for _, centre, _, mitre in _junctions(nodes, a, b, r0, r1):
        if mitre is None:
            continue
        offset, r_node, r_far, normal = mitre
        start = np.repeat(centre, 2, axis=0)
        wedges = (start, start + offset.reshape(-1, 3), r_node.ravel(), r_far.ravel())
        planes = (normal.reshape(-1, 3), start)
        vol = np.maximum(vol, voxelise(*wedges, origin, shape, planes=planes))
    t_vox = time.perf_counter() - t0

    t0 = time.perf_counter()
    rr, cc = np.meshgrid(np.arange(r_lo, r_hi), np.arange(c_lo, c_hi), indexing="ij")
    offsets = [(-0.25, -0.25), (-0.25, 0.25), (0.25, -0.25), (0.25, 0.25)]
    voxel_img = np.zeros(rr.shape)
    steps = np.arange(0.0, 1.0, 0.5 * VOXEL_MM / scene.thickness_mm)
    z_lo, z_hi = g.lift_mm, g.lift_mm + scene.thickness_mm
    for dr, dc in offsets:
        target = g.pixel_centres_mm(rr + dr, cc + dc)
        src = g.source_mm
        t_a = (g.source_to_image_mm - z_hi) / g.source_to_image_mm
        t_b = (g.source_to_image_mm - z_lo) / g.source_to_image_mm
        ts = t_a + steps * (t_b - t_a)
        pts = src + ts[:, None, None, None] * (target - src)[None]
        idx = (pts - origin) / VOXEL_MM - 0.5
        vals = map_coordinates(vol, idx.reshape(-1, 3).T, order=1, mode="constant").reshape(
            idx.shape[:-1]
        )
        step_len = np.linalg.norm(target - src, axis=-1) * (t_b - t_a) / len(steps)
        voxel_img += vals.sum(axis=0) * step_len
    voxel_img /= len(offsets)
    t_vox_proj = time.perf_counter() - t0

    ref = analytic[r_lo:r_hi, c_lo:c_hi]
    ducts = ref > 0.05
    rel_path = (voxel_img[ducts] - ref[ducts]) / ref[ducts]
    mu = float(mu_per_mm(iodine_contrast(300.0), np.array([20.0]))[0])
    prim_a, prim_v = np.exp(-mu * ref), np.exp(-mu * voxel_img)
    rel_prim = (prim_v[ducts] - prim_a[ducts]) / prim_a[ducts]
    per_px_analytic = t_analytic / g.rows / g.cols
    per_px_voxel = (t_vox + t_vox_proj) / ref.size
    print(
        json.dumps(
            {
                "benchmark": "projection_vs_voxels",
                "machine": f"{platform.machine()}, Python {platform.python_version()}",
                "segments": len(a),
                "view_pixels": [g.rows, g.cols],
                "analytic_full_view_s": round(t_analytic, 3),
                "patch_pixels": list(ref.shape),
                "voxels": int(np.prod(shape)),
                "voxelise_s": round(t_vox, 3),
                "voxel_projection_s": round(t_vox_proj, 3),
                "speed_ratio_per_pixel": round(per_px_voxel / per_px_analytic, 1),
                "duct_pixels": int(ducts.sum()),
                "path_rel_rms_pct": round(100 * float(np.sqrt(np.mean(rel_path**2))), 2),
                "primary_rel_rms_pct": round(100 * float(np.sqrt(np.mean(rel_prim**2))), 3),
                "primary_target_pct": 1.0,
                "path_rel_mean_pct": round(100 * float(np.mean(rel_path)), 2),
                "thick_duct_pixels": int((ref > 0.5).sum()),
                "thick_path_rel_rms_pct": round(
                    100
                    * float(np.sqrt(np.mean(((voxel_img - ref)[ref > 0.5] / ref[ref > 0.5]) ** 2))),
                    2,
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
