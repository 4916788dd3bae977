"""The report clinic staff read: DIR/report.html, one self-contained file (inline CSS and a small
inline script, no network), with small preview images in DIR/overlays/. The page is
templates/report.html (Jinja2, autoescaped: every value from a row or run.json is text).

Order: seek-care, then monitor, then normal; within a level the most likely first (probability
of that level, descending; path breaks ties). Rows that could not be triaged are listed with
their reasons after the photos, and counted at the top.

Patients (rows with a patient_id; rows written before patient follow-up have none): one block
per patient, placed by the patient's most urgent photo (its level, then its probability of that
level), holding the patient's photos side by side in day order (before treatment first, undated
last) with each one's thumbnail, day, level and redness area, a redness-trend plot
(triage.run.trend, an inline PNG: the page stays one file), and each photo's card in a <details>
(the most urgent one open). Photos without a patient are single cards.

Each card shows the photo's thumbnail and findings overlay (triage.run.previews), when the row's
sha256 is one (64 hex digits: it names the files and goes into the markup). `build` writes
the HTML from results.jsonl (and run.json), making any missing preview again from the source
photo when it can still be found with the same sha256, and deleting previews no row refers to.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..decide.config import LEVEL_TITLES
from ..util.files import atomic_write_text
from ..util.series import day_order
from ..util.templates import environment
from ..util.text import display_path
from . import trend
from .discover import UsageError, sources_of_run
from .previews import LEGEND, remake_images, thumb_size
from .results import OVERLAYS, PREVIEW_NAME, is_sha256, preview_paths, read_rows, unfinished, writing

LEVEL_ORDER = ("seek-care", "monitor", "normal")
TITLES = {lvl: LEVEL_TITLES[lvl] for lvl in LEVEL_ORDER}  # the page lists them most urgent first
_TEMPLATES = environment(__package__)  # templates/report.html: markup, inline style and script


#: plot colours of the levels: the page's badge colours
LEVEL_COLOURS = {"seek-care": "#c62828", "monitor": "#b86e00", "normal": "#2e7d32"}


def _urgency(row: dict) -> tuple:
    """Sort key of a triaged row: its level, then its probability of that level, then its path."""
    return LEVEL_ORDER.index(row["label"]), -row["probabilities"][row["label"]], row["path"]


def ordered(rows: list[dict]) -> list[dict]:
    """Triaged rows, most urgent first (see module docstring)."""
    ok = [r for r in rows if r.get("status") == "ok" and r.get("label") in LEVEL_ORDER]
    return sorted(ok, key=_urgency)


def patient_of(row: dict) -> str | None:
    """The row's patient id; None without one (rows written before patient follow-up lack the key)."""
    pid = row.get("patient_id")
    return pid if isinstance(pid, str) and pid else None


def _days(row: dict) -> int | None:
    d = row.get("days_since_treatment")
    return d if isinstance(d, int) and not isinstance(d, bool) else None


def _is_baseline(row: dict) -> bool:
    return row.get("role") == "baseline"


def in_day_order(row: dict) -> tuple:
    """Sort key of a patient's rows (util.series.day_order, then the path)."""
    return *day_order(_is_baseline(row), _days(row)), row["path"]


def grouped(rows: list[dict]) -> list[list[dict]]:
    """Triaged rows as the report lists them, most urgent first: a photo without a patient
    alone, a patient's photos together in day order, placed by their most urgent photo."""
    items: list[list[dict]] = []
    patients: dict[str, list[dict]] = {}
    for r in ordered(rows):
        pid = patient_of(r)
        if pid is None:
            items.append([r])
        elif pid in patients:
            patients[pid].append(r)
        else:
            patients[pid] = [r]
            items.append(patients[pid])  # its place: its first (most urgent) photo's
    return [sorted(it, key=in_day_order) if patient_of(it[0]) else it for it in items]


