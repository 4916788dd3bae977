"""A zipped run folder read within caps (config): the zip's directory is measured before it is
parsed, each member the import reads (results.jsonl, run.json, overlays/<sha256>.<kind>.jpg, at
the zip's top or in one folder) is checked against its cap and all of them against a total by
their declared sizes before any is read, and each is read no further than its cap (headers can
lie). Only those members are read, into memory; nothing is written to disk, so member names
cannot point anywhere."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from contextlib import contextmanager

from . import config
from .rows import RunError

PREVIEW = re.compile(r"overlays/[0-9a-f]{64}\.(thumb|overlay)\.jpg")
MB = 1 << 20
#: bytes unpacked per step: one read of n bytes may inflate up to n at once, so n stays small
CHUNK = 1 << 16
#: what a damaged or unusual member raises while it is unpacked
UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, RuntimeError, ValueError)


def _cap(tail: str) -> int:
    """Largest unpacked size of a member, in bytes."""
    mb = {"results.jsonl": config.MAX_RESULTS_MB, "run.json": config.MAX_RUN_JSON_MB}.get(tail, config.MAX_PREVIEW_MB)
    return int(mb * MB)


def _tail(name: str) -> str | None:
    """The member's name in a run folder, when the import reads it."""
    parts = name.split("/")
    tail = "/".join(parts[-2:]) if len(parts) >= 2 and parts[-2] == "overlays" else parts[-1]
    return tail if tail in ("results.jsonl", "run.json") or PREVIEW.fullmatch(tail) else None


def _check_directory(file) -> None:
    """Refuse a zip whose directory is too large to parse (a bomb of many tiny members)."""
    try:
        end = zipfile._EndRecData(file)  # the end-of-directory record, zip64-aware
    except (OSError, ValueError):
        end = None
    if not end:
        raise RunError("not a zip file of a `triage run` folder")
    if end[zipfile._ECD_SIZE] > config.MAX_ZIP_DIRECTORY_MB * MB:
        raise RunError(f"the zip's directory is larger than {config.MAX_ZIP_DIRECTORY_MB} MB: too many members")


def _members(z: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members the import reads, by their name in a run folder (the first of each), checked
    against their caps by their declared sizes."""
    found: dict[str, zipfile.ZipInfo] = {}
    for info in z.infolist():
        tail = _tail(info.filename)
        if tail is not None:
            found.setdefault(tail, info)
    for tail, info in found.items():
        if info.flag_bits & 0x1:
            raise RunError(f"{tail} is encrypted: zip the run without a password")
        if info.file_size > _cap(tail):
            raise RunError(f"{tail} unpacks to more than {_cap(tail) / MB:g} MB")
    if sum(i.file_size for i in found.values()) > config.MAX_UNZIPPED_MB * MB:
        raise RunError(f"the run unpacks to more than {config.MAX_UNZIPPED_MB:g} MB")
    return found


def _read_capped(z: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """The member's bytes, read in small steps; None as soon as they pass `cap`."""
    buf = io.BytesIO()
    with z.open(info) as f:
        while chunk := f.read(CHUNK):
            buf.write(chunk)
            if buf.tell() > cap:
                return None
    return buf.getvalue()


class RunZip:
    """The members of an open zipped run, each read within its cap and the total."""

    def __init__(self, z: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]):
        self._z, self._members = z, members
        self._left = int(config.MAX_UNZIPPED_MB * MB)

    def read(self, tail: str) -> bytes | None:
        """The member's bytes, None when the zip has none; RunError past its cap."""
        info = self._members.get(tail)
        if info is None:
            return None
        cap = min(_cap(tail), self._left)
        try:
            data = _read_capped(self._z, info, cap)
        except UNPACK_ERRORS:
            raise RunError(f"{tail} cannot be unpacked: the zip is damaged or uses an unknown method") from None
        if data is None:
            raise RunError(f"{tail} unpacks to more than {cap / MB:g} MB")
        self._left -= len(data)
        return data

    def preview(self, sha256: str, kind: str) -> bytes | None:
        return self.read(f"overlays/{sha256}.{kind}.jpg")


@contextmanager
def open_run_zip(file):
    """A RunZip of a zip file object (seekable); RunError when it is no zip or breaks a cap."""
    _check_directory(file)
    try:
        z = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise RunError("not a zip file of a `triage run` folder") from None
    with z:
        yield RunZip(z, _members(z))
