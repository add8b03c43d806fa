"""Simulated ductogram views shared by the analysis tests.

``ductogram.analysis`` never imports the simulator; its tests may, to get images with
truth. The views are small (0.2 mm pixels, one ray per pixel: about 1 s each).
"""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.anatomy import generate_phantom
from ductogram.exam.filling import fill_ducts
from ductogram.imaging.views import ViewSettings, simulate_view

#: Phantom of the shared views (a small breast, 10 lobes).
PHANTOM = {
    "lobes": 10,
    "orifices": 5,
    "tdlus_per_lobe": 30,
    "volume_ml": 350,
    "compressed_thickness_mm": 45,
}


@pytest.fixture(scope="session")
def phantom_parameters():
    """The parameters of the shared views' small phantom (:data:`PHANTOM`), for tests that
    make their own views of it."""
    return dict(PHANTOM)


@pytest.fixture(scope="session")
def ductogram_views():
    """CC and ML views of a left (seed 3) and a right (seed 4) breast, 0.5 ml of contrast
    in the first duct system, 0.2 mm pixels: ``{(laterality, view): SimulatedView}``."""
    views = {}
    for laterality, seed in (("L", 3), ("R", 4)):
        phantom = generate_phantom({**PHANTOM, "laterality": laterality}, seed=seed)
        fill = fill_ducts(phantom.trees[0], 0.5, rng=seed)
        settings = ViewSettings(pixel_mm=0.2, supersample=1)
        for view in ("CC", "ML"):
            views[laterality, view] = simulate_view(
                phantom, view, fill=fill, settings=settings, rng=seed
            )
    return views


def _cannula_tip(simulated_view) -> np.ndarray:
    steel = np.asarray(simulated_view.scene.paths["cannula"]) > 1e-3
    rows = np.flatnonzero(steel.any(axis=1))
    first = rows[0]
    cols = np.flatnonzero(steel[first])
    return np.array([float(first), float(cols.mean())])


@pytest.fixture(scope="session")
def cannula_tip_truth():
    """A function: the cannula's tip (row, col) in a simulated view, the end of the steel's
    projection nearest the chest wall (row 0 in the image frame)."""
    return _cannula_tip


@pytest.fixture(scope="session")
def lesion_views():
    """CC and ML views of a left (seed 3) and a right (seed 24) breast with two papillomas
    and a cyst in the filled system (0.2 mm pixels): ``{laterality: (phantom, {view:
    SimulatedView})}``."""
    out = {}
    lesions = [{"kind": "papilloma", "system": 0}] * 2 + [{"kind": "cyst", "system": 0}]
    for laterality, seed in (("L", 3), ("R", 24)):
        phantom = generate_phantom(
            {**PHANTOM, "laterality": laterality, "lesions": lesions}, seed=seed
        )
        fill = fill_ducts(phantom.trees[0], 0.5, rng=seed)
        settings = ViewSettings(pixel_mm=0.2, supersample=1)
        out[laterality] = (
            phantom,
            {
                v: simulate_view(phantom, v, fill=fill, settings=settings, rng=seed)
                for v in ("CC", "ML")
            },
        )
    return out
