"""Explanations in plain words, read from the model that decided.

Each reason is one feature's contribution to the model's score for the chosen level (the sum
over every model input computed from that feature: its spline terms and its day interactions),
so the contributions plus the level's intercept add up to the score (see triage.model). The reasons quoted are those
pushing hardest towards the chosen level (at most MAX_REASONS, none weaker than MIN_REASON_SHARE
of the strongest): for monitor and seek-care, against normal, by the feature's term in the
log-odds of that level against normal (its contribution to the level's score minus its
contribution to normal's: a finding the model weighs alike at both levels, such as "marked
redness covers 0.0%", decides nothing), and only findings the photo shows beyond what normally
healing photos show that day (_is_finding: not "0 pinpoint bleeding spots", not a redness spread
within its expected range, not the skin tone, whatever their spline terms); for normal, by its
contribution to normal's score.
Their text quotes the measured value (the same number
as in the row's features) and the range seen on that day in normally healing training photos
(the model's expected_ranges_, the 95th percentile per policy day band).
"""

from __future__ import annotations

from . import config
from .bands import day_band, ita_band
from .model import CONTEXT_FEATURES, Decision, TriageModel, input_feature

#: What to fix when retaking, per quality issue (triage.measure.quality names them).
RETAKE_ADVICE = {
    "no_skin": "frame the treated skin so it fills most of the photo",
    "too_dark": "retake in brighter, even light (daylight from a window, no backlight)",
    "overexposed": "retake without flash or direct sun on the skin",
    "blurry": "hold the phone steady and tap the skin on screen to focus",
    "low_resolution": "send the original photo, not a thumbnail or screenshot",
    "color_cast": "retake in daylight without coloured lamps, filters or beauty mode",
    "grayscale": "retake in colour (no black-and-white filter)",
    "collage": "send each photo on its own, not a collage or side-by-side",
}

GUIDANCE = {
    "normal": "Consistent with expected healing for the day: routine aftercare.",
    "monitor": "Outside the expected course but not urgent: staff review, follow-up photo in 1-3 days.",
    "seek-care": "Contact the patient today for clinician review.",
}
DISCLAIMER = "Decision support for clinic staff, not a diagnosis."

def _day_phrase(days: int | None) -> str:
    return "on day %d" % days if days is not None else "on an unknown day, judged as days 2-3"


def _pct(v: float) -> str:
    return f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.1%}"


def _at_most(e: float) -> str:
    return "none" if round(e) == 0 else f"at most {e:.0f}"


def _n(v: float, one: str, many: str) -> str:
    n = int(round(v))
    return f"{n} {one if n == 1 else many}"


#: feature -> (text of the value, text of the expected value); {e} is the expected value
TEXTS = {
    "redness_area_fraction": (lambda v: f"Redness covers {_pct(v)} of the skin", lambda e: f"under {_pct(e)}"),
    "redness_strong_area_fraction": (lambda v: f"Marked redness covers {_pct(v)} of the skin", lambda e: f"under {_pct(e)}"),
    "redness_delta_a": (lambda v: f"The reddest skin is {v:.1f} a* units redder than the untreated skin", lambda e: f"under {e:.1f}"),
    "erythema_index_delta": (lambda v: f"Erythema index {v:.1f} above the untreated skin", lambda e: f"under {e:.1f}"),
    "redness_largest_region_fraction": (lambda v: f"The largest red area covers {_pct(v)} of the skin", lambda e: f"under {_pct(e)}"),
    "redness_spread": (lambda v: f"Redness spread over the skin {v:.2f} (0 none, 1 everywhere)", lambda e: f"under {e:.2f}"),
    "melanin_index_delta": (lambda v: f"Melanin index {v:.1f} above the untreated skin", lambda e: f"under {e:.1f}"),
    "dark_macule_count": (lambda v: _n(v, "dark patch", "dark patches") + " darker than the skin around", _at_most),
    "dark_macule_area_fraction": (lambda v: f"Dark patches cover {_pct(v)} of the skin", lambda e: f"under {_pct(e)}"),
    "pigment_delta_L": (lambda v: f"Dark patches are {v:.1f} L* units darker than the skin around them", lambda e: f"under {e:.1f}"),
    "ita_drop_deg": (lambda v: f"Skin tone in the dark patches is {v:.0f} deg ITA darker than the untreated skin", lambda e: f"under {e:.0f}"),
    "pustule_count": (lambda v: _n(v, "pustule-like spot", "pustule-like spots") + " detected", _at_most),
    "crust_area_fraction": (lambda v: f"Yellow crust-like areas cover {_pct(v)} of the skin", lambda e: f"under {_pct(e)}"),
    "bleeding_spot_count": (lambda v: _n(v, "pinpoint bleeding spot", "pinpoint bleeding spots"), _at_most),
    "papule_count": (lambda v: _n(v, "papule-like red bump", "papule-like red bumps"), _at_most),
    "track_aligned_dots": (lambda v: _n(v, "red dot", "red dots") + " in straight rows like roller track marks", _at_most),
    "bruise_area_fraction": (lambda v: f"Bruise-like discolouration covers {_pct(v)} of the skin", lambda e: f"under {_pct(e)}"),
    "texture_roughness": (lambda v: f"Skin texture roughness {v:.3f} (dryness, flaking)", lambda e: f"under {e:.3f}"),
    "hemoglobin_index": (lambda v: f"Blood in the skin (hemoglobin index) {v:.2f}", lambda e: f"under {e:.2f}"),
    "cheek_redness_asymmetry": (lambda v: f"One cheek is {v:.1f} a* units redder than the other", lambda e: f"under {e:.1f}"),
    "vesicle_count": (lambda v: _n(v, "grouped blister-like spot", "grouped blister-like spots"), _at_most),
    "quality_failed": (lambda v: "The photo did not pass the quality check", None),
    "ita_deg": (lambda v: f"Skin tone ITA {v:.0f} deg ({ita_band(v).replace('_', ' ')})", None),
    "skin_fraction": (lambda v: f"Skin fills {_pct(v)} of the photo", None),
}


