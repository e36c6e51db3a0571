"""A run missed while the scheduler was down runs once at start: not zero, not many."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.executors.debug import DebugExecutor
from django_apscheduler.models import DjangoJob, DjangoJobExecution

from scheduler.schedule import build_scheduler

pytestmark = pytest.mark.django_db

# The monthly crawl fired at 2024-01-31 23:00; the scheduler was down over it.
MONTHLY_FIRE = datetime(2024, 1, 31, 23, 0, tzinfo=UTC)
START = datetime(2024, 2, 1, 1, 30, tzinfo=UTC)


def succeeded(
    job_id: str, run_time: datetime, status: str = DjangoJobExecution.SUCCESS
):
    job, _ = DjangoJob.objects.get_or_create(id=job_id, defaults={"job_state": b""})
    DjangoJobExecution.objects.create(job=job, run_time=run_time, status=status)


def job(scheduler, job_id):
    return scheduler.get_job(job_id)


@pytest.fixture
def history(sources):
    """Every cron job last succeeded at its latest fire before the downtime."""
    succeeded(
        "ingest:rangesrc", datetime(2024, 2, 1, 6, 0, tzinfo=UTC) - timedelta(days=1)
    )
    succeeded("ingest:feedsrc", datetime(2024, 2, 1, 0, 15, tzinfo=UTC))
    succeeded("housekeeping:prune-executions", datetime(2024, 1, 28, 3, 0, tzinfo=UTC))


def test_missed_monthly_crawl_runs_once_at_start(history):
    succeeded("monthly:rangesrc", datetime(2023, 12, 31, 23, 0, tzinfo=UTC))

    monthly = job(build_scheduler(START), "monthly:rangesrc")

    assert monthly.next_run_time == START
    # Due exactly once now (coalesced); the next one is the regular end of February.
    assert monthly._get_run_times(START + timedelta(minutes=1)) == [START]
    assert monthly.trigger.get_next_fire_time(START, START) == datetime(
        2024, 2, 29, 23, tzinfo=UTC
    )


def test_jobs_that_did_not_miss_a_fire_keep_their_schedule(history):
    succeeded("monthly:rangesrc", MONTHLY_FIRE)

    scheduler = build_scheduler(START)

    assert job(scheduler, "monthly:rangesrc").next_run_time == datetime(
        2024, 2, 29, 23, tzinfo=UTC
    )
    assert job(scheduler, "ingest:rangesrc").next_run_time == datetime(
        2024, 2, 1, 6, tzinfo=UTC
    )
    assert job(scheduler, "ingest:feedsrc").next_run_time == datetime(
        2024, 2, 1, 4, 15, tzinfo=UTC
    )


def test_after_the_catch_up_succeeded_a_restart_does_not_run_it_again(history):
    succeeded("monthly:rangesrc", datetime(2023, 12, 31, 23, 0, tzinfo=UTC))
    assert job(build_scheduler(START), "monthly:rangesrc").next_run_time == START
    # django-apscheduler records the catch-up run under its scheduled time (START).
    succeeded("monthly:rangesrc", START)

    later = START + timedelta(minutes=10)
    assert job(build_scheduler(later), "monthly:rangesrc").next_run_time == datetime(
        2024, 2, 29, 23, tzinfo=UTC
    )


def test_a_failed_run_does_not_count_as_done(history):
    succeeded("monthly:rangesrc", datetime(2023, 12, 31, 23, 0, tzinfo=UTC))
    succeeded("monthly:rangesrc", MONTHLY_FIRE, status=DjangoJobExecution.ERROR)

    assert job(build_scheduler(START), "monthly:rangesrc").next_run_time == START


def test_a_job_that_never_ran_runs_once_at_start(sources):
    scheduler = build_scheduler(START)

    assert {j.id for j in scheduler.get_jobs() if j.next_run_time == START} == {
        "ingest:rangesrc",
        "ingest:feedsrc",
        "monthly:rangesrc",
        "housekeeping:prune-executions",
    }


def test_several_missed_fires_still_run_once(sources):
    # Down for three days: the daily refresh missed three fires.
    succeeded("ingest:rangesrc", datetime(2024, 1, 29, 6, 0, tzinfo=UTC))

    refresh = job(build_scheduler(START), "ingest:rangesrc")

    assert refresh.next_run_time == START
    assert refresh._get_run_times(START) == [START]


@pytest.mark.django_db(transaction=True)
def test_catch_up_runs_exactly_once_through_the_real_scheduler(sources, ingest_calls):
    """Start the scheduler for real (jobs inline), twice: the missed crawl runs once."""
    succeeded("monthly:rangesrc", datetime(2020, 1, 31, 23, 0, tzinfo=UTC))
    for job_id in (
        "ingest:rangesrc",
        "ingest:feedsrc",
        "housekeeping:prune-executions",
    ):
        succeeded(job_id, datetime.now(UTC))  # only the monthly crawl was missed

    def run_scheduler(wait_for_monthly: bool) -> None:
        monthly_done = threading.Event()
        scheduler = build_scheduler()
        scheduler.add_executor(DebugExecutor(), "default")  # jobs run inline
        scheduler.start(paused=True)  # pending jobs (and catch-up) are stored now
        # Added after the job store's listener, so it fires once the run is recorded.
        scheduler.add_listener(
            lambda event: event.job_id == "monthly:rangesrc" and monthly_done.set(),
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
        )
        scheduler.resume()
        if wait_for_monthly:
            assert monthly_done.wait(timeout=10), "the catch-up run did not happen"
        scheduler.shutdown(wait=True)  # joins the scheduler thread

    run_scheduler(wait_for_monthly=True)
    assert DjangoJob.objects.get(id="monthly:rangesrc").next_run_time > datetime.now(
        UTC
    )
    run_scheduler(wait_for_monthly=False)  # a restart right after: nothing is due

    monthly_calls = [call for call in ingest_calls if "window" in call[1]]
    assert len(monthly_calls) == 1
    assert (
        DjangoJobExecution.objects.filter(
            job_id="monthly:rangesrc", status=DjangoJobExecution.SUCCESS
        ).count()
        == 2
    )  # the old one and the catch-up
