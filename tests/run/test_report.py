"""report.html: structure, counts, urgency order, escaping, previews without EXIF, rebuild."""

from __future__ import annotations

import io
import json
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
from conftest import copy_photos
from PIL import Image
from typer.testing import CliRunner

from triage.cli import app
from triage.run import config
from triage.run.batch import run

runner = CliRunner()
LEVELS = ("seek-care", "monitor", "normal")


class Cards(HTMLParser):
    """Cards in document order (level, path text), error rows, every src/href, header counts."""

    def __init__(self):
        super().__init__()
        self.cards, self.errors, self.urls, self.counts = [], [], [], {}
        self._in = None
        self._count_class = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a:
                self.urls.append(a[key])
        cls = a.get("class", "")
        if tag == "article" and "card" in cls.split():
            self.cards.append({"level": a["data-level"], "path": None})
        elif tag == "p" and cls == "path" and self.cards:
            self._in = "card-path"
        elif tag == "td" and cls == "path":
            self._in = "error-path"
        elif tag == "li" and self._count_class is None and cls in (*LEVELS, "error"):
            self._count_class = cls
        elif tag == "b" and self._count_class:
            self._in = "count"

    def handle_data(self, data):
        if self._in == "card-path":
            self.cards[-1]["path"] = data
        elif self._in == "error-path":
            self.errors.append(data)
        elif self._in == "count":
            self.counts[self._count_class] = int(data)
            self._count_class = None
        self._in = None


def parse(html_text: str) -> Cards:
    p = Cards()
    p.feed(html_text)
    return p


def _jpeg_with_gps(rgb: np.ndarray) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    gps = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)}
    exif[0x8825] = gps
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


@pytest.fixture(scope="module")
def report_run(small_dataset, tmp_path_factory):
    """24 generated photos of every level, one with GPS EXIF, one named like HTML, one corrupt."""
    src = tmp_path_factory.mktemp("photos")
    rows = copy_photos(small_dataset, src, 24)
    first = np.asarray(Image.open(small_dataset / rows[0]["file"]).convert("RGB"))
    (src / "<b>x<").mkdir()  # a POSIX name cannot hold "/": the row path <b>x</b>.jpg is folder + file
    (src / "<b>x</b>.jpg").write_bytes(_jpeg_with_gps(first))
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path_factory.mktemp("out")
    run([src], out, workers=2, progress=False)
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return src, out, results


def test_counts_order_and_every_row(report_run):
    _src, out, results = report_run
    page = parse((out / "report.html").read_text())
    ok = [r for r in results if r["status"] == "ok"]
    assert {lvl for lvl in (r["label"] for r in ok)} == set(LEVELS)  # the fixture spans all levels
    for lvl in LEVELS:
        assert page.counts[lvl] == sum(r["label"] == lvl for r in ok)
    assert page.counts["error"] == 1
    assert sorted(c["path"] for c in page.cards) == sorted(r["path"] for r in ok)
    by_path = {r["path"]: r for r in ok}
    keys = [(LEVELS.index(c["level"]), -by_path[c["path"]]["probabilities"][c["level"]]) for c in page.cards]
    assert keys == sorted(keys)  # seek-care, monitor, normal; within a level the most likely first
    assert all(c["level"] == by_path[c["path"]]["label"] for c in page.cards)
    assert page.errors == ["broken.jpg"]
    html_text = (out / "report.html").read_text()
    assert [r for r in results if r["status"] == "error"][0]["error"] in html_text.replace("&#x27;", "'").replace("&quot;", '"')
    assert "not a diagnosis" in html_text


def test_names_are_text_not_markup(report_run):
    _src, out, _results = report_run
    html_text = (out / "report.html").read_text()
    assert "<b>x</b>.jpg" not in html_text
    assert "&lt;b&gt;x&lt;/b&gt;.jpg" in html_text
    assert "<b>x</b>.jpg" in [c["path"] for c in parse(html_text).cards]


def test_self_contained_no_network_no_embedded_photos(report_run):
    _src, out, results = report_run
    html_text = (out / "report.html").read_text()
    page = parse(html_text)
    assert "http://" not in html_text and "https://" not in html_text and "data:" not in html_text
    srcs = [u for u in page.urls if not u.startswith("#")]
    assert srcs and all(u.startswith("overlays/") and (out / u).is_file() for u in srcs)
    assert 'loading="lazy"' in html_text
    assert len(srcs) == 2 * sum(r["status"] == "ok" for r in results)


def test_previews_are_small_and_carry_no_exif(report_run):
    src, out, results = report_run
    with Image.open(src / "<b>x</b>.jpg") as im:  # the source does carry GPS and camera data
        assert im.getexif().get(0x8825) is not None
    row = next(r for r in results if r["path"] == "<b>x</b>.jpg")
    for name in (f"{row['sha256']}.thumb.jpg", f"{row['sha256']}.overlay.jpg"):
        with Image.open(out / "overlays" / name) as im:
            assert im.format == "JPEG"
            assert max(im.size) == config.THUMB_LONG_SIDE
            assert len(im.getexif()) == 0 and "exif" not in im.info
            assert not any(k.startswith("xmp") or k == "icc_profile" for k in im.info)


