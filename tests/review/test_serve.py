"""The review app and its database: import, accounts, sessions, CSRF, images by id only,
concurrent decisions, export of labels; on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from pathlib import Path

import pytest
from conftest import copy_photos
from review_kit import PASSWORD, client_for, csrf_of, login, opened, server_url
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.review import store
from triage.run.batch import run


@pytest.fixture(scope="module")
def run_dir(small_dataset, tmp_path_factory):
    """A `triage run` output (with previews) over 24 generated photos of every level."""
    src = tmp_path_factory.mktemp("review-photos")
    copy_photos(small_dataset, src, 24)
    out = tmp_path_factory.mktemp("review-run")
    run([src], out, workers=2, progress=False)
    return out


@pytest.fixture(scope="module")
def engine(server_url, run_dir):
    e = store.open_store(server_url)
    store.add_user(e, "ana", PASSWORD)
    store.add_user(e, "ben", PASSWORD)
    store.import_run(e, run_dir)
    yield e
    e.dispose()


def test_import_twice_adds_nothing_and_queue_is_urgent_first(engine, run_dir, server_url):
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    with opened(server_url) as e:
        assert store.import_run(e, run_dir)[1] == 0
    q = store.queue(engine)
    flagged = {r["path"] for r in rows if r["label"] in ("seek-care", "monitor")}
    assert flagged <= {it["path"] for it in q}
    assert len(q) == len({it["path"] for it in q})  # one entry per photo: nothing imported twice
    order = [("seek-care", "monitor", "normal").index(it["label"]) for it in q]
    assert order == sorted(order)
    assert {it["path"] for it in q if it["label"] == "normal"} <= {r["path"] for r in rows if r["label"] == "normal"}


def test_login_sessions_csrf_and_headers(engine, server_url):
    with client_for(server_url) as client:
        _login_sessions_csrf_and_headers(client)


def _login_sessions_csrf_and_headers(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
    # login without the form's CSRF token, and with a wrong password
    assert client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": "x"}).status_code == 403
    r = login(client, password="wrong password!")
    assert r.status_code == 303 and "error" in r.headers["location"]
    r = login(client)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = client.get("/")
    assert page.status_code == 200 and re.search(r"\d+ of \d+ reviewed", page.text)
    first = int(re.search(r'href="/photo/(\d+)"', page.text).group(1))
    # a decision needs the session's CSRF token
    assert client.post(f"/photo/{first}", data={"level": "monitor", "csrf": "forged"}).status_code == 403
    r = client.post(f"/photo/{first}", data={"level": "monitor", "csrf": csrf_of(page.text), "note": "<b>ok</b>"}, follow_redirects=False)
    assert r.status_code == 303
    shown = client.get(f"/photo/{first}").text
    assert "&lt;b&gt;ok&lt;/b&gt;" in shown and "<b>ok</b>" not in shown
    assert client.post(f"/photo/{first}", data={"level": "bogus", "csrf": csrf_of(page.text)}).status_code == 400
    # log out: the old cookie opens nothing any more
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_images_only_by_id_of_imported_photos(engine, server_url, run_dir):
    with client_for(server_url) as client:
        _images_only_by_id(client, engine, run_dir)


def _images_only_by_id(client, engine, run_dir):
    item = store.queue(engine)[0]
    assert client.get(f"/image/{item['id']}/thumb").status_code == 401  # not logged in
    login(client)
    r = client.get(f"/image/{item['id']}/thumb")
    p = store.photo(engine, item["id"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == (run_dir / "overlays" / f"{p['sha256']}.thumb.jpg").read_bytes()
    for bad in ("/image/1/../../../../etc/passwd", "/image/..%2F..%2Fetc%2Fpasswd/thumb", f"/image/{item['id']}/row",
                f"/image/{item['id']}/..%2Fthumb", "/image/999999/thumb", "/photo/999999"):  # fmt: skip
        r = client.get(bad)
        assert r.status_code in (404, 422), bad
        assert b"root:" not in r.content


def test_concurrent_decisions_on_one_photo_are_all_kept(engine):
    item = store.queue(engine)[-1]
    ids = {}
    with engine.connect() as conn:
        for name in ("ana", "ben"):
            ids[name] = conn.execute(store.users.select().where(store.users.c.name == name)).first().id
    errors = []

    def review(name, k):
        try:
            store.decide(engine, item["id"], ids[name], ("normal", "monitor", "seek-care")[k % 3], f"{name} {k}")
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(e)

    threads = [threading.Thread(target=review, args=(n, k)) for k in range(12) for n in ("ana", "ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    notes = [d["note"] for d in store.photo(engine, item["id"])["decisions"]]
    assert sorted(notes) == sorted(f"{n} {k}" for k in range(12) for n in ("ana", "ben"))


def test_export_labels_is_a_dataset_of_the_reviewed_photos(engine, tmp_path):
    from triage.learn.dataset import read_labels

    q = store.queue(engine)
    with engine.connect() as conn:
        ana = conn.execute(store.users.select().where(store.users.c.name == "ana")).first().id
    chosen = q[:3]
    for it, level in zip(chosen, ("normal", "seek-care", "monitor")):
        store.decide(engine, it["id"], ana, "monitor")
        store.decide(engine, it["id"], ana, level)  # the newest decision is the label
    out = tmp_path / "exported"
    written, skipped = store.export_labels(engine, out)
    items = {i.file: i for i in read_labels(out)}
    assert skipped == 0 and written == len(items) >= 3
    for it, level in zip(chosen, ("normal", "seek-care", "monitor")):
        p = store.photo(engine, it["id"])
        exported = next(f for f in items if f.startswith(f"images/{p['sha256'][:16]}"))
        assert items[exported].label == level
        assert hashlib.sha256((out / exported).read_bytes()).hexdigest() == p["sha256"]


def test_users_add_prompts_for_the_password(tmp_path):
    db = f"sqlite:///{tmp_path / 'u.sqlite'}"
    runner = CliRunner()
    r = runner.invoke(cli, ["users", "add", "cleo", "--db", db], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    with opened(db) as e:
        assert store.check_password(e, "cleo", PASSWORD) is not None
        assert store.check_password(e, "cleo", "not the password") is None
    r = runner.invoke(cli, ["users", "add", "dan", "--db", db], input="short\nshort\n")
    assert r.exit_code == 2 and "at least" in r.output
    r = runner.invoke(cli, ["users", "add", "cleo", "--db", db], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 2 and "exists" in r.output


def test_upload_a_zipped_run(server_url, run_dir, engine, tmp_path):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(run_dir.rglob("*")):
            if f.is_file() and f.name != "report.html":
                z.write(f, "myrun/" + f.relative_to(run_dir).as_posix())
        z.writestr("../../escape.txt", "a member that points outside")
    data = buf.getvalue()
    with client_for(server_url) as client:
        assert client.post("/upload", files={"archive": ("r.zip", data)}, data={"csrf": "x"}).status_code == 401
        login(client)
        page = client.get("/upload")
        csrf = csrf_of(page.text)
        assert client.post("/upload", files={"archive": ("r.zip", data)}, data={"csrf": "forged"}).status_code == 403
        assert client.post("/upload", files={"archive": ("r.zip", b"not a zip")}, data={"csrf": csrf}).status_code == 400
        # the same run as `triage import` loaded: nothing added, and nothing written outside
        r = client.post("/upload", files={"archive": ("r.zip", data)}, data={"csrf": csrf})
        assert r.status_code == 200 and "nothing added" in r.text
    assert not (run_dir.parent / "escape.txt").exists() and not Path("escape.txt").exists()
    # into an empty database the upload adds every triaged photo, with its previews
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    with opened(fresh) as e:
        run_id, added = store.import_zip(e, io.BytesIO(data))
        rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
        assert added == sum(r["status"] == "ok" for r in rows)
        some = store.queue(e)[0]
        p = store.photo(e, some["id"])
        assert p["thumb"] == (run_dir / "overlays" / f"{p['sha256']}.thumb.jpg").read_bytes()


def test_failed_logins_are_throttled(tmp_path, monkeypatch):
    from triage.review import config

    db = f"sqlite:///{tmp_path / 't.sqlite'}"
    with opened(db) as e:
        store.add_user(e, "ana", PASSWORD)
    with client_for(db) as client:
        for _ in range(config.LOGIN_MAX_FAILURES):
            assert "error" in login(client, password="not it at all").headers["location"]
        r = login(client)  # even the right password waits for the window to pass
        assert r.status_code == 429
        monkeypatch.setattr(config, "LOGIN_WINDOW_MINUTES", 0)  # the window has passed
        assert login(client).headers["location"] == "/"


def test_an_older_database_is_migrated_in_place(tmp_path):
    """A database made by the first schema version gets the later steps, data kept."""
    import sqlalchemy as sa

    db = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = sa.create_engine(db)
    with old.begin() as conn:
        store.schema_version.create(conn)
        conn.execute(store.schema_version.insert().values(version=1))
        store.MIGRATIONS[0](conn)
    old.dispose()
    with opened(db) as e:
        store.add_user(e, "ana", PASSWORD)
    with opened(db) as e:  # reopening runs nothing twice
        with e.connect() as conn:
            assert conn.execute(sa.select(store.schema_version.c.version)).scalar_one() == len(store.MIGRATIONS)
            assert sa.inspect(conn).has_table("login_failures")
        assert store.check_password(e, "ana", PASSWORD) is not None


def test_oversized_uploads_are_refused_before_reading(server_url, engine, monkeypatch):
    from triage.review import config

    monkeypatch.setattr(config, "MAX_UPLOAD_MB", 0.001)  # ~1 KB
    with client_for(server_url) as client:
        login(client)
        csrf = csrf_of(client.get("/upload").text)
        r = client.post("/upload", files={"archive": ("r.zip", b"x" * 5000)}, data={"csrf": csrf})
        assert r.status_code == 413
