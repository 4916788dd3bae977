"""The `triage` command line: thin wiring only; every command imports its module when it runs so
that `triage --help` starts fast. Data goes to files, progress and summaries to stderr."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer

from .run.config import MAX_DAYS_SINCE_TREATMENT  # a small module of constants: start-up stays fast

DISCLAIMER = "Decision support for clinic staff, not a diagnosis."
OUTPUT_ERROR = 3  # exit code: outputs could not be written (disk full, no permission); 1 is for unreadable photos
INTERRUPTED = 130  # exit code after Ctrl-C, as a shell gives (128 + SIGINT)

app = typer.Typer(
    help=f"Skin-reaction photo triage after microneedling: normal / monitor / seek-care. {DISCLAIMER}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _say(message: str, err: bool = True) -> None:
    """Print one line, control characters in it (from file names) escaped."""
    from .util.text import printable

    typer.echo(printable(message), err=err)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"triage {version('triage')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Skin-reaction photo triage after microneedling: normal / monitor / seek-care."""


def _fail(message: str, code: int = 2) -> None:
    _say(f"triage: error: {message}")
    raise typer.Exit(code)


def _parse_size(size: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        _fail(f"--size must look like 1024x768, not {size!r}")
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        _fail("--size must be between 16x16 and 8192x8192")
    return w, h


def _existing_image(image: Path) -> Path:
    if not image.is_file():
        _fail(f"image not found: {image}")
    return image


def _model(path: Path | None):
    from .decide.modelfile import ModelError, load_model

    try:
        return load_model(path)
    except ModelError as e:
        _fail(str(e))


@app.command()
def run(
    inputs: List[Path] = typer.Argument(..., help="Photo files and/or folders (searched recursively)."),
    out: Path = typer.Option(..., "--out", help="Output folder for results.jsonl, results.csv, run.json."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model file (default: the shipped model)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="CSV: path,days_since_treatment[,patient_id]."),
    resume: bool = typer.Option(False, "--resume", help="Skip files already in DIR/results.jsonl with the same sha256."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress lines (the summary line stays)."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write DIR/report.html with previews in DIR/overlays."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Dask scheduler address (tcp://HOST:PORT) to run on instead of local processes "
        "(default: $DASK_SCHEDULER_ADDRESS when set); needs triage[dask]."),
) -> None:
    """Batch-triage photo files and folders into DIR."""
    from .run.batch import run as run_batch
    from .run.cluster import scheduler_address
    from .run.discover import UsageError
    from .run.results import OutputError

    try:
        summary = run_batch(
            inputs, out, model_path=model, workers=workers, manifest=manifest, resume=resume, progress=not quiet,
            report=report, scheduler=scheduler_address(scheduler),
        )  # fmt: skip
    except UsageError as e:
        _fail(str(e))
    except OutputError as e:
        _fail(str(e), OUTPUT_ERROR)
    except KeyboardInterrupt:
        _fail("interrupted; the photos done are kept: `--resume` goes on from them", INTERRUPTED)
    for note in summary.notes:
        _say(f"triage: note: {note}")
    _say(summary.line())
    _say(f"results: {out / 'results.jsonl'} (also results.csv, run.json)")
    if report:
        _say(f"report: {out / 'report.html'}")
    raise typer.Exit(1 if summary.errors else 0)


@app.command("report")
def report_cmd(
    out: Path = typer.Argument(..., help="A `triage run` output folder (with results.jsonl)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Processes for remaking missing previews (default: all cores)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
) -> None:
    """(Re)build DIR/report.html from DIR/results.jsonl."""
    from .run.discover import UsageError
    from .run.report import build
    from .run.results import OutputError

    if workers is not None and workers < 1:
        _fail("--workers must be at least 1")
    try:
        counts = build(out, workers=workers, progress=not quiet)
    except UsageError as e:
        _fail(str(e))
    except OutputError as e:
        _fail(str(e), OUTPUT_ERROR)
    note = f"; {counts['previews_missing']} previews could not be made (source photo moved or changed)" if counts["previews_missing"] else ""
    _say(f"report: {out / 'report.html'} ({counts['rows']} rows{note})")


@app.command()
def explain(
    image: Path = typer.Argument(..., help="One photo."),
    days: Optional[int] = typer.Option(None, "--days", min=0, max=MAX_DAYS_SINCE_TREATMENT, help="Days since treatment."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model file (default: the shipped model)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results.jsonl row."),
) -> None:
    """One photo: level, probabilities and the reasons, in words."""
    from .pipeline import analyze

    row = analyze(_existing_image(image), days_since_treatment=days, model=_model(model)).to_dict()
    if as_json:
        typer.echo(json.dumps(row, indent=2))
    elif row["status"] == "error":
        _say(f"{row['path']}: cannot be triaged: {row['error']}", err=False)
    else:
        p = row["probabilities"]
        _say(f"{row['path']}: {row['label'].upper()}", err=False)
        typer.echo(f"probabilities: normal {p['normal']:.0%}, monitor {p['monitor']:.0%}, seek-care {p['seek-care']:.0%}")
        typer.echo(row["explanation"]["summary"])
        for r in row["explanation"]["reasons"]:
            typer.echo(f"  - {r['text']}  [contribution {r['contribution']:+.2f}]")
        typer.echo(DISCLAIMER)
    raise typer.Exit(1 if row["status"] == "error" else 0)


@app.command()
def inspect(
    image: Path = typer.Argument(..., help="One photo."),
    out: Path = typer.Option(..., "--out", help="Folder for the stage images and result.json."),
    days: Optional[int] = typer.Option(None, "--days", min=0, max=MAX_DAYS_SINCE_TREATMENT),
    model: Optional[Path] = typer.Option(None, "--model"),
) -> None:
    """The stages of one photo as PNGs (normalised, mask, redness, pigment, overlay) + result.json."""
    from .run.inspect import inspect as run_inspect

    row = run_inspect(_existing_image(image), out, days, _model(model))
    _say(f"stages written to {out}" + (f" (cannot decode: {row['error']})" if row["status"] == "error" else ""))
    raise typer.Exit(1 if row["status"] == "error" else 0)


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="Output folder (images/, masks/, labels.csv)."),
    n: int = typer.Option(..., "--n", min=1, help="Number of photos."),
    seed: int = typer.Option(..., "--seed", help="Same seed, byte-identical files."),
    size: str = typer.Option("1024x768", "--size", help="WxH, e.g. 4032x3024 for phone-size photos."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1),
    canvas: Optional[Path] = typer.Option(
        None, "--canvas", help="Paint on real photos of healthy skin from this folder (labels.csv with file[,mask,person], or images)."
    ),
    sequences: bool = typer.Option(
        False, "--sequences", help="With --canvas: N patients, each photographed over the days after treatment (and manifest.csv)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or lines (the summary stays)."),
) -> None:
    """Generate labelled post-treatment skin photos with known ground truth."""
    from .synth import generate
    from .util.pool import default_workers
    from .util.progress import Progress

    if canvas is not None and not canvas.is_dir():
        _fail(f"--canvas {canvas} is not a folder")
    try:
        with Progress("synth", not quiet) as show:
            labels = generate(out, n, seed, _parse_size(size), workers or default_workers(), show, canvas=canvas,
                              sequences=sequences)  # fmt: skip
    except ValueError as e:
        _fail(str(e))
    typer.echo(f"{n} {'patients' if sequences else 'photos'} and {labels}", err=True)


@app.command()
def train(
    dataset: Path = typer.Argument(..., help="Folder with labels.csv."),
    out: Path = typer.Option(..., "--out", help="Model file to write (e.g. models/mine.skops)."),
    seed: int = typer.Option(0, "--seed"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or lines (the summary stays)."),
) -> None:
    """Fit a model from a labelled dataset; writes the model and its model card."""
    from .learn.dataset import DatasetError
    from .learn.train import card_path
    from .learn.train import train as run_train
    from .util.pool import default_workers
    from .util.progress import Progress

    try:
        with Progress("measuring", not quiet) as show:
            card = run_train(dataset, out, seed=seed, workers=workers or default_workers(), progress=show)
    except (DatasetError, ValueError) as e:
        _fail(str(e))
    v = card["validation_metrics"]
    typer.echo(f"model {out} (card {card_path(out)}); cross-validated macro-F1 {v['macro_f1']:.3f}, "
               f"seek-care recall {v['per_class']['seek-care']['recall']:.3f}", err=True)  # fmt: skip


@app.command()
def evaluate(
    dataset: Path = typer.Argument(..., help="Folder with labels.csv."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model file (default: the shipped model)."),
    out: Path = typer.Option(..., "--out", help="Folder for metrics.json, predictions.csv and plots."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or lines (the summary stays)."),
) -> None:
    """Metrics of a model on a labelled dataset (also per ITA band and days band) and plots."""
    from .learn.dataset import DatasetError
    from .learn.evaluate import evaluate as run_eval
    from .util.pool import default_workers
    from .util.progress import Progress

    m = _model(model)
    try:
        with Progress("measuring", not quiet) as show:
            result = run_eval(dataset, m, out, workers=workers or default_workers(), progress=show)
    except DatasetError as e:
        _fail(str(e))
    o, r = result["overall"], result["rules_baseline"]
    typer.echo(
        f"macro-F1 {o['macro_f1']:.3f} (rules {r['macro_f1']:.3f}); seek-care recall "
        f"{o['per_class']['seek-care']['recall']}; ECE {o['ece']:.3f}; written to {out}",
        err=True,
    )


@app.command()
def retrain(
    labels: Path = typer.Option(..., "--labels", help="Reviewed photos (folder with labels.csv, e.g. from export-labels)."),
    out: Path = typer.Option(..., "--out", help="New model file (never overwritten)."),
    generated: int = typer.Option(0, "--generated", min=0, help="Also train on this many generated photos."),
    generated_seed: int = typer.Option(7000, "--generated-seed"),
    seed: int = typer.Option(0, "--seed", help="Split and solver seed."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or lines (the summary stays)."),
) -> None:
    """Fit a new model from reviewed (+ generated) photos and compare it with the current default."""
    from .learn.dataset import DatasetError
    from .learn.retrain import retrain as run_retrain
    from .util.pool import default_workers
    from .util.progress import Progress

    try:
        with Progress("measuring", not quiet) as show:
            card = run_retrain(labels, out, generated=generated, generated_seed=generated_seed, seed=seed,
                               workers=workers or default_workers(), progress=show)  # fmt: skip
    except (DatasetError, ValueError) as e:
        _fail(str(e))
    comp = card["comparison"]
    typer.echo(f"held out: {comp['held_out']}")
    typer.echo(f"{'':36s}{'current default':>16s}{'new model':>11s}")
    rows = [("all", comp["baseline"]["overall"], comp["candidate"]["overall"])]
    rows += [(f"ITA {b}", comp["baseline"]["per_ita_band"][b], comp["candidate"]["per_ita_band"][b]) for b in comp["candidate"]["per_ita_band"]]
    for name, old, new in rows:
        for metric, get in (("macro-F1", lambda r: r["macro_f1"]), ("seek-care recall", lambda r: r["per_class"]["seek-care"]["recall"])):
            fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
            typer.echo(f"{name + ' ' + metric:36s}{fmt(get(old)):>16s}{fmt(get(new)):>11s}")
    typer.echo(f"{len(comp['changed'])} held-out photos change level:")
    for c in comp["changed"][:50]:
        typer.echo(f"  {c['source']}/{c['file']}: {c['baseline']} -> {c['candidate']} (reviewed: {c['label']})")
    if len(comp["changed"]) > 50:
        typer.echo(f"  ... and {len(comp['changed']) - 50} more (all in the model card)")
    typer.echo(f"model {out}; registered as {card['registered_as']}; promote with `triage models promote {out}`", err=True)


models_app = typer.Typer(help="The model history: list, promote, roll back.", no_args_is_help=True, add_completion=False)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """The shipped and registered models with their cards' figures; * marks the default."""
    from .learn.registry import list_models

    for m in list_models():
        f1, rec = m["macro_f1"], m["seek_care_recall"]
        typer.echo(
            f"{'*' if m['default'] else ' '} {m['file']}\n    version {m['version']}, created {m['created']}"
            + (", shipped" if m["shipped"] else "")
            + (f"; macro-F1 {f1:.3f}, seek-care recall {rec:.3f} on {m['evaluated_on']}" if f1 is not None and rec is not None else "")
        )


@models_app.command("promote")
def models_promote(model: Path = typer.Argument(..., help="A model trained by `triage retrain`.")) -> None:
    """Make a model the default when its card is complete and seek-care recall does not drop."""
    from .learn.registry import RegistryError, promote

    try:
        dest = promote(model)
    except RegistryError as e:
        _fail(f"not promoted: {e}")
    typer.echo(f"default model is now {dest}", err=True)


@models_app.command("rollback")
def models_rollback() -> None:
    """Return to the default before the current one."""
    from .learn.registry import RegistryError, rollback

    try:
        now = rollback()
    except RegistryError as e:
        _fail(str(e))
    typer.echo(f"default model is now {now}", err=True)


DB_HELP = "Database URL (default: SQLite file in $TRIAGE_DATA_DIR or ~/.local/share/triage); postgresql://... works too."


@contextmanager
def _store(db: Optional[str], write: bool = True):
    """The review database, migrated (and, with write, checked to take writes); any problem
    opening it is one line and exit code 2."""
    from .review import store

    try:
        engine = store.open_store(db, write=write)
    except store.StoreError as e:
        _fail(str(e))
    except Exception as e:  # noqa: BLE001 - any connection problem is one line for the user
        _fail(f"cannot open the database: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    try:
        yield engine
    finally:
        engine.dispose()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    allowed_host: List[str] = typer.Option(
        [], "--allowed-host", help="A name staff reach the app by, besides loopback names and --host (repeatable)."
    ),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Secure cookies on loopback too (behind an HTTPS proxy); always on other addresses."
    ),
) -> None:
    """The staff review app for flagged photos."""
    import uvicorn

    from .review.app import create_app
    from .review.guard import WILDCARDS, is_loopback

    with _store(db):  # fail early with a clear message
        pass
    web = create_app(db, host=host, allowed_hosts=allowed_host, secure_cookies=True if secure_cookies else None)
    typer.echo(f"review app on http://{host}:{port} (Ctrl-C stops it)", err=True)
    if secure_cookies or not is_loopback(host):
        typer.echo("cookies are Secure: open the app through HTTPS (a proxy in front of it)", err=True)
    if host in WILDCARDS and not allowed_host:
        typer.echo("only loopback names are answered: add --allowed-host NAME for the name staff type", err=True)
    uvicorn.run(web, host=host, port=port, log_level="warning")


@app.command("import")
def import_cmd(
    run_dir: Path = typer.Argument(..., help="A `triage run` output folder."),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Load a run's results and previews into the review database (again: nothing added)."""
    from .review.store import StoreError, import_run

    with _store(db) as engine:
        try:
            imported = import_run(engine, run_dir)
        except StoreError as e:
            _fail(str(e))
    run_id, added = imported
    again = f", {imported.updated} imported before updated (their decisions kept)" if imported.updated else ""
    typer.echo(f"run {run_id}: {added} photos added{again}" + ("" if added or imported.updated else " (already imported)"), err=True)


users_app = typer.Typer(
    help="Staff accounts of the review app: add, list, passwd, disable, enable, remove.", no_args_is_help=True, add_completion=False
)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(...),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Add a staff account; the password is asked for (never on the command line)."""
    from .review.store import StoreError, add_user

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _store(db) as engine:
        try:
            add_user(engine, name, password)
        except StoreError as e:
            _fail(str(e))
    typer.echo(f"user {name} added", err=True)


@users_app.command("list")
def users_list(db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """One line per account: name, enabled / disabled / removed, created, last login (UTC)."""
    from .review.store import list_users
    from .util.text import printable

    with _store(db, write=False) as engine:
        accounts = list_users(engine)
    if not accounts:
        _say("no users: add one with `triage users add NAME`")
    when = lambda t: t.strftime("%Y-%m-%d %H:%M") if t else "never"  # noqa: E731
    width = max((len(printable(a["name"])) for a in accounts), default=0)
    for a in accounts:
        state = "removed" if a["removed_at"] else "disabled" if a["disabled_at"] else "enabled"
        typer.echo(f"{printable(a['name']):<{width}}  {state:<8}  created {when(a['created_at'])}  last login {when(a['last_login_at'])}")


def _on_account(db: Optional[str], name: str, change, done: str) -> None:
    """Apply change(engine, name) -> sessions ended to an existing account and say `done`; an
    unknown or removed name, like a database that cannot be written, is one line and exit 2."""
    from .review.store import StoreError

    with _store(db) as engine:
        try:
            ended = change(engine, name)
        except StoreError as e:
            _fail(str(e))
    _say(f"user {name} {done}" + (f"; {ended} sessions ended" if ended else ""))


@users_app.command("passwd")
def users_passwd(name: str = typer.Argument(...), db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Set a new password (asked twice, never on the command line); the account's sessions end."""
    from .review.store import StoreError, check_account, set_password

    with _store(db) as engine:  # a read-only database, then an unknown name, say so before asking
        try:
            check_account(engine, name)
            ended = set_password(engine, name, typer.prompt("New password", hide_input=True, confirmation_prompt=True))
        except StoreError as e:
            _fail(str(e))
    _say(f"user {name} has a new password" + (f"; {ended} sessions ended" if ended else ""))


@users_app.command("disable")
def users_disable(name: str = typer.Argument(...), db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """The account can no longer log in; its sessions end at once (`users enable` undoes it)."""
    from .review.store import set_disabled

    _on_account(db, name, lambda engine, n: set_disabled(engine, n, True), "disabled")


@users_app.command("enable")
def users_enable(name: str = typer.Argument(...), db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """A disabled account may log in again."""
    from .review.store import set_disabled

    _on_account(db, name, lambda engine, n: set_disabled(engine, n, False), "enabled")


@users_app.command("remove")
def users_remove(name: str = typer.Argument(...), db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Remove the account for good; its decisions keep its name, which no new account can take."""
    from .review.store import remove_user

    _on_account(db, name, remove_user, "removed (their decisions keep the name)")


@app.command("export-labels")
def export_labels_cmd(
    out: Path = typer.Option(..., "--out", help="Dataset folder to write (labels.csv + images/)."),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Reviewed photos as a labelled dataset for `triage retrain` (exit 3: outputs cannot be written)."""
    from .review.store import CannotWrite, export_labels

    with _store(db, write=False) as engine:
        try:
            written, skipped = export_labels(engine, out)
        except CannotWrite as e:
            _fail(str(e), 3)
    typer.echo(f"{written} reviewed photos written to {out}"
               + (f"; {skipped} skipped (original moved or changed)" if skipped else ""), err=True)  # fmt: skip
