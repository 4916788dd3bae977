"""Helpers of the review app's tests: result rows as the contract writes them, zips of a run
(honest and crafted), a test client on loopback, logging in, a fresh database of either kind."""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import zipfile
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from pg import postgres_server

from triage.review import store

PASSWORD = "correct horse battery"


def sha_of(i: int) -> str:
    return hashlib.sha256(f"photo {i}".encode()).hexdigest()


def row(i: int, label: str = "monitor", **changes) -> dict:
    """A results.jsonl row as `triage run` writes it (contract, schema 1)."""
    p = {"normal": 0.1, "monitor": 0.1, "seek-care": 0.1}
    p[label] = 0.8
    r = {
        "schema": 1, "path": f"p{i:03d}.jpg", "sha256": sha_of(i), "status": "ok", "error": None,
        "label": label, "probabilities": p, "quality": {"ok": True, "issues": []},
        "days_since_treatment": 3, "features": {"ita_deg": 31.4, "skin_fraction": 0.62},
        "explanation": {"summary": f"{label}: photo {i}.", "reasons": [
            {"feature": "ita_deg", "value": 31.4, "contribution": 0.5, "text": "a reason"}], "policy": None},
        "model": {"name": "default", "version": "1", "sha256": "0" * 64},
        "image": {"width": 640, "height": 480, "format": "JPEG"},
    }  # fmt: skip
    r.update(changes)
    return r


def jsonl(rows) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def run_zip(rows, run_json: bytes | None = b"{}", extra: dict[str, bytes] | None = None) -> bytes:
    """A zipped run folder: results.jsonl (rows or raw lines), run.json, any extra members."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("run/results.jsonl", jsonl(rows))
        if run_json is not None:
            z.writestr("run/run.json", run_json)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def zeros_zip(name: str, size: int) -> bytes:
    """A zip whose one member inflates to `size` zero bytes (honest headers)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open(name, "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(block)
    return buf.getvalue()


def patch_central(data: bytes, name: str, *, flags: int | None = None, file_size: int | None = None) -> bytes:
    """The zip with the central-directory record of `name` changed (a crafted, lying header)."""
    out = bytearray(data)
    at = zipfile.ZipFile(io.BytesIO(data)).start_dir
    while out[at : at + 4] == b"PK\x01\x02":
        n, e, c = struct.unpack_from("<HHH", out, at + 28)
        if out[at + 46 : at + 46 + n].decode() == name:
            if flags is not None:
                struct.pack_into("<H", out, at + 8, flags)
            if file_size is not None:
                struct.pack_into("<I", out, at + 24, file_size)
            return bytes(out)
        at += 46 + n + e + c
    raise KeyError(name)


@contextmanager
def client_for(db_url: str, base_url: str = "http://localhost", **options):
    """A TestClient on the app, speaking to it as http://localhost (a loopback name)."""
    from triage.review.app import create_app

    app = create_app(db_url, **options)
    try:
        with TestClient(app, base_url=base_url) as client:
            yield client
    finally:
        app.state.engine.dispose()


def csrf_of(page_text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_text).group(1)


def login(client: TestClient, name="ana", password=PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)


@contextmanager
def opened(db_url: str):
    e = store.open_store(db_url)
    try:
        yield e
    finally:
        e.dispose()


def fresh_url(db_url: str, tmp_path) -> str:
    """An empty database of the same kind (a new SQLite file, or a new database on the server)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    import secrets

    import sqlalchemy as sa

    base, _, _db = db_url.rpartition("/")
    name = f"fresh_{secrets.token_hex(4)}"
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://") + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{base}/{name}"


def with_users(db_url: str, *names: str) -> str:
    with opened(db_url) as e:
        for n in names:
            store.add_user(e, n, PASSWORD)
    return db_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server_url(request, tmp_path_factory):
    """A database URL of each kind the app supports, one per test module (import it by name)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'review.sqlite'}"
    else:
        with postgres_server() as url:
            yield url
