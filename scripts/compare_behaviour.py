#!/usr/bin/env python3
"""Proof that a change kept behaviour: the same photos through an earlier commit and through the
working tree, compared row by row.

A git worktree of --base is made in a temporary folder and run with the same virtualenv
(`python -m triage` with PYTHONPATH at the worktree, so its own package and models/ are used).
Both versions triage the same inputs: `sample_images/` (with its manifest) and --real-dev N
photos of ../shared/real-dev (the first of each group in turn, so every group is in), and both
generate --synth N photos with the same seed. It prints, per input set, how many rows are
byte-identical as JSON (every field: features, quality, level, probabilities, explanation,
model) and which fields differ where they do not, and whether the generated files are
byte-identical. Exit 1 when anything differs.

    .venv/bin/python scripts/compare_behaviour.py --base HEAD~3 [--real-dev 60] [--synth 40]
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL_DEV = ROOT.parent / "shared" / "real-dev"


def real_dev_files(n: int) -> list[Path]:
    """n photos of real-dev, round-robin over its groups in file order."""
    if n <= 0 or not (REAL_DEV / "labels.csv").is_file():
        return []
    by_group: dict[str, list[str]] = {}
    with open(REAL_DEV / "labels.csv", newline="") as f:
        for r in csv.DictReader(f):
            by_group.setdefault(r["group"], []).append(r["file"])
    out: list[Path] = []
    while len(out) < n and any(by_group.values()):
        for g in sorted(by_group):
            if by_group[g] and len(out) < n:
                out.append(REAL_DEV / by_group[g].pop(0))
    return out


def triage(code: Path, args: list[str]) -> None:
    env = dict(os.environ, PYTHONPATH=str(code), TRIAGE_CACHE_DIR="off")
    env.pop("TRIAGE_MODEL", None)
    done = subprocess.run([sys.executable, "-m", "triage", *args], env=env, cwd=code, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"triage {' '.join(args[:2])} failed in {code}:\n{done.stderr[-2000:]}")


def compare_rows(a: Path, b: Path) -> tuple[int, int, dict[str, int]]:
    """(rows, identical rows, field -> rows where it differs)."""
    ra = [json.loads(x) for x in a.read_text().splitlines()]
    rb = [json.loads(x) for x in b.read_text().splitlines()]
    if [r["path"] for r in ra] != [r["path"] for r in rb]:
        sys.exit(f"{a} and {b} hold different photos")
    diff: dict[str, int] = {}
    same = 0
    for x, y in zip(ra, rb):
        if json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True):
            same += 1
            continue
        for k in sorted(set(x) | set(y)):
            if json.dumps(x.get(k), sort_keys=True) != json.dumps(y.get(k), sort_keys=True):
                diff[k] = diff.get(k, 0) + 1
    return len(ra), same, diff


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="git revision to compare with")
    ap.add_argument("--real-dev", type=int, default=60, help="photos of ../shared/real-dev (0: none)")
    ap.add_argument("--synth", type=int, default=40, help="generated photos to compare byte for byte (0: none)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="triage-compare-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
                       check=True, capture_output=True)  # fmt: skip
        try:
            inputs = {"sample_images": (["sample_images"], ["--manifest", "sample_images/manifest.csv"])}
            real = real_dev_files(args.real_dev)
            if real:
                inputs[f"real-dev ({len(real)})"] = ([str(p) for p in real], [])
            bad = 0
            for name, (files, extra) in inputs.items():
                outs = {}
                for tag, code in (("base", base), ("head", ROOT)):
                    outs[tag] = tmp / f"{tag}-{len(outs)}-{name.split()[0]}"
                    paths = [str(ROOT / f) if not Path(f).is_absolute() else f for f in files]
                    extra_abs = [str(ROOT / e) if e.endswith(".csv") else e for e in extra]
                    triage(code, ["run", *paths, "--out", str(outs[tag]), "--workers", "2", "--no-report", "--quiet", *extra_abs])
                n, same, diff = compare_rows(outs["base"] / "results.jsonl", outs["head"] / "results.jsonl")
                print(f"{name}: {same} of {n} rows byte-identical" + (f"; differing fields: {diff}" if diff else ""))
                bad += n - same
            if args.synth:
                gens = {}
                for tag, code in (("base", base), ("head", ROOT)):
                    gens[tag] = tmp / f"synth-{tag}"
                    triage(code, ["synth", "--out", str(gens[tag]), "--n", str(args.synth), "--seed", "4242", "--size", "640x480"])
                names = sorted(p.relative_to(gens["base"]).as_posix() for p in gens["base"].rglob("*") if p.is_file())
                differ = [n for n in names if not filecmp.cmp(gens["base"] / n, gens["head"] / n, shallow=False)]
                print(f"synth --n {args.synth}: {len(names) - len(differ)} of {len(names)} files byte-identical"
                      + (f"; differ: {differ[:5]}" if differ else ""))  # fmt: skip
                bad += len(differ)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
