import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from django.core.management import call_command
from django.core.management.base import CommandError
from django_apscheduler.models import DjangoJob

from core.models import SourceSchedule
from scheduler import jobs
from scheduler.cron import CronError, cron_trigger
from scheduler.schedule import (
    PRUNE_JOB_ID,
    DjangoBackgroundScheduler,
    SchedulerConfigError,
    build_scheduler,
    declared_jobs,
    publish_next_runs,
    remove_stale_jobs,
)

NOW = datetime(2024, 2, 10, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def jobs_by_id(scheduler):
    return {job.id: job for job in scheduler.get_jobs()}


def test_declares_refresh_monthly_and_housekeeping_jobs(sources):
    found = jobs_by_id(build_scheduler(NOW))

    assert set(found) == {
        "ingest:rangesrc",
        "ingest:feedsrc",
        "monthly:rangesrc",  # the feed cannot crawl a month: no monthly job
        PRUNE_JOB_ID,
    }
    assert found["ingest:rangesrc"].func is jobs.refresh
    assert found["ingest:rangesrc"].args == ("rangesrc",)
    assert found["monthly:rangesrc"].func is jobs.crawl_next_month
    assert found[PRUNE_JOB_ID].func is jobs.prune_executions
    for job in found.values():
        assert job.max_instances == 1
        assert job.coalesce is True
        assert job.misfire_grace_time == 3600


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2024, 2, 10, tzinfo=UTC), datetime(2024, 2, 29, 23, tzinfo=UTC)),
        (datetime(2025, 2, 10, tzinfo=UTC), datetime(2025, 2, 28, 23, tzinfo=UTC)),
        (
            datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
            datetime(2026, 1, 31, 23, tzinfo=UTC),
        ),
    ],
)
def test_monthly_crawl_fires_on_the_last_day_at_2300_utc(sources, start, expected):
    monthly = jobs_by_id(build_scheduler(start))["monthly:rangesrc"]

    assert monthly.trigger.get_next_fire_time(None, start) == expected


def test_refresh_uses_the_source_schedule(sources):
    refresh = jobs_by_id(build_scheduler(NOW))["ingest:feedsrc"]

    assert refresh.trigger.get_next_fire_time(None, NOW) == datetime(
        2024, 2, 10, 12, 15, tzinfo=UTC
    )


def test_env_overrides_a_source_cron(sources, monkeypatch):
    monkeypatch.setenv("SCHEDULER_CRON_RANGESRC", "30 7 * * 1-5")  # weekdays 07:30

    refresh = jobs_by_id(build_scheduler(NOW))["ingest:rangesrc"]

    # NOW is a Saturday: crontab 1-5 is Monday-Friday, so Monday 12th.
    assert refresh.trigger.get_next_fire_time(None, NOW) == datetime(
        2024, 2, 12, 7, 30, tzinfo=UTC
    )


def test_settings_override_a_source_cron(sources, settings):
    settings.SCHEDULER_CRON_FEEDSRC = "0 */6 * * *"

    refresh = jobs_by_id(build_scheduler(NOW))["ingest:feedsrc"]

    assert refresh.trigger.get_next_fire_time(None, NOW) == NOW


def test_invalid_cron_names_the_variable(sources, monkeypatch):
    monkeypatch.setenv("SCHEDULER_CRON_RANGESRC", "every morning")

    with pytest.raises(
        SchedulerConfigError, match=r"^SCHEDULER_CRON_RANGESRC is not a valid crontab"
    ):
        declared_jobs(NOW)


def test_command_exits_non_zero_with_one_line_on_an_invalid_cron(sources, monkeypatch):
    monkeypatch.setenv("SCHEDULER_CRON_FEEDSRC", "61 * * * *")

    with pytest.raises(CommandError) as excinfo:
        call_command("runapscheduler")

    message = str(excinfo.value)
    assert message.startswith("SCHEDULER_CRON_FEEDSRC is not a valid crontab")
    assert "\n" not in message


def test_a_cron_faster_than_the_source_allows_is_refused(sources, monkeypatch):
    monkeypatch.setenv("SCHEDULER_CRON_FEEDSRC", "* * * * *")

    with pytest.raises(
        SchedulerConfigError,
        match=r"SCHEDULER_CRON_FEEDSRC=.*at most one crawl per 0:05:00",
    ):
        declared_jobs(NOW)


def test_unknown_enabled_source_is_a_readable_error(sources, settings):
    settings.INGESTION_SOURCES = ["rangesrc", "nosuch"]

    with pytest.raises(SchedulerConfigError, match=r"unknown source.*nosuch"):
        declared_jobs(NOW)


@pytest.mark.parametrize(
    ("expr", "start", "expected"),
    [
        # Sunday is 0 and 7 in crontab (APScheduler 3 alone would read 0 as Monday).
        ("0 9 * * 0", NOW, datetime(2024, 2, 11, 9, tzinfo=UTC)),
        ("0 9 * * 7", NOW, datetime(2024, 2, 11, 9, tzinfo=UTC)),
        ("0 9 * * 0-1", NOW, datetime(2024, 2, 11, 9, tzinfo=UTC)),
        ("0 9 * * 6", NOW - timedelta(days=1), datetime(2024, 2, 10, 9, tzinfo=UTC)),
        ("0 9 * * mon-fri", NOW, datetime(2024, 2, 12, 9, tzinfo=UTC)),
    ],
)
def test_cron_weekdays_follow_crontab(expr, start, expected):
    assert cron_trigger(expr).get_next_fire_time(None, start) == expected


