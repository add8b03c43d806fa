"""A small simulated two-view exam shared by the DICOM writing and reading tests."""

from __future__ import annotations

import pytest

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.views import ViewSettings, simulate_view


@pytest.fixture(scope="session")
def simulated_views():
    """CC and ML views (0.2 mm pixels) of a small contrast-filled phantom, by view name."""
    ph = generate_phantom(
        {
            "lobes": 10,
            "orifices": 5,
            "tdlus_per_lobe": 30,
            "volume_ml": 350,
            "compressed_thickness_mm": 45,
        },
        seed=3,
    )
    fill = fill_ducts(ph.trees[0], 0.5, rng=3)
    settings = ViewSettings(pixel_mm=0.2, supersample=1)
    return {v: simulate_view(ph, v, fill=fill, settings=settings, rng=1) for v in ("CC", "ML")}
