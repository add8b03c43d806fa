"""Reading images: round trips from the writer (both intents, both sides, CC and ML, four
compressed transfer syntaxes), MONOCHROME1, orientation rules, real files nobody here wrote
(pydicom's own test data, the DigiBreast mammogram as PNG), and one clear error per bad
input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import (
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from ductogram.core.errors import DuctogramError, ParameterError
from ductogram.core.image import Image, PixelKind
from ductogram.io import (
    ImageReadError,
    ImageReadWarning,
    StudyInfo,
    read_image,
    read_raster,
    write_mg,
)

# The shared validation data sits beside the repository (../shared), where it is checked out.
DIGIBREAST = (
    Path(__file__).resolve().parents[3]
    / "shared/validation-data/digibreast-mammogram/DigiBreast_source.mat"
)


@pytest.fixture(scope="module")
def views(simulated_views):
    return simulated_views


def _expected(image: Image) -> np.ndarray:
    """The integers the writer stores, in the image frame."""
    pix = np.asarray(image.pixels, np.float64)
    if image.kind == PixelKind.FOR_PRESENTATION:
        return np.floor(np.clip(pix, 0.0, 1.0) * 4095 + 0.5)
    return np.clip(np.rint(pix), 0, 65535)


def _write(image: Image, path: Path) -> Path:
    return write_mg(image, path, study=StudyInfo("SYN-0001"), series_number=1, instance_number=1)


@pytest.fixture(scope="module")
def lcc_file(views, tmp_path_factory):
    return _write(views["CC"].presentation, tmp_path_factory.mktemp("mg") / "LCC.dcm")


@pytest.mark.parametrize("view", ["CC", "ML"])
@pytest.mark.parametrize("side", ["L", "R"])
@pytest.mark.parametrize("intent", ["presentation", "processing"])
def test_round_trip_from_the_writer(views, tmp_path, view, side, intent):
    written = dataclasses.replace(getattr(views[view], intent), laterality=side)
    path = _write(written, tmp_path / f"{side}{view}.dcm")
    image = read_image(path)
    assert image.pixels.shape == written.pixels.shape
    assert np.array_equal(image.pixels, _expected(written))
    assert image.pixel_spacing_mm == pytest.approx(written.pixel_spacing_mm, rel=1e-5)
    assert image.magnification == pytest.approx(written.magnification, rel=1e-5)
    assert image.laterality == side and image.view == view
    assert image.kind == written.kind
    assert image.metadata["frame"] == "image"
    assert image.metadata["source"] == str(path)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert image.metadata["sop_instance_uid"] == ds.SOPInstanceUID
    assert image.metadata["study_instance_uid"] == ds.StudyInstanceUID
    if "kvp" in written.dose:
        assert image.dose["kvp"] == pytest.approx(written.dose["kvp"], rel=1e-5)
    if "mgd_mgy" in written.dose:
        assert image.dose["mgd_mgy"] == pytest.approx(written.dose["mgd_mgy"], rel=1e-4)


def _compress_with_gdcm(src: Path, dst: Path) -> None:
    gdcm = pytest.importorskip("gdcm", reason="python-gdcm encodes JPEG lossless here")
    reader = gdcm.ImageReader()
    reader.SetFileName(str(src))
    assert reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
    change.SetInput(reader.GetImage())
    assert change.Change()
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(dst))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    assert writer.Write()


@pytest.mark.parametrize("syntax", [RLELossless, JPEGLSLossless, JPEG2000Lossless, JPEGLosslessSV1])
def test_compressed_transfer_syntaxes_read_the_same_pixels(lcc_file, tmp_path, syntax):
    out = tmp_path / "compressed.dcm"
    if syntax == JPEGLosslessSV1:
        _compress_with_gdcm(lcc_file, out)
    else:
        ds = pydicom.dcmread(lcc_file)
        ds.compress(syntax)
        ds.save_as(out, enforce_file_format=True)
    assert pydicom.dcmread(out, stop_before_pixels=True).file_meta.TransferSyntaxUID == syntax
    image = read_image(out)
    assert image.metadata["transfer_syntax"] == syntax
    assert np.array_equal(image.pixels, read_image(lcc_file).pixels)


def test_monochrome1_reads_inverted(lcc_file, tmp_path):
    ds = pydicom.dcmread(lcc_file)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.PixelData = (4095 - ds.pixel_array).astype(np.uint16).tobytes()
    path = tmp_path / "mono1.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert np.array_equal(read_image(path).pixels, read_image(lcc_file).pixels)


def test_rescale_and_dose_units_and_view_codes(lcc_file, tmp_path):
    ds = pydicom.dcmread(lcc_file)
    ds.RescaleSlope, ds.RescaleIntercept = "2", "-10"
    ds.OrganDose = "0.015"  # dGy
    ds.EntranceDoseInmGy = "4.5"
    ds.KVP, ds.Exposure = "29", 60
    del ds.ExposureInuAs
    del ds.ViewPosition  # the view from ViewCodeSequence instead
    path = tmp_path / "rescaled.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_image(path)
    assert np.array_equal(image.pixels, 2 * read_image(lcc_file).pixels - 10)
    assert image.view == "CC"
    expected = {"kvp": 29.0, "mas": 60.0, "incident_air_kerma_mgy": 4.5, "mgd_mgy": 1.5}
    assert {k: image.dose[k] for k in expected} == pytest.approx(expected)


def test_chest_wall_left_for_a_right_breast_and_oblique_labels(lcc_file, tmp_path):
    """Other vendors' conventions: ``A\\L`` (right CC hung chest wall left) and ``A\\FR``."""
    ds = pydicom.dcmread(lcc_file)  # left CC stored as A\R
    reference = read_image(lcc_file).pixels
    ds.ImageLaterality = "R"
    ds.PatientOrientation = ["A", "L"]
    path = tmp_path / "rcc.dcm"
    ds.save_as(path, enforce_file_format=True)
    # Down the column is L: the medial side of a right breast, so the columns flip as for
    # the left breast stored A\\R (whose medial side is R): the same image-frame pixels.
    assert np.array_equal(read_image(path).pixels, reference)
    ds.PatientOrientation = ["A", "R"]  # now down the column is lateral: no flip
    ds.save_as(path, enforce_file_format=True)
    assert np.array_equal(read_image(path).pixels, reference[:, ::-1])
    ds.ImageLaterality = "L"
    ds.ViewPosition = "MLO"
    ds.PatientOrientation = ["A", "FR"]
    ds.save_as(path, enforce_file_format=True)
    image = read_image(path)
    assert image.view == "MLO" and np.array_equal(image.pixels, reference)


