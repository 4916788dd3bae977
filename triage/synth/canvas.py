"""Reactions painted onto real photos of healthy skin (`triage synth --canvas DIR`): generated
ground truth on real skin.

A canvas is a real photo of healthy skin with its skin mask (hand-drawn where the canvas folder
has one, else the pipeline's own, triage.measure.segment) and its face when it shows one. Each
generated photo draws a spec as the plain generator does (triage.synth.spec: scenario, day,
erythema grade, lesions, capture) and paints it into the canvas in optical-density space
(Tsumura 2003, triage.measure.chromophores): OD = -ln(linear RGB) gains the melanin, hemoglobin
and deoxygenated hemoglobin the reactions add, so the canvas's pores, hair, shading, sheen and
camera noise stay; the colours that replace the skin's (pustule tops, crusts, blood, blisters)
are blended in linear light, scaled by the canvas's own shading. Then:

- exposure: the canvas is first brought to a well-exposed skin (median L* drawn in
  CANVAS_SKIN_L): the healthy faces of ../shared/real-dev are light-skinned people photographed
  dim (skin L* 24-80, median 45), and painting or darkening a dim photo made 20% of the portraits
  fail the quality gate as too dark;
- no close-ups: the canvases are small (a face ~300 px across in the file), so a crop of the
  cheek brought to the working size is a 5-10 times enlargement, blurred and of low resolution
  (59% of such crops failed the quality gate): close-ups are the plain generator's;
- skin tone: a CANVAS_DARKER_SHARE of the photos get more melanin over the skin (a uniform step
  in optical density, texture kept), so that darker skin, rare among the canvases, is learnt;
- the treated region: the whole face (the face treated all over), one or two facial regions, or
  a blob as in the plain generator;
- lesion sizes follow the canvas's scale: fractions of CANVAS_FRAME_IODS inter-ocular
  distances (a frame about 12 cm across; the mesh's 3-D distance, which a turned head does not
  shorten), as the plain generator's are of a 12 cm frame;
- capture: the plain generator's white balance, exposure, blur, noise and JPEG on top, and its
  quality failures (too dark and overexposed relative to this canvas's skin, blurred, too small).
The label is policy.level_from_truth of the painted ground truth as the photo can show it: a lesion
kind painted smaller than MIN_VISIBLE_RADIUS_PX is painted but not counted (`visible`); an
untouched canvas (expected healing at grade 0) is normal.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ..measure import color
from ..measure.chromophores import SIGMA_DEOXY, SIGMA_HEMOGLOBIN, SIGMA_MELANIN, decompose
from ..measure.face import REGIONS, eyes_mask
from ..measure.io import decode, read_bytes
from ..measure.segment import segment
from .draw import blob_mask, random_point, smooth_noise
from .optics import ERYTHEMA_DH, ERYTHEMA_MELANIN_GAIN
from .reactions import paint_lesions
from .spec import PhotoSpec, findings

#: Median L* of the skin a canvas is brought to before painting (a well-exposed light skin;
#: darker tones come from the melanin step below).
CANVAS_SKIN_L = (58.0, 72.0)
#: Share of photos whose skin is made darker, by a melanin step drawn in CANVAS_DARKER_MELANIN.
#: The healthy canvases of ../shared/real-dev are light (a few darker portraits among 362); a
#: step of 0.5-2.5 spans the tan, brown and dark ITA bands from a light start (scripts/
#: realism_check.py compares the result with real darker skin).
CANVAS_DARKER_SHARE = 0.35
CANVAS_DARKER_MELANIN = (0.5, 2.5)
#: A frame about 12 cm across spans this many inter-ocular distances (~63 mm each): lesion sizes
#: are fractions of it, as the plain generator's are of its 12 cm frame.
CANVAS_FRAME_IODS = 1.9
#: Soft edge of a treated facial region, a Gaussian sigma as a fraction of the 12 cm frame (~4 mm):
#: erythema after microneedling fades out over millimetres, it does not stop at a line.
CANVAS_REGION_EDGE = 0.03
#: Treated-region patterns and their shares: the whole face, one or two facial regions, a blob.
CANVAS_PATTERNS = (("face", 0.35), ("regions", 0.35), ("blob", 0.30))
#: Painted radius of each small lesion kind, a fraction of the frame L: the middle of the range
#: triage.synth.reactions.paint_lesions draws it from (vesicles: one blister of a group).
LESION_RADIUS = {
    "pustules": 0.007, "papules": 0.010, "crusts": 0.025, "track_marks": 0.0025, "bleeding_spots": 0.00185,
    "vesicle_groups": 0.0045,
}  # fmt: skip
#: A lesion kind painted smaller than this radius in the photo's pixels is not in the ground truth
#: (the label): at the canvases' scale (a face ~300 px across, ~1.6 px/mm) a 1-mm bleeding point is
#: a third of a pixel, which neither a measurement nor a person looking at the photo can see; a
#: label resting on it is noise that a model can only learn as noise (measured: with such labels
#: the model fitted its own training photos at macro-F1 0.54 and its temperature went to 6.8).
#: 2 px is the smallest radius the spot detector looks for (triage.measure.config.SPOT_RADIUS).
MIN_VISIBLE_RADIUS_PX = 2.0


@dataclass
class Canvas:
    file: str  #: where it was read
    person: str  #: who it shows (photos of one person are one patient)
    rgb: np.ndarray  #: uint8 (H, W, 3) at the working size
    skin: np.ndarray  #: bool (H, W)
    regions: np.ndarray | None  #: uint8 (H, W) facial regions (triage.measure.face.REGIONS), or None
    interocular: float | None  #: px (in 3-D: Face.interocular_3d), when a face is parsed
    tone: np.ndarray  #: bool (H, W): what a darker skin tone darkens: the skin, and the lips and brows of a face


def list_canvases(folder: str | Path) -> list[dict]:
    """The canvases of a folder: the rows of its labels.csv (`file`, optional `mask`, `label`,
    `person`; only rows labelled normal, when labels are given; `file` and `mask` relative to the
    folder or absolute), else every image file in it. Each: {file, mask, person}."""
    folder = Path(folder)
    labels = folder / "labels.csv"
    if labels.is_file():
        with open(labels, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if (r.get("label") or "normal") == "normal"]
        return [{"file": str(folder / r["file"]), "mask": str(folder / r["mask"]) if r.get("mask") else "",
                 "person": r.get("person") or Path(r["file"]).stem} for r in rows]  # fmt: skip
    exts = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in exts and "masks" not in p.parts)
    return [{"file": str(p), "mask": "", "person": p.stem} for p in files]


def load_canvas(entry: dict) -> Canvas:
    """A canvas at the working size with its skin mask (the given mask, else the pipeline's own)
    and its face's regions."""
    img = decode(read_bytes(entry["file"]))
    seg = segment(img.rgb)
    h, w = img.rgb.shape[:2]
    skin = seg.skin
    if entry.get("mask"):
        given = cv2.imread(entry["mask"], cv2.IMREAD_GRAYSCALE)
        if given is not None:
            skin = cv2.resize(given, (w, h), interpolation=cv2.INTER_NEAREST) > 127
            if seg.face is not None:
                skin &= ~seg.face.features
    face = seg.face
    tone = skin if face is None else skin | (face.features & ~eyes_mask(face.face, (h, w)))
    return Canvas(entry["file"], entry["person"], img.rgb, skin, None if face is None else face.regions,
                  None if face is None else face.face.interocular_3d, tone)  # fmt: skip


_LOADED: dict[str, Canvas] = {}  # per process: a worker paints many photos on each canvas


def cached_canvas(entry: dict) -> Canvas:
    """load_canvas(entry), once per canvas file in this process."""
    if entry["file"] not in _LOADED:
        _LOADED[entry["file"]] = load_canvas(entry)
    return _LOADED[entry["file"]]


def painted_truth(spec: PhotoSpec, img: np.ndarray, painted: dict):
    """The ground truth of a painted canvas as the photo can show it (`visible`), setting
    spec.truth (skin share of the frame, pigmented share of the treated skin, bruised share of the
    skin), and the ITA of its untreated skin (of the whole skin when all of it was treated):
    (policy.Findings, ITA in degrees)."""
    skin, treated = painted["skin"], painted["treated"]
    spec.truth = {
        "skin_fraction": round(float(skin.mean()), 4),
        "pigment_area": round(float(((painted["pigment"] > 0.5) & treated).sum() / max(int(treated.sum()), 1)), 4),
        "bruise_area": round(float(((painted["bruise"] > 0.5) & skin).sum() / max(int(skin.sum()), 1)), 4),
    }
    untreated = skin & ~treated if (skin & ~treated).any() else skin
    L, _a, b = np.median(color.linear_to_lab(img[untreated]), axis=0)
    return findings(visible(spec, painted["frame"])), float(color.ita_deg(L, b))


def _treated(canvas: Canvas, pattern: str, L: float, rng: np.random.Generator) -> np.ndarray:
    """The treated region, soft (0-1): the face's skin, one or two of its regions, or a blob."""
    h, w = canvas.skin.shape
    if pattern != "blob" and canvas.regions is not None:
        present = [k for k in range(1, len(REGIONS)) if np.count_nonzero((canvas.regions == k) & canvas.skin) > 500]
        if present:
            if pattern == "face":
                chosen = present
            else:
                chosen = list(rng.choice(present, size=min(len(present), int(rng.integers(1, 3))), replace=False))
            hard = np.isin(canvas.regions, chosen) & canvas.skin
            return cv2.GaussianBlur(hard.astype(np.float32), (0, 0), max(1.0, CANVAS_REGION_EDGE * L))
    p = random_point(rng, canvas.skin) or (w / 2, h / 2)
    radius = math.sqrt(rng.uniform(0.25, 0.5) * max(canvas.skin.sum(), 1) / math.pi)
    return blob_mask(rng, h, w, p[0], p[1], radius * rng.uniform(0.9, 1.3), radius * rng.uniform(0.8, 1.1))


def paint(spec: PhotoSpec, canvas: Canvas, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """The canvas with the spec's reactions painted in, in linear RGB (H, W, 3) before capture,
    and what was painted: {skin, treated, pigment, bruise, hemoglobin (the added concentration per
    pixel), framing, melanin_step, pattern}."""
    framing = "face" if canvas.regions is not None else "skin"
    h, w = canvas.skin.shape
    skin = canvas.skin
    L = CANVAS_FRAME_IODS * canvas.interocular if canvas.interocular else float(max(w, h))
    lin = color.srgb_to_linear(canvas.rgb.astype(np.float32) / 255.0)
    if skin.any():  # a well-exposed skin: Y = ((L* + 16) / 116)^3 (CIE 1976, L* > 8)
        y_skin = max(float(np.median(color.luminance(lin)[skin])), 1e-4)
        lin = np.clip(lin * (((rng.uniform(*CANVAS_SKIN_L) + 16) / 116) ** 3 / y_skin), 0.0, 1.0)
    od = -np.log(np.clip(lin, 1e-4, 1.0))
    soft_skin = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), 1.5)
    m0 = float(np.median(decompose(lin[skin])[0])) if skin.any() else 1.0
    step = 0.0
    if rng.random() < CANVAS_DARKER_SHARE:
        step = float(rng.uniform(*CANVAS_DARKER_MELANIN))
        soft_tone = cv2.GaussianBlur(canvas.tone.astype(np.float32), (0, 0), 1.5)
        od = od + (step * soft_tone)[..., None] * SIGMA_MELANIN
    melanin = max(0.0, m0 + step)

    names = [p for p, _ in CANVAS_PATTERNS]
    weights = np.array([wt for _, wt in CANVAS_PATTERNS])
    pattern = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    treated_soft = _treated(canvas, pattern, L, rng)
    if spec.erythema_pattern == "patchy":
        treated_soft = treated_soft * np.clip(0.8 + 1.5 * smooth_noise(rng, h, w, 10, 2), 0, 1)
    treated = (treated_soft > 0.5) & skin
    dh = ERYTHEMA_DH[spec.erythema_grade] * (1 + ERYTHEMA_MELANIN_GAIN * melanin)
    hb = (dh * treated_soft * (1 + 0.15 * smooth_noise(rng, h, w, 20, 1))).astype(np.float32)
    deoxy = np.zeros((h, w), np.float32)
    les = paint_lesions(spec, treated if treated.any() else skin, skin, hb, deoxy, L, melanin, rng)
    dm = les.melanin if les.melanin is not None else 0.0
    od = od + ((dm * soft_skin)[..., None] * SIGMA_MELANIN + (hb * soft_skin)[..., None] * SIGMA_HEMOGLOBIN
               + (deoxy * soft_skin)[..., None] * SIGMA_DEOXY)  # fmt: skip
    out = np.exp(-od)
    if spec.flaking:  # dry, lifting scales: small brighter specks on the treated skin
        flakes = (smooth_noise(rng, h, w, 80, 1) > 0.75).astype(np.float32) * treated
        out = out * (1 + 0.12 * cv2.GaussianBlur(flakes, (0, 0), 0.8))[..., None]
    # lesion colours keep the canvas's light: scaled by its luminance against the skin's median
    y = color.luminance(lin)
    shade = np.clip(y / max(float(np.median(y[skin])) if skin.any() else 0.2, 1e-3), 0.4, 1.6)[..., None]
    a = les.overlay_a[..., None]
    out = out * (1 - a) + les.overlay * shade * a
    return out.astype(np.float32), {
        "skin": skin, "treated": treated, "pigment": les.pigment, "bruise": les.bruise, "hemoglobin": hb * soft_skin, "framing": framing,
        "melanin_step": step, "pattern": pattern, "frame": L,
    }  # fmt: skip


def too_small(spec: PhotoSpec, frame: float) -> list[str]:
    """The lesion kinds of `spec` painted below MIN_VISIBLE_RADIUS_PX in a frame of `frame` px."""
    return [k for k, r in LESION_RADIUS.items() if getattr(spec, k) and r * frame < MIN_VISIBLE_RADIUS_PX]


def visible(spec: PhotoSpec, frame: float) -> PhotoSpec:
    """The spec as the photo can show it: the kinds too_small() has set to none (the ground truth
    of the label; what was painted stays in the row's columns)."""
    return replace(spec, **dict.fromkeys(too_small(spec, frame), 0))
