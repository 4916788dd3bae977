"""Attacks on a running review app (`triage serve`) on this machine: zip bombs, a run.json that
walks the server's files, concurrent logins, huge ids, NUL bytes, malformed rows, Host headers,
script in a sha256, CSRF. Starts nothing: give it the app's URL (a loopback address) and a staff
account. Prints, per category, the attempts tried and held; exit code 1 if any did not hold, 2
when it cannot start (not loopback, cannot log in).

Run it against a test instance: the path-walk attempt imports one fake photo, and when the queue
is empty one more is imported to aim decisions at. Failed logins it makes count against this
address's login limits (about --logins + 5 a run).

    .venv/bin/python scripts/attack_review_app.py http://127.0.0.1:8000 --user ana
    (password: --password, $TRIAGE_ATTACK_PASSWORD, or asked)
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import http.client
import io
import ipaddress
import json
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

GIB = 1 << 30
RESPONSIVE_S = 1.0  #: the slowest the stylesheet may answer while an attack is being handled
REFUSE_S = 10.0  #: the slowest a bomb or a path walk may take to be refused or imported
LOGIN_LIMIT = 5  #: failed logins of one name from one client in the window (config.LOGIN_MAX_FAILURES)


# --- HTTP ------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: dict
    body: str
    seconds: float


@dataclass
class App:
    """A client of the app: one cookie jar, a fresh connection per request (thread-safe)."""

    base: str
    timeout: float = 60.0
    cookies: dict = field(default_factory=dict)

    def call(self, method: str, path: str, *, form=None, files=None, host=None, cookies=None, keep=True) -> Answer:
        url = urlsplit(self.base)
        body, ctype = _encode(form, files)
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=self.timeout)
        start = time.monotonic()
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", url.netloc if host is None else host)
            jar = self.cookies if cookies is None else cookies
            if jar:
                conn.putheader("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))
            if body is not None:
                conn.putheader("Content-Type", ctype)
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            text = r.read().decode("utf-8", errors="replace")
            answer = Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, text, time.monotonic() - start)
            if keep and cookies is None:
                self._keep(r.headers.get_all("set-cookie") or [])
            return answer
        finally:
            conn.close()

    def _keep(self, set_cookies: list[str]) -> None:
        for c in set_cookies:
            name, _, value = c.split(";")[0].partition("=")
            if "max-age=0" in c.lower() or value in ("", '""'):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()


def _encode(form, files) -> tuple[bytes | None, str]:
    if files is None:
        return (None, "") if form is None else (urlencode(form).encode(), "application/x-www-form-urlencoded")
    boundary = secrets.token_hex(16)
    out = io.BytesIO()
    for k, v in (form or {}).items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (name, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                  "Content-Type: application/zip\r\n\r\n".encode())  # fmt: skip
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _token(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    return m.group(1) if m else ""


def login(app: App, name: str, password: str) -> Answer:
    token = _token(app.call("GET", "/login").body)
    return app.call("POST", "/login", form={"name": name, "password": password, "csrf": token})


def upload(app: App, data: bytes, csrf: str | None = None) -> Answer:
    csrf = _token(app.call("GET", "/upload").body) if csrf is None else csrf
    return app.call("POST", "/upload", form={"csrf": csrf}, files={"archive": ("run.zip", data)})


def while_responsive(app: App, fn):
    """fn() in a thread while the stylesheet is fetched again and again: (fn's result or None
    if it failed, the slowest stylesheet in seconds)."""
    done: dict = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", fn()))
    worker.start()
    slowest = 0.0
    while worker.is_alive():
        slowest = max(slowest, app.call("GET", "/static/app.css", keep=False).seconds)
        time.sleep(0.05)
    worker.join()
    return done.get("result"), slowest


# --- runs and zips ---------------------------------------------------------------------------
def fake_row(i: int, **changes) -> dict:
    """A results.jsonl row as the contract has it (schema 1)."""
    r = {
        "schema": 1, "path": f"attack/p{i:03d}.jpg", "sha256": hashlib.sha256(f"attack {i}".encode()).hexdigest(),
        "status": "ok", "error": None, "label": "monitor",
        "probabilities": {"normal": 0.1, "monitor": 0.8, "seek-care": 0.1}, "quality": {"ok": True, "issues": []},
        "days_since_treatment": 3, "features": {"ita_deg": 30.0, "skin_fraction": 0.6},
        "explanation": {"summary": "Monitor.", "reasons": [], "policy": None},
        "model": {"name": "attack", "version": "0", "sha256": "0" * 64}, "image": {"width": 1, "height": 1, "format": "JPEG"},
    }  # fmt: skip
    r.update(changes)
    return r


def run_zip(lines, run_json: bytes = b"{}") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("run/results.jsonl", "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
        z.writestr("run/run.json", run_json)
    return buf.getvalue()


@dataclass
class Member:
    name: str
    data: bytes  #: as stored (deflated)
    crc: int
    size: int  #: the size the headers declare


def craft_zip(members: list[Member], shared_data: bool = False) -> bytes:
    """A zip written by hand (so that its headers can say anything). shared_data: every
    directory entry points at the first member's data (a directory bomb)."""
    out, directory = io.BytesIO(), []
    for m in members[: 1 if shared_data else None]:
        offset = out.tell()
        name = m.name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, m.crc, len(m.data), m.size, len(name), 0) + name)
        out.write(m.data)
        directory.append(offset)
    start = out.tell()
    for i, m in enumerate(members):
        name = m.name.encode()
        offset = directory[0 if shared_data else i]
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, m.crc, len(m.data), m.size,
                              len(name), 0, 0, 0, 0, 0, offset) + name)  # fmt: skip
    size = out.tell() - start
    count = min(len(members), 0xFFFF)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, start, 0))
    return out.getvalue()


