"""All outputs of a report in one folder: :func:`write_report`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..core.files import write_bytes_atomic, write_json_atomic, write_text_atomic
from .fhir import write_bundle
from .letter import letter_html, letter_markdown
from .model import Report
from .render import key_images, write_html, write_pdf
from .sr import write_sr

__all__ = ["write_report"]


def write_report(
    report: Report,
    folder: str | os.PathLike[str],
    *,
    images: Mapping[str, np.ndarray] | None = None,
    trees: Mapping[str, np.ndarray] | None = None,
) -> list[Path]:
    """Write a report's outputs into an existing folder, each file atomically.

    Files: ``report.json`` (the report with its record, editable: see
    :func:`~.build.rebuild_report_file`), ``report.schema.json``, ``report.html``,
    ``report.pdf``, ``letter.md``, ``letter.html``, ``fhir_bundle.json`` and, when the
    report references the study's images, ``SR_TID1500.dcm`` and ``SR_TID4200.dcm``.
    Key-image PNGs (``key_<lat><view>.png``) are written for the views in ``images``
    (view name → pixels in the image frame, ducts bright), with ``trees`` (view name →
    bool mask of the duct tree) drawn on them.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(folder)
    pictures = key_images(report, images, trees)
    out = [
        write_json_atomic(folder / "report.json", report.model_dump(mode="json")),
        write_json_atomic(folder / "report.schema.json", Report.model_json_schema()),
    ]

    for view, png in pictures.items():
        out.append(write_bytes_atomic(folder / f"key_{report.laterality}{view}.png", png))
    out += [
        write_html(report, folder / "report.html", pictures),
        write_pdf(report, folder / "report.pdf", pictures),
        write_text_atomic(folder / "letter.md", letter_markdown(report)),
        write_text_atomic(folder / "letter.html", letter_html(report)),
        write_bundle(report, folder / "fhir_bundle.json"),
    ]
    out += write_sr(report, folder)
    return out
