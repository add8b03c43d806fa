"""The CPU (NumPy) and GPU (CuPy) backends of the imaging: one code path, the same results.

The CPU tests run everywhere. The GPU tests run where CuPy finds a CUDA device and are
skipped (with the reason) elsewhere, as in CI.
"""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.anatomy import generate_phantom
from ductogram.core import ParameterError
from ductogram.exam.filling import fill_ducts
from ductogram.imaging._backend import device_namespace, to_host
from ductogram.imaging.geometry import Geometry
from ductogram.imaging.projection import project_ellipsoids, project_segments
from ductogram.imaging.scene import build_scene
from ductogram.imaging.views import ViewSettings, simulate_view, simulate_views


def _gpu_reason() -> str | None:
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install 'ductogram[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as exc:  # any CUDA failure means: no usable GPU
        return f"no usable CUDA device ({type(exc).__name__})"
    return None


GPU_REASON = _gpu_reason()
needs_gpu = pytest.mark.skipif(GPU_REASON is not None, reason=GPU_REASON or "")


@pytest.fixture(scope="module")
def small_case():
    ph = generate_phantom(
        {
            "lobes": 10,
            "orifices": 5,
            "tdlus_per_lobe": 30,
            "volume_ml": 350,
            "compressed_thickness_mm": 45,
            "lesions": [{"kind": "papilloma", "obstructs": False}],
        },
        seed=11,
    )
    fill = fill_ducts(ph.trees[ph.lesions[0].system], 0.8, rng=11)
    return ph, fill


def _random_tubes(rng, n):
    a = np.column_stack([rng.uniform(5, 60, n), rng.uniform(-30, 30, n), rng.uniform(5, 40, n)])
    b = a + rng.normal(0, 4, (n, 3))
    return a, b, rng.uniform(0.05, 1.0, n), rng.uniform(0.05, 1.0, n)


def _random_tree(rng, n):
    """Tubes of a random tree: tube i - 1 runs from node parent[i] to node i (a random walk),
    labelled with its nodes, so that a parent's end and its children's starts meet."""
    parent = np.concatenate([[-1], rng.integers(0, np.arange(1, n))])
    pos = np.zeros((n, 3))
    pos[0] = (40.0, 0.0, 30.0)
    for i in range(1, n):
        pos[i] = pos[parent[i]] + rng.normal(0, 1.0, 3)
    radius = rng.uniform(0.1, 0.5, n)
    nodes = np.column_stack([parent[1:], np.arange(1, n)])
    return pos[parent[1:]], pos[1:], radius[parent[1:]], radius[1:], nodes


# --- everywhere --------------------------------------------------------------------------


def test_unknown_device_is_refused():
    with pytest.raises(ParameterError, match="device"):
        device_namespace("tpu")
    with pytest.raises(ParameterError, match="device"):
        simulate_view(None, "CC", settings=ViewSettings(device="gpu0"))


def test_chunking_does_not_change_the_projection():
    """The pairs of (body, pixel) are cut into chunks on the host: any cut gives the same sum."""
    g = Geometry.for_breast(70, 40, 45, pixel_mm=0.2)
    a, b, r0, r1 = _random_tubes(np.random.default_rng(0), 60)
    whole = project_segments(g, a, b, r0, r1, chunk=10**9)
    for chunk in (1, 997, 20_000):
        np.testing.assert_allclose(
            project_segments(g, a, b, r0, r1, chunk=chunk), whole, rtol=1e-12, atol=1e-12
        )


def test_chunking_does_not_change_the_union_at_junctions():
    g = Geometry.for_breast(70, 40, 45, pixel_mm=0.2)
    a, b, r0, r1, nodes = _random_tree(np.random.default_rng(1), 120)
    whole = project_segments(g, a, b, r0, r1, nodes=nodes, chunk=10**9)
    assert whole.sum() < 0.99 * project_segments(g, a, b, r0, r1).sum()
    for chunk in (1, 997):
        np.testing.assert_allclose(
            project_segments(g, a, b, r0, r1, nodes=nodes, chunk=chunk),
            whole,
            rtol=1e-12,
            atol=1e-12,
        )


def test_a_batch_equals_its_views_one_by_one(small_case):
    ph, fill = small_case
    settings = ViewSettings(pixel_mm=0.2, supersample=1)
    jobs = [(ph, "ML", fill, 2), (ph, "CC", None, 3)]
    batch = simulate_views(jobs, settings, workers=2)
    for (p, view, f, seed), got in zip(jobs, batch, strict=True):
        one = simulate_view(p, view, fill=f, settings=settings, rng=seed)
        np.testing.assert_array_equal(got.processing.pixels, one.processing.pixels)
        assert got.processing.view == one.processing.view
    with pytest.raises(ParameterError, match="jobs"):
        simulate_views([(ph, "CC")], settings)
    with pytest.raises(ParameterError, match="workers"):
        simulate_views(jobs, settings, workers=0)


