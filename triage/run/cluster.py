"""`triage run --scheduler tcp://HOST:PORT`: the batch's per-file function mapped over a
dask.distributed cluster instead of the local process pool.

How the workers see the photos: the bytes are sent with each task. The client reads each file
(it must be able to: it discovered them), hashes it, skips what --resume can reuse, and submits
the rest; workers need no access to the clinic's folders, no path mapping, and never write
anything (the previews come back as bytes with the row, and the client writes them). The
client keeps at most CLUSTER_TASKS_PER_THREAD tasks per worker thread in flight, so a run of
100,000 photos holds a few dozen in memory. A 12 MP photo is ~3 MB: a 1 Gbit/s link carries
~40 a second (scripts/bench_cluster.py measures local pool against a cluster on the same photos).

A worker that dies takes its tasks with it; the scheduler runs them again elsewhere (Dask's
`distributed.scheduler.allowed-failures`, default 3), and each file's row arrives once. A file
that kills every worker it is sent to becomes an error row. Dask (`pip install "triage[dask]"`)
is imported only here, only when a scheduler is given.
"""

from __future__ import annotations

import os
from typing import Callable, Iterable, Iterator

from . import config
from .discover import UsageError


def scheduler_address(option: str | None) -> str | None:
    """The --scheduler option, else Dask's own DASK_SCHEDULER_ADDRESS, else None (local pool)."""
    return option or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


def _worker_version() -> str:
    """Runs on each worker: the triage version it imports (fails where triage is missing)."""
    from .. import __version__

    return __version__


def _connect(address: str):
    try:
        from dask.distributed import Client
    except ImportError:
        raise UsageError('--scheduler needs Dask: pip install "triage[dask]"') from None
    try:
        return Client(address, timeout=config.CLUSTER_CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def _check_workers(client, address: str) -> int:
    """The number of worker threads; UsageError when there are none or one cannot run triage."""
    from .. import __version__

    try:
        client.wait_for_workers(1, timeout=config.CLUSTER_CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise UsageError(f"the Dask scheduler at {address} has no workers") from None
    try:
        versions = client.run(_worker_version)
    except Exception as e:  # noqa: BLE001 - whatever a worker raised, the cluster cannot run triage
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"a Dask worker cannot run triage ({reason}): install triage {__version__} on every worker") from None
    wrong = sorted(f"{w} has {v}" for w, v in versions.items() if v != __version__)
    if wrong:
        raise UsageError(f"Dask workers run another triage version than {__version__}: {'; '.join(wrong)}")
    return sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())


def map_on_cluster(
    func: Callable, prepared: Iterable[tuple[str, object]], address: str, shared: object, on_failure: Callable
) -> Iterator:
    """Results of func(task, shared) for the prepared items, in completion order: each item is
    ("ready", result), passed through as it is, or ("task", task), run on the cluster. `shared`
    (the model) is sent once to every worker. A task whose workers all died gives
    on_failure(task, reason) instead of a result."""
    from dask.distributed import as_completed

    client = _connect(address)
    with client:
        threads = _check_workers(client, address)
        everywhere = client.scatter(shared, broadcast=True, hash=False)
        window = max(2, config.CLUSTER_TASKS_PER_THREAD * threads)
        running = as_completed(loop=client.loop)
        tasks: dict[str, object] = {}
        items = iter(prepared)
        exhausted = False
        while True:
            while not exhausted and running.count() < window:
                item = next(items, None)
                if item is None:
                    exhausted = True
                elif item[0] == "ready":
                    yield item[1]
                else:
                    future = client.submit(func, item[1], everywhere, pure=False)
                    tasks[future.key] = item[1]
                    running.add(future)
            if running.is_empty():
                return
            future = next(running)
            task = tasks.pop(future.key)
            try:
                result = future.result()
            except Exception as e:  # noqa: BLE001 - KilledWorker and the like: this file's error
                result = on_failure(task, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
            future.release()
            yield result
