#!/usr/bin/env python3
"""How much of the skin would lesion detection in candidate windows still look at? (issue 23)

The spot detectors (bright spots: pustules and vesicles; bleeding points; papules; small red dots)
threshold L_loc and a_loc, the full-size L* and a* minus their local backgrounds. Here the same
differences are taken on the photo halved (lab_half minus the half-size local mean), a 32-px tile
(16 half-size px) is a candidate window when any of its half-size pixels in the lesion search
area has L_loc > T_L or a_loc > T_a, and for each (T_L, T_a) it prints the share of the search
area's tiles that are windows and how many of the full-size detections fall in one.

    .venv/bin/python scripts/candidate_windows.py [--every 8]
    .venv/bin/python scripts/candidate_windows.py --bound   # the most windows could save

--bound times measure() (CPU on one core, best of 5 per photo, the mean over the photos) as it
is and with the spot detectors and dark macules skipped (each finds nothing, and the local
backgrounds L_loc and a_loc, which only they use, are never made): what finding them in windows
could save at most, on the bench's 12-MP photos (scripts/bench.py makes them) and on the healthy
real-dev faces.

Generated photos: the test set scripts/train_default_model.py makes (/tmp/triage-data/
test-n1000-s3000); real ones: ../shared/real-dev (skipped when absent).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GENERATED = Path("/tmp/triage-data/test-n1000-s3000/images")
REAL_DEV = ROOT.parent / "shared" / "real-dev"
BENCH = Path(tempfile.gettempdir()) / "triage-bench" / "synth-4032x3024-n8" / "images"  # scripts/bench.py's photos
TILE = 16  # half-size px: 32 px at the working size
THRESHOLDS = [(4.0, 3.0), (6.0, 4.0), (8.0, 5.0)]


def _photo(path: str):
    """[(windows, search-area tiles, detections in a window, detections)] per threshold pair."""
    from triage.measure import config
    from triage.measure.io import load_image
    from triage.measure.photo import measure
    from triage.measure.regions import resized_mask

    try:
        m = measure(load_image(path).rgb).maps
    except Exception:
        return None
    if not m.core.any():
        return None
    hh, hw = m.lab_half.shape[:2]
    loc = [m.lab_half[..., c] - m.local_background(c, sigma, (hw, hh)) for c, sigma in ((0, config.LOCAL_SIGMA), (1, config.DOT_SIGMA))]
    core = resized_mask(m.core, (hw, hh))
    ny, nx = -(-hh // TILE), -(-hw // TILE)

    def tiles(mask):
        pad = np.zeros((ny * TILE, nx * TILE), bool)
        pad[:hh, :hw] = mask
        return pad.reshape(ny, TILE, nx, TILE).any(axis=(1, 3))

    spots = [m.bright_spots[0], m.bleeding_spots, m.papules, m.small_red_dots]
    xy = np.concatenate([np.asarray(s, float).reshape(-1, 2) for s in spots])
    at = (xy[:, 1] // (2 * TILE)).astype(int), (xy[:, 0] // (2 * TILE)).astype(int)
    out = []
    for t_L, t_a in THRESHOLDS:
        windows = tiles(((loc[0] > t_L) | (loc[1] > t_a)) & core)
        out.append((int(windows.sum()), int(tiles(core).sum()), int(windows[at].sum()), len(xy)))
    return out


def _measure_ms(images: list[np.ndarray]) -> float:
    """Mean over the photos of the best of 5 CPU times of measure(), ms."""
    import time

    from triage.measure.photo import measure

    for rgb in images:  # warm-up: the face model, imports
        measure(rgb)
    best = []
    for rgb in images:
        times = []
        for _ in range(5):
            t = time.process_time()
            measure(rgb)
            times.append(time.process_time() - t)
        best.append(min(times))
    return 1000 * float(np.mean(best))


def bound(sets: dict[str, list[str]]) -> None:
    """Print measure()'s CPU per photo as it is and with the spot detectors skipped."""
    from unittest import mock

    import cv2

    from triage.measure.features import detect
    from triage.measure.io import load_image

    cv2.setNumThreads(1)  # one core, as each pool worker is

    def nothing(m):
        return np.zeros((0, 2), np.float32)

    skipped = dict(macule_regions=lambda m: (np.zeros(m.skin.shape, bool), 0), small_red_dots=nothing, bleeding_spots=nothing,
                   papules=nothing, bright_spots=lambda m: (nothing(m), np.zeros(0, bool), np.zeros(0, bool)))  # fmt: skip
    for name, files in sets.items():
        images = [load_image(f).rgb for f in files]
        if not images:
            continue
        as_is = _measure_ms(images)
        with mock.patch.multiple(detect, **skipped):
            without = _measure_ms(images)
        print(f"{name}: {len(images)} photos, measure() {as_is:.1f} ms CPU a photo, {without:.1f} ms with the spot "
              f"detectors and dark macules skipped ({as_is - without:.1f} ms: the most windows could save)")  # fmt: skip


def main() -> int:
    from triage.util.pool import default_workers, imap_unordered

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=8, help="measure every n-th photo of each set")
    ap.add_argument("--bound", action="store_true", help="time measure() with the spot detectors skipped")
    args = ap.parse_args()
    sets = {"generated": sorted(str(p) for p in GENERATED.glob("*.jpg"))[:: args.every]}
    if (REAL_DEV / "labels.csv").is_file():
        with open(REAL_DEV / "labels.csv", newline="") as f:
            rows = list(csv.DictReader(f))[:: args.every]
        sets["real-dev, healthy faces"] = [str(REAL_DEV / r["file"]) for r in rows if r["label"] == "normal"]
        sets["real-dev, clinical stand-ins"] = [str(REAL_DEV / r["file"]) for r in rows if r["label"] != "normal"]
    if args.bound:
        bench = sorted(str(p) for p in BENCH.glob("*.jpg"))
        bound({"bench (12-MP generated close-ups)": bench, "real-dev, healthy faces": sets.get("real-dev, healthy faces", [])})
        return 0
    for name, files in sets.items():
        rows = [r for r in imap_unordered(_photo, files, default_workers()) if r is not None]
        if not rows:
            print(f"{name}: no photos")
            continue
        total = np.array(rows).sum(axis=0)  # (thresholds, 4)
        print(f"{name}: {len(rows)} photos")
        for (t_L, t_a), (win, tiles, kept, found) in zip(THRESHOLDS, total):
            print(f"  L_loc > {t_L:g} or a_loc > {t_a:g} at half size: windows {win / tiles:.0%} of the search area's "
                  f"32-px tiles, holding {kept} of {found} full-size detections")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