def _redness(row: dict) -> float | None:
    """features.redness_area_fraction (0-1), None when not a finite number."""
    v = (row.get("features") or {}).get("redness_area_fraction")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _percent(v: float | None) -> str | None:
    """A share as the explanations write it (0.4%, 12%); None stays None."""
    return None if v is None else f"{v:.0%}" if v == 0 or v >= 0.01 else f"{v:.1%}"


def _when(row: dict) -> str:
    """A photo's place in the course, in words."""
    if _is_baseline(row):
        return "Before treatment"
    d = _days(row)
    return "Day not given" if d is None else f"Day {d}"


def _card(row: dict, out: Path) -> dict:
    """What the template shows of one triaged row (its values are escaped there)."""
    sha = row["sha256"]
    img = row.get("image") or {}
    tw, th = thumb_size(img.get("width") or 1, img.get("height") or 1)
    has_previews = is_sha256(sha) and all(p.is_file() for p in preview_paths(out, sha))
    q = row.get("quality") or {}
    return {
        "level": row["label"], "path": row["path"], "probabilities": row["probabilities"],
        "previews": f"{OVERLAYS}/{sha}" if has_previews else None, "width": tw, "height": th,
        "days": row.get("days_since_treatment"), "baseline": _is_baseline(row), "when": _when(row),
        "redness": _percent(_redness(row)),
        "issues": ", ".join(i.replace("_", " ") for i in q.get("issues") or []),
        "summary": (row.get("explanation") or {}).get("summary", ""),
    }  # fmt: skip


def _plot(photos: list[dict]) -> dict:
    """The patient's redness-trend plot: {"plot": its data: URI or None (fewer than two points
    to draw, or the plot failed), "plot_alt": its text alternative, "plot_caption",
    "plot_failed": bool}. A plot that fails leaves the block without it: the page says so and is
    otherwise whole."""
    points, words, left_out = [], [], 0
    for r in photos:
        red, at = _redness(r), (None if _is_baseline(r) else _days(r))
        if red is None or (at is None and not _is_baseline(r)):
            left_out += 1  # nothing to draw, or no place on the day axis
            continue
        points.append(trend.Point(at, red, LEVEL_COLOURS[r["label"]]))
        words.append(f"{_when(r).lower()} {_percent(red)}")
    caption = "Redness area over the course"
    if left_out:
        caption += f" ({left_out} photo{'s' if left_out > 1 else ''} without a day or a redness measure not shown)"
    try:
        data = trend.png(points)
    except Exception:  # noqa: BLE001 - matplotlib failing in any way must not cost staff the report
        return {"plot": None, "plot_alt": "", "plot_caption": "", "plot_failed": True}
    alt = "Redness area, % of the skin: " + ", ".join(words)
    return {"plot": trend.data_uri(data) if data else None, "plot_alt": alt, "plot_caption": caption, "plot_failed": False}


def _item(photos: list[dict], out: Path) -> dict:
    """A single card, or a patient's block (see module docstring), as the template shows it. A
    patient with one photo in the run is a single card that names the patient: a block of one
    has no course to show."""
    pid = patient_of(photos[0])
    most_urgent = min(photos, key=_urgency)
    block = pid is not None and len(photos) > 1
    return {
        "level": most_urgent["label"], "patient": pid if block else None, "count": len(photos),
        "cards": [{**_card(r, out), "open": r is most_urgent, "patient": None if block else pid} for r in photos],
        "search": "\n".join(([pid] if pid else []) + [r["path"] for r in photos]).lower(),
        **(_plot(photos) if block else {"plot": None, "plot_failed": False}),
    }  # fmt: skip


