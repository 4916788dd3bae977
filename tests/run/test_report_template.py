"""report.html comes from a Jinja2 template with autoescaping: text from rows, file names and
run.json is text in the page, never markup, in element content and in attributes alike."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from pathlib import Path

from triage.run import report

EVIL = """<script>alert("x")</script>'"""  # a file name, a summary, a reason, an input


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside each element by tag and class."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[tuple[str, str], list[str]] = {}
        self._open: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self._open = (tag, a.get("class") or "")

    def handle_endtag(self, tag):
        self._open = None

    def handle_data(self, data):
        if self._open:
            self.text.setdefault(self._open, []).append(data)


def _row(i: int, label: str, **changes) -> dict:
    p = {"normal": 0.1, "monitor": 0.1, "seek-care": 0.1}
    p[label] = 0.8
    r = {
        "schema": 1, "path": f"p{i}.jpg", "sha256": hashlib.sha256(str(i).encode()).hexdigest(), "status": "ok",
        "error": None, "label": label, "probabilities": p, "quality": {"ok": True, "issues": []},
        "days_since_treatment": 3, "explanation": {"summary": f"photo {i}", "reasons": []},
        "image": {"width": 640, "height": 480, "format": "JPEG"},
    }  # fmt: skip
    r.update(changes)
    return r


def _render(tmp_path: Path) -> str:
    rows = [
        _row(1, "seek-care", path=f"clinic/{EVIL}.jpg", explanation={"summary": EVIL, "reasons": []}),
        _row(2, "normal"),
        {**_row(3, "monitor", path=f"{EVIL}.png"), "status": "error", "error": EVIL, "label": None, "probabilities": None},
    ]
    return report.render(rows, {"settings": {"inputs": [EVIL]}, "started": EVIL}, tmp_path)


def test_text_with_script_and_quotes_is_escaped(tmp_path):
    html_text = _render(tmp_path)
    page = Page()
    page.feed(html_text)
    assert "<script>alert" not in html_text and 'alert("x")' not in html_text
    scripts = [a for tag, a in page.tags if tag == "script"]
    assert scripts == [{}]  # only the report's own inline script
    card = next(a for tag, a in page.tags if tag == "article" and a.get("data-level") == "seek-care")
    assert card["data-path"] == f"clinic/{EVIL}.jpg".lower()  # the quotes did not end the attribute
    assert page.text[("p", "path")] == [f"clinic/{EVIL}.jpg", "p2.jpg"]
    assert page.text[("p", "summary")] == [EVIL, "photo 2"]
    assert page.text[("td", "path")] == [f"{EVIL}.png"]
    assert [a["data-path"] for tag, a in page.tags if tag == "tr" and a.get("class") == "error"] == [f"{EVIL}.png".lower()]
    assert EVIL in "".join(page.text[("dd", "")])  # run.json's inputs and times


def test_the_report_is_one_page_with_its_policy_style_and_script(tmp_path):
    """Rendered from the package's template: the strict content security policy, the inline
    style and the filter script are in the one file, nothing is loaded from elsewhere."""
    html_text = _render(tmp_path)
    assert report._TEMPLATES.autoescape is True
    assert (Path(report.__file__).parent / "templates" / "report.html").is_file()
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src \'self\' file:; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
    ) in html_text
    assert "<style>" in html_text and "document.getElementById('search')" in html_text
    page = Page()
    page.feed(html_text)
    assert not [a for tag, a in page.tags if tag in ("link", "script") and ("href" in a or "src" in a)]
