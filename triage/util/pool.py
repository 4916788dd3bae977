"""A process pool over a pure per-item function, shared by `triage run` and training.

Workers are started with 'spawn' (no inherited locks or OpenCV threads) and each keeps OpenCV
single-threaded: parallelism comes from processes, one photo each. Results come back in
completion order (`imap_unordered`) so a slow photo does not hold back the rest; memory stays
flat because items are fed as workers ask for them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from typing import Callable, Iterable, Iterator

from .text import printable


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


class Progress:
    """Progress of a long job on stderr, as a callback progress(k, n, detail=""): on a terminal
    one line rewritten for every item, otherwise at most one line a second (and the last). The
    detail (a file name) has its control characters escaped: it cannot start a line of its own."""

    def __init__(self, label: str, enabled: bool = True):
        self.label, self.enabled, self.last = label, enabled, 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, k: int, n: int, detail: str = "") -> None:
        if not self.enabled:
            return
        detail = printable(detail)
        if self.tty:
            sys.stderr.write(f"\r{self.label} [{k}/{n}] {detail[:60]:<60}" + ("\n" if k == n else ""))
        elif time.monotonic() - self.last >= 1.0 or k == n:
            sys.stderr.write(f"{self.label} [{k}/{n}] {detail}\n")
            self.last = time.monotonic()
        sys.stderr.flush()
