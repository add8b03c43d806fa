"""The ``ductogram`` command line.

``ductogram phantom --out DIR`` generates a breast phantom (breast, lobes, duct systems,
lesions) and writes its ground truth and pictures to a new folder, all at once: on any
error nothing is written. Case files are YAML or JSON mappings of
:class:`~ductogram.anatomy.parameters.PhantomParameters` fields; flags override them.

``ductogram exam CASE --out DIR`` runs screening and the ductography exam for a case file
(sections ``patient``, ``phantom`` and ``exam``, :class:`~ductogram.exam.ExamCase`) and
writes the procedure record, its JSON schema, a readable summary and the phantom's truth,
all at once.

``ductogram evaluate --cases N --seed S --out DIR`` simulates N varied ductograms, reads
them (:func:`ductogram.analysis.read_view`) and scores the readings against the truth
(:mod:`ductogram.evaluate.harness`): a CSV per case, a summary JSON and plots.

Exit codes: 0 on success; 2 for a usage error (a bad parameter, an unreadable or malformed
case file, an output folder that exists and is not empty); 1 when writing fails.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__
from .anatomy.lesions import LesionKind
from .anatomy.parameters import PhantomParameters
from .core import DuctogramError, Laterality, ParameterError
from .core.cases import CaseFileError, load_case
from .core.files import check_output_directory

__all__ = ["CaseFileError", "app", "load_case", "merge_parameters"]

USAGE_ERROR = 2
WRITE_ERROR = 1

app = typer.Typer(
    name="ductogram",
    rich_markup_mode="markdown",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _stdout() -> Console:
    return Console(highlight=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int = USAGE_ERROR) -> typer.Exit:
    """Print ``error: <message>`` in red on stderr, one line, and return the exit."""
    _stderr().print(Text(f"error: {message}", style="bold red"), soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _reported(out: Path | None):
    """Turn the errors of a command into one `error:` line and its exit status: bad input
    (a value, a case file, an existing folder) exits 2, a failed write 1."""
    try:
        yield
    except FileExistsError as exc:
        raise _fail(str(exc)) from exc
    except (DuctogramError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"cannot write {str(out)!r}: {exc}", WRITE_ERROR) from exc


def merge_parameters(case: dict[str, Any], flags: dict[str, Any]) -> PhantomParameters:
    """Case-file values overridden by the flags that were given, validated.

    ``flags`` values that are None are left out; a ``lesions`` list in ``flags`` is
    appended to the case file's lesions.

    Raises
    ------
    ParameterError
        Naming the first bad field, its value and what is allowed.
    """
    merged = dict(case)
    for key, value in flags.items():
        if value is None:
            continue
        if key == "lesions":
            merged["lesions"] = [*(merged.get("lesions") or []), *value]
        else:
            merged[key] = value
    return PhantomParameters.parse(merged)


def _version(value: bool) -> None:
    if value:
        _stdout().print(f"ductogram {__version__}")
        raise typer.Exit()


# Arguments shared by the commands that take an exam case file.
ExamCaseArgument = Annotated[
    Path,
    typer.Argument(
        metavar="CASE",
        help="Case file (YAML or JSON) with sections patient, phantom and exam.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path,
    typer.Option(
        "--out", help="Output folder (created; must not exist or be empty).", show_default=False
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace the output folder if it is not empty.")
]


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """ductogram: ductography (galactography) in software.

    Breast and duct-tree phantoms with intraductal lesions, and their ground truth, for
    virtual trials and reading-algorithm development.
    """


def _summary(phantom, files: list[Path], out: Path) -> list[Table]:
    p = phantom.parameters
    overview = Table(title="Phantom", show_header=False, title_justify="left")
    overview.add_column("", style="bold")
    overview.add_column("")
    overview.add_row("seed", str(phantom.seed))
    overview.add_row("laterality", Laterality(p.laterality).value)
    overview.add_row("volume", f"{p.volume_ml:.0f} mL")
    overview.add_row("glandular fraction", f"{100 * p.glandular_fraction:.1f} %")
    overview.add_row("compressed thickness", f"{p.compressed_thickness_mm:.1f} mm")
    overview.add_row("lobes", str(p.lobes))
    overview.add_row("orifices (duct systems)", str(p.orifices))
    overview.add_row("branches", str(phantom.n_branches))

    systems = Table(title="Duct systems", title_justify="left")
    for name in ("system", "lobes", "branches", "max generation", "lesions"):
        systems.add_column(name, justify="left" if name == "lesions" else "right")
    for tree in phantom.trees:
        lesions = "\n".join(
            f"{LesionKind(les.kind).value}: {les.description}" for les in tree.lesions
        )
        systems.add_row(
            str(tree.system),
            str(len(phantom.lobes.lobes_of_system(tree.system))),
            str(tree.n_branches),
            str(tree.max_generation),
            lesions or "-",
        )

    written = Table(title=f"Files in {out}", show_header=False, title_justify="left")
    written.add_column("")
    for f in files:
        written.add_row(f.name)
    return [overview, systems, written]


@app.command()
def phantom(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output folder (created; must not exist or be empty).",
            show_default=False,
        ),
    ],
    case: Annotated[
        Path | None,
        typer.Argument(
            metavar="CASE",
            help="Case file (YAML or JSON) of phantom parameters; flags override it.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same phantom.")] = 0,
    force: ForceOption = False,
    laterality: Annotated[
        Laterality | None,
        typer.Option(case_sensitive=False, metavar="L|R", help="Breast side.", show_default=False),
    ] = None,
    volume_ml: Annotated[
        float | None, typer.Option(help="Breast volume (mL), 150-2500.", show_default=False)
    ] = None,
    glandular_fraction: Annotated[
        float | None,
        typer.Option(help="Fibroglandular fraction, 0.01-0.95.", show_default=False),
    ] = None,
    thickness_mm: Annotated[
        float | None,
        typer.Option(help="Compressed thickness (mm), 10-150.", show_default=False),
    ] = None,
    lobes: Annotated[
        int | None, typer.Option(help="Number of lobes, 1-24.", show_default=False)
    ] = None,
    orifices: Annotated[
        int | None,
        typer.Option(help="Number of duct orifices (systems), 1-lobes.", show_default=False),
    ] = None,
    lesion: Annotated[
        list[LesionKind] | None,
        typer.Option(
            metavar="KIND",
            help="Add a lesion of this kind (repeatable); its place and size are drawn.",
            show_default=False,
        ),
    ] = None,
    tdlus_per_lobe: Annotated[
        int | None,
        typer.Option(help="TDLUs per lobe, 10-1000 (default 180).", show_default=False),
    ] = None,
) -> None:
    """Generate a breast phantom and write its ground truth and pictures to --out.

    Writes `phantom.json` (every value used, the breast, lobes, views and each duct
    system's nodes, segments, branches, TDLUs and lesions), `system_XX.graphml` (one
    duct graph per system), `phantom.png` (CC and ML of all systems and of one) and
    `system_XX_cc_ml.png` (that system as a galactogram). Lesion kinds: papilloma,
    multiple_papillomas, carcinoma, ectasia, cyst, stricture.
    """
    from .anatomy.figures import save_figures
    from .anatomy.phantom import generate_phantom
    from .anatomy.truth import write_phantom

    flags = {
        "laterality": None if laterality is None else laterality.value,
        "volume_ml": volume_ml,
        "glandular_fraction": glandular_fraction,
        "compressed_thickness_mm": thickness_mm,
        "lobes": lobes,
        "orifices": orifices,
        "tdlus_per_lobe": tdlus_per_lobe,
        "lesions": None if not lesion else [{"kind": k.value} for k in lesion],
    }
    err = _stderr()
    with _reported(out):
        case_data = load_case(case) if case is not None else {}
        params = merge_parameters(case_data, flags)
        target = check_output_directory(out, overwrite=force)
        with err.status("Generating the phantom..."):
            ph = generate_phantom(params, seed=seed)
        with err.status(f"Writing {target}..."):
            files = write_phantom(ph, target, overwrite=force, also=[save_figures])
    console = _stdout()
    for table in _summary(ph, files, target):
        console.print(table)


def _exam_summary(procedure, files: list[Path], out: Path) -> list[Table]:
    p = procedure
    overview = Table(title="Exam", show_header=False, title_justify="left")
    overview.add_column("", style="bold")
    overview.add_column("")
    overview.add_row("patient", f"{p.patient.id}, {p.patient.age_years:g} years")
    outcome = p.outcome.value.replace("_", " ")
    style = "green" if p.outcome.value == "completed" else "yellow"
    overview.add_row("outcome", Text(outcome, style=f"bold {style}"))
    overview.add_row("reason", p.outcome_reason)
    if p.duct is not None:
        overview.add_row("duct", f"{p.duct.name} (system {p.duct.system})")
    if p.agent is not None and p.injected_ml is not None:
        overview.add_row("contrast", f"{p.injected_ml:.2f} mL {p.agent.product} ({p.agent.id})")
    if p.views:
        views = ", ".join(f"{v.view.value}{' (moved)' if v.patient_moved else ''}" for v in p.views)
        overview.add_row("views", views)
    if p.fill is not None:
        overview.add_row(
            "fill",
            f"{p.fill['held_ml']:.2f} mL held, generation {p.fill['max_generation_filled']}"
            + (", lobular blush" if p.fill.get("lobular_blush") else ""),
        )
    overview.add_row("duration", f"{p.duration_min:.0f} min (simulated)")

    screening = Table(title="Screening", title_justify="left")
    for name in ("rule", "decision", "action"):
        screening.add_column(name)
    for d in p.screening.decisions:
        screening.add_row(d.rule, d.decision.value.replace("_", " "), d.action)
    tables = [overview, screening]
    if p.complications:
        complications = Table(title="Complications", title_justify="left")
        complications.add_column("kind")
        complications.add_column("action")
        for c in p.complications:
            complications.add_row(c.kind.value.replace("_", " "), c.action)
        tables.append(complications)
    written = Table(title=f"Files in {out}", show_header=False, title_justify="left")
    written.add_column("")
    for f in files:
        written.add_row(f.name)
    tables.append(written)
    return tables


@app.command()
def exam(
    case: ExamCaseArgument,
    out: OutputOption,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same phantom and exam.")] = 0,
    force: ForceOption = False,
    rules: Annotated[
        Path | None,
        typer.Option(
            help="Screening rules file (YAML); default: the table shipped with ductogram.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run screening and a ductography exam for a case file; write its record to --out.

    Writes `procedure.json` (the time-stamped procedure record: screening decisions with
    their reasons, consent, duct, cannula, contrast, views, complications, fill summary,
    aftercare), `procedure.schema.json` (its JSON schema), `summary.md` (a readable
    summary), and the phantom's truth (`phantom.json`, `system_XX.graphml`). An exam that
    is not done (not indicated, contraindicated, deferred, declined, cannulation failed)
    is a result too, and is written the same way.
    """
    from .anatomy.phantom import generate_phantom
    from .exam.procedure import run_exam
    from .exam.record import ExamCase, write_exam
    from .exam.screening import load_rules

    err = _stderr()
    with _reported(out):
        parsed = ExamCase.parse(load_case(case))
        table = load_rules(rules)
        target = check_output_directory(out, overwrite=force)
        with err.status("Generating the phantom..."):
            ph = generate_phantom(parsed.phantom, seed=seed)
        with err.status("Running the exam..."):
            procedure, _ = run_exam(parsed.patient, ph, parsed.exam, rng=seed, rules=table)
        with err.status(f"Writing {target}..."):
            files = write_exam(procedure, ph, target, overwrite=force)
    console = _stdout()
    for t in _exam_summary(procedure, files, target):
        console.print(t)


