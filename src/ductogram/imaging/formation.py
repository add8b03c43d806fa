"""Image formation: from per-pixel material paths to a "for processing" detector image.

Input (from the scene): for every detector pixel the path length (mm) of each material
along the ray from the focal spot to the pixel centre, as a mapping ``paths`` of
(rows, cols) arrays keyed by :class:`~ductogram.imaging.materials.MaterialName` values
(``"adipose"``, ``"glandular"``, ``"skin"``, ``"pmma"``, ``"steel"`` ...) plus
``"contrast"`` for the iodinated contrast medium, whose concentration is given apart.
The compression paddle is one of the paths (``"pmma"``); nothing is added here.

Steps (:func:`form_image`), each documented where it lives:

1. **Primary, polyenergetic, energy-integrating** (this module). Per energy bin ``E`` the
   photons reaching a pixel are

       n_E = Φ_E(d₀) (d₀ / r)² cos θ · a · mAs · exp(-Σ_m μ_m(E) L_m)

   with ``Φ_E(d₀)`` the spectrum's fluence per mm² per mAs at its distance ``d₀``
   (1000 mm for the shipped tables), ``r`` the focal spot to pixel distance, ``cos θ =
   SID / r`` the obliquity of the pixel to the ray, ``a`` the pixel area. The detector
   absorbs ``n_E η(E)`` (:func:`~ductogram.imaging.detector.absorption_efficiency`) and
   integrates their energy: the signal is ``g Σ_E n_E η(E) E`` electrons. The sums
   ``Σ n η E`` and ``Σ n η E²`` (for the noise) are two matrix products per block of
   pixels: (bins × materials) · (materials × pixels) → exp → (3 × bins) · (bins × pixels).
   Energy bins: the spectrum's 0.5 keV bins are merged into ``energy_bin_kev`` wide
   bins (fluence-weighted mean energy), never across an absorption edge of a material in
   the picture; bins holding less than 10⁻⁶ of the energy fluence are dropped.
2. **Anti-scatter grid and scatter** (:mod:`~ductogram.imaging.scatter`).
3. **Focal-spot blur** of the primary: a Gaussian focal spot whose FWHM is the nominal
   size projects to a penumbra of FWHM ``spot · (m - 1)`` at the detector, ``m`` the
   magnification of the breast's mid-plane (MC-GPU uses a 300 µm FWHM Gaussian spot,
   simulation.md §1.2). Applied in Fourier space.
4. **Quantum noise** on the mean signal (:mod:`~ductogram.imaging.noise`), then the
   **detector blur** (:func:`~ductogram.imaging.detector.converter_mtf`, Fourier space,
   so the noise is correlated as on a real panel), then **electronic noise**.
5. **Read-out**: digital units (normalised to an 85 µm pixel's area,
   :meth:`~ductogram.imaging.detector.Detector.du_per_electron`), offset removed;
   **flat-field corrected**: divided by the
   geometric fall-off ``(SID / r)³`` of the open field (a real unit's gain calibration
   removes it), unless ``flat_field=False``.

Not modelled: the heel effect, K-fluorescence escape, grid lines, lag and ghosting,
detector saturation, pixel defects. Backends: NumPy or CuPy, taken from ``paths``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..core import ParameterError, as_generator
from ..core.seeding import RNGLike
from ._backend import array_namespace, fft_module, float_dtype
from .detector import Detector, absorption_efficiency, converter_mtf, default_detector
from .geometry import SUPPORT_TO_DETECTOR_MM, Geometry
from .materials import Material, MaterialName, iodine_contrast, material, mu_per_mm
from .noise import add_electronic_noise, add_quantum_noise, quantum_variance_e2
from .scatter import ANTISCATTER_GRID, Grid, kernel_width_mm, scatter_image
from .scatter import scatter_to_primary_ratio as _spr
from .spectra import Spectrum

__all__ = [
    "CONTRAST_KEY",
    "TISSUE_KEYS",
    "FormedImage",
    "energy_bins",
    "form_image",
    "path_materials",
]

#: Key of the iodinated contrast medium in ``paths``.
CONTRAST_KEY = "contrast"

#: Paths that count as breast tissue for the scatter model (the scattering thickness).
TISSUE_KEYS = ("adipose", "glandular", "skin", "water", CONTRAST_KEY)

_DROP_FRACTION = 1e-6
_EDGES = ("K", "L1", "L2", "L3")


@dataclass(frozen=True, eq=False)
class FormedImage:
    """The result of :func:`form_image`.

    All maps are (rows, cols) arrays of the backend of the input paths, in digital units
    (DU) of the detector, offset removed and flat-field corrected (if asked), in the image
    frame of the :class:`~ductogram.imaging.geometry.Geometry`.

    Attributes
    ----------
    for_processing : array
        The image: primary + scatter, blurred, with noise (if asked) (DU).
    primary : array
        Noise-free primary signal after the grid, before any blur (DU).
    scatter : array
        Noise-free scatter signal after the grid (DU); zeros without scatter.
    energies_kev : numpy.ndarray
        The energy bins used (keV).
    mean_energy_kev : float
        Mean energy of the primary photons absorbed under the breast (keV).
    scatter_to_primary : float
        SPR after the grid under the thickest tissue, ``SPR_noGrid(T) · T_s / T_p``.
    thickness_mm : float
        The compressed thickness used for the scatter and blur models (mm).
    mas : float
        Tube current-time product (mAs).
    detector : Detector
    grid : Grid or None
    """

    for_processing: object
    primary: object
    scatter: object
    energies_kev: np.ndarray
    mean_energy_kev: float
    scatter_to_primary: float
    thickness_mm: float
    mas: float
    detector: Detector
    grid: Grid | None


def path_materials(keys: object, *, contrast_mgi_per_ml: float = 300.0) -> dict[str, Material]:
    """The material of each path key: :func:`material` by name, iodinated contrast for
    ``"contrast"`` at ``contrast_mgi_per_ml``.

    Raises
    ------
    ParameterError
        For a key that is neither a :class:`MaterialName` value nor ``"contrast"``.

    Examples
    --------
    >>> sorted(path_materials(["adipose", "contrast"]))
    ['adipose', 'contrast']
    """
    out: dict[str, Material] = {}
    for key in keys:
        if key == CONTRAST_KEY:
            out[key] = iodine_contrast(contrast_mgi_per_ml)
            continue
        try:
            out[key] = material(MaterialName(key))
        except ValueError as exc:
            allowed = ", ".join(m.value for m in MaterialName)
            raise ParameterError(
                f"paths[{key!r}]", key, f"a material name ({allowed}) or 'contrast'"
            ) from exc
    return out


@functools.lru_cache(maxsize=256)
def _element_edges_kev(symbol: str) -> tuple[float, ...]:
    import xraydb

    out = []
    for edge in _EDGES:
        try:
            e = xraydb.xray_edge(symbol, edge)
        except Exception:  # xraydb raises on an edge the element does not have
            continue
        if e is not None and e[0] > 0:
            out.append(float(e[0]) / 1000.0)
    return tuple(out)


def energy_bins(
    spectrum: Spectrum,
    *,
    bin_width_kev: float = 1.0,
    materials: object = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Merge a spectrum's bins into wider ones that never straddle an absorption edge.

    Bins whose centres fall in ``[k w, (k + 1) w)`` are merged, and split where an
    absorption edge (K, L1–L3 from xraydb) of an element of ``materials`` lies between
    their centres; each merged bin takes the summed fluence at the fluence-weighted mean
    energy. Bins holding less than 10⁻⁶ of the energy fluence ``Σ Φ E`` are dropped.

    Parameters
    ----------
    spectrum : Spectrum
        The beam.
    bin_width_kev : float, optional
        Width of the merged bins (keV), >= the spectrum's own (default 1).
    materials : iterable of Material, optional
        Materials whose absorption edges must not be merged across.

    Returns
    -------
    energies_kev, fluence_per_mm2_mas : (J,) numpy.ndarray
        Bin energies (keV) and fluence per bin (photons per mm² per mAs at
        ``spectrum.distance_mm``).

    Raises
    ------
    ParameterError
        For a width smaller than the spectrum's bins.

    Examples
    --------
    >>> from ductogram.imaging.spectra import load_spectrum
    >>> s = load_spectrum("W", "Rh", 35)
    >>> e, phi = energy_bins(s, materials=[iodine_contrast(300.0)])
    >>> bool(np.isclose(phi.sum(), s.total_fluence_per_mm2_mas, rtol=1e-5))
    True
    >>> bool(((e > 33.0) & (e < 33.169)).any())  # nothing merged across iodine's K edge
    False
    """
    w = float(bin_width_kev)
    if not (math.isfinite(w) and w >= spectrum.bin_width_kev - 1e-12):
        raise ParameterError(
            "bin_width_kev", bin_width_kev, f"a width >= the spectrum's {spectrum.bin_width_kev}"
        )
    e = spectrum.energies_kev
    phi = spectrum.fluence_per_mm2_mas
    edges = sorted(
        {
            edge
            for mat in materials
            for symbol, fraction in mat.composition
            if fraction > 1e-4
            for edge in _element_edges_kev(symbol)
            if e[0] < edge < e[-1]
        }
    )
    group = np.floor(e / w + 1e-9).astype(np.int64) * (len(edges) + 1)
    group += np.searchsorted(np.asarray(edges), e, side="right") if edges else 0
    _, index = np.unique(group, return_inverse=True)
    n = int(index.max()) + 1
    fluence = np.bincount(index, weights=phi, minlength=n)
    energy_sum = np.bincount(index, weights=phi * e, minlength=n)
    centres = np.bincount(index, weights=e, minlength=n) / np.bincount(index, minlength=n)
    energies = np.where(fluence > 0, energy_sum / np.where(fluence > 0, fluence, 1.0), centres)
    keep = fluence * energies >= _DROP_FRACTION * float((phi * e).sum())
    return energies[keep], fluence[keep]


