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


#: labels.csv of photos painted on real canvases: the same columns and which canvas, framing,
#: melanin step (darker skin) and vesicle groups
CANVAS_COLUMNS = LABEL_COLUMNS[:-1] + ["vesicle_groups", "canvas", "framing", "melanin_step", "too_small", "mask"]
#: share of the infection scenario painted with grouped vesicles (herpes reactivation) on canvases
CANVAS_VESICLE_SHARE = 0.3


def make_canvas_photo(seed: int, index: int, canvases: list[dict]) -> tuple[bytes, np.ndarray, dict]:
    """One photo painted on a real canvas (triage.synth.canvas): (JPEG bytes, skin mask, labels.csv
    row without 'file'/'mask'). The canvas is drawn from `canvases` by the same rng."""
    from . import canvas as cv
    from .capture import capture

    rng = np.random.default_rng([seed, index])
    entry = canvases[int(rng.integers(len(canvases)))]
    base = cv.cached_canvas(entry)
    spec = sample_spec(rng, index)
    if spec.scenario == "infection" and rng.random() < CANVAS_VESICLE_SHARE:
        spec.vesicle_groups = int(rng.integers(1, 3))
    if spec.quality_issue == "no_skin":  # a canvas is all about its skin: fail it another way
        spec.quality_issue, spec.blur = "blurry", float(rng.uniform(7.0, 12.0))
    img, painted = cv.paint(spec, base, rng)
    skin = painted["skin"]
    y_skin = float(np.median(color.luminance(img)[skin])) if skin.any() else 0.2
    if spec.quality_issue == "too_dark":  # relative to this skin's own brightness, as sample_spec does
        spec.exposure = float(rng.uniform(0.004, 0.012)) / y_skin
    elif spec.quality_issue == "overexposed":
        spec.exposure = float(rng.uniform(1.3, 2.5)) / y_skin
    rgb = capture(img, spec, rng)
    if spec.quality_issue == "low_resolution":
        h, w = rgb.shape[:2]
        rgb = cv2.resize(rgb, (max(2, int(w * 300 / max(w, h))), max(2, int(h * 300 / max(w, h)))), interpolation=cv2.INTER_AREA)
    truth, ita = cv.painted_truth(spec, img, painted)
    row = {
        "label": policy.level_from_truth(truth),
        "days_since_treatment": spec.days_since_treatment if spec.day_known else "",
        "group": spec.scenario if not spec.quality_issue else "quality_failure",
        "patient_id": f"canvas-{entry['person']}",
        "scenario": spec.scenario, "erythema_grade": spec.erythema_grade, "erythema_pattern": painted["pattern"],
        "pustules": spec.pustules, "crusts": spec.crusts, "papules": spec.papules, "track_marks": spec.track_marks,
        "bleeding_spots": spec.bleeding_spots, "pigment_area": truth.pigment_area, "bruise_area": truth.bruise_area,
        "ita_deg": round(ita, 2), "ita_band": ita_band(ita), "skin_fraction": spec.truth["skin_fraction"],
        "quality_issue": spec.quality_issue, "vesicle_groups": spec.vesicle_groups, "canvas": entry["file"],
        "framing": painted["framing"], "melanin_step": round(painted["melanin_step"], 3),
        "too_small": " ".join(cv.too_small(spec, painted["frame"])),
    }  # fmt: skip
    return encode_jpeg(rgb, spec.jpeg_quality), skin, row


def _write_sequence(args) -> list[dict]:
    from .sequence import make_sequence

    out, seed, index, _size, canvases = args
    rows = []
    for name, data, skin, row in make_sequence(seed, index, canvases):
        atomic_write_bytes(Path(out) / "images" / f"{name}.jpg", data)
        ok, png = cv2.imencode(".png", skin.astype(np.uint8) * 255)
        atomic_write_bytes(Path(out) / "masks" / f"{name}.png", png.tobytes())
        rows.append({"file": f"images/{name}.jpg", "mask": f"masks/{name}.png", **row})
    return rows


def _write_photo(args) -> dict:
    out, seed, index, size, canvases = args
    data, skin, row = make_canvas_photo(seed, index, canvases) if canvases else make_photo(seed, index, size)
    name = f"s{seed}_{index:05d}"
    atomic_write_bytes(Path(out) / "images" / f"{name}.jpg", data)
    ok, png = cv2.imencode(".png", skin.astype(np.uint8) * 255)
    atomic_write_bytes(Path(out) / "masks" / f"{name}.png", png.tobytes())
    return {"file": f"images/{name}.jpg", "mask": f"masks/{name}.png", **row}


def generate(
    out: str | Path, n: int, seed: int, size: tuple[int, int] = (1024, 768), workers: int = 1, progress=None,
    canvas: str | Path | None = None, sequences: bool = False,
) -> Path:  # fmt: skip
    """Write n photos to out/images, their skin masks to out/masks and out/labels.csv (rows in
    index order, so the output does not depend on the number of workers). With `canvas`, a
    folder of real photos of healthy skin (triage.synth.canvas.list_canvases), each photo is
    painted on one of them, at its size (`size` unused). With `sequences` (and a canvas), n
    patients, each several photos over the days after treatment (triage.synth.sequence), and
    out/manifest.csv for `triage run out/images --manifest out/manifest.csv` (path, days,
    patient, role)."""
    from .canvas import list_canvases

    canvases = list_canvases(canvas) if canvas is not None else None
    if canvases is not None and not canvases:
        raise ValueError(f"no canvas photos in {canvas}")
    if sequences and canvases is None:
        raise ValueError("patient sequences are painted on real skin: give a canvas folder")
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    rows = []
    jobs = [(str(out), seed, i, size, canvases) for i in range(n)]
    for k, row in enumerate(imap_unordered(_write_sequence if sequences else _write_photo, jobs, workers), 1):
        rows.extend(row if sequences else [row])
        if progress:
            progress(k, n)
    rows.sort(key=lambda r: r["file"])
    if sequences:
        from .sequence import SEQUENCE_COLUMNS

        columns = SEQUENCE_COLUMNS
        manifest = [{"path": r["file"].removeprefix("images/"), "days_since_treatment": r["days_since_treatment"],
                     "patient_id": r["patient_id"], "role": r["role"]} for r in rows]  # fmt: skip
        atomic_write_bytes(out / "manifest.csv", _csv(manifest, ["path", "days_since_treatment", "patient_id", "role"]))
    else:
        columns = CANVAS_COLUMNS if canvases else LABEL_COLUMNS
    atomic_write_bytes(out / "labels.csv", _csv(rows, columns))
    return out / "labels.csv"


def _csv(rows: list[dict], columns: list[str]) -> bytes:
    text = _io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()