def zeros(size: int) -> Member:
    """`size` zero bytes, deflated without ever holding them: one 1 MiB block, full-flushed and
    repeated (each repeat decodes on its own)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc, chunk = 0, bytes(1 << 20)
    for _ in range(size >> 20):
        crc = zlib.crc32(chunk, crc)
    return Member("", block * (size >> 20) + end, crc, size)


def with_name(m: Member, name: str, size: int | None = None) -> Member:
    return Member(name, m.data, m.crc, m.size if size is None else size)


# --- the attacks -----------------------------------------------------------------------------
@dataclass
class Tally:
    tried: int = 0
    held: int = 0
    failures: list = field(default_factory=list)

    def check(self, what: str, held: bool, detail: str = "") -> None:
        self.tried += 1
        self.held += bool(held)
        if not held:
            self.failures.append(f"{what}: {detail}")


def _many_previews(preview: Member, n: int) -> bytes:
    """A valid run of n photos, each with a preview of `preview`'s size."""
    rows = [fake_row(1000 + i) for i in range(n)]
    results = "".join(json.dumps(r) + "\n" for r in rows).encode()
    packed = zlib.compressobj(9, zlib.DEFLATED, -15)
    listing = Member("run/results.jsonl", packed.compress(results) + packed.flush(), zlib.crc32(results), len(results))
    return craft_zip([listing] + [with_name(preview, f"run/overlays/{r['sha256']}.thumb.jpg") for r in rows])


def _refused(answer: Answer | None, slowest: float) -> tuple[bool, str]:
    if answer is None:
        return False, "the request failed"
    ok = answer.status in (400, 413) and answer.seconds < REFUSE_S and slowest < RESPONSIVE_S
    return ok, f"{answer.status} after {answer.seconds:.1f} s, stylesheet up to {slowest:.1f} s: {answer.body[:80]!r}"


def zip_bombs(app: App, t: Tally, _ctx) -> None:
    gib, mib = zeros(GIB), zeros(1 << 20)
    bombs = {
        "1 GiB results.jsonl, honest headers": craft_zip([with_name(gib, "run/results.jsonl")]),
        "1 GiB results.jsonl declared as 1 KB": craft_zip([with_name(gib, "run/results.jsonl", size=1000)]),
        "1,300 photos with a 1 MiB preview each (1.3 GB in all)": _many_previews(mib, 1300),
        "a 60 MB directory of 400,000 members": craft_zip(
            [with_name(mib, f"run/junk/{i:0100d}") for i in range(400_000)], shared_data=True
        ),
    }
    for what, data in bombs.items():
        held, detail = _refused(*while_responsive(app, lambda data=data: upload(app, data)))
        t.check(what, held, detail)


def path_walk(app: App, t: Tally, _ctx) -> None:
    """A run.json whose inputs are the whole file system: an upload has no files on this
    machine, so nothing is walked (the import is quick and the app stays responsive)."""
    secret = Path("/etc/passwd")
    sha = hashlib.sha256(secret.read_bytes()).hexdigest() if secret.is_file() else "f" * 64
    run_json = json.dumps({"settings": {"inputs": ["/", "/etc", str(secret)]}}).encode()
    data = run_zip([fake_row(900, path="passwd", sha256=sha, label="normal",
                             probabilities={"normal": 0.9, "monitor": 0.05, "seek-care": 0.05})], run_json)  # fmt: skip
    answer, slowest = while_responsive(app, lambda: upload(app, data))
    held = answer is not None and answer.status in (303, 400) and answer.seconds < REFUSE_S and slowest < RESPONSIVE_S
    t.check("run.json inputs /, /etc, /etc/passwd", held, f"{getattr(answer, 'status', None)}, stylesheet up to {slowest:.1f} s")


