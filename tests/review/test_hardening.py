"""The review app under attack: no blocking work on the event loop, ids out of range and NUL
bytes refused, a read-only database said in one line, Host headers checked, Secure cookies off
loopback, login forms only with a token the server issued, no free text from the address."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from conftest import open_dir
from fastapi.testclient import TestClient
from review_kit import server_url, PASSWORD, client_for, csrf_of, fresh_url, jsonl, login, opened, row, run_zip, with_users
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.review import store


@pytest.fixture
def db(server_url, tmp_path):
    """A database of each kind with ana and two imported photos."""
    url = with_users(fresh_url(server_url, tmp_path), "ana")
    with opened(url) as e:
        store.import_zip(e, io.BytesIO(run_zip([row(1, "seek-care"), row(2)])))
    return url


@pytest.fixture
def sqlite_db(tmp_path):
    url = with_users(f"sqlite:///{tmp_path / 'review.sqlite'}", "ana")
    with opened(url) as e:
        store.import_zip(e, io.BytesIO(run_zip([row(1, "seek-care"), row(2)])))
    return url


def _first_photo(db_url) -> int:
    with opened(db_url) as e:
        return store.queue(e)[0]["id"]


# --- 7: the event loop never waits for the database -----------------------------------------
def test_a_locked_database_does_not_stall_other_requests(sqlite_db):
    """Another process holds SQLite's write lock for 3 s: a decision and an upload wait for it,
    the stylesheet does not."""
    photo = _first_photo(sqlite_db)
    with client_for(sqlite_db) as client:
        login(client)
        csrf = csrf_of(client.get("/").text)
        holder = sqlite3.connect(sqlite_db.removeprefix("sqlite:///"), check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        threading.Timer(3.0, holder.rollback).start()
        with ThreadPoolExecutor(2) as pool:
            waiting = [
                pool.submit(client.post, f"/photo/{photo}", data={"level": "monitor", "csrf": csrf}, follow_redirects=False),
                pool.submit(client.post, "/upload", files={"archive": ("r.zip", run_zip([row(3)]))}, data={"csrf": csrf},
                            follow_redirects=False),  # fmt: skip
            ]
            time.sleep(0.5)  # both are waiting for the lock now
            start = time.monotonic()
            assert client.get("/static/app.css").status_code == 200
            took = time.monotonic() - start
            assert [f.result().status_code for f in waiting] == [303, 303]
        holder.close()
    assert took < 1.0, f"the stylesheet waited {took:.1f} s for another request's database lock"


# --- 19: ids out of range, NUL bytes -----------------------------------------------------------
HUGE = ("99999999999999999999", str(2**31), str(2**63), str(2**64), "-99999999999999999999")


def test_ids_out_of_range_are_not_found(db):
    with client_for(db) as client:
        login(client)
        csrf = csrf_of(client.get("/").text)
        for pid in HUGE:
            assert client.get(f"/photo/{pid}").status_code == 404, pid
            assert client.get(f"/image/{pid}/thumb").status_code == 404, pid
            assert client.post(f"/photo/{pid}", data={"level": "normal", "csrf": csrf}).status_code == 404, pid


def test_nul_bytes_are_a_400(db):
    photo = _first_photo(db)
    with client_for(db) as client:
        login(client)
        csrf = csrf_of(client.get("/").text)
        r = client.post(f"/photo/{photo}", data={"level": "normal", "csrf": csrf, "note": "seen\x00"})
        assert r.status_code == 400 and "NUL" in r.text
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"name": "ana\x00", "password": PASSWORD, "csrf": token})
        assert r.status_code == 400
    with opened(db) as e:
        assert store.photo(e, photo)["decisions"] == []
        with pytest.raises(store.StoreError):
            store.add_user(e, "cleo\x00", PASSWORD)


# --- 20: a read-only database ------------------------------------------------------------------
CHILD = """
import getpass, os, sys
import uvicorn
from triage.cli import app
from triage.review import app as _web, store
from triage.run import discover, results
store.check_password(store.open_store("sqlite://"), "warm", "x")  # every import done: 'nobody' cannot read them
uvicorn.run = lambda *a, **k: sys.exit("served")
if os.geteuid() == 0:  # root writes anything: run as 'nobody', for whom the file is read-only
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
sys.argv = ["triage", *sys.argv[1:]]
app()
"""


def _read_only_sqlite(tmp_path, commands):
    """Each command's (exit code, stderr) on a SQLite file this user cannot write."""
    folder = open_dir(tmp_path)
    url = with_users(f"sqlite:///{folder / 'review.sqlite'}", "ana")
    os.chmod(folder / "review.sqlite", 0o444)
    run = folder / "run"
    run.mkdir()
    (run / "results.jsonl").write_bytes(jsonl([row(1)]))
    for args in commands(url, run):
        done = subprocess.run([sys.executable, "-c", CHILD, *args], input=f"{PASSWORD}\n{PASSWORD}\n",
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        yield args, done.returncode, done.stderr


def _read_only_postgresql(server_url, tmp_path, monkeypatch, commands):
    """Each command's (exit code, output) on a PostgreSQL database whose transactions are read-only."""
    import uvicorn

    url = with_users(fresh_url(server_url, tmp_path), "ana")
    with opened(url) as e, e.connect() as conn:
        conn.execute(sa.text(f"ALTER DATABASE {url.rpartition('/')[2]} SET default_transaction_read_only = on"))
        conn.commit()
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: sys.exit("served"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_bytes(jsonl([row(1)]))
    for args in commands(url, run):
        r = CliRunner().invoke(cli, args, input=f"{PASSWORD}\n{PASSWORD}\n")
        yield args, r.exit_code, r.output + ("Traceback" if r.exception and not isinstance(r.exception, SystemExit) else "")


def test_a_read_only_database_is_one_line_and_exit_2(server_url, tmp_path, monkeypatch):
    """SQLite: a file this user cannot write (run as 'nobody' when root); PostgreSQL: a database
    whose transactions are read-only. serve does not start; import and users add say why."""

    def commands(url, run):
        return (["serve", "--db", url], ["import", str(run), "--db", url], ["users", "add", "ben", "--db", url])

    if server_url.startswith("sqlite"):
        answers = _read_only_sqlite(tmp_path, commands)
    else:
        answers = _read_only_postgresql(server_url, tmp_path, monkeypatch, commands)
    for args, code, said in answers:
        last = said.strip().splitlines()[-1:]
        assert code == 2 and "Traceback" not in said and last and "read-only" in last[0], (args, code, said)


# --- 24: Host header, Secure cookies, the login token, messages by code ---------------------
def test_requests_for_other_host_names_are_refused(sqlite_db):
    with client_for(sqlite_db) as client:
        for host in ("localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
            assert client.get("/login", headers={"host": host}).status_code == 200, host
        for host in ("evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io", ""):
            assert client.get("/login", headers={"host": host}).status_code == 400, host
    with client_for(sqlite_db, host="0.0.0.0", allowed_hosts=["clinic.example"]) as client:
        assert client.get("/login", headers={"host": "clinic.example:8000"}).status_code == 200
        assert client.get("/login", headers={"host": "evil.example"}).status_code == 400
    with client_for(sqlite_db, host="192.168.1.5") as client:
        assert client.get("/login", headers={"host": "192.168.1.5:8000"}).status_code == 200


def test_cookies_are_secure_off_loopback(sqlite_db):
    def cookies(**options):
        with client_for(sqlite_db, base_url="https://localhost", **options) as client:
            form = client.get("/login").headers["set-cookie"]
            return form, login(client).headers["set-cookie"]

    assert not any("secure" in c.lower() for c in cookies())
    assert all("secure" in c.lower() for c in cookies(host="0.0.0.0"))
    assert all("secure" in c.lower() for c in cookies(secure_cookies=True))


def test_serve_passes_its_hardening_options(sqlite_db, monkeypatch):
    import uvicorn

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    args = ["serve", "--db", sqlite_db, "--host", "0.0.0.0", "--allowed-host", "clinic.example", "--secure-cookies"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    with TestClient(started["app"], base_url="https://clinic.example") as client:
        r = client.get("/login")
        assert r.status_code == 200 and "secure" in r.headers["set-cookie"].lower()
        assert client.get("/login", headers={"host": "evil.example"}).status_code == 400


def test_the_login_token_must_be_one_the_server_issued(sqlite_db):
    from triage.review.app import LOGIN_CSRF

    with client_for(sqlite_db) as client:
        client.cookies.set(LOGIN_CSRF, "chosen-by-attacker")
        r = client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": "chosen-by-attacker"}, follow_redirects=False)
        assert r.status_code == 403
        with client_for(sqlite_db) as other:  # another server's token (another secret)
            token = csrf_of(other.get("/login").text)
        client.cookies.set(LOGIN_CSRF, token)
        r = client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": token}, follow_redirects=False)
        assert r.status_code == 403
        assert login(client).headers["location"] == "/"


def test_the_upload_page_shows_no_text_from_the_address(sqlite_db):
    with client_for(sqlite_db) as client:
        login(client)
        page = client.get("/upload", params={"done": "Your account is locked: call 555-0100 <b>now</b>"})
        assert page.status_code == 200 and "555-0100" not in page.text and "locked" not in page.text
        csrf = csrf_of(page.text)
        r = client.post("/upload", files={"archive": ("r.zip", run_zip([row(7)]))}, data={"csrf": csrf})
        assert r.status_code == 200 and "1 photos added" in r.text
