"""Mutation fuzzing of the decoder: N mutants of valid small images of every supported format
(tests/fuzz.py: bits flipped, bytes overwritten, inserted, deleted, files cut), each decoded by
triage.measure.io.decode. Prints the outcomes by kind, per format, and the slowest mutants;
exits 1 when any mutant raised something other than a one-line ImageError.

    .venv/bin/python scripts/fuzz_decode.py --n 40000 --seed 1 [--time-limit 600] [--save DIR]

The same --n and --seed give the same mutants; --save writes each defect's bytes to DIR so it
can be replayed with `triage explain`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz import mutants, outcome  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=40000, help="mutants to decode")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--save", type=Path, default=None, help="folder for the bytes of each defect")
    args = ap.parse_args()

    kinds: Counter = Counter()
    per_format: Counter = Counter()
    defects: list[tuple[int, str, str]] = []
    slowest: list[tuple[float, int, str]] = []
    start = time.monotonic()
    done = 0
    for k, (name, data) in enumerate(mutants(args.n, args.seed)):
        if args.time_limit and time.monotonic() - start > args.time_limit:
            break
        t = time.monotonic()
        result, detail = outcome(data)
        slowest = sorted(slowest + [(time.monotonic() - t, k, name)], reverse=True)[:5]
        kinds[(result, detail)] += 1
        per_format[(name.split("/")[0], result)] += 1
        done += 1
        if result == "defect":
            defects.append((k, name, detail))
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"mutant-{args.seed}-{k}.{name.split('/')[0].lower()}").write_bytes(data)
        if done % 5000 == 0:
            print(f"... {done} mutants, {len(defects)} defects, {time.monotonic() - start:.0f} s", file=sys.stderr)

    elapsed = time.monotonic() - start
    print(f"{done} mutants (seed {args.seed}) in {elapsed:.0f} s ({1000 * elapsed / max(done, 1):.1f} ms each)")
    print("\noutcomes by kind:")
    for (result, detail), n in kinds.most_common():
        print(f"{n:8d}  {result:8s} {detail}")
    print("\nper format:")
    for fmt in sorted({f for f, _r in per_format}):
        print(f"  {fmt:5s} " + ", ".join(f"{r} {per_format[(fmt, r)]}" for r in ("decoded", "refused", "defect")))
    print("\nslowest: " + ", ".join(f"#{k} {name} {s * 1000:.0f} ms" for s, k, name in slowest))
    for k, name, detail in defects[:20]:
        print(f"DEFECT #{k} ({name}): {detail}")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
