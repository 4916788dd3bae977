"""The report clinic staff read: DIR/report.html, one self-contained file (inline CSS and a small
inline script, no network), with small preview images in DIR/overlays/.

Order: seek-care, then monitor, then normal; within a level the most likely first (probability
of that level, descending; path breaks ties). Rows that could not be triaged are listed with
their reasons after the photos, and counted at the top.

Each card shows the photo's thumbnail and findings overlay (triage.run.previews), when the row's
sha256 is one (64 hex digits: it names the files and goes into the markup). `build` writes
the HTML from results.jsonl (and run.json), making any missing preview again from the source
photo when it can still be found with the same sha256, and deleting previews no row refers to.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from ..util.files import atomic_write_text
from ..util.text import display_path
from .discover import UsageError, sources_of_run
from .previews import LEGEND, remake_images, thumb_size
from .results import OVERLAYS, PREVIEW_NAME, is_sha256, preview_paths, read_rows, unfinished, writing

LEVEL_ORDER = ("seek-care", "monitor", "normal")
TITLES = {"seek-care": "Seek care", "monitor": "Monitor", "normal": "Normal"}


def ordered(rows: list[dict]) -> list[dict]:
    """Triaged rows, most urgent first (see module docstring)."""
    ok = [r for r in rows if r.get("status") == "ok" and r.get("label") in LEVEL_ORDER]
    return sorted(ok, key=lambda r: (LEVEL_ORDER.index(r["label"]), -r["probabilities"][r["label"]], r["path"]))


def _e(v) -> str:
    return html.escape(str(v), quote=True)


def _card(row: dict, out: Path) -> str:
    level, sha = row["label"], row["sha256"]
    img = row.get("image") or {}
    tw, th = thumb_size(img.get("width") or 1, img.get("height") or 1)
    if is_sha256(sha) and all(p.is_file() for p in preview_paths(out, sha)):
        rel = _e(f"{OVERLAYS}/{sha}")
        figure = (
            f'<img src="{rel}.thumb.jpg" width="{tw}" height="{th}" loading="lazy" alt="photo">'
            f'<img src="{rel}.overlay.jpg" width="{tw}" height="{th}" loading="lazy" alt="findings overlay">'
        )
    else:
        figure = '<p class="nopreview">No preview: the source photo was not found unchanged.</p>'
    expl = row.get("explanation") or {}
    q = row.get("quality") or {}
    issues = ", ".join(i.replace("_", " ") for i in q.get("issues") or [])
    days = row.get("days_since_treatment")
    probs = row["probabilities"]
    return (
        f'<article class="card {level}" data-level="{level}" data-path="{_e(row["path"].lower())}">'
        f'<div class="imgs">{figure}</div><div class="text">'
        f'<p class="head"><span class="badge {level}">{TITLES[level]}</span> '
        f'<span class="prob">p(seek care) {probs["seek-care"]:.0%} · p(monitor) {probs["monitor"]:.0%} · p(normal) {probs["normal"]:.0%}</span></p>'
        f'<p class="path">{_e(row["path"])}</p>'
        f'<p class="meta">Day since treatment: {_e(days) if days is not None else "not given"}'
        + (f' · <span class="quality">Quality: {_e(issues)}</span>' if issues else "")
        + f'</p><p class="summary">{_e(expl.get("summary", ""))}</p>'
        + "</div></article>"
    )


CSS = """
[hidden]{display:none!important}
body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f4f4f6}
header,nav,main{max-width:1200px;margin:0 auto;padding:12px 16px}
h1{font-size:22px;margin:8px 0}
.disclaimer{background:#fff6d6;border:1px solid #e3c25a;padding:8px 12px;border-radius:6px}
.counts{display:flex;gap:12px;flex-wrap:wrap;list-style:none;padding:0}
.counts li{background:#fff;border-radius:6px;padding:6px 12px;border:1px solid #ddd}
.counts b{font-size:20px}
dl.run{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:13px;color:#444}
dl.run dt{font-weight:600}
nav{position:sticky;top:0;background:#f4f4f6;border-bottom:1px solid #ddd;display:flex;gap:14px;flex-wrap:wrap;align-items:center;z-index:1}
nav input[type=search]{flex:1;min-width:220px;padding:6px}
.legend{font-size:12px;color:#444;display:flex;gap:10px;flex-wrap:wrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.card{display:flex;gap:12px;background:#fff;border-radius:8px;border-left:6px solid #888;margin:10px 0;padding:10px}
.card.seek-care{border-left-color:#c62828}.card.monitor{border-left-color:#ef8f00}.card.normal{border-left-color:#2e7d32}
.imgs{display:flex;gap:6px;flex:none}.imgs img{max-width:240px;height:auto;background:#ddd;border-radius:4px}
.text p{margin:2px 0}.path{font-family:ui-monospace,monospace;font-size:13px;word-break:break-all;color:#333}
.badge{color:#fff;border-radius:4px;padding:1px 8px;font-weight:600}
.badge.seek-care{background:#c62828}.badge.monitor{background:#b86e00}.badge.normal{background:#2e7d32}
.prob,.meta{font-size:13px;color:#555}.quality{color:#8a4b00}
.nopreview{width:240px;color:#777;font-size:13px}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
@media (max-width:700px){.card{flex-direction:column}}
"""

SCRIPT = """
(function(){
  var boxes=document.querySelectorAll('nav input[type=checkbox]');
  var search=document.getElementById('search');
  var cards=document.querySelectorAll('article.card');
  var errors=document.querySelectorAll('tr.error');
  function apply(){
    var on={};boxes.forEach(function(b){on[b.value]=b.checked;});
    var q=search.value.trim().toLowerCase();var shown={};var n=0;
    cards.forEach(function(c){
      var vis=on[c.dataset.level]&&(!q||c.dataset.path.indexOf(q)>=0);
      c.hidden=!vis;if(vis){n++;shown[c.dataset.level]=(shown[c.dataset.level]||0)+1;}
    });
    errors.forEach(function(r){var vis=on.error&&(!q||r.dataset.path.indexOf(q)>=0);r.hidden=!vis;if(vis)n++;});
    document.querySelectorAll('section.level').forEach(function(s){
      s.hidden=!shown[s.dataset.level];
    });
    var es=document.getElementById('errors');if(es)es.hidden=!on.error;
    document.getElementById('shown').textContent=n;
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  search.addEventListener('input',apply);
  apply();
})();
"""


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
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # nothing may load from the network: only this file, its inline style and script, and
        # the preview images beside it
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self' file:; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
        f"<title>Triage report: {counts['seek-care']} seek care, {counts['monitor']} monitor, {counts['normal']} normal</title>",
        f"<style>{CSS}</style></head><body>",
        "<header><h1>Skin-reaction triage report</h1>",
        '<p class="disclaimer"><b>Decision support for clinic staff, not a diagnosis.</b> '
        "Every level is a suggestion from measurements of the photo; a clinician decides.</p>",
        '<ul class="counts">'
        + "".join(f'<li class="{lvl}"><b>{counts[lvl]}</b> {TITLES[lvl].lower()}</li>' for lvl in LEVEL_ORDER)
        + f'<li class="error"><b>{len(errors)}</b> <a href="#errors">could not be triaged</a></li></ul>',
        '<dl class="run">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl></header>",
        "<nav>"
        + "".join(
            f'<label><input type="checkbox" value="{lvl}" checked> {TITLES[lvl]} ({counts[lvl]})</label>' for lvl in LEVEL_ORDER
        )
        + f'<label><input type="checkbox" value="error" checked> Errors ({len(errors)})</label>'
        + '<input type="search" id="search" placeholder="Search by path" aria-label="Search by path">'
        + '<span>showing <b id="shown">' + str(len(rows)) + "</b> of " + str(len(rows)) + "</span>"
        + '<div class="legend">'
        + "".join(f'<span><i style="background:rgb{c}"></i>{_e(t)}</span>' for _k, c, t in LEGEND)
        + "</div></nav><main>",
    ]
    for lvl in LEVEL_ORDER:
        cards = [r for r in triaged if r["label"] == lvl]
        if not cards:
            continue
        parts.append(f'<section class="level" id="{lvl}" data-level="{lvl}"><h2>{TITLES[lvl]} ({len(cards)})</h2>')
        parts.extend(_card(r, out) for r in cards)
        parts.append("</section>")
    if errors:
        parts.append(f'<section id="errors"><h2>Could not be triaged ({len(errors)})</h2><table><tr><th>Path</th><th>Reason</th></tr>')
        parts.extend(
            f'<tr class="error" data-path="{_e(r["path"].lower())}"><td class="path">{_e(r["path"])}</td><td>{_e(r.get("error") or "")}</td></tr>'
            for r in errors
        )
        parts.append("</table></section>")
    parts.append(f"</main><script>{SCRIPT}</script></body></html>\n")
    return "\n".join(parts)


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
