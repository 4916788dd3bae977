"""Generated post-microneedling skin photos with known ground truth (`triage synth`).

Skin colour follows a bio-optical model in optical-density (log-RGB) space, after Tsumura et
al. (SIGGRAPH 2003, "Image-based skin color and texture analysis/synthesis by extracting
hemoglobin and melanin information in the skin"): linear reflectance

    rho_c = exp(-(OD0_c + m * sigma_m,c + h * sigma_h,c + d * sigma_d,c))

with melanin concentration m, oxygenated hemoglobin h and deoxygenated hemoglobin d (bruises),
then shading, specular highlights, the illuminant and the camera. The absorption vectors follow
the shapes of the chromophores' spectra sampled at ~600/540/460 nm (melanin rises towards blue;
hemoglobin absorbs green most, red hardly at all) and were scaled so that m in [0, 3] spans the
six ITA bands (Chardon 1991) with L*, a*, b* in the range published for each band (Del Bino 2006).

Each photo's skin tone is drawn by band in equal shares, then solved for m; reactions follow
TRIAGE_POLICY.md and the label is `policy.level_from_truth` of the drawn ground truth. Geometry is
in fractions of the long side, so `--size` changes resolution, not content. Everything is drawn
from `numpy.random.default_rng([seed, index])`: the same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import io as _io
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from . import chart, color, policy
from .fsutil import atomic_write_bytes

# --- the optical model -----------------------------------------------------------------------
OD_BASE = np.array([0.14, 0.26, 0.58], np.float32)  # dermis scattering + carotene, no melanin/blood
SIGMA_MELANIN = np.array([0.80, 1.02, 1.22], np.float32)
SIGMA_HEMOGLOBIN = np.array([0.06, 0.95, 0.45], np.float32)
SIGMA_DEOXY = np.array([0.45, 0.85, 0.55], np.float32)  # bruise: deoxygenated blood, purple-blue
BLOOD = (0.16, 0.006, 0.01)  # linear RGB of fresh blood (sRGB ~ (110, 15, 25)): dark red
BASE_HEMOGLOBIN = (0.18, 0.32)  # range of the untreated skin's h
#: Erythema grade -> added hemoglobin over the treated region (grade 1 about +2.5 a* on light skin,
#: grade 4 about +16); scaled up by (1 + ERYTHEMA_MELANIN_GAIN * m) so that a grade means the same
#: visible step relative to the person's own skin on dark skin as on light (the policy grades
#: relative to the person's untreated skin).
ERYTHEMA_DH = (0.0, 0.08, 0.18, 0.32, 0.52)
ERYTHEMA_MELANIN_GAIN = 0.35
ITA_BAND_RANGES = {  # band -> ITA range drawn from (degrees)
    "very_light": (56.0, 68.0),
    "light": (42.0, 54.0),
    "intermediate": (29.0, 40.0),
    "tan": (11.0, 27.0),
    "brown": (-28.0, 9.0),
    "dark": (-50.0, -32.0),
}
QUALITY_ISSUES = ("too_dark", "overexposed", "blurry", "no_skin", "low_resolution")
QUALITY_FAILURE_SHARE = 0.07
UNKNOWN_DAY_SHARE = 0.12  # share of rows whose day is left blank in labels.csv

SCENARIOS = (  # (name, weight)
    ("expected_healing", 0.36),
    ("prolonged_redness", 0.12),
    ("intense_redness", 0.07),
    ("infection", 0.10),
    ("hyperpigmentation", 0.09),
    ("papules", 0.06),
    ("track_marks", 0.05),
    ("bleeding", 0.08),
    ("bruising", 0.07),
)


def skin_lab(m: float, h: float) -> np.ndarray:
    """L*a*b* of flat skin with melanin m and hemoglobin h, fully lit."""
    od = OD_BASE + m * SIGMA_MELANIN + h * SIGMA_HEMOGLOBIN
    return color.linear_to_lab(np.exp(-od)[None])[0]


def melanin_for_ita(ita: float, h: float) -> float:
    """Solve skin_lab(m, h) for the m whose ITA is `ita` (ITA falls monotonically with m)."""
    lo, hi = 0.0, 4.0
    for _ in range(40):
        mid = (lo + hi) / 2
        L, _a, b = skin_lab(mid, h)
        if color.ita_deg(L, b) > ita:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass
class PhotoSpec:
    """Everything drawn for one photo: ground truth first, then capture."""

    index: int
    scenario: str
    days_since_treatment: int
    erythema_grade: int
    erythema_pattern: str
    pustules: int = 0
    crusts: int = 0
    papules: int = 0
    track_marks: int = 0
    bleeding_spots: int = 0
    pigment_macules: int = 0
    pigment_marked: bool = False  #: large dark macules (> 10% of the treated area) vs a few small ones
    bruise: bool = False
    bruise_extensive: bool = False  #: policy: extensive (> 8% of the skin) vs mild bruising
    flaking: bool = False
    ita_target: float = 0.0
    melanin: float = 0.0
    hemoglobin: float = 0.25
    quality_issue: str = ""
    day_known: bool = True
    # capture
    exposure: float = 1.0
    wb_gains: tuple = (1.0, 1.0, 1.0)
    noise: float = 0.005
    blur: float = 0.0
    jpeg_quality: int = 90
    skin_extent: float = 0.8
    hair: bool = False
    clothing: bool = False
    background: tuple = (0.5, 0.5, 0.5)
    #: a ColorChecker in the scene: (centre x, centre y, pitch) as shares of the long side and its
    #: angle in degrees; never drawn by sample_spec (tests and scripts/measure_chart.py set it)
    chart: tuple | None = None
    # measured while rendering
    truth: dict = field(default_factory=dict)


def _choice(rng, items, weights=None):
    return items[int(rng.choice(len(items), p=weights))]


def sample_spec(rng: np.random.Generator, index: int) -> PhotoSpec:
    """Draw one photo's ground truth and capture conditions."""
    names = [s for s, _ in SCENARIOS]
    weights = np.array([w for _, w in SCENARIOS])
    scenario = _choice(rng, names, weights / weights.sum())
    day = int(rng.integers(0, 15))
    exp_max = policy.expected_max_grade(day)
    grade = int(rng.integers(0, exp_max + 1))
    if scenario == "expected_healing" and rng.random() < 0.5:
        grade = exp_max  # the upper edge of normal is where mistakes happen
    band = _choice(rng, list(ITA_BAND_RANGES))
    ita = float(rng.uniform(*ITA_BAND_RANGES[band]))
    h0 = float(rng.uniform(*BASE_HEMOGLOBIN))
    spec = PhotoSpec(
        index=index,
        scenario=scenario,
        days_since_treatment=day,
        erythema_grade=grade,
        erythema_pattern=_choice(rng, ["diffuse", "patchy"]),
        ita_target=ita,
        melanin=melanin_for_ita(ita, h0),
        hemoglobin=h0,
        flaking=bool(2 <= day <= 5 and rng.random() < 0.5),
    )
    if scenario == "prolonged_redness":
        spec.days_since_treatment = day = int(rng.integers(4, 15))
        spec.erythema_grade = int(rng.integers(policy.expected_max_grade(day) + 1, 4))
    elif scenario == "intense_redness":
        spec.erythema_grade = 4 if rng.random() < 0.5 else 3
        if spec.erythema_grade == 3:
            spec.days_since_treatment = int(rng.integers(0, 15))
    elif scenario == "infection":
        spec.days_since_treatment = int(rng.integers(2, 15))
        kind = rng.random()
        spec.pustules = int(rng.integers(1, 3)) if kind < 0.25 else int(rng.integers(3, 12))
        spec.crusts = int(rng.integers(1, 4)) if kind > 0.7 else 0
        spec.erythema_grade = max(spec.erythema_grade, int(rng.integers(1, 4)))
    elif scenario == "hyperpigmentation":
        spec.days_since_treatment = int(rng.integers(5, 15))
        spec.pigment_marked = bool(rng.random() < 0.5)
        spec.pigment_macules = int(rng.integers(4, 9)) if spec.pigment_marked else int(rng.integers(1, 4))
    elif scenario == "papules":
        spec.papules = int(rng.integers(1, 5))
    elif scenario == "track_marks":
        spec.track_marks = int(rng.integers(2, 5))
    elif scenario == "bleeding":
        spec.days_since_treatment = 0 if rng.random() < 0.5 else int(rng.integers(1, 8))
        spec.bleeding_spots = int(rng.integers(6, 40))
        if spec.days_since_treatment == 0:
            spec.erythema_grade = int(rng.integers(1, 3))
    elif scenario == "bruising":
        spec.bruise = True
        spec.bruise_extensive = bool(rng.random() < 0.5)
    # capture conditions
    spec.exposure = float(rng.uniform(0.78, 1.15))
    temp = rng.uniform(-1, 1)
    tint = rng.uniform(-0.04, 0.04)
    spec.wb_gains = (float(1 + 0.12 * temp), float(1 + tint), float(1 - 0.14 * temp))
    spec.noise = float(rng.uniform(0.002, 0.010))
    spec.blur = float(rng.uniform(0.0, 0.9))
    spec.jpeg_quality = int(rng.integers(75, 96))
    spec.skin_extent = float(rng.uniform(0.55, 1.0))
    spec.hair = bool(rng.random() < 0.4)
    spec.clothing = bool(rng.random() < 0.3)
    bg_kind = rng.random()
    if bg_kind < 0.6:
        v = rng.uniform(0.35, 0.9)
        spec.background = (v, v, v * rng.uniform(0.95, 1.05))
    else:
        spec.background = tuple(float(x) for x in rng.uniform(0.05, 0.8, 3))
    if rng.random() < QUALITY_FAILURE_SHARE:
        # A photo that cannot be assessed is labelled by what it can show: the retake level,
        # "monitor". So it is drawn with an ordinary course; a too-dark or blurred photo of an
        # infection would be labelled seek-care with nothing in its pixels to show it (tried:
        # the seek-care threshold then fell to 0.05 and cross-validated macro-F1 from 0.88 to 0.81).
        spec.quality_issue = _choice(rng, list(QUALITY_ISSUES))
        spec.scenario = "expected_healing"
        spec.pustules = spec.crusts = spec.papules = spec.track_marks = spec.bleeding_spots = 0
        spec.pigment_macules, spec.bruise, spec.bruise_extensive = 0, False, False
        spec.erythema_grade = min(spec.erythema_grade, policy.expected_max_grade(spec.days_since_treatment))
        # exposure faults relative to this skin's own brightness (a x4 exposure does not blow
        # out dark skin): skin luminance Y pushed to 0.4-1.2% (too dark) or 130-250% (clipped)
        L_skin = float(skin_lab(spec.melanin, spec.hemoglobin)[0])
        y_skin = ((L_skin + 16) / 116) ** 3
        if spec.quality_issue == "too_dark":
            spec.exposure = float(rng.uniform(0.004, 0.012)) / y_skin
        elif spec.quality_issue == "overexposed":
            spec.exposure = float(rng.uniform(1.3, 2.5)) / y_skin
        elif spec.quality_issue == "blurry":
            spec.blur = float(rng.uniform(7.0, 12.0))
        elif spec.quality_issue == "no_skin":
            spec.skin_extent = float(rng.uniform(0.0, 0.15))
    spec.day_known = bool(rng.random() >= UNKNOWN_DAY_SHARE)
    return spec


