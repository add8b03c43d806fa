"""Phantom parameters: what a case file (YAML or JSON) or the command line may set.

Every field is optional: a missing one is drawn from its published distribution when the
phantom is generated (see :func:`ductogram.anatomy.phantom.resolve`), and the values
actually used are written back with the phantom, so a phantom can be regenerated exactly.

Defaults and ranges (../shared/reference/clinical.md §3 and §7):

================================  =======================================  ===========
field                             default draw                             allowed
================================  =======================================  ===========
volume_ml                         lognormal, median 600 mL, in 200–1500     [150, 2500]
glandular_fraction                lognormal fitted to Yaffe 2009 (mean      [0.01, 0.95]
                                  19.3 %, 80 % < 27 %, 95 % < 45 %),
                                  in 5–45 %
compressed_thickness_mm           normal 59 ± 16 mm (Yaffe 2009), in        [10, 150]
                                  25 mm – 85 % of the breast's height
lobes                             uniform 10–16 (Moffat & Going; Ohtake)    [1, 24]
orifices                          uniform 5–9 (Love & Barsky 2004)          [1, lobes]
main_duct_diameter_mm             normal 1.5 ± 0.25 mm, in 1.0–2.0 mm       [0.5, 3.0]
                                  (Ramsay 2005; clinical.md §7 #3)
first_branch_mm                   lognormal, mean 8.0, SD 5.5 mm, in 2–30   [1, 40]
                                  (Ramsay 2005)
tdlus_per_lobe                    180 (≈ 360 branches a lobe; VICTRE's       [10, 1000]
                                  trees have ≤ 400, Going & Mohun 440)
================================  =======================================  ===========
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..core import Laterality, ParameterError
from .lesions import LesionKind


class LesionSpec(BaseModel):
    """One lesion to attach. Unset fields are drawn (see :mod:`.lesions`)."""

    model_config = ConfigDict(extra="forbid")

    kind: LesionKind
    system: int | None = Field(
        None, ge=0, description="orifice (duct system) index; default: one drawn at random"
    )
    segment: int | None = Field(
        None, ge=1, description="node index of the duct segment in that system"
    )
    size_mm: float | None = Field(None, gt=0.0, le=60.0, description="size or extent (mm)")
    count: int | None = Field(None, ge=2, le=10, description="multiple papillomas: how many")
    obstructs: bool | None = Field(None, description="whether it blocks the flow of contrast")
    extent: Literal["segmental", "diffuse"] | None = Field(None, description="ectasia only")


class PhantomParameters(BaseModel):
    """Parameters of a breast phantom (see the module docstring for defaults and ranges)."""

    model_config = ConfigDict(extra="forbid")

    laterality: Laterality = Laterality.L
    volume_ml: float | None = Field(None, ge=150.0, le=2500.0)
    glandular_fraction: float | None = Field(None, ge=0.01, le=0.95)
    compressed_thickness_mm: float | None = Field(None, ge=10.0, le=150.0)
    lobes: int | None = Field(None, ge=1, le=24)
    orifices: int | None = Field(None, ge=1, le=24)
    main_duct_diameter_mm: float | None = Field(None, ge=0.5, le=3.0)
    first_branch_mm: float | None = Field(None, ge=1.0, le=40.0)
    tdlus_per_lobe: int = Field(180, ge=10, le=1000)
    height_to_width: float | None = Field(None, ge=0.5, le=1.4)
    depth_to_width: float | None = Field(None, ge=0.5, le=1.8)
    ptosis_fraction: float | None = Field(None, ge=0.0, le=0.5)
    lesions: list[LesionSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _orifices_fit_lobes(self) -> PhantomParameters:
        if self.orifices is not None and self.lobes is not None and self.orifices > self.lobes:
            raise ValueError(
                f"an integer in [1, lobes = {self.lobes}] (each orifice drains at least one lobe)"
            )
        return self

    @classmethod
    def parse(cls, data: Any, *, source: str = "parameters") -> PhantomParameters:
        """Validate a mapping (from a case file or flags) into parameters.

        Raises
        ------
        ParameterError
            Naming the first bad field, its value and what is allowed.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise parameter_error(exc, cls, source) from exc


def _allowed(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """The allowed range of the field at ``loc``, from its constraints."""
    target: Any = model
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(target, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        ann = info.annotation
        args = getattr(ann, "__args__", ())
        nested = [a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        target = nested[0] if nested else None
    if info is None:
        return None
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    if low is not None and high is not None:
        return f"a value in [{low:g}, {high:g}]"
    return None


def parameter_error(exc: ValidationError, model: type[BaseModel], source: str) -> ParameterError:
    """One clear :class:`ParameterError` from a pydantic error (the first problem found)."""
    err = exc.errors()[0]
    loc = tuple(err.get("loc", ()))
    field = ".".join(str(p) for p in loc) or source
    msg = err.get("msg", "invalid value")
    if err.get("type") == "extra_forbidden":
        known = ", ".join(model.model_fields)
        return ParameterError(field, err.get("input"), f"a known field (one of: {known})")
    if err.get("type") == "value_error" and not loc:  # the cross-field check
        value = err.get("input", {}).get("orifices") if isinstance(err.get("input"), dict) else None
        return ParameterError("orifices", value, msg.removeprefix("Value error, "))
    allowed = _allowed(model, loc)
    expected = f"{allowed} ({msg})" if allowed else msg
    return ParameterError(field, err.get("input"), expected)