@app.command()
def simulate(
    case: ExamCaseArgument,
    out: OutputOption,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same exam and views.")] = 0,
    force: ForceOption = False,
    pixel_mm: Annotated[
        float, typer.Option("--pixel-mm", help="Detector pitch (mm), 0.05-0.2.")
    ] = 0.085,
    dicom: Annotated[
        bool,
        typer.Option(
            "--dicom/--no-dicom",
            help="Also write the study as DICOM (MG for presentation and processing, SEG).",
        ),
    ] = True,
    skip_preparation: Annotated[
        bool,
        typer.Option(
            "--skip-preparation",
            help="Leave deodorant/powder and jewellery on, as the patient record has them.",
        ),
    ] = False,
    device: Annotated[
        str,
        typer.Option(
            "--device", help="Where the views are computed: cpu, or cuda (an NVIDIA GPU, CuPy)."
        ),
    ] = "cpu",
) -> None:
    """Simulate a ductogram: phantom, exam, then the x-ray views of the filled ducts.

    Writes everything `ductogram exam` writes, the study as DICOM in `dicom/` (MG for
    presentation and for processing, and the truth contrast mask as SEG; `--no-dicom`
    leaves it out), and per view `LCC.png` (preview),
    `LCC.npz` (the for-processing and for-presentation images and their truth: contrast and
    breast masks, projected centrelines with radii, bubbles, nipple) and `views.json`
    (technique, dose per view and for the exam, lesion positions). An exam that was not
    completed has no views.
    """
    from .anatomy.figures import save_figures
    from .anatomy.truth import write_phantom
    from .exam.record import ExamCase, write_procedure
    from .imaging.previews import write_views
    from .io import StudyInfo, write_study
    from .pipeline import simulate_case

    err = _stderr()
    with _reported(out):
        parsed = ExamCase.parse(load_case(case))
        if not 0.05 <= pixel_mm <= 0.2:
            raise ParameterError("pixel_mm", pixel_mm, "a pitch in [0.05, 0.2] mm")
        target = check_output_directory(out, overwrite=force)
        with err.status("Simulating...") as spinner:
            ph, procedure, _, views = simulate_case(
                parsed,
                seed=seed,
                pixel_mm=pixel_mm,
                device=device,
                skip_preparation=skip_preparation,
                status=spinner.update,
            )

        def extra(phantom_, folder):
            files = write_procedure(procedure, folder) + save_figures(phantom_, folder)
            if views:
                files += write_views(views, folder)
            if views and dicom:
                (Path(folder) / "dicom").mkdir()
                files += write_study(
                    views,
                    Path(folder) / "dicom",
                    patient_id=parsed.patient.id,
                    study=StudyInfo(
                        patient_id=parsed.patient.id,
                        patient_age_years=parsed.patient.age_years,
                    ),
                    procedure=procedure,
                )
            return files

        with err.status(f"Writing {target}..."):
            files = write_phantom(ph, target, overwrite=force, also=[extra])
    console = _stdout()
    for t in _exam_summary(procedure, files, target):
        console.print(t)
    if views:
        doses = Table(title="Views")
        for col in ("view", "technique", "mAs", "MGD (mGy)", "magnification"):
            doses.add_column(col)
        for sv in views:
            e = sv.exposure
            doses.add_row(
                f"{sv.presentation.laterality.value}{sv.presentation.view.value}",
                f"{e['anode']}/{e['filter']} {e['kvp']:.0f} kV",
                f"{e['mas']:.1f}",
                f"{sv.dose['mgd_mgy']:.2f}",
                f"{sv.presentation.magnification:.2f}",
            )
        console.print(doses)


