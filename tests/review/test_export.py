"""export-labels never leaves a dataset half-written: images and labels.csv are written to
temporary files and renamed, so a re-export killed at any point, or stopped by a full disk,
leaves the previous dataset whole; a full disk is one line and exit code 3."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from review_kit import jsonl, opened, row, with_users
from typer.testing import CliRunner

from triage.cli import app as cli
from triage.review import store


@pytest.fixture
def reviewed(tmp_path) -> str:
    """A database with three imported photos (their originals on disk), each reviewed."""
    photos, run = tmp_path / "photos", tmp_path / "run"
    photos.mkdir()
    run.mkdir()
    rows = []
    for i in range(3):
        data = os.urandom(20_000)
        (photos / f"p{i:03d}.jpg").write_bytes(data)
        rows.append(row(i, sha256=hashlib.sha256(data).hexdigest()))
    (run / "results.jsonl").write_bytes(jsonl(rows))
    (run / "run.json").write_text(json.dumps({"settings": {"inputs": [str(photos)]}}))
    url = with_users(f"sqlite:///{tmp_path / 'review.sqlite'}", "ana")
    with opened(url) as e:
        store.import_run(e, run)
        with e.connect() as conn:
            ana = conn.execute(sa.select(store.users.c.id)).scalar_one()
        for it in store.queue(e):
            store.decide(e, it["id"], ana, "monitor")
    return url


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _whole(out: Path) -> None:
    """Every image labels.csv names is there and is the photo it names (by the sha256 prefix)."""
    lines = (out / "labels.csv").read_text().splitlines()[1:]
    assert len(lines) == 3
    for line in lines:
        name = line.split(",")[0]
        assert hashlib.sha256((out / name).read_bytes()).hexdigest().startswith(Path(name).stem), name


@contextmanager
def killed_after_first_output_opened(out: Path):
    """Raise KeyboardInterrupt (a kill) right after the first file under `out` is opened for
    writing, whichever way it is opened."""
    real_open, real_os_open = builtins.open, os.open

    def under_out(file) -> bool:
        return isinstance(file, (str, Path)) and str(file).startswith(str(out))

    def opened_then_killed(file, mode="r", *args, **kw):
        f = real_open(file, mode, *args, **kw)
        if under_out(file) and any(c in mode for c in "wax+"):
            f.close()
            raise KeyboardInterrupt("killed")
        return f

    def os_opened_then_killed(file, flags, *args, **kw):
        fd = real_os_open(file, flags, *args, **kw)
        if under_out(file) and flags & (os.O_WRONLY | os.O_RDWR):
            os.close(fd)
            raise KeyboardInterrupt("killed")
        return fd

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", opened_then_killed)
        mp.setattr(os, "open", os_opened_then_killed)
        yield


def test_a_re_export_killed_while_writing_leaves_the_dataset_whole(reviewed, tmp_path):
    out = tmp_path / "exported"
    with opened(reviewed) as e:
        assert store.export_labels(e, out) == (3, 0)
        before = (out / "labels.csv").read_bytes()
        with pytest.raises(KeyboardInterrupt), killed_after_first_output_opened(out):
            store.export_labels(e, out)
        assert (out / "labels.csv").read_bytes() == before
        _whole(out)
        assert store.export_labels(e, out) == (3, 0)  # the next export runs and tidies up
    _whole(out)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


@contextmanager
def small_disk(where: Path, size: str = "512k"):
    """A tmpfs of `size` mounted at `where` (root only), to fill up."""
    where.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)]).returncode:
        pytest.skip("filling a disk needs root to mount a small tmpfs")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb", buffering=0) as f:
        while True:
            try:
                f.write(bytes(4096))
            except OSError:
                return


def test_a_full_disk_is_one_line_exit_3_and_the_previous_dataset_stays(reviewed, tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        out = disk / "exported"
        r = CliRunner().invoke(cli, ["export-labels", "--out", str(out), "--db", reviewed])
        assert r.exit_code == 0, r.output
        before = _files(out)
        _fill(disk)
        r = CliRunner().invoke(cli, ["export-labels", "--out", str(out), "--db", reviewed])
        assert r.exit_code == 3 and r.output.count("\n") == 1 and "cannot write" in r.output, (r.exit_code, r.output, r.exception)
        assert _files(out) == before
        _whole(out)
