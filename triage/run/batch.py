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
from ..util.series import day_order
from ..util.text import printable
from . import config
from .discover import Source, UsageError, discover, outside_output
from .results import FINISHING, PARTIAL_LOG, OutputError, csv_text, read_rows, writing


@dataclass(frozen=True)
class Entry:
    """What the manifest says of one photo."""

    days: int | None = None  #: days since treatment; None unknown
    patient: str | None = None  #: whose photo: a patient's photos are triaged together, in day order
    baseline: bool = False  #: taken before the treatment (role "baseline", or days below 0)


def read_manifest(path: str | Path | None, sources: list[Source]) -> dict[str, Entry]:
    """The manifest's entry per row path, from a CSV with path,days_since_treatment and optional
    patient_id and role columns (a photo taken before the treatment is the patient's baseline:
    role "baseline", or negative days); its paths may be row paths, paths as given, or absolute
    paths. Anything it cannot use is a UsageError naming the line."""
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"manifest not found: {path}")
    try:
        by_key = _manifest_entries(p)
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


def _manifest_entries(p: Path) -> dict[str, Entry]:
    """{path column: Entry} of a manifest file (see read_manifest)."""
    by_key: dict[str, Entry] = {}
    with open(p, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"path", "days_since_treatment"} <= set(reader.fieldnames):
            raise UsageError(f"manifest {p} needs the columns path,days_since_treatment")
        for n, row in enumerate(reader, start=2):
            role = (row.get("role") or "").strip().lower()
            if role not in ("", "baseline", "follow-up"):
                raise UsageError(f"manifest {p} line {n}: role {printable(role)!r} is not baseline or follow-up")
            try:
                days = parse_days(row["days_since_treatment"], before_allowed=True)
            except ValueError as e:
                raise UsageError(f"manifest {p} line {n}: {e}") from None
            patient = printable((row.get("patient_id") or "").strip())[: config.MAX_PATIENT_ID_LENGTH] or None
            baseline = role == "baseline" or (days is not None and days < 0)
            if baseline and patient is None:
                raise UsageError(f"manifest {p} line {n}: a baseline photo needs its patient_id")
            by_key[(row["path"] or "").strip()] = Entry(None if baseline else days, patient, baseline)
    return by_key


def parse_days(text: str | None, before_allowed: bool = False) -> int | None:
    """Days since treatment from text: None when empty; a whole number of days (a fraction is
    cut) from 0 (from -config.MAX_DAYS_SINCE_TREATMENT with `before_allowed`: a photo taken
    before the treatment) to config.MAX_DAYS_SINCE_TREATMENT, else ValueError saying why."""
    d = (text or "").strip()
    if not d:
        return None
    try:
        value = float(d)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"days_since_treatment {d!r} is not a number")
    if value < 0 and not before_allowed:
        raise ValueError("days_since_treatment must be >= 0")
    if abs(value) > config.MAX_DAYS_SINCE_TREATMENT:
        raise ValueError(f"days_since_treatment {d} is beyond the limit (at most {config.MAX_DAYS_SINCE_TREATMENT})")
    return int(value)


# --- the per-file job (runs in the workers) ----------------------------------------------------
_MODEL = None


def _load_worker_model(model_path: str | None) -> None:
    global _MODEL
    from ..decide.modelfile import load_model

    _MODEL = load_model(model_path)


#: One file's work, picklable for the local pool and for Dask: (path, row path, the manifest's
#: entry, sha256s of this path that --resume may reuse, whether to draw the report's previews,
#: the file's bytes when the client read them (Dask) else None).
FileJob = tuple[str, str, Entry, frozenset, bool, "bytes | None"]
#: A patient's photos in the order they are judged (the baseline, then by day, undated last), or
#: one photo without a patient: (patient id or None, [FileJob, ...]). The runner maps over these.
GroupJob = tuple["str | None", list]
#: What a photo gives back: its row (or {"reuse": sha256, "path": ...}) and, when asked for and
#: drawn, the previews' JPEG bytes (thumbnail, overlay), which the client writes.
Outcome = tuple[dict, "tuple[bytes, bytes] | None"]