def _evaluate_table(summary: dict, out: Path) -> list[Table]:
    fig = summary["figures"]

    def num(value, fmt="{:.3f}"):
        return "-" if value is None else fmt.format(value)

    table = Table(title=f"Reading {summary['cases']} simulated cases", title_justify="left")
    for name in ("figure", "value", "target"):
        table.add_column(name, justify="left" if name == "figure" else "right")
    targets = summary["targets"]
    rows = [
        ("Dice (mean)", "dice_mean", "{:.3f}"),
        ("clDice (mean)", "cl_dice_mean", "{:.3f}"),
        ("branch-point F1 (pooled)", "bifurcation_f1_pooled", "{:.3f}"),
        ("branch-point precision / recall", None, None),
        ("end-point F1 (pooled)", "end_f1_pooled", "{:.3f}"),
        ("branch-point F1, tree of the true mask", "true_mask_bifurcation_f1_pooled", "{:.3f}"),
        ("end-point F1, tree of the true mask", "true_mask_end_f1_pooled", "{:.3f}"),
        ("calibre error, median (mm)", "calibre_error_median_mm", "{:.3f}"),
        ("calibre bias, median (mm)", "calibre_bias_median_mm", "{:+.3f}"),
        ("read time, median (s)", "read_s_median", "{:.2f}"),
    ]
    for label, key, fmt in rows:
        if key is None:
            value = (
                f"{num(fig['bifurcation_precision_pooled'])} / "
                f"{num(fig['bifurcation_recall_pooled'])}"
            )
            table.add_row(label, value, "")
            continue
        target = targets.get(key)
        if target is None:
            table.add_row(label, num(fig[key], fmt), "")
        else:
            style = "green" if target["met"] else "yellow"
            table.add_row(label, Text(num(fig[key], fmt), style=style), target["target"])
    if fig["cases_with_message"]:
        table.add_row("cases read as empty", str(fig["cases_with_message"]), "")
    return [table, _files_table(out, ("cases.csv", "summary.json", "metrics.png", "calibre.png"))]