@pytest.mark.parametrize(
    "expr", ["", "* * * *", "0 25 * * *", "0 0 * * 8", "x y z w v"]
)
def test_invalid_crontabs_raise_cron_error(expr):
    with pytest.raises(CronError):
        cron_trigger(expr)


def test_extra_jobs_run_at_start_and_then_on_an_interval(sources, settings):
    settings.SCHEDULER_EXTRA_JOBS = ["tests.scheduler.probe.sleep_briefly"]
    settings.SCHEDULER_EXTRA_JOBS_INTERVAL_SECONDS = 30

    extra = jobs_by_id(build_scheduler(NOW))[
        "extra:tests.scheduler.probe.sleep_briefly"
    ]

    assert extra.next_run_time == NOW
    assert extra.trigger.interval == timedelta(seconds=30)


def test_extra_job_that_does_not_import_is_a_readable_error(sources, settings):
    settings.SCHEDULER_EXTRA_JOBS = ["tests.scheduler.nope.job"]

    with pytest.raises(
        SchedulerConfigError, match="SCHEDULER_EXTRA_JOBS: cannot import"
    ):
        declared_jobs(NOW)


def test_jobs_removed_from_the_code_are_removed_from_the_store(sources):
    DjangoJob.objects.create(id="ingest:retired", next_run_time=NOW, job_state=b"")
    DjangoJob.objects.create(id="ingest:rangesrc", next_run_time=NOW, job_state=b"")

    removed = remove_stale_jobs(build_scheduler(NOW))

    assert removed == ["ingest:retired"]
    assert set(DjangoJob.objects.values_list("id", flat=True)) == {"ingest:rangesrc"}


def test_list_prints_jobs_with_next_runs_in_utc_and_display_tz(
    sources, settings, capsys
):
    settings.SCHEDULER_DISPLAY_TZ = "America/New_York"

    call_command("runapscheduler", "--list")

    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == {
        "ingest:rangesrc",
        "ingest:feedsrc",
        "monthly:rangesrc",
        PRUNE_JOB_ID,
    }
    assert "UTC" in lines["monthly:rangesrc"]
    assert "EST" in lines["monthly:rangesrc"] or "EDT" in lines["monthly:rangesrc"]
    # The job store is not touched by --list.
    assert not DjangoJob.objects.exists()


def test_execution_history_must_outlive_the_monthly_period(sources, settings):
    settings.SCHEDULER_EXECUTION_MAX_AGE_DAYS = 7

    with pytest.raises(
        SchedulerConfigError,
        match=r"^SCHEDULER_EXECUTION_MAX_AGE_DAYS=7 must be at least 32",
    ):
        declared_jobs(NOW)


def published() -> dict[str, datetime | None]:
    return dict(SourceSchedule.objects.values_list("source", "next_run_at"))


def test_next_runs_of_the_refresh_jobs_are_published_for_the_api(sources):
    SourceSchedule.objects.create(source="retired", published_at=NOW)
    scheduler = build_scheduler(NOW)

    publish_next_runs(scheduler)

    found = jobs_by_id(scheduler)
    assert published() == {
        "rangesrc": found["ingest:rangesrc"].next_run_time,
        "feedsrc": found["ingest:feedsrc"].next_run_time,
    }


def test_a_refresh_handed_to_a_worker_publishes_its_new_next_run(sources):
    scheduler = build_scheduler(NOW)
    refresh = jobs_by_id(scheduler)["ingest:feedsrc"]
    later = NOW + timedelta(hours=4)
    refresh.modify(next_run_time=later)  # what APScheduler does before the event

    for job_id in ("monthly:rangesrc", "ingest:feedsrc"):
        event = JobSubmissionEvent(EVENT_JOB_SUBMITTED, job_id, "default", [NOW])
        scheduler._dispatch_event(event)

    assert published() == {"feedsrc": later}


@pytest.mark.django_db(transaction=True)
def test_a_started_scheduler_publishes_every_next_run(sources):
    scheduler = build_scheduler(datetime.now(UTC))
    scheduler.start(paused=True)  # writes the job store, runs nothing
    try:
        stored = dict(DjangoJob.objects.values_list("id", "next_run_time"))
        assert published() == {
            "rangesrc": stored["ingest:rangesrc"],
            "feedsrc": stored["ingest:feedsrc"],
        }
    finally:
        scheduler.shutdown(wait=True)


def test_shutdown_waits_for_a_listener_re_planning_and_then_closes_re_planning():
    """The contract the listeners rely on: re-planning under way when shutdown is asked
    completes, none starts after. (APScheduler's shutdown holds the job-store lock while
    it waits for worker threads; a listener calling get_jobs then never returned: the
    scheduler hung on SIGTERM during its start-up catch-up, which
    tests/deploy/test_compose.py caught on PostgreSQL.)"""
    scheduler = DjangoBackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    inside, release = threading.Event(), threading.Event()
    seen = []

    def listener_work():
        with scheduler.replanning() as allowed:
            seen.append(allowed)
            inside.set()
            release.wait(5)
            seen.append(scheduler.get_jobs())

    worker = threading.Thread(target=listener_work)
    worker.start()
    inside.wait(5)
    stopper = threading.Thread(target=scheduler.shutdown)
    stopper.start()
    release.set()
    worker.join(10)
    stopper.join(10)
    assert not worker.is_alive()
    assert not stopper.is_alive()
    assert seen == [True, []]
    with scheduler.replanning() as allowed:
        assert allowed is False