# --- rendering helpers -----------------------------------------------------------------------
def _smooth_noise(rng, h, w, cells, octaves=3):
    """Band-limited noise in about [-1, 1]: random grids of `cells` across, upsampled bicubically."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        c = max(2, int(cells * 2**o))
        grid = rng.standard_normal((max(2, round(c * h / w)), c)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    return out / total


def _stamp(field, cx, cy, sigma, amp):
    """Add amp * exp(-r^2 / (2 sigma^2)) around (cx, cy), in a window of 4 sigma."""
    h, w = field.shape
    r = int(4 * sigma + 1)
    x0, x1, y0, y1 = max(0, int(cx) - r), min(w, int(cx) + r + 1), max(0, int(cy) - r), min(h, int(cy) + r + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    field[y0:y1, x0:x1] += amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2))


def _disc(field, cx, cy, radius, value, soft=1.0):
    """Blend towards `value` (scalar or colour) inside a soft-edged disc: returns nothing, edits field."""
    h, w = field.shape[:2]
    r = int(radius + 3 * soft + 1)
    x0, x1, y0, y1 = max(0, int(cx) - r), min(w, int(cx) + r + 1), max(0, int(cy) - r), min(h, int(cy) + r + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    alpha = np.clip((radius - d) / soft + 0.5, 0, 1)
    if field.ndim == 3:
        alpha = alpha[..., None]
    field[y0:y1, x0:x1] = field[y0:y1, x0:x1] * (1 - alpha) + np.asarray(value, np.float32) * alpha


def _random_point(rng, mask):
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    i = int(rng.integers(len(ys)))
    return float(xs[i]), float(ys[i])


def _blob_mask(rng, h, w, cx, cy, rx, ry, wobble=0.25):
    """Soft (0-1) irregular elliptical blob."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, np.pi)
    c, s = np.cos(ang), np.sin(ang)
    u = ((xx - cx) * c + (yy - cy) * s) / rx
    v = (-(xx - cx) * s + (yy - cy) * c) / ry
    r = np.sqrt(u**2 + v**2) + wobble * _smooth_noise(rng, h, w, 3, 2)
    return np.clip((1.0 - r) / 0.25, 0, 1).astype(np.float32)


