"""Importing runs into the review database: every row checked against the contract before
anything is written, zips read within caps, uploaded runs bound to no file on this machine, and
a photo is one photo by its sha256 (a later run updates it and keeps its decisions)."""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc

import pytest
import sqlalchemy as sa
from review_kit import (
    server_url,
    client_for, csrf_of, fresh_url, jsonl, login, opened, patch_central, row, run_zip, sha_of, with_users, zeros_zip,
)  # fmt: skip
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.review import config, store


@pytest.fixture
def sqlite_url(tmp_path):
    return with_users(f"sqlite:///{tmp_path / 'review.sqlite'}", "ana")


def _upload(client, data: bytes):
    csrf = csrf_of(client.get("/upload").text)
    return client.post("/upload", files={"archive": ("run.zip", data)}, data={"csrf": csrf}, follow_redirects=False)


def _photo_count(db_url) -> int:
    with opened(db_url) as e, e.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(store.photos)).scalar_one()


def _without(r: dict, key: str) -> dict:
    return {k: v for k, v in r.items() if k != key}


BAD_RUNS = {
    "quality is a list": ([row(1, quality=[1, 2])], b"{}"),
    "issues are numbers": ([row(1, quality={"ok": False, "issues": [1, 2]})], b"{}"),
    "explanation is a string": ([row(1, explanation="fine")], b"{}"),
    "summary is a number": ([row(1, explanation={"summary": 5, "reasons": []})], b"{}"),
    "probabilities missing": ([_without(row(1), "probabilities")], b"{}"),
    "probability is NaN": ([row(1, probabilities={"normal": float("nan"), "monitor": 0.9, "seek-care": 0.1})], b"{}"),
    "probability out of range": ([row(1, probabilities={"normal": -1, "monitor": 1.5, "seek-care": 0.5})], b"{}"),
    "label unknown": ([row(1), row(2, label="fine")], b"{}"),
    "feature not a number": ([row(1, features={"ita_deg": "high", "skin_fraction": 0.5})], b"{}"),
    "day is text": ([row(1, days_since_treatment="3")], b"{}"),
    "duplicate path": ([row(1), row(2, path=row(1)["path"])], b"{}"),
    "path with NUL": ([row(1, path="a\x00b.jpg")], b"{}"),
    "path with a lone surrogate": ([row(1, path="\ud800.jpg")], b"{}"),
    "a line that is not JSON": ([row(1), "{torn"], b"{}"),
    "a row that is a list": ([row(1), "[1, 2]"], b"{}"),
    "nested too deep": (["[" * 100_000 + "]" * 100_000], b"{}"),
    "run.json is a list": ([row(1)], b"[]"),
    "run.json is not JSON": ([row(1)], b"{run"),
    "good rows then a bad one": ([row(1), row(2), row(3, quality=None)], b"{}"),
}


@pytest.mark.parametrize("case", sorted(BAD_RUNS))
def test_a_malformed_upload_is_a_400_with_one_line_and_adds_nothing(case, sqlite_url):
    rows, run_json = BAD_RUNS[case]
    with client_for(sqlite_url) as client:
        login(client)
        r = _upload(client, run_zip(rows, run_json))
        assert r.status_code == 400, (case, r.status_code, r.text)
        assert r.text.strip() and "\n" not in r.text.strip(), r.text
        assert client.get("/").status_code == 200
    assert _photo_count(sqlite_url) == 0


def test_an_encrypted_member_is_a_400(sqlite_url):
    data = patch_central(run_zip([row(1)]), "run/results.jsonl", flags=0x1)
    with client_for(sqlite_url) as client:
        login(client)
        r = _upload(client, data)
        assert r.status_code == 400 and "encrypted" in r.text


@pytest.mark.parametrize("sha", ["<script>alert(1)</script>".ljust(64, "0"), "A" * 64, "a" * 63, "../../etc/passwd".ljust(64, "a"), None])
def test_sha256_must_be_64_lowercase_hex(sha, sqlite_url):
    with client_for(sqlite_url) as client:
        login(client)
        r = _upload(client, run_zip([row(1, sha256=sha)]))
        assert r.status_code == 400 and "sha256" in r.text
        assert "<script>" not in client.get("/").text
    assert _photo_count(sqlite_url) == 0


def test_triage_import_of_a_malformed_run_exits_2_with_one_line(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.jsonl").write_bytes(jsonl([row(1), row(2, explanation="fine")]))
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    r = CliRunner().invoke(cli, ["import", str(folder), "--db", db])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "line 2" in r.output, r.output
    assert _photo_count(db) == 0


# --- zips read within caps ---------------------------------------------------------------------
def _peak_mb(fn, *args) -> float:
    tracemalloc.start()
    try:
        fn(*args)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 2**20


def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path):
    big = (config.MAX_RESULTS_MB + 28) << 20  # inflates past the cap; ~130 KB compressed
    honest = zeros_zip("run/results.jsonl", big)
    lying = patch_central(honest, "run/results.jsonl", file_size=1000)  # headers can lie
    with opened(f"sqlite:///{tmp_path / 'b.sqlite'}") as e:
        def attempt(data):
            with pytest.raises(store.StoreError):
                store.import_zip(e, io.BytesIO(data))

        for data in (honest, lying):
            assert _peak_mb(attempt, data) < 32


def test_the_total_unpacked_size_is_capped(tmp_path, monkeypatch):
    previews = {f"run/overlays/{sha_of(i)}.thumb.jpg": bytes(600 << 10) for i in range(3)}
    data = run_zip([row(i) for i in range(3)], extra=previews)
    monkeypatch.setattr(config, "MAX_UNZIPPED_MB", 1.5)  # the three previews alone are 1.8 MB
    with opened(f"sqlite:///{tmp_path / 't.sqlite'}") as e:
        with pytest.raises(store.StoreError, match="MB"):
            store.import_zip(e, io.BytesIO(data))