def groups(jobs: list[FileJob]) -> list[GroupJob]:
    """The runner's units: each patient's photos together, in day order; every other photo alone."""
    patients: dict[str, list[FileJob]] = {}
    alone: list[GroupJob] = []
    for job in jobs:
        if job[2].patient is None:
            alone.append((None, [job]))
        else:
            patients.setdefault(job[2].patient, []).append(job)

    def order(job: FileJob):
        return *day_order(job[2].baseline, job[2].days), job[1]

    return [(pid, sorted(js, key=order)) for pid, js in sorted(patients.items())] + alone


def _job(group: GroupJob) -> list[Outcome]:
    """A patient's photos (or one photo) -> their rows, in order; each photo compared with the
    patient's baseline and earlier photos (triage.course). When every file's sha256 is among the
    reusable ones (a previous run's rows for these paths), only {"reuse": sha256} each: a patient
    with a new photo is judged again whole, since the course runs through it. Each file is read
    once. Any exception is that photo's error row: one photo never stops the batch."""
    from ..course.summary import History, PhotoSummary
    from ..measure.io import ImageError, read_bytes
    from ..pipeline import Patient, error_row

    patient_id, files = group
    read: list[tuple[FileJob, bytes | None, str | None]] = []
    for job in files:
        path, rel, entry, _reusable, _previews, data = job
        try:
            data = data if data is not None else read_bytes(path)
            read.append((job, data, None))
        except ImageError as e:
            read.append((job, None, str(e)))
        except Exception as e:  # noqa: BLE001 - one photo must never stop the batch
            read.append((job, None, _internal(e)))
    shas, reused = _reused([job for job, _d, _e in read], [data for _job, data, _e in read])
    if reused is not None:
        return reused
    history = History() if patient_id is not None else None
    outcomes = []
    for (job, data, err), sha in zip(read, shas):
        path, rel, entry, _reusable, previews, _ = job
        patient = None if patient_id is None else Patient(patient_id, entry.baseline, history)
        if data is None:
            outcomes.append((error_row(rel, None, err, entry.days, _MODEL, patient), None))
            continue
        try:
            row, images = _analyse(data, sha, rel, entry, previews, patient)
        except Exception as e:  # noqa: BLE001 - the file was read: its row keeps its sha256
            row, images = error_row(rel, sha, _internal(e), entry.days, _MODEL, patient), None
        if history is not None and row.get("course"):
            history.add(PhotoSummary.from_dict(row["course"]["summary"]))
        outcomes.append((row, images))
    return outcomes


def _reused(files: list[FileJob], datas: list["bytes | None"]) -> tuple[list["str | None"], "list[Outcome] | None"]:
    """The files' sha256s (None where unread), and {"reuse": sha256} outcomes when every one is
    among its path's reusable ones (--resume: a previous run's rows), else None."""
    shas = [None if data is None else hashlib.sha256(data).hexdigest() for data in datas]
    if all(sha is not None and sha in job[3] for job, sha in zip(files, shas)):
        return shas, [({"reuse": sha, "path": job[1]}, None) for job, sha in zip(files, shas)]
    return shas, None


def _cluster_job(group: GroupJob, model) -> list[Outcome]:
    """_job on a Dask worker, with the client's model (sent once to every worker)."""
    global _MODEL
    if _MODEL is None or _MODEL.sha256 != model.sha256:
        import cv2

        cv2.setNumThreads(1)  # parallelism comes from the workers, as in the local pool
        _MODEL = model
    return _job(group)