def render(spec: PhotoSpec, size: tuple[int, int], rng: np.random.Generator):
    """Draw the photo: returns (rgb uint8 (H, W, 3), skin mask bool, treated-region mask bool).

    Also fills spec.truth with measured ground truth (pigment_area, bruise_area, skin_fraction)."""
    w, h = size
    L = float(max(w, h))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    # scene: the skin region (a close-up of cheek/forehead), background, clothing, hair
    if spec.skin_extent >= 0.98:
        skin = np.ones((h, w), bool)
    else:
        cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
        rx, ry = w * spec.skin_extent * rng.uniform(0.55, 0.8), h * spec.skin_extent * rng.uniform(0.6, 0.85)
        skin = (((xx - cx) / max(rx, 1)) ** 2 + ((yy - cy) / max(ry, 1)) ** 2) ** 0.5 + 0.08 * _smooth_noise(
            rng, h, w, 3, 2
        ) < 1.0
    clothing = np.zeros((h, w), bool)
    if spec.clothing:
        edge = h * rng.uniform(0.8, 0.93) + 0.03 * h * _smooth_noise(rng, h, w, 2, 1)
        clothing = yy > edge
    hair = np.zeros((h, w), bool)
    if spec.hair:
        hair_img = np.zeros((h, w), np.uint8)
        n = int(rng.integers(15, 70))
        for _ in range(n):
            x = rng.uniform(0, w)
            y = rng.uniform(-0.05 * h, 0.25 * h)
            ang = rng.uniform(0.3, 2.8)
            pts = []
            for t in range(12):
                ang += rng.normal(0, 0.15)
                x += np.cos(ang) * L * 0.02
                y += np.sin(ang) * L * 0.02
                pts.append((x, y))
            thick = max(1, int(round(L * rng.uniform(0.0015, 0.0035))))
            cv2.polylines(hair_img, [np.array(pts, np.int32)], False, 255, thick, cv2.LINE_AA)
        hair = hair_img > 96
    skin_mask = skin & ~clothing & ~hair

    # chromophore maps
    m = spec.melanin * (1 + 0.07 * _smooth_noise(rng, h, w, 6) + 0.03 * _smooth_noise(rng, h, w, 30, 1))
    hb = spec.hemoglobin * (1 + 0.15 * _smooth_noise(rng, h, w, 8))
    deoxy = np.zeros((h, w), np.float32)
    if spec.ita_target > 40 and rng.random() < 0.4:  # freckles on light skin
        for _ in range(int(rng.integers(10, 60))):
            p = (rng.uniform(0, w), rng.uniform(0, h))
            _stamp(m, p[0], p[1], L * rng.uniform(0.002, 0.004), spec.melanin * 0.8 + 0.15)

    # the treated region and its erythema (relative to this person's skin)
    treat_cx, treat_cy = _random_point(rng, skin_mask) or (w / 2, h / 2)
    area_share = rng.uniform(0.25, 0.5)
    skin_area = max(skin_mask.sum(), 1)
    radius = np.sqrt(area_share * skin_area / np.pi)
    treated_soft = _blob_mask(rng, h, w, treat_cx, treat_cy, radius * rng.uniform(0.9, 1.3), radius * rng.uniform(0.8, 1.1))
    if spec.erythema_pattern == "patchy":
        treated_soft *= np.clip(0.8 + 1.5 * _smooth_noise(rng, h, w, 10, 2), 0, 1)
    treated = (treated_soft > 0.5) & skin_mask
    dh = ERYTHEMA_DH[spec.erythema_grade] * (1 + ERYTHEMA_MELANIN_GAIN * spec.melanin)
    hb = hb + dh * treated_soft * (1 + 0.15 * _smooth_noise(rng, h, w, 20, 1))

    lesion_zone = treated if treated.any() else skin_mask
    overlay = np.zeros((h, w, 3), np.float32)  # colour of lesions that are not chromophore changes
    overlay_a = np.zeros((h, w), np.float32)

    def place():
        return _random_point(rng, lesion_zone)

    for _ in range(spec.pustules):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.005, 0.009)
        _stamp(hb, p[0], p[1], 2.2 * r, 0.45 + 0.2 * spec.melanin)
        _disc(overlay, p[0], p[1], r, (0.93, 0.86, 0.55), soft=r * 0.3)
        _disc(overlay_a, p[0], p[1], r, 1.0, soft=r * 0.3)
    for _ in range(spec.crusts):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.015, 0.035)
        blob = _blob_mask(rng, h, w, p[0], p[1], r, r * rng.uniform(0.5, 1.0), wobble=0.4)
        honey = np.array([0.80, 0.52, 0.14], np.float32) * (0.85 + 0.3 * _smooth_noise(rng, h, w, 60, 1))[..., None]
        a = np.clip(blob * 1.5, 0, 1) * (blob > 0.05)
        overlay[:] = overlay * (1 - a[..., None]) + honey * a[..., None]
        overlay_a[:] = np.maximum(overlay_a, a)
        hb += 0.2 * cv2.GaussianBlur(blob, (0, 0), r * 0.5)
    for _ in range(spec.papules):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.007, 0.013)
        _stamp(hb, p[0], p[1], r, 0.35 + 0.15 * spec.melanin)
    for _ in range(spec.track_marks):
        p = place()
        if p is None:
            break
        ang = rng.uniform(0, np.pi)
        spacing = L * rng.uniform(0.012, 0.02)
        n_dots = int(rng.integers(6, 14))
        for k in range(n_dots):
            x = p[0] + (k - n_dots / 2) * spacing * np.cos(ang)
            y = p[1] + (k - n_dots / 2) * spacing * np.sin(ang)
            _stamp(hb, x, y, L * 0.0025, 0.45 + 0.15 * spec.melanin)
    for _ in range(spec.bleeding_spots):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.0012, 0.0025)
        _disc(overlay, p[0], p[1], r, BLOOD, soft=0.7)
        _disc(overlay_a, p[0], p[1], r, 1.0, soft=0.7)
    pigment = np.zeros((h, w), np.float32)
    for _ in range(spec.pigment_macules):
        p = place()
        if p is None:
            break
        r = L * (rng.uniform(0.035, 0.06) if spec.pigment_marked else rng.uniform(0.012, 0.022))
        pigment = np.maximum(pigment, _blob_mask(rng, h, w, p[0], p[1], r, r * rng.uniform(0.6, 1.0), wobble=0.3))
    if spec.pigment_macules:
        m = m + pigment * (0.35 + 0.25 * spec.melanin) * rng.uniform(0.9, 1.4)
    bruise_mask = np.zeros((h, w), np.float32)
    if spec.bruise:
        p = _random_point(rng, skin_mask) or (w / 2, h / 2)
        r = L * (rng.uniform(0.16, 0.24) if spec.bruise_extensive else rng.uniform(0.03, 0.07))
        bruise_mask = _blob_mask(rng, h, w, p[0], p[1], r, r * rng.uniform(0.5, 0.9), wobble=0.3)
        deoxy += bruise_mask * rng.uniform(0.5, 0.9)

    # reflectance, texture, shading
    od = OD_BASE + m[..., None] * SIGMA_MELANIN + hb[..., None] * SIGMA_HEMOGLOBIN + deoxy[..., None] * SIGMA_DEOXY
    rho = np.exp(-od)
    pores = np.zeros((h, w), np.float32)
    n_pores = int(w * h / (L * 0.009) ** 2)
    px, py = rng.uniform(0, w, n_pores).astype(int), rng.uniform(0, h, n_pores).astype(int)
    pores[py, px] = 1.0
    pores = cv2.GaussianBlur(pores, (0, 0), max(0.6, L * 0.0012))
    pores = pores / max(pores.max(), 1e-6)
    lines = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(2, 10))):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        ang = rng.uniform(0, np.pi)
        ln = L * rng.uniform(0.05, 0.2)
        cv2.line(lines, (int(x0), int(y0)), (int(x0 + ln * np.cos(ang)), int(y0 + ln * np.sin(ang))), 255, 1, cv2.LINE_AA)
    microrelief = _smooth_noise(rng, h, w, L / 5.0, 2)  # skin surface relief, ~5 px cells at 1024
    texture = 1 - 0.28 * pores - 0.08 * (lines / 255.0) + 0.06 * microrelief
    if spec.flaking:
        flakes = (_smooth_noise(rng, h, w, 80, 1) > 0.75).astype(np.float32) * treated
        texture = texture + 0.12 * cv2.GaussianBlur(flakes, (0, 0), 0.8)
    rho = rho * texture[..., None]
    # pustule tops and crusts replace the skin's colour
    rho = rho * (1 - overlay_a[..., None]) + overlay * overlay_a[..., None]

    height = _smooth_noise(rng, h, w, 2, 2)
    gy, gx = np.gradient(height * 25)
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 1.0])
    light /= np.linalg.norm(light)
    norm = np.sqrt(gx**2 + gy**2 + 1)
    shade = np.clip((-gx * light[0] - gy * light[1] + light[2]) / norm, 0.3, 1.0) ** 1.2
    shade = 0.55 + 0.45 * shade
    # specular sheen: the illuminant's colour, on the best-lit, oilier parts (fine and weak)
    sheen = np.clip(_smooth_noise(rng, h, w, 4, 2), 0, None) ** 2
    spec_map = sheen * rng.uniform(0.0, 0.06) * shade**6
    skin_lin = rho * shade[..., None] + spec_map[..., None]

    # background / clothing / hair
    bg = np.array(spec.background, np.float32) * (0.8 + 0.2 * (yy / h))[..., None]
    bg = bg * (1 + 0.03 * _smooth_noise(rng, h, w, 4))[..., None]
    img = np.where(skin[..., None], skin_lin, color.srgb_to_linear(bg))
    if spec.clothing:
        cloth = color.srgb_to_linear(np.array(rng.uniform(0.05, 0.9, 3), np.float32)) * (
            0.8 + 0.2 * _smooth_noise(rng, h, w, 20, 2)
        )[..., None]
        img = np.where(clothing[..., None], cloth, img)
    if spec.hair:
        hair_col = color.srgb_to_linear(np.array([0.16, 0.11, 0.07], np.float32) * rng.uniform(0.3, 1.3))
        img = np.where(hair[..., None], hair_col * (0.7 + 0.3 * shade[..., None]), img)
    if spec.chart is not None:
        on_chart = draw_chart(img, *spec.chart)
        skin_mask &= ~on_chart

    # capture: illuminant, exposure, blur, noise, encoding
    img = img * np.array(spec.wb_gains, np.float32) * spec.exposure
    blur = spec.blur * L / 1024.0
    if blur > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    srgb = color.linear_to_srgb(img)
    srgb = srgb + rng.standard_normal(srgb.shape).astype(np.float32) * spec.noise * (0.5 + np.sqrt(np.clip(srgb, 0, 1)))
    rgb8 = np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8)

    skin_px = max(int(skin_mask.sum()), 1)
    treated_px = max(int(treated.sum()), 1)
    spec.truth = {
        "skin_fraction": round(float(skin_mask.mean()), 4),
        "pigment_area": round(float(((pigment > 0.5) & treated).sum() / treated_px), 4),
        "bruise_area": round(float(((bruise_mask > 0.5) & skin_mask).sum() / skin_px), 4),
    }
    return rgb8, skin_mask, treated