def render(rows: list[dict], run_info: dict | None, out: Path) -> str:
    """The report's HTML text for these rows (see module docstring)."""
    run_info = run_info or {}
    triaged = ordered(rows)
    errors = sorted((r for r in rows if r.get("status") != "ok"), key=lambda r: r["path"])
    counts = {lvl: sum(1 for r in triaged if r["label"] == lvl) for lvl in LEVEL_ORDER}
    model = run_info.get("model") or next((r.get("model") for r in rows if r.get("model")), None) or {}
    software = run_info.get("software") or {}
    settings = run_info.get("settings") or {}
    facts = [
        ("Photos", f"{len(rows)} ({len(triaged)} triaged, {len(errors)} could not be triaged)"),
        ("Model", f"{model.get('name', '?')} {model.get('version', '')} (sha256 {str(model.get('sha256', ''))[:12]})"),
        ("Software", f"triage {software.get('version', '?')}, config {software.get('config_hash', '?')}"),
        ("Inputs", ", ".join(display_path(str(i)) for i in settings.get("inputs") or []) or "?"),
        ("Run", f"{run_info.get('started', '?')} to {run_info.get('finished', '?')}"),
    ]
    items = [_item(it, out) for it in grouped(rows)]
    levels = [(lvl, TITLES[lvl], [it for it in items if it["level"] == lvl]) for lvl in LEVEL_ORDER]
    placed = {lvl: sum(it["count"] for it in its) for lvl, _title, its in levels}  # photos under each level
    return _TEMPLATES.get_template("report.html").render(
        titles=TITLES, counts=counts, placed=placed, total=len(rows), facts=facts, legend=LEGEND,
        levels=[lv for lv in levels if lv[2]], inline_images=any(it["plot"] for it in items),
        errors=[{"path": r["path"], "error": r.get("error") or ""} for r in errors],
    )  # fmt: skip


def build(out: str | Path, *, workers: int | None = None, progress: bool = False) -> dict:
    """(Re)build DIR/report.html from DIR/results.jsonl (and run.json); make missing previews
    again from unchanged source photos; delete previews no row refers to. Returns counts.
    UsageError when there are no results or they may mix two runs (results.unfinished);
    OutputError when the report or a preview cannot be written."""
    out = Path(out)
    if not (out / "results.jsonl").is_file():
        raise UsageError(f"no results.jsonl in {out}: run `triage run ... --out {out}` first")
    why = unfinished(out)
    if why:
        raise UsageError(why)
    rows = read_rows(out / "results.jsonl")
    try:
        run_info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        run_info = None
    wanted = {r["sha256"]: r["path"] for r in ordered(rows) if is_sha256(r["sha256"])}
    missing = [sha for sha in wanted if not all(p.is_file() for p in preview_paths(out, sha))]
    with writing(out / OVERLAYS):
        remade = _remake_previews(out, missing, wanted, run_info, workers, progress)
        _remove_stale_previews(out, wanted)
    with writing(out / "report.html"):
        atomic_write_text(out / "report.html", render(rows, run_info, out))
    return {"rows": len(rows), "previews_remade": remade, "previews_missing": len(missing) - remade}


def _remake_previews(out: Path, missing: list[str], wanted: dict[str, str], run_info, workers, progress) -> int:
    """Previews made again from the source photos still found unchanged; how many."""
    from ..util.pool import default_workers, imap_unordered
    from ..util.progress import Progress

    if not missing:
        return 0
    sources = sources_of_run(run_info, out)
    jobs = [(sources[wanted[sha]], sha, str(out)) for sha in missing if wanted[sha] in sources]
    remade = 0
    with Progress("triage report: previews", progress) as show:
        for k, ok in enumerate(imap_unordered(remake_images, jobs, workers or default_workers()), 1):
            remade += ok
            show(k, len(jobs), "")
    return remade


def _remove_stale_previews(out: Path, wanted: dict[str, str]) -> None:
    folder = out / OVERLAYS
    if folder.is_dir():
        for p in folder.iterdir():
            if PREVIEW_NAME.match(p.name) and p.name.split(".")[0] not in wanted:
                p.unlink(missing_ok=True)
