"""report.html in a real headless Chromium: it opens from disk with no network, shows every
photo with its previews, the level filter and the path search work; with patients, a patient's
block and its inline trend plot load under the page's content security policy, and the filter
and search treat the block as one; screenshots are saved as artifacts (test-artifacts/report.png
and report-patients.png, or $TRIAGE_TEST_ARTIFACTS)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from browser import offline_page
from conftest import ROOT, copy_photos

from triage.run import report
from triage.run.batch import run

ARTIFACTS = Path(os.environ.get("TRIAGE_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture(scope="module")
def report_dir(small_dataset, tmp_path_factory):
    src = tmp_path_factory.mktemp("browser-photos")
    copy_photos(small_dataset, src, 30)
    (src / "unreadable.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path_factory.mktemp("browser-out")
    run([src], out, workers=2, progress=False)
    return out


def test_report_in_headless_chromium(report_dir):
    results = [json.loads(line) for line in (report_dir / "results.jsonl").read_text().splitlines()]
    ok = [r for r in results if r["status"] == "ok"]
    per_level = {lvl: sum(r["label"] == lvl for r in ok) for lvl in ("seek-care", "monitor", "normal")}
    assert all(per_level.values())
    with offline_page() as (page, requests, errors):
        page.goto((report_dir / "report.html").as_uri())
        cards = page.locator("article.card")
        assert cards.count() == len(ok)
        assert page.locator("article.card:visible").count() == len(ok)
        assert page.locator("#shown").inner_text() == str(len(results))
        # the first photos' previews are decoded images, not broken links
        page.wait_for_function("Array.from(document.images).slice(0, 4).every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator("article.card").first.get_attribute("data-level") == "seek-care"

        page.locator('nav input[value="normal"]').uncheck()
        page.locator('nav input[value="error"]').uncheck()
        assert page.locator("article.card:visible").count() == len(ok) - per_level["normal"]
        assert page.locator("article.card.normal:visible").count() == 0
        assert page.locator("#shown").inner_text() == str(len(ok) - per_level["normal"])
        assert page.locator("tr.error:visible").count() == 0

        target = next(r for r in ok if r["label"] != "normal")["path"]
        page.locator("#search").fill(target[-9:].upper())  # search ignores case
        visible = page.locator("article.card:visible")
        assert visible.count() == 1 and target in visible.first.inner_text()
        page.locator("#search").fill("")
        page.locator('nav input[value="normal"]').check()
        page.locator('nav input[value="error"]').check()
        assert page.locator("article.card:visible").count() == len(ok)
        assert page.locator("tr.error:visible").count() == 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"))
    assert not errors
    assert all(u.startswith("file://") for u in requests), [u for u in requests if not u.startswith("file://")]
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def patients_dir(report_dir, tmp_path_factory):
    """The same run with the patient keys patient follow-up writes: patient P-1 has a photo
    before treatment (a normal one), one on day 2 and one undated; every other row has none."""
    out = tmp_path_factory.mktemp("browser-patients") / "run"
    shutil.copytree(report_dir, out)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    ok = [r for r in rows if r["status"] == "ok"]
    before = next(r for r in ok if r["label"] == "normal" and r["features"].get("redness_area_fraction") is not None)
    day2 = next(r for r in ok if r["label"] == "seek-care" and r["features"].get("redness_area_fraction") is not None)
    undated = next(r for r in ok if r["label"] == "monitor")
    for r in rows:
        r.update(patient_id=None, role=None, course=None)
    for r, role, days in ((before, "baseline", None), (day2, "follow-up", 2), (undated, "follow-up", None)):
        r.update(patient_id="P-1", role=role, days_since_treatment=days)
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report.build(out)
    return out, [before["path"], day2["path"], undated["path"]], len(rows)


def test_a_patient_block_and_its_plot_in_headless_chromium(patients_dir):
    out, paths, total = patients_dir
    with offline_page(console=True) as (page, requests, problems):
        page.goto((out / "report.html").as_uri())
        block = page.locator("article.patient")
        assert block.count() == 1 and block.get_attribute("data-level") == "seek-care"
        assert block.locator(".shot .when").all_inner_texts() == ["Before treatment", "Day 2", "Day not given"]
        assert block.locator("p.path").all_text_contents() == paths  # closed <details> too
        plot = block.locator(".trend img")
        plot.scroll_into_view_if_needed()
        page.wait_for_function("i => i.complete && i.naturalWidth === 300", arg=plot.element_handle(), timeout=10_000)
        assert page.locator("#shown").inner_text() == str(total)

        page.locator('nav input[value="seek-care"]').uncheck()  # the block is filed under its most urgent photo
        assert block.is_hidden()
        page.locator('nav input[value="seek-care"]').check()
        page.locator("#search").fill("p-1")  # by the patient id ...
        assert block.is_visible() and page.locator("article.item:visible").count() == 1
        assert page.locator("#shown").inner_text() == "3"
        page.locator("#search").fill(paths[2][-12:].upper())  # ... or by any of its paths
        assert block.is_visible() and page.locator("article.item:visible").count() == 1
        page.locator("#search").fill("")
        block.screenshot(path=str(ARTIFACTS / "report-patients.png"))
    assert not problems, problems
    assert all(u.startswith(("file://", "data:image/png;base64,")) for u in requests), [u for u in requests if not u.startswith("file://")]
