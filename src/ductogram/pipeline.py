"""The whole exam in one call: case → phantom → exam → views → DICOM → reading → report.

:func:`run_case` ties the stages together for one case file (or the name of a packaged
demo case, :data:`DEMO_CASES`) and writes one folder that tells the case from the patient
to the report::

    index.html            the case at a glance, linking everything below
    phantom.json, *.graphml, phantom_*.png      the phantom's truth (ductogram phantom)
    procedure.json, summary.md                  the exam record (ductogram exam)
    LCC.png, LCC.npz, ..., views.json           the views and their truth (ductogram simulate)
    dicom/                                      the study: MG images and the SEG of the truth
    reading/reading.json, reading/LCC.json, reading/LCC_overlay.png   the reading
    report/                                     report.html/.pdf/.json, letter, SR, FHIR

Each stage is the package that owns it: :mod:`ductogram.anatomy`, :mod:`ductogram.exam`,
:mod:`ductogram.imaging`, :mod:`ductogram.io`, :mod:`ductogram.analysis` (which reads the
views as it would read any real ductogram: it is given the images, never the truth) and
:mod:`ductogram.report`. The folder is written atomically: all of it, or nothing.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .core import ParameterError
from .core.cases import load_case
from .core.files import write_json_atomic, write_text_atomic
from .exam.record import words

__all__ = [
    "DEMO_CASES",
    "CaseRun",
    "key_image_sources",
    "load_case_file",
    "run_case",
    "simulate_case",
]

#: The packaged demo cases (``ductogram demo --case NAME``): name → (file, what it shows).
DEMO_CASES: dict[str, tuple[str, str]] = {
    "papilloma": (
        "papilloma.yaml",
        "spontaneous bloody discharge from one duct of the left breast; a solitary papilloma",
    ),
    "normal": ("normal.yaml", "pathologic discharge, and a normal duct system"),
    "carcinoma": ("carcinoma.yaml", "bloody discharge; an intraductal carcinoma (DCIS)"),
    "ectasia": ("ectasia.yaml", "green-grey discharge from a dilated duct (ectasia)"),
    "bubbles": ("bubbles.yaml", "the cannula was not flushed: air bubbles, not papillomas"),
    "no-discharge": ("no_discharge.yaml", "no discharge on the day: the exam cannot be done"),
    "pregnant": ("pregnant.yaml", "a pregnant patient: the exam is deferred"),
}

Status = Callable[[str], Any]


def load_case_file(source: str | os.PathLike[str]) -> dict:
    """A case file's content (YAML or JSON), or a packaged demo case's by its name
    (:data:`DEMO_CASES`).

    Raises
    ------
    CaseFileError
        If the file is missing, unreadable or not a mapping.
    """
    if isinstance(source, str) and source in DEMO_CASES:
        text = resources.files("ductogram").joinpath("data", "cases", DEMO_CASES[source][0])
        return yaml.safe_load(text.read_text(encoding="utf-8"))
    return load_case(Path(source))


@dataclass
class CaseRun:
    """What one run made: the phantom, the exam, the views, the reading, the report."""

    folder: Path
    phantom: Any
    procedure: Any
    views: list = field(default_factory=list)
    reading: Any = None
    report: Any = None
    files: list[Path] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)


def _quiet(_: str) -> None:
    return None


def simulate_case(
    parsed,
    *,
    seed: int = 0,
    pixel_mm: float = 0.085,
    device: str = "cpu",
    skip_preparation: bool = False,
    status: Status = _quiet,
):
    """Phantom, exam and views of a parsed case (:class:`ductogram.exam.record.ExamCase`).

    Returns
    -------
    (phantom, procedure, fill, views)
        ``fill`` is None and ``views`` empty when the exam was not done (screened out,
        cannulation failed).
    """
    from .anatomy.phantom import generate_phantom
    from .exam.procedure import run_exam
    from .imaging._backend import device_namespace
    from .imaging.views import ViewSettings, simulate_view

    if not 0.05 <= pixel_mm <= 0.2:
        raise ParameterError("pixel_mm", pixel_mm, "a pitch in [0.05, 0.2] mm")
    device_namespace(device)  # an unknown device, or no GPU, before anything is made
    status("Generating the phantom...")
    phantom = generate_phantom(parsed.phantom, seed=seed)
    status("Running the exam...")
    procedure, fill = run_exam(parsed.patient, phantom, parsed.exam, rng=seed)
    views = []
    rng_views = np.random.default_rng([seed, 0x76696577]).spawn(max(len(procedure.views), 1))
    if fill is not None:
        patient = parsed.patient

        def view(k: int):
            record = procedure.views[k]
            settings = ViewSettings(
                magnification=1.8 if record.magnification else 1.0,
                pixel_mm=pixel_mm,
                patient_moved=record.patient_moved,
                deodorant=skip_preparation and patient.deodorant_or_powder,
                jewellery=skip_preparation and patient.jewellery_or_metal,
                device=device,
            )
            return simulate_view(
                phantom, record.view, fill=fill, settings=settings, rng=rng_views[k]
            )

        for k, record in enumerate(procedure.views):
            status(f"Imaging the {record.view.value} view...")
            views.append(view(k))
    return phantom, procedure, fill, views


def _view_name(image) -> str:
    return f"{image.laterality.value}{image.view.value}"


def _view_doses(views) -> list:
    from .report import ViewDose

    out = []
    for sv in views:
        e, d = sv.exposure, sv.dose
        out.append(
            ViewDose(
                view=sv.presentation.view.value,
                laterality=sv.presentation.laterality.value,
                magnification=sv.presentation.magnification > 1.2,
                mgd_mgy=float(d["mgd_mgy"]),
                kvp=float(e["kvp"]),
                mas=float(e["mas"]),
                anode=str(e["anode"]),
                filter=str(e["filter"]),
            )
        )
    return out


def _index_html(run: CaseRun, title: str) -> str:
    """The case at a glance: patient and screening, procedure, views, reading, report."""
    p = run.procedure
    folder = run.folder
    esc = html.escape

    def link(rel: str, text: str | None = None) -> str:
        return f'<a href="{esc(rel)}">{esc(text or rel)}</a>'

    def exists(rel: str) -> bool:
        return (folder / rel).exists()

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:72em;margin:2em auto;color:#222}"
        "figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}"
        "img{max-height:28em;border:1px solid #ccc}pre{background:#f6f6f6;padding:1em;"
        "white-space:pre-wrap}td,th{padding:.2em .8em;text-align:left}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        "<p>A simulated ductography exam from the patient to the report. Everything shown "
        "was made by ductogram from the case file; the reading saw only the images.</p>",
        "<h2>1. Patient and screening</h2>",
    ]
    patient = p.patient
    parts.append(
        "<table>"
        f"<tr><th>patient</th><td>{esc(patient.id)}, {patient.age_years} years</td></tr>"
        f"<tr><th>indication</th><td>{esc(run.report.indication)}</td></tr>"
        f"<tr><th>screening</th><td>{esc(words(p.screening.outcome))}: "
        f"{esc(p.screening.outcome_reason)}</td></tr>"
        "</table>"
    )
    parts.append(
        "<ul>"
        + "".join(
            f"<li>{esc(words(d.decision))}: {esc(d.reason)}</li>" for d in p.screening.decisions
        )
        + "</ul>"
    )
    parts.append("<h2>2. The procedure</h2>")
    parts.append(
        f"<p>{esc(words(p.outcome))}: {esc(p.outcome_reason)}. Record: {link('summary.md')} · "
        f"{link('procedure.json')} · phantom truth: {link('phantom.json')}</p>"
    )
    if run.views:
        parts.append("<h2>3. The views</h2><div>")
        for sv in run.views:
            name = _view_name(sv.presentation)
            parts.append(
                f'<figure><img src="{esc(name)}.png" alt="{esc(name)}">'
                f"<figcaption>{esc(name)}: {sv.exposure['anode']}/{sv.exposure['filter']} "
                f"{sv.exposure['kvp']:.0f} kV, {sv.exposure['mas']:.0f} mAs, "
                f"MGD {sv.dose['mgd_mgy']:.2f} mGy</figcaption></figure>"
            )
        parts.append("</div>")
        if exists("dicom"):
            dicoms = sorted(x.name for x in (folder / "dicom").iterdir())
            parts.append(
                "<p>DICOM study: " + " · ".join(link(f"dicom/{d}", d) for d in dicoms) + "</p>"
            )
    else:
        parts.append("<h2>3. The views</h2><p>No views: the exam was not done.</p>")
    if run.reading is not None:
        parts.append("<h2>4. The reading</h2><div>")
        for sv in run.views:
            name = _view_name(sv.presentation)
            rel = f"reading/{name}_overlay.png"
            if exists(rel):
                parts.append(
                    f'<figure><img src="{esc(rel)}" alt="{esc(name)} reading">'
                    f"<figcaption>{esc(name)}: the duct tree read, coloured by generation"
                    "</figcaption></figure>"
                )
        parts.append("</div>")
        parts.append(f"<pre>{esc(run.reading.summary())}</pre>")
        parts.append(f"<p>{link('reading/reading.json')}</p>")
    parts.append("<h2>5. The report</h2>")
    if run.report is not None:
        parts.append(f"<pre>{esc(_report_text(run.report))}</pre>")
        links = [
            ("report/report.html", "report (HTML)"),
            ("report/report.pdf", "report (PDF)"),
            ("report/letter.html", "letter to the patient"),
            ("report/fhir_bundle.json", "FHIR R5 bundle"),
            ("report/SR_TID1500.dcm", "DICOM SR measurement report (TID 1500)"),
            ("report/SR_TID4200.dcm", "DICOM SR breast imaging report (TID 4200)"),
            ("report/report.json", "editable record (ductogram report)"),
        ]
        parts.append(
            "<ul>"
            + "".join(f"<li>{link(rel, text)}</li>" for rel, text in links if exists(rel))
            + "</ul>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _report_text(report) -> str:
    """The report's impression, assessment and recommendations as plain lines."""
    lines = [f"Impression: {line}" for line in report.impression]
    lines.append(report.assessment.category_text)
    lines += [f"  - {reason}" for reason in report.assessment.reasons]
    lines += [f"Recommendation: {rec.text}" for rec in report.recommendations]
    return "\n".join(lines)


