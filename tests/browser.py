"""Headless Chromium for the browser tests: Debian's `chromium` package, installed with apt-get
when missing and running as root (CI); Playwright drives it (its own browser download does not
work here, so it is never used)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest
from system import apt_install


def chromium_path() -> str:
    """Path of a chromium binary, installing Debian's package when missing (root only)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    apt_install("chromium")
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but no `chromium` binary is on PATH")
    return found


@contextmanager
def offline_page(console: bool = False):
    """(page, requests, problems): a 1200 x 1600 page in headless Chromium with the network off,
    every URL it requested, and its script errors (with console, also the console's errors and
    warnings, where the content security policy reports what it refused)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 1600}, offline=True)
            requests: list[str] = []
            context.on("request", lambda req: requests.append(req.url))
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            if console:
                page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            yield page, requests, problems
        finally:
            browser.close()
