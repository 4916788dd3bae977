"""TRIAGE_POLICY.md as code: the level from ground truth, and the expected course per day.

`level_from_truth` is the documented function that labels generated photos; it is tested row by
row against the policy table. `expected_max_grade` gives the erythema grade consistent with
expected healing on a given day; the explanations quote it.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import config

NORMAL, MONITOR, SEEK_CARE = config.LEVELS

#: Pigmented share of the treated area above which hyperpigmentation is "marked" (policy: dark,
#: > ~10% of the treated area).
MARKED_PIGMENT_AREA = 0.10
#: Bruised share of the skin above which bruising is "extensive"; below it "mild". The policy
#: names no number; 8% of a close-up is a bruise larger than a coin on a cheek photo.
EXTENSIVE_BRUISE_AREA = 0.08
#: Pustules from which infection is suspected (policy: pustules >= 3).
PUSTULES_SEEK_CARE = 3


@dataclass(frozen=True)
class Findings:
    """Ground truth of one photo, in the policy's terms."""

    erythema_grade: int = 0  #: 0-4 against the same person's untreated skin
    days_since_treatment: int | None = None  #: None = unknown (judged as days 2-3)
    pustules: int = 0
    crusts: int = 0  #: yellow/honey crust regions
    vesicles: int = 0  #: grouped vesicles (not generated yet; the policy names them)
    papules: int = 0
    track_marks: int = 0  #: lines of dots along the roller path
    bleeding_spots: int = 0
    pigment_area: float = 0.0  #: new hyperpigmented share of the treated area, 0-1
    bruise_area: float = 0.0  #: bruised share of the skin, 0-1
    quality_issue: str = ""  #: "" or a quality issue name: not assessable


def judged_day(days: int | None) -> float:
    """The day the policy judges by: unknown days are judged as days 2-3."""
    return config.UNKNOWN_DAY_AS if days is None else float(days)


def expected_max_grade(days: int | None) -> int:
    """Highest erythema grade consistent with expected healing: 2 on days 0-3, 1 on days 4-7,
    0 after day 7 (TRIAGE_POLICY.md, 'normal' row)."""
    d = judged_day(days)
    return 2 if d <= 3 else 1 if d <= 7 else 0


def level_from_truth(f: Findings) -> str:
    """The level the policy gives these findings; the most urgent row wins.

    seek-care: grade 4; grade >= 3 after day 1; pustules >= 3; any crust; grouped vesicles;
               bleeding after day 0; extensive bruising; marked hyperpigmentation.
    monitor:   grade above the expected maximum for the day (grade 2 on days 4-7, >= 1 after
               day 7, grade 3 on days 0-1); 1-2 pustules (a sign to watch, below the policy's
               infection count); papules; track marks; small new pigmented patches; mild
               bruising; photo not assessable.
    normal:    everything else.
    """
    d = judged_day(f.days_since_treatment)
    seek = (
        f.erythema_grade >= 4
        or (f.erythema_grade >= 3 and d > 1)
        or f.pustules >= PUSTULES_SEEK_CARE
        or f.crusts > 0
        or f.vesicles > 0
        or (f.bleeding_spots > 0 and d > 0)
        or f.bruise_area > EXTENSIVE_BRUISE_AREA
        or f.pigment_area > MARKED_PIGMENT_AREA
    )
    if seek:
        return SEEK_CARE
    monitor = (
        f.erythema_grade > expected_max_grade(f.days_since_treatment)
        or f.pustules > 0
        or f.papules > 0
        or f.track_marks > 0
        or f.pigment_area > 0
        or f.bruise_area > 0
        or bool(f.quality_issue)
    )
    return MONITOR if monitor else NORMAL
