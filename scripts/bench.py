#!/usr/bin/env python3
"""Batch-triage speed and memory against bare decoding, measured in one run (public tools only).

Makes phone-size photos with `triage synth --size 4032x3024` (a few distinct ones, linked under
many names for the large runs: `triage run` does the full work for every file) and measures:

  (a) bare decoding of the same files at the working resolution with the same decoder call
      (triage.measure.io.decode: reduced-size JPEG decode + resize), one process: the floor;
  (b) `triage run` cost per photo with 1 worker (the default command: results and report);
  (c) the same with all cores;
  (d) peak memory (RSS summed over the process tree, sampled every 20 ms) for 10 and for N photos;
  (e) `triage --help` start-up (median of 5);
  (f) how much more float array work all cores do than one (the ceiling of b/c here: the cores
      share memory bandwidth).

It prints the figures and the ratios b/a (target <= 2.0, stretch 1.5) and b/c (target >= 1.8 on
2 cores), and how long the large run took (target: 2,000 photos in under 2 minutes).

    .venv/bin/python scripts/bench.py                 # 100 photos for (a)-(c), 10 and 2000 for (d)
    .venv/bin/python scripts/bench.py --quick         # 12 photos, 10 and 200 for (d)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TRIAGE = str(BIN / "triage")


def make_photos(folder: Path, distinct: int, total: int, cache: Path) -> list[Path]:
    """`total` files in `folder`: `distinct` generated 12 MP photos (kept in `cache` between
    runs), hard-linked under new names."""
    src = cache / f"synth-4032x3024-n{distinct}"
    if not (src / "labels.csv").exists():
        print(f"generating {distinct} photos of 4032x3024 in {src} ...", file=sys.stderr)
        subprocess.run([TRIAGE, "synth", "--out", str(src), "--n", str(distinct), "--seed", "2026", "--size", "4032x3024"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    photos = sorted((src / "images").glob("*.jpg"))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(total):
        p = folder / f"photo_{i:05d}.jpg"
        try:
            os.link(photos[i % len(photos)], p)
        except OSError:
            shutil.copy(photos[i % len(photos)], p)
        out.append(p)
    return out


def bare_decode(files: list[Path]) -> float:
    """Seconds per photo to read and decode with triage.measure.io.decode, in this process."""
    import cv2

    from triage.measure.io import decode, read_bytes

    cv2.setNumThreads(1)
    decode(read_bytes(files[0]))  # warm-up: imports, codec tables
    t = time.perf_counter()
    for f in files:
        decode(read_bytes(f))
    return (time.perf_counter() - t) / len(files)


def _tree_rss(pid: int) -> int:
    """RSS in bytes of pid and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


def timed_run(folder: Path, workers: int) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes of the process tree) of `triage run folder`."""
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    try:
        t = time.perf_counter()
        proc = subprocess.Popen([TRIAGE, "run", str(folder), "--out", str(out), "--workers", str(workers), "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        peak = 0
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _out, err = proc.communicate()
        wall = time.perf_counter() - t
        done.set()
        sampler.join()
        if proc.returncode not in (0, 1):
            raise SystemExit(f"triage run failed: {err.decode(errors='replace').strip()}")
        return wall, peak
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _float_work(_: int) -> float:
    """Seconds of a fixed amount of float32 array work at the working size (cube roots, products,
    sums over a 1024 x 768 x 3 map: the kind of pass measuring is made of)."""
    import numpy as np

    img = np.random.default_rng(0).random((768, 1024, 3), dtype=np.float32)
    t = time.perf_counter()
    for _ in range(40):
        np.cbrt(img) * 1.5 + img
    return time.perf_counter() - t


def machine_scaling(cores: int) -> float:
    """How much faster `cores` processes get the same float array work done than one (each does
    the one's amount): the ceiling of b/c on this machine, where memory bandwidth is shared."""
    from multiprocessing import Pool

    one = min(_float_work(0) for _ in range(3))
    with Pool(cores) as pool:
        together = min(max(pool.map(_float_work, range(cores))) for _ in range(3))
    return cores * one / together


def help_startup() -> float:
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([TRIAGE, "--help"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    from triage.util.pool import default_workers

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="photos for (a)-(c)")
    ap.add_argument("--distinct", type=int, default=8, help="distinct generated photos")
    ap.add_argument("--large", type=int, default=2000, help="photos for the large memory run")
    ap.add_argument("--quick", action="store_true", help="12 photos, large run of 200")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench")
    args = ap.parse_args()
    if args.quick:
        args.n, args.large = 12, 200
    cores = default_workers()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        files = make_photos(work / "n", args.distinct, args.n, args.cache)
        make_photos(work / "ten", args.distinct, 10, args.cache)
        make_photos(work / "large", args.distinct, args.large, args.cache)
        a = bare_decode(files)
        wall1, rss1 = timed_run(work / "n", 1)
        wallc, rssc = timed_run(work / "n", cores)
        b, c = wall1 / args.n, wallc / args.n
        _w10, rss10 = timed_run(work / "ten", cores)
        wall_large, rss_large = timed_run(work / "large", cores)
        h = help_startup()
        ceiling = machine_scaling(cores)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mb = 1024 * 1024
    print(f"photos: 4032x3024 JPEG (generated, {args.distinct} distinct), {cores} cores")
    print(f"(a) bare decode to the working size      {a * 1000:7.1f} ms/photo")
    print(f"(b) triage run, 1 worker                 {b * 1000:7.1f} ms/photo   ({args.n} photos, peak RSS {rss1 / mb:.0f} MB)")
    print(f"(c) triage run, {cores} workers                {c * 1000:7.1f} ms/photo   (peak RSS {rssc / mb:.0f} MB)")
    print(f"(d) peak RSS, 10 photos                  {rss10 / mb:7.0f} MB")
    print(f"    peak RSS, {args.large} photos {'':<{21 - len(str(args.large))}}{rss_large / mb:7.0f} MB   "
          f"({wall_large:.0f} s, {wall_large / args.large * 1000:.0f} ms/photo)")  # fmt: skip
    print(f"(e) triage --help                        {h * 1000:7.0f} ms")
    print(f"b/a = {b / a:.2f}  (target <= 2.0, stretch 1.5)")
    print(f"b/c = {b / c:.2f}  (target >= 1.8 with 2 workers; this machine's {cores} processes do {ceiling:.2f}x "
          f"the float array work of one)")  # fmt: skip
    print(f"RSS large/10 = {rss_large / rss10:.2f}  (flat: ~1; target peak < 500 MB)")
    print(f"{args.large} photos in {wall_large:.0f} s  (target: 2,000 in under 120 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