def chart_layout(cx: float, cy: float, pitch: float, angle_deg: float, long_side: int) -> tuple[np.ndarray, np.ndarray]:
    """A ColorChecker Classic's geometry: (frame corners (4, 2), patch corners (24, 4, 2)) in px,
    patches in the chart's reading order; patch side 0.8 pitch, frame 0.45 pitch beyond the patches."""
    p = pitch * long_side
    t = np.radians(angle_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    centre = np.array([cx, cy]) * long_side

    def place(uv):  # chart cells (u right, v down, origin at the chart's centre) -> px
        return (np.asarray(uv, np.float64) * p) @ rot.T + centre

    m = 0.45
    frame = place([[-3 - m, -2 - m], [3 + m, -2 - m], [3 + m, 2 + m], [-3 - m, 2 + m]])
    r, c = np.divmod(np.arange(24), 6)
    u, v = c - 2.5, r - 1.5
    half = 0.4
    sq = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
    patches = np.stack([place(np.stack([u[k] + sq[:, 0], v[k] + sq[:, 1]], 1)) for k in range(24)])
    return frame, patches


def draw_chart(img: np.ndarray, cx: float, cy: float, pitch: float, angle_deg: float) -> np.ndarray:
    """Paint a ColorChecker Classic (published sRGB values, matt black frame) into a linear scene
    in place; returns the chart's mask."""
    h, w = img.shape[:2]
    frame, patches = chart_layout(cx, cy, pitch, angle_deg, max(h, w))
    scale = 16  # 4 bits of sub-pixel precision: anti-aliased, exact edges
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.rint(frame * scale).astype(np.int32)], 255, cv2.LINE_AA, 4)
    ref = chart.reference_linear()
    layer = np.zeros((h, w, 3), np.float32)
    layer[:] = color.srgb_to_linear(np.float32([0.1, 0.1, 0.1]))
    for k in range(24):
        cv2.fillPoly(layer, [np.rint(patches[k] * scale).astype(np.int32)], ref[k].tolist(), cv2.LINE_AA, 4)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    img[:] = img * (1 - alpha) + layer * alpha
    return mask > 127


def findings(spec: PhotoSpec) -> policy.Findings:
    """The policy's view of a rendered spec (after render() measured its areas)."""
    return policy.Findings(
        erythema_grade=spec.erythema_grade,
        days_since_treatment=spec.days_since_treatment if spec.day_known else None,
        pustules=spec.pustules,
        crusts=spec.crusts,
        papules=spec.papules,
        track_marks=spec.track_marks,
        bleeding_spots=spec.bleeding_spots,
        pigment_area=spec.truth.get("pigment_area", 0.0),
        bruise_area=spec.truth.get("bruise_area", 0.0),
        quality_issue=spec.quality_issue,
    )


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
    buf = _io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=spec.jpeg_quality, optimize=False)
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
        "ita_band": color.ita_band(ita),
        "skin_fraction": spec.truth["skin_fraction"],
        "quality_issue": spec.quality_issue,
    }
    return buf.getvalue(), skin, row


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
    from .parallel import imap_unordered

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
