"""`triage users list | passwd | disable | enable | remove`: what each does to logins and live
sessions (through the app, as a browser would), what a removed account leaves behind (its
decisions, under its name, which nobody can take), and one line with exit 2 for an unknown name
or a database that cannot be written; on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os

import pytest
import sqlalchemy as sa
from review_kit import server_url, PASSWORD, client_for, csrf_of, fresh_url, jsonl, login, opened, row, run_zip, with_users
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.review import store

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def db(server_url, tmp_path):
    """A database of each kind with ana and ben and two imported photos."""
    url = with_users(fresh_url(server_url, tmp_path), "ana", "ben")
    with opened(url) as e:
        store.import_zip(e, io.BytesIO(run_zip([row(1, "seek-care"), row(2)])))
    return url


def users(db: str, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["users", *args, "--db", db], input=input)


def logged_in(client) -> bool:
    """True when the client's session cookie still opens the queue."""
    return client.get("/", follow_redirects=False).status_code == 200


def _user_id(db: str, name: str) -> int:
    with opened(db) as e, e.connect() as conn:
        return conn.execute(sa.select(store.users.c.id).where(store.users.c.name == name)).scalar_one()


def test_list_shows_every_account_its_state_and_last_login(db):
    with client_for(db) as client:
        assert login(client, "ana").headers["location"] == "/"
    assert users(db, "disable", "ben").exit_code == 0
    r = users(db, "list")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert [line.split()[:2] for line in lines] == [["ana", "enabled"], ["ben", "disabled"]]
    today = store._now().strftime("%Y-%m-%d")
    assert f"created {today}" in lines[0] and f"last login {today}" in lines[0]
    assert f"created {today}" in lines[1] and lines[1].endswith("last login never")


def test_passwd_changes_the_password_and_ends_sessions(db):
    with client_for(db) as client, client_for(db) as ben:
        login(client, "ana")
        login(ben, "ben")
        assert logged_in(client) and logged_in(ben)
        r = users(db, "passwd", "ana", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
        assert r.exit_code == 0, r.output
        assert "1 sessions ended" in r.output
        assert not logged_in(client)  # the old session cookie opens nothing
        assert logged_in(ben)  # another account's session is not touched
        assert "error" in login(client, "ana", PASSWORD).headers["location"]
        assert login(client, "ana", NEW_PASSWORD).headers["location"] == "/"
    r = users(db, "passwd", "ana", input="short\nshort\n")
    assert r.exit_code == 2 and "at least" in r.output.splitlines()[-1]
    with opened(db) as e:
        assert store.check_password(e, "ana", NEW_PASSWORD) is not None


def test_disable_blocks_login_and_ends_a_live_session_at_once(db):
    with opened(db) as e:
        photo = store.queue(e)[0]["id"]
    with client_for(db) as client:
        login(client, "ana")
        csrf = csrf_of(client.get("/").text)
        r = users(db, "disable", "ana")
        assert r.exit_code == 0 and "1 sessions ended" in r.output, r.output
        assert not logged_in(client)
        assert client.post(f"/photo/{photo}", data={"level": "normal", "csrf": csrf}).status_code == 401
        assert "error" in login(client, "ana").headers["location"]  # the right password does not open it
        with opened(db) as e:
            # a login that had checked the password before the account was disabled ends in a dead session
            token, _csrf = store.new_session(e, _user_id(db, "ana"))
            assert store.session_of(e, token) is None
            assert store.photo(e, photo)["decisions"] == []
        assert users(db, "enable", "ana").exit_code == 0
        assert login(client, "ana").headers["location"] == "/" and logged_in(client)


def test_remove_keeps_decisions_under_the_name_nobody_can_take(db, tmp_path):
    original = os.urandom(5000)  # a photo imported from this machine, so that export-labels writes it
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "p9.jpg").write_bytes(original)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.jsonl").write_bytes(jsonl([row(9, "seek-care", path="p9.jpg", sha256=hashlib.sha256(original).hexdigest())]))
    (tmp_path / "run" / "run.json").write_text(json.dumps({"settings": {"inputs": [str(tmp_path / "photos")]}}))
    with opened(db) as e:
        store.import_run(e, tmp_path / "run")
        photo = next(it["id"] for it in store.queue(e) if it["path"] == "p9.jpg")
    with client_for(db) as client:
        login(client, "ana")
        client.post(f"/photo/{photo}", data={"level": "monitor", "note": "ana saw it", "csrf": csrf_of(client.get("/").text)})
        r = users(db, "remove", "ana")
        assert r.exit_code == 0, r.output
        assert not logged_in(client)
        assert "error" in login(client, "ana").headers["location"]
    with client_for(db) as client:
        login(client, "ben")
        page = client.get(f"/photo/{photo}").text
    assert "ana (account removed)" in page and "Monitor: ana saw it" in page
    r = CliRunner().invoke(cli, ["export-labels", "--out", str(tmp_path / "exported"), "--db", db])
    assert r.exit_code == 0, r.output
    labels = list(csv.DictReader(io.StringIO((tmp_path / "exported" / "labels.csv").read_text())))
    assert [(x["label"], x["reviewer"]) for x in labels] == [("monitor", "ana")]
    # the name is not free again, in any case, and the tombstone cannot be revived
    for name in ("ana", "ANA"):
        r = users(db, "add", name, input=f"{PASSWORD}\n{PASSWORD}\n")
        assert r.exit_code == 2 and "was removed" in r.output.splitlines()[-1], r.output
    for action in ("passwd", "enable", "disable", "remove"):
        r = users(db, action, "ana", input=f"{PASSWORD}\n{PASSWORD}\n")
        assert r.exit_code == 2 and r.output.strip().splitlines() == ["triage: error: user 'ana' was removed"], (action, r.output)
    listed = users(db, "list").output.splitlines()
    assert [line.split()[:2] for line in listed] == [["ana", "removed"], ["ben", "enabled"]]


