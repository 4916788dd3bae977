"""The review database: imported runs, their photos (with preview images), staff accounts,
sessions and review decisions. SQLAlchemy Core; SQLite by default, PostgreSQL by URL.

- SQLite: a file in the data folder ($TRIAGE_DATA_DIR, else ~/.local/share/triage), WAL mode,
  foreign keys on, a busy timeout so concurrent writers wait instead of failing.
- Migrations: MIGRATIONS is an ordered list of DDL steps; `schema_version` records how many have
  run; `open_store` applies the missing ones in one transaction each, then tries a write (rolled
  back) so that a read-only database is one StoreError at start.
- A photo is one photo by its sha256 (unique since v3): a later run updates its result.
- Patients (v5): each photo keeps its row's patient_id, role (baseline / follow-up) and days, so
  that a photo's page lists the same patient's other photos in day order.
- Preview images are stored in the database (bytes): the app serves images only by photo id,
  never by a path, so no request can reach another file.
- Decisions are append-only: a changed decision is a new row, the earlier one stays (audit
  trail); the current decision of a photo is its newest row.
- Passwords: argon2id hashes (argon2-cffi defaults, RFC 9106). Failed logins are claimed and
  counted in one transaction (claim_login), so a burst of attempts cannot pass the check at once.
- Accounts (v4): a disabled account cannot log in and has no live session (its sessions are
  deleted, and session_of ignores any a login in flight adds). A removed account stays as a
  tombstone: its row keeps the name its decisions are shown and exported under, with no password
  and no sessions; the name is never given to a new account (nor the same name in other case),
  so no one can later act, or appear to have acted, as that person.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from ..decide.config import LEVELS
from ..util.series import day_order
from . import config, rows

META = sa.MetaData()
users = sa.Table(
    "users", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),  # v4: set while the account is disabled
    sa.Column("removed_at", sa.DateTime(timezone=True)),  # v4: set once removed (a tombstone)
    sa.Column("last_login_at", sa.DateTime(timezone=True)),  # v4
)  # fmt: skip
sessions = sa.Table(
    "sessions", META,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie: a leaked table opens nothing
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)  # fmt: skip
runs = sa.Table(
    "runs", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),  # sha256 of results.jsonl
    sa.Column("folder", sa.Text, nullable=False),
    sa.Column("model", sa.Text),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
)  # fmt: skip
photos = sa.Table(
    "photos", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("source", sa.Text),  # the original file when it could be located at import
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("p_level", sa.Float, nullable=False),  # probability of its level
    sa.Column("row", sa.Text, nullable=False),  # the results.jsonl row (JSON)
    sa.Column("thumb", sa.LargeBinary),
    sa.Column("overlay", sa.LargeBinary),
    sa.Column("in_queue", sa.Boolean, nullable=False),
    sa.Column("patient_id", sa.String(config.MAX_PATIENT_ID)),  # v5: the row's patient (None: none)
    sa.Column("role", sa.String(16)),  # v5: baseline, follow-up or None
    sa.Column("days", sa.Integer),  # v5: the row's days_since_treatment
    sa.UniqueConstraint("run_id", "path"),
    sa.Index("ix_photos_patient_id", "patient_id"),  # v5: a photo page lists its patient's photos
)  # fmt: skip
decisions = sa.Table(
    "decisions", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("photo_id", sa.Integer, sa.ForeignKey("photos.id"), nullable=False, index=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)  # fmt: skip
login_failures = sa.Table(
    "login_failures", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, index=True),
    sa.Column("client", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)  # fmt: skip
schema_version = sa.Table("schema_version", META, sa.Column("version", sa.Integer, nullable=False))
MAX_ID = 2**31 - 1  #: the largest id an Integer column holds (PostgreSQL's integer)



def _one_photo_per_sha256(conn) -> None:
    """v3: a photo is one photo by its sha256. Photos that earlier versions imported again from
    a later run merge into their newest row (the latest result); their decisions move to it."""
    dup = sa.select(photos.c.sha256, sa.func.max(photos.c.id)).group_by(photos.c.sha256).having(sa.func.count() > 1)
    for sha, keep in conn.execute(dup).all():
        others = sa.select(photos.c.id).where(photos.c.sha256 == sha, photos.c.id != keep).scalar_subquery()
        conn.execute(decisions.update().where(decisions.c.photo_id.in_(others)).values(photo_id=keep))
        conn.execute(photos.delete().where(photos.c.sha256 == sha, photos.c.id != keep))
    conn.execute(sa.text("CREATE UNIQUE INDEX ux_photos_sha256 ON photos (sha256)"))


def _account_states(conn) -> None:
    """v4: users.disabled_at, removed_at and last_login_at. Step 1 creates its tables from their
    current definitions, so a database made since already has them; an older one gets them here."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("users")}
    for name in ("disabled_at", "removed_at", "last_login_at"):
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE users ADD COLUMN {name} {users.c[name].type.compile(dialect=conn.dialect)}"))


