"""Features of a photo against the same patient's baseline and earlier photos.

Each is None when what it compares with is missing (no baseline, no earlier photo, the quality
gate failed on either): the model gives a missing one no weight at all, so a photo without a
baseline or a history is judged exactly on its own measurements.

Against the baseline (a photo taken before the treatment):
- baseline_redness_change = a*_ref(now) - a*_ref(baseline): the person's reference skin (the face's
  level, else the less-red half of the skin) redder than before the treatment, the sign of a face
  treated (and red) all over, which a comparison within one photo cannot see. Both photos are
  white-balanced first (triage.measure.normalise), so a change of light moves it little.
- baseline_region_redness_change = max over facial regions on both photos of
  (region_a(now) - region_a(baseline)), region_a being how much redder a region is than usual on
  that face: the same cheek compared with the same cheek, independent of the light (a difference
  within each photo, triage.course.summary).
- baseline_redness_area_change = redness_area_fraction(now) - redness_area_fraction(baseline): the
  redness the person's skin did not have before.
- baseline_new_dark_area = max(0, dark_macule_area_fraction(now) - (baseline)): dark patches that
  were not there before (a mole is not a new patch).
- baseline_new_spot_count = max(0, spots(now) - spots(baseline)), spots = pustules + vesicles +
  papules.
Against the course (the patient's photos after the treatment, earlier than this one):
- redness_kept = (R(now) + f) / (R(early) + f), R the redness area fraction, f = REDNESS_FLOOR,
  early the first photo of days 0-EARLY_DAYS, now from day LATE_FROM_DAY on, and only when the
  early photo had redness to fade (R(early) >= f): expected healing fades over 2-3 days (the
  policy), so by day 4 a ratio near or above 1 is redness that stayed or grew.
- new_finding_count = the number of finding kinds (triage.course.config.PRESENT) present now and
  absent on the previous photo: a new sign on day 5 that was not there on day 2.
Reference: the expected course after microneedling (TRIAGE_POLICY.md; Dermatol Surg 2021 review):
redness strongest on days 0-1 and fading over 2-3 days; new pustules, crusts or dark patches
later are complications.
"""

from __future__ import annotations

from . import config
from .summary import PhotoSummary

BASELINE_FEATURES = (
    "baseline_redness_change", "baseline_region_redness_change", "baseline_redness_area_change",
    "baseline_new_dark_area", "baseline_new_spot_count",
)  # fmt: skip
HISTORY_FEATURES = ("redness_kept", "new_finding_count")
COURSE_FEATURES = BASELINE_FEATURES + HISTORY_FEATURES
#: What each finding kind is called in a sentence.
FINDING_WORDS = {
    "pustule_count": "pustule-like spots", "vesicle_count": "vesicle-like spots", "crust_area_fraction": "crusts",
    "dark_macule_area_fraction": "dark patches", "bruise_area_fraction": "bruising", "bleeding_spot_count": "bleeding spots",
}  # fmt: skip


def _f(s: PhotoSummary, name: str) -> float | None:
    v = s.features.get(name)
    return None if v is None else float(v)


def _spots(s: PhotoSummary) -> float | None:
    parts = [_f(s, n) for n in ("pustule_count", "vesicle_count", "papule_count")]
    return None if any(p is None for p in parts) else sum(parts)


def _diff(a: float | None, b: float | None, floor: float | None = None) -> float | None:
    if a is None or b is None:
        return None
    d = a - b
    return d if floor is None else max(floor, d)


def against_baseline(now: PhotoSummary, base: PhotoSummary | None) -> dict[str, float | None]:
    """The BASELINE_FEATURES of `now` (None each without a usable baseline)."""
    out = dict.fromkeys(BASELINE_FEATURES)
    if base is None or not (now.quality_ok and base.quality_ok):
        return out
    out["baseline_redness_change"] = _diff(now.level_a, base.level_a)
    shared = sorted(set(now.region_a) & set(base.region_a))
    out["baseline_region_redness_change"] = max((now.region_a[r] - base.region_a[r] for r in shared), default=None)
    out["baseline_redness_area_change"] = _diff(_f(now, "redness_area_fraction"), _f(base, "redness_area_fraction"))
    out["baseline_new_dark_area"] = _diff(_f(now, "dark_macule_area_fraction"), _f(base, "dark_macule_area_fraction"), 0.0)
    out["baseline_new_spot_count"] = _diff(_spots(now), _spots(base), 0.0)
    return {k: (None if v is None else round(v, 6)) for k, v in out.items()}