def test_an_unknown_name_is_one_line_and_exit_2(db):
    for action in ("passwd", "disable", "enable", "remove"):
        r = users(db, action, "nobody")  # passwd says so before asking for a password
        assert r.exit_code == 2 and r.output.strip().splitlines() == ["triage: error: no user 'nobody'"], (action, r.output)


def test_a_read_only_database_is_one_line_and_exit_2(server_url, tmp_path, monkeypatch):
    """The account commands refuse a database they cannot write, as `users add` does; `list`
    only reads it."""
    from test_hardening import _read_only_postgresql, _read_only_sqlite

    def commands(url, _run):
        return [["users", action, "ana", "--db", url] for action in ("passwd", "disable", "enable", "remove")] + [
            ["users", "list", "--db", url]
        ]

    if server_url.startswith("sqlite"):
        answers = _read_only_sqlite(tmp_path, commands)
    else:
        answers = _read_only_postgresql(server_url, tmp_path, monkeypatch, commands)
    for args, code, said in answers:
        if args[1] == "list":
            assert code == 0 and "Traceback" not in said, (args, code, said)
            continue
        last = said.strip().splitlines()[-1:]
        assert code == 2 and "Traceback" not in said and last and "read-only" in last[0], (args, code, said)


def test_a_database_from_before_the_account_states_gets_them(server_url, tmp_path):
    """A v3 database (users without disabled_at, removed_at, last_login_at) is migrated on open;
    its accounts keep working and can be disabled."""
    db = fresh_url(server_url, tmp_path)
    old = sa.create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
    with old.begin() as conn:
        store.schema_version.create(conn)
        conn.execute(store.schema_version.insert().values(version=3))
        for step in store.MIGRATIONS[:3]:
            step(conn)
        for column in ("disabled_at", "removed_at", "last_login_at"):  # the users table as v3 made it
            conn.execute(sa.text(f"ALTER TABLE users DROP COLUMN {column}"))
    with old.connect() as conn:
        assert "disabled_at" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
    old.dispose()
    with_users(db, "ana")
    with opened(db) as e, e.connect() as conn:
        assert conn.execute(sa.select(store.schema_version.c.version)).scalar_one() == len(store.MIGRATIONS)
    with client_for(db) as client:
        assert login(client, "ana").headers["location"] == "/"
        assert users(db, "disable", "ana").exit_code == 0
        assert not logged_in(client)
    assert users(db, "list").output.split()[:2] == ["ana", "disabled"]
