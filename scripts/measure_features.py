#!/usr/bin/env python3
"""Measure the feature targets of the measuring half and print them:

1. skin-mask IoU against the generator's masks, per ITA band (target >= 0.9 in every band);
2. erythema grade recoverable from the features: Spearman rho between the true grade and each
   redness feature, and between the grade and its out-of-fold prediction from the redness
   features together with the skin tone (5-fold random forest) (target >= 0.9) on generated
   photos without other lesions;
3. on ../shared/real-dev (when present): the redness and lesion features per ACNE04 grade and
   group, and their Spearman rho with the grade (they should rise), over all photos and over
   the single photos, and with each collage measured by its worst tile (most of real-dev are
   4-picture mosaics of different source photos, flagged "collage" by the gate).

    .venv/bin/python scripts/measure_features.py [--n 300] [--seed 31]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REDNESS = ["redness_delta_a", "erythema_index_delta", "redness_area_fraction", "redness_largest_region_fraction"]
LESIONS = ["pustule_count", "papule_count", "crust_area_fraction", "bleeding_spot_count", "dark_macule_count"]


def _generated(args):
    seed, i = args
    from triage.measure import io as tio
    from triage import synth
    from triage.measure.photo import measure

    data, truth_mask, row = synth.make_photo(seed, i, (1024, 768))
    d = tio.decode(data)
    m = measure(d.rgb, (d.width, d.height))
    inter = int((m.skin & truth_mask).sum())
    union = int((m.skin | truth_mask).sum())
    return row, m.features, inter / max(union, 1), m.quality.ok


def _real(args):
    """One real-dev photo's features and whether it is a collage; for a collage, also the features
    of its worst tile (per feature, the highest value over its pictures, four or two, measured alone)."""
    folder, item = args
    import cv2

    from triage.measure.io import load_image, working_size
    from triage.measure.photo import measure
    from triage.measure.quality import collage_seams

    img = load_image(Path(folder) / item["file"])
    m = measure(img.rgb, (img.width, img.height))
    if "collage" not in m.quality.issues:
        return item, m.features, False, m.features
    # where the gate found the seams: a cross of four pictures, or one seam between two
    (h, w), (x, y) = img.rgb.shape[:2], collage_seams(m.normalised.lab, m.skin)
    x, y = x or w, y or h
    # each tile as the pipeline would see it alone: brought to the working size of its own pixels
    scale = img.width / w
    measured = []
    for tile in (img.rgb[a:b, c:d] for a, b in ((0, y), (y, h)) for c, d in ((0, x), (x, w))):
        size = (round(tile.shape[1] * scale), round(tile.shape[0] * scale))
        if min(size) >= 64:
            rgb = cv2.resize(tile, working_size(*size), interpolation=cv2.INTER_LINEAR)
            measured.append(measure(rgb, size).features)
    worst = {n: max((f[n] for f in measured if f[n] is not None), default=None) for n in m.features}
    return item, m.features, True, worst


def _recovered_grade(plain, grades) -> np.ndarray:
    """Out-of-fold prediction of the erythema grade from the redness features and ita_deg by a
    random forest (5 folds): the features together, without assuming a linear scale (the grade's
    visibility depends on melanin and on a patchy vs diffuse pattern)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import KFold

    names = REDNESS + ["redness_strong_area_fraction", "redness_spread", "ita_deg"]
    X = np.array([[f[n] for n in names] for _r, f in plain], float)
    y = np.array(grades, float)
    pred = np.zeros(len(y))
    for train, test in KFold(5, shuffle=True, random_state=0).split(X):
        forest = RandomForestRegressor(300, min_samples_leaf=3, random_state=0, n_jobs=1)
        pred[test] = forest.fit(X[train], y[train]).predict(X[test])
    return pred


def main() -> int:
    from scipy.stats import spearmanr

    from triage.util.pool import default_workers, imap_unordered

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=31)
    args = ap.parse_args()
    w = default_workers()
    results = list(imap_unordered(_generated, [(args.seed, i) for i in range(args.n)], w))
    iou = defaultdict(list)
    for row, _f, v, _ok in results:
        if not row["quality_issue"]:
            iou[row["ita_band"]].append(v)
    print(f"1. skin-mask IoU on {sum(map(len, iou.values()))} generated photos (seed {args.seed}), target >= 0.9")
    for band in ("very_light", "light", "intermediate", "tan", "brown", "dark"):
        v = iou.get(band, [])
        if v:
            print(f"   {band:13s} n={len(v):3d} mean {np.mean(v):.3f}  median {np.median(v):.3f}  min {np.min(v):.3f}")
    plain = [(r, f) for r, f, _v, ok in results if ok and r["scenario"] in ("expected_healing", "prolonged_redness", "intense_redness")]
    grades = [int(r["erythema_grade"]) for r, _ in plain]
    print(f"2. erythema grade vs redness features, Spearman rho on {len(plain)} photos without other lesions (target >= 0.9)")
    for name in REDNESS:
        print(f"   {name:34s} rho = {spearmanr(grades, [f[name] for _, f in plain])[0]:.3f}")
    rho_oof = spearmanr(grades, _recovered_grade(plain, grades))[0]
    print(f"   grade recovered from the redness features and ita_deg (random forest, 5-fold out-of-fold): rho = {rho_oof:.3f}")
    by_band = defaultdict(list)
    for r, f in plain:
        by_band[r["ita_band"]].append((int(r["erythema_grade"]), f["redness_delta_a"]))
    print("   redness_delta_a per ITA band: " + ", ".join(
        f"{b} {spearmanr(*zip(*v))[0]:.2f}" for b, v in sorted(by_band.items()) if len(v) > 5))

    real = ROOT.parent / "shared" / "real-dev"
    if not (real / "labels.csv").exists():
        print("3. ../shared/real-dev not present: skipped")
        return 0
    items = list(csv.DictReader(io.StringIO((real / "labels.csv").read_text())))
    rows = list(imap_unordered(_real, [(str(real), it) for it in items], w))
    order = ["acne04_grade0", "acne04_grade1", "acne04_grade2", "acne04_grade3", "acne_purulent"]
    names = REDNESS + LESIONS
    collages = sum(c for _i, _f, c, _w in rows)
    print(f"3. ../shared/real-dev ({len(rows)} photos, {collages} flagged collage): feature medians per group")
    for title, subset in (
        ("all photos, as the pipeline measures them", [(it, f) for it, f, _c, _w in rows]),
        ("single photos (not collage)", [(it, f) for it, f, c, _w in rows if not c]),
        ("all photos, a collage by its worst tile", [(it, w) for it, _f, _c, w in rows]),
    ):
        print(f"   {title}:")
        print("   " + "group".ljust(15) + "".join(n[:16].rjust(17) for n in names))
        for g in order:
            vals = [f for it, f in subset if it["group"] == g]
            med = [np.median([v[n] for v in vals if v[n] is not None] or [np.nan]) for n in names]
            print("   " + f"{g} (n={len(vals)})".ljust(15)[:15] + "".join(f"{m:17.3f}" for m in med))
        acne = [(int(it["group"][-1]), f) for it, f in subset if it["group"].startswith("acne04")]
        print(f"   Spearman rho with the ACNE04 grade (0-3), n={len(acne)}: " + ", ".join(
            f"{n} {spearmanr([g for g, _ in acne], [f[n] if f[n] is not None else 0 for _, f in acne])[0]:.2f}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
