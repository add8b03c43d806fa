"""Shared exam fixtures: small phantoms (built once) and a patient factory.

Handed out as fixtures (``papilloma_phantom``, ``normal_phantom``, ``make_patient``,
``shipped_rules``) so that test modules need no import from this file.
"""

from __future__ import annotations

import copy

import pytest

from ductogram.anatomy import generate_phantom
from ductogram.exam.screening import load_rules

SMALL = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30}

# A patient with the textbook indication: spontaneous bloody discharge from one duct of the
# left breast, cytology already done (benign), nothing else to note.
BASE_PATIENT = {
    "id": "SYN-0001",
    "age_years": 48,
    "sex": "female",
    "pregnancy": "no",
    "discharge": {
        "spontaneous": True,
        "laterality": "L",
        "ducts": "single",
        "colour": "bloody",
        "present_today": True,
        "squeezed_before_visit": False,
        "cytology": "benign",
    },
}


def build_patient(**changes):
    """The base patient with fields changed; ``discharge`` entries are merged."""
    data = copy.deepcopy(BASE_PATIENT)
    discharge = changes.pop("discharge", {})
    data["discharge"].update(discharge)
    data.update(changes)
    return data


@pytest.fixture(scope="session")
def papilloma_phantom():
    """A small left breast with one papilloma (in system 4 for this seed)."""
    return generate_phantom({**SMALL, "lesions": [{"kind": "papilloma"}]}, seed=3)


@pytest.fixture(scope="session")
def normal_phantom():
    """A small left breast without lesions."""
    return generate_phantom(SMALL, seed=5)


@pytest.fixture(scope="session")
def shipped_rules():
    return load_rules()


@pytest.fixture(scope="session")
def make_patient():
    """Factory: ``make_patient(**changes) -> dict`` (a case file's patient section)."""
    return build_patient
