"""Feature cache: measurements of a photo keyed by the sha256 of its bytes and the version of the
measuring code, in a SQLite file (WAL mode). Training and evaluation on thousands of photos
decode each photo once; any change to the code that measures (any module of triage.measure,
its config included: triage.measure.code_version) changes the version and so starts a fresh
table.

Location: $TRIAGE_CACHE_DIR, else $XDG_CACHE_HOME/triage, else ~/.cache/triage;
TRIAGE_CACHE_DIR=off disables it. The cache holds numbers only, never pixels.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from ..measure import code_version

_OPEN: dict[str, "FeatureCache"] = {}


class FeatureCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.version = code_version()
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS measurements (sha256 TEXT, version TEXT, value TEXT, PRIMARY KEY (sha256, version))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @classmethod
    def at(cls, path: str | Path) -> "FeatureCache":
        """The cache at `path`, opened once per process (workers call this per photo)."""
        key = str(path)
        if key not in _OPEN:
            _OPEN[key] = cls(path)
        return _OPEN[key]

    @classmethod
    def default(cls) -> "FeatureCache | None":
        where = os.environ.get("TRIAGE_CACHE_DIR")
        if where == "off":
            return None
        base = Path(where) if where else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "triage"
        try:
            return cls.at(base / "features.sqlite")
        except (OSError, sqlite3.Error):
            return None  # a cache that cannot be opened is no cache, never an error

    def get(self, sha256: str) -> dict | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT value FROM measurements WHERE sha256 = ? AND version = ?", (sha256, self.version)).fetchone()
        return json.loads(row[0]) if row else None

    def put_many(self, values: dict[str, dict]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT OR REPLACE INTO measurements VALUES (?, ?, ?)",
                [(sha, self.version, json.dumps(v)) for sha, v in values.items()],
            )

    def __bool__(self) -> bool:
        return True
