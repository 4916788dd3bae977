"""Tunables of the course stage, each with the reason for its value."""

from __future__ import annotations

#: A finding is "present" on a photo from these values of its feature (the thresholds the rules
#: baseline and the real benchmark use for "the photo shows it").
PRESENT = {
    "pustule_count": 1.0,
    "vesicle_count": 1.0,
    "crust_area_fraction": 0.001,
    "dark_macule_area_fraction": 0.001,
    "bruise_area_fraction": 0.001,
    "bleeding_spot_count": 1.0,
}
#: Redness is compared between days as a share of the skin; below this share on the early photo
#: there was no redness to fade (a ratio of two small numbers is noise), and it is added to both
#: shares of `redness_kept` for the same reason.
REDNESS_FLOOR = 0.02
#: The early photo a later one's redness is compared with: taken on days 0-2 (the policy: redness
#: strongest on days 0-1, fading over 2-3 days), and the later one from day 4 on (by then it has
#: had its 2-3 days to fade; the policy's expected maximum drops at day 4).
EARLY_DAYS = 2
LATE_FROM_DAY = 4
#: Redness "has not faded as expected" when a photo from day LATE_FROM_DAY on keeps at least this
#: share of the early photo's redness (redness_kept): expected healing keeps about a third by day
#: 4. Such a photo is never called normal (the policy: redness outside the expected course is
#: monitor), whatever the model says: triage.pipeline passes it to the decision as a reason.
#: scripts/course_benchmark.py reports precision and recall per patient on sequences never trained on.
NOT_FADED = 0.8
