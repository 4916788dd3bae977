#!/usr/bin/env python3
"""Skin colour statistics of generated photos beside ../shared/real-dev: L*, a*, b*, ITA and the
redness contrast (P90 a* minus the reference a*), over each photo's segmented skin. Prints a
table and writes a plot (default /tmp/triage-realism.png).

    .venv/bin/python scripts/realism_check.py [--n 200] [--plot PATH]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STATS = ["L*", "a*", "b*", "ITA", "redness contrast", "skin fraction"]


def stats_of(rgb, size):
    from triage.measure.photo import measure

    m = measure(rgb, size)
    if m.skin.sum() < 100:
        return None
    lab = m.normalised.lab[m.skin]
    return [float(np.median(lab[:, 0])), float(np.median(lab[:, 1])), float(np.median(lab[:, 2])),
            m.features["ita_deg"], m.features["redness_delta_a"], m.features["skin_fraction"]]  # fmt: skip


def _gen(i):
    from triage.measure import io as tio
    from triage import synth

    data, _m, row = synth.make_photo(55, i, (1024, 768))
    if row["quality_issue"]:
        return None
    d = tio.decode(data)
    return stats_of(d.rgb, (d.width, d.height))


def _real(path):
    from triage.measure.io import load_image

    d = load_image(path)
    return stats_of(d.rgb, (d.width, d.height))


def main() -> int:
    from triage.util.pool import default_workers, imap_unordered

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--plot", type=Path, default=Path("/tmp/triage-realism.png"))
    args = ap.parse_args()
    w = default_workers()
    gen = np.array([s for s in imap_unordered(_gen, range(args.n), w) if s is not None])
    real_dir = ROOT.parent / "shared" / "real-dev"
    if not (real_dir / "labels.csv").exists():
        print("../shared/real-dev not present")
        return 1
    files = [real_dir / r["file"] for r in csv.DictReader(io.StringIO((real_dir / "labels.csv").read_text()))]
    real = np.array([s for s in imap_unordered(_real, files, w) if s is not None])
    print(f"{'statistic':18s} {'generated (n=%d)' % len(gen):>34s} {'real-dev (n=%d)' % len(real):>34s}")
    print(f"{'':18s} {'P10':>10s}{'median':>12s}{'P90':>12s} {'P10':>10s}{'median':>12s}{'P90':>12s}")
    for k, name in enumerate(STATS):
        g, r = np.percentile(gen[:, k], [10, 50, 90]), np.percentile(real[:, k], [10, 50, 90])
        print(f"{name:18s} {g[0]:10.2f}{g[1]:12.2f}{g[2]:12.2f} {r[0]:10.2f}{r[1]:12.2f}{r[2]:12.2f}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    axes[0].scatter(gen[:, 2], gen[:, 0], s=8, alpha=0.5, label="generated")
    axes[0].scatter(real[:, 2], real[:, 0], s=8, alpha=0.5, label="real-dev")
    axes[0].set_xlabel("b* (median over skin)")
    axes[0].set_ylabel("L*")
    axes[0].legend()
    axes[0].set_title("skin colour")
    for k, ax in zip((3, 4), axes[1:]):
        ax.hist(gen[:, k], bins=30, alpha=0.5, density=True, label="generated")
        ax.hist(real[:, k], bins=30, alpha=0.5, density=True, label="real-dev")
        ax.set_xlabel(STATS[k])
        ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=90)
    print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
