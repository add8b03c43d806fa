"""X-ray imaging of the ductogram, from phantom and contrast fill to images, truth and dose.

- :mod:`~ductogram.imaging.materials`, :mod:`~ductogram.imaging.spectra`: attenuation from
  xraydb, cached tube spectra (Mo/Mo, Mo/Rh, Rh/Rh, W/Rh, W/Ag, W/Al at 22–39 kVp), HVL,
  air kerma (../shared/reference/simulation.md §3–§4);
- :mod:`~ductogram.imaging.geometry`, :mod:`~ductogram.imaging.projection`,
  :mod:`~ductogram.imaging.scene`: the cone-beam geometry, exact per-ray chords through
  tubes and ellipsoids, and the per-material path lengths and truth of a view;
- :mod:`~ductogram.imaging.texture`, :mod:`~ductogram.imaging.formation` (with detector,
  scatter, noise), :mod:`~ductogram.imaging.exposure`, :mod:`~ductogram.imaging.dose`,
  :mod:`~ductogram.imaging.presentation`: image formation, AEC, dose, display;
- :mod:`~ductogram.imaging.views` (:func:`simulate_view`, :func:`simulate_views` for batches) and
  :mod:`~ductogram.imaging.previews` (:func:`write_views`): one whole view, and its files.
"""

from .geometry import Geometry
from .materials import (
    AttenuationKind,
    Material,
    MaterialName,
    breast_tissue,
    iodine_contrast,
    material,
    mu_over_rho_cm2_g,
    mu_per_cm,
    mu_per_mm,
)
from .scene import Scene, ViewTruth, build_scene
from .spectra import (
    COMBINATIONS,
    KVP_RANGE,
    PADDLE_PMMA_MM,
    Anode,
    Filter,
    Spectrum,
    air_kerma_mgy_per_mas,
    at_distance,
    filtered,
    hvl_mm_al,
    load_spectrum,
    mean_energy_kev,
    mu_en_over_rho_air_cm2_g,
    table_metadata,
)
from .views import SimulatedView, ViewSettings, simulate_view, simulate_views

__all__ = [
    "COMBINATIONS",
    "KVP_RANGE",
    "PADDLE_PMMA_MM",
    "Anode",
    "AttenuationKind",
    "Filter",
    "Geometry",
    "Material",
    "MaterialName",
    "Scene",
    "SimulatedView",
    "Spectrum",
    "ViewSettings",
    "ViewTruth",
    "air_kerma_mgy_per_mas",
    "at_distance",
    "breast_tissue",
    "build_scene",
    "filtered",
    "hvl_mm_al",
    "iodine_contrast",
    "load_spectrum",
    "material",
    "mean_energy_kev",
    "mu_en_over_rho_air_cm2_g",
    "mu_over_rho_cm2_g",
    "mu_per_cm",
    "mu_per_mm",
    "simulate_view",
    "simulate_views",
    "table_metadata",
]
