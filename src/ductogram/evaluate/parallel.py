"""Evaluation cases run in worker processes: :func:`ordered_map`.

Each case of an evaluation (a view, a two-view exam) is simulated and read in one process;
the processes are spawned (not forked: the reading itself forks per view where it can,
:func:`ductogram.analysis.assessment.read_exam`), and the results come back in the cases'
order as each is done, so a caller can report progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["ordered_map"]


def ordered_map(fn: Callable[[Any], Any], args: Iterable[Any], workers: int) -> Iterator[Any]:
    """``fn`` of each item of ``args``, in their order: in this process when ``workers``
    is 1 (or there is one item), else in up to ``workers`` spawned processes, one item at
    a time each. ``fn`` must be importable (a module-level function) and its items and
    results picklable. The processes end when the results are consumed or the iterator
    is closed.

    >>> list(ordered_map(abs, [-2, 3], workers=1))
    [2, 3]
    """
    args = list(args)
    if workers <= 1 or len(args) <= 1:
        yield from map(fn, args)
        return
    from multiprocessing import get_context

    with get_context("spawn").Pool(min(workers, len(args))) as pool:
        yield from pool.imap(fn, args, chunksize=1)
