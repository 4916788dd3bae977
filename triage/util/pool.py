"""A process pool over a pure per-item function, shared by `triage run` and training.

Workers are started with 'spawn' (no inherited locks or OpenCV threads) and each keeps OpenCV
single-threaded: parallelism comes from processes, one photo each. Workers end with the process
that started them and leave Ctrl-C to it. Results come back in completion order
(`imap_unordered`) so a slow photo does not hold back the rest; memory stays flat because items
are fed as workers ask for them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from typing import Callable, Iterable, Iterator

_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _die_with(parent: int) -> None:
    """End this worker when its parent process ends (Linux: PR_SET_PDEATHSIG), so that a killed
    run leaves no worker to finish its photo and print a BrokenPipeError traceback; and leave
    Ctrl-C to the parent, which stops the pool (no KeyboardInterrupt traceback per worker)."""
    import ctypes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: such a worker ends at its next result
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def _quiet_resource_tracker() -> None:
    """When the parent is killed, multiprocessing's resource tracker process removes the pool's
    semaphores and warns about them in four lines of stderr: it is started with this process's
    -W options, so one is added that ignores that warning (before the first pool starts it)."""
    option = "ignore:resource_tracker:UserWarning"
    if option not in sys.warnoptions:
        sys.warnoptions.append(option)


def _init(parent, initializer, initargs):
    import cv2

    _die_with(parent)
    cv2.setNumThreads(1)
    if initializer is not None:
        initializer(*initargs)


def imap_unordered(
    func: Callable, items: Iterable, workers: int, initializer: Callable | None = None, initargs: tuple = ()
) -> Iterator:
    """func(item) for every item, in completion order; in this process when workers == 1 (with
    OpenCV single-threaded meanwhile, as in a worker: one worker is one core)."""
    if workers <= 1:
        import cv2

        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            if initializer is not None:
                initializer(*initargs)
            for item in items:
                yield func(item)
        finally:
            cv2.setNumThreads(threads)
        return
    ctx = mp.get_context("spawn")
    _quiet_resource_tracker()
    with ctx.Pool(workers, initializer=_init, initargs=(os.getpid(), initializer, initargs)) as pool:
        yield from pool.imap_unordered(func, items, chunksize=1)
