"""report.html in a real headless Chromium: it opens from disk with no network, shows every
photo with its previews, the level filter and the path search work; a screenshot is saved as
an artifact (test-artifacts/report.png, or $TRIAGE_TEST_ARTIFACTS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from browser import chromium_path
from conftest import ROOT, copy_photos

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
    from playwright.sync_api import sync_playwright

    results = [json.loads(line) for line in (report_dir / "results.jsonl").read_text().splitlines()]
    ok = [r for r in results if r["status"] == "ok"]
    per_level = {lvl: sum(r["label"] == lvl for r in ok) for lvl in ("seek-care", "monitor", "normal")}
    assert all(per_level.values())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 1600}, offline=True)
            requests: list[str] = []
            context.on("request", lambda req: requests.append(req.url))
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
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
        finally:
            browser.close()
    assert not errors
    assert all(u.startswith("file://") for u in requests), [u for u in requests if not u.startswith("file://")]
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
