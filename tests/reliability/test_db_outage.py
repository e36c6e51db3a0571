"""PostgreSQL restarted under a running web server and scheduler.

A private PostgreSQL server (tests/reliability/pgcluster.py) holds a seeded database;
gunicorn and runapscheduler run against it as in production. The server is stopped
for a few seconds and started again. During the outage every API request must get a
prompt 503 with a JSON body (not a hang, not a traceback); afterwards both processes
recover by themselves: the API answers 200 and the scheduler's next job (a real
ingest) succeeds, without restarting either process.
"""

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.processes import http_get, running, wait_until
from tests.reliability.live import gunicorn, seed, service_env
from tests.reliability.pgcluster import PrivateCluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

JOB = "extra:tests.reliability.jobs.replay_fred"
PATHS = ("/api/events/?country=US", "/api/countries/", "/api/sources/", "/api/health/")
OUTAGE_SECONDS = 5


@pytest.fixture
def cluster():
    cluster = PrivateCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


def successes(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id FROM django_apscheduler_djangojobexecution"
            " WHERE job_id = %s AND status = 'Executed' ORDER BY id",
            [JOB],
        ).fetchall()
    return [row[0] for row in rows]


def timed_get(url: str) -> tuple[int | None, float, bytes]:
    started = time.monotonic()
    response = http_get(url, timeout=30)
    elapsed = time.monotonic() - started
    if response is None:
        return None, elapsed, b""
    return response.status, elapsed, response.body


def test_postgres_restart_under_web_and_scheduler(cluster, tmp_path, report):
    with psycopg.connect(cluster.url + "/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE dipcal")
    url = cluster.url + "/dipcal"
    seed(url)
    env = service_env(url, DJANGO_LOG_LEVEL="INFO")
    scheduler_env = {
        **env,
        "INGESTION_SOURCES": "",
        "DJANGO_SETTINGS_MODULE": "tests.settings",  # SCHEDULER_EXTRA_JOBS
        "SCHEDULER_EXTRA_JOBS": "tests.reliability.jobs.replay_fred",
        "SCHEDULER_EXTRA_JOBS_INTERVAL_SECONDS": "2",
        "SCHEDULER_LOCK_POLL_SECONDS": "0.5",
        "SCHEDULER_HEARTBEAT_SECONDS": "1",
    }
    # manage.py sits at the repository root, so tests.reliability.jobs imports.
    argv = [sys.executable, "manage.py", "runapscheduler"]
    with (
        gunicorn(env, tmp_path / "web.log", workers=2, threads=2) as web,
        running(argv, scheduler_env, tmp_path / "scheduler.log") as scheduler,
    ):
        wait_until(
            lambda: successes(url),
            timeout=60,
            what="a first scheduled ingest",
            proc=scheduler,
        )
        for path in PATHS:
            assert http_get(web.url(path)).status == 200, path

        # ---- the outage -------------------------------------------------------
        cluster.stop("fast")
        down_at = time.monotonic()
        answers = []
        with ThreadPoolExecutor(4) as pool:
            while time.monotonic() - down_at < OUTAGE_SECONDS:
                answers += pool.map(timed_get, [web.url(p) for p in PATHS])
        assert answers
        for status, elapsed, body in answers:
            assert status == 503, (status, body[:300])
            assert "detail" in json.loads(body) or "database" in json.loads(body)
            assert elapsed < 6, f"a request waited {elapsed:.1f}s during the outage"
        slowest = max(elapsed for _, elapsed, _ in answers)
        assert scheduler.process.poll() is None, "the scheduler died with the database"

        # ---- back up: both recover on their own --------------------------------
        cluster.start()
        up_at = time.monotonic()
        before = max(successes(url))
        wait_until(
            lambda: all(
                (r := http_get(web.url(p), timeout=10)) is not None and r.status == 200
                for p in PATHS
            ),
            timeout=30,
            what="the API answering 200 again",
        )
        web_recovered = time.monotonic() - up_at
        wait_until(
            lambda: max(successes(url)) > before,
            timeout=60,
            what="a scheduled ingest succeeding after the restart",
            proc=scheduler,
        )
        scheduler_recovered = time.monotonic() - up_at
        assert scheduler.process.poll() is None
        # The restart ended the leader lock's session; the same process took it again.
        assert "lost the leader lock" in scheduler.output()
        assert scheduler.output().count(" is the leader ") >= 2
        assert web.proc.process.poll() is None
        log = web.proc.output()
        assert "Traceback" not in log, log[-3000:]

        scheduler.process.terminate()
        assert scheduler.process.wait(timeout=60) == 0, scheduler.output()[-3000:]

    report(
        "Faults",
        "PostgreSQL restarted under web and scheduler",
        tried=f"a private PostgreSQL stopped for {OUTAGE_SECONDS}s and started again while gunicorn "
        "(2 workers) and runapscheduler (a real ingest every 2s) ran; 4 clients kept requesting "
        f"{', '.join(PATHS)}",
        showed=f"{len(answers)} requests during the outage, all 503 with a JSON body, slowest {slowest:.2f}s; "
        f"API 200 again {web_recovered:.1f}s after the restart, next scheduled ingest succeeded after "
        f"{scheduler_recovered:.1f}s; no traceback, no process restarted; scheduler exited 0 on SIGTERM",
        requests=len(answers),
        failures=0,
    )
