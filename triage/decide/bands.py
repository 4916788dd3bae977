"""The groups results are explained and reported by: the skin-tone bands of the ITA and the
policy's day bands.

ITA bands (Chardon 1991, Del Bino 2006): > 55 very light, 41-55 light, 28-41 intermediate, 10-28
tan, -30-10 brown, < -30 dark; results are reported per band so that a gap between skin tones
shows. Day bands: where TRIAGE_POLICY.md's expected course steps (days 0-1, 2-3, 4-7, 8-14);
the explanations quote the range seen in normal healing per day band.
"""

from __future__ import annotations

import math

from .policy import judged_day

ITA_BANDS = (  # (name, lower bound exclusive); Chardon 1991, Del Bino 2006
    ("very_light", 55.0),
    ("light", 41.0),
    ("intermediate", 28.0),
    ("tan", 10.0),
    ("brown", -30.0),
    ("dark", -math.inf),
)


def ita_band(ita: float) -> str:
    """Skin-tone band of an ITA value: > 55 very light, 41-55 light, 28-41 intermediate,
    10-28 tan, -30-10 brown, < -30 dark."""
    for name, lower in ITA_BANDS:
        if ita > lower:
            return name
    return "dark"


DAY_BANDS = (("days 0-1", 0, 1), ("days 2-3", 2, 3), ("days 4-7", 4, 7), ("days 8-14", 8, 10_000))


def day_band(days: int | None) -> str:
    """The policy day band of a day since treatment (unknown: judged as days 2-3)."""
    d = judged_day(days)
    for name, lo, hi in DAY_BANDS:
        if lo <= d <= hi or (name == "days 2-3" and 1 < d < 4):
            return name
    return DAY_BANDS[-1][0]
