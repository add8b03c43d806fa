"""``ductogram.analysis`` reads real images too: importing it, and every module in it,
must not import the simulator (``ductogram.anatomy``, ``ductogram.exam``,
``ductogram.imaging``)."""

from __future__ import annotations

import json
import subprocess
import sys

SIMULATOR = ("ductogram.anatomy", "ductogram.exam", "ductogram.imaging")

_PROBE = """
import importlib, json, pkgutil, sys
import ductogram.analysis as package
names = [package.__name__]
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(info.name)
    names.append(info.name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def test_analysis_never_imports_the_simulator():
    # A fresh interpreter: this test session has imported the simulator already.
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "ductogram.analysis.landmarks" in result["modules"]
    leaked = [
        name
        for name in result["loaded"]
        if any(name == s or name.startswith(s + ".") for s in SIMULATOR)
    ]
    assert leaked == [], f"ductogram.analysis imports the simulator: {leaked}"
