"""Iodinated contrast agents for ductography, and the volumes that may be injected.

Ductography uses a water-soluble iodinated agent (clinical.md §1.4, Fischer); the usual
iodine concentration or dilution was not found in our sources [gap]. The table below holds
non-ionic agents of 300-370 mgI/mL in common use. Concentrations are the products' names;
osmolalities (mOsm/kg water, 37 °C) are the manufacturers' label values, quoted from
general knowledge [unverified]:

===============  ===============  ==========  ===========  ================
agent            product          mgI/mL      mOsm/kg      osmolality class
===============  ===============  ==========  ===========  ================
iohexol-300      Omnipaque 300    300         672          low
iohexol-350      Omnipaque 350    350         844          low
iopamidol-300    Isovue-300       300         616          low
iopamidol-370    Isovue-370       370         796          low
iodixanol-320    Visipaque 320    320         290          iso
ioversol-320     Optiray 320      320         702          low
===============  ===============  ==========  ===========  ================

Volumes (clinical.md §1.4): 0.3-0.5 mL injected slowly over at least 1 min
(theradiologyblog), about 1 mL (medicalsphotos), 1-2 mL (Radiopaedia); default 1 mL.
Issue 3 allows (0, 5] mL.
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ..core import ParameterError
from .filling import MAX_VOLUME_ML

__all__ = [
    "AGENTS",
    "DEFAULT_AGENT",
    "DEFAULT_VOLUME_ML",
    "MAX_VOLUME_ML",
    "TYPICAL_VOLUME_ML",
    "ContrastAgent",
    "OsmolalityClass",
    "check_volume_ml",
    "get_agent",
]

DEFAULT_AGENT = "iohexol-300"
DEFAULT_VOLUME_ML = 1.0
TYPICAL_VOLUME_ML = (0.3, 2.0)


class OsmolalityClass(StrEnum):
    """Osmolality of a contrast agent relative to blood (about 290 mOsm/kg)."""

    HIGH = "high"
    LOW = "low"
    ISO = "iso"


class ContrastAgent(BaseModel):
    """One iodinated contrast agent (see the module table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="generic name and concentration, e.g. iohexol-300")
    generic_name: str
    product: str = Field(description="a product of this concentration")
    concentration_mgi_per_ml: float = Field(gt=0.0, description="iodine (mgI/mL)")
    osmolality_mosm_per_kg: float = Field(gt=0.0, description="label value [unverified]")
    osmolality_class: OsmolalityClass
    ionic: bool = False


def _agent(generic: str, product: str, mgi: float, mosm: float, cls: str) -> ContrastAgent:
    return ContrastAgent(
        id=f"{generic}-{mgi:g}",
        generic_name=generic,
        product=product,
        concentration_mgi_per_ml=mgi,
        osmolality_mosm_per_kg=mosm,
        osmolality_class=OsmolalityClass(cls),
    )


AGENTS: dict[str, ContrastAgent] = {
    a.id: a
    for a in (
        _agent("iohexol", "Omnipaque 300", 300, 672, "low"),
        _agent("iohexol", "Omnipaque 350", 350, 844, "low"),
        _agent("iopamidol", "Isovue-300", 300, 616, "low"),
        _agent("iopamidol", "Isovue-370", 370, 796, "low"),
        _agent("iodixanol", "Visipaque 320", 320, 290, "iso"),
        _agent("ioversol", "Optiray 320", 320, 702, "low"),
    )
}


def _key(name: str) -> str:
    return "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


_ALIASES = {_key(a.product): a.id for a in AGENTS.values()} | {_key(k): k for k in AGENTS}


def get_agent(name: str | ContrastAgent, *, field: str = "agent") -> ContrastAgent:
    """Look up a contrast agent by id or product name.

    Parameters
    ----------
    name : str or ContrastAgent
        ``"iohexol-300"``, ``"iohexol 300"``, ``"Omnipaque 300"`` (case, spaces, hyphens and
        underscores do not matter), or an agent (returned unchanged).
    field : str
        Name of the parameter for the error message.

    Raises
    ------
    ParameterError
        For an unknown agent; the message lists the known ones.

    Examples
    --------
    >>> get_agent("Omnipaque 300").concentration_mgi_per_ml
    300.0
    >>> get_agent("iohexol 240")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ductogram.core.errors.ParameterError: agent = 'iohexol 240': expected a known contrast ...
    """
    if isinstance(name, ContrastAgent):
        return name
    key = _ALIASES.get(_key(name)) if isinstance(name, str) else None
    if key is None:
        known = ", ".join(AGENTS)
        raise ParameterError(field, name, f"a known contrast agent (one of: {known})")
    return AGENTS[key]


def check_volume_ml(volume_ml: float, *, field: str = "volume_ml") -> float:
    """Check a contrast volume: in (0, :data:`MAX_VOLUME_ML`] mL.

    Raises
    ------
    ParameterError
        If the volume is not a finite number in (0, 5] mL.

    Examples
    --------
    >>> check_volume_ml(6)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ductogram.core.errors.ParameterError: volume_ml = 6: expected a volume in (0, 5] mL ...
    """
    ok = isinstance(volume_ml, int | float) and not isinstance(volume_ml, bool)
    if not ok or not math.isfinite(volume_ml) or not 0.0 < volume_ml <= MAX_VOLUME_ML:
        lo, hi = TYPICAL_VOLUME_ML
        raise ParameterError(
            field, volume_ml, f"a volume in (0, {MAX_VOLUME_ML:g}] mL (typically {lo:g}-{hi:g} mL)"
        )
    return float(volume_ml)
