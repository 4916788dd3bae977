"""System packages the tests need (Debian): installed with apt-get when missing and running as
root (CI); otherwise the test is skipped with the command that installs it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def apt_install(package: str) -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(f"{package} is missing: install Debian's package (sudo apt-get install {package})")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