def test_unknown_orientation_keeps_the_stored_pixels_and_says_so(lcc_file, tmp_path):
    ds = pydicom.dcmread(lcc_file)
    stored = ds.pixel_array
    del ds.PatientOrientation
    path = tmp_path / "noorient.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.warns(ImageReadWarning, match="stored orientation was kept"):
        image = read_image(path)
    assert image.metadata["frame"] == "stored"
    assert np.array_equal(image.pixels, stored)
    assert read_image(path, warn=False).metadata["orientation_note"]


def test_pixel_spacing_is_used_when_there_is_no_imager_pixel_spacing(lcc_file, tmp_path):
    ds = pydicom.dcmread(lcc_file)
    ds.PixelSpacing = ds.ImagerPixelSpacing
    del ds.ImagerPixelSpacing
    path = tmp_path / "ps.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.warns(ImageReadWarning, match="PixelSpacing used"):
        image = read_image(path)
    assert image.pixel_spacing_mm == pytest.approx((0.2, 0.2))
    assert image.metadata["spacing_source"] == "PixelSpacing"


def test_a_real_file_from_pydicom_relabelled_dx(tmp_path):
    """A real image nobody here wrote (pydicom's MR_small, a signed 16-bit image), relabelled
    as a DX: the reader takes its pixels as pydicom decodes them. pydicom ships no DX, CR or
    MG file offline; ``pydicom-data`` would need the network."""
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.Modality = "DX"
    ds.ImagerPixelSpacing = [0.5, 0.5]
    path = tmp_path / "dx.dcm"
    ds.save_as(path)
    image = read_image(path, warn=False)
    assert image.kind == PixelKind.FOR_PRESENTATION
    assert image.metadata["frame"] == "stored"
    assert np.array_equal(image.pixels, ds.pixel_array)


@pytest.mark.parametrize(
    "name", ["MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm"]
)
def test_pydicoms_own_compressed_files_decode(tmp_path, name):
    """Compressed files written by other software (pydicom's test data), relabelled DX."""
    ds = pydicom.dcmread(get_testdata_file(name))
    reference = pydicom.dcmread(get_testdata_file("MR_small.dcm")).pixel_array
    ds.Modality = "DX"
    ds.ImagerPixelSpacing = [0.5, 0.5]
    path = tmp_path / name
    ds.save_as(path)
    assert np.array_equal(read_image(path, warn=False).pixels, reference)


