"""Headless Chromium for the browser tests: Debian's `chromium` package, installed with apt-get
when missing and running as root (CI); Playwright drives it (its own browser download does not
work here, so it is never used)."""

from __future__ import annotations

import shutil

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