def test_overlay_marks_where_the_redness_is(tmp_path):
    """Ground truth by construction: plain skin with one red disk; the overlay changes the
    photo inside the disk far more than on the rest of the skin."""
    h, w = 600, 800
    yy, xx = np.mgrid[:h, :w]
    rng = np.random.default_rng(5)
    img = np.empty((h, w, 3), np.float32)
    img[...] = (205, 160, 135)
    disk = (xx - 560) ** 2 + (yy - 300) ** 2 < 110**2
    img[disk] = (215, 120, 110)
    img += rng.normal(0, 2.0, img.shape)
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(src / "red.png")
    out = tmp_path / "out"
    run([src], out, workers=1, progress=False)
    row = json.loads((out / "results.jsonl").read_text())
    thumb = np.asarray(Image.open(out / "overlays" / f"{row['sha256']}.thumb.jpg"), np.float32)
    over = np.asarray(Image.open(out / "overlays" / f"{row['sha256']}.overlay.jpg"), np.float32)
    s = thumb.shape[1] / w
    ty, tx = np.mgrid[: thumb.shape[0], : thumb.shape[1]]
    inside = (tx - 560 * s) ** 2 + (ty - 300 * s) ** 2 < (100 * s) ** 2
    outside = (tx - 560 * s) ** 2 + (ty - 300 * s) ** 2 > (140 * s) ** 2
    change = np.abs(over - thumb).sum(axis=2)
    assert change[inside].mean() > 5 * change[outside].mean()
    assert (over[..., 0] - over[..., 1])[inside].mean() > (thumb[..., 0] - thumb[..., 1])[inside].mean() + 20


def test_report_command_rebuilds_the_same_report(report_run, tmp_path):
    """Round trip: with report.html and every preview deleted, `triage report` makes the same
    bytes again from results.jsonl and the unchanged source photos; stale previews are removed."""
    _src, out0, _results = report_run
    out = tmp_path / "copy"
    shutil.copytree(out0, out)
    html_before = (out0 / "report.html").read_text()
    previews = {p.name: p.read_bytes() for p in (out0 / "overlays").iterdir()}
    shutil.rmtree(out / "overlays")
    (out / "report.html").unlink()
    (out / "overlays").mkdir()
    stale = out / "overlays" / ("0" * 64 + ".thumb.jpg")
    stale.write_bytes(b"old")
    r = runner.invoke(app, ["report", str(out), "--workers", "2", "--quiet"])
    assert r.exit_code == 0, r.output
    assert (out / "report.html").read_text() == html_before
    assert {p.name: p.read_bytes() for p in (out / "overlays").iterdir()} == previews
    assert not stale.exists()


def test_no_report_option_and_report_errors(tmp_path, photo):
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(photo).save(src / "a.jpg")
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(src), "--out", str(out), "--no-report", "--workers", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    assert (out / "results.jsonl").is_file() and not (out / "report.html").exists() and not (out / "overlays").exists()
    # a report left by an earlier run would show old results beside the new ones: it goes
    (out / "report.html").write_text("<p>earlier run</p>")
    r = runner.invoke(app, ["run", str(src), "--out", str(out), "--no-report", "--workers", "1", "--quiet"])
    assert r.exit_code == 0 and not (out / "report.html").exists()
    r = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "no results.jsonl" in r.output
    # a report of a run whose source photo has since changed: the card says so, nothing fails
    (src / "a.jpg").write_bytes((src / "a.jpg").read_bytes() + b"\0")
    r = runner.invoke(app, ["report", str(out), "--workers", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "No preview" in (out / "report.html").read_text() and "1 previews could not be made" in r.output


def test_a_rows_sha256_cannot_inject_markup(report_run, tmp_path):
    """A row's sha256 went unescaped into an img tag and the page allows inline script (issue
    10): only a 64-hex sha256 gets previews; anything else is listed without them, escaped."""
    _src, out0, _results = report_run
    out = tmp_path / "copy"
    shutil.copytree(out0, out)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    evil = 'x" onerror="alert(1)" data-x="'
    victim = next(r for r in rows if r["status"] == "ok")
    victim["sha256"] = evil
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for kind in ("thumb", "overlay"):  # the files an attacker would plant beside it
        (out / "overlays" / f"{evil}.{kind}.jpg").write_bytes(b"\xff\xd8\xff")
    r = runner.invoke(app, ["report", str(out), "--workers", "1", "--quiet"])
    assert r.exit_code == 0, r.output
    html_text = (out / "report.html").read_text()
    assert 'onerror="alert(1)"' not in html_text
    page = parse(html_text)
    assert victim["path"] in [c["path"] for c in page.cards]  # still listed
    assert all(u.startswith("overlays/") and (out / u).is_file() for u in page.urls if not u.startswith("#"))
    assert len([u for u in page.urls if u.startswith("overlays/")]) == 2 * (sum(r["status"] == "ok" for r in rows) - 1)
