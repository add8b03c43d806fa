"""X-ray imaging of the ductogram: materials and their attenuation, tube spectra.

This first layer holds the physics data (../shared/reference/simulation.md §3–§4):

- :mod:`~ductogram.imaging.materials`: :class:`Material`, the named materials of the exam,
  iodinated contrast, glandular/adipose mixtures, and μ/ρ and μ from xraydb;
- :mod:`~ductogram.imaging.spectra`: :class:`Spectrum`, the cached SpekPy tube spectra
  (Mo/Mo, Mo/Rh, Rh/Rh, W/Rh, W/Ag, W/Al at 22–39 kVp), filtering, HVL, mean energy and
  air kerma.

Both are host (NumPy) data: a spectrum has at most 76 energy bins. Image formation moves
the per-bin arrays it needs to the GPU itself.
"""

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

__all__ = [
    "COMBINATIONS",
    "KVP_RANGE",
    "PADDLE_PMMA_MM",
    "Anode",
    "AttenuationKind",
    "Filter",
    "Material",
    "MaterialName",
    "Spectrum",
    "air_kerma_mgy_per_mas",
    "at_distance",
    "breast_tissue",
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
    "table_metadata",
]
