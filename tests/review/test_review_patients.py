"""Patient follow-up in the review app: imported photos keep their row's patient_id, role and
days; a photo's page lists the same patient's other photos in day order (thumbnail when stored,
day, level, current decision, a link to each); rows written before follow-up (no patient keys)
still import; malformed patient fields are refused whole with a 400; a database from before
(schema v4) gets the columns on open, filled from its stored rows. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from review_kit import server_url, client_for, csrf_of, fresh_url, login, opened, row, run_zip, sha_of, with_users

from triage.review import config, store

EVIL = """<script>alert("x")</script>'"""


def _patient(pid, role="follow-up", days=3, **more) -> dict:
    """The keys a row of patient follow-up carries (the course is the pipeline's, opaque here)."""
    course = {"summary": {"redness": "less"}, "compared_with": {"baseline": True, "earlier_days": [None, 2]}}
    return {"patient_id": pid, "role": role, "days_since_treatment": days, "course": course, **more}


def _course_rows() -> list[dict]:
    """Patient P-7: before treatment, days 2 and 5, undated; patient Q-1 on day 2; two photos
    written before follow-up (no patient keys) and one of the new format without a patient."""
    return [
        row(1, "normal", path="p7/before.jpg", **_patient("P-7", "baseline", None)),
        row(2, "monitor", path="p7/day5.jpg", **_patient("P-7", days=5)),
        row(3, "seek-care", path="p7/day2.jpg", **_patient("P-7", days=2)),
        row(4, "monitor", path="p7/later.jpg", **_patient("P-7", days=None)),
        row(5, "monitor", path="q1/day2.jpg", **_patient("Q-1", days=2)),
        row(6, "seek-care"),  # no patient keys at all
        row(7, "monitor", days_since_treatment=None),
        row(8, "monitor", patient_id=None, role=None, course=None),
    ]


class Course(HTMLParser):
    """The photo page's list of the patient's photos: per item its link, image src and texts."""

    def __init__(self):
        super().__init__()
        self.items: list[dict] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._in and self.items:
            self.items[-1]["text"] += " "  # <br> and the like part words
        if tag == "ul" and a.get("id") == "course":
            self._in = True
        elif self._in and tag == "li":
            self.items.append({"this": a.get("class") == "this", "href": None, "img": None, "text": ""})
        elif self._in and tag == "a" and self.items:
            self.items[-1]["href"] = a["href"]
        elif self._in and tag == "img" and self.items:
            self.items[-1]["img"] = a["src"]

    def handle_endtag(self, tag):
        if tag == "ul":
            self._in = False

    def handle_data(self, data):
        if self._in and self.items:
            self.items[-1]["text"] += data


def _course(page_text: str) -> list[dict]:
    c = Course()
    c.feed(page_text)
    return c.items


def _ids(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(store.photos.c.path, store.photos.c.id)).all())


def test_a_photo_page_lists_the_patients_photos_in_day_order_with_decisions(server_url, tmp_path):
    db = with_users(fresh_url(server_url, tmp_path), "ana")
    thumbs = {f"run/overlays/{sha_of(i)}.thumb.jpg": b"\xff\xd8thumb" for i in (1, 2)}  # before and day 5 have previews
    with opened(db) as e:
        assert store.import_zip(e, io.BytesIO(run_zip(_course_rows(), extra=thumbs)))[1] == 8
        ids = _ids(e)
        with e.connect() as conn:
            stored = {r.path: (r.patient_id, r.role, r.days) for r in conn.execute(sa.select(store.photos))}
            ana = conn.execute(sa.select(store.users.c.id)).scalar_one()
        store.decide(e, ids["p7/before.jpg"], ana, "monitor", "first look")
        store.decide(e, ids["p7/before.jpg"], ana, "normal")  # the current decision is the newest
        store.decide(e, ids["p7/day2.jpg"], ana, "seek-care")
    assert stored["p7/before.jpg"] == ("P-7", "baseline", None)
    assert stored["p7/day5.jpg"] == ("P-7", "follow-up", 5)
    assert stored["p7/later.jpg"] == ("P-7", "follow-up", None)
    assert stored["p006.jpg"] == (None, None, 3) and stored["p007.jpg"] == (None, None, None)
    with client_for(db) as client:
        login(client)
        course = _course(client.get(f"/photo/{ids['p7/day5.jpg']}").text)
        queue = client.get("/").text
        other = client.get(f"/photo/{ids['q1/day2.jpg']}").text
        alone = client.get(f"/photo/{ids['p006.jpg']}").text
    assert [(it["this"], it["href"]) for it in course] == [
        (False, f"/photo/{ids['p7/before.jpg']}"), (False, f"/photo/{ids['p7/day2.jpg']}"),
        (True, None), (False, f"/photo/{ids['p7/later.jpg']}"),
    ]  # fmt: skip
    assert [it["img"] for it in course] == [
        f"/image/{ids['p7/before.jpg']}/thumb",
        None,
        f"/image/{ids['p7/day5.jpg']}/thumb",
        None,
    ]
    texts = [re.sub(r"\s+", " ", it["text"]).strip() for it in course]
    assert texts == [
        "Before treatment Normal Reviewed: Normal (ana)", "Day 2 Seek care Reviewed: Seek care (ana)",
        "Day 5 this photo", "Day not given Monitor not reviewed",
    ]  # fmt: skip
    assert '<td class="pid">P-7</td>' in queue and '<td class="pid">Q-1</td>' in queue
    assert "No other photo of this patient has been imported." in other and _course(other)[0]["this"]
    assert 'id="course"' not in alone  # a photo without a patient has no course


