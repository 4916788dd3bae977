"""report.html with patient follow-up: a patient's photos are one block in day order (before
treatment first, undated last), filed under the patient's most urgent photo, with a small
redness-trend plot embedded as a PNG data: URI; ids and paths stay text; rows without the
patient keys (written before follow-up) are single cards as before."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from html.parser import HTMLParser

import numpy as np
from PIL import Image

from triage.run import report, trend

EVIL = """<script>alert("x")</script>'"""
CSP_PREFIX = '<meta http-equiv="Content-Security-Policy" content="'


def _row(i: int, label: str, p: float = 0.8, *, days=3, redness=0.1, **keys) -> dict:
    """A triaged row as `triage run` writes it (schema 1), with the patient keys given in `keys`
    (none given: a row from before patient follow-up)."""
    rest = (1 - p) / 2
    probs = {lvl: (p if lvl == label else rest) for lvl in ("normal", "monitor", "seek-care")}
    r = {
        "schema": 1, "path": f"p{i:02d}.jpg", "sha256": hashlib.sha256(str(i).encode()).hexdigest(), "status": "ok",
        "error": None, "label": label, "probabilities": probs, "quality": {"ok": True, "issues": []},
        "days_since_treatment": days, "features": {"ita_deg": 30.0, "skin_fraction": 0.6, "redness_area_fraction": redness},
        "explanation": {"summary": f"photo {i}", "reasons": []},
        "image": {"width": 640, "height": 480, "format": "JPEG"},
    }  # fmt: skip
    r.update(keys)
    return r


def _patient(pid: str, role: str | None = "follow-up", course=None) -> dict:
    return {"patient_id": pid, "role": role, "course": course}


NO_PATIENT = {"patient_id": None, "role": None, "course": None}


class Page(HTMLParser):
    """Sections and their items in document order: single cards (level, path) and patient
    blocks (level, id, the strip's day labels, the photo paths in their details, data-path,
    data-count); every img's attributes."""

    def __init__(self):
        super().__init__()
        self.sections: list[tuple[str, list[dict]]] = []
        self.imgs: list[dict] = []
        self._field: str | None = None
        self._item: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "img":
            self.imgs.append(a)
        if tag == "section" and "level" in cls:
            self.sections.append((a["data-level"], []))
        elif tag == "article" and "item" in cls:
            self._item = {"kind": "patient" if "patient" in cls else "card", "level": a["data-level"],
                          "search": a["data-path"], "count": int(a["data-count"]), "when": [], "paths": [], "id": None}  # fmt: skip
            self.sections[-1][1].append(self._item)
        elif tag == "p" and cls == ["path"]:
            self._field = "paths"
        elif tag == "p" and cls == ["when"]:
            self._field = "when"
        elif tag == "span" and cls == ["pid"]:
            self._field = "id"

    def handle_data(self, data):
        if self._field and self._item is not None:
            if self._field == "id":
                self._item["id"] = data
            else:
                self._item[self._field].append(data)
        self._field = None


def _parse(html_text: str) -> Page:
    page = Page()
    page.feed(html_text)
    return page


def _csp(html_text: str) -> str:
    start = html_text.index(CSP_PREFIX) + len(CSP_PREFIX)
    return html_text[start : html_text.index('"', start)]


def _rows() -> list[dict]:
    """Three patients and four photos without one, old rows (no patient keys) among them."""
    a, b, c = _patient("A-1"), _patient("B-2"), _patient("C-3")
    return [
        _row(1, "seek-care", 0.8, **NO_PATIENT),
        # A: its day-5 photo (seek-care, 0.9) is the most urgent photo of the page
        _row(2, "normal", 0.9, days=None, redness=0.02, **_patient("A-1", "baseline")),
        _row(3, "monitor", 0.7, days=1, redness=0.3, **a),
        _row(4, "seek-care", 0.9, days=5, redness=0.4, **a),
        _row(5, "normal", 0.6, days=None, redness=0.05, **a),  # undated: last
        _row(6, "monitor", 0.6, days=2, redness=0.2, **a, path="a/z-day2.jpg"),
        # B: most urgent seek-care at 0.7, after the single seek-care photo at 0.8
        _row(7, "seek-care", 0.7, days=3, **b),
        _row(8, "normal", 0.9, days=7, **b),
        # C: only normal photos
        _row(9, "normal", 0.8, days=2, **c),
        _row(10, "normal", 0.7, days=9, **c),
        _row(11, "monitor", 0.6),  # written before patient follow-up: no patient keys
        _row(12, "normal", 0.95),
    ]


def test_a_patients_photos_are_one_block_in_day_order_under_the_most_urgent_level(tmp_path):
    html_text = report.render(_rows(), {}, tmp_path)
    page = _parse(html_text)
    got = [(lvl, [(it["kind"], it["id"] or it["paths"][0], it["count"]) for it in items]) for lvl, items in page.sections]
    assert got == [
        ("seek-care", [("patient", "A-1", 5), ("card", "p01.jpg", 1), ("patient", "B-2", 2)]),
        ("monitor", [("card", "p11.jpg", 1)]),
        ("normal", [("card", "p12.jpg", 1), ("patient", "C-3", 2)]),
    ]
    a = page.sections[0][1][0]
    assert a["when"] == ["Before treatment", "Day 1", "Day 2", "Day 5", "Day not given"]
    assert a["paths"] == ["p02.jpg", "p03.jpg", "a/z-day2.jpg", "p04.jpg", "p05.jpg"]  # the cards in the same order
    assert a["search"].split("\n") == ["a-1", "p02.jpg", "p03.jpg", "a/z-day2.jpg", "p04.jpg", "p05.jpg"]
    assert "Redness: 40% of the skin" in html_text and "Redness: 2% of the skin" in html_text
    # the header counts each photo under its own level; the filter counts what each level shows
    assert "<b>3</b> seek care" in html_text and "<b>3</b> monitor" in html_text and "<b>6</b> normal" in html_text
    assert 'value="seek-care" checked> Seek care (8)' in html_text and 'value="monitor" checked> Monitor (1)' in html_text
    assert "<h2>Normal (3)</h2>" in html_text


