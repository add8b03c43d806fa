"""One exposure of a ductogram, from phantom and contrast fill to images and dose.

:func:`simulate_view` runs the chain for one view: a glandular texture for the case, the
scene (:mod:`.scene`: exact path lengths of every material, and the truth), the automatic
exposure control (:mod:`.exposure`), polyenergetic image formation with scatter, blur and
noise (:mod:`.formation`), preparation artifacts and patient motion, display processing
(:mod:`.presentation`) and the mean glandular dose (:mod:`.dose`). It returns the
"for processing" and "for presentation" images as :class:`ductogram.core.Image` with the
view's truth attached.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from ..anatomy import Phantom
from ..core import Image, ParameterError, PixelKind, ViewPosition
from ..core.seeding import RNGLike, as_generator
from ._backend import DEVICES, array_namespace, device_namespace, ndimage_module, to_host
from .detector import default_detector
from .dose import mean_glandular_dose
from .exposure import automatic_exposure
from .formation import form_image
from .presentation import for_presentation
from .projection import project_ellipsoids
from .scatter import ANTISCATTER_GRID
from .scene import Scene, build_scene
from .spectra import load_spectrum
from .texture import draw_texture_exponent, glandular_texture

TEXTURE_DOWNSAMPLE = 4  # the texture is made at 4x the pixel pitch (it is smooth) and zoomed
MOTION_MM = (0.3, 1.0)  # blur length of a patient who moved during the exposure [estimate]


@dataclass(frozen=True)
class ViewSettings:
    """How one view is taken.

    Parameters
    ----------
    magnification : float
        1 for a contact view, 1.5–1.8 for a magnification view (no grid, 0.1 mm spot).
    pixel_mm : float
        Detector pitch (mm).
    supersample : int
        Rays per pixel along each axis for the ducts and bodies.
    detector : str
        "a-se" or "csi".
    exposure_table : str
        "W" (W/Rh, W/Ag) or "Mo" (Mo/Mo, Mo/Rh, Rh/Rh) AEC table.
    noise, scatter : bool
    patient_moved : bool
        Blur the exposure along a random direction by 0.3–1 mm.
    deodorant, jewellery : bool
        Left on: deodorant/powder specks near the axillary skin, a metal pendant at the
        upper edge of the field.
    device : {"cpu", "cuda"}
        Where the per-pixel work runs: NumPy on the CPU, or CuPy on an NVIDIA GPU. The same
        code runs on both; the images come back as NumPy arrays either way.
    """

    magnification: float = 1.0
    pixel_mm: float = 0.085
    supersample: int = 2
    detector: str = "a-se"
    exposure_table: str = "W"
    noise: bool = True
    scatter: bool = True
    patient_moved: bool = False
    deodorant: bool = False
    jewellery: bool = False
    device: str = "cpu"


@dataclass(frozen=True, eq=False)
class SimulatedView:
    """The images of one view, its scene and what the AEC and dose model reported."""

    processing: Image
    presentation: Image
    scene: Scene
    exposure: dict
    dose: dict


def _texture(shape, pixel_mm, mean, rng, xp=np):
    beta = draw_texture_exponent(rng)
    small = (max(shape[0] // TEXTURE_DOWNSAMPLE, 8), max(shape[1] // TEXTURE_DOWNSAMPLE, 8))
    field = xp.asarray(
        glandular_texture(
            small, pixel_mm * TEXTURE_DOWNSAMPLE, mean=mean, beta=beta, rng=rng, xp=xp
        ),
        dtype=np.float64,
    )
    zoom = ndimage_module(xp).zoom
    full = zoom(field, (shape[0] / small[0], shape[1] / small[1]), order=1)
    return xp.clip(full[: shape[0], : shape[1]], 0.0, 1.0), beta


def _artifacts(scene: Scene, settings: ViewSettings, rng: np.random.Generator, xp=np) -> dict:
    """Path maps of deodorant/powder specks and a metal pendant, left on by the patient."""
    g = scene.geometry
    mask = scene.truth.breast_mask
    out = {}
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if settings.deodorant and len(rows):
        # Specks on the skin near the chest wall's upper-outer corner (axilla).
        n = int(rng.integers(15, 40))
        r = rng.uniform(0.05, 0.2, n)
        row = rng.uniform(rows.min(), rows.min() + 0.25 * (rows.max() - rows.min()), n)
        col = rng.uniform(cols.max() - 0.2 * (cols.max() - cols.min()), cols.max(), n)
        z = g.lift_mm + scene.thickness_mm
        centres = g.pixel_centres_mm(row, col) / g.magnification_at(z)
        centres[:, 2] = z
        out["aluminium-chlorohydrate"] = project_ellipsoids(
            g,
            centres,
            np.repeat(r[:, None], 3, 1),
            np.repeat(np.eye(3)[None], n, 0),
            supersample=1,
            xp=xp,
        )
    if settings.jewellery and len(cols):
        # A pendant (steel, 6 x 4 x 1.5 mm) above the breast near the chest wall.
        row = rows.min() + 30.0 / g.pixel_mm
        col = 0.5 * (cols.min() + cols.max()) + rng.uniform(-10, 10) / g.pixel_mm
        z = g.lift_mm + scene.thickness_mm + 15.0
        centre = g.pixel_centres_mm(np.array([row]), np.array([col])) / g.magnification_at(z)
        centre[:, 2] = z
        out["steel"] = project_ellipsoids(
            g, centre, np.array([[3.0, 2.0, 0.75]]), np.eye(3)[None], supersample=1, xp=xp
        )
    return out


def _motion(image, pixel_mm: float, rng: np.random.Generator):
    """A linear blur along a random direction (the patient moved during the exposure)."""
    length = rng.uniform(*MOTION_MM) / pixel_mm
    angle = rng.uniform(0.0, np.pi)
    half = int(np.ceil(length / 2)) + 1
    kernel = np.zeros((2 * half + 1, 2 * half + 1))
    for t in np.linspace(-length / 2, length / 2, 4 * half + 1):
        kernel[round(half + t * np.sin(angle)), round(half + t * np.cos(angle))] += 1.0
    xp = array_namespace(image)
    kernel = xp.asarray(kernel / kernel.sum(), dtype=image.dtype)
    return ndimage_module(xp).convolve(image, kernel, mode="nearest")


def simulate_view(
    phantom: Phantom,
    view: ViewPosition | str,
    *,
    fill=None,
    settings: ViewSettings | None = None,
    rng: RNGLike = None,
) -> SimulatedView:
    """Simulate one view of a (contrast-filled) breast: images, truth and dose.

    Parameters
    ----------
    phantom : Phantom
    view : ViewPosition or str
    fill : ContrastFill, optional
        The contrast in the cannulated system; without it, a plain mammogram.
    settings : ViewSettings, optional
    rng : numpy.random.Generator or int or None
        Draws the texture, the noise and the artifacts.

    Returns
    -------
    SimulatedView
    """
    settings = settings or ViewSettings()
    if settings.supersample < 1 or settings.supersample > 4:
        raise ParameterError("supersample", settings.supersample, "an integer in [1, 4]")
    if settings.device not in DEVICES:
        raise ParameterError("device", settings.device, f"one of {DEVICES}")
    xp = device_namespace(settings.device)
    rng = as_generator(rng)
    rng_texture, rng_noise, rng_art = rng.spawn(3)
    view = ViewPosition(view)
    # The scene needs the texture's shape: build it once without, then with the texture.
    scene = build_scene(
        phantom,
        view,
        fill=fill,
        pixel_mm=settings.pixel_mm,
        magnification=settings.magnification,
        supersample=settings.supersample,
        device=settings.device,
    )
    g = scene.geometry
    texture, beta = _texture(
        (g.rows, g.cols), g.pixel_mm, phantom.breast.glandular_fraction, rng_texture, xp
    )
    interior = scene.paths["glandular"] + scene.paths["adipose"]
    scene.paths["glandular"] = (interior * texture).astype(np.float32)
    scene.paths["adipose"] = (interior * (1.0 - texture)).astype(np.float32)
    # Masses (glandular tissue in place of contrast) were added to "glandular" by the scene;
    # the texture redistribution keeps the total tissue path unchanged.
    scene.paths.update(_artifacts(scene, settings, rng_art, xp))

    magnified = settings.magnification > 1.0
    grid = None if magnified else ANTISCATTER_GRID
    det = default_detector(settings.detector)
    glandularity = phantom.breast.glandular_fraction
    aec = automatic_exposure(
        scene.paths,
        g,
        scene.thickness_mm,
        glandularity=glandularity,
        table=settings.exposure_table,
        detector=det,
        grid=grid,
        contrast_mgi_per_ml=scene.concentration_mgi_per_ml or 300.0,
    )
    tech = aec.technique
    spectrum = load_spectrum(tech.anode, tech.filter, tech.kvp)
    formed = form_image(
        scene.paths,
        g,
        spectrum,
        tech.mas,
        contrast_mgi_per_ml=scene.concentration_mgi_per_ml or 300.0,
        detector=det,
        grid=grid,
        thickness_mm=scene.thickness_mm,
        scatter=settings.scatter,
        noise=settings.noise,
        rng=rng_noise,
    )
    processing = xp.asarray(formed.for_processing, dtype=np.float32)
    if settings.patient_moved:
        processing = _motion(processing, g.pixel_mm, rng_art).astype(np.float32)
    presentation = xp.asarray(
        for_presentation(processing, g.pixel_mm, mask=xp.asarray(scene.truth.breast_mask)),
        dtype=np.float32,
    )
    processing, presentation = to_host(processing), to_host(presentation)
    dose = mean_glandular_dose(spectrum, tech.mas, g, scene.thickness_mm, glandularity)
    dose_dict = {
        k: (v if not isinstance(v, np.generic) else v.item()) for k, v in asdict(dose).items()
    }
    exposure = {
        "anode": str(tech.anode),
        "filter": str(tech.filter),
        "kvp": float(tech.kvp),
        "mas": float(tech.mas),
        "grid": grid is not None,
        "focal_spot_mm": g.focal_spot_mm,
        "source_to_image_mm": g.source_to_image_mm,
        "compressed_thickness_mm": scene.thickness_mm,
        "mean_energy_kev": float(formed.mean_energy_kev),
        "energy_bins": len(formed.energies_kev),
        "scatter_to_primary": float(formed.scatter_to_primary),
        "texture_beta": float(beta),
        "aec_limited": bool(aec.limited),
        "patient_moved": settings.patient_moved,
    }
    magnification = float(g.magnification_at(g.lift_mm + 0.5 * scene.thickness_mm))
    common = {
        "pixel_spacing_mm": (g.pixel_mm, g.pixel_mm),
        "view": view,
        "laterality": phantom.breast.laterality,
        "magnification": magnification,
        "dose": {**exposure, **dose_dict},
        "truth": scene.truth,
    }
    return SimulatedView(
        processing=Image(processing, kind=PixelKind.FOR_PROCESSING, **common),
        presentation=Image(presentation, kind=PixelKind.FOR_PRESENTATION, **common),
        scene=scene,
        exposure=exposure,
        dose=dose_dict,
    )


_THREAD_STATE = threading.local()


def _worker_stream(xp):
    """A CUDA stream of this worker thread's own (so that one view's kernels run while
    another thread prepares the next view); a no-op context on the CPU."""
    if xp is np:
        return contextlib.nullcontext()
    stream = getattr(_THREAD_STATE, "stream", None)
    if stream is None:
        stream = _THREAD_STATE.stream = xp.cuda.Stream(non_blocking=True)
    return stream


def simulate_views(
    jobs: Sequence[tuple],
    settings: ViewSettings | None = None,
    *,
    workers: int | None = None,
) -> list[SimulatedView]:
    """Simulate many views; on a GPU, several at once so that the device stays busy.

    Each view's host work (per-body geometry, exposure control, dose) runs in a worker
    thread while other views' kernels run on the GPU, each worker on a CUDA stream of its
    own. Results are the same as :func:`simulate_view` on each job, in the jobs' order.

    Parameters
    ----------
    jobs : sequence of (phantom, view, fill, rng)
        What to simulate; ``fill`` may be None, ``rng`` a seed or generator.
    settings : ViewSettings, optional
        Shared by all jobs (``settings.device`` picks the backend).
    workers : int, optional
        Views in flight at once: default 4 on "cuda", 1 on "cpu" (the CPU's cores are
        already used by each view's FFTs and NumPy calls).

    Returns
    -------
    list of SimulatedView
    """
    settings = settings or ViewSettings()
    xp = device_namespace(settings.device)
    workers = workers if workers is not None else (1 if xp is np else 4)
    if not (isinstance(workers, int) and 1 <= workers <= 64):
        raise ParameterError("workers", workers, "an integer in [1, 64]")
    jobs = list(jobs)
    for k, job in enumerate(jobs):
        if not (isinstance(job, tuple) and len(job) == 4):
            raise ParameterError(f"jobs[{k}]", job, "a tuple (phantom, view, fill, rng)")

    def run(job):
        phantom, view, fill, rng = job
        with _worker_stream(xp):
            return simulate_view(phantom, view, fill=fill, settings=settings, rng=rng)

    if workers == 1 or len(jobs) <= 1:
        return [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))
