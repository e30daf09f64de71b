"""A throwaway PostgreSQL server for the tests: Debian's ``postgresql`` package (``scripts/test.sh``
installs it), a fresh cluster in a temporary folder (``initdb`` as the ``postgres`` user when run as
root, which PostgreSQL requires), on a free loopback port, with trust authentication for this one
user, stopped and deleted afterwards. Nothing of the machine's own clusters is touched.

``DASH_TEST_PG_URL`` (a PostgreSQL URL) uses an existing server instead.
"""
from __future__ import annotations

import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


def bin_dir() -> pathlib.Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them off PATH), or None."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return pathlib.Path(d)
    exe = shutil.which("initdb")
    return pathlib.Path(exe).resolve().parent if exe and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scratch:
    """``start()`` → a URL; ``stop()`` removes everything."""

    def __init__(self) -> None:
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="dash_pg_"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.bin = bin_dir()
        self.as_user: list[str] = []
        if os.geteuid() == 0:           # initdb and postgres refuse to run as root
            pwd.getpwnam("postgres")    # KeyError: the package is not installed
            shutil.chown(self.dir, "postgres", "postgres")
            os.chmod(self.dir, 0o700)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 120) -> None:
        r = subprocess.run(self.as_user + list(args), capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {r.stdout}{r.stderr}")

    def start(self) -> str:
        assert self.bin is not None
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "dash",
                  "-E", "UTF8", "--no-sync")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w",
                  "-t", "60", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c synchronous_commit=off -c max_connections=300", "start")
        return f"postgresql://dash@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            if self.bin is not None and (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", timeout=60)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def wait_ready(url: str, timeout: float = 30) -> None:
    import sqlalchemy as sa

    from core.classroom.store import database_url
    engine = sa.create_engine(database_url(url))
    deadline = time.time() + timeout
    try:
        while True:
            try:
                with engine.connect() as c:
                    c.execute(sa.text("select 1"))
                return
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    """``pg.py start`` prints the URL and the folder; ``pg.py stop FOLDER`` (scripts/test.sh)."""
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    if argv[:1] == ["start"]:
        scratch = Scratch()
        url = scratch.start()
        wait_ready(url)
        print(url)
        print(scratch.dir)
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        scratch = Scratch.__new__(Scratch)
        scratch.dir = pathlib.Path(argv[1])
        scratch.data, scratch.bin = scratch.dir / "data", bin_dir()
        scratch.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        scratch.stop()
        return 0
    print("usage: pg.py start | pg.py stop FOLDER", file=sys.stderr)
    return 2


if __name__ == "__main__":
    import sys
    raise SystemExit(main(sys.argv[1:]))