# --- where a GPU is ------------------------------------------------------------------------


@needs_gpu
def test_gpu_projection_agrees_with_cpu():
    import cupy

    g = Geometry.for_breast(80, 50, 50, pixel_mm=0.1)
    rng = np.random.default_rng(3)
    a, b, r0, r1 = _random_tubes(rng, 400)
    cpu = project_segments(g, a, b, r0, r1, supersample=2)
    gpu = project_segments(g, a, b, r0, r1, supersample=2, xp=cupy)
    assert isinstance(gpu, cupy.ndarray)
    np.testing.assert_allclose(to_host(gpu), cpu, rtol=1e-7, atol=1e-7)  # mm
    c = np.column_stack([rng.uniform(5, 60, 50), rng.uniform(-30, 30, 50), rng.uniform(5, 40, 50)])
    q = rng.uniform(0.2, 3, (50, 3))
    rot = np.linalg.qr(rng.normal(size=(50, 3, 3)))[0]
    np.testing.assert_allclose(
        to_host(project_ellipsoids(g, c, q, rot, xp=cupy)),
        project_ellipsoids(g, c, q, rot),
        rtol=1e-7,
        atol=1e-7,  # mm: rounding of grazing rays (fused multiply-adds on the GPU)
    )


@needs_gpu
def test_gpu_junctions_agree_with_cpu():
    # The union where tubes meet: the same lumen counted once on both backends.
    import cupy

    g = Geometry.for_breast(80, 50, 50, pixel_mm=0.1)
    a, b, r0, r1, nodes = _random_tree(np.random.default_rng(4), 300)
    cpu = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=2)
    gpu = project_segments(g, a, b, r0, r1, nodes=nodes, supersample=2, xp=cupy)
    assert isinstance(gpu, cupy.ndarray)
    np.testing.assert_allclose(to_host(gpu), cpu, rtol=1e-7, atol=1e-7)  # mm
    assert cpu.sum() < 0.99 * project_segments(g, a, b, r0, r1, supersample=2).sum()


@needs_gpu
def test_gpu_joint_kernels_are_fused_and_agree_with_cpu(small_case):
    """Where tubes meet, the union's functions run fused, one kernel per count of tubes and
    mitred or not: they give what the plain CPU ones give, and no fused kernel falls back
    (with a warning) when a scene's duct tree is projected with its nodes."""
    import warnings

    import cupy

    from ductogram.imaging.projection import (
        _FUSED,
        _joint_excess,
        _joint_kernels,
        _near_differs,
        _near_joint,
        _random_joints,
    )

    ph, fill = small_case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k, wedges in [(2, True), (2, False), (3, False)]:
            near, excess = _joint_kernels(cupy, k, wedges)
            d, terms = _random_joints(np.random.default_rng(20 + k), k, wedges)
            one = tuple(c[0] for c in d)
            on_gpu = [tuple(cupy.asarray(x) for x in xs) for xs in (one, d, terms)]
            want = _joint_excess(k, *d, *terms)
            np.testing.assert_allclose(
                to_host(excess(*on_gpu[1], *on_gpu[2])),
                want,
                rtol=1e-7,
                atol=1e-7,  # mm: rounding of grazing rays (fused multiply-adds on the GPU)
            )
            want_near = _near_joint(k, *one, *terms)
            got_near = to_host(near(*on_gpu[0], *on_gpu[2]))
            assert want_near.any() and not _near_differs(np, want_near, got_near, want[0]).any()
        build_scene(ph, "CC", fill=fill, pixel_mm=0.2, supersample=1, device="cuda")
    assert not [str(w.message) for w in caught if "fused" in str(w.message)]
    joints = [v for key, v in _FUSED.items() if isinstance(key, tuple) and "joint" in key]
    assert len(joints) >= 3
    assert all(type(f).__name__ == "Fusion" for kernels in joints for f in kernels)


@needs_gpu
def test_gpu_scene_agrees_with_cpu(small_case):
    ph, fill = small_case
    cpu = build_scene(ph, "CC", fill=fill, pixel_mm=0.2, supersample=1)
    gpu = build_scene(ph, "CC", fill=fill, pixel_mm=0.2, supersample=1, device="cuda")
    assert cpu.paths.keys() == gpu.paths.keys()
    for name, path in cpu.paths.items():
        np.testing.assert_allclose(to_host(gpu.paths[name]), path, rtol=1e-5, atol=1e-5)
    differ = np.count_nonzero(gpu.truth.contrast_mask != cpu.truth.contrast_mask)
    assert differ <= 1e-4 * cpu.truth.contrast_mask.size


