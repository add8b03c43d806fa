"""Benchmark of the report (issue 8): build, render and write every output of one exam.

One completed exam of a small phantom with a filling defect and a cut-off seen on two
0.2 mm views (synthetic pixels, no simulation): the time to build the report, to draw the
key images, to render the HTML and the PDF, to build the TID 1500 and TID 4200 SRs and the
FHIR bundle, and to write them all; the median of several runs. Prints one JSON line.
Run: ``make bench`` (or ``python benchmarks/bench_report.py``).
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time

import numpy as np
from pydicom.uid import generate_uid

from ductogram.anatomy import generate_phantom
from ductogram.exam import run_exam
from ductogram.report import ImageRef, KeyImage, ReportFinding, StudyRefs, ViewDose, report_from
from ductogram.report.fhir import bundle_from_report
from ductogram.report.output import write_report
from ductogram.report.render import key_images, render_html, render_pdf
from ductogram.report.sr import build_breast_imaging_report, build_measurement_report

SHAPE = (1200, 1000)  # a 24 x 20 cm view at 0.2 mm
RUNS = 5


def _median(fn) -> tuple[float, object]:
    times, out = [], None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    phantom = generate_phantom({"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30}, seed=3)
    procedure, _ = run_exam(
        {
            "id": "SYN-0001",
            "age_years": 48,
            "discharge": {
                "spontaneous": True,
                "laterality": "L",
                "ducts": "single",
                "colour": "bloody",
            },
        },
        phantom,
        {"cannulation_failure_probability": 0.0},
        rng=1,
    )
    series = generate_uid()
    study = StudyRefs(
        study_instance_uid=generate_uid(),
        patient_name="SYNTHETIC^DUCTOGRAM",
        patient_sex="F",
        study_id="1",
        study_date="20260101",
        study_time="090000",
        images=[
            ImageRef(
                view=v,
                laterality="L",
                sop_instance_uid=generate_uid(),
                sop_class_uid="1.2.840.10008.5.1.4.1.1.1.2",
                series_instance_uid=series,
                image_shape=SHAPE,
            )
            for v in ("CC", "ML")
        ],
    )
    findings = [
        ReportFinding(
            kind="filling defect",
            size_mm=4.0,
            clock_hour=11,
            depth="anterior",
            distance_from_nipple_cm=2,
            key_images=[
                KeyImage(view="CC", row=400, col=300, radius_px=20),
                KeyImage(view="ML", row=420, col=330, radius_px=20),
            ],
        ),
        ReportFinding(
            kind="abrupt duct termination",
            size_mm=1.5,
            clock_hour=2,
            key_images=[KeyImage(view="CC", row=700, col=600)],
        ),
    ]
    doses = [ViewDose(view=v, laterality="L", mgd_mgy=1.3) for v in ("CC", "ML")]
    rng = np.random.default_rng(0)
    images = {v: rng.random(SHAPE) for v in ("CC", "ML")}
    trees = {v: images[v] > 0.97 for v in ("CC", "ML")}

    build_s, report = _median(lambda: report_from(procedure, doses, findings, study_uids=study))
    pictures_s, pictures = _median(lambda: key_images(report, images, trees))
    html_s, _ = _median(lambda: render_html(report, pictures))
    pdf_s, pdf = _median(lambda: render_pdf(report, pictures))
    sr_s, _ = _median(
        lambda: (build_measurement_report(report), build_breast_imaging_report(report))
    )
    fhir_s, _ = _median(lambda: bundle_from_report(report))
    with tempfile.TemporaryDirectory() as folder:
        write_s, paths = _median(lambda: write_report(report, folder, images=images, trees=trees))
    print(
        json.dumps(
            {
                "benchmark": "report",
                "machine": platform.machine(),
                "python": platform.python_version(),
                "view_shape": SHAPE,
                "build_ms": round(1e3 * build_s, 2),
                "key_images_ms": round(1e3 * pictures_s, 1),
                "html_ms": round(1e3 * html_s, 2),
                "pdf_ms": round(1e3 * pdf_s, 1),
                "pdf_kb": round(len(pdf) / 1024, 1),
                "sr_both_ms": round(1e3 * sr_s, 1),
                "fhir_ms": round(1e3 * fhir_s, 1),
                "write_all_ms": round(1e3 * write_s, 1),
                "files": len(paths),
                "runs": RUNS,
            }
        )
    )


if __name__ == "__main__":
    main()
