"""Text that can be written and printed whatever a file name holds: bytes that are not UTF-8 and
control characters are shown escaped, never passed on."""

from __future__ import annotations

import re

#: characters that move the cursor, end a line or reorder text on a terminal: C0/C1 controls,
#: DEL, the Unicode line and paragraph separators and the bidirectional overrides
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def display_path(s: str) -> str:
    """A path as writable text: bytes of the name that were not UTF-8 (which Python keeps as
    lone surrogates) shown as \\xNN, so that UTF-8 files, CSV and HTML can hold it."""
    try:
        raw = s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no file name produced
        return s.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _escape(m: re.Match) -> str:
    c = m.group(0)
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def printable(s: str) -> str:
    """`s` for a terminal or a one-line message: display_path, then every control character
    escaped (a newline in a file name cannot start a line of its own)."""
    return UNSAFE.sub(_escape, display_path(s))
