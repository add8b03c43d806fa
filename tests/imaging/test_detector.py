"""Detectors: absorption efficiency, converter MTF, read-out scaling."""

from __future__ import annotations

import numpy as np
import pytest

from ductogram.core import ParameterError
from ductogram.imaging.detector import (
    DetectorKind,
    absorption_efficiency,
    converter_mtf,
    default_detector,
)
from ductogram.imaging.materials import material, mu_per_mm


@pytest.mark.parametrize(("kind", "thickness"), [("a-se", 0.2), ("csi", 0.15)])
def test_absorption_efficiency_is_one_minus_transmission(kind, thickness):
    e = np.array([15.0, 20.0, 25.0, 30.0, 35.0])
    expected = 1.0 - np.exp(-mu_per_mm(material(kind), e) * thickness)
    np.testing.assert_allclose(
        absorption_efficiency(default_detector(kind), e), expected, rtol=1e-12
    )


def test_a_se_absorbs_nearly_all_mammography_photons_and_less_above_its_k_edge():
    eta = absorption_efficiency(default_detector("a-se"), [12.6, 12.7, 20.0, 30.0])
    assert eta[2] > 0.95  # 200 µm Se at 20 keV
    assert eta[1] > eta[0]  # Se K edge at 12.66 keV
    assert eta[3] < eta[2]


def test_csi_jumps_at_the_iodine_and_caesium_k_edges():
    eta = absorption_efficiency(default_detector("csi"), [33.0, 33.3, 35.9, 36.1])
    assert eta[1] > eta[0] and eta[3] > eta[2]


def test_converter_mtf_is_one_at_zero_and_falls():
    f = np.linspace(0.0, 6.0, 13)
    for kind in DetectorKind:
        mtf = converter_mtf(default_detector(kind), f)
        assert mtf[0] == 1.0
        assert np.all(np.diff(mtf) < 0)
    # Documented anchors [estimate]: a-Se 0.95 and CsI 1/2 at their reference frequencies.
    assert float(converter_mtf(default_detector("a-se"), np.array(5.0))) == pytest.approx(0.95)
    assert float(converter_mtf(default_detector("csi"), np.array(5.5))) == pytest.approx(0.5)


def test_digital_units_are_normalised_to_the_reference_pixel_area():
    d = default_detector("a-se")
    assert d.du_per_electron(0.085) == pytest.approx(1.0 / d.electrons_per_du)
    assert d.du_per_electron(0.17) == pytest.approx(0.25 / d.electrons_per_du)


def test_overrides_replace_defaults():
    d = default_detector("csi", electronic_noise_e=0.0, thickness_mm=0.25)
    assert d.electronic_noise_e == 0.0 and d.thickness_mm == 0.25 and d.kind is DetectorKind.CSI


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: default_detector("cdte"), "detector.kind = 'cdte'"),
        (lambda: default_detector("a-se", thickness_mm=5.0), "thickness_mm = 5.0"),
        (lambda: default_detector("a-se", swank_factor=1.5), "swank_factor"),
        (lambda: default_detector("a-se", electronic_noise_e=-1.0), "electronic_noise_e"),
        (lambda: default_detector("a-se", blur_kind="box"), "blur_kind"),
        (lambda: default_detector("a-se", colour="blue"), "fields of Detector"),
    ],
)
def test_bad_detectors_are_refused(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
