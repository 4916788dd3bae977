"""The files of a run folder: results.jsonl rows (read, tolerating a torn last line), the
flattened results.csv, the partial log of a run in progress, the marker of a run replacing its
result files, where a photo's previews live, and the error for outputs that cannot be written."""

from __future__ import annotations

import csv
import io as _io
import json
import re
from contextlib import contextmanager
from pathlib import Path

PARTIAL_LOG = "results.partial.jsonl"
#: stands while a run replaces results.jsonl, results.csv and run.json (batch._write_results)
FINISHING = "run.finishing"
OVERLAYS = "overlays"
PREVIEW_NAME = re.compile(r"^[0-9a-f]{64}\.(thumb|overlay)\.jpg$")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(value) -> bool:
    """A sha256 as the runner writes it: 64 lowercase hex digits. A row's sha256 names files
    and goes into the report's markup, so nothing else is taken for one."""
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


class OutputError(Exception):
    """An output that cannot be written (disk full, no permission): exit code 3, one line."""


@contextmanager
def writing(path):
    """OSError inside -> OutputError naming `path` and the system's reason."""
    try:
        yield
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None


def unfinished(out: Path) -> str | None:
    """Why the result files of `out` may mix two runs (FINISHING left by a stopped run), or None."""
    if (Path(out) / FINISHING).exists():
        return f"{out}: a run was stopped while replacing its result files ({FINISHING} is there), so they may come from two runs; finish it with `triage run ... --out {out} --resume`"
    return None


def preview_paths(out: Path, sha256: str) -> tuple[Path, Path]:
    """(thumbnail, overlay) of the photo with this sha256 in a run folder."""
    d = Path(out) / OVERLAYS
    return d / f"{sha256}.thumb.jpg", d / f"{sha256}.overlay.jpg"


def parse_rows(text: str) -> list[dict]:
    """The complete JSON lines of a results file or partial log (a torn last line is skipped)."""
    rows = []
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def read_rows(path: Path) -> list[dict]:
    """parse_rows of a file; [] when it does not exist."""
    try:
        return parse_rows(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []


#: a spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell that no spreadsheet takes for a formula: a leading single quote when it starts
    with = + - @, a tab or a CR."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(rows: list[dict], feature_names) -> str:
    """results.csv: the rows flattened (contract), then one column per feature name, then the
    patient's id, the photo's role and its day (schema 2). Text cells go through csv_cell; numbers
    are written as numbers."""
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; and a CR in a name is quoted, not a row break
    w.writerow(["path", "status", "error", "label", "p_normal", "p_monitor", "p_seek_care", "quality_ok",
                "quality_issues", "summary", *feature_names, "patient_id", "role", "days_since_treatment"])  # fmt: skip
    for r in rows:
        p = r.get("probabilities") or {}
        q = r.get("quality") or {}
        f = r.get("features") or {}
        text = [r["path"], r["status"], r["error"] or "", r["label"] or ""]
        w.writerow([
            *map(csv_cell, text),
            p.get("normal", ""), p.get("monitor", ""), p.get("seek-care", ""),
            "" if not q else str(q.get("ok")).lower(), csv_cell(";".join(q.get("issues", [])) if q else ""),
            csv_cell((r.get("explanation") or {}).get("summary", "")),
            *["" if f.get(n) is None else f[n] for n in feature_names],
            csv_cell(r.get("patient_id") or ""), r.get("role") or "",
            "" if r.get("days_since_treatment") is None else r["days_since_treatment"],
        ])  # fmt: skip
    return buf.getvalue()