def test_only_the_nearest_photos_of_a_long_course_are_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PATIENT_PHOTOS_EACH_SIDE", 2)
    db = with_users(f"sqlite:///{tmp_path / 'r.sqlite'}", "ana")
    rows = [row(i, "monitor", path=f"d{i:02d}.jpg", **_patient("P", days=i)) for i in range(10)]
    with opened(db) as e:
        store.import_zip(e, io.BytesIO(run_zip(rows)))
        ids = _ids(e)
        earlier, later, not_shown = store.patient_photos(e, store.photo(e, ids["d05.jpg"]))
    assert [p["days"] for p in earlier] == [3, 4] and [p["days"] for p in later] == [6, 7] and not_shown == 5


def test_rows_without_the_patient_keys_still_import(tmp_path):
    db = with_users(f"sqlite:///{tmp_path / 'r.sqlite'}", "ana")
    with opened(db) as e:
        assert store.import_zip(e, io.BytesIO(run_zip([row(1, "seek-care"), row(2, days_since_treatment=None)])))[1] == 2
        photos = [store.photo(e, it["id"]) for it in store.queue(e)]
    assert [(p["patient_id"], p["role"], p["days"]) for p in photos] == [(None, None, 3), (None, None, None)]
    assert all("patient_id" not in p["row"] for p in photos)  # the row is kept as it came


BAD_PATIENT_FIELDS = {
    "patient id is a number": _patient(17),
    "patient id is empty": _patient(""),
    "patient id too long": _patient("p" * (config.MAX_PATIENT_ID + 1)),
    "patient id with a line break": _patient("P-7\nP-8"),
    "patient id with a bidi override": _patient("P-7\u202e"),
    "patient id is a list": _patient(["P-7"]),
    "role unknown": _patient("P-7", role="before"),
    "role is a number": _patient("P-7", role=1),
    "role without a patient": _patient(None, role="baseline"),
    "course is a list": _patient("P-7", course=[]),
    "course is text": _patient("P-7", course="better"),
    "course without compared_with": _patient("P-7", course={"summary": {}}),
    "course summary is text": _patient("P-7", course={"summary": "x", "compared_with": {"baseline": True, "earlier_days": []}}),
    "compared_with baseline not a bool": _patient(
        "P-7", course={"summary": {}, "compared_with": {"baseline": 1, "earlier_days": []}}
    ),
    "earlier day is text": _patient("P-7", course={"summary": {}, "compared_with": {"baseline": False, "earlier_days": ["2"]}}),
    "earlier day negative": _patient("P-7", course={"summary": {}, "compared_with": {"baseline": False, "earlier_days": [-1]}}),
    "days beyond any column": _patient("P-7", days=2**40),
}


@pytest.mark.parametrize("case", sorted(BAD_PATIENT_FIELDS))
def test_malformed_patient_fields_are_a_400_and_add_nothing(case, tmp_path):
    db = with_users(f"sqlite:///{tmp_path / 'r.sqlite'}", "ana")
    rows = [row(1, **_patient("P-7", "baseline", None)), row(2, **BAD_PATIENT_FIELDS[case])]
    with client_for(db) as client:
        login(client)
        csrf = csrf_of(client.get("/upload").text)
        r = client.post("/upload", files={"archive": ("run.zip", run_zip(rows))}, data={"csrf": csrf}, follow_redirects=False)
        assert r.status_code == 400, (case, r.status_code, r.text)
        assert "line 2" in r.text and "\n" not in r.text.strip(), r.text
    with opened(db) as e:
        assert store.queue(e) == []


