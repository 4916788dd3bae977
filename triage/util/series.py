"""The order of one patient's photos, the same in the runner, training, the report and the review
app: the photo taken before the treatment first, then by day since treatment, undated last."""

from __future__ import annotations


def day_order(baseline: bool, day: int | None) -> tuple[int, int]:
    """Sort key of a patient's photo (callers add their own tie-breaker, e.g. the path)."""
    if baseline:
        return 0, 0
    return (1, day) if day is not None else (2, 0)
