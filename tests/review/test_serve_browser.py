"""The review app in a real headless Chromium: log in, review three photos by keyboard, export
the labels; screenshot in test-artifacts/review.png."""

from __future__ import annotations

import csv
import io
import os
import socket
import threading
import time
from pathlib import Path

from browser import chromium_path
from conftest import ROOT, copy_photos
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.review import store
from triage.run.batch import run

ARTIFACTS = Path(os.environ.get("TRIAGE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
PASSWORD = "correct horse battery"


def test_review_three_photos_by_keyboard_and_export(small_dataset, tmp_path):
    import uvicorn
    from playwright.sync_api import sync_playwright

    from triage.review.app import create_app

    src = tmp_path / "photos"
    src.mkdir()
    copy_photos(small_dataset, src, 12)
    run([src], tmp_path / "run", workers=2, progress=False)
    db = f"sqlite:///{tmp_path / 'review.sqlite'}"
    engine = store.open_store(db)
    store.add_user(engine, "ana", PASSWORD)
    store.import_run(engine, tmp_path / "run")
    queue = store.queue(engine)
    assert len(queue) >= 3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(db)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 1000})
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(base + "/")
                assert page.url.endswith("/login")
                page.fill('input[name="name"]', "ana")
                page.fill('input[name="password"]', PASSWORD)
                page.press('input[name="password"]', "Enter")
                page.wait_for_url(base + "/")
                assert page.locator("#progress").inner_text() == f"0 of {len(queue)} reviewed"
                page.click("#next")
                expected = []
                for key in ("c", "m", "s"):
                    page.wait_for_selector("form.decide")
                    photo_id = int(page.url.rstrip("/").split("/")[-1])
                    model_level = page.locator("form.decide").get_attribute("data-model")
                    expected.append((photo_id, {"c": model_level, "m": "monitor", "s": "seek-care"}[key]))
                    with page.expect_navigation():
                        page.keyboard.press(key)
                page.goto(base + "/")
                assert page.locator("#progress").inner_text() == f"3 of {len(queue)} reviewed"
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
                assert not errors
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()

    got = {pid: store.photo(engine, pid)["decisions"][-1]["level"] for pid, _lvl in expected}
    assert got == dict(expected)
    assert all(store.photo(engine, pid)["decisions"][-1]["name"] == "ana" for pid, _ in expected)
    engine.dispose()
    r = CliRunner().invoke(cli, ["export-labels", "--out", str(tmp_path / "exported"), "--db", db])
    assert r.exit_code == 0 and "3 reviewed photos written" in r.output, r.output
    labels = list(csv.DictReader(io.StringIO((tmp_path / "exported" / "labels.csv").read_text())))
    assert sorted(r["label"] for r in labels) == sorted(lvl for _pid, lvl in expected)
