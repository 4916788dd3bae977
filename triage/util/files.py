"""Writing outputs so that they are never half-written: temp file in the same folder, then rename;
several files that belong together are all written before any is renamed, with a marker file
standing while they are replaced."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's own 0600 would hide outputs


def _write_temp(path: Path, data: bytes) -> str:
    """Write `data` to a new temp file beside `path` (flushed to disk); its name. Nothing is
    left behind when a write fails."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically (a reader sees the old file or the whole new one)."""
    path = Path(path)
    tmp = _write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def replace_together(folder: str | Path, files: dict[str, bytes], marker: str, marker_text: str) -> None:
    """Replace several files of `folder` together, as far as renames allow: every file is written
    to a temp file first (when a write fails, the temp files go and no file is replaced); then
    `marker` is written, the temp files are renamed over the files and the marker is removed. A
    marker left behind says the process was stopped between the renames: the files may come
    from two writes."""
    folder = Path(folder)
    temps: dict[str, str] = {}
    try:
        for name, data in files.items():
            temps[name] = _write_temp(folder / name, data)
        atomic_write_text(folder / marker, marker_text)
        for name in list(temps):
            os.replace(temps.pop(name), folder / name)
    finally:
        for tmp in temps.values():
            Path(tmp).unlink(missing_ok=True)
    (folder / marker).unlink()


def file_sha256(path: str | Path) -> str | None:
    """sha256 of a file's bytes, read in 1 MiB chunks; None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()
