"""Which files a run reads: image files under the input folders (contract: walked recursively in
sorted order, hidden files and folders skipped, symlink loops cannot hang it, image files by
extension case-insensitively), and the bad-option error every runner command shares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..util.text import display_path
from . import config


class UsageError(Exception):
    """Bad options or inputs: exit code 2, one-line message."""


@dataclass(frozen=True)
class Source:
    path: str  #: where to read it (the file's real name)
    rel: str  #: the row's path: relative to its input root, POSIX separators, bytes that are not UTF-8 shown as \xNN
    error: str | None = None  #: why it cannot be read at all (a folder that cannot be listed: rel ends in "/")


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in config.IMAGE_EXTENSIONS


def discover(inputs: list[str | Path]) -> list[Source]:
    """Image files under the inputs: folders walked recursively in sorted order, hidden files and
    folders skipped, each directory entered once (symlink loops cannot hang it); a file given
    directly keeps its name. Sorted by row path; a name whose bytes are not UTF-8 is read by its
    real name and shown escaped in its row. A folder that cannot be listed is a Source with an
    error (its rows would be missing without a word)."""
    found: list[Source] = []
    for inp in inputs:
        p = Path(inp)
        if not p.exists():
            raise UsageError(f"input not found: {inp}")
        if not p.is_dir():
            found.append(Source(str(p), display_path(p.name)))
            continue
        found.extend(_walk(p))
    found.sort(key=lambda s: s.rel)
    return found


def outside_output(sources: list[Source], inputs: list[str | Path], out: str | Path) -> list[Source]:
    """The sources that are not in the output folder `out` (its previews are not photos, and a
    second run would triage them); an output folder that is itself an input is refused."""
    folder = os.path.realpath(out)
    if any(os.path.realpath(i) == folder for i in inputs):
        raise UsageError(f"--out {out} is an input folder: its outputs would be triaged as photos; choose another folder")
    return [s for s in sources if not os.path.realpath(s.path).startswith(folder + os.sep)]


def _walk(top: Path) -> list[Source]:
    """The image files under one input folder (see discover)."""
    found: list[Source] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(e: OSError) -> None:
        found.append(_folder_error(top, e.filename or str(top), e))

    for root, dirs, files in os.walk(top, followlinks=True, onerror=unreadable):
        try:
            st = os.stat(root)
        except OSError as e:
            unreadable(e)
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not is_image_name(name):
                continue
            full = Path(root) / name
            found.append(Source(str(full), display_path(full.relative_to(top).as_posix())))
    return found


def _folder_error(top: Path, folder: str, e: OSError) -> Source:
    rel = Path(folder).relative_to(top).as_posix() if Path(folder) != top else "."
    why = (e.strerror or type(e).__name__).lower()
    return Source(str(folder), display_path(rel) + "/", f"cannot read folder: {why}")


def sources_of_run(run_info: dict | None, out: str | Path | None = None) -> dict[str, str]:
    """Row path -> file to read, for a finished run (run.json's inputs walked again as
    `discover` does, outside its output folder `out`); inputs that are gone are left out."""
    inputs = [i for i in ((run_info or {}).get("settings") or {}).get("inputs") or [] if Path(i).exists()]
    try:
        sources = discover(inputs)
        sources = outside_output(sources, inputs, out) if out is not None else sources
        return {s.rel: s.path for s in sources if s.error is None}
    except UsageError:
        return {}