def _patients(conn) -> None:
    """v5: photos.patient_id, role and days, with an index on patient_id. Step 1 creates its
    tables from their current definitions, so a database made since already has them; an older
    one gets them here, filled from each stored row (a run imported by an earlier version kept
    the keys in its rows; a value that fails today's check stays None)."""
    inspect = sa.inspect(conn)
    have = {c["name"] for c in inspect.get_columns("photos")}
    for name in ("patient_id", "role", "days"):
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE photos ADD COLUMN {name} {photos.c[name].type.compile(dialect=conn.dialect)}"))
    if "ix_photos_patient_id" not in {i["name"] for i in inspect.get_indexes("photos")}:
        conn.execute(sa.text("CREATE INDEX ix_photos_patient_id ON photos (patient_id)"))
    last = 0
    while batch := conn.execute(
        sa.select(photos.c.id, photos.c.row).where(photos.c.id > last).order_by(photos.c.id).limit(1000)
    ).all():  # a batch at a time: a large database is never held in memory whole
        for photo_id, text in batch:
            keys = rows.stored_patient_keys(text)
            if any(v is not None for v in keys.values()):
                conn.execute(photos.update().where(photos.c.id == photo_id).values(**keys))
        last = batch[-1][0]


#: ordered schema steps; never edit a released step, append a new one
MIGRATIONS = [
    lambda conn: META.create_all(conn, tables=[users, sessions, runs, photos, decisions]),
    lambda conn: META.create_all(conn, tables=[login_failures]),  # v2: login throttling
    _one_photo_per_sha256,  # v3
    _account_states,  # v4
    _patients,  # v5: patient follow-up
]


class StoreError(Exception):
    """A refused store action; str() is one line."""


class CannotWrite(StoreError):
    """Outputs could not be written (a full disk, no permission); none is left half-written."""


class NoSuchPhoto(StoreError):
    """No photo has this id."""


class NoSuchUser(StoreError):
    """No account has this name."""


class Imported(tuple):
    """(run id, photos added) of an import; `.updated`: photos already known by their sha256
    whose result this run replaced (their decisions kept)."""

    def __new__(cls, run_id: int, added: int, updated: int = 0):
        self = super().__new__(cls, (run_id, added))
        self.updated = updated
        return self


def default_url() -> str:
    where = os.environ.get("TRIAGE_DATA_DIR")
    folder = Path(where) if where else Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "triage"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'review.sqlite'}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)  # SQLite gives naive datetimes back


def open_store(url: str | None = None, write: bool = True) -> sa.Engine:
    """An engine on the database at `url` (default: the SQLite file), migrated to the latest
    schema. write: check that the database takes writes (a write rolled back), so that a
    read-only one is a StoreError here, not a failure at the first login or import."""
    engine = _engine(url or default_url())
    try:
        _migrate(engine)
        if write:
            _try_a_write(engine)
    except sa.exc.DBAPIError as e:
        engine.dispose()
        reason = _read_only(e)
        if reason is None:
            raise
        raise StoreError(f"the database is read-only: {reason}") from None
    return engine


