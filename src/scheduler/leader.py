"""Leadership: at most one runapscheduler process runs jobs at a time.

django-apscheduler has no coordination of its own (its docs: run exactly one
scheduler; the APScheduler FAQ: a job store cannot be shared). A rolling deploy or an
accidental ``scale: 2`` would run every crawl twice. So a process runs jobs only while
it holds a lock; the others wait as standbys and poll it.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a dedicated
  psycopg connection, never Django's: ``close_old_connections`` in jobs and Django's
  health checks may close Django's connection at any time, which would release the
  lock under us. When the leader dies, its session ends and the lock frees at once.
  When the lock connection dies (database restart), ``is_held`` turns False and the
  leader stops its jobs and goes back to standby.
- SQLite: ``fcntl.flock`` on a file beside the database (one machine by definition).
"""

import contextlib
import fcntl
import hashlib
import logging
import os
import socket
from pathlib import Path
from typing import Any, Protocol

import psycopg
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

LOCK_NAME = "dipping-calendar:scheduler"
# Advisory locks are keyed by a bigint per database; derive a stable one from a name.
LOCK_KEY = int.from_bytes(
    hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True
)


def identity() -> str:
    """Who this process is, for logs and the heartbeat: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaderLock(Protocol):
    description: str

    def try_acquire(self) -> bool: ...

    def is_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """A session advisory lock on its own autocommit connection."""

    def __init__(self, conn_params: dict[str, Any], key: int = LOCK_KEY) -> None:
        self.conn_params = conn_params
        self.key = key
        self.conn: psycopg.Connection | None = None
        self.description = (
            f"PostgreSQL advisory lock {key} on {conn_params.get('dbname')}"
        )

    def _connect(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(**self.conn_params, autocommit=True)
        return self.conn

    def try_acquire(self) -> bool:
        try:
            conn = self._connect()
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
        except psycopg.Error as exc:
            logger.warning("cannot reach the database for the leader lock: %s", exc)
            self._close()
            return False
        return bool(row and row[0])

    def is_held(self) -> bool:
        """True while the session that holds the lock is alive (a round trip proves it)."""
        if self.conn is None or self.conn.closed:
            return False
        try:
            self.conn.execute("SELECT 1")
        except psycopg.Error as exc:
            logger.error("leader lock connection lost: %s", exc)
            self._close()
            return False
        return True

    def release(self) -> None:
        if self.conn is not None and not self.conn.closed:
            # If this fails the session is going away anyway, and the lock with it.
            with contextlib.suppress(psycopg.Error):
                self.conn.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        self._close()

    def _close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None


class FileLock:
    """An exclusive, non-blocking flock; the kernel drops it when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.description = f"file lock {path}"

    def try_acquire(self) -> bool:
        if self.fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # Leave a note for humans; the lock itself is the flock.
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{identity()}\n".encode())
        return True

    def is_held(self) -> bool:
        """False if the file was deleted or replaced: a new process could lock the new one."""
        if self.fd is None:
            return False
        try:
            return os.stat(self.path).st_ino == os.fstat(self.fd).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def postgres_conn_params(alias: str = "default") -> dict[str, Any]:
    """psycopg.connect() keyword arguments for the database ``alias``, for the lock."""
    params = connections[alias].get_connection_params()
    # Django-specific adapters and pooling make no sense for a bare lock connection.
    for key in ("context", "cursor_factory", "prepare_threshold", "pool"):
        params.pop(key, None)
    name = params.get("application_name") or "dipping-calendar"
    params["application_name"] = f"{name}:scheduler-lock"[:63]
    # Notice a dead server or a cut network within about half a minute.
    params.setdefault("keepalives", 1)
    params.setdefault("keepalives_idle", 10)
    params.setdefault("keepalives_interval", 5)
    params.setdefault("keepalives_count", 3)
    return params


def sqlite_lock_path(alias: str = "default") -> Path:
    if settings.SCHEDULER_LOCK_PATH:
        return Path(settings.SCHEDULER_LOCK_PATH)
    name = str(connections[alias].settings_dict["NAME"])
    if not name or name == ":memory:" or name.startswith("file:"):
        return Path(settings.BASE_DIR) / "var" / "scheduler.lock"
    return Path(f"{name}.scheduler.lock")


def leader_lock(alias: str = "default") -> LeaderLock:
    """The lock that fits the configured database."""
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        return PostgresAdvisoryLock(postgres_conn_params(alias))
    if vendor == "sqlite":
        return FileLock(sqlite_lock_path(alias))
    raise NotImplementedError(f"no scheduler leader lock for {vendor} databases")
