"""Renderings of a report: annotated key images, an HTML page and a PDF (ReportLab).

Key images (:func:`key_image_png`): the view (any intensity scale, ducts bright), the
filled duct tree drawn over it in colour (a boolean mask, e.g. the reading's mask), and
each finding seen on that view as a numbered circle at its key-image point. The HTML page
embeds them (one self-contained file); the PDF holds the same sections and pictures.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..core import ParameterError
from ..core.files import write_bytes_atomic, write_text_atomic
from .model import Report

__all__ = ["key_image_png", "key_images", "render_html", "render_pdf", "write_html", "write_pdf"]

_FINDING_COLOUR = "#ffcc00"
_TREE_RGBA = (0.1, 0.6, 1.0, 0.45)


def key_image_png(
    pixels: np.ndarray,
    report: Report,
    view: str,
    *,
    tree_mask: np.ndarray | None = None,
    width_in: float = 3.2,
    dpi: int = 110,
    hanging: bool = True,
) -> bytes:
    """One view as a PNG with the tree and this view's findings drawn on it.

    Parameters
    ----------
    pixels : (M, N) ndarray
        The view in the image frame, ducts bright (a presentation image, or
        ``duct_scale``).
    report : Report
    view : str
        The view's name (CC, ML, MLO, LM): findings with a key image on it are drawn.
    tree_mask : (M, N) bool ndarray, optional
        The filled duct tree.
    hanging : bool
        Show the view as a reading workstation hangs it (nipple towards the viewer's
        side of the breast, :func:`ductogram.io.hanging_orientation`), as the DICOM images
        are stored; False shows the image frame as is.

    Raises
    ------
    ParameterError
        If ``pixels`` is not 2-D or ``tree_mask`` has another shape.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    img = np.asarray(pixels, dtype=np.float64)
    if img.ndim != 2 or min(img.shape) < 2:
        raise ParameterError("pixels", getattr(pixels, "shape", None), "a 2-D image")
    if tree_mask is not None and np.shape(tree_mask) != img.shape:
        raise ParameterError("tree_mask", np.shape(tree_mask), f"the image's shape {img.shape}")
    points = [
        (k, ki.row, ki.col, ki.radius_px)
        for k, f in enumerate(report.findings, start=1)
        for ki in f.key_images
        if ki.view == view
    ]
    if hanging:
        from ..io import hanging_orientation

        n_rows, n_cols = img.shape
        img = np.asarray(hanging_orientation(img, report.laterality))
        if tree_mask is not None:
            tree_mask = np.asarray(hanging_orientation(tree_mask, report.laterality))
        points = [
            (k, n_cols - 1 - c, r if report.laterality == "L" else n_rows - 1 - r, rad)
            for k, r, c, rad in points
        ]
    # Shown at about 1.5 times the picture's resolution: larger views are block-averaged (the
    # tree mask block-maximised, so thin ducts stay drawn) and the points scaled with them.
    step = max(1, int(max(img.shape) // (1.5 * width_in * dpi)))
    if step > 1:
        rows, cols = (img.shape[0] // step) * step, (img.shape[1] // step) * step
        img = img[:rows, :cols].reshape(rows // step, step, cols // step, step).mean(axis=(1, 3))
        if tree_mask is not None:
            m = np.asarray(tree_mask, bool)[:rows, :cols]
            tree_mask = m.reshape(rows // step, step, cols // step, step).any(axis=(1, 3))
    lo, hi = np.nanpercentile(img, [1, 99.5])
    shown = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)
    height_in = width_in * img.shape[0] / img.shape[1]
    fig = plt.figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(shown, cmap="gray", interpolation="bilinear")
    if tree_mask is not None and np.any(tree_mask):
        overlay = np.zeros((*img.shape, 4))
        overlay[np.asarray(tree_mask, bool)] = _TREE_RGBA
        ax.imshow(overlay, interpolation="nearest")
    scale = max(img.shape) / 100.0
    for k, row, col, radius in points:
        r = radius / step if radius else 2 * scale
        # pixel centres are whole numbers; block b covers pixels b*step .. b*step+step-1
        col, row = (col - (step - 1) / 2) / step, (row - (step - 1) / 2) / step
        ax.add_patch(Circle((col, row), r, fill=False, lw=1.5, color=_FINDING_COLOUR))
        ax.text(
            col + r * 0.8,
            row - r * 0.8,
            str(k),
            color=_FINDING_COLOUR,
            fontsize=10,
            fontweight="bold",
        )
    ax.text(
        0.02,
        0.98,
        f"{report.laterality}{view}",
        transform=ax.transAxes,
        color="white",
        va="top",
        fontsize=10,
        fontweight="bold",
    )
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def key_images(
    report: Report,
    images: Mapping[str, np.ndarray] | None,
    trees: Mapping[str, np.ndarray] | None = None,
) -> dict[str, bytes]:
    """PNG of each view given, in the order of the views taken."""
    if not images:
        return {}
    trees = trees or {}
    return {
        view: key_image_png(pixels, report, view, tree_mask=trees.get(view))
        for view, pixels in images.items()
    }


def _sections(report: Report) -> list[tuple[str, list[str]]]:
    t = report.technique
    a = report.assessment
    return [
        ("Indication", [report.indication]),
        ("Technique", [t.text]),
        ("Findings", report.findings_text),
        ("Comparison", [report.comparison]),
        ("Impression", report.impression),
        (
            "Assessment",
            [a.category_text, *a.reasons]
            + [f"QC: {q.name}: {q.message} {q.action}".strip() for q in a.qc],
        ),
        (
            "Recommendation",
            [r.text + (f" ({r.reason})" if r.reason else "") for r in report.recommendations],
        ),
        ("Complications", report.complications or ["None recorded."]),
        ("Aftercare", report.aftercare or ["None recorded."]),
    ]


def _status_line(report: Report) -> str:
    if report.signature is None:
        return f"Status: {report.status}, not signed."
    return (
        f"Status: {report.status}; signed by {report.signature.by} on "
        f"{report.signature.at:%Y-%m-%d %H:%M} UTC."
    )


def render_html(report: Report, pictures: Mapping[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page (key images embedded as PNG)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(report.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:1.5em auto;line-height:1.4}"
        "h1{font-size:1.4em}h2{font-size:1.1em;border-bottom:1px solid #ccc;margin-top:1.2em}"
        "figure{display:inline-block;margin:0.3em}figcaption{text-align:center}"
        ".birads{font-weight:bold;font-size:1.1em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:0.2em 0.5em}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
        f"<p>Patient {e(report.patient_id)} &middot; {e(_status_line(report))}</p>",
    ]
    for name, lines in _sections(report):
        parts.append(f"<h2>{e(name)}</h2>")
        if name == "Assessment":
            parts.append(f"<p class='birads'>{e(lines[0])}</p>")
            lines = lines[1:]
        if name == "Technique" and report.technique.dose_per_view_mgy:
            parts.append(f"<p>{e(lines[0])}</p><table><tr><th>view</th><th>MGD (mGy)</th></tr>")
            for view, dose in report.technique.dose_per_view_mgy.items():
                parts.append(
                    f"<tr><td>{e(view)}</td><td>{'' if dose is None else f'{dose:.2f}'}</td></tr>"
                )
            total = report.technique.total_dose_mgy
            parts.append(
                f"<tr><th>total</th><th>{'' if total is None else f'{total:.2f}'}</th></tr></table>"
            )
            continue
        parts.append("<ul>" + "".join(f"<li>{e(s)}</li>" for s in lines) + "</ul>")
        if name == "Findings" and pictures:
            for view, png in pictures.items():
                data = base64.b64encode(png).decode("ascii")
                parts.append(
                    f"<figure><img alt='{e(report.laterality + view)} key image' "
                    f"src='data:image/png;base64,{data}' style='max-width:22em'>"
                    f"<figcaption>{e(report.laterality + view)}: duct tree (blue), findings "
                    "(numbered)</figcaption></figure>"
                )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_pdf(report: Report, pictures: Mapping[str, bytes] | None = None) -> bytes:
    """The report as a PDF (ReportLab), with the same sections and key images."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image as RLImage,
    )
    from reportlab.platypus import (
        ListFlowable,
        ListItem,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    e = html.escape
    story: list = [
        Paragraph(e(report.title), styles["Title"]),
        Paragraph(f"Patient {e(report.patient_id)}. {e(_status_line(report))}", styles["Normal"]),
        Spacer(1, 4 * mm),
    ]
    for name, lines in _sections(report):
        story.append(Paragraph(e(name), styles["Heading2"]))
        if name == "Assessment":
            story.append(Paragraph(f"<b>{e(lines[0])}</b>", styles["Normal"]))
            lines = lines[1:]
        items = [ListItem(Paragraph(e(s), styles["Normal"]), leftIndent=10) for s in lines]
        if items:
            story.append(ListFlowable(items, bulletType="bullet", start="•", leftIndent=10))
        if name == "Technique" and report.technique.dose_per_view_mgy:
            rows = [["view", "MGD (mGy)"]] + [
                [v, "" if d is None else f"{d:.2f}"]
                for v, d in report.technique.dose_per_view_mgy.items()
            ]
            total = report.technique.total_dose_mgy
            rows.append(["total", "" if total is None else f"{total:.2f}"])
            table = Table(rows, hAlign="LEFT")
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                        ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                    ]
                )
            )
            story += [Spacer(1, 2 * mm), table]
        if name == "Findings" and pictures:
            cells = []
            for png in pictures.values():
                from PIL import Image as PILImage

                w, h = PILImage.open(io.BytesIO(png)).size
                width = 80 * mm
                cells.append(RLImage(io.BytesIO(png), width=width, height=width * h / w))
            rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
            story += [Spacer(1, 2 * mm), Table(rows, hAlign="LEFT")]
            story.append(
                Paragraph("Key images: duct tree in blue, findings numbered.", styles["Italic"])
            )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=report.title,
        author="ductogram",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    doc.build(story)
    return buf.getvalue()


def write_html(
    report: Report, path: str | os.PathLike[str], pictures: Mapping[str, bytes] | None = None
) -> Path:
    """Write the HTML report atomically."""
    return write_text_atomic(path, render_html(report, pictures))


def write_pdf(
    report: Report, path: str | os.PathLike[str], pictures: Mapping[str, bytes] | None = None
) -> Path:
    """Write the PDF report atomically."""
    return write_bytes_atomic(path, render_pdf(report, pictures))
