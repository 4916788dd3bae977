"""The review app's pages come from Jinja2 templates shipped in the package, with autoescaping:
every page renders, every template named exists (and every template is used), and a user name,
a note, a file name or a summary holding script and quotes is text, never markup."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

from review_kit import PASSWORD, client_for, csrf_of, login, opened, row, run_zip, with_users

import triage.review.app as web
import triage.run.report as report
from triage.review import store

EVIL = """<script>alert("x")</script>'"""


class Page(HTMLParser):
    """Every start tag with its attributes, and all text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)


def _parse(text: str) -> Page:
    p = Page()
    p.feed(text)
    return p


def test_every_template_named_exists_and_every_template_is_used():
    for module in (web, report):
        folder = Path(module.__file__).parent / "templates"
        files = {p.name for p in folder.glob("*.html")}
        source = Path(module.__file__).read_text()
        named = set(re.findall(r'"(\w+\.html)"', source))
        for f in files:  # templates name others by extends / include
            named |= set(re.findall(r'{%-?\s*(?:extends|include|import)\s+"([^"]+)"', (folder / f).read_text()))
        assert named and named == files, (module.__name__, named ^ files)
        assert set(module._TEMPLATES.list_templates()) == files  # what the package loader finds


def test_every_page_renders(tmp_path):
    url = with_users(f"sqlite:///{tmp_path / 'review.sqlite'}", "ana")
    with opened(url) as e:
        store.import_zip(e, io.BytesIO(run_zip([row(1, "seek-care"), row(2, quality={"ok": False, "issues": ["too_dark"]})])))
        ids = [it["id"] for it in store.queue(e)]
    with client_for(url) as client:
        pages = {"/login": client.get("/login"), "/login?error=1": client.get("/login?error=1")}
        login(client)
        for path in ("/", *(f"/photo/{i}" for i in ids), "/upload", "/upload?done=again"):
            pages[path] = client.get(path)
        csrf = csrf_of(pages["/"].text)
        client.post(f"/photo/{ids[0]}", data={"level": "monitor", "note": "looked", "csrf": csrf})
        pages["decided"] = client.get(f"/photo/{ids[0]}")
    for path, r in pages.items():
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert r.text.startswith("<!doctype html>") and "not a diagnosis" in r.text, path
    assert "Wrong name or password." in pages["/login?error=1"].text
    assert "Log out ana" in pages["/"].text and "Log out" not in pages["/login"].text
    assert "1 of 2 reviewed" in pages["decided"].text and "looked" in pages["decided"].text
    assert "nothing added" in pages["/upload?done=again"].text


def test_names_notes_and_paths_with_script_and_quotes_are_text(tmp_path):
    name = f"ana{EVIL}"
    url = with_users(f"sqlite:///{tmp_path / 'review.sqlite'}", name)
    summary = {"summary": EVIL, "reasons": [], "policy": None}
    with opened(url) as e:
        store.import_zip(e, io.BytesIO(run_zip([row(1, "seek-care", path=f"{EVIL}.jpg", explanation=summary)])))
        photo = store.queue(e)[0]["id"]
    with client_for(url) as client:
        assert login(client, name, PASSWORD).headers["location"] == "/"
        queue = client.get("/").text
        client.post(f"/photo/{photo}", data={"level": "normal", "note": EVIL, "csrf": csrf_of(queue)})
        pages = [queue, client.get(f"/photo/{photo}").text, client.get("/upload").text]
    for text in pages:
        assert "<script>alert" not in text and 'alert("x")' not in text
        page = _parse(text)
        assert [a for tag, a in page.tags if tag == "script"] == [{"src": "/static/review.js", "defer": None}]
        assert f"Log out {name}" in page.texts
    queue_page, photo_page = _parse(pages[0]), _parse(pages[1])
    assert f"{EVIL}.jpg" in queue_page.texts
    assert f"{EVIL}.jpg" in photo_page.texts and EVIL in photo_page.texts  # the title and h1; the summary
    assert any(t.startswith(name) and t.endswith(f"Normal: {EVIL}") for t in photo_page.texts)  # the decision and its note
