"""Logging in under attack: failures counted at once with the attempt (no burst slips past the
limit), password hashing bounded, and one person's failures lock out neither the others behind
the same address nor the name everywhere; on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from review_kit import server_url, client_for, csrf_of, fresh_url, login, with_users

from triage.review import config


@pytest.fixture
def db(server_url, tmp_path):
    return with_users(fresh_url(server_url, tmp_path), "ana", "ben")


def _burst(client: TestClient, attempts: list[tuple[str, str]]):
    """The logins at once, all with one login form's token."""
    token = csrf_of(client.get("/login").text)

    def post(attempt):
        name, password = attempt
        return client.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(post, attempts))


def test_a_burst_of_wrong_logins_is_held_to_the_limit(db):
    with client_for(db) as client:
        answers = _burst(client, [("ana", "not the password")] * 40)
    assert {r.status_code for r in answers} <= {303, 429}
    judged = [r for r in answers if r.status_code == 303]
    assert 1 <= len(judged) <= config.LOGIN_MAX_FAILURES


def test_password_hashing_runs_a_bounded_number_at_once(db, monkeypatch):
    from argon2 import PasswordHasher

    real, lock = PasswordHasher.verify, threading.Lock()
    running = {"now": 0, "peak": 0}

    def counted(self, hash_, password):
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        try:
            time.sleep(0.05)
            return real(self, hash_, password)
        finally:
            with lock:
                running["now"] -= 1

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    with client_for(db) as client:
        answers = _burst(client, [(f"nobody{i}", "not the password") for i in range(20)])
    assert all(r.status_code == 303 and "error" in r.headers["location"] for r in answers)
    assert running["peak"] <= config.PASSWORD_HASHES_AT_ONCE


def test_one_persons_failures_do_not_lock_out_others_behind_the_same_address(db):
    with client_for(db) as client:
        for _ in range(config.LOGIN_MAX_FAILURES):
            assert "error" in login(client, "ana", "not the password").headers["location"]
        assert login(client, "ana").status_code == 429
        assert login(client, "ben").headers["location"] == "/"


def test_spraying_names_from_one_address_is_throttled(db, monkeypatch):
    monkeypatch.setattr(config, "LOGIN_MAX_FAILURES_PER_CLIENT", 3)
    with client_for(db) as client:
        for i in range(3):
            assert "error" in login(client, f"nobody{i}", "not the password").headers["location"]
        assert login(client, "ben").status_code == 429


def test_guessing_one_name_from_many_addresses_is_throttled(db, monkeypatch):
    from triage.review.app import create_app

    monkeypatch.setattr(config, "LOGIN_MAX_FAILURES_PER_NAME", 3)
    app = create_app(db)
    try:
        for i in range(4):
            with TestClient(app, base_url="http://localhost", client=(f"10.0.0.{i}", 5000)) as client:
                r = login(client, "ana", "not the password")
                assert (r.status_code == 429) == (i == 3), (i, r.status_code)
        with TestClient(app, base_url="http://localhost", client=("10.0.0.9", 5000)) as client:
            assert login(client, "ana").status_code == 429
            assert login(client, "ben").headers["location"] == "/"
    finally:
        app.state.engine.dispose()
