"""Processes for process-level tests: start, wait for, probe and always stop them.

Shared by the deployment proof (tests/deploy) and the reliability suite
(tests/reliability), which run gunicorn, the scheduler and PostgreSQL for real.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manage(
    *args: str, env: dict[str, str], timeout: float = 120, check: bool = False
) -> subprocess.CompletedProcess:
    """Run ``manage.py`` from the repository root as a process of its own, with ``env``
    as its whole environment. With ``check``, fail with its output unless it exits 0."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, (
            f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
        )
    return result


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own next to the test database, dropped after.

    Yields its URL. For processes that must share committed data with the test
    (pytest-django's own database is wrapped in transactions or flushed).
    """
    import secrets

    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
    }
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{params['password']}" if params["password"] else ""
    try:
        yield f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Running:
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running(argv: list[str], env: dict[str, str], log: Path) -> Iterator[Running]:
    """Start ``argv`` in its own process group; always kill the group on exit."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Running(process, log)
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    # gunicorn workers or anything else left in the group.
    _signal_group(process, signal.SIGKILL)
    process.wait(timeout=grace)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    proc: Running | None = None,
) -> None:
    """Poll ``condition`` until true; fail with the process output if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.process.poll() is not None:
            raise AssertionError(
                f"{what}: process exited with {proc.process.returncode}\n{proc.output()}"
            )
        time.sleep(0.1)
    detail = f"\n{proc.output()}" if proc is not None else ""
    raise AssertionError(f"{what}: not within {timeout:.0f}s{detail}")


def terminate_backend(pid: int) -> None:
    """What a PostgreSQL restart does to a connection: its backend process ends.
    Returns once the backend is gone (it has said so on its socket before it goes)."""
    import psycopg

    from scheduler.leader import postgres_conn_params

    with psycopg.connect(**postgres_conn_params(), autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
        assert ended == (True,), f"no backend {pid} to terminate"
        wait_until(
            lambda: (
                admin.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]
                ).fetchone()
                is None
            ),
            timeout=30,
            what=f"backend {pid} gone",
        )


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def http_get(url: str, timeout: float = 5.0) -> Response | None:
    """GET ``url``; None when nothing answers (connection refused, timeout)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return Response(reply.status, dict(reply.headers), reply.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
