"""Tunables of deciding (numbers to a level and words), each with the reason for its value."""

from __future__ import annotations

#: The three levels of TRIAGE_POLICY.md, least urgent first (the model's class order).
LEVELS = ("normal", "monitor", "seek-care")
#: Days assumed when the day since treatment is unknown (TRIAGE_POLICY: judge as for days 2-3).
UNKNOWN_DAY_AS = 2.5
#: Days beyond this are treated as this day by the model: the policy's expected course ends at
#: day 7 and nothing changes after day 14 in it.
MAX_MODEL_DAY = 14
#: Number of reasons quoted in an explanation, and the smallest contribution quoted as a share
#: of the strongest one (smaller ones read as noise: "0.0 L* darker" offered as a reason).
MAX_REASONS = 3
MIN_REASON_SHARE = 0.2
