"""Renderings: HTML and PDF with key images, the patient letter, the folder of outputs."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from ductogram.core import ParameterError
from ductogram.report import report_from
from ductogram.report.letter import GLOSSARY, letter_markdown
from ductogram.report.output import write_report
from ductogram.report.render import key_image_png, render_html, render_pdf

SHAPE = (120, 100)  # as the study fixture's images (conftest.py)


@pytest.fixture
def views():
    """Two synthetic views: a bright diagonal 'duct' on a dark background, and its mask."""
    rows, cols = np.mgrid[: SHAPE[0], : SHAPE[1]]
    mask = np.abs(rows - 1.2 * cols) < 3
    return {"CC": mask * 1.0 + 0.1, "ML": mask * 0.8 + 0.2}, {"CC": mask, "ML": mask}


@pytest.fixture
def report(completed, doses, defect, study):
    return report_from(completed, doses, [defect], study_uids=study)


def test_key_image_draws_tree_and_finding(report, views):
    images, trees = views
    png = key_image_png(images["CC"], report, "CC", tree_mask=trees["CC"])
    rgb = np.asarray(Image.open(__import__("io").BytesIO(png)).convert("RGB"), float)
    yellow = (rgb[..., 0] > 200) & (rgb[..., 1] > 150) & (rgb[..., 2] < 80)
    blue = rgb[..., 2] > rgb[..., 0] + 60
    assert yellow.sum() > 20  # the finding's circle
    assert blue.sum() > 100  # the tree
    with pytest.raises(ParameterError, match="tree_mask"):
        key_image_png(images["CC"], report, "CC", tree_mask=np.zeros((3, 3), bool))


@pytest.mark.parametrize("side", ["L", "R"])
def test_key_image_is_hung_like_the_dicom_image(completed, doses, side):
    """The circle of a finding at image-frame (row 30, col 80) lands where
    hanging_orientation puts that pixel."""
    from ductogram.io import hanging_orientation
    from ductogram.report import KeyImage, ReportFinding

    procedure = type(completed).model_validate({**completed.model_dump(), "laterality": side})
    finding = ReportFinding(
        kind="cyst fill", key_images=[KeyImage(view="CC", row=30, col=80, radius_px=5)]
    )
    report = report_from(procedure, doses, [finding])
    marker = np.zeros(SHAPE)
    marker[30, 80] = 1
    (i,), (j,) = np.nonzero(hanging_orientation(marker, side))
    png = key_image_png(np.zeros(SHAPE), report, "CC")
    rgb = np.asarray(Image.open(__import__("io").BytesIO(png)).convert("RGB"), float)
    scale = rgb.shape[1] / SHAPE[0]  # hung: SHAPE[0] image rows across
    yellow = (rgb[..., 0] > 150) & (rgb[..., 1] > 120) & (rgb[..., 2] < 80)
    ys, xs = np.nonzero(yellow[:, :])
    ring = np.hypot(ys - (i + 0.5) * scale, xs - (j + 0.5) * scale) < 8 * scale
    assert ring.mean() > 0.8  # the circle (and its number) sit around the finding


def test_html_has_sections_and_embedded_images(report, views):
    from ductogram.report.render import key_images

    page = render_html(report, key_images(report, *views))
    for section in (
        "Indication",
        "Technique",
        "Findings",
        "Impression",
        "Assessment",
        "Recommendation",
        "Complications",
        "Aftercare",
    ):
        assert f"<h2>{section}</h2>" in page
    assert page.count("data:image/png;base64,") == 2
    assert "BI-RADS 4: Suspicious" in page


def test_pdf_opens_and_pages_are_not_blank(report, views, tmp_path):
    from ductogram.report.render import key_images

    pdf = render_pdf(report, key_images(report, *views))
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-64:]
    gs = shutil.which("gs")
    if gs is None:
        pytest.skip("ghostscript not installed: the PDF's pages were not rendered")
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(
        [
            gs,
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=pnggray",
            "-r40",
            f"-sOutputFile={tmp_path}/p%d.png",
            str(tmp_path / "r.pdf"),
        ],
        check=True,
    )
    pages = sorted(tmp_path.glob("p*.png"))
    assert 1 <= len(pages) <= 4
    first = np.asarray(Image.open(pages[0]), float)
    assert (first < 128).mean() > 0.01  # text and pictures on the page


def test_letter_answers_the_three_questions(report, failed):
    text = letter_markdown(report)
    for q in (
        "Were any abnormalities detected?",
        "What future care is necessary?",
        "What are the risks and precautions of any further procedures?",
    ):
        assert f"## {q}" in text
    assert "- Yes. We saw a small growth inside a milk duct" in text
    assert "needle biopsy" in text
    for word in GLOSSARY:
        assert f"**{word}**" in text
    assert report.aftercare[0] in text
    not_done = letter_markdown(report_from(failed, [], []))
    assert "could not complete the test" in not_done and "Doing the ductogram again" in not_done


def test_write_report_writes_every_output(report, views, tmp_path):
    paths = write_report(report, tmp_path, images=views[0], trees=views[1])
    assert sorted(p.name for p in paths) == sorted(
        [
            "report.json",
            "report.schema.json",
            "key_LCC.png",
            "key_LML.png",
            "report.html",
            "report.pdf",
            "letter.md",
            "letter.html",
            "fhir_bundle.json",
            "SR_TID1500.dcm",
            "SR_TID4200.dcm",
        ]
    )
    assert not list(tmp_path.glob("*.tmp*"))
