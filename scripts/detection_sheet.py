#!/usr/bin/env python3
"""A contact sheet of what one lesion detector finds on real photos, to look at before changing it.

For the first --n photos of each group of ../shared/real-dev (or --data, same layout), the photo
beside the same photo with the detector's findings drawn in (outlines for areas, rings for
spots) and the count or area in the caption.

    .venv/bin/python scripts/detection_sheet.py --finding macules --groups fasseg_frontal,dermnet_pih --n 8
        [--out /tmp/detections-macules.png] [--offset 0]

Findings: macules, bruises, crusts, pustules, bleeding, papules, vesicles, red (the redness mask).
"""

from __future__ import annotations

import argparse
import csv
import sys
from functools import partial
from pathlib import Path

import contact_sheet
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
AREAS = {"macules": "macules", "bruises": "bruises", "crusts": "crusts", "red": "red"}
SPOTS = {"pustules": "pustules", "bleeding": "bleeding_spots", "papules": "papules", "vesicles": "vesicles"}


def _tile(args):
    import cv2

    from triage.measure.io import load_image
    from triage.measure.photo import measure

    folder, file, finding = args
    img = load_image(Path(folder) / file)
    m = measure(img.rgb, (img.width, img.height))
    h = 260
    size = (max(1, round(img.rgb.shape[1] * h / img.rgb.shape[0])), h)
    photo = cv2.resize(img.rgb, size, interpolation=cv2.INTER_AREA)
    shown = photo.copy()
    skin = cv2.resize(m.skin.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    shown[~skin] = (shown[~skin] * 0.45).astype(np.uint8)
    scale = size[0] / m.skin.shape[1]
    if m.maps.n_skin < 100:
        text = "no skin"
    elif finding in AREAS:
        mask = getattr(m.maps, AREAS[finding])
        small = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(small, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(shown, contours, -1, (0, 255, 255), 1)
        text = f"{finding} {mask.sum() / m.maps.n_skin:.3f} of skin, {len(contours)} regions"
    else:
        points = getattr(m.maps, SPOTS[finding])
        for x, y in points:
            cv2.circle(shown, (round(x * scale), round(y * scale)), 5, (0, 255, 255), 1)
        text = f"{finding} {len(points)}"
    face = "face" if m.face is not None else "no face"
    return contact_sheet.tile(photo, shown, [f"{Path(file).name[:40]} {face}: {text}"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--finding", required=True, choices=sorted([*AREAS, *SPOTS]))
    ap.add_argument("--groups", required=True)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--offset", type=int, default=0, help="skip this many photos of each group")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "real-dev")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import cv2

    from triage.util.pool import default_workers, imap_unordered

    with open(args.data / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    files = []
    for g in args.groups.split(","):
        files += [r["file"] for r in rows if r["group"] == g][args.offset: args.offset + args.n]
    jobs = list(enumerate((str(args.data), f, args.finding) for f in files))
    tiles = sorted(imap_unordered(partial(contact_sheet.indexed, _tile), jobs, default_workers()), key=lambda it: it[0])
    out = args.out or Path(f"/tmp/detections-{args.finding}.png")
    cv2.imwrite(str(out), contact_sheet.sheet([t for _i, t in tiles], cols=2)[..., ::-1])
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