def _is_finding(model: TriageModel, name: str, value: float | None, band: str) -> bool:
    """Whether a model input may be quoted as a reason for monitor or seek-care: the day, the
    quality gate's verdict, or a finding that is there and beyond what normally healing training
    photos show on that day (model.expected_ranges_, when known). Never a finding measured as 0
    (absent: a spline term, relative to the training photos' average, can give "0 bleeding spots"
    a small term against normal), one within its expected range ("redness spread 0.44, expected
    under 0.91"), or the photo's context (model.CONTEXT_FEATURES: skin tone, how much of it is
    skin)."""
    if name in ("days_since_treatment", "quality_failed"):
        return True
    if name in CONTEXT_FEATURES or value is None or value == 0:
        return False
    expected = model.expected_ranges_.get(name, {}).get(band)
    return expected is None or value > expected


def feature_contributions(model: TriageModel, decision: Decision, level: str) -> dict[str, float]:
    """Contribution of each feature (and of the day) to the score of `level`: the contributions
    of all inputs computed from it (model.input_feature), summed."""
    k = model.levels_.index(level)
    out: dict[str, float] = {}
    for name, c in zip(model.input_names_, decision.contributions[k]):
        key = input_feature(name)
        out[key] = out.get(key, 0.0) + float(c)
    return out


def reason_text(name: str, value: float | None, expected: float | None, days: int | None) -> str:
    if name == "days_since_treatment":
        return f"Day {days} after treatment" if days is not None else "Day since treatment unknown: judged as days 2-3"
    if value is None:
        return f"{name} could not be measured"
    value_text, expected_text = TEXTS.get(name, (lambda v: f"{name} = {v:.3g}", lambda e: f"under {e:.3g}"))
    text = value_text(value)
    if expected_text is not None and expected is not None:
        text += f" (expected {expected_text(expected)} {_day_phrase(days)})"
    return text


def explain(
    model: TriageModel, decision: Decision, features: dict, days: int | None, quality_issues: list[str],
    phrases: dict[str, str] | None = None,
) -> dict:
    """The row's explanation: {summary, reasons, policy}. `phrases` gives the words of features
    that compare photos (triage.course: "redness has not faded since day 2: 31% -> 34% of the
    skin"), which quote numbers of other photos than this one."""
    label = decision.label
    contrib = feature_contributions(model, decision, label)
    push = contrib
    if label != "normal":  # what argues for this level rather than normal: its term in their log-odds
        normal = feature_contributions(model, decision, "normal")
        push = {n: c - normal.get(n, 0.0) for n, c in contrib.items()}
    band = day_band(days)
    if label != "normal":  # quoted: what the photo shows, not what it is like
        push = {n: p for n, p in push.items() if n in (phrases or {}) or _is_finding(model, n, features.get(n), band)}
    ranked = sorted((p, n) for n, p in push.items() if p > 0)[::-1][: config.MAX_REASONS]
    if ranked:  # quote what decided: drop reasons weaker than a fifth of the strongest
        ranked = [(p, n) for p, n in ranked if p >= config.MIN_REASON_SHARE * ranked[0][0]]
    reasons = []
    for _p, name in ranked:
        c = contrib[name]
        if name == "days_since_treatment":
            value = days
        elif name == "quality_failed":  # the gate's verdict, not a measured feature
            value = float(bool(quality_issues))
        else:
            value = features.get(name)
        expected = model.expected_ranges_.get(name, {}).get(band)
        text = (phrases or {}).get(name)
        text = text[:1].upper() + text[1:] if text else reason_text(name, value, expected, days)
        reasons.append({"feature": name, "value": value, "contribution": round(c, 6), "text": text})
    title = config.LEVEL_TITLES[label]
    parts = [f"{title}: " + ("; ".join(r["text"] for r in reasons) if reasons else "no finding stands out") + "."]
    quoted = {r["feature"] for r in reasons}
    course = [t for name, t in (phrases or {}).items() if name not in quoted]
    if course:  # the patient's course in words, whether or not the model weighed it
        parts.append("Course: " + "; ".join(course) + ".")
    if quality_issues:
        fixes = "; ".join(f"{q.replace('_', ' ')}: {RETAKE_ADVICE.get(q, 'retake the photo')}" for q in quality_issues)
        parts.append(f"Photo not fully assessable ({fixes}).")
    if decision.override:
        parts.append(f"The model's most likely level was {decision.argmax}, but {decision.override}.")
    if decision.beyond_training and "beyond anything" not in (decision.override or ""):
        names = ", ".join(n.replace("_", " ") for n in decision.beyond_training[:3])
        parts.append(f"Some findings are beyond anything the model was trained on ({names}): review the photo.")
    if days is None:
        parts.append("The day since treatment was not given; judged as days 2-3.")
    parts.append(GUIDANCE[label])
    return {"summary": " ".join(parts), "reasons": reasons, "policy": decision.override}
