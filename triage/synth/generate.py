"""`triage synth`: labelled folders of generated photos (the contract's dataset layout:
images/, masks/ with the true skin masks, labels.csv with the label and the ground truth).

The label of a photo is `policy.level_from_truth` of its drawn ground truth. Everything is drawn
from `numpy.random.default_rng([seed, index])`: the same seed gives byte-identical files, whatever
the number of workers.
"""

from __future__ import annotations

import csv
import io as _io
from pathlib import Path

import cv2
import numpy as np

from ..decide import policy
from ..decide.bands import ita_band
from ..measure import color
from ..util.files import atomic_write_bytes
from ..util.pool import imap_unordered
from .capture import encode_jpeg
from .optics import skin_lab
from .render import render
from .spec import findings, sample_spec

LABEL_COLUMNS = [
    "file", "label", "days_since_treatment", "group", "patient_id", "scenario", "erythema_grade",
    "erythema_pattern", "pustules", "crusts", "papules", "track_marks", "bleeding_spots", "pigment_area",
    "bruise_area", "ita_deg", "ita_band", "skin_fraction", "quality_issue", "mask",
]  # fmt: skip


def make_photo(seed: int, index: int, size: tuple[int, int]) -> tuple[bytes, np.ndarray, dict]:
    """One generated photo: (JPEG bytes, skin mask, labels.csv row without 'file'/'mask')."""
    rng = np.random.default_rng([seed, index])
    spec = sample_spec(rng, index)
    w, h = size
    if spec.quality_issue == "low_resolution":
        w, h = max(2, int(w * 300 / max(w, h))), max(2, int(h * 300 / max(w, h)))
    rgb, skin, _treated = render(spec, (w, h), rng)
    if spec.quality_issue == "low_resolution":
        skin = cv2.resize(skin.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    data = encode_jpeg(rgb, spec.jpeg_quality)
    truth = findings(spec)
    L, _a, b = skin_lab(spec.melanin, spec.hemoglobin)
    ita = float(color.ita_deg(L, b))
    row = {
        "label": policy.level_from_truth(truth),
        "days_since_treatment": spec.days_since_treatment if spec.day_known else "",
        "group": spec.scenario if not spec.quality_issue else "quality_failure",
        "patient_id": f"synth-{seed}-{index:05d}",
        "scenario": spec.scenario,
        "erythema_grade": spec.erythema_grade,
        "erythema_pattern": spec.erythema_pattern,
        "pustules": spec.pustules,
        "crusts": spec.crusts,
        "papules": spec.papules,
        "track_marks": spec.track_marks,
        "bleeding_spots": spec.bleeding_spots,
        "pigment_area": truth.pigment_area,
        "bruise_area": truth.bruise_area,
        "ita_deg": round(ita, 2),
        "ita_band": ita_band(ita),
        "skin_fraction": spec.truth["skin_fraction"],
        "quality_issue": spec.quality_issue,
    }
    return data, skin, row


def _write_photo(args) -> dict:
    out, seed, index, size = args
    data, skin, row = make_photo(seed, index, size)
    name = f"s{seed}_{index:05d}"
    atomic_write_bytes(Path(out) / "images" / f"{name}.jpg", data)
    ok, png = cv2.imencode(".png", skin.astype(np.uint8) * 255)
    atomic_write_bytes(Path(out) / "masks" / f"{name}.png", png.tobytes())
    return {"file": f"images/{name}.jpg", "mask": f"masks/{name}.png", **row}


def generate(out: str | Path, n: int, seed: int, size: tuple[int, int] = (1024, 768), workers: int = 1, progress=None) -> Path:
    """Write n photos to out/images, their skin masks to out/masks and out/labels.csv (rows in
    index order, so the output does not depend on the number of workers)."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    rows = []
    for k, row in enumerate(imap_unordered(_write_photo, [(str(out), seed, i, size) for i in range(n)], workers), 1):
        rows.append(row)
        if progress:
            progress(k, n)
    rows.sort(key=lambda r: r["file"])
    text = _io.StringIO()
    writer = csv.DictWriter(text, fieldnames=LABEL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "labels.csv", text.getvalue().encode())
    return out / "labels.csv"
