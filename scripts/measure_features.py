#!/usr/bin/env python3
"""Measure the feature targets of the measuring half and print them:

1. skin-mask IoU against the generator's masks, per ITA band (target >= 0.9 in every band);
2. erythema grade recoverable from the features: Spearman rho between the true grade and each
   redness feature, and between the grade and its out-of-fold prediction from the redness
   features together with the skin tone (5-fold random forest) (target >= 0.9) on generated
   photos without other lesions;
3. lesions recovered: for each lesion the generator paints with a known count or area
   (pustules, crusts, papules, bleeding spots, dark macules, bruises), the share of the photos
   that have it where the feature finds it (sensitivity) and of those without it where the
   feature finds nothing (specificity), and for counts the share found within +-1 and the
   Spearman rho of found against painted.
With --canvas DIR the photos are painted on real photos of healthy skin (triage synth --canvas,
e.g. ../shared/real-dev/healthy): the masks of section 1 are the canvases' own, and section 3
adds grouped vesicles and is split by framing (portraits of the face, close-ups of its skin).
Real photos are measured by scripts/real_benchmark.py.

    .venv/bin/python scripts/measure_features.py [--n 300] [--seed 31] [--canvas DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REDNESS = ["redness_delta_a", "erythema_index_delta", "redness_area_fraction", "redness_largest_region_fraction"]
#: (labels.csv ground-truth column, feature, is a count)
LESION_TRUTH = (
    ("pustules", "pustule_count", True), ("crusts", "crust_area_fraction", False), ("papules", "papule_count", True),
    ("bleeding_spots", "bleeding_spot_count", True), ("pigment_area", "dark_macule_area_fraction", False),
    ("bruise_area", "bruise_area_fraction", False),
)  # fmt: skip


def _generated(args):
    seed, i, canvases = args
    from triage.measure import io as tio
    from triage import synth
    from triage.measure.photo import measure

    if canvases:
        from triage.synth.generate import make_canvas_photo

        data, truth_mask, row = make_canvas_photo(seed, i, canvases)
    else:
        data, truth_mask, row = synth.make_photo(seed, i, (1024, 768))
    d = tio.decode(data)
    m = measure(d.rgb, (d.width, d.height))
    if truth_mask.shape != m.skin.shape:  # a canvas's mask, at the canvas's size
        truth_mask = cv2.resize(truth_mask.astype(np.uint8), m.skin.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    inter = int((m.skin & truth_mask).sum())
    union = int((m.skin | truth_mask).sum())
    return row, m.features, inter / max(union, 1), m.quality.ok


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
    ap.add_argument("--canvas", type=Path, default=None, help="paint on the real photos of this folder")
    args = ap.parse_args()
    canvases = None
    if args.canvas is not None:
        from triage.synth.canvas import list_canvases

        canvases = list_canvases(args.canvas)
    w = default_workers()
    results = list(imap_unordered(_generated, [(args.seed, i, canvases) for i in range(args.n)], w))
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

    assessable = [(r, f) for r, f, _v, ok in results if ok]
    truths = LESION_TRUTH + ((("vesicle_groups", "vesicle_count", False),) if canvases else ())
    framings = sorted({r.get("framing", "") for r, _f in assessable})
    for framing in framings if len(framings) > 1 else [""]:
        kept = [(r, f) for r, f in assessable if framing in ("", r.get("framing"))]
        print(f"3. lesions{' on ' + framing + ' photos' if framing else ''}: truth column -> feature: "
              f"sensitivity, specificity ({len(kept)} photos passing the gate)")  # fmt: skip
        _lesions(kept, truths)
    return 0


def _lesions(assessable, truths) -> None:
    from scipy.stats import spearmanr

    for truth, feature, count in truths:
        has = [(float(r[truth]) > 0, f[feature] or 0.0, float(r[truth])) for r, f in assessable]
        pos, neg = [x for x in has if x[0]], [x for x in has if not x[0]]
        sens = np.mean([v > 0 for _h, v, _t in pos]) if pos else float("nan")
        spec = np.mean([v == 0 for _h, v, _t in neg]) if neg else float("nan")
        line = f"   {truth:15s} -> {feature:26s} n+ {len(pos):3d} sensitivity {sens:.2f}, specificity {spec:.2f}"
        if count and pos:
            within = np.mean([abs(v - t) <= 1 for _h, v, t in pos])
            line += f"; found within +-1 {within:.2f}, rho {spearmanr([t for *_, t in pos], [v for _h, v, _t in pos])[0]:.2f}"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
