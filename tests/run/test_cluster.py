"""`triage run --scheduler`: the same rows from a Dask cluster as from the local pool, files of a
killed worker retried and written once, and one-line errors for a cluster that cannot serve."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli import app
from triage.run import config
from triage.run.batch import run

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_images"


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as c:  # fmt: skip
        yield c


def _rows(out: Path) -> bytes:
    return (out / "results.jsonl").read_bytes()


def test_a_cluster_gives_the_local_pools_rows_and_previews(cluster, tmp_path):
    run([SAMPLES], tmp_path / "local", workers=2, progress=False)
    run([SAMPLES], tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert _rows(tmp_path / "dask") == _rows(tmp_path / "local")
    local = {p.name: p.read_bytes() for p in (tmp_path / "local" / "overlays").iterdir()}
    assert local and {p.name: p.read_bytes() for p in (tmp_path / "dask" / "overlays").iterdir()} == local
    # --resume on the cluster reuses every row without sending a file
    summary = run([SAMPLES], tmp_path / "dask", scheduler=cluster.scheduler_address, resume=True, progress=False)
    assert summary.reused == summary.total == 24 and _rows(tmp_path / "dask") == _rows(tmp_path / "local")


def test_a_killed_workers_files_are_retried_and_written_once(cluster, tmp_path):
    run([SAMPLES], tmp_path / "local", workers=2, progress=False, report=False)
    out = tmp_path / "dask"
    done = threading.Event()
    result = {}

    def go():
        try:
            result["summary"] = run([SAMPLES], out, scheduler=cluster.scheduler_address, progress=False, report=False)
        finally:
            done.set()

    threading.Thread(target=go, daemon=True).start()
    partial = out / "results.partial.jsonl"
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    victim = next(iter(cluster.workers.values())).process.pid  # a worker with photos in hand
    os.kill(victim, signal.SIGKILL)
    assert done.wait(300)
    assert result["summary"].errors == 0 and result["summary"].total == 24
    assert _rows(out) == _rows(tmp_path / "local")  # every file exactly once, the same rows
    assert not partial.exists()


def test_an_unreachable_scheduler_is_exit_2_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CLUSTER_CONNECT_TIMEOUT_S", 2)
    r = CliRunner().invoke(app, ["run", str(SAMPLES), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in lines[0]
    # the same from Dask's own variable when the option is absent
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    r = CliRunner().invoke(app, ["run", str(SAMPLES), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.stderr
    assert not (tmp_path / "o" / "results.jsonl").exists()


def test_a_worker_without_triage_is_exit_2_with_one_line(tmp_path):
    """A worker whose Python cannot import triage (a stand-in package that fails to import sits
    first on its path) is named in one line before any photo is sent."""
    from dask.distributed import LocalCluster

    stub = tmp_path / "stub" / "triage"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('triage is not installed here')\n")
    with LocalCluster(n_workers=0, processes=True, dashboard_address=":0", silence_logs=logging.ERROR) as c:
        env = dict(os.environ, PYTHONPATH=str(stub.parent))
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", c.scheduler_address, "--nthreads", "1", "--no-dashboard"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            r = CliRunner().invoke(app, ["run", str(SAMPLES), "--out", str(tmp_path / "o"), "--scheduler", c.scheduler_address])
        finally:
            worker.kill()
            worker.wait()
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "a Dask worker cannot run triage" in lines[0], r.stderr
    assert not (tmp_path / "o" / "results.jsonl").exists()
