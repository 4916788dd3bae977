"""Patient sequences painted on real skin (`triage synth --canvas DIR --sequences`): one person
(one canvas), photographed on several days after the treatment, with the course of the
reactions known day by day; ground truth for judging a photo against the person's own baseline
and their own course (triage.course).

A patient's course is one of COURSES:
- expected: erythema grade g0 (2-3) on days 0-1 that fades as the policy expects (at most 2 by
  day 2, 1 by day 4, 0 after day 7);
- prolonged_redness: the same start, then it does not fade: grade 2-3 through days 4-7, at least
  1 after;
- infection: the expected course until day 3-5, then pustules (3-10, growing) and sometimes honey
  crusts appear with redness rising;
- pigmentation: the expected course, then dark patches (PIH) appear in the second week
  (day 8-12), small or marked.
Photos are taken on SEQUENCE_PHOTOS of the days SEQUENCE_DAYS (always one of days 0-2), and with
SEQUENCE_BASELINE_SHARE a baseline photo before the treatment (role "baseline", untouched).

The same spatial draws every day (triage.synth.canvas.paint with one rng per patient): the same
exposure of the canvas, skin tone step, treated region and lesion places, so a pustule on day 5 is
still there on day 7. What changes between days is the camera (sample_camera: white balance,
exposure, noise, blur, JPEG) and the framing (a shift of up to SEQUENCE_SHIFT of the frame, a
scale of 1 +- SEQUENCE_SCALE and a turn of up to SEQUENCE_TURN_DEG), so that no two photos of a
patient line up pixel for pixel. Each photo's label is policy.level_from_truth of its day; the
patient's is the most urgent of its photos; `not_fading` marks a patient whose erythema on some
photo from day 4 on is above the expected maximum for that day.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..decide import policy
from ..decide.bands import ita_band
from ..decide.config import LEVELS
from .capture import capture, encode_jpeg
from .spec import PhotoSpec, sample_camera

#: (course, share of patients)
COURSES = (("expected", 0.4), ("prolonged_redness", 0.2), ("infection", 0.2), ("pigmentation", 0.2))
#: Days photos may be taken on, and how many a patient has (one always on days 0-2).
SEQUENCE_DAYS = (0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 14)
SEQUENCE_PHOTOS = (3, 6)
#: Share of patients with a photo taken before the treatment.
SEQUENCE_BASELINE_SHARE = 0.6
#: Framing changes between photos: shift (fraction of the frame), scale and turn.
SEQUENCE_SHIFT = 0.04
SEQUENCE_SCALE = 0.06
SEQUENCE_TURN_DEG = 4.0
#: labels.csv columns of a sequence folder (one row per photo)
SEQUENCE_COLUMNS = [
    "file", "label", "days_since_treatment", "role", "patient_id", "course", "patient_label", "not_fading",
    "erythema_grade", "pustules", "crusts", "pigment_area", "ita_deg", "ita_band", "canvas", "melanin_step",
    "mask",
]  # fmt: skip


def _course(rng: np.random.Generator) -> dict:
    names = [c for c, _ in COURSES]
    weights = np.array([w for _, w in COURSES])
    kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    n = int(rng.integers(SEQUENCE_PHOTOS[0], SEQUENCE_PHOTOS[1] + 1))
    early = [d for d in SEQUENCE_DAYS if d <= 2]
    first = int(rng.choice(early))
    rest = [d for d in SEQUENCE_DAYS if d > first]
    days = sorted([first, *(int(d) for d in rng.choice(rest, size=min(n - 1, len(rest)), replace=False))])
    onset = int(rng.integers(3, 6)) if kind == "infection" else int(rng.integers(8, 13))
    if kind in ("infection", "pigmentation") and days[-1] < onset:  # the course shows what it is
        days[-1] = int(rng.choice([d for d in SEQUENCE_DAYS if d >= onset]))
    return {
        "kind": kind, "days": days, "baseline": bool(rng.random() < SEQUENCE_BASELINE_SHARE),
        "g0": int(rng.integers(2, 4)), "onset": onset,
        "pustules": int(rng.integers(3, 11)), "crusts": int(rng.integers(1, 3)) if rng.random() < 0.4 else 0,
        "marked": bool(rng.random() < 0.5), "macules": int(rng.integers(1, 9)), "stuck": int(rng.integers(2, 4)),
        "pattern": "patchy" if rng.random() < 0.5 else "diffuse",
    }  # fmt: skip


def _expected_grade(g0: int, day: int) -> int:
    """The expected course: g0 on days 0-1, then within the policy's expected maximum."""
    return g0 if day <= 1 else min(g0, policy.expected_max_grade(day))