def _engine(url: str) -> sa.Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def _migrate(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        schema_version.create(conn, checkfirst=True)
        row = conn.execute(sa.select(schema_version.c.version)).first()
        done = row[0] if row else 0
        if row is None:
            conn.execute(schema_version.insert().values(version=0))
    for n in range(done, len(MIGRATIONS)):
        with engine.begin() as conn:
            MIGRATIONS[n](conn)
            conn.execute(schema_version.update().values(version=n + 1))


def _try_a_write(engine: sa.Engine) -> None:
    """Write and roll back; a database busy with another writer is not read-only."""
    with engine.connect() as conn:
        try:
            conn.execute(schema_version.update().values(version=schema_version.c.version))
        except sa.exc.OperationalError as e:
            if getattr(e.orig, "sqlite_errorcode", 0) & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        finally:
            conn.rollback()


def _read_only(e: sa.exc.DBAPIError) -> str | None:
    """The driver's one-line reason when a failed statement means the database refuses our
    writes (a read-only file, folder, mount, transaction or role), else None."""
    sqlite_code = getattr(e.orig, "sqlite_errorcode", None)
    refused = (sqlite_code is not None and sqlite_code & 0xFF == sqlite3.SQLITE_READONLY) or getattr(
        e.orig, "sqlstate", None
    ) in ("25006", "42501")  # PostgreSQL: a read-only transaction, no privilege
    return str(e.orig).strip().splitlines()[0] if refused else None


# --- accounts and sessions --------------------------------------------------------------------
def add_user(engine: sa.Engine, name: str, password: str) -> None:
    from argon2 import PasswordHasher

    name = name.strip()
    if not name or len(name) > 80 or "\x00" in name:
        raise StoreError("a user name is 1-80 characters, none of them NUL")
    if len(password) < config.MIN_PASSWORD_LENGTH:
        raise StoreError(f"passwords have at least {config.MIN_PASSWORD_LENGTH} characters")
    with engine.begin() as conn:
        # every name, removed ones too, compared without case: "Ana" must not pass for a removed "ana"
        for other, removed in conn.execute(sa.select(users.c.name, users.c.removed_at)).all():
            if other.casefold() == name.casefold():
                taken = "was removed: the name stays with their decisions" if removed else "exists"
                raise StoreError(f"user {other!r} {taken}" + ("" if other == name else f" ({name!r} would pass for it)"))
        conn.execute(users.insert().values(name=name, password_hash=PasswordHasher().hash(password), created_at=_now()))


def _can_log_in():
    """The condition an account must meet to log in and keep its sessions."""
    return users.c.disabled_at.is_(None) & users.c.removed_at.is_(None)


def check_password(engine: sa.Engine, name: str, password: str) -> int | None:
    """The user's id when the password is right and the account may log in, else None (the
    same work for unknown, disabled and removed names)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    ph = PasswordHasher()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.id, users.c.password_hash).where(users.c.name == name.strip(), _can_log_in())
        ).first()
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = ph.hash(secrets.token_urlsafe(16))
    try:
        ph.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return row.id if row else None


_DUMMY_HASH: str | None = None  # verified against for unknown names: the same work either way


def claim_login(engine: sa.Engine, name: str, client: str) -> int | None:
    """Check and record a login attempt in one step: None when the name from this client, the
    name from anywhere, or this client has failed too often within LOGIN_WINDOW_MINUTES (the
    refused attempt is not recorded, so waiting out the window works); else the attempt's id, a
    failure until login_succeeded() clears it. One claim at a time, so that a burst of attempts
    cannot all pass the check before any is recorded."""
    name, client = name.strip()[:80], client[:64]
    now = _now()
    with engine.connect() as conn:
        tx = conn.begin()
        if conn.dialect.name == "postgresql":  # SQLite: the insert below takes the database's write lock
            conn.execute(sa.text("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE"))
        attempt = conn.execute(login_failures.insert().values(name=name, client=client, at=now)).inserted_primary_key[0]
        if _too_many_failures(conn, name, client, now - timedelta(minutes=config.LOGIN_WINDOW_MINUTES)):
            tx.rollback()
            return None
        tx.commit()
    return attempt


def _too_many_failures(conn, name: str, client: str, since: datetime) -> bool:
    """True when a limit is passed, counting the attempt being claimed."""
    f = login_failures.c
    limits = (
        ((f.name == name) & (f.client == client), config.LOGIN_MAX_FAILURES),
        (f.name == name, config.LOGIN_MAX_FAILURES_PER_NAME),
        (f.client == client, config.LOGIN_MAX_FAILURES_PER_CLIENT),
    )
    for where, limit in limits:
        if conn.execute(sa.select(sa.func.count()).where(where, f.at >= since)).scalar_one() > limit:
            return True
    return False


def login_succeeded(engine: sa.Engine, attempt: int) -> None:
    """The attempt claimed by claim_login() was the right password: not a failure."""
    with engine.begin() as conn:
        conn.execute(login_failures.delete().where(login_failures.c.id == attempt))


def _token_hash(token: str) -> str:
    """What the sessions table keeps of a cookie: a leaked table opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(engine: sa.Engine, user_id: int) -> tuple[str, str]:
    """(cookie token, CSRF token) of a new session: a login, so the user's last login is now."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        conn.execute(sessions.insert().values(
            token_hash=_token_hash(token), user_id=user_id, csrf=csrf,
            expires_at=now + timedelta(hours=config.SESSION_HOURS)))  # fmt: skip
        conn.execute(users.update().where(users.c.id == user_id).values(last_login_at=now))
    return token, csrf


def session_of(engine: sa.Engine, token: str | None) -> dict | None:
    """{user_id, name, csrf} of a live session of an account that may log in, else None."""
    if not token:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sessions.c.user_id, sessions.c.csrf, sessions.c.expires_at, users.c.name)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == _token_hash(token), _can_log_in())
        ).first()
    if row is None or _aware(row.expires_at) < _now():
        return None
    return {"user_id": row.user_id, "name": row.name, "csrf": row.csrf}


def end_session(engine: sa.Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))


def list_users(engine: sa.Engine) -> list[dict]:
    """Every account by name, removed ones too: name, created_at, last_login_at (None: never),
    disabled_at, removed_at (None: not)."""
    cols = [users.c.name, users.c.created_at, users.c.last_login_at, users.c.disabled_at, users.c.removed_at]
    with engine.connect() as conn:
        found = conn.execute(sa.select(*cols).order_by(users.c.name)).all()
    return [{k: (_aware(v) if isinstance(v, datetime) else v) for k, v in r._mapping.items()} for r in found]


def _account(conn, name: str):
    """The row of the account named `name`; NoSuchUser when there is none, StoreError when it
    was removed (a tombstone is not an account to act on)."""
    row = conn.execute(sa.select(users).where(users.c.name == name.strip())).first()
    if row is None:
        raise NoSuchUser(f"no user {name.strip()!r}")
    if row.removed_at is not None:
        raise StoreError(f"user {row.name!r} was removed")
    return row


def check_account(engine: sa.Engine, name: str) -> None:
    """NoSuchUser or StoreError unless `name` is an account (disabled or not) to act on."""
    with engine.connect() as conn:
        _account(conn, name)


def _end_sessions(conn, user_id: int) -> int:
    return conn.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount


def set_password(engine: sa.Engine, name: str, password: str) -> int:
    """Give the account a new password and end its sessions (how many). A disabled account stays
    disabled."""
    from argon2 import PasswordHasher

    if len(password) < config.MIN_PASSWORD_LENGTH:
        raise StoreError(f"passwords have at least {config.MIN_PASSWORD_LENGTH} characters")
    hashed = PasswordHasher().hash(password)
    with engine.begin() as conn:
        row = _account(conn, name)
        conn.execute(users.update().where(users.c.id == row.id).values(password_hash=hashed))
        return _end_sessions(conn, row.id)


def set_disabled(engine: sa.Engine, name: str, disabled: bool) -> int:
    """Disable the account (no login; its sessions end at once: how many) or enable it again."""
    with engine.begin() as conn:
        row = _account(conn, name)
        if not disabled:
            conn.execute(users.update().where(users.c.id == row.id).values(disabled_at=None))
            return 0
        if row.disabled_at is None:
            conn.execute(users.update().where(users.c.id == row.id).values(disabled_at=_now()))
        return _end_sessions(conn, row.id)


REMOVED_HASH = "!removed"  #: a removed account's password hash: not an argon2 hash, so nothing verifies


def remove_user(engine: sa.Engine, name: str) -> int:
    """Remove the account: it can no longer log in, its sessions end (how many), its password
    hash is dropped; the row stays as a tombstone, so its decisions keep the name and the name
    is never given again (add_user)."""
    with engine.begin() as conn:
        row = _account(conn, name)
        conn.execute(users.update().where(users.c.id == row.id).values(removed_at=_now(), password_hash=REMOVED_HASH))
        return _end_sessions(conn, row.id)


# --- runs and photos ---------------------------------------------------------------------------
def in_queue(row: dict) -> bool:
    """Every seek-care and monitor photo; a fixed share of the normal ones, chosen by sha256
    (the same photos whoever imports the run)."""
    if row["label"] != "normal":
        return True
    return int(row["sha256"][:8], 16) / 0xFFFFFFFF < config.REVIEW_NORMAL_SAMPLE


def import_run(engine: sa.Engine, folder: str | Path) -> Imported:
    """Load DIR/results.jsonl with its previews (DIR/overlays) and the location of each original
    photo; the same run imported again adds nothing."""
    from ..run.results import preview_paths

    folder = Path(folder)
    results = folder / "results.jsonl"
    if not results.is_file():
        raise StoreError(f"no results.jsonl in {folder}")
    try:
        results_bytes = results.read_bytes()
    except OSError as e:
        raise StoreError(f"cannot read {results}: {e.strerror}") from None
    try:
        run_json = (folder / "run.json").read_bytes()
    except OSError:
        run_json = b""

    def preview(sha: str, kind: str) -> bytes | None:
        p = preview_paths(folder, sha)[0 if kind == "thumb" else 1]
        return p.read_bytes() if p.is_file() else None

    return import_results(engine, results_bytes, run_json, preview, str(folder.resolve()), locate=True)


def import_zip(engine: sa.Engine, archive) -> Imported:
    """Import a zipped run folder (results.jsonl, run.json, overlays/<sha256>.thumb|overlay.jpg,
    at its top or in one folder), read within the caps of `archive`: a zip bomb, an encrypted or
    damaged member is a StoreError before anything is written. An uploaded run has no source
    files on this machine: its run.json's inputs are never looked at."""
    from .archive import open_run_zip

    try:
        with open_run_zip(archive) as run:
            results = run.read("results.jsonl")
            if results is None:
                raise StoreError("the zip has no results.jsonl")
            return import_results(engine, results, run.read("run.json") or b"", run.preview, "upload")
    except rows.RunError as e:
        raise StoreError(str(e)) from None


def import_results(
    engine: sa.Engine, results: bytes, run_json: bytes, preview, where: str, locate: bool = False
) -> Imported:
    """Import the bytes of a results.jsonl (and run.json); preview(sha256, "thumb"|"overlay")
    gives each preview's bytes or None. Every row is checked against the contract before
    anything is written (StoreError naming the line). Idempotent by the sha256 of results.jsonl;
    a photo already imported from another run (same sha256) gets this run's result.
    locate: find the original photos through run.json's inputs, only for a run made on this
    machine (`triage import DIR`): an uploaded run.json could name any path."""
    from ..run.discover import sources_of_run

    digest = hashlib.sha256(results).hexdigest()
    with engine.connect() as conn:
        old = conn.execute(sa.select(runs.c.id).where(runs.c.digest == digest)).first()
    if old:
        return Imported(old.id, 0)
    try:
        found, run_info = rows.triaged(results), rows.run_info(run_json)
    except rows.RunError as e:
        raise StoreError(str(e)) from None
    if not found:
        raise StoreError("results.jsonl holds no triaged photos")
    sources = sources_of_run(run_info) if locate else {}  # originals on this machine, for export-labels
    try:
        with engine.begin() as conn:
            run_id = conn.execute(runs.insert().values(
                digest=digest, folder=where, model=json.dumps(run_info.get("model")), imported_at=_now())
            ).inserted_primary_key[0]  # fmt: skip
            added = sum(_save_photo(conn, run_id, p, preview, sources.get(p.path)) for p in found)
    except sa.exc.IntegrityError:
        raise StoreError("another import of these photos ran at the same time: import again") from None
    return Imported(run_id, added, len(found) - added)


def _save_photo(conn, run_id: int, p: rows.Triaged, preview, source: str | None) -> bool:
    """Insert the photo, or give the photo with its sha256 this run's result (row, level,
    overlay; the thumbnail and original when this run has them). True when it is new."""
    values = {
        "run_id": run_id, "path": p.path, "label": p.label, "p_level": p.p_level, "row": p.row,
        "overlay": preview(p.sha256, "overlay"), "in_queue": in_queue({"label": p.label, "sha256": p.sha256}),
        "patient_id": p.patient_id, "role": p.role, "days": p.days,
    }  # fmt: skip
    thumb, source = preview(p.sha256, "thumb"), (str(Path(source).resolve()) if source else None)
    known = conn.execute(sa.select(photos.c.id).where(photos.c.sha256 == p.sha256)).first()
    if known is None:
        conn.execute(photos.insert().values(sha256=p.sha256, thumb=thumb, source=source, **values))
        return True
    kept = {k: v for k, v in (("thumb", thumb), ("source", source)) if v is not None}  # else the earlier ones hold
    conn.execute(photos.update().where(photos.c.id == known.id).values(**values, **kept))
    return False


def queue(engine: sa.Engine) -> list[dict]:
    """Photos to review, seek-care first, then monitor, then the normal sample (most likely
    first), each with its current decision (or None)."""
    latest = (
        sa.select(decisions.c.photo_id, sa.func.max(decisions.c.id).label("last"))
        .group_by(decisions.c.photo_id)
        .subquery()
    )
    urgency = sa.case((photos.c.label == "seek-care", 0), (photos.c.label == "monitor", 1), else_=2)
    q = (
        sa.select(photos.c.id, photos.c.path, photos.c.label, photos.c.p_level, photos.c.patient_id,
                  decisions.c.level.label("reviewed"))  # fmt: skip
        .select_from(photos.outerjoin(latest, latest.c.photo_id == photos.c.id).outerjoin(decisions, decisions.c.id == latest.c.last))
        .where(photos.c.in_queue)
        .order_by(urgency, photos.c.p_level.desc(), photos.c.path, photos.c.id)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def _is_id(photo_id: int) -> bool:
    """True when the id fits the id columns (a larger one is no photo's, and no database takes it)."""
    return 1 <= photo_id <= MAX_ID


def photo(engine: sa.Engine, photo_id: int) -> dict | None:
    if not _is_id(photo_id):
        return None
    with engine.connect() as conn:
        r = conn.execute(sa.select(photos).where(photos.c.id == photo_id)).first()
        if r is None:
            return None
        history = conn.execute(
            sa.select(decisions.c.level, decisions.c.note, decisions.c.created_at, users.c.name,
                      users.c.removed_at.is_not(None).label("removed"))  # fmt: skip
            .join(users, users.c.id == decisions.c.user_id)
            .where(decisions.c.photo_id == photo_id)
            .order_by(decisions.c.id)
        ).all()
    out = dict(r._mapping)
    out["row"] = json.loads(out["row"])
    out["decisions"] = [dict(h._mapping) for h in history]
    return out


def in_day_order(p) -> tuple:
    """Sort key of a patient's stored photos (util.series.day_order, then path and id)."""
    return *day_order(p["role"] == "baseline", p["days"]), p["path"], p["id"]


def patient_photos(engine: sa.Engine, photo: dict) -> tuple[list[dict], list[dict], int]:
    """The same patient's other photos around `photo` (a dict of photo()): (earlier, later, not
    shown), each in day order (in_day_order) with id, path, label, days, role, has_thumb and its
    current decision (decision, reviewer, removed: None when not reviewed); at most
    config.PATIENT_PHOTOS_EACH_SIDE on each side, the nearest kept. ([], [], 0) without a patient."""
    pid = photo.get("patient_id")
    if pid is None:
        return [], [], 0
    mine = sa.select(photos.c.id).where(photos.c.patient_id == pid).scalar_subquery()
    latest = (
        sa.select(decisions.c.photo_id, sa.func.max(decisions.c.id).label("last"))
        .where(decisions.c.photo_id.in_(mine))
        .group_by(decisions.c.photo_id)
        .subquery()
    )
    q = (
        sa.select(photos.c.id, photos.c.path, photos.c.label, photos.c.days, photos.c.role,
                  photos.c.thumb.is_not(None).label("has_thumb"), decisions.c.level.label("decision"),
                  users.c.name.label("reviewer"), users.c.removed_at.is_not(None).label("removed"))  # fmt: skip
        .select_from(
            photos.outerjoin(latest, latest.c.photo_id == photos.c.id)
            .outerjoin(decisions, decisions.c.id == latest.c.last)
            .outerjoin(users, users.c.id == decisions.c.user_id)
        )
        .where(photos.c.patient_id == pid)
    )
    with engine.connect() as conn:
        found = sorted((dict(r._mapping) for r in conn.execute(q)), key=in_day_order)
    at = next((i for i, p in enumerate(found) if p["id"] == photo["id"]), None)
    if at is None:  # a later import gave the photo another patient since it was read
        return [], [], 0
    n = config.PATIENT_PHOTOS_EACH_SIDE
    earlier, later = found[max(0, at - n) : at], found[at + 1 : at + 1 + n]
    return earlier, later, len(found) - 1 - len(earlier) - len(later)


def preview(engine: sa.Engine, photo_id: int, kind: str) -> bytes | None:
    """A photo's thumbnail or overlay (JPEG bytes), None when it has none."""
    if kind not in ("thumb", "overlay") or not _is_id(photo_id):
        return None
    with engine.connect() as conn:
        return conn.execute(sa.select(photos.c[kind]).where(photos.c.id == photo_id)).scalar()


def decide(engine: sa.Engine, photo_id: int, user_id: int, level: str, note: str = "") -> None:
    """Record a review decision (a new row; earlier ones stay)."""
    if level not in LEVELS:
        raise StoreError(f"level must be one of {', '.join(LEVELS)}")
    if "\x00" in note:
        raise StoreError("a note cannot hold NUL characters")
    if not _is_id(photo_id):
        raise NoSuchPhoto(f"no photo {photo_id}")
    with engine.begin() as conn:
        if conn.execute(sa.select(photos.c.id).where(photos.c.id == photo_id)).first() is None:
            raise NoSuchPhoto(f"no photo {photo_id}")
        conn.execute(decisions.insert().values(photo_id=photo_id, user_id=user_id, level=level, note=note[:2000], created_at=_now()))


def export_labels(engine: sa.Engine, out: str | Path) -> tuple[int, int]:
    """Reviewed photos as a labelled dataset (contract layout: out/images/..., out/labels.csv
    with file,label,days_since_treatment,patient_id,group,predicted,reviewer,reviewed_at), the
    current decision as the label. Originals that moved or changed are skipped. Every file is
    written to a temporary file and renamed, labels.csv last, so an export that is killed or
    fails leaves the previous dataset whole; CannotWrite when the outputs cannot be written (a
    full disk, no permission). Returns (written, skipped)."""
    out = Path(out)
    try:
        return _write_dataset(out, _reviewed(engine))
    except OSError as e:
        raise CannotWrite(f"cannot write {out}: {e.strerror or e} (the dataset there is as it was)") from None


def _reviewed(engine: sa.Engine) -> list:
    """Each reviewed photo once, with its current decision and who made it."""
    with engine.connect() as conn:
        latest = sa.select(decisions.c.photo_id, sa.func.max(decisions.c.id).label("last")).group_by(decisions.c.photo_id).subquery()
        reviewed = conn.execute(
            sa.select(photos.c.id, photos.c.path, photos.c.sha256, photos.c.source, photos.c.label, photos.c.row,
                      decisions.c.level, decisions.c.created_at, users.c.name)  # fmt: skip
            .join(latest, latest.c.photo_id == photos.c.id)
            .join(decisions, decisions.c.id == latest.c.last)
            .join(users, users.c.id == decisions.c.user_id)
            .order_by(decisions.c.id)
        ).all()
    return list({r.sha256: r for r in reviewed}.values())  # one row per photo (older databases: its newest decision wins)


def _original(r) -> bytes | None:
    """The original photo's bytes when it is still there, unchanged (its sha256), else None."""
    try:
        data = Path(r.source).read_bytes() if r.source else None
    except OSError:
        return None
    return data if data is not None and hashlib.sha256(data).hexdigest() == r.sha256 else None


def _write_dataset(out: Path, reviewed: list) -> tuple[int, int]:
    import csv
    import io

    from ..util.files import atomic_write_bytes, atomic_write_text

    (out / "images").mkdir(parents=True, exist_ok=True)
    for leftover in [*out.glob(".*.tmp"), *(out / "images").glob(".*.tmp")]:  # of an export that was killed
        leftover.unlink(missing_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "label", "days_since_treatment", "patient_id", "group", "predicted", "reviewer", "reviewed_at"])
    written = 0
    for r in reviewed:
        data = _original(r)
        if data is None:
            continue
        name = f"images/{r.sha256[:16]}{Path(r.path).suffix.lower()}"
        atomic_write_bytes(out / name, data)
        days = json.loads(r.row).get("days_since_treatment")
        w.writerow([name, r.level, "" if days is None else days, "", "reviewed", r.label, r.name, _aware(r.created_at).isoformat(timespec="seconds")])
        written += 1
    atomic_write_text(out / "labels.csv", buf.getvalue())
    return written, len(reviewed) - written
