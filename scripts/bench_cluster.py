#!/usr/bin/env python3
"""Throughput of `triage run` on the local process pool against a Dask cluster of the same size
on this machine (a LocalCluster of --workers single-threaded worker processes), on the same
generated photos, in one run: photos per second each way and their ratio. The cluster's cost is
the bytes sent with each task and the scheduler's round trips; on one machine it can only match
the pool, and across machines it adds their cores.

    .venv/bin/python scripts/bench_cluster.py [--n 120] [--size 2016x1512] [--workers 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from dask.distributed import LocalCluster

    from triage import synth
    from triage.run.batch import run

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--size", default="2016x1512")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="timed runs each way (the best counts)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        synth.generate(photos, args.n, seed=77, size=(w, h), workers=args.workers)
        images = photos / "images"
        best = {}
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster:  # fmt: skip
            for k in range(args.repeat):
                for name, options in (("local pool", {"workers": args.workers}), ("dask", {"scheduler": cluster.scheduler_address})):
                    t0 = time.perf_counter()
                    run([images], Path(tmp) / f"out-{name}-{k}", progress=False, report=False, **options)
                    best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
                    same = (Path(tmp) / f"out-{name}-{k}" / "results.jsonl").read_bytes()
                    best.setdefault("rows", same)
                    assert same == best["rows"], "the cluster's rows differ from the pool's"
    print(f"{args.n} photos of {w}x{h}, {args.workers} workers each way, best of {args.repeat} (rows identical)")
    for name in ("local pool", "dask"):
        print(f"  {name:10s} {best[name]:6.1f} s  {args.n / best[name]:5.2f} photos/s")
    print(f"  ratio local pool : dask = {best['dask'] / best['local pool']:.2f} (time on the cluster per time on the pool)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
