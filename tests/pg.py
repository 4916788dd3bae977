"""A throw-away PostgreSQL server for the tests: Debian's `postgresql` package (installed with
apt-get when missing and running as root), a fresh cluster in a temporary folder, trust
authentication on 127.0.0.1 and a free port; stopped afterwards."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager

from system import apt_install


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@contextmanager
def postgres_server():
    """Yields a SQLAlchemy URL of a fresh database on a fresh server."""
    if _bin("initdb") is None:
        apt_install("postgresql")
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    folder = tempfile.mkdtemp(prefix="triage-pg-")
    data, sock = os.path.join(folder, "data"), os.path.join(folder, "sock")
    os.mkdir(sock)
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd

        pw = pwd.getpwnam("postgres")
        for p in (folder, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = lambda cmd: subprocess.run(as_user + cmd, capture_output=True, text=True, check=True)  # noqa: E731
    run([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"])
    run([pg_ctl, "-D", data, "-w", "-l", os.path.join(folder, "log"), "-o",
         f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])  # fmt: skip
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE triage_test"))
        admin.dispose()
        yield f"postgresql://postgres@127.0.0.1:{port}/triage_test"
    finally:
        subprocess.run(as_user + [pg_ctl, "-D", data, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
