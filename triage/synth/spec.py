"""What one generated photo shows: its ground truth (scenario, day, erythema grade, lesions, skin
tone) and its capture conditions, drawn from the rng (`sample_spec`), and the policy's view of
it (`findings`). Scenarios and their shares follow TRIAGE_POLICY.md's findings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..decide import policy
from .optics import BASE_HEMOGLOBIN, melanin_for_ita, skin_lab

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
    vesicle_groups: int = 0  #: groups of clear blisters (herpes-like); drawn only on real-skin canvases
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


def sample_camera(rng: np.random.Generator, spec: PhotoSpec) -> None:
    """The camera of one capture, into `spec`: exposure, white balance (a colour temperature
    swing and a green-magenta tint), sensor noise, blur and JPEG quality."""
    spec.exposure = float(rng.uniform(0.78, 1.15))
    temp = rng.uniform(-1, 1)
    tint = rng.uniform(-0.04, 0.04)
    spec.wb_gains = (float(1 + 0.12 * temp), float(1 + tint), float(1 - 0.14 * temp))
    spec.noise = float(rng.uniform(0.002, 0.010))
    spec.blur = float(rng.uniform(0.0, 0.9))
    spec.jpeg_quality = int(rng.integers(75, 96))


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
    sample_camera(rng, spec)
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


def findings(spec: PhotoSpec) -> policy.Findings:
    """The policy's view of a rendered spec (after render() measured its areas)."""
    return policy.Findings(
        erythema_grade=spec.erythema_grade,
        days_since_treatment=spec.days_since_treatment if spec.day_known else None,
        pustules=spec.pustules,
        crusts=spec.crusts,
        vesicles=spec.vesicle_groups,
        papules=spec.papules,
        track_marks=spec.track_marks,
        bleeding_spots=spec.bleeding_spots,
        pigment_area=spec.truth.get("pigment_area", 0.0),
        bruise_area=spec.truth.get("bruise_area", 0.0),
        quality_issue=spec.quality_issue,
    )