def _internal(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return printable(f"internal error: {type(e).__name__}: {msg}".rstrip(": "))[:200]


def _analyse(data: bytes, sha: str, rel: str, entry: Entry, previews: bool, patient) -> Outcome:
    """Analyse one read file (see _job), drawing its previews when asked."""
    from ..pipeline import analyze_bytes

    drawn: list[tuple[bytes, bytes]] = []
    then = None
    if previews:
        from .previews import preview_images

        def then(decoded, measured):
            try:
                drawn.append(preview_images(decoded.rgb, measured))
            except Exception:  # noqa: BLE001 - a preview is not worth the row: `triage report` remakes it
                pass

    row = analyze_bytes(data, rel, entry.days, _MODEL, sha, then, patient)
    return row, (drawn[0] if drawn else None)


def _read_in_client(groups_: list[GroupJob]):
    """For the cluster: each group with its files' bytes, read here (workers need no access to
    the folders); a group whose files are all reusable is ready without the cluster."""
    from ..measure.io import ImageError, read_bytes

    for patient_id, files in groups_:
        read = []
        for path, rel, entry, reusable, previews, _ in files:
            try:
                data = read_bytes(path)
            except ImageError:
                data = None  # the worker reads it again and writes the reason in the row
            read.append((path, rel, entry, reusable, previews, data))
        _shas, reused = _reused(read, [job[5] for job in read])
        yield ("ready", reused) if reused is not None else ("task", (patient_id, read))


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
    entries = read_manifest(manifest, sources)
    try:
        model = load_model(model_path)
    except ModelError as e:
        raise UsageError(str(e)) from None
    out = _out_folder(out)
    summary = RunSummary(out=out)
    if (out / FINISHING).exists():
        summary.notes.append(f"the earlier run into {out} was stopped while replacing its result files; this run replaced them all")
    done = _previous_rows(out) if resume else {}
    kept, new = _analyse_all(sources, entries, done, model, model_path, workers, out, resume, progress, report, scheduler)
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


def _analyse_all(sources, entries, done, model, model_path, workers, out, resume, progress, report, scheduler) -> tuple[list[dict], list[dict]]:
    """(rows reused from `done`, new rows): every patient (or lone photo, `groups`) through the
    local pool or, with a scheduler address, the Dask cluster (triage.run.cluster); each new row
    appended to the partial log as soon as it is known, its previews written beside it."""
    from ..pipeline import error_row
    from ..util.pool import imap_unordered
    from ..util.progress import Progress

    reusable: dict[str, set[str]] = {}
    for rel, sha in done:
        reusable.setdefault(rel, set()).add(sha)
    jobs = [(s.path, s.rel, entries.get(s.rel, Entry()), frozenset(reusable.get(s.rel, ())), report, None)
            for s in sources if s.error is None]  # fmt: skip
    unlisted = [[(error_row(s.rel, None, s.error, None, model), None)] for s in sources if s.error is not None]
    units = groups(jobs)
    if scheduler:
        from .cluster import map_on_cluster

        def lost(group, reason):
            why = f"the cluster could not analyse it: {printable(reason)[:150]}"
            return [(error_row(job[1], None, why, job[2].days, model), None) for job in group[1]]

        results = map_on_cluster(_cluster_job, _read_in_client(units), scheduler, model, lost)
    else:
        results = imap_unordered(_job, units, workers, _load_worker_model, (model_path and str(model_path),))
    kept: list[dict] = []
    new: list[dict] = []
    partial = out / PARTIAL_LOG
    with writing(partial):  # resuming appends: the log stays a valid record if killed again
        log = open(partial, "ab" if resume else "wb", buffering=0)  # unbuffered: a row is on disk once written
    k = 0
    with log, Progress("triage run", progress) as show:
        for outcomes in itertools.chain(unlisted, results):
            for row, images in outcomes:
                if "reuse" in row:
                    kept.append(done[(row["path"], row["reuse"])])
                else:
                    if images is not None:
                        _save_previews(out, row["sha256"], images)
                    with writing(partial):
                        _append(log, (json.dumps(row) + "\n").encode("utf-8"))
                    new.append(row)
                k += 1
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
    from ..course.features import COURSE_FEATURES
    from ..measure.features import FEATURE_NAMES

    files = {
        "results.jsonl": "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8"),
        "results.csv": csv_text(rows, FEATURE_NAMES + COURSE_FEATURES).encode("utf-8"),
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
