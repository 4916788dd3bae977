#!/usr/bin/env python3
"""The retraining loop end to end, on generated data, with the public commands only:

  1. reviewed photos: `triage synth` stands in for `triage export-labels` (same dataset layout);
  2. `triage retrain --labels ... --generated N --out ...`: fit, compare with the current default
     on the same held-out photos, register;
  3. `triage models list`;
  4. `triage models promote`: the gate decides (complete card, seek-care recall not lower);
  5. `triage run` triages with whatever is the default now (run.json names it);
  6. `triage models rollback` when something was promoted.

The model history lives in WORK/history (TRIAGE_MODELS_DIR), never the user's.

    .venv/bin/python scripts/retrain_loop.py --work /tmp/loop [--reviewed 300] [--generated 600]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = str(Path(sys.executable).parent / "triage")


def step(title: str, args: list[str], env: dict, check: bool = True) -> subprocess.CompletedProcess:
    print(f"\n$ triage {' '.join(args)}    # {title}", flush=True)
    done = subprocess.run([TRIAGE, *args], env=env, capture_output=True, text=True)
    print((done.stdout + done.stderr).rstrip(), flush=True)
    if check and done.returncode != 0:
        raise SystemExit(f"triage {args[0]} failed with exit code {done.returncode}")
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--reviewed", type=int, default=300)
    ap.add_argument("--generated", type=int, default=600)
    ap.add_argument("--size", default="1024x768")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    work = args.work
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = dict(os.environ, TRIAGE_MODELS_DIR=str(work / "history"))
    env.pop("TRIAGE_MODEL", None)
    w = ["--workers", str(args.workers)] if args.workers else []
    step("reviewed photos (stand-in for export-labels)",
         ["synth", "--out", str(work / "reviewed"), "--n", str(args.reviewed), "--seed", "4100", "--size", args.size, *w], env)  # fmt: skip
    gen = ["--generated", str(args.generated), "--generated-seed", "4200"] if args.generated else []
    if args.generated:  # the generated part at the same size, made once in the cache folder retrain uses
        from triage.learn.dataset import generated_dir

        folder = generated_dir(args.generated, 4200)
        if not (folder / "labels.csv").is_file():
            step("generated photos", ["synth", "--out", str(folder), "--n", str(args.generated), "--seed", "4200", "--size", args.size, *w], env)
    model = work / "models" / "retrained.skops"
    step("fit and compare with the current default", ["retrain", "--labels", str(work / "reviewed"), *gen, "--out", str(model), *w], env)
    step("the model history", ["models", "list"], env)
    promoted = step("promotion gate", ["models", "promote", str(model)], env, check=False).returncode == 0
    step("triage with the default", ["run", str(ROOT / "sample_images"), "--out", str(work / "run"), "--quiet", "--no-report", *w], env, check=False)
    used = json.loads((work / "run" / "run.json").read_text())["model"]
    print(f"run used model {used['name']} {used['version']} (sha256 {used['sha256'][:12]})")
    if promoted:
        step("back to the previous default", ["models", "rollback"], env)
        step("the model history", ["models", "list"], env)
    print(f"\nloop done: promoted={promoted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