def concurrent_logins(app: App, t: Tally, ctx) -> None:
    n = ctx.logins
    victim = f"attack-{secrets.token_hex(4)}"
    token_app = App(app.base)
    token = _token(token_app.call("GET", "/login").body)

    def attempt(name):
        return token_app.call("POST", "/login", form={"name": name, "password": "not the password", "csrf": token}, keep=False)

    with ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(attempt, [victim] * n))
    judged = sum(a.status == 303 for a in answers)
    ok = all(a.status in (303, 429) for a in answers) and judged <= LOGIN_LIMIT
    t.check(f"{n} wrong passwords for one name at once", ok, f"{judged} judged: {sorted({a.status for a in answers})}")

    def burst():
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(attempt, [f"attack-{secrets.token_hex(4)}" for _ in range(n)]))

    answers, slowest = while_responsive(app, burst)
    ok = answers is not None and all(a.status in (303, 429) for a in answers) and slowest < RESPONSIVE_S
    t.check(f"{n} unknown names at once (argon2 each)", ok, f"stylesheet up to {slowest:.1f} s")
    r = login(App(app.base), ctx.user, ctx.password)
    t.check("the real user still logs in from this address", r.status == 303 and r.headers.get("location") == "/", str(r.status))


def huge_ids(app: App, t: Tally, ctx) -> None:
    for pid in ("99999999999999999999", str(2**31), str(2**63), str(2**64), "-99999999999999999999"):
        for method, path, form in (
            ("GET", f"/photo/{pid}", None),
            ("GET", f"/image/{pid}/thumb", None),
            ("POST", f"/photo/{pid}", {"level": "normal", "csrf": ctx.csrf}),
        ):
            r = app.call(method, path, form=form)
            t.check(f"{method} {path}", r.status in (400, 404, 422), str(r.status))


def nul_bytes(app: App, t: Tally, ctx) -> None:
    r = app.call("POST", f"/photo/{ctx.photo}", form={"level": "normal", "note": "seen\x00", "csrf": ctx.csrf})
    t.check("a note with NUL", r.status == 400, str(r.status))
    r = login(App(app.base), ctx.user + "\x00", "not the password")
    t.check("a login name with NUL", r.status == 400, str(r.status))
    r = upload(app, run_zip([fake_row(1, path="a\x00b.jpg")]), ctx.csrf)
    t.check("a row path with NUL", r.status == 400, str(r.status))


BAD_ROWS = {
    "quality as a list": [fake_row(1, quality=[1, 2])],
    "issues as numbers": [fake_row(1, quality={"ok": False, "issues": [1, 2]})],
    "explanation as text": [fake_row(1, explanation="fine")],
    "probabilities missing": [{k: v for k, v in fake_row(1).items() if k != "probabilities"}],
    "a NaN probability": [fake_row(1, probabilities={"normal": float("nan"), "monitor": 0.9, "seek-care": 0.1})],
    "a duplicate path": [fake_row(1), fake_row(2, path=fake_row(1)["path"])],
    "a lone surrogate in the path": [fake_row(1, path="\ud800.jpg")],
    "a line that is not JSON": [fake_row(1), "{torn"],
    "nested 100,000 deep": ["[" * 100_000 + "]" * 100_000],
    "a good row, then a bad one": [fake_row(1), fake_row(2, days_since_treatment="3")],
}


def malformed_rows(app: App, t: Tally, ctx) -> None:
    uploads = {what: run_zip(lines) for what, lines in BAD_ROWS.items()}
    uploads["run.json that is a list"] = run_zip([fake_row(1)], b"[]")
    uploads["an encrypted member"] = _encrypted(run_zip([fake_row(1)]))
    for what, data in uploads.items():
        r = upload(app, data, ctx.csrf)
        t.check(what, r.status == 400 and "\n" not in r.body.strip(), f"{r.status}: {r.body[:80]!r}")
    r = app.call("GET", "/")
    t.check("the queue still opens", r.status == 200, str(r.status))


def _encrypted(data: bytes) -> bytes:
    """The zip with its first member marked encrypted in the directory."""
    out = bytearray(data)
    at = zipfile.ZipFile(io.BytesIO(data)).start_dir  # the first directory entry
    struct.pack_into("<H", out, at + 8, 0x1)  # its general-purpose flags: bit 0, encrypted
    return bytes(out)


def host_headers(app: App, t: Tally, _ctx) -> None:
    port = urlsplit(app.base).port or 80
    r = app.call("GET", "/login", keep=False)
    t.check("the app's own address is answered", r.status == 200, str(r.status))
    for host in ("evil.example", f"evil.example:{port}", "localhost.evil.example", f"127.0.0.1.nip.io:{port}", ""):
        r = app.call("GET", "/login", host=host, keep=False)
        t.check(f"Host: {host!r}", r.status in (400, 421), str(r.status))


