"""runapscheduler as real processes against the test database (PostgreSQL; SQLite file lock).

Each scheduler runs ``tests.scheduler.probe.sleep_briefly`` (SCHEDULER_EXTRA_JOBS, a
hook of tests/settings.py) at
start and then every second, with no source enabled, so nothing touches the network.
The tests wait for log lines and rows with timeouts; they never sleep a fixed time.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django_apscheduler.models import DjangoJobExecution

from core.models import Heartbeat
from scheduler.leader import postgres_conn_params

pytestmark = pytest.mark.slow

PROBE_JOB = "extra:tests.scheduler.probe.sleep_briefly"
APP_NAME = "dipcal-scheduler-test"
TIMEOUT = 20.0


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Scheduler:
    def __init__(self, log: Path, probe_seconds: float, database_url: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATABASE_APPLICATION_NAME": APP_NAME,
            "DJANGO_SETTINGS_MODULE": "tests.settings",  # SCHEDULER_EXTRA_JOBS
            "INGESTION_SOURCES": "",
            "SCHEDULER_EXTRA_JOBS": "tests.scheduler.probe.sleep_briefly",
            "SCHEDULER_EXTRA_JOBS_INTERVAL_SECONDS": "1",
            "SCHEDULER_LOCK_POLL_SECONDS": "0.5",
            "SCHEDULER_HEARTBEAT_SECONDS": "1",
            "PROBE_SECONDS": str(probe_seconds),
            "DJANGO_LOG_LEVEL": "INFO",
        }
        self.log = log
        self.output = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runapscheduler"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_line(self, fragment: str) -> None:
        wait_for(
            lambda: fragment in self.text() or self.process.poll() is not None,
            f"{fragment!r} in {self.log.name}",
        )
        assert fragment in self.text(), f"exited early:\n{self.text()}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        self.output.close()


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[..., Scheduler]]:
    started: list[Scheduler] = []

    def start(
        name: str, probe_seconds: float = 0.2, database_url: str = ""
    ) -> Scheduler:
        if not database_url:
            db = connection.settings_dict
            database_url = (
                f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            )
        scheduler = Scheduler(tmp_path / f"{name}.log", probe_seconds, database_url)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.stop()


@pytest.mark.postgres
@pytest.mark.django_db(
    transaction=True
)  # committed rows: the subprocesses share the DB
def test_standby_takes_over_when_the_leader_is_killed(start):
    first = start("first")
    first.wait_for_line(f"probe job started pid={first.pid}")

    second = start("second")
    second.wait_for_line("is standing by")
    assert f"probe job started pid={second.pid}" not in second.text()

    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=TIMEOUT)

    second.wait_for_line(f"scheduler {socket.gethostname()}:{second.pid} is the leader")
    second.wait_for_line(f"probe job started pid={second.pid}")
    wait_for(
        lambda: Heartbeat.objects.filter(
            name="scheduler", holder__endswith=f":{second.pid}"
        ).exists(),
        "the new leader's heartbeat",
    )

    second.process.send_signal(signal.SIGTERM)
    assert second.process.wait(timeout=TIMEOUT) == 0


@pytest.mark.postgres
@pytest.mark.django_db(
    transaction=True
)  # committed rows: the subprocesses share the DB
def test_sigterm_lets_the_running_job_finish_and_exits_zero(start):
    scheduler = start("only", probe_seconds=3)
    scheduler.wait_for_line(f"probe job started pid={scheduler.pid}")

    scheduler.process.send_signal(signal.SIGTERM)
    scheduler.wait_for_line("Terminated received")
    scheduler.process.send_signal(signal.SIGINT)  # a second signal is ignored

    assert scheduler.process.wait(timeout=TIMEOUT) == 0
    log = scheduler.text()
    assert "received again" in log
    assert log.index("Terminated received") < log.index(
        f"probe job finished pid={scheduler.pid}"
    )
    statuses = list(
        DjangoJobExecution.objects.filter(job_id=PROBE_JOB).values_list(
            "status", flat=True
        )
    )
    assert statuses == [DjangoJobExecution.SUCCESS]


@pytest.mark.postgres
@pytest.mark.django_db(
    transaction=True
)  # committed rows: the subprocesses share the DB
def test_jobs_survive_their_database_connections_being_killed(start):
    scheduler = start("only")
    wait_for(
        lambda: DjangoJobExecution.objects.filter(
            job_id=PROBE_JOB, status=DjangoJobExecution.SUCCESS
        ).exists(),
        "a first successful probe run",
    )

    # What a PostgreSQL restart does to Django's connections (the lock has its own).
    with psycopg.connect(**postgres_conn_params(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [APP_NAME],
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1
    last_id = DjangoJobExecution.objects.order_by("-id").values_list("id", flat=True)[0]

    # A later run succeeds in the same process, without a restart.
    wait_for(
        lambda: DjangoJobExecution.objects.filter(
            job_id=PROBE_JOB, status=DjangoJobExecution.SUCCESS, id__gt=last_id
        ).exists(),
        "a successful probe run after the kill",
    )
    assert scheduler.process.poll() is None
    assert "lost the leader lock" not in scheduler.text()


def test_sqlite_file_lock_keeps_a_second_scheduler_on_standby(start, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        timeout=120,
    )
    first = start("first", database_url=database_url)
    first.wait_for_line(f"probe job started pid={first.pid}")
    assert "file lock" in first.text()

    second = start("second", database_url=database_url)
    second.wait_for_line("is standing by")

    first.process.send_signal(signal.SIGKILL)  # the kernel drops its flock
    first.process.wait(timeout=TIMEOUT)

    second.wait_for_line(f"probe job started pid={second.pid}")
    second.process.send_signal(signal.SIGTERM)
    assert second.process.wait(timeout=TIMEOUT) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_leader_that_loses_its_lock_session_stops_and_takes_leadership_again(start):
    scheduler = start("only")
    scheduler.wait_for_line(f"probe job started pid={scheduler.pid}")

    # A database restart ends the lock's session: the lock is gone with it.
    with psycopg.connect(**postgres_conn_params(), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [f"{APP_NAME}:scheduler-lock"],
        )

    scheduler.wait_for_line("lost the leader lock")
    wait_for(
        lambda: scheduler.text().count(" is the leader ") == 2,
        "leadership taken again",
    )
    assert scheduler.process.poll() is None
    scheduler.process.send_signal(signal.SIGTERM)
    assert scheduler.process.wait(timeout=TIMEOUT) == 0
