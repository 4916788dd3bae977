"""A run as the review app reads it: results.jsonl rows checked against the contract
(../shared/CONTRACT.md: schema 1, and schema 2 that adds the patient keys of the README) and run.json, all before
anything is written, so that no imported row can break a page or an export. A problem is one
line naming the line and the field. Rows written before patient follow-up lack patient_id, role
and course: missing is null."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ..decide.config import LEVELS
from ..run.results import is_sha256
from ..util.text import UNSAFE
from . import config


class RunError(ValueError):
    """A run that breaks the contract; str() is one line."""


@dataclass(frozen=True)
class Triaged:
    """What the review database keeps of one triaged row."""

    path: str
    sha256: str
    label: str
    p_level: float  #: the probability of its level
    row: str  #: the row as JSON
    patient_id: str | None = None  #: None: no patient (rows written before patient follow-up lack the key)
    role: str | None = None  #: "baseline" (before the treatment), "follow-up" or None
    days: int | None = None  #: days since treatment (None: not given, or before the treatment)


#: row formats read: 1 (CONTRACT.md), 2 (adds patient_id, role, course; triage.pipeline.SCHEMA)
SCHEMAS = (1, 2)
MAX_PATH = 4096  #: characters: PATH_MAX on Linux; a longer path is no file's
MAX_DAYS = 2**31 - 1  #: the largest day an Integer column holds (PostgreSQL's integer); the pipeline writes <= 3650
ROLES = ("baseline", "follow-up", None)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _path(v) -> bool:
    return isinstance(v, str) and 0 < len(v) <= MAX_PATH


def _days(v) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_DAYS)


def _patient_id(v) -> bool:
    return v is None or (isinstance(v, str) and 0 < len(v) <= config.MAX_PATIENT_ID and not UNSAFE.search(v))  # one line: no control character


def _course(v) -> bool:
    """null, or {summary: {...}, compared_with: {baseline: bool, earlier_days: [days or null]}};
    anything more in it is the pipeline's and passes unread."""
    if v is None:
        return True
    if not isinstance(v, dict) or not isinstance(v.get("summary"), dict):
        return False
    seen = v.get("compared_with")
    return (
        isinstance(seen, dict) and isinstance(seen.get("baseline"), bool)
        and isinstance(seen.get("earlier_days"), list) and all(_days(d) for d in seen["earlier_days"])
    )  # fmt: skip


def _probabilities(v) -> bool:
    return (
        isinstance(v, dict) and set(v) == set(LEVELS) and all(_number(p) and 0 <= p <= 1 for p in v.values())
        and abs(sum(v.values()) - 1) <= 1e-3
    )  # fmt: skip


def _quality(v) -> bool:
    return (
        isinstance(v, dict) and isinstance(v.get("ok"), bool)
        and isinstance(v.get("issues"), list) and all(isinstance(i, str) for i in v["issues"])
    )  # fmt: skip


def _features(v) -> bool:
    return (
        isinstance(v, dict) and {"ita_deg", "skin_fraction"} <= set(v)
        and all(x is None or _number(x) for x in v.values())
    )  # fmt: skip


def _reason(v) -> bool:
    return (
        isinstance(v, dict) and isinstance(v.get("feature"), str) and isinstance(v.get("text"), str)
        and (v.get("value") is None or _number(v.get("value"))) and _number(v.get("contribution"))
    )  # fmt: skip


def _explanation(v) -> bool:
    return (
        isinstance(v, dict) and isinstance(v.get("summary"), str)
        and isinstance(v.get("reasons"), list) and all(_reason(r) for r in v["reasons"])
    )  # fmt: skip


