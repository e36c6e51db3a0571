"""The service as it runs in production, for the reliability suite to attack.

A seeded PostgreSQL database (migrated, real recorded sample data loaded through the
real ingestion path) and gunicorn started with the repository's gunicorn.conf.py in
production mode (DEBUG off, a real secret key).
"""

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.processes import Running, free_port, http_get, manage, running, wait_until

SECRET_KEY = secrets.token_urlsafe(50)


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    """A production environment: nothing from the developer's shell leaks in."""
    import os

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_LOG_LEVEL": "WARNING",
        # Nothing here may reach the internet: a fetch would hit a closed port.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


def seed(database_url: str) -> None:
    env = service_env(database_url)
    manage("migrate", "--no-input", env=env, timeout=300, check=True)
    manage("loadsample", env=env, timeout=300, check=True)


@dataclass
class Server:
    base: str
    proc: Running

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def gunicorn(
    env: dict[str, str], log: Path, *, workers: int = 2, threads: int = 4
) -> Iterator[Server]:
    """gunicorn -c gunicorn.conf.py, as the web container runs it, on a free port."""
    port = free_port()
    env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_MAX_REQUESTS": "0",  # no worker recycling in the middle of a count
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with running(argv, env, log) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: http_get(base + "/api/health/", timeout=2) is not None,
            timeout=60,
            what="gunicorn answering /api/health/",
            proc=proc,
        )
        yield Server(base, proc)
