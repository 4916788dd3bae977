"""`triage run`: discover photos, analyse them over a process pool, write the result files.

Crash safety: each finished row is appended to DIR/results.partial.jsonl as soon as it is
known (one line, flushed). The final files (results.jsonl sorted by path, results.csv, run.json)
are written to temp files and renamed, then the partial log is removed. A run killed at any
point leaves the previous final files intact and a partial log whose complete lines `--resume`
reuses (a torn last line is ignored), so every file ends up exactly once.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..measure import config as measure_config
from ..util.files import replace_together
from ..util.text import printable
from . import config
from .discover import Source, UsageError, discover, outside_output
from .results import FINISHING, PARTIAL_LOG, OutputError, csv_text, read_rows, writing


def read_manifest(path: str | Path | None, sources: list[Source]) -> dict[str, int | None]:
    """Days since treatment per row path from a CSV with path,days_since_treatment[,patient_id];
    its paths may be row paths, paths as given, or absolute paths. Anything it cannot use is a
    UsageError naming the line."""
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"manifest not found: {path}")
    try:
        by_key = _manifest_days(p)
    except UnicodeDecodeError:
        raise UsageError(f"manifest {path} is not UTF-8 text") from None
    except csv.Error as e:
        raise UsageError(f"manifest {path} cannot be read as CSV: {e}") from None
    except OSError as e:
        raise UsageError(f"manifest {path} cannot be read: {e.strerror or e}") from None
    out = {}
    for s in sources:
        for key in (s.rel, s.path, str(Path(s.path).resolve())):
            if key in by_key:
                out[s.rel] = by_key[key]
                break
    return out


def _manifest_days(p: Path) -> dict[str, int | None]:
    """{path column: days} of a manifest file (see read_manifest)."""
    by_key: dict[str, int | None] = {}
    with open(p, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"path", "days_since_treatment"} <= set(reader.fieldnames):
            raise UsageError(f"manifest {p} needs the columns path,days_since_treatment")
        for n, row in enumerate(reader, start=2):
            try:
                by_key[(row["path"] or "").strip()] = parse_days(row["days_since_treatment"])
            except ValueError as e:
                raise UsageError(f"manifest {p} line {n}: {e}") from None
    return by_key


def parse_days(text: str | None) -> int | None:
    """Days since treatment from text: None when empty; a whole number of days (a fraction is
    cut) from 0 to config.MAX_DAYS_SINCE_TREATMENT, else ValueError saying why."""
    d = (text or "").strip()
    if not d:
        return None
    try:
        value = float(d)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"days_since_treatment {d!r} is not a number")
    if value < 0:
        raise ValueError("days_since_treatment must be >= 0")
    if value > config.MAX_DAYS_SINCE_TREATMENT:
        raise ValueError(f"days_since_treatment {d} is beyond the limit (at most {config.MAX_DAYS_SINCE_TREATMENT})")
    return int(value)


# --- the per-file job (runs in the workers) ----------------------------------------------------
_MODEL = None


def _load_worker_model(model_path: str | None) -> None:
    global _MODEL
    from ..decide.modelfile import load_model

    _MODEL = load_model(model_path)


#: One file's work, picklable for the local pool and for Dask: (path, row path, days since
#: treatment, sha256s of this path that --resume may reuse, whether to draw the report's
#: previews, the file's bytes when the client read them (Dask) else None).
FileJob = tuple[str, str, "int | None", frozenset, bool, "bytes | None"]
#: What a job gives back: its row (or {"reuse": sha256, "path": ...}) and, when asked for and
#: drawn, the previews' JPEG bytes (thumbnail, overlay), which the client writes.
Outcome = tuple[dict, "tuple[bytes, bytes] | None"]


def _job(job: FileJob) -> Outcome:
    """One file -> its row; or, when its sha256 is among the reusable ones (a previous run's rows
    for this path), only {"reuse": sha256}: each file is read once, resumed or not. The report's
    previews are drawn from the same measurements. Any exception is the file's error row: one
    photo never stops the batch."""
    from ..pipeline import error_row

    try:
        return _analyse(*job)
    except Exception as e:  # noqa: BLE001 - one photo must never stop the batch
        return error_row(job[1], None, _internal(e), job[2], _MODEL), None


def _cluster_job(job: FileJob, model) -> Outcome:
    """_job on a Dask worker, with the client's model (sent once to every worker)."""
    global _MODEL
    if _MODEL is None or _MODEL.sha256 != model.sha256:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the workers, as in the local pool
        _MODEL = model
    return _job(job)