def _files_table(out: Path, names: tuple[str, ...]) -> Table:
    """The files an evaluation wrote into ``out``."""
    written = Table(title=f"Files in {out}", show_header=False, title_justify="left")
    written.add_column("")
    for name in names:
        written.add_row(name)
    return written


def _interval(ci) -> str:
    if ci is None or any(v is None or v != v for v in ci):
        return ""
    return f"{ci[0]:.2f}-{ci[1]:.2f}"


def _target_text(target) -> str:
    op, bound = target
    return f"{op} {bound:g}"


def _style(target: dict) -> str:
    """Green: met; red: missed; yellow: met or missed by the figure while its interval
    holds the target (unsettled)."""
    if target.get("settled") is False:
        return "yellow"
    return "green" if target["met"] else "red"


def _findings_tables(summary: dict, out: Path) -> list[Table]:
    """What `evaluate --findings` prints: each figure with its 95 % interval and target."""
    table = Table(
        title=f"Findings of {summary['exams']} simulated two-view exams ({summary['mix']} mix)",
        title_justify="left",
    )
    for name in ("figure", "value", "95 % interval", "target"):
        table.add_column(name, justify="left" if name == "figure" else "right")
    targets = summary["targets"]
    rows = [
        ("sensitivity at 0.25 FP/view", "sensitivity_at_0.25_fp_per_view", "{:.2f}"),
        ("case accuracy (normal vs abnormal)", "case_accuracy", "{:.3f}"),
        ("  specificity", "specificity", "{:.3f}"),
        ("  sensitivity", "case_sensitivity", "{:.3f}"),
        ("bubbles called papilloma", "bubbles_called_papilloma_rate", "{:.2f}"),
        ("distance from the nipple error, median (mm)", "distance_error_mm_median", "{:.1f}"),
        ("clock hour within 1 h", "clock_within_1h", "{:.2f}"),
        ("two-view read, median (s)", "read_s_median", "{:.2f}"),
    ]
    for label, key, fmt in rows:
        value = summary.get(key)
        text = "-" if value is None or value != value else fmt.format(value)
        ci = _interval(summary["ci95"].get(key))
        target = targets.get(key)
        if target is None:
            table.add_row(label, text, ci, "")
            continue
        table.add_row(label, Text(text, style=_style(target)), ci, _target_text(target["target"]))
    table.add_row("filling defects >= 3 mm (targets)", str(summary["lesion_targets"]), "", "")
    by_lesion = Table(title="Exams read right, by truth", title_justify="left")
    for name in ("truth", "exams", "read right"):
        by_lesion.add_column(name, justify="left" if name == "truth" else "right")
    for kind, accuracy in sorted(summary["case_accuracy_by_lesion"].items()):
        by_lesion.add_row(kind, str(summary["exams_by_lesion"][kind]), f"{accuracy:.2f}")
    files = _files_table(out, ("exams.csv", "froc.json", "summary.json", "froc.png"))
    return [table, by_lesion, files]