def _check_paths(paths: Mapping[str, object], geometry: Geometry):
    if not isinstance(paths, Mapping) or not paths:
        raise ParameterError("paths", type(paths).__name__, "a non-empty mapping of path maps")
    arrays = list(paths.values())
    xp = array_namespace(*arrays)
    expected = (geometry.rows, geometry.cols)
    for key, arr in paths.items():
        shape = getattr(arr, "shape", None)
        if shape != expected:
            raise ParameterError(
                f"paths[{key!r}]", f"array of shape {shape}", f"the detector's shape {expected}"
            )
        if getattr(arr, "dtype", np.dtype(object)).kind not in "fiu":
            raise ParameterError(f"paths[{key!r}]", arr.dtype, "a real (float) array")
        if bool(xp.any(~(arr >= 0))):  # catches NaN as well as negative lengths
            raise ParameterError(f"paths[{key!r}]", "negative or NaN lengths", "lengths >= 0 mm")
    return xp


def _gaussian_transfer(f, sigma_mm: float, xp):
    return xp.exp(-2.0 * math.pi**2 * sigma_mm**2 * f * f)


def _frequencies(shape: tuple[int, int], pixel_mm: float, xp, dtype):
    fy = xp.fft.fftfreq(shape[0], d=pixel_mm).astype(dtype)
    fx = xp.fft.rfftfreq(shape[1], d=pixel_mm).astype(dtype)
    return xp.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)


