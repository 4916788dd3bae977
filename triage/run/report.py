"""The report clinic staff read: DIR/report.html, one self-contained file (inline CSS and a small
inline script, no network), with small preview images in DIR/overlays/. The page is
templates/report.html (Jinja2, autoescaped: every value from a row or run.json is text).

Order: seek-care, then monitor, then normal; within a level the most likely first (probability
of that level, descending; path breaks ties). Rows that could not be triaged are listed with
their reasons after the photos, and counted at the top.

Each card shows the photo's thumbnail and findings overlay (triage.run.previews), when the row's
sha256 is one (64 hex digits: it names the files and goes into the markup). `build` writes
the HTML from results.jsonl (and run.json), making any missing preview again from the source
photo when it can still be found with the same sha256, and deleting previews no row refers to.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..util.files import atomic_write_text
from ..util.templates import environment
from ..util.text import display_path
from .discover import UsageError, sources_of_run
from .previews import LEGEND, remake_images, thumb_size
from .results import OVERLAYS, PREVIEW_NAME, is_sha256, preview_paths, read_rows, unfinished, writing

LEVEL_ORDER = ("seek-care", "monitor", "normal")
TITLES = {"seek-care": "Seek care", "monitor": "Monitor", "normal": "Normal"}
_TEMPLATES = environment(__package__)  # templates/report.html: markup, inline style and script


def ordered(rows: list[dict]) -> list[dict]:
    """Triaged rows, most urgent first (see module docstring)."""
    ok = [r for r in rows if r.get("status") == "ok" and r.get("label") in LEVEL_ORDER]
    return sorted(ok, key=lambda r: (LEVEL_ORDER.index(r["label"]), -r["probabilities"][r["label"]], r["path"]))


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
        "days": row.get("days_since_treatment"),
        "issues": ", ".join(i.replace("_", " ") for i in q.get("issues") or []),
        "summary": (row.get("explanation") or {}).get("summary", ""),
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
    levels = [(lvl, TITLES[lvl], [_card(r, out) for r in triaged if r["label"] == lvl]) for lvl in LEVEL_ORDER]
    return _TEMPLATES.get_template("report.html").render(
        titles=TITLES, counts=counts, total=len(rows), facts=facts, legend=LEGEND,
        levels=[lv for lv in levels if lv[2]],
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
