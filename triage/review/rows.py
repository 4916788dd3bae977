"""A run as the review app reads it: results.jsonl rows checked against the contract
(../shared/CONTRACT.md, schema 1) and run.json, all before anything is written, so that no
imported row can break a page or an export. A problem is one line naming the line and the field."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from ..decide.config import LEVELS


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


SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_PATH = 4096  #: characters: PATH_MAX on Linux; a longer path is no file's


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _sha256(v) -> bool:
    return isinstance(v, str) and SHA256.fullmatch(v) is not None


def _path(v) -> bool:
    return isinstance(v, str) and 0 < len(v) <= MAX_PATH


def _days(v) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)


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
    "schema": (lambda v: v == 1, "must be 1"),
    "path": (_path, f"must be a path of 1-{MAX_PATH} characters"),
    "status": (lambda v: v in ("ok", "error"), "must be ok or error"),
}
TRIAGED = {
    "sha256": (_sha256, "must be 64 lowercase hex digits"),
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
FAILED = {
    "sha256": (lambda v: v is None or _sha256(v), "must be 64 lowercase hex digits or null"),
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
            out[r["sha256"]] = Triaged(r["path"], r["sha256"], r["label"], float(r["probabilities"][r["label"]]), json.dumps(r))
    return list(out.values())


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
