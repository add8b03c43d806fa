"""What the training scripts share: their command line (collect, train, evaluate)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable


def run_steps(
    doc: str | None,
    collect: Callable[[int], None],
    train: Callable[[], None],
    evaluate: Callable[[], None],
) -> None:
    """Run the step named on the command line (``collect`` takes ``--workers``)."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    ap.add_argument("step", choices=("collect", "train", "evaluate"))
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    if args.step == "collect":
        collect(args.workers)
    elif args.step == "train":
        train()
    else:
        evaluate()
