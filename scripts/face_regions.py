#!/usr/bin/env python3
"""Set the facial region of each of the 468 mesh vertices (triage.measure.face.VERTEX_REGION).

The mesh is fitted to the 32 frontal faces of ../shared/real-dev (fasseg_frontal), each mesh put
in the frame of its eyes (origin midway between the eye centres, x along the eye line, unit the
inter-ocular distance, y down) and averaged. A vertex of the mean mesh at (x, y) is:
  forehead  y < -0.22 (above the lower edge of the brows, y -0.29 on the mean face)
  periorbital within 0.25 of a vertex of an eye's outline (the lids, the skin under the eyes:
            thin, darker and bluer than a cheek on healthy faces)
  nose      |x| < 0.2 and y < 0.45 (the bridge, between the eyes' inner corners at |x| 0.27),
            or |x| < 0.34 and 0.45 <= y < 0.75 (the tip and wings: alae |x| 0.28, the base y 0.71)
  perioral  0.75 <= y < 1.38 and |x| < 0.6 (the mouth's corners: |x| 0.39, y 1.06; lower lip 1.21)
  chin      y >= 1.38 and |x| < 0.6 (the chin's tip: y 1.73)
  cheek     the rest: right cheek x < 0 (the person's right, the photo's left), left cheek x > 0
It prints the table as the string face.py holds (one digit per vertex, face.REGIONS order) and
draws the mean mesh coloured by region to --plot.

With --offsets it prints instead each region's colour on healthy faces relative to the face
(measure/config.py FACE_REGION_OFFSETS): over the healthy faces of real-dev (label normal, a
trusted mesh), the median over faces of (the region's median L*, a*, b* over its skin minus the
median of the regions' medians).

    .venv/bin/python scripts/face_regions.py [--plot /tmp/face-regions.png] [--offsets]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REAL_DEV = ROOT.parent / "shared" / "real-dev"


def region_of(x: float, y: float, eye_distance: float = 1.0) -> str:
    if y < -0.22:
        return "forehead"
    if eye_distance < 0.25:
        return "periorbital"
    if (abs(x) < 0.2 and y < 0.45) or (abs(x) < 0.34 and 0.45 <= y < 0.75):
        return "nose"
    if abs(x) < 0.6 and y >= 0.75:
        return "perioral" if y < 1.38 else "chin"
    return "right_cheek" if x < 0 else "left_cheek"


def mean_mesh() -> np.ndarray:
    from triage.measure import face
    from triage.measure.io import load_image

    with open(REAL_DEV / "labels.csv", newline="") as f:
        files = [r["file"] for r in csv.DictReader(f) if r["group"] == "fasseg_frontal"]
    meshes = []
    for file in files:
        found = face.parse(load_image(REAL_DEV / file).rgb)
        if found is None or not found.trusted:
            continue
        pts = found.landmarks.astype(np.float64)
        right, left = pts[face.RIGHT_EYE].mean(axis=0), pts[face.LEFT_EYE].mean(axis=0)
        d = left - right
        t = np.arctan2(d[1], d[0])
        rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
        meshes.append((pts - (left + right) / 2) @ rot.T / np.linalg.norm(d))
    print(f"{len(meshes)} of {len(files)} frontal faces", file=sys.stderr)
    return np.mean(meshes, axis=0)


def _region_medians(file: str):
    """{region index: median (L*, a*, b*) over its skin inside the face's outline} of one photo."""
    from triage.measure import face
    from triage.measure.io import load_image
    from triage.measure.normalise import normalise
    from triage.measure.skin import skin_mask_lab

    rgb = load_image(REAL_DEV / file).rgb
    found = face.face_map(rgb)
    if found is None:
        return None
    norm = normalise(rgb)
    skin = skin_mask_lab(norm.lab, exclude=norm.chart, face=found) & found.inside
    out = {}
    for k in range(1, len(face.REGIONS)):
        px = norm.lab[skin & (found.regions == k)]
        if len(px) >= 200:
            out[k] = np.median(px, axis=0)
    return out


def offsets() -> None:
    from triage.measure import face
    from triage.util.pool import default_workers, imap_unordered

    with open(REAL_DEV / "labels.csv", newline="") as f:
        files = [r["file"] for r in csv.DictReader(f) if r["label"] == "normal"]
    rows = []
    for med in imap_unordered(_region_medians, files, default_workers()):
        if med:
            face_level = np.median(np.array(list(med.values())), axis=0)
            rows.append({k: v - face_level for k, v in med.items()})
    print(f"{len(rows)} healthy faces with a trusted mesh", file=sys.stderr)
    print("FACE_REGION_OFFSETS = {")
    for k in range(1, len(face.REGIONS)):
        d = np.array([r[k] for r in rows if k in r])
        med = np.median(d, axis=0)
        spread = np.percentile(d[:, 1], [10, 90])
        print(f'    "{face.REGIONS[k]}": ({med[0]:.1f}, {med[1]:.1f}, {med[2]:.1f}),  # n {len(d)}, a* P10-P90 {spread[0]:.1f} to {spread[1]:.1f}')
    print("}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", type=Path, default=Path("/tmp/face-regions.png"))
    ap.add_argument("--offsets", action="store_true", help="print the regions' colour offsets instead")
    args = ap.parse_args()
    if not (REAL_DEV / "labels.csv").is_file():
        print(f"{REAL_DEV} is not present", file=sys.stderr)
        return 1
    if args.offsets:
        offsets()
        return 0
    import cv2

    from triage.measure import face

    mesh = mean_mesh()
    eyes = mesh[face.RIGHT_EYE + face.LEFT_EYE]
    eye_distance = np.min(np.linalg.norm(mesh[:, None] - eyes[None], axis=2), axis=1)
    labels = [face.REGIONS.index(region_of(x, y, e)) for (x, y), e in zip(mesh, eye_distance)]
    text = "".join(str(v) for v in labels)
    print("VERTEX_REGION = (")
    for k in range(0, len(text), 90):
        print(f'    "{text[k:k + 90]}"')
    print(")")
    colours = [(0, 0, 0), (60, 180, 75), (230, 25, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230)]
    size = 900
    img = np.full((size, size, 3), 255, np.uint8)
    pts = mesh * size / 3.2 + np.array([size / 2, size * 0.35])
    for (x, y), v in zip(pts, labels):
        cv2.circle(img, (int(x), int(y)), 4, colours[v], -1)
    for k, name in enumerate(face.REGIONS[1:], 1):
        cv2.putText(img, name, (10, 20 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colours[k], 1)
    cv2.imwrite(str(args.plot), img[..., ::-1])
    print(f"plot: {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
