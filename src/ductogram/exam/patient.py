"""The patient record: history, nipple discharge, and what is true on the day of the exam.

Every field is what the screening rules read (:mod:`ductogram.exam.screening`). Records
are synthetic: ``id`` is a made-up identifier, never a name or a medical record number.

Consistency rule (documented choice): pregnancy status ``yes`` or ``possible`` is refused
for a patient recorded as unable to be pregnant, that is one with ``sex = male`` or with
an explicit ``can_be_pregnant = false``. Age alone never decides it (there is no age at
which a record may be assumed wrong), so an explicit ``can_be_pregnant`` is the way to
record, say, a post-menopausal patient.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core import ParameterError
from ._validation import validate_model

__all__ = [
    "Cytology",
    "Discharge",
    "DischargeColour",
    "DischargeSide",
    "DuctCount",
    "Patient",
    "PregnancyStatus",
    "Sex",
]


class Sex(StrEnum):
    """Sex recorded for the patient."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class PregnancyStatus(StrEnum):
    """Pregnancy status as asked at check-in (clinical.md §1.3)."""

    NO = "no"
    POSSIBLE = "possible"
    YES = "yes"
    UNKNOWN = "unknown"


class DischargeSide(StrEnum):
    """Which breast discharges."""

    L = "L"
    R = "R"
    BILATERAL = "bilateral"


class DuctCount(StrEnum):
    """From how many duct orifices (pores) the discharge comes."""

    SINGLE = "single"
    MULTIPLE = "multiple"


class DischargeColour(StrEnum):
    """Colour or kind of the discharge (clinical.md §1.2, §1.3).

    Bloody, serous and clear discharge from one duct is the pathologic pattern; milky,
    yellow, green, black or grey discharge is the physiologic one; purulent discharge
    (pus) is a contraindication.
    """

    BLOODY = "bloody"
    SEROUS = "serous"
    CLEAR = "clear"
    MILKY = "milky"
    GREEN = "green"
    YELLOW = "yellow"
    BLACK = "black"
    GREY = "grey"
    PURULENT = "purulent"


class Cytology(StrEnum):
    """Result of discharge cytology, if any (clinical.md §1.2, §1.4)."""

    NOT_DONE = "not_done"
    BENIGN = "benign"
    ATYPICAL = "atypical"
    MALIGNANT = "malignant"


class Discharge(BaseModel):
    """The nipple-discharge history, and whether the discharge is there on the day."""

    model_config = ConfigDict(extra="forbid")

    spontaneous: bool = Field(
        description="true: comes on its own; false: only when the nipple is squeezed"
    )
    laterality: DischargeSide = Field(description="L, R or bilateral")
    ducts: DuctCount = Field(description="single or multiple duct orifices")
    colour: DischargeColour
    present_today: bool = Field(
        True, description="whether discharge can be expressed on the day of the exam"
    )
    squeezed_before_visit: bool = Field(
        False, description="the patient squeezed the nipple before coming in"
    )
    cytology: Cytology = Field(Cytology.NOT_DONE, description="discharge cytology result")


class Patient(BaseModel):
    """A (synthetic) patient referred for ductography.

    Parameters
    ----------
    id : str
        Synthetic identifier: letters, digits, ``.``, ``_`` or ``-``, 1-64 characters.
    age_years : float
        Age in years, in [0, 120].
    sex : Sex
    can_be_pregnant : bool or None
        Explicit answer; None (default) leaves it to ``sex``.
    pregnancy : PregnancyStatus
        ``no``, ``possible``, ``yes`` or ``unknown`` (a YAML boolean reads as yes/no);
        ``yes``/``possible`` is refused when ``sex = male`` or ``can_be_pregnant = false``.
    lactating, contrast_allergy, mastitis_or_abscess : bool
        History (allergy: to iodinated contrast).
    recent_mammogram : bool
        A recent mammogram of the same side is available (clinical.md §1.4, Fischer).
    discharge : Discharge
    deodorant_or_powder, jewellery_or_metal : bool
        Worn on the day of the exam.
    consents : bool
        The patient's answer when consent is asked (see :mod:`ductogram.exam.consent`).

    Examples
    --------
    >>> p = Patient.parse({"id": "SYN-0001", "age_years": 52, "discharge": {
    ...     "spontaneous": True, "laterality": "L", "ducts": "single", "colour": "bloody"}})
    >>> p.discharge.colour.value, p.pregnancy.value
    ('bloody', 'no')
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="synthetic identifier (never a real name or record number)",
    )
    age_years: float = Field(ge=0.0, le=120.0, description="age (years)")
    sex: Sex = Sex.FEMALE
    can_be_pregnant: bool | None = Field(
        None, description="explicit answer; null: decided by sex (male: no)"
    )
    pregnancy: PregnancyStatus = PregnancyStatus.NO
    lactating: bool = False
    contrast_allergy: bool = Field(False, description="known allergy to iodinated contrast")
    mastitis_or_abscess: bool = Field(False, description="acute mastitis or breast abscess")
    recent_mammogram: bool = Field(
        True, description="a recent mammogram of the same side is available"
    )
    discharge: Discharge
    deodorant_or_powder: bool = Field(False, description="on the day of the exam")
    jewellery_or_metal: bool = Field(False, description="on the day of the exam")
    consents: bool = Field(True, description="the patient's answer when consent is asked")

    @field_validator("pregnancy", mode="before")
    @classmethod
    def _yaml_yes_no(cls, value: Any) -> Any:
        # YAML 1.1 reads a bare `pregnancy: yes` or `no` as a boolean.
        if isinstance(value, bool):
            return PregnancyStatus.YES if value else PregnancyStatus.NO
        return value

    @model_validator(mode="after")
    def _pregnancy_possible(self) -> Patient:
        if self.pregnancy in (PregnancyStatus.YES, PregnancyStatus.POSSIBLE):
            if self.sex == Sex.MALE:
                raise ParameterError(
                    "pregnancy",
                    self.pregnancy.value,
                    "'no' or 'unknown' for a patient recorded as sex = male",
                )
            if self.can_be_pregnant is False:
                raise ParameterError(
                    "pregnancy",
                    self.pregnancy.value,
                    "'no' or 'unknown' for a patient recorded as can_be_pregnant = false",
                )
        return self

    @property
    def may_be_pregnant(self) -> bool:
        """Whether pregnancy cannot be ruled out from the record."""
        if self.pregnancy == PregnancyStatus.NO:
            return False
        return self.sex != Sex.MALE and self.can_be_pregnant is not False

    @classmethod
    def parse(cls, data: Any, *, prefix: str = "") -> Patient:
        """Validate a mapping (a case file's ``patient`` section).

        Parameters
        ----------
        data : mapping or Patient
        prefix : str, optional
            Section name put before field names in errors (``"patient"``).

        Raises
        ------
        ParameterError
            Naming the first bad field, its value and what is allowed.

        Examples
        --------
        >>> Patient.parse({"id": "A", "age_years": -1, "discharge": {}}, prefix="patient")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ductogram.core.errors.ParameterError: patient.age_years = -1: expected a value in ...
        """
        return validate_model(cls, data, prefix=prefix)