def _quality_tables(summary: dict, views: int, out: Path) -> list[Table]:
    """What `evaluate --quality` prints: per flag, sensitivity and false flags with
    their 95 % intervals."""
    from .evaluate.quality_eval import QUALITY_TARGETS

    sens, false = QUALITY_TARGETS["sensitivity"], QUALITY_TARGETS["false_flag_rate"]
    table = Table(
        title=f"Image-quality flags on {views} simulated views (targets: sensitivity "
        f"{_target_text(sens)}, false flags {_target_text(false)})",
        title_justify="left",
    )
    for name in ("flag", "with", "sensitivity (95 %)", "without", "false flags (95 %)"):
        table.add_column(name, justify="left" if name == "flag" else "right")

    def rate(value, ci) -> str:
        return "-" if value != value else f"{value:.2f} ({_interval(ci)})"

    for code, f in summary["per_flag"].items():
        styles = {_style(f["sensitivity_target"]), _style(f["false_flag_rate_target"])}
        style = (
            "" if f["met"] is None else next(c for c in ("red", "yellow", "green") if c in styles)
        )
        table.add_row(
            Text(code, style=style),
            str(f["positives"]),
            rate(f["sensitivity"], f["sensitivity_ci95"]),
            str(f["negatives"]),
            rate(f["false_flag_rate"], f["false_flag_rate_ci95"]),
        )
    return [table, _files_table(out, ("views.csv", "summary.json"))]


