"""scripts/attack_review_app.py against the app served by uvicorn on a free loopback port: every
category of attack is tried and held, within a small budget."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from conftest import ROOT
from review_kit import PASSWORD, with_users

CATEGORIES = ("zip-bomb", "path-walk", "concurrent-logins", "huge-ids", "nul-bytes", "malformed-rows", "host-header",
              "script-in-sha256", "csrf")  # fmt: skip


@contextmanager
def served(db_url: str, **options):
    """The app on a free loopback port, in a thread: yields its base URL."""
    import uvicorn

    from triage.review.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(db_url, **options)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


def _attack(base: str, *args: str) -> subprocess.CompletedProcess:
    script = ROOT / "scripts" / "attack_review_app.py"
    return subprocess.run([sys.executable, str(script), base, "--user", "ana", *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, TRIAGE_ATTACK_PASSWORD=PASSWORD))  # fmt: skip


def test_every_attack_is_held(tmp_path):
    db = with_users(f"sqlite:///{tmp_path / 'review.sqlite'}", "ana")
    with served(db) as base:
        start = time.monotonic()
        done = _attack(base, "--logins", "12")
        took = time.monotonic() - start
    counts = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"^([\w-]+): (\d+) tried, (\d+) held", done.stdout, re.M)}
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(counts) == set(CATEGORIES) and all(tried == held > 0 for tried, held in counts.values()), counts
    assert took < 30, f"the attacks took {took:.0f} s"


def test_an_attack_that_is_not_held_is_reported_and_exit_1(tmp_path):
    db = with_users(f"sqlite:///{tmp_path / 'review.sqlite'}", "ana")
    with served(db, allowed_hosts=["evil.example"]) as base:  # a weakened app
        done = _attack(base, "--only", "host-header")
    assert done.returncode == 1 and "host-header: 6 tried, 4 held" in done.stdout, done.stdout + done.stderr
    assert "NOT HELD Host: 'evil.example': 200" in done.stdout
