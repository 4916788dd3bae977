"""A process pool over a pure per-item function, shared by `triage run` and training.

Workers are started with 'spawn' (no inherited locks or OpenCV threads) and each keeps OpenCV
single-threaded: parallelism comes from processes, one photo each. Results come back in
completion order (`imap_unordered`) so a slow photo does not hold back the rest; memory stays
flat because items are fed as workers ask for them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from typing import Callable, Iterable, Iterator


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _init(initializer, initargs):
    import cv2

    cv2.setNumThreads(1)
    if initializer is not None:
        initializer(*initargs)


def imap_unordered(
    func: Callable, items: Iterable, workers: int, initializer: Callable | None = None, initargs: tuple = ()
) -> Iterator:
    """func(item) for every item, in completion order; in this process when workers == 1."""
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            yield func(item)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(initializer, initargs)) as pool:
        yield from pool.imap_unordered(func, items, chunksize=1)