def day_spec(course: dict, day: int, index: int) -> PhotoSpec:
    """The ground truth of one photo of the course on `day` (capture conditions not drawn)."""
    grade = _expected_grade(course["g0"], day)
    spec = PhotoSpec(index=index, scenario=course["kind"], days_since_treatment=day, erythema_grade=grade,
                     erythema_pattern=course["pattern"], flaking=2 <= day <= 5)  # fmt: skip
    if course["kind"] == "prolonged_redness" and day >= 4:
        spec.erythema_grade = max(course["stuck"] if day <= 7 else course["stuck"] - 1, 1)
    elif course["kind"] == "infection" and day >= course["onset"]:
        growth = min(1.0, 0.5 + 0.25 * (day - course["onset"]))
        spec.pustules = max(3, round(course["pustules"] * growth))
        spec.crusts = course["crusts"] if day > course["onset"] else 0
        spec.erythema_grade = max(grade, 2)
    elif course["kind"] == "pigmentation" and day >= course["onset"]:
        spec.pigment_marked = course["marked"]
        spec.pigment_macules = course["macules"] + (4 if course["marked"] else 0)
    return spec


def _reframe(img: np.ndarray, skin: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The photo taken again from a slightly different place: a small shift, scale and turn."""
    h, w = skin.shape
    turn = rng.uniform(-SEQUENCE_TURN_DEG, SEQUENCE_TURN_DEG)
    scale = 1 + rng.uniform(-SEQUENCE_SCALE, SEQUENCE_SCALE)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), turn, scale)
    m[:, 2] += rng.uniform(-SEQUENCE_SHIFT, SEQUENCE_SHIFT, 2) * (w, h)
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    skin = cv2.warpAffine(skin.astype(np.uint8), m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE) > 0
    return img, skin




def make_sequence(seed: int, index: int, canvases: list[dict]) -> list[tuple[str, bytes, np.ndarray, dict]]:
    """One patient's photos, in day order (the baseline first): [(name, JPEG bytes, skin mask,
    labels.csv row without 'file'/'mask')]."""
    from . import canvas as cv

    rng = np.random.default_rng([seed, index])
    entry = canvases[int(rng.integers(len(canvases)))]
    base = cv.cached_canvas(entry)
    course = _course(rng)
    days = ([None] if course["baseline"] else []) + course["days"]
    patient = f"seq-{seed}-{index:05d}"
    photos, specs = [], []
    for k, day in enumerate(days):
        spec = PhotoSpec(index=index, scenario="baseline", days_since_treatment=0, erythema_grade=0,
                         erythema_pattern="diffuse") if day is None else day_spec(course, day, index)  # fmt: skip
        img, painted = cv.paint(spec, base, np.random.default_rng([seed, index, 1]))  # the same places every day
        skin = painted["skin"]
        truth, ita = cv.painted_truth(spec, img, painted)  # no bruise on a course: its share is 0
        shot = np.random.default_rng([seed, index, 2, k])
        if k:  # the first photo sets the framing, the others move about it
            img, skin = _reframe(img, skin, shot)
        sample_camera(shot, spec)
        photos.append((img, skin, spec, ita, painted["melanin_step"]))
        specs.append((day, truth))
    levels = [policy.level_from_truth(t) if day is not None else policy.NORMAL for day, t in specs]
    patient_level = max(levels, key=LEVELS.index)
    not_fading = any(day is not None and day >= 4 and t.erythema_grade > policy.expected_max_grade(day) for day, t in specs)
    out = []
    for (img, skin, spec, ita, step), (day, truth), level in zip(photos, specs, levels):
        rgb = capture(img, spec, np.random.default_rng([seed, index, 3, len(out)]))
        name = f"{patient}_{'baseline' if day is None else f'd{day:02d}'}"
        out.append((name, encode_jpeg(rgb, spec.jpeg_quality), skin, {
            "label": level, "days_since_treatment": "" if day is None else day, "role": "baseline" if day is None else "",
            "patient_id": patient, "course": course["kind"], "patient_label": patient_level, "not_fading": int(not_fading),
            "erythema_grade": truth.erythema_grade, "pustules": truth.pustules, "crusts": truth.crusts,
            "pigment_area": truth.pigment_area, "ita_deg": round(ita, 2), "ita_band": ita_band(ita),
            "canvas": entry["file"], "melanin_step": round(step, 3),
        }))  # fmt: skip
    return out