def _filtered(image, transfer_of_f, pixel_mm: float, xp):
    """``image`` filtered in Fourier space by ``transfer_of_f(f)`` (no padding: the
    kernels here are a few pixels wide; the wrap-around touches a few edge pixels)."""
    fft, kw = fft_module(xp)
    f = _frequencies(image.shape, pixel_mm, xp, image.dtype)
    spectrum = fft.rfft2(image, **kw)
    spectrum *= transfer_of_f(f).astype(image.dtype, copy=False)
    return fft.irfft2(spectrum, s=image.shape, **kw).astype(image.dtype, copy=False)


def form_image(
    paths: Mapping[str, object],
    geometry: Geometry,
    spectrum: Spectrum,
    mas: float,
    *,
    contrast_mgi_per_ml: float = 300.0,
    detector: Detector | None = None,
    grid: Grid | None = ANTISCATTER_GRID,
    thickness_mm: float | None = None,
    scatter: bool = True,
    blur: bool = True,
    noise: bool = True,
    rng: RNGLike = None,
    energy_bin_kev: float = 1.0,
    flat_field: bool = True,
    chunk_pixels: int | None = None,
) -> FormedImage:
    """Form one detector image from material path lengths (module notes for the model).

    Parameters
    ----------
    paths : mapping of str to (rows, cols) array
        Path length (mm) of each material through each pixel's ray; keys are
        :class:`~ductogram.imaging.materials.MaterialName` values or ``"contrast"``.
        NumPy or CuPy; float32 stays float32, anything else is computed in float64.
    geometry : Geometry
        Exposure geometry; its ``rows``/``cols`` are the maps' shape.
    spectrum : Spectrum
        Tube output spectrum (:func:`~ductogram.imaging.spectra.load_spectrum`), without
        the paddle, which is in ``paths``.
    mas : float
        Tube current-time product (mAs), in (0, 1000].
    contrast_mgi_per_ml : float, optional
        Iodine concentration of the ``"contrast"`` paths (mgI/mL); default 300.
    detector : Detector, optional
        Default :func:`~ductogram.imaging.detector.default_detector` ``("a-se")``.
    grid : Grid or None, optional
        Anti-scatter grid; default :data:`~ductogram.imaging.scatter.ANTISCATTER_GRID`.
        Magnification views are taken without one (``None``).
    thickness_mm : float, optional
        Compressed breast thickness (mm) for the scatter and focal-spot models; default
        the longest tissue path in the maps.
    scatter, blur, noise : bool, optional
        Include scatter / focal-spot and detector blur / quantum and electronic noise.
    rng : numpy.random.Generator or int
        Required when ``noise`` is true.
    energy_bin_kev : float, optional
        Width of the energy bins (keV), default 1 (:func:`energy_bins`); 0.5 keeps the
        spectrum's own bins.
    flat_field : bool, optional
        Divide by the open field's geometric fall-off (default true).
    chunk_pixels : int, optional
        Pixels per block of the attenuation products (memory use about
        ``chunk_pixels · bins · 8`` bytes): default 65,536 on the CPU, 16 M on a GPU.

    Returns
    -------
    FormedImage

    Raises
    ------
    ParameterError
        For maps of the wrong shape, negative or NaN lengths, unknown keys, a bad mAs, or
        ``noise`` without ``rng``.

    Examples
    --------
    A uniform 40 mm slab of 50 % breast tissue under a 2 mm paddle:

    >>> from ductogram.imaging.spectra import load_spectrum
    >>> g = Geometry(pixel_mm=0.1, rows=32, cols=32)
    >>> paths = {"adipose": np.full((32, 32), 20.0), "glandular": np.full((32, 32), 20.0),
    ...          "pmma": np.full((32, 32), 2.0)}
    >>> img = form_image(paths, g, load_spectrum("W", "Rh", 28), 60.0, rng=0)
    >>> img.for_processing.shape, 0.1 < img.scatter_to_primary < 0.2
    ((32, 32), True)
    """
    xp = _check_paths(paths, geometry)
    if not (isinstance(mas, int | float) and math.isfinite(mas) and 0.0 < mas <= 1000.0):
        raise ParameterError("mas", mas, "a tube current-time product in (0, 1000] mAs")
    if noise and rng is None:
        raise ParameterError("rng", rng, "a numpy.random.Generator or an int seed (noise=True)")
    det = default_detector("a-se") if detector is None else detector
    if not isinstance(det, Detector):
        raise ParameterError("detector", type(det).__name__, "a Detector")
    if chunk_pixels is None:  # the whole image at once on a GPU: fewer, larger kernels
        chunk_pixels = 1 << 16 if xp is np else 1 << 24
    if not (isinstance(chunk_pixels, int) and chunk_pixels >= 1):
        raise ParameterError("chunk_pixels", chunk_pixels, "a positive number of pixels")
    if thickness_mm is not None and not (
        isinstance(thickness_mm, int | float)
        and math.isfinite(thickness_mm)
        and 0.0 <= thickness_mm <= 150.0
    ):
        raise ParameterError("thickness_mm", thickness_mm, "a compressed thickness in [0, 150] mm")
    dtype = float_dtype(*paths.values())
    ftype = dtype.type
    rows, cols = geometry.rows, geometry.cols
    pixel_mm = geometry.pixel_mm
    sid = geometry.source_to_image_mm

    # --- per-bin tables (host), then on the device -------------------------------------
    keys = list(paths)
    mats = path_materials(keys, contrast_mgi_per_ml=contrast_mgi_per_ml)
    energies, fluence = energy_bins(
        spectrum, bin_width_kev=energy_bin_kev, materials=list(mats.values())
    )
    mu = np.stack([mu_per_mm(mats[k], energies) for k in keys])  # (M, J), 1/mm
    eta = absorption_efficiency(det, energies)
    area = pixel_mm * pixel_mm
    photons = fluence * (spectrum.distance_mm / sid) ** 2 * area * float(mas) * eta
    weights = np.stack([photons, photons * energies, photons * energies**2], axis=1)  # (J, 3)
    neg_mu_t = xp.asarray(-mu.T, dtype=dtype)  # (J, M)
    weights_t = xp.asarray(weights.T, dtype=dtype)  # (3, J)
    tissue_idx = [i for i, k in enumerate(keys) if k in TISSUE_KEYS]

    # --- primary: Σ n η E^k, k = 0, 1, 2, block by block ------------------------------
    s0 = xp.empty((rows, cols), dtype=dtype)
    s1 = xp.empty((rows, cols), dtype=dtype)
    s2 = xp.empty((rows, cols), dtype=dtype)
    tissue = xp.zeros((rows, cols), dtype=dtype)
    # Open-field fall-off relative to the central ray, (d0/r)² cos θ ∝ (SID / r)³.
    x_mm = (xp.arange(rows, dtype=dtype) + ftype(0.5)) * ftype(pixel_mm)
    y_mm = (xp.arange(cols, dtype=dtype) + ftype(0.5) - ftype(0.5 * cols)) * ftype(pixel_mm)
    fall_off = x_mm[:, None] ** 2 + y_mm[None, :] ** 2
    fall_off += ftype(sid * sid)
    xp.reciprocal(fall_off, out=fall_off)
    fall_off *= ftype(sid * sid)
    fall_off **= ftype(1.5)
    step = max(1, chunk_pixels // cols)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        n = (r1 - r0) * cols
        lengths = xp.stack([xp.asarray(paths[k][r0:r1], dtype=dtype).reshape(n) for k in keys])
        att = neg_mu_t @ lengths  # -Σ_m μ_m(E) L_m, (J, n)
        xp.exp(att, out=att)
        moments = weights_t @ att  # (3, n)
        fall = fall_off[r0:r1]
        s0[r0:r1] = moments[0].reshape(r1 - r0, cols) * fall
        s1[r0:r1] = moments[1].reshape(r1 - r0, cols) * fall
        s2[r0:r1] = moments[2].reshape(r1 - r0, cols) * fall
        if tissue_idx:
            tissue[r0:r1] = lengths[tissue_idx].sum(axis=0).reshape(r1 - r0, cols)
    del att, moments, lengths

    # --- thickness and the detected primary's mean energy ------------------------------
    t_max = float(tissue.max()) if tissue_idx else 0.0
    t_c = t_max if thickness_mm is None else float(thickness_mm)
    core = tissue > ftype(0.5 * t_max) if t_max > 0 else xp.ones((rows, cols), dtype=bool)
    n_core = float(s0[core].sum())
    mean_energy = float(s1[core].sum()) / n_core if n_core > 0 else float(energies.mean())
    del s0, core

    tp = 1.0 if grid is None else grid.primary_transmission
    ts = 1.0 if grid is None else grid.scatter_transmission
    z_mid = geometry.lift_mm + 0.5 * t_c
    contact = geometry.lift_mm <= SUPPORT_TO_DETECTOR_MM + 1.0
    du_per_e = det.du_per_electron(pixel_mm)
    gain_du = det.electrons_per_kev * du_per_e  # DU per keV absorbed

    # --- scatter (signal of the energy-integrated primary, before the grid) ------------
    spr_no_grid = 0.0
    if t_c > 0:
        spr_no_grid = float(
            _spr(
                t_c,
                mean_energy_kev=min(max(mean_energy, 10.0), 40.0),
                mid_to_detector_mm=None if contact else z_mid,
                support_to_detector_mm=SUPPORT_TO_DETECTOR_MM,
            )
        )
    if scatter and spr_no_grid > 0 and tissue_idx:
        source = tissue
        del tissue
        source *= ftype(spr_no_grid / t_c)
        source *= s1
        scat1 = scatter_image(source, pixel_mm, kernel_width_mm(z_mid))
        del source
        scat1 *= ftype(ts)
        # Scattered photons carry the local primary's spectrum: same Σ E² / Σ E.
        scat2 = s2 / xp.where(s1 > 0, s1, ftype(1))
        scat2 *= scat1
    else:
        del tissue
        scat1 = xp.zeros((rows, cols), dtype=dtype)
        scat2 = None
    s1 *= ftype(tp)
    s2 *= ftype(tp)

    # --- focal-spot blur of the primary ------------------------------------------------
    primary_blurred = s1
    if blur:
        magnification = sid / (sid - z_mid)
        sigma_mm = (
            geometry.focal_spot_mm * (magnification - 1.0) / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        )
        if sigma_mm > 0.02 * pixel_mm:
            primary_blurred = _filtered(
                s1, lambda f: _gaussian_transfer(f, sigma_mm, xp), pixel_mm, xp
            )

    # --- electrons, quantum noise, detector blur, electronic noise ---------------------
    signal = primary_blurred + scat1
    signal *= ftype(det.electrons_per_kev)
    gen = as_generator(rng) if noise else None
    if noise:
        variance = s2 if scat2 is None else s2 + scat2
        variance = quantum_variance_e2(
            variance, electrons_per_kev=det.electrons_per_kev, swank_factor=det.swank_factor
        )
        signal = add_quantum_noise(signal, variance, rng=gen)
        del variance
    del s2, scat2
    if blur:
        signal = _filtered(signal, lambda f: converter_mtf(det, f), pixel_mm, xp)
    if noise:
        add_electronic_noise(signal, det.electronic_noise_e, rng=gen)

    # --- read-out: DU, offset removed, flat field ----------------------------------------
    signal *= ftype(du_per_e)
    primary = s1
    primary *= ftype(gain_du)
    scat1 *= ftype(gain_du)
    if flat_field:
        signal /= fall_off
        primary /= fall_off
        scat1 /= fall_off
    return FormedImage(
        for_processing=signal,
        primary=primary,
        scatter=scat1,
        energies_kev=energies,
        mean_energy_kev=mean_energy,
        scatter_to_primary=spr_no_grid * ts / tp if scatter else 0.0,
        thickness_mm=t_c,
        mas=float(mas),
        detector=det,
        grid=grid,
    )
