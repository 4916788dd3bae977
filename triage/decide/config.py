"""Tunables of deciding (numbers to a level and words), each with the reason for its value."""

from __future__ import annotations

#: The three levels of TRIAGE_POLICY.md, least urgent first (the model's class order).
LEVELS = ("normal", "monitor", "seek-care")
#: How a level is written for people (summaries, the report, the review app).
LEVEL_TITLES = {"normal": "Normal", "monitor": "Monitor", "seek-care": "Seek care"}
#: Days assumed when the day since treatment is unknown (TRIAGE_POLICY: judge as for days 2-3).
UNKNOWN_DAY_AS = 2.5
#: Days beyond this are treated as this day by the model: the policy's expected course ends at
#: day 7 and nothing changes after day 14 in it.
MAX_MODEL_DAY = 14
#: Number of reasons quoted in an explanation, and the smallest contribution quoted as a share
#: of the strongest one (smaller ones read as noise: "0.0 L* darker" offered as a reason).
MAX_REASONS = 3
MIN_REASON_SHARE = 0.2
#: Model files are refused above these sizes, checked before anything is inflated: the shipped
#: model is ~110 KB (a 4 KB schema, arrays of a few KB); a million times the coefficients it has
#: would still fit. A 1 MB schema.json that inflated to 2.1 GB was the attack these stop.
MAX_MODEL_FILE_BYTES = 20_000_000
MAX_MODEL_SCHEMA_BYTES = 1_000_000
MAX_MODEL_ARRAY_BYTES = 8_000_000