def _early(earlier: list[PhotoSummary]) -> PhotoSummary | None:
    early = [s for s in earlier if s.quality_ok and s.day is not None and s.day <= config.EARLY_DAYS]
    return min(early, key=lambda s: s.day) if early else None


def against_history(now: PhotoSummary, earlier: list[PhotoSummary]) -> dict[str, float | None]:
    """The HISTORY_FEATURES of `now` given the patient's earlier photos after treatment (in day
    order)."""
    out = dict.fromkeys(HISTORY_FEATURES)
    if not now.quality_ok:
        return out
    early = _early(earlier)
    r_now = _f(now, "redness_area_fraction")
    if early is not None and now.day is not None and now.day >= config.LATE_FROM_DAY and r_now is not None:
        r_early = _f(early, "redness_area_fraction")
        if r_early is not None and r_early >= config.REDNESS_FLOOR:
            out["redness_kept"] = round((r_now + config.REDNESS_FLOOR) / (r_early + config.REDNESS_FLOOR), 6)
    previous = [s for s in earlier if s.quality_ok]
    if previous:
        out["new_finding_count"] = float(len(new_findings(now, previous[-1])))
    return out


def new_findings(now: PhotoSummary, before: PhotoSummary) -> list[str]:
    """Finding kinds present on `now` and absent on `before` (bleeding counts after day 0 only)."""
    kinds = []
    for name, at in config.PRESENT.items():
        if name == "bleeding_spot_count" and (now.day is None or now.day == 0):
            continue
        v_now, v_before = _f(now, name), _f(before, name)
        if v_now is not None and v_now >= at and (v_before is None or v_before < at):
            kinds.append(name)
    return kinds


def course_features(now: PhotoSummary, earlier: list[PhotoSummary], base: PhotoSummary | None) -> dict[str, float | None]:
    """Every COURSE_FEATURE of `now`."""
    return {**against_baseline(now, base), **against_history(now, earlier)}


def _day(s: PhotoSummary) -> str:
    return "the day unknown" if s.day is None else f"day {s.day}"


def sentences(now: PhotoSummary, earlier: list[PhotoSummary], base: PhotoSummary | None, values: dict) -> dict[str, str]:
    """Plain words for each course feature that has a value, quoting the numbers compared, e.g.
    "redness has not faded since day 2: 31% -> 34% of the skin"."""
    out = {}
    pct = lambda v: f"{100 * v:.0f}%"  # noqa: E731
    if values.get("redness_kept") is not None:
        early = _early(earlier)
        a, b = _f(early, "redness_area_fraction"), _f(now, "redness_area_fraction")
        kept = values["redness_kept"]
        verb = "has not faded" if kept >= config.NOT_FADED else "has faded only partly" if kept >= 0.5 else "has faded"
        out["redness_kept"] = f"redness {verb} since {_day(early)}: {pct(a)} -> {pct(b)} of the skin"
    if values.get("new_finding_count"):
        previous = [s for s in earlier if s.quality_ok][-1]
        words = ", ".join(FINDING_WORDS[k] for k in new_findings(now, previous))
        out["new_finding_count"] = f"new since {_day(previous)}: {words}"
    if base is not None:
        if values.get("baseline_redness_change") is not None:
            out["baseline_redness_change"] = (f"the skin is {values['baseline_redness_change']:+.1f} a* redder than before "
                                              "the treatment")  # fmt: skip
        if values.get("baseline_region_redness_change") is not None:
            out["baseline_region_redness_change"] = (f"the reddest facial region is {values['baseline_region_redness_change']:+.1f} "
                                                     "a* redder than on the photo before the treatment")  # fmt: skip
        if values.get("baseline_redness_area_change") is not None:
            a, b = _f(base, "redness_area_fraction"), _f(now, "redness_area_fraction")
            out["baseline_redness_area_change"] = f"redness covers {pct(b)} of the skin, {pct(a)} before the treatment"
        if values.get("baseline_new_dark_area"):
            out["baseline_new_dark_area"] = f"dark patches not there before the treatment: {pct(values['baseline_new_dark_area'])} of the skin"
        if values.get("baseline_new_spot_count"):
            out["baseline_new_spot_count"] = f"{values['baseline_new_spot_count']:.0f} more spots than before the treatment"
    return out


def not_faded(values: dict, phrases: dict[str, str]) -> str | None:
    """Why a photo is outside the expected course whatever the model says, or None: its redness
    has not faded as expected (redness_kept >= config.NOT_FADED), in the words of `sentences`."""
    kept = values.get("redness_kept")
    if kept is not None and kept >= config.NOT_FADED:
        return phrases.get("redness_kept") or "the redness has not faded as expected"
    return None
