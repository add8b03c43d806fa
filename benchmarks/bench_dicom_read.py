"""Benchmark of DICOM reading (issue 5 target: a 4,000 x 3,000 compressed mammogram in <= 2 s).

Writes a 4,000 x 3,000 12-bit MG For Presentation image (a smooth breast-like shape with
texture and noise, so the compressors have realistic work) with :func:`ductogram.io.write_mg`,
re-encodes it in each lossless transfer syntax an encoder is available for here (RLE,
JPEG-LS, JPEG 2000; JPEG lossless through python-gdcm when installed), and times
:func:`ductogram.io.read_image` on each (median of 3); one JSON line.
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import JPEG2000Lossless, JPEGLosslessSV1, JPEGLSLossless, RLELossless

from ductogram.core.image import Image
from ductogram.io import StudyInfo, read_image, write_mg

ROWS, COLS = 3000, 4000  # image frame; stored hung as 4,000 rows x 3,000 columns
TARGET_S = 2.0


def _mammogram(rng: np.random.Generator) -> Image:
    r = np.linspace(0.0, 1.0, ROWS)[:, None]
    c = np.linspace(-1.0, 1.0, COLS)[None, :]
    inside = (r / 0.9) ** 2 + c**2 < 1.0
    texture = rng.normal(0.0, 1.0, (-(-ROWS // 16), -(-COLS // 16)))
    texture = np.kron(texture, np.ones((16, 16)))[:ROWS, :COLS]
    pixels = np.where(inside, 0.45 + 0.05 * texture + 0.01 * rng.normal(size=inside.shape), 0.0)
    return Image(np.clip(pixels, 0, 1), (0.085, 0.085), view="CC", laterality="L")


def _encode(src: Path, dst: Path, syntax: str) -> bool:
    if syntax == JPEGLosslessSV1:
        try:
            import gdcm
        except ImportError:
            return False
        reader = gdcm.ImageReader()
        reader.SetFileName(str(src))
        reader.Read()
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
        change.SetInput(reader.GetImage())
        change.Change()
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(dst))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        return bool(writer.Write())
    ds = pydicom.dcmread(src)
    try:
        ds.compress(syntax)
    except (RuntimeError, NotImplementedError):
        return False
    ds.save_as(dst, enforce_file_format=True)
    return True


def main() -> None:
    image = _mammogram(np.random.default_rng(0))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        plain = write_mg(
            image,
            Path(tmp) / "plain.dcm",
            study=StudyInfo("SYN-BENCH"),
            series_number=1,
            instance_number=1,
        )
        reference = read_image(plain).pixels
        for name, syntax in (
            ("rle", RLELossless),
            ("jpeg_ls", JPEGLSLossless),
            ("jpeg2000", JPEG2000Lossless),
            ("jpeg_lossless", JPEGLosslessSV1),
        ):
            path = Path(tmp) / f"{name}.dcm"
            if not _encode(plain, path, syntax):
                continue
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                read = read_image(path)
                times.append(time.perf_counter() - t0)
            assert np.array_equal(read.pixels, reference), name
            results[name] = {
                "read_s_median": round(statistics.median(times), 3),
                "file_mb": round(path.stat().st_size / 1e6, 2),
            }
    print(
        json.dumps(
            {
                "benchmark": "dicom_read",
                "machine": f"{platform.machine()}, Python {platform.python_version()}",
                "stored_pixels": [COLS, ROWS],
                "syntaxes": results,
                "target_s": TARGET_S,
                "all_within_target": all(r["read_s_median"] <= TARGET_S for r in results.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
