import threading
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from django.db import connection
from django_apscheduler.models import DjangoJob, DjangoJobExecution

from ingestion.errors import IngestionError
from ingestion.records import DateWindow
from scheduler import jobs
from scheduler.schedule import build_scheduler
from tests.factories import EconomicEventFactory
from tests.processes import terminate_backend

# Job functions close old connections as Django does per request; inside a test's
# wrapping transaction that would drop the connection, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def test_refresh_crawls_the_source_default_window(ingest_calls):
    jobs.refresh("rangesrc")

    assert ingest_calls == [("rangesrc", {"trigger": "scheduler"})]


@time_machine.travel(datetime(2024, 2, 29, 23, 0, 3, tzinfo=UTC), tick=False)
def test_monthly_crawl_fetches_the_whole_next_month(ingest_calls):
    jobs.crawl_next_month("rangesrc")

    assert ingest_calls == [
        (
            "rangesrc",
            {
                "window": DateWindow(date(2024, 3, 1), date(2024, 3, 31)),
                "trigger": "scheduler",
            },
        )
    ]


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (
            datetime(2024, 1, 31, 23, 0, tzinfo=UTC),
            (date(2024, 2, 1), date(2024, 2, 29)),
        ),
        # Delayed past midnight (within the grace time): still February.
        (
            datetime(2024, 2, 1, 0, 20, tzinfo=UTC),
            (date(2024, 2, 1), date(2024, 2, 29)),
        ),
        # A catch-up days later crawls the month whose crawl was missed.
        (
            datetime(2025, 2, 10, 9, 0, tzinfo=UTC),
            (date(2025, 2, 1), date(2025, 2, 28)),
        ),
        (
            datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
            (date(2026, 1, 1), date(2026, 1, 31)),
        ),
    ],
)
def test_month_to_crawl(now, month):
    assert jobs.month_to_crawl(now) == DateWindow(*month)


def test_follow_up_recrawls_one_day(ingest_calls):
    jobs.follow_up("rangesrc", date(2026, 6, 2))

    assert ingest_calls == [
        (
            "rangesrc",
            {
                "window": DateWindow(date(2026, 6, 2), date(2026, 6, 2)),
                "trigger": "scheduler",
            },
        )
    ]


def test_job_errors_propagate_so_the_execution_is_recorded_as_failed(monkeypatch):
    def failing(name, **kwargs):
        raise IngestionError("rangesrc: HTTP 503")

    monkeypatch.setattr("ingestion.services.ingest_source", failing)

    with pytest.raises(IngestionError, match="HTTP 503"):
        jobs.refresh("rangesrc")


@time_machine.travel(datetime(2026, 6, 1, 12, 0, tzinfo=UTC), tick=False)
def test_prune_deletes_executions_older_than_the_max_age(settings):
    settings.SCHEDULER_EXECUTION_MAX_AGE_DAYS = 30
    job = DjangoJob.objects.create(id="ingest:rangesrc", job_state=b"")
    old = DjangoJobExecution.objects.create(
        job=job,
        run_time=datetime(2026, 4, 1, tzinfo=UTC),
        status=DjangoJobExecution.SUCCESS,
    )
    recent = DjangoJobExecution.objects.create(
        job=job,
        run_time=datetime(2026, 5, 20, tzinfo=UTC),
        status=DjangoJobExecution.SUCCESS,
    )

    jobs.prune_executions()

    assert list(DjangoJobExecution.objects.values_list("id", flat=True)) == [recent.id]
    assert old.id != recent.id


def test_follow_ups_are_replanned_after_each_crawl_of_a_source(sources):
    now = datetime.now(UTC)
    scheduler = build_scheduler(now)
    assert not [j for j in scheduler.get_jobs() if j.id.startswith("followup:")]

    # The crawl brought a high-importance release tomorrow at 08:30.
    day = (now + timedelta(days=1)).date()
    EconomicEventFactory(source="rangesrc", date=day, time=time(8, 30), importance=3)
    scheduler._dispatch_event(
        JobExecutionEvent(EVENT_JOB_EXECUTED, "ingest:rangesrc", "default", now)
    )

    assert [j.id for j in scheduler.get_jobs() if j.id.startswith("followup:")] == [
        f"followup:rangesrc:{day:%Y%m%d}T0830"
    ]


@pytest.mark.postgres
def test_next_job_succeeds_after_its_db_connection_was_killed(monkeypatch):
    """A database restart between two runs: the next run reconnects (no process restart)."""
    monkeypatch.setattr(
        "ingestion.services.ingest_source",
        lambda name, **kwargs: DjangoJob.objects.count(),
    )
    jobs.refresh("rangesrc")
    backend_pid = connection.cursor().connection.info.backend_pid

    # "Between two runs": the backend has gone (and said so) before the next starts.
    terminate_backend(backend_pid)

    jobs.refresh(
        "rangesrc"
    )  # close_old_connections + health checks: a fresh connection

    assert connection.cursor().connection.info.backend_pid != backend_pid


def test_crawls_of_one_source_wait_for_each_other_but_not_for_other_sources(
    monkeypatch,
):
    release = threading.Event()
    entered: list[str] = []

    def slow_ingest(name, **kwargs):
        entered.append(f"{name}:{'window' in kwargs}")
        if name == "rangesrc" and "window" not in kwargs:
            assert release.wait(timeout=10)

    monkeypatch.setattr("ingestion.services.ingest_source", slow_ingest)
    refresh = threading.Thread(target=jobs.refresh, args=["rangesrc"])
    refresh.start()
    wait_until(lambda: entered == ["rangesrc:False"])

    follow_up = threading.Thread(
        target=jobs.follow_up, args=["rangesrc", date(2026, 6, 2)]
    )
    follow_up.start()
    jobs.refresh("feedsrc")  # another source is not held up
    follow_up.join(timeout=0.2)  # unlocked, it would be done by now
    assert follow_up.is_alive()
    assert entered == ["rangesrc:False", "feedsrc:False"]

    release.set()
    refresh.join(timeout=10)
    follow_up.join(timeout=10)
    assert entered == ["rangesrc:False", "feedsrc:False", "rangesrc:True"]


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = monotonic() + timeout
    while not condition():
        assert monotonic() < deadline, "timed out"
        threading.Event().wait(0.01)