#: field: (check, what it must be), in the order they are checked
COMMON = {
    "schema": (lambda v: v in SCHEMAS, "must be 1 or 2"),
    "path": (_path, f"must be a path of 1-{MAX_PATH} characters"),
    "status": (lambda v: v in ("ok", "error"), "must be ok or error"),
}
TRIAGED = {
    "sha256": (is_sha256, "must be 64 lowercase hex digits"),
    "error": (lambda v: v is None, "must be null when the status is ok"),
    "label": (lambda v: v in LEVELS, f"must be one of {', '.join(LEVELS)}"),
    "probabilities": (_probabilities, "must give each level a probability in [0, 1], summing to 1"),
    "quality": (_quality, "must be {ok: true or false, issues: [names]}"),
    "days_since_treatment": (_days, "must be a whole number of days or null"),
    "features": (_features, "must map names to finite numbers or null, ita_deg and skin_fraction among them"),
    "explanation": (_explanation, "must be {summary: text, reasons: [{feature, value, contribution, text}]}"),
    "model": (lambda v: isinstance(v, dict), "must be an object"),
    "image": (lambda v: isinstance(v, dict), "must be an object"),
}
#: patient follow-up: in every row since, missing (null) in rows written before
PATIENT = {
    "patient_id": (_patient_id, f"must be null or one line of 1-{config.MAX_PATIENT_ID} characters"),
    "role": (lambda v: v in ROLES, "must be baseline, follow-up or null"),
    "course": (_course, "must be null or {summary: {...}, compared_with: {baseline: bool, earlier_days: [days or null]}}"),
}
FAILED = {
    "sha256": (lambda v: v is None or is_sha256(v), "must be 64 lowercase hex digits or null"),
    "error": (lambda v: isinstance(v, str), "must say why the photo could not be triaged"),
}


def _bad_text(value) -> bool:
    """True when a text anywhere in `value` has a NUL or a lone surrogate (no database or page
    can hold them)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str):
            if "\x00" in v or (not v.isascii() and _not_utf8(v)):
                return True
    return False


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def problem(r) -> str | None:
    """What is wrong with one results.jsonl row, or None."""
    if not isinstance(r, dict):
        return "not a JSON object"
    fields = {**COMMON, **(TRIAGED if r.get("status") == "ok" else FAILED)}
    for name, (ok, want) in fields.items():
        if name not in r:
            return f"{name} is missing"
        if not ok(r[name]):
            return f"{name} {want}"
    for name, (ok, want) in PATIENT.items():
        if not ok(r.get(name)):
            return f"{name} {want}"
    if r.get("role") is not None and r.get("patient_id") is None:
        return "role must be null when there is no patient_id"
    if _bad_text(r):
        return "a text holds a NUL character or a lone surrogate"
    if r["status"] == "ok" and r["label"] == "normal" and not r["quality"]["ok"]:
        return "a photo that fails the quality gate cannot be normal"
    return None


def _parse(line: str, n: int):
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        raise RunError(f"results.jsonl line {n}: not a JSON object") from None


def triaged(results: bytes) -> list[Triaged]:
    """The triaged photos of a results.jsonl, every row checked first (RunError on the first
    problem). Rows of files that could not be triaged are checked and left out; the same photo
    (sha256) on two lines is one photo, the first line's."""
    out: dict[str, Triaged] = {}
    paths: dict[str, int] = {}
    for n, line in enumerate(results.decode("utf-8", errors="replace").split("\n"), 1):
        if not line.strip():
            continue
        r = _parse(line, n)
        bad = problem(r)
        if bad is None and r["path"] in paths:
            bad = f"path is also on line {paths[r['path']]}"
        if bad:
            raise RunError(f"results.jsonl line {n}: {bad}")
        paths[r["path"]] = n
        if r["status"] == "ok" and r["sha256"] not in out:
            out[r["sha256"]] = Triaged(
                r["path"], r["sha256"], r["label"], float(r["probabilities"][r["label"]]), json.dumps(r), **patient_keys(r)
            )
    return list(out.values())


def patient_keys(r: dict) -> dict:
    """{patient_id, role, days} of a checked row; None where it has none (older rows)."""
    return {"patient_id": r.get("patient_id"), "role": r.get("role"), "days": r.get("days_since_treatment")}


def stored_patient_keys(row_json: str) -> dict:
    """patient_keys of a row stored by an earlier version, each value checked as an import
    checks it today (one that fails is None; a role without a patient too)."""
    try:
        r = json.loads(row_json)
    except (ValueError, RecursionError):
        r = None
    r = r if isinstance(r, dict) else {}
    pid = r.get("patient_id") if _patient_id(r.get("patient_id")) else None
    role = r.get("role") if r.get("role") in ROLES and pid is not None else None
    days = r.get("days_since_treatment") if _days(r.get("days_since_treatment")) else None
    return {"patient_id": pid, "role": role, "days": days}


def run_info(run_json: bytes) -> dict:
    """run.json as an object ({} when there is none)."""
    if not run_json:
        return {}
    try:
        info = json.loads(run_json.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        info = None
    if not isinstance(info, dict):
        raise RunError("run.json is not a JSON object")
    return info