def test_digibreast_mammogram_as_16_bit_png(tmp_path):
    from PIL import Image as PILImage
    from scipy.io import loadmat

    if not DIGIBREAST.exists():
        pytest.skip(f"{DIGIBREAST} not present")
    mammogram = loadmat(DIGIBREAST, variable_names=["Mammogram"])["Mammogram"]
    assert mammogram.dtype == np.uint16 and mammogram.shape == (335, 307)
    path = tmp_path / "digibreast.png"
    PILImage.fromarray(mammogram).save(path)
    image = read_raster(path, 1.0, laterality="L", view="CC")
    assert image.shape == (335, 307)
    assert image.pixel_spacing_mm == (1.0, 1.0)
    assert np.array_equal(image.pixels, mammogram)
    assert image.laterality == "L" and image.view == "CC"


def test_raster_8_bit_rgb_and_tiff(tmp_path):
    from PIL import Image as PILImage

    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0] = 100
    rgb[..., 1] = 200
    PILImage.fromarray(rgb).save(tmp_path / "rgb.png")
    image = read_raster(tmp_path / "rgb.png", (0.1, 0.2))
    assert image.pixels == pytest.approx(np.full((4, 5), 0.299 * 100 + 0.587 * 200))
    grey = np.arange(20, dtype=np.uint16).reshape(4, 5) * 1000
    PILImage.fromarray(grey).save(tmp_path / "grey.tif")
    assert np.array_equal(read_raster(tmp_path / "grey.tif", 0.1).pixels, grey)


@pytest.mark.parametrize("spacing", [0.0, -1.0, 5.0, (0.1, 0.2, 0.3), "abc"])
def test_raster_spacing_is_validated(tmp_path, spacing):
    with pytest.raises(ParameterError, match="pixel_spacing_mm"):
        read_raster(tmp_path / "whatever.png", spacing)


# ---------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.dcm"):
        read_image(tmp_path / "nope.dcm")
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        read_raster(tmp_path / "nope.png", 0.1)


def test_not_dicom(tmp_path):
    path = tmp_path / "text.dcm"
    path.write_text("hello, not a DICOM file\n" * 20)
    with pytest.raises(ImageReadError, match=r"text\.dcm: not a DICOM file"):
        read_image(path)
    with pytest.raises(ImageReadError, match=r"text\.dcm: not an image"):
        read_raster(path, 0.1)


def test_truncated(lcc_file, tmp_path):
    data = lcc_file.read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(ImageReadError, match=r"cut\.dcm: truncated"):
        read_image(path)
    path.write_bytes(data[:700])  # cut inside the header
    with pytest.raises(ImageReadError, match=r"cut\.dcm: truncated: the file ends inside"):
        read_image(path)


def test_no_pixel_data(lcc_file, tmp_path):
    ds = pydicom.dcmread(lcc_file)
    del ds.PixelData
    path = tmp_path / "nopix.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(ImageReadError, match=r"nopix\.dcm: no pixel data"):
        read_image(path)


def test_unsupported_modality():
    path = get_testdata_file("CT_small.dcm")
    with pytest.raises(
        ImageReadError,
        match=r"CT_small\.dcm: modality CT is not a projection x-ray \(expected MG, DX or CR\)",
    ):
        read_image(path)


def test_undecodable_transfer_syntax_names_syntax_and_plugin(lcc_file, tmp_path, monkeypatch):
    ds = pydicom.dcmread(lcc_file)
    ds.compress(JPEG2000Lossless)
    path = tmp_path / "j2k.dcm"
    ds.save_as(path, enforce_file_format=True)
    from pydicom.pixels import get_decoder

    decoder = get_decoder(JPEG2000Lossless)
    monkeypatch.setattr(type(decoder), "is_available", property(lambda self: False))
    with pytest.raises(
        ImageReadError,
        match=r"j2k\.dcm: transfer syntax JPEG 2000 .*cannot be decoded here: install "
        r"pylibjpeg and pylibjpeg-openjpeg",
    ):
        read_image(path)


def test_unknown_transfer_syntax(lcc_file, tmp_path):
    ds = pydicom.dcmread(lcc_file)
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5"
    path = tmp_path / "odd.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(ImageReadError, match=r"odd\.dcm: transfer syntax .*1\.2\.3\.4\.5"):
        read_image(path)


def test_errors_are_ductogram_errors():
    assert issubclass(ImageReadError, DuctogramError)
