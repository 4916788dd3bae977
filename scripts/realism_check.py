#!/usr/bin/env python3
"""Skin statistics of generated photos beside real ones, per kind of photo: L*, a*, b*, ITA,
melanin and hemoglobin of the Tsumura decomposition (triage.measure.chromophores), the redness
contrast (redness_delta_a), the fine texture (texture_roughness) and the hemoglobin index, over
each photo's segmented skin (medians per photo; the table gives P10 / median / P90 over photos).

Columns: plain generated photos (`triage synth`, seed 55); photos painted on real canvases
(--canvas-data, a folder `triage synth --canvas` wrote) as painted and, apart, those whose skin
was made darker (labels.csv melanin_step > 0); ../shared/real-dev, all and its darker photos
(decomposed melanin above --darker, whatever the exposure). Darker skin made from light canvases
should look like real darker skin in colour and in texture. Writes a plot (--plot).

    .venv/bin/python scripts/realism_check.py [--n 200] [--canvas-data DIR] [--darker 1.8] [--plot PATH]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STATS = ["L*", "a*", "b*", "ITA", "melanin", "hemoglobin", "redness contrast", "texture", "hemoglobin index"]


def stats_of(path: Path):
    from triage.measure.chromophores import decompose
    from triage.measure.io import load_image
    from triage.measure.photo import measure

    d = load_image(path)
    m = measure(d.rgb, (d.width, d.height))
    if m.skin.sum() < 100 or not m.quality.ok:
        return None
    lab = m.normalised.lab[m.skin]
    mel, hb = decompose(m.normalised.linear[m.skin])
    f = m.features
    return [float(np.median(lab[:, 0])), float(np.median(lab[:, 1])), float(np.median(lab[:, 2])), f["ita_deg"],
            float(np.median(mel)), float(np.median(hb)), f["redness_delta_a"], f["texture_roughness"],
            f["hemoglobin_index"]]  # fmt: skip


def _gen(args):
    folder, i = args
    from triage import synth

    path = Path(folder) / f"g{i}.jpg"
    data, _m, row = synth.make_photo(55, i, (1024, 768))
    if row["quality_issue"]:
        return None
    path.write_bytes(data)
    return stats_of(path)


def main() -> int:
    import tempfile

    from triage.util.pool import default_workers, imap_unordered

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="plain generated photos")
    ap.add_argument("--canvas-data", type=Path, default=None, help="a folder written by `triage synth --canvas`")
    ap.add_argument("--darker", type=float, default=1.8, help="real photos with median melanin above this are 'darker'")
    ap.add_argument("--plot", type=Path, default=Path("/tmp/triage-realism.png"))
    args = ap.parse_args()
    w = default_workers()
    columns: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        columns["generated"] = np.array([s for s in imap_unordered(_gen, [(tmp, i) for i in range(args.n)], w) if s])
    if args.canvas_data is not None:
        with open(args.canvas_data / "labels.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if not r["quality_issue"]]
        for name, sel in (("on canvas", [r for r in rows if float(r["melanin_step"]) == 0]),
                          ("canvas darker", [r for r in rows if float(r["melanin_step"]) > 0])):  # fmt: skip
            columns[name] = np.array([s for s in imap_unordered(stats_of, [args.canvas_data / r["file"] for r in sel], w) if s])
    real_dir = ROOT.parent / "shared" / "real-dev"
    if (real_dir / "labels.csv").exists():
        with open(real_dir / "labels.csv", newline="") as f:
            files = [real_dir / r["file"] for r in csv.DictReader(f)]
        real = np.array([s for s in imap_unordered(stats_of, files, w) if s])
        columns["real-dev"] = real
        columns["real-dev darker"] = real[real[:, STATS.index("melanin")] > args.darker]
    names = list(columns)
    print(f"{'statistic':17s}" + "".join(f"{n + ' (n=%d)' % len(columns[n]):>26s}" for n in names))
    for k, stat in enumerate(STATS):
        cells = []
        for n in names:
            v = columns[n][:, k] if len(columns[n]) else np.array([np.nan])
            p = np.nanpercentile(v, [10, 50, 90])
            cells.append(f"{p[0]:8.2f}{p[1]:9.2f}{p[2]:9.2f}")
        print(f"{stat:17s}" + "".join(f"{c:>26s}" for c in cells))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for n in names:
        if len(columns[n]):
            axes[0].scatter(columns[n][:, 2], columns[n][:, 0], s=8, alpha=0.5, label=n)
            axes[1].scatter(columns[n][:, 4], columns[n][:, 5], s=8, alpha=0.5, label=n)
            axes[2].hist(columns[n][:, 7], bins=30, alpha=0.4, density=True, label=n)
    axes[0].set(xlabel="b* (median over skin)", ylabel="L*", title="skin colour")
    axes[1].set(xlabel="melanin", ylabel="hemoglobin", title="chromophores (Tsumura)")
    axes[2].set(xlabel="texture_roughness", title="fine texture")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=90)
    print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
