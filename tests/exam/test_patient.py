"""The patient record: valid records, defaults, and the errors that name the field."""

from __future__ import annotations

import pytest
import yaml

from ductogram.core import ParameterError
from ductogram.exam.patient import DischargeColour, Patient, PregnancyStatus, Sex


def test_defaults(make_patient):
    p = Patient.parse(make_patient())
    assert p.sex == Sex.FEMALE
    assert p.pregnancy == PregnancyStatus.NO
    assert not p.lactating and not p.contrast_allergy and not p.mastitis_or_abscess
    assert p.recent_mammogram and p.consents
    assert p.discharge.colour == DischargeColour.BLOODY
    assert not p.may_be_pregnant


def test_strings_become_enums(make_patient):
    p = Patient.parse(make_patient(sex="other", pregnancy="possible"))
    assert p.sex is Sex.OTHER
    assert p.pregnancy is PregnancyStatus.POSSIBLE
    assert p.may_be_pregnant


@pytest.mark.parametrize(("text", "status"), [("yes", "yes"), ("no", "no"), ('"yes"', "yes")])
def test_yaml_yes_no_reads_as_pregnancy_status(make_patient, text, status):
    """A bare `pregnancy: yes` is a YAML boolean; it is read as the status it spells."""
    data = make_patient()
    data["pregnancy"] = yaml.safe_load(f"v: {text}")["v"]
    assert Patient.parse(data).pregnancy.value == status


def test_explicit_can_be_pregnant_false_allows_no_and_unknown(make_patient):
    for status in ("no", "unknown"):
        p = Patient.parse(make_patient(can_be_pregnant=False, pregnancy=status, age_years=70))
        assert not p.may_be_pregnant


def test_round_trip_json(make_patient):
    p = Patient.parse(make_patient(deodorant_or_powder=True))
    assert Patient.model_validate_json(p.model_dump_json()) == p


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"age_years": -1}, r"^patient\.age_years = -1: expected a value in \[0, 120\] years$"),
        ({"age_years": 130}, r"^patient\.age_years = 130: expected a value in \[0, 120\] years"),
        (
            {"sex": "male", "pregnancy": "yes"},
            r"^patient\.pregnancy = 'yes': expected 'no' or 'unknown' for a patient "
            r"recorded as sex = male$",
        ),
        (
            {"sex": "male", "pregnancy": "possible"},
            r"^patient\.pregnancy = 'possible': expected .* sex = male",
        ),
        (
            {"can_be_pregnant": False, "pregnancy": "yes"},
            r"^patient\.pregnancy = 'yes': expected .* can_be_pregnant = false$",
        ),
        ({"sex": "robot"}, r"^patient\.sex = 'robot': expected one of 'female', 'male'"),
        ({"pregnancy": "maybe"}, r"^patient\.pregnancy = 'maybe': expected one of 'no'"),
        (
            {"discharge": {"colour": "pink"}},
            r"^patient\.discharge\.colour = 'pink': expected one of 'bloody', 'serous'",
        ),
        (
            {"discharge": {"laterality": "left"}},
            r"^patient\.discharge\.laterality = 'left': expected one of 'L', 'R' or 'bilateral'",
        ),
        (
            {"discharge": {"colr": "bloody"}},
            r"^patient\.discharge\.colr = 'bloody': expected a known field \(one of: "
            r"spontaneous, laterality, ducts, colour,",
        ),
        ({"weight_kg": 60}, r"^patient\.weight_kg = 60: expected a known field \(one of: id,"),
        ({"id": "Jane Doe"}, r"^patient\.id = 'Jane Doe': expected a string matching"),
    ],
    ids=[
        "negative-age",
        "age-over-120",
        "pregnant-male",
        "possibly-pregnant-male",
        "cannot-be-pregnant",
        "unknown-sex",
        "unknown-pregnancy",
        "unknown-colour",
        "bad-laterality",
        "unknown-discharge-field",
        "unknown-field",
        "name-like-id",
    ],
)
def test_bad_records_name_the_field(make_patient, changes, message):
    with pytest.raises(ParameterError, match=message):
        Patient.parse(make_patient(**changes), prefix="patient")


def test_missing_discharge(make_patient):
    data = make_patient()
    del data["discharge"]
    with pytest.raises(ParameterError, match=r"^patient\.discharge = missing: expected a value"):
        Patient.parse(data, prefix="patient")


def test_error_carries_field_and_value(make_patient):
    with pytest.raises(ParameterError) as info:
        Patient.parse(make_patient(age_years=-2))
    assert info.value.field == "age_years"
    assert info.value.value == -2