def test_an_error_row_with_a_malformed_patient_is_refused_too(tmp_path):
    failed = {**row(2), "status": "error", "error": "not an image", "label": None, "probabilities": None}
    with opened(f"sqlite:///{tmp_path / 'r.sqlite'}") as e:
        with pytest.raises(store.StoreError, match="line 2: role"):
            store.import_zip(e, io.BytesIO(run_zip([row(1), {**failed, "patient_id": "P", "role": "later"}])))
        store.import_zip(e, io.BytesIO(run_zip([row(1), {**failed, **_patient("P", days=None)}])))  # a sane one passes


def test_a_patient_id_with_script_and_quotes_is_text(tmp_path):
    db = with_users(f"sqlite:///{tmp_path / 'r.sqlite'}", "ana")
    with opened(db) as e:
        store.import_zip(e, io.BytesIO(run_zip([row(1, **_patient(EVIL, "baseline", None)), row(2, **_patient(EVIL))])))
        ids = _ids(e)
    with client_for(db) as client:
        login(client)
        pages = [client.get("/").text, client.get(f"/photo/{ids['p002.jpg']}").text]
    for text in pages:
        assert "<script>alert" not in text and 'alert("x")' not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39;" in text
    assert _course(pages[1])[0]["href"] == f"/photo/{ids['p001.jpg']}"


def test_a_database_from_before_patients_gets_them_from_its_rows(server_url, tmp_path):
    """A v4 database (photos without patient_id, role, days) is migrated on open: the columns and
    the index are added and filled from the stored rows, which an earlier version imported with
    the keys as they came (a value today's check refuses stays empty)."""
    db = fresh_url(server_url, tmp_path)
    old = sa.create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
    stored = [
        row(1, **_patient("P-7", "baseline", None)), row(2, **_patient("P-7", days=4)),
        row(3), row(4, **_patient("x" * (config.MAX_PATIENT_ID + 1), days=2)),
    ]  # fmt: skip
    with old.begin() as conn:
        store.schema_version.create(conn)
        conn.execute(store.schema_version.insert().values(version=4))
        for step in store.MIGRATIONS[:4]:
            step(conn)
        conn.execute(sa.text("DROP INDEX ix_photos_patient_id"))  # the photos table as v4 made it
        for column in ("patient_id", "role", "days"):
            conn.execute(sa.text(f"ALTER TABLE photos DROP COLUMN {column}"))
        run = conn.execute(
            sa.text("INSERT INTO runs (digest, folder, imported_at) VALUES ('d', 'f', :t) RETURNING id"), {"t": store._now()}
        ).scalar_one()
        for r in stored:
            conn.execute(sa.text("INSERT INTO photos (run_id, path, sha256, label, p_level, row, in_queue) VALUES (:run, :path, :sha, :label, 0.8, :row, :q)"),
                         {"run": run, "path": r["path"], "sha": r["sha256"], "label": r["label"], "row": json.dumps(r), "q": True})  # fmt: skip
    with old.connect() as conn:
        assert "patient_id" not in {c["name"] for c in sa.inspect(conn).get_columns("photos")}
    old.dispose()
    with opened(db) as e:
        with e.connect() as conn:
            assert conn.execute(sa.select(store.schema_version.c.version)).scalar_one() == len(store.MIGRATIONS)
            assert "ix_photos_patient_id" in {i["name"] for i in sa.inspect(conn).get_indexes("photos")}
            got = {r.path: (r.patient_id, r.role, r.days) for r in conn.execute(sa.select(store.photos))}
        ids = _ids(e)
        earlier, later, _ = store.patient_photos(e, store.photo(e, ids["p002.jpg"]))
    assert got == {
        "p001.jpg": ("P-7", "baseline", None), "p002.jpg": ("P-7", "follow-up", 4),
        "p003.jpg": (None, None, 3), "p004.jpg": (None, None, 2),
    }  # fmt: skip
    assert [p["path"] for p in earlier] == ["p001.jpg"] and later == []
    with opened(db) as e, e.connect() as conn:  # reopening runs nothing twice
        assert conn.execute(sa.select(store.schema_version.c.version)).scalar_one() == len(store.MIGRATIONS)
