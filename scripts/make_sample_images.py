#!/usr/bin/env python3
"""Regenerate sample_images/: 24 generated photos across the levels and skin tones, with
labels.csv (the contract's dataset layout) and a manifest.csv for `triage run --manifest`.

    .venv/bin/python scripts/make_sample_images.py

Photos are drawn with seed 424242 at 1024x768 and chosen so that every level and every ITA band
appears; the result is deterministic (byte-identical on every run).
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 424242
WANT = 24


def main() -> int:
    from triage import synth

    out = ROOT / "sample_images"
    with tempfile.TemporaryDirectory() as tmp:
        synth.generate(tmp, 160, SEED)
        rows = list(csv.DictReader(io.StringIO((Path(tmp) / "labels.csv").read_text())))
        chosen, seen = [], set()
        # first one per (level, band), then fill by index order
        for r in rows:
            key = (r["label"], r["ita_band"])
            if key not in seen:
                seen.add(key)
                chosen.append(r)
        for r in rows:
            if len(chosen) >= WANT:
                break
            if r not in chosen:
                chosen.append(r)
        chosen = sorted(chosen[:WANT], key=lambda r: r["file"])
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        for r in chosen:
            name = Path(r["file"]).name
            shutil.copy(Path(tmp) / r["file"], out / name)
            r["file"] = name
            r.pop("mask")
    cols = [c for c in synth.LABEL_COLUMNS if c != "mask"]
    with open(out / "labels.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(chosen)
    with open(out / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "days_since_treatment", "patient_id"])
        for r in chosen:
            w.writerow([r["file"], r["days_since_treatment"], r["patient_id"]])
    levels = {lvl: sum(r["label"] == lvl for r in chosen) for lvl in ("normal", "monitor", "seek-care")}
    bands = sorted({r["ita_band"] for r in chosen})
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{len(chosen)} photos in {out}: {levels}; ITA bands {bands}; {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