@needs_gpu
def test_gpu_view_agrees_with_cpu(small_case):
    ph, fill = small_case
    quiet = {"pixel_mm": 0.2, "supersample": 1, "noise": False}
    cpu = simulate_view(ph, "ML", fill=fill, settings=ViewSettings(**quiet), rng=5)
    gpu = simulate_view(ph, "ML", fill=fill, settings=ViewSettings(**quiet, device="cuda"), rng=5)
    assert isinstance(gpu.processing.pixels, np.ndarray)
    assert gpu.exposure["mas"] == pytest.approx(cpu.exposure["mas"], rel=1e-4)
    np.testing.assert_allclose(gpu.processing.pixels, cpu.processing.pixels, rtol=2e-4, atol=1e-2)
    np.testing.assert_allclose(gpu.presentation.pixels, cpu.presentation.pixels, rtol=0, atol=2e-3)
    # With noise the draws differ between backends but follow the same statistics.
    noisy = {**quiet, "noise": True}
    a = simulate_view(ph, "ML", fill=fill, settings=ViewSettings(**noisy), rng=6)
    b = simulate_view(ph, "ML", fill=fill, settings=ViewSettings(**noisy, device="cuda"), rng=6)
    inside = cpu.scene.truth.breast_mask
    base = cpu.processing.pixels[inside]
    sd_cpu = np.std(a.processing.pixels[inside] - base)
    sd_gpu = np.std(b.processing.pixels[inside] - base)
    assert sd_gpu == pytest.approx(sd_cpu, rel=0.05)


@needs_gpu
def test_gpu_batch_equals_gpu_views(small_case):
    ph, fill = small_case
    settings = ViewSettings(pixel_mm=0.2, supersample=1, device="cuda")
    jobs = [(ph, v, fill, k) for k, v in enumerate(["CC", "ML", "MLO", "CC", "ML", "LM"])]
    batch = simulate_views(jobs, settings, workers=3)
    for (p, view, f, seed), got in zip(jobs, batch, strict=True):
        one = simulate_view(p, view, fill=f, settings=settings, rng=seed)
        np.testing.assert_allclose(got.processing.pixels, one.processing.pixels, rtol=1e-6)


def test_branchless_chords_equal_the_plain_ones():
    """The GPU's fused frustum kernel computes every case and picks one per ray: on NumPy
    (unfused) it gives the plain function's chords, grazing and parallel rays included."""
    from ductogram.imaging.projection import (
        _branchless_kernels,
        _ellipsoid_chords,
        _ellipsoid_terms,
        _frustum_chords_from_terms,
        _frustum_terms,
    )

    rng = np.random.default_rng(7)
    n = 20_000
    source = np.array([0.0, 0.0, 650.0])
    a, b, r0, r1 = _random_tubes(rng, n)
    b[:50, 2] = a[:50, 2]  # axis across the beam
    target = np.column_stack([rng.uniform(0, 80, n), rng.uniform(-40, 40, n), np.zeros(n)])
    # Rays aimed at the axis ends and along the axis direction (parallel / grazing cases).
    target[50:100] = source + 2.0 * (a[50:100] - source)
    # And most at random points near each tube's axis.
    u = rng.uniform(-0.1, 1.1, (n - 100, 1))
    near = a[100:] + u * (b[100:] - a[100:]) + rng.normal(0, 0.5, (n - 100, 3))
    target[100:] = source + 2.0 * (near - source)
    terms = _frustum_terms(source, a, b, r0, r1)
    d = target - source
    plain = _frustum_chords_from_terms((d[:, 0], d[:, 1], d[:, 2]), terms)
    frustum, ellipsoid = _branchless_kernels(np)
    with np.errstate(all="ignore"):
        branchless = frustum(d[:, 0], d[:, 1], d[:, 2], *terms)
    assert np.count_nonzero(plain) > n // 4
    np.testing.assert_allclose(branchless, plain, rtol=1e-9, atol=1e-9)
    rot = np.linalg.qr(rng.normal(size=(n, 3, 3)))[0]
    terms = _ellipsoid_terms(source, a, rng.uniform(0.2, 2, (n, 3)), rot)
    np.testing.assert_allclose(
        ellipsoid(d[:, 0], d[:, 1], d[:, 2], *terms),
        _ellipsoid_chords((d[:, 0], d[:, 1], d[:, 2]), terms),
        rtol=1e-9,
        atol=1e-9,
    )