def key_image_sources(report_dir: str | os.PathLike[str]) -> tuple[dict, dict]:
    """The pictures a re-rendered report draws on, found beside it in a run's folder:
    each view's presentation image (``../LCC.npz``) and its read duct tree
    (``../reading/LCC.json``). Views without them are left out (the report is still
    complete, without those key images)."""
    from .analysis.reading import Reading

    run_dir = Path(report_dir).parent
    images, trees = {}, {}
    for npz in sorted(run_dir.glob("[LR]*.npz")):
        name = npz.stem
        view = name[1:]
        with np.load(npz) as arrays:
            if "for_presentation" not in arrays:
                continue
            images[view] = arrays["for_presentation"].astype(np.float32) / 4095.0
        reading = run_dir / "reading" / f"{name}.json"
        if reading.exists():
            trees[view] = Reading.model_validate_json(reading.read_text("utf-8")).mask_array()
    return images, trees


def run_case(
    case: str | os.PathLike[str] | dict,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    pixel_mm: float = 0.085,
    device: str = "cpu",
    force: bool = False,
    dicom: bool = True,
    skip_preparation: bool = False,
    title: str | None = None,
    status: Status = _quiet,
) -> CaseRun:
    """Run one case from the patient to the report and write its folder (module notes).

    Parameters
    ----------
    case : path, demo case name or dict
        A case file (patient, phantom, exam), a name from :data:`DEMO_CASES`, or its content.
    out : path
        The folder to write (it must not exist, unless ``force``).
    seed : int
        Same seed, same case, bit for bit.
    pixel_mm : float
        Detector pitch of the views (0.05–0.2 mm).
    device : {"cpu", "cuda"}
        Where the views are computed.
    force : bool
        Replace ``out`` if it exists.
    dicom : bool
        Write the study as DICOM (and the DICOM SR of the report).
    skip_preparation : bool
        Leave deodorant and jewellery on, as the patient record has them.
    title : str, optional
        Heading of ``index.html``.
    status : callable, optional
        Called with a short message as each stage starts (a progress display).

    Returns
    -------
    CaseRun
    """
    from .analysis.assessment import read_exam
    from .analysis.overlay import draw_overlay
    from .analysis.reading import read_view
    from .anatomy.figures import save_figures
    from .anatomy.truth import write_phantom
    from .core.files import check_output_directory
    from .exam.record import ExamCase, write_procedure
    from .imaging.previews import write_views
    from .io import StudyInfo, write_study
    from .report import report_from
    from .report.from_reading import inputs_from_exam_reading
    from .report.output import write_report
    from .report.sr import study_refs_from_files

    data = case if isinstance(case, dict) else load_case_file(case)
    parsed = ExamCase.parse(data)
    target = check_output_directory(out, overwrite=force)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    phantom, procedure, _, views = simulate_case(
        parsed,
        seed=seed,
        pixel_mm=pixel_mm,
        device=device,
        skip_preparation=skip_preparation,
        status=status,
    )
    timings["simulate"] = time.perf_counter() - t0
    run = CaseRun(folder=target, phantom=phantom, procedure=procedure, views=views)

    # The views are read in threads while the simulation's files are written (the reading
    # is given the images only, as it would be given any real ductogram). Reading while the
    # next view is simulated was slower: both want the two cores.
    images = [sv.processing for sv in views]
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(images), os.cpu_count() or 1)) + 1)
    pending = [pool.submit(read_view, image) for image in images]

    def reading_of_the_exam():
        readings = [f.result() for f in pending]
        return readings, read_exam(images, readings=readings)

    exam = pool.submit(reading_of_the_exam) if views else None
    readings: list = []

    def finish_reading() -> None:
        if exam is None:
            return
        status("Reading the views...")
        t0 = time.perf_counter()
        done, run.reading = exam.result()
        readings.extend(done)
        timings["read (after writing the views)"] = time.perf_counter() - t0

    def extra(phantom_, folder):
        folder = Path(folder)
        files = write_procedure(procedure, folder) + save_figures(phantom_, folder)
        study = None
        if views:
            files += write_views(views, folder)
        if views and dicom:
            (folder / "dicom").mkdir()
            written = write_study(
                views,
                folder / "dicom",
                patient_id=parsed.patient.id,
                study=StudyInfo(
                    patient_id=parsed.patient.id, patient_age_years=parsed.patient.age_years
                ),
                procedure=procedure,
            )
            files += written
            study = study_refs_from_files([f for f in written if f.suffix == ".dcm"])
        finish_reading()
        if run.reading is not None:
            (folder / "reading").mkdir()
            files.append(
                write_json_atomic(
                    folder / "reading" / "reading.json", run.reading.model_dump(mode="json")
                )
            )
            for sv, reading in zip(views, readings, strict=True):
                name = _view_name(sv.processing)
                overlay = folder / "reading" / f"{name}_overlay.png"
                files.append(draw_overlay(sv.presentation, reading, overlay))
                files.append(
                    write_text_atomic(
                        folder / "reading" / f"{name}.json", reading.model_dump_json()
                    )
                )
        status("Writing the report...")
        t1 = time.perf_counter()
        if run.reading is not None:
            findings, assessment, measurements = inputs_from_exam_reading(run.reading)
        else:
            findings, assessment, measurements = [], None, []
        run.report = report_from(
            procedure,
            _view_doses(views),
            findings,
            assessment,
            study,
            measurements=measurements,
        )
        (folder / "report").mkdir()
        images = {sv.presentation.view.value: sv.presentation.pixels for sv in views}
        trees = {
            sv.presentation.view.value: r.mask_array()
            for sv, r in zip(views, readings, strict=True)
        }
        files += write_report(run.report, folder / "report", images=images, trees=trees)
        timings["report"] = time.perf_counter() - t1
        run.folder = folder
        files.append(
            write_text_atomic(
                folder / "index.html", _index_html(run, title or f"Ductogram {parsed.patient.id}")
            )
        )
        return files

    status(f"Writing {target}...")
    try:
        run.files = write_phantom(phantom, target, overwrite=force, also=[extra])
    finally:
        pool.shutdown(cancel_futures=True)
    run.folder = target
    run.timings_s = timings
    return run