def script_in_sha256(app: App, t: Tally, ctx) -> None:
    for sha in ('"><script>alert(1)</script>'.ljust(64, "0"), "A" * 64, "../../etc/passwd".ljust(64, "a")):
        r = upload(app, run_zip([fake_row(5, sha256=sha)]), ctx.csrf)
        t.check(f"sha256 {sha[:28]!r}...", r.status == 400, str(r.status))
    t.check("no script in the queue", "<script>alert" not in app.call("GET", "/").body)


def csrf(app: App, t: Tally, ctx) -> None:
    fresh = App(app.base)
    r = fresh.call("POST", "/login", form={"name": ctx.user, "password": ctx.password})
    t.check("login without a token", r.status == 403, str(r.status))
    for forged in ("chosen-by-attacker", f"{int(time.time())}.nonce.{'0' * 64}"):
        r = fresh.call("POST", "/login", form={"name": ctx.user, "password": ctx.password, "csrf": forged},
                       cookies={"triage_login_csrf": forged})  # fmt: skip
        t.check(f"login with a planted cookie {forged[:20]!r}", r.status == 403, str(r.status))
    for what, method, path, form in (
        ("a decision without the token", "POST", f"/photo/{ctx.photo}", {"level": "seek-care"}),
        ("a decision with a forged token", "POST", f"/photo/{ctx.photo}", {"level": "seek-care", "csrf": "forged"}),
        ("log out without the token", "POST", "/logout", {}),
    ):
        r = app.call(method, path, form=form)
        t.check(what, r.status == 403, str(r.status))
    r = app.call("POST", "/upload", form={"csrf": "forged"}, files={"archive": ("r.zip", run_zip([fake_row(6)]))})
    t.check("an upload with a forged token", r.status == 403, str(r.status))
    for path in ("/upload?done=%3Cscript%3Ealert(1)%3C/script%3E+call+555-0100", "/login?error=%3Cscript%3Ealert(1)"):
        body = app.call("GET", path, keep=False).body
        t.check(f"no text from {path.split('?')[0]}'s address", "<script>alert" not in body and "555-0100" not in body)


ATTACKS = {
    "zip-bomb": zip_bombs, "path-walk": path_walk, "concurrent-logins": concurrent_logins, "huge-ids": huge_ids,
    "nul-bytes": nul_bytes, "malformed-rows": malformed_rows, "host-header": host_headers,
    "script-in-sha256": script_in_sha256, "csrf": csrf,
}  # fmt: skip


# --- running ---------------------------------------------------------------------------------
@dataclass
class Context:
    user: str
    password: str
    logins: int
    csrf: str = ""
    photo: int = 0


def _on_loopback(base: str) -> bool:
    host = urlsplit(base).hostname or ""
    try:
        addresses = {a[4][0] for a in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def _a_photo(app: App) -> int:
    """A photo id to aim decisions at: the first in the queue, after importing one if none."""
    for _ in range(2):
        m = re.search(r'href="/photo/(\d+)"', app.call("GET", "/").body)
        if m:
            return int(m.group(1))
        upload(app, run_zip([fake_row(0, label="seek-care", probabilities={"normal": 0.1, "monitor": 0.1, "seek-care": 0.8})]))
    raise SystemExit("attack: the queue stays empty after importing a photo")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="the running app, e.g. http://127.0.0.1:8000 (this machine only)")
    p.add_argument("--user", required=True, help="a staff account to log in with")
    p.add_argument("--password", default=os.environ.get("TRIAGE_ATTACK_PASSWORD"), help="(default: $TRIAGE_ATTACK_PASSWORD, else asked)")
    p.add_argument("--logins", type=int, default=40, help="logins sent at once in each burst (default 40)")
    p.add_argument("--only", action="append", choices=sorted(ATTACKS), help="run only these categories")
    args = p.parse_args(argv)
    if not _on_loopback(args.url):
        print("attack: the app must run on this machine (a loopback address)", file=sys.stderr)
        return 2
    app = App(args.url.rstrip("/"))
    ctx = Context(args.user, args.password or getpass.getpass(f"password of {args.user}: "), args.logins)
    r = login(app, ctx.user, ctx.password)
    if r.status != 303 or r.headers.get("location") != "/":
        print(f"attack: cannot log in as {ctx.user}: {r.status} {r.headers.get('location', r.body[:80])}", file=sys.stderr)
        return 2
    ctx.photo = _a_photo(app)
    ctx.csrf = _token(app.call("GET", "/").body)
    failed = False
    for name, attack in ATTACKS.items():
        if args.only and name not in args.only:
            continue
        t = Tally()
        start = time.monotonic()
        attack(app, t, ctx)
        print(f"{name}: {t.tried} tried, {t.held} held ({time.monotonic() - start:.1f} s)")
        for f in t.failures:
            print(f"  NOT HELD {f}")
        failed |= t.held < t.tried
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