def test_a_patients_most_urgent_photo_explains_itself_open(tmp_path):
    html_text = report.render(_rows(), {}, tmp_path)
    block = html_text[html_text.index('<article class="item patient seek-care"') :]
    block = block[: block.index("</article>")]
    opened = [part.split("</summary>")[0] for part in block.split("<details")[1:] if part.startswith(" open>")]
    assert len(opened) == 1 and "Day 5" in opened[0] and "p04.jpg" in opened[0]
    assert block.count("<details") == 5 and block.count('<p class="summary">') == 5


def _plot_of(html_text: str, patient: str) -> Image.Image:
    start = html_text.index(f'<span class="pid">{patient}</span>')
    block = html_text[start : html_text.index("</article>", start)]
    src = block.split('<figure class="trend"><img src="')[1].split('"')[0]
    assert src.startswith("data:image/png;base64,")
    data = base64.b64decode(src.split(",", 1)[1], validate=True)
    assert len(data) < 4_000, len(data)  # a few KB
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_the_trend_plot_is_a_small_inline_png_with_the_levels_colours(tmp_path):
    html_text = report.render(_rows(), {}, tmp_path)
    im = _plot_of(html_text, "A-1")
    assert im.format == "PNG"
    assert im.size == (300, 150)  # 3 x 1.5 in at 100 dpi
    colours = {tuple(c) for c in np.asarray(im.convert("RGB")).reshape(-1, 3)}
    for lvl in ("seek-care", "monitor", "normal"):  # A's points: one of each level, in the page's badge colour
        badge = re.search(r"\.badge\.%s\{background:#(\w{6})\}" % lvl, html_text).group(1)
        assert tuple(int(badge[k : k + 2], 16) for k in (0, 2, 4)) in colours, lvl
    assert 'alt="Redness area, % of the skin: before treatment 2%, day 1 30%, day 2 20%, day 5 40%"' in html_text
    assert "1 photo without a day or a redness measure not shown" in html_text
    assert "data:" in _csp(html_text).split("img-src", 1)[1].split(";")[0]  # img-src only
    assert _csp(html_text).count("data:") == 1
    assert report.render(_rows(), {}, tmp_path) == html_text  # the same bytes each time (a rebuild changes nothing)


def test_without_patients_the_page_embeds_nothing_and_keeps_the_strict_policy(tmp_path):
    rows = [r for r in _rows() if "patient_id" not in r or r["patient_id"] is None]
    html_text = report.render(rows, {}, tmp_path)
    assert "data:" not in html_text and '<article class="item patient' not in html_text
    assert _csp(html_text) == "default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def test_a_plot_that_fails_leaves_the_block_whole(tmp_path, monkeypatch):
    def broken(points):
        raise RuntimeError("no backend")

    monkeypatch.setattr(trend, "png", broken)
    html_text = report.render(_rows(), {}, tmp_path)
    page = _parse(html_text)
    a = page.sections[0][1][0]
    assert a["id"] == "A-1" and a["count"] == 5 and len(a["when"]) == 5
    assert "The redness-trend plot could not be drawn." in html_text
    assert "data:" not in html_text  # no plot, so the policy stays without data: too


def test_a_patient_id_and_paths_with_script_and_quotes_are_text(tmp_path):
    evil = _patient(EVIL)
    rows = [
        _row(1, "seek-care", days=None, **{**evil, "role": "baseline"}, path=f"{EVIL}/before.jpg"),
        _row(2, "monitor", days=2, **evil, path=f"{EVIL}.jpg"),
    ]
    html_text = report.render(rows, {}, tmp_path)
    assert "<script>alert" not in html_text and 'alert("x")' not in html_text
    page = _parse(html_text)
    ((_level, [block]),) = page.sections
    assert block["id"] == EVIL  # the quotes did not end anything
    assert block["search"] == "\n".join([EVIL, f"{EVIL}/before.jpg", f"{EVIL}.jpg"]).lower()
    assert block["paths"] == [f"{EVIL}/before.jpg", f"{EVIL}.jpg"]
    assert html_text.count("<script>") == 1  # only the report's own


def test_the_plot_needs_two_points():
    assert trend.png([trend.Point(3, 0.2, "#c62828")]) is None
    assert trend.png([trend.Point(None, 0.1, "#2e7d32"), trend.Point(2, 0.2, "#c62828")])[:8] == b"\x89PNG\r\n\x1a\n"
    many = [trend.Point(d, d / 100, "#2e7d32") for d in range(0, 30, 2)]
    assert Image.open(io.BytesIO(trend.png(many))).size == (300, 150)


def test_a_patient_with_one_photo_is_a_single_card_that_names_them(tmp_path):
    rows = [_row(1, "monitor", days=2, **_patient("p-alone")), _row(2, "normal", days=3, **_patient("p-two")),
            _row(3, "normal", days=5, **_patient("p-two"))]  # fmt: skip
    html_text = report.render(rows, {}, tmp_path)
    assert html_text.count('class="item patient') == 1  # p-two's block only
    assert html_text.count('class="item card') == 1 and "(one photo in this run)" in html_text
    card = html_text[html_text.index('class="item card') :]
    assert "p-alone" in card[: card.index("</article>")]
    assert html_text.count("data:image/png;base64,") == 1  # a plot for the patient with a course only