@app.command()
def evaluate(
    out: OutputOption,
    cases: Annotated[
        int,
        typer.Option(
            "--cases",
            help="Number of simulated cases (two-view exams with --findings, views with "
            "--quality), >= 1.",
        ),
    ] = 20,
    seed: Annotated[
        int,
        typer.Option(
            help="Random seed: same seed, same cases (with --quality the views' seeds are "
            "SEED to SEED + CASES - 1)."
        ),
    ] = 0,
    force: ForceOption = False,
    pixel_mm: Annotated[
        float | None,
        typer.Option(
            "--pixel-mm",
            help="Detector pitch (mm), 0.05-0.2 [default: 0.085; 0.2 with --findings or "
            "--quality].",
            show_default=False,
        ),
    ] = None,
    supersample: Annotated[
        int | None,
        typer.Option(
            help="Rays per pixel along each axis for the ducts, 1-4 [default: 2; 1 with "
            "--findings; --quality takes 1].",
            show_default=False,
        ),
    ] = None,
    findings: Annotated[
        bool,
        typer.Option(
            "--findings",
            help="Score the findings and the case assessment on two-view exams: FROC of "
            "filling defects, normal against abnormal, bubbles called papilloma, location.",
        ),
    ] = False,
    quality: Annotated[
        bool,
        typer.Option(
            "--quality",
            help="Score the image-quality flags on single views, half of them with a "
            "problem (the reported set: --cases 140 --seed 2000).",
        ),
    ] = False,
    lesion: Annotated[
        str | None,
        typer.Option(
            help="With --findings: give every exam this lesion (papilloma, "
            "multiple_papillomas, carcinoma, ectasia, cyst, stricture).",
            show_default=False,
        ),
    ] = None,
    presentation: Annotated[
        bool,
        typer.Option("--presentation", help="With --quality: judge the FOR PRESENTATION images."),
    ] = False,
    workers: Annotated[
        int, typer.Option(help="With --findings or --quality: processes to use, >= 1.")
    ] = 1,
) -> None:
    """Simulate varied ductograms, read them, and score the readings against the truth.

    By default the duct tree reading: the cases are drawn from the seed: normal trees and
    trees with each kind of lesion, 0.3-2 mL of contrast, breasts of 300-1200 mL, CC, ML
    and MLO views, some with air bubbles, deodorant specks or patient motion. Writes
    `cases.csv` (one row per case: Dice and clDice of the duct mask, branch- and end-point
    precision, recall and F1 within 1 mm, median calibre error on ducts of 0.5 mm or more,
    read time), `summary.json` (means, pooled figures, the targets and whether they are
    met), `metrics.png` and `calibre.png`, all at once.

    With --findings, two-view exams of the same mix, read as a radiologist would be
    asked to (findings, BI-RADS): `exams.csv`, `froc.json`, `summary.json` (each figure
    with its 95 % interval, its target and whether it is met) and `froc.png`. With
    --quality, single views with each image-quality problem: `views.csv` and
    `summary.json`.
    """
    from .evaluate.harness import LESIONS

    err = _stderr()
    with _reported(out):
        if findings and quality:
            raise ParameterError("--findings/--quality", "both", "one of them, or neither")
        if lesion is not None and not findings:
            raise ParameterError("--lesion", lesion, "--findings with it")
        if presentation and not quality:
            raise ParameterError("--presentation", True, "--quality with it")
        if workers != 1 and not (findings or quality):
            raise ParameterError("--workers", workers, "--findings or --quality with it")
        if supersample is not None and quality:
            raise ParameterError(
                "--supersample", supersample, "none with --quality (its views take one ray)"
            )
        if cases < 1:
            raise ParameterError("cases", cases, "a whole number of cases >= 1")
        if workers < 1:
            raise ParameterError("workers", workers, "a whole number of processes >= 1")
        if lesion is not None and lesion not in LESIONS:
            raise ParameterError("lesion", lesion, f"one of {', '.join(LESIONS)}")
        if pixel_mm is None:
            pixel_mm = 0.2 if findings or quality else 0.085
        if supersample is None:
            supersample = 1 if findings or quality else 2
        if not 0.05 <= pixel_mm <= 0.2:
            raise ParameterError("pixel_mm", pixel_mm, "a pitch in [0.05, 0.2] mm")
        if not 1 <= supersample <= 4:
            raise ParameterError("supersample", supersample, "an integer in [1, 4]")
        if findings:
            tables = _evaluate_findings(
                out, cases, seed, force, pixel_mm, supersample, lesion, workers, err
            )
        elif quality:
            from .evaluate.quality_eval import evaluate_quality

            with err.status(f"Simulating, reading and judging {cases} views..."):
                summary = evaluate_quality(
                    range(seed, seed + cases),
                    pixel_mm=pixel_mm,
                    presentation=presentation,
                    workers=workers,
                    out=out,
                    overwrite=force,
                )
            tables = _quality_tables(summary, cases, out)
        else:
            tables = _evaluate_trees(out, cases, seed, force, pixel_mm, supersample, err)
    console = _stdout()
    for t in tables:
        console.print(t)


