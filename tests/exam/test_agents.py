"""Contrast agents and injected volumes."""

from __future__ import annotations

import math

import pytest

from ductogram.core import ParameterError
from ductogram.exam.agents import (
    AGENTS,
    DEFAULT_AGENT,
    DEFAULT_VOLUME_ML,
    OsmolalityClass,
    check_volume_ml,
    get_agent,
)


@pytest.mark.parametrize(
    ("agent_id", "mgi", "osmolality"),
    [
        ("iohexol-300", 300, "low"),
        ("iohexol-350", 350, "low"),
        ("iopamidol-300", 300, "low"),
        ("iopamidol-370", 370, "low"),
        ("iodixanol-320", 320, "iso"),
        ("ioversol-320", 320, "low"),
    ],
)
def test_table(agent_id, mgi, osmolality):
    agent = get_agent(agent_id)
    assert agent.id == agent_id
    assert agent.concentration_mgi_per_ml == mgi
    assert agent.osmolality_class == OsmolalityClass(osmolality)
    assert not agent.ionic
    # The concentration is the number in the name.
    assert agent_id.endswith(f"-{mgi}")


def test_iso_osmolar_is_near_blood():
    """Iodixanol is iso-osmolar (about 290 mOsm/kg); the others are above it."""
    for agent in AGENTS.values():
        if agent.osmolality_class == OsmolalityClass.ISO:
            assert math.isclose(agent.osmolality_mosm_per_kg, 290, rel_tol=0.05)
        else:
            assert agent.osmolality_mosm_per_kg > 500


@pytest.mark.parametrize(
    "name", ["iohexol-300", "Iohexol 300", "IOHEXOL_300", " iohexol  300 ", "Omnipaque 300"]
)
def test_names_are_normalised(name):
    assert get_agent(name).id == "iohexol-300"


def test_defaults():
    assert DEFAULT_AGENT == "iohexol-300"
    assert DEFAULT_VOLUME_ML == 1.0


@pytest.mark.parametrize("name", ["gadobutrol", "iohexol 240", "", 300])
def test_unknown_agent_lists_the_known_ones(name):
    known = ", ".join(AGENTS)
    with pytest.raises(ParameterError) as info:
        get_agent(name)
    assert str(info.value) == f"agent = {name!r}: expected a known contrast agent (one of: {known})"


@pytest.mark.parametrize("volume", [0.3, 1, 2.0, 5.0])
def test_volume_in_range(volume):
    assert check_volume_ml(volume) == float(volume)


@pytest.mark.parametrize("volume", [6, 5.01, 0, -1, float("nan"), float("inf"), True, "1"])
def test_volume_out_of_range(volume):
    with pytest.raises(ParameterError, match=r"^volume_ml = .*: expected a volume in \(0, 5\] mL"):
        check_volume_ml(volume)