def test_a_zip_with_a_huge_directory_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    data = run_zip([row(1)], extra={f"junk/{i:06d}": b"" for i in range(2000)})
    monkeypatch.setattr(config, "MAX_ZIP_DIRECTORY_MB", 0.1)  # 2000 entries: ~120 KB of directory
    with opened(f"sqlite:///{tmp_path / 'd.sqlite'}") as e:
        with pytest.raises(store.StoreError, match="directory"):
            store.import_zip(e, io.BytesIO(data))


def test_a_zip_bomb_upload_is_a_400(sqlite_url):
    with client_for(sqlite_url) as client:
        login(client)
        r = _upload(client, zeros_zip("run/results.jsonl", (config.MAX_RESULTS_MB + 28) << 20))
        assert r.status_code == 400 and "MB" in r.text


# --- uploaded runs have no files on this machine --------------------------------------------
def test_an_uploaded_run_json_cannot_bind_rows_to_server_files(tmp_path):
    secret = tmp_path / "server" / "passwd"
    secret.parent.mkdir()
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    run_json = json.dumps({"settings": {"inputs": [str(secret), str(secret.parent)]}}).encode()
    db = with_users(f"sqlite:///{tmp_path / 'w.sqlite'}", "ana")
    with opened(db) as e:
        store.import_zip(e, io.BytesIO(run_zip([row(1, path="passwd", sha256=sha)], run_json)))
        photo = store.queue(e)[0]
        assert store.photo(e, photo["id"])["source"] is None
        with e.connect() as conn:
            ana = conn.execute(sa.select(store.users.c.id)).scalar_one()
        store.decide(e, photo["id"], ana, "normal")
        written, skipped = store.export_labels(e, tmp_path / "exported")
    assert (written, skipped) == (0, 1)
    assert not list((tmp_path / "exported" / "images").iterdir())


# --- one photo, one row ----------------------------------------------------------------------
def test_a_second_run_of_the_same_photos_updates_them_and_keeps_decisions(server_url, tmp_path):
    db = with_users(fresh_url(server_url, tmp_path), "ana")
    first = [row(i, "seek-care" if i % 2 else "monitor") for i in range(6)]
    again = [row(i, "monitor", path=f"again/p{i:03d}.jpg") for i in range(6)]
    with opened(db) as e:
        assert store.import_zip(e, io.BytesIO(run_zip(first)))[1] == 6
        q = store.queue(e)
        ids = {store.photo(e, it["id"])["sha256"]: it["id"] for it in q}
        with e.connect() as conn:
            ana = conn.execute(sa.select(store.users.c.id)).scalar_one()
        store.decide(e, ids[sha_of(1)], ana, "seek-care", "seen")
        thumb = {f"run/overlays/{sha_of(1)}.thumb.jpg": b"new thumb"}
        imported = store.import_zip(e, io.BytesIO(run_zip(again, extra=thumb)))
        assert imported[1] == 0 and imported.updated == 6
        q = store.queue(e)
        assert len(q) == 6 and {it["id"] for it in q} == set(ids.values())
        p = store.photo(e, ids[sha_of(1)])
        assert (p["label"], p["path"], p["row"]["label"], p["thumb"]) == ("monitor", "again/p001.jpg", "monitor", b"new thumb")
        assert [d["note"] for d in p["decisions"]] == ["seen"]


def test_the_same_photo_twice_in_one_run_is_one_photo(sqlite_url):
    with opened(sqlite_url) as e:
        _run_id, added = store.import_zip(e, io.BytesIO(run_zip([row(1), row(1, path="copy/p001.jpg")])))
        assert added == 1 and len(store.queue(e)) == 1


def test_photos_imported_twice_by_an_older_version_are_merged_on_open(server_url, tmp_path):
    """A v2 database holding the same photo from two runs: one photo after migrating, with the
    decisions of both rows, newest result kept."""
    db = fresh_url(server_url, tmp_path)
    old = sa.create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
    with old.begin() as conn:
        store.schema_version.create(conn)
        conn.execute(store.schema_version.insert().values(version=2))
        store.MIGRATIONS[0](conn)
        store.MIGRATIONS[1](conn)
        now = store._now()
        user = conn.execute(store.users.insert().values(name="ana", password_hash="x", created_at=now)).inserted_primary_key[0]
        photo_ids = []
        for run in (1, 2):
            conn.execute(store.runs.insert().values(id=run, digest=str(run), folder="f", imported_at=now))
            for i in range(3):
                r = row(i, ("monitor", "seek-care")[run - 1], path=f"r{run}/p{i}.jpg")
                photo_ids.append(conn.execute(store.photos.insert().values(
                    run_id=run, path=r["path"], sha256=r["sha256"], label=r["label"], p_level=0.8, row=json.dumps(r),
                    in_queue=True)).inserted_primary_key[0])  # fmt: skip
        for pid in photo_ids:
            conn.execute(store.decisions.insert().values(photo_id=pid, user_id=user, level="normal", note=str(pid), created_at=now))
    old.dispose()
    with opened(db) as e:
        q = store.queue(e)
        assert len(q) == 3 and {it["label"] for it in q} == {"seek-care"}
        notes = sorted(d["note"] for it in q for d in store.photo(e, it["id"])["decisions"])
        assert notes == sorted(str(pid) for pid in photo_ids)
        with pytest.raises(sa.exc.IntegrityError):
            with e.begin() as conn:
                r = row(0)
                conn.execute(store.photos.insert().values(run_id=1, path="x", sha256=r["sha256"], label="monitor", p_level=0.5,
                                                          row="{}", in_queue=True))  # fmt: skip
