"""Gunicorn settings for the web role: `gunicorn -c gunicorn.conf.py`.

Every knob is an environment variable (documented in .env.example and
docs/deployment.md), so the image never needs a different command line.
"""

import os
import sys
from pathlib import Path

# The app lives under src/ (manage.py adds it the same way); the log format is read
# from it before gunicorn loads the app.
SRC = Path(__file__).resolve().parent / "src"
sys.path.insert(0, str(SRC))

from core.logformat import LINE_FORMATTER  # noqa: E402

# Production web serving: refuse the development secret key (see core.settings).
# An operator can still opt out explicitly with DJANGO_REQUIRE_SECRET_KEY=0.
os.environ.setdefault("DJANGO_REQUIRE_SECRET_KEY", "1")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _default_workers() -> int:
    # sched_getaffinity honours CPU pinning (cpuset); cpu_count would report every
    # core of the host. Capped: each worker holds the app and DB connections.
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return min(2 * cpus + 1, 8)


wsgi_app = "core.wsgi:application"
pythonpath = str(SRC)

bind = [os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"]
workers = _int("GUNICORN_WORKERS", _default_workers())
# The app is loaded once, in the master, and the workers are forked from it: a new
# container serves after one Django start-up instead of one per worker, all competing
# for the CPU (that start-up is how long an upgrade leaves web unavailable), and the
# workers share the loaded code's memory. Nothing connects to the database or
# starts a thread at import, so nothing is shared across the fork that must not be.
preload_app = True
# Threads let a worker overlap requests that wait on PostgreSQL; each thread holds
# its own connection (DATABASE_CONN_MAX_AGE), so workers x threads x replicas must
# stay below PostgreSQL's max_connections.
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request that takes longer than this is killed and its worker restarted.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM, workers finish in-flight requests for this long before being killed;
# compose's stop_grace_period for web is longer than this.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Behind a load balancer, keep this above the balancer's idle timeout or it will
# reuse connections gunicorn has closed (sporadic 502s).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so slow leaks cannot accumulate; jitter avoids all
# workers restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# The heartbeat file on an overlay filesystem can stall workers; tmpfs cannot.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# No runtime control socket: nothing uses gunicornc, and it would write to $HOME.
control_socket_disable = True

# LOGGING: access and error logs on stdout, in the same one-line key=value shape
# as Django's LOGGING (core.logformat), so one parser reads every line of the stack.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info").lower()
access_log_format = (
    'method=%(m)s path="%(U)s" query="%(q)s" status=%(s)s bytes=%(B)s '
    'duration_ms=%(M)s remote=%(h)s forwarded_for="%({x-forwarded-for}i)s" '
    'user_agent="%(a)s"'
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": dict(LINE_FORMATTER)},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {
            "handlers": ["console"],
            "level": loglevel.upper(),
            "propagate": False,
        },
        "gunicorn.access": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