def _progress_bar(err: Console):
    """A bar on stderr for cases simulated and read, gone when done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _evaluate_findings(out, cases, seed, force, pixel_mm, supersample, lesion, workers, err):
    from .evaluate.findings_eval import evaluate_findings

    with _progress_bar(err) as bar:
        task = bar.add_task("Simulating and reading exams", total=cases)

        def advance(spec, row) -> None:
            if row.get("score") is None:
                read = row.get("message") or "not read"
            else:
                read = "normal" if row["read_normal"] else f"BI-RADS {row['birads']}"
            bar.update(
                task,
                advance=1,
                description=f"exam {spec.index + 1} ({spec.lesion or 'normal'}): {read}",
            )

        summary = evaluate_findings(
            cases,
            seed,
            out,
            pixel_mm=pixel_mm,
            supersample=supersample,
            workers=workers,
            overwrite=force,
            lesion=lesion,
            progress=advance,
        )
    return _findings_tables(summary, out)


def _evaluate_trees(out, cases, seed, force, pixel_mm, supersample, err):
    from .evaluate.harness import draw_cases
    from .evaluate.harness import evaluate as run_evaluation

    draw_cases(cases, seed)
    target = check_output_directory(out, overwrite=force)
    with _progress_bar(err) as bar:
        task = bar.add_task("Simulating and reading", total=cases)

        def advance(spec, row) -> None:
            bar.update(
                task, advance=1, description=f"case {spec.index + 1}: Dice {row['dice']:.2f}"
            )

        summary = run_evaluation(
            cases,
            seed,
            target,
            pixel_mm,
            supersample=supersample,
            overwrite=force,
            progress=advance,
        )
    return _evaluate_table(summary, target)


def _run_summary(run, target: Path) -> list[Table]:
    """What a run made: the exam's outcome, the reading, the report's assessment."""
    p = run.procedure
    overview = Table(title=f"Ductogram {p.patient.id}", show_header=False, title_justify="left")
    overview.add_column("", style="bold")
    overview.add_column("")
    overview.add_row("exam", f"{p.outcome.value}: {p.outcome_reason}")
    if run.reading is not None:
        counted = [les for les in run.reading.lesions if les.counted]
        overview.add_row(
            "reading",
            "; ".join(f"{les.kind}, {les.location or 'location unknown'}" for les in counted)
            or "normal arborisation",
        )
    if run.report is not None:
        overview.add_row("assessment", run.report.assessment.category_text)
        for rec in run.report.recommendations:
            overview.add_row("recommendation", rec.text)
    for stage, seconds in run.timings_s.items():
        overview.add_row(f"{stage} (s)", f"{seconds:.1f}")
    overview.add_row("open", str(target / "index.html"))
    return [overview]


def _run(case, out: Path, *, seed, pixel_mm, device, force, title=None) -> None:
    from .pipeline import run_case

    err = _stderr()
    with _reported(out):
        with err.status("Starting...") as spinner:
            run = run_case(
                case,
                out,
                seed=seed,
                pixel_mm=pixel_mm,
                device=device,
                force=force,
                title=title,
                status=spinner.update,
            )
    console = _stdout()
    for t in _run_summary(run, run.folder):
        console.print(t)


SeedOption = Annotated[int, typer.Option(help="Random seed: same seed, same exam and views.")]
PixelOption = Annotated[float, typer.Option("--pixel-mm", help="Detector pitch (mm), 0.05-0.2.")]
DeviceOption = Annotated[
    str, typer.Option("--device", help="Where the views are computed: cpu, or cuda.")
]


@app.command()
def run(
    case: ExamCaseArgument,
    out: OutputOption,
    seed: SeedOption = 0,
    force: ForceOption = False,
    pixel_mm: PixelOption = 0.085,
    device: DeviceOption = "cpu",
) -> None:
    """The whole exam for a case file, from the patient to the report.

    Phantom, screening, consent, cannulation, injection, the views (and the DICOM study),
    the reading of the views, and the report (HTML, PDF, letter to the patient, DICOM SR,
    FHIR); `index.html` in the output folder shows the case from the patient to the report.
    """
    _run(case, out, seed=seed, pixel_mm=pixel_mm, device=device, force=force)


@app.command()
def demo(
    case: Annotated[
        str,
        typer.Option(
            "--case",
            help="normal, papilloma, carcinoma, ectasia, bubbles, no-discharge or pregnant.",
        ),
    ] = "papilloma",
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (replaced if it exists).")
    ] = Path("out/demo"),
    seed: SeedOption = 7,
    pixel_mm: PixelOption = 0.085,
    device: DeviceOption = "cpu",
) -> None:
    """A packaged case from the patient to the report (default: a bloody single-duct
    discharge from the left breast, and a solitary papilloma).

    Writes the folder of `ductogram run` (open its `index.html`).
    """
    from .pipeline import DEMO_CASES

    if case not in DEMO_CASES:
        raise _fail(f"case = {case!r}: expected one of {', '.join(DEMO_CASES)}")
    title = f"ductogram demo: {case} ({DEMO_CASES[case][1]})"
    _run(case, out, seed=seed, pixel_mm=pixel_mm, device=device, force=True, title=title)


@app.command()
def report(
    record: Annotated[
        Path,
        typer.Argument(
            metavar="REPORT_JSON",
            help="A report.json (from `ductogram run`), its findings or assessment edited.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the outputs (default: the record's folder)."),
    ] = None,
) -> None:
    """Re-make a report from its edited record: the findings and the assessment a
    radiologist changed in `report.json` give a new report, letter, SR and FHIR bundle
    (the text is rebuilt from the record, never edited as text)."""
    from .pipeline import key_image_sources
    from .report import rebuild_report_file
    from .report.output import write_report

    try:
        if not record.is_file():
            raise ParameterError("REPORT_JSON", str(record), "an existing report.json")
        folder = out if out is not None else record.parent
        folder.mkdir(parents=True, exist_ok=True)
        rebuilt = rebuild_report_file(record, out=folder / "report.json")
        images, trees = key_image_sources(record.parent)
        files = write_report(rebuilt, folder, images=images, trees=trees)
    except (DuctogramError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"cannot write {str(out)!r}: {exc}", WRITE_ERROR) from exc
    console = _stdout()
    console.print(rebuilt.assessment.category_text)
    for rec in rebuilt.recommendations:
        console.print(f"Recommendation: {rec.text}")
    console.print(f"{len(files)} files written to {folder}")


@app.command()
def read(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILES...", help="The views of one exam: DICOM, or PNG/TIFF with --pixel-mm."
        ),
    ],
    pixel_mm: Annotated[
        float | None,
        typer.Option("--pixel-mm", help="Pixel spacing (mm) of PNG/TIFF views."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write reading.json and overlays here."),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Read a ductogram: the duct tree of each view, the findings and where they are, the
    image quality, and a suggested BI-RADS category with its reasons."""
    from .analysis.assessment import read_exam
    from .analysis.overlay import draw_overlay
    from .analysis.reading import read_view
    from .core.files import atomic_directory
    from .core.files import write_json_atomic as write_json
    from .io import read_image, read_raster

    with _reported(out):
        images = []
        for path in files:
            if not path.is_file():
                raise ParameterError("FILES", str(path), "existing DICOM, PNG or TIFF files")
            if path.suffix.lower() in (".png", ".tif", ".tiff"):
                if pixel_mm is None:
                    raise ParameterError("--pixel-mm", None, "the pixel spacing of PNG/TIFF views")
                images.append(read_raster(path, pixel_mm))
            else:
                images.append(read_image(path))
        readings = [read_view(image) for image in images]
        exam = read_exam(images, readings=readings)
        if out is not None:
            target = check_output_directory(out, overwrite=force)
            with atomic_directory(target, overwrite=force) as tmp:
                write_json(Path(tmp) / "reading.json", exam.model_dump(mode="json"))
                for path, image, reading in zip(files, images, readings, strict=True):
                    draw_overlay(image, reading, Path(tmp) / f"{path.stem}_overlay.png")
    _stdout().print(exam.summary())
