"""A PostgreSQL server of the test's own, so it can be stopped and started for real.

Restarting the machine's shared cluster would kill the test run's own database. This
initialises a throwaway cluster (initdb) on a free port with the same PostgreSQL
binaries and runs it as the ``postgres`` user when the tests run as root (PostgreSQL
refuses to run as root).

``PrivateCluster(standby_of=primary)`` is a streaming replica of another private
cluster instead: ``pg_basebackup -R`` copies the running primary (initdb's trust
pg_hba already admits replication connections from 127.0.0.1, and PostgreSQL 15's
defaults, wal_level=replica and max_wal_senders=10, allow them) and writes the
primary_conninfo and standby.signal that make it follow the primary when started.
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.processes import free_port


def _bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    found = candidates[-1] if candidates else shutil.which("pg_ctl")
    return Path(found).parent if found else None


class PrivateCluster:
    def __init__(self, standby_of: "PrivateCluster | None" = None) -> None:
        bindir = _bindir()
        if bindir is None:
            pytest.skip("no PostgreSQL server binaries (pg_ctl) on this machine")
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dipcal-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        if standby_of is None:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "--no-sync", "-E", "UTF8")  # fmt: skip
        else:
            self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(standby_of.port),
                      "-U", "postgres", "-D", str(self.data), "-R", "-X", "stream",
                      "-c", "fast", "--no-sync")  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str) -> None:
        argv = [str(self.bindir / tool), *args]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
