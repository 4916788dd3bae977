"""The review app's guards that hold no data: which Host names it answers (DNS rebinding: a page
of another site whose name was pointed at this machine must not reach it), whether its cookies
are Secure, and the login form's token (issued by this process, not made up by a client)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time

from . import config

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def _plain(name: str) -> str:
    return name.strip().strip("[]").rstrip(".").lower()


def host_name(header: str) -> str:
    """The name in a Host header, without its port, IPv6 brackets or trailing dot, lower case."""
    h = header.strip()
    if h.startswith("["):
        return _plain(h[: h.find("]") + 1]) if "]" in h else ""
    return _plain(h.rpartition(":")[0] if ":" in h else h)


def allowed_hosts(bound: str, extra=()) -> frozenset[str]:
    """Host names the app answers: this machine's loopback names, the address it is bound to
    (unless that is every address) and the names given with --allowed-host."""
    names = set(LOOPBACK_NAMES) | {_plain(n) for n in extra}
    if _plain(bound) not in WILDCARDS:
        names.add(_plain(bound))
    return frozenset(names)


def is_loopback(bound: str) -> bool:
    name = _plain(bound)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class LoginTokens:
    """The login form's CSRF token: a time and a nonce signed with a secret of this process
    (HMAC-SHA256), valid for LOGIN_FORM_MINUTES. A value a client made up, or one from before a
    restart, does not verify, so an attacker who can plant a cookie cannot pair it with a form."""

    def __init__(self):
        self._key = secrets.token_bytes(32)

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), "sha256").hexdigest()

    def issue(self) -> str:
        body = f"{int(time.time())}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac(body)}"

    def check(self, token: str) -> str:
        """"ok", "expired" (issued here, too long ago) or "forged"."""
        body, _, mac = token.rpartition(".")
        issued = body.partition(".")[0]
        if not (issued.isascii() and issued.isdigit()) or not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            return "forged"
        return "ok" if time.time() - int(issued) <= config.LOGIN_FORM_MINUTES * 60 else "expired"