def _internal(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return printable(f"internal error: {type(e).__name__}: {msg}".rstrip(": "))[:200]


def _analyse(path: str, rel: str, days: int | None, reusable: frozenset, previews: bool, data: bytes | None) -> Outcome:
    """Read (unless given the bytes), hash, then reuse or analyse one file (see _job)."""
    from ..measure.io import ImageError, read_bytes
    from ..pipeline import analyze_bytes, error_row

    if data is None:
        try:
            data = read_bytes(path)
        except ImageError as e:
            return error_row(rel, None, str(e), days, _MODEL), None
    sha = hashlib.sha256(data).hexdigest()
    if sha in reusable:
        return {"reuse": sha, "path": rel}, None
    drawn: list[tuple[bytes, bytes]] = []
    then = None
    if previews:
        from .previews import preview_images

        def then(decoded, measured):
            try:
                drawn.append(preview_images(decoded.rgb, measured))
            except Exception:  # noqa: BLE001 - a preview is not worth the row: `triage report` remakes it
                pass

    try:
        row = analyze_bytes(data, rel, days, _MODEL, sha, then)
    except Exception as e:  # noqa: BLE001 - the file was read: its row keeps its sha256
        return error_row(rel, sha, _internal(e), days, _MODEL), None
    return row, (drawn[0] if drawn else None)


def _read_in_client(jobs: list[FileJob], model):
    """For the cluster: each job with its file's bytes, read here (workers need no access to the
    folders), or its row when it is ready without the cluster (unreadable, or reusable)."""
    from ..measure.io import ImageError, read_bytes
    from ..pipeline import error_row

    for path, rel, days, reusable, previews, _ in jobs:
        try:
            data = read_bytes(path)
        except ImageError as e:
            yield "ready", (error_row(rel, None, str(e), days, model), None)
            continue
        sha = hashlib.sha256(data).hexdigest()
        if sha in reusable:
            yield "ready", ({"reuse": sha, "path": rel}, None)
        else:
            yield "task", (path, rel, days, frozenset(), previews, data)


# --- outputs ----------------------------------------------------------------------------------


@dataclass
class RunSummary:
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    total: int = 0
    reused: int = 0
    out: Path | None = None
    notes: list[str] = field(default_factory=list)  #: one-line remarks for the user (e.g. an interrupted earlier run)

    def add(self, rows: list[dict], reused: int) -> None:
        """Count the run's rows."""
        self.total, self.reused = len(rows), reused
        for r in rows:
            if r["status"] == "error":
                self.errors += 1
            else:
                self.counts[r["label"]] = self.counts.get(r["label"], 0) + 1

    def line(self) -> str:
        c = self.counts
        return (
            f"triaged {self.total} photos: {c.get('seek-care', 0)} seek-care, {c.get('monitor', 0)} monitor, "
            f"{c.get('normal', 0)} normal, {self.errors} errors"
            + (f" ({self.reused} reused from a previous run)" if self.reused else "")
        )


def run(
    inputs: list[str | Path],
    out: str | Path,
    *,
    model_path: str | Path | None = None,
    workers: int | None = None,
    manifest: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    report: bool = True,
    scheduler: str | None = None,
) -> RunSummary:
    """Triage every image under `inputs` into `out` (see module docstring); with `report`, also
    DIR/report.html and its previews (triage.report); with `scheduler` (a Dask scheduler's
    address), on that cluster instead of `workers` local processes (triage.run.cluster). Bad
    options or an unusable cluster: UsageError; outputs that cannot be written (disk full, no
    permission): OutputError, earlier outputs left as they were."""
    from ..decide.modelfile import ModelError, load_model
    from ..util.pool import default_workers

    started = datetime.now(timezone.utc)
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1")
    workers = workers or default_workers()
    sources = outside_output(discover(inputs), inputs, out)
    if not sources:
        raise UsageError("no images found in " + ", ".join(str(i) for i in inputs))
    days = read_manifest(manifest, sources)
    try:
        model = load_model(model_path)
    except ModelError as e:
        raise UsageError(str(e)) from None
    out = _out_folder(out)
    summary = RunSummary(out=out)
    if (out / FINISHING).exists():
        summary.notes.append(f"the earlier run into {out} was stopped while replacing its result files; this run replaced them all")
    done = _previous_rows(out) if resume else {}
    kept, new = _analyse_all(sources, days, done, model, model_path, workers, out, resume, progress, report, scheduler)
    rows = sorted(kept + new, key=lambda r: r["path"])
    summary.add(rows, len(kept))
    settings = {"inputs": inputs, "workers": workers, "manifest": manifest, "resume": resume, "scheduler": scheduler}
    _write_results(out, rows, _run_info(model, settings, summary, started))
    if report:
        _write_report(out, workers, progress)
    else:  # a report of earlier results beside these would mislead
        (out / "report.html").unlink(missing_ok=True)
    return summary


def _out_folder(out: str | Path) -> Path:
    """The output folder, made when missing."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
    return out


def _previous_rows(out: Path) -> dict[tuple[str, str], dict]:
    """Rows of the last finished run and of a killed one, by (path, sha256), for --resume."""
    done: dict[tuple[str, str], dict] = {}
    for row in read_rows(out / "results.jsonl") + read_rows(out / PARTIAL_LOG):
        if row.get("sha256"):
            done[(row["path"], row["sha256"])] = row
    return done


def _analyse_all(sources, days, done, model, model_path, workers, out, resume, progress, report, scheduler) -> tuple[list[dict], list[dict]]:
    """(rows reused from `done`, new rows): every source through the local pool or, with a
    scheduler address, the Dask cluster (triage.run.cluster); each new row appended to the
    partial log as soon as it is known, its previews written beside it."""
    from ..pipeline import error_row
    from ..util.pool import imap_unordered
    from ..util.progress import Progress

    reusable: dict[str, set[str]] = {}
    for rel, sha in done:
        reusable.setdefault(rel, set()).add(sha)
    jobs = [(s.path, s.rel, days.get(s.rel), frozenset(reusable.get(s.rel, ())), report, None) for s in sources if s.error is None]
    unlisted = [(error_row(s.rel, None, s.error, None, model), None) for s in sources if s.error is not None]
    if scheduler:
        from .cluster import map_on_cluster

        def lost(job, reason):
            return error_row(job[1], None, f"the cluster could not analyse it: {printable(reason)[:150]}", job[2], model), None

        results = map_on_cluster(_cluster_job, _read_in_client(jobs, model), scheduler, model, lost)
    else:
        results = imap_unordered(_job, jobs, workers, _load_worker_model, (model_path and str(model_path),))
    kept: list[dict] = []
    new: list[dict] = []
    partial = out / PARTIAL_LOG
    with writing(partial):  # resuming appends: the log stays a valid record if killed again
        log = open(partial, "ab" if resume else "wb", buffering=0)  # unbuffered: a row is on disk once written
    with log, Progress("triage run", progress) as show:
        for k, (row, images) in enumerate(itertools.chain(unlisted, results), 1):
            if "reuse" in row:
                kept.append(done[(row["path"], row["reuse"])])
            else:
                if images is not None:
                    _save_previews(out, row["sha256"], images)
                with writing(partial):
                    _append(log, (json.dumps(row) + "\n").encode("utf-8"))
                new.append(row)
            show(k, len(sources), row["path"])
    return kept, new


def _save_previews(out: Path, sha256: str, images: tuple[bytes, bytes]) -> None:
    from .previews import save_images

    try:
        save_images(out, sha256, *images)
    except OSError:  # a preview is not worth the row: `triage report` remakes it
        pass


def _append(log, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[log.write(view) :]


def _run_info(model, settings: dict, summary: RunSummary, started: datetime) -> dict:
    """run.json: software, model, settings, counts and times of this run, with its own id."""
    from ..pipeline import config_hash

    return {
        "run_id": uuid.uuid4().hex,
        "software": {"name": "triage", "version": __version__, "config_hash": config_hash()},
        "model": {"name": model.name, "version": model.version, "sha256": model.sha256},
        "settings": {
            "inputs": [str(Path(i).resolve()) for i in settings["inputs"]],  # absolute: found again from anywhere
            "workers": settings["workers"],
            "scheduler": settings["scheduler"],
            "manifest": str(settings["manifest"]) if settings["manifest"] else None,
            "resume": settings["resume"],
            "working_long_side": measure_config.WORK_LONG_SIDE,
        },
        "counts": {"total": summary.total, "errors": summary.errors, "reused": summary.reused, **summary.counts},
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "disclaimer": "Decision support for clinic staff, not a diagnosis.",
    }


def _write_results(out: Path, rows: list[dict], run_info: dict) -> None:
    """results.jsonl, results.csv and run.json, replaced together (util.files.replace_together:
    all written before any is renamed; FINISHING stands while they are renamed); then the partial
    log goes."""
    from ..measure.features import FEATURE_NAMES

    files = {
        "results.jsonl": "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8"),
        "results.csv": csv_text(rows, FEATURE_NAMES).encode("utf-8"),
        "run.json": (json.dumps(run_info, indent=2) + "\n").encode("utf-8"),
    }
    marker = f"run {run_info['run_id']} (started {run_info['started']}) is replacing {', '.join(files)}: if this file stays, it was stopped in between and they may come from two runs; `triage run ... --resume` finishes it\n"
    with writing(out):
        replace_together(out, files, FINISHING, marker)
        (out / PARTIAL_LOG).unlink(missing_ok=True)


def _write_report(out: Path, workers: int, progress: bool) -> None:
    """report.html and its previews; when they cannot be written, the earlier report goes too
    (it shows earlier results) and OutputError says the results were written."""
    from .report import build

    try:
        build(out, workers=workers, progress=progress)
    except OutputError as e:
        (out / "report.html").unlink(missing_ok=True)
        raise OutputError(f"{e} (results.jsonl, results.csv and run.json were written)") from None
