from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduler import jobs
from scheduler.followups import plan_followups, sync_followups
from scheduler.schedule import build_scheduler
from tests.factories import EconomicEventFactory

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
DAY = date(2026, 6, 2)

pytestmark = pytest.mark.django_db


def high(at: time | None, day: date = DAY, **kwargs):
    kwargs.setdefault("source", "rangesrc")
    return EconomicEventFactory(date=day, time=at, importance=3, **kwargs)


def followup_jobs(scheduler):
    return {
        job.id: job for job in scheduler.get_jobs() if job.id.startswith("followup:")
    }


def test_one_job_per_source_and_release_minute(sources):
    for _ in range(10):
        high(time(8, 30))
    high(time(14, 0))

    found = followup_jobs(build_scheduler(NOW))

    assert set(found) == {
        "followup:rangesrc:20260602T0830",
        "followup:rangesrc:20260602T1400",
    }
    first = found["followup:rangesrc:20260602T0830"]
    assert first.func is jobs.follow_up
    assert first.args == ("rangesrc", DAY)
    assert first.next_run_time == datetime(2026, 6, 2, 8, 32, tzinfo=UTC)
    assert first.max_instances == 1


def test_no_follow_ups_for_past_low_importance_cancelled_or_untimed_events(sources):
    high(time(5, 0), day=date(2026, 5, 31))  # released a day before NOW
    EconomicEventFactory(source="rangesrc", date=DAY, time=time(9, 0), importance=2)
    EconomicEventFactory(
        source="rangesrc", date=DAY, time=time(9, 0), importance=None, kind="holiday"
    )
    high(time(10, 0), status="cancelled")
    high(None, time_precision="tentative")
    high(time(11, 0), actual="3.1%")  # actual already in
    high(time(12, 0), day=date(2026, 7, 1))  # beyond the horizon
    high(time(13, 0), source="feedsrc")  # the feed cannot re-crawl a single day

    assert plan_followups("rangesrc", now=NOW) == {}
    assert followup_jobs(build_scheduler(NOW)) == {}


def test_follow_ups_are_replaced_when_the_schedule_changes(sources):
    moved = high(time(8, 30))
    high(time(14, 0))
    scheduler = build_scheduler(NOW)
    assert set(followup_jobs(scheduler)) == {
        "followup:rangesrc:20260602T0830",
        "followup:rangesrc:20260602T1400",
    }

    # The source re-times one release and cancels nothing else: stale job goes.
    moved.time = time(9, 15)
    moved.scheduled_at = datetime.combine(DAY, moved.time, tzinfo=UTC)
    moved.save()
    added, removed = sync_followups(scheduler, "rangesrc", now=NOW)

    assert (added, removed) == (1, 1)
    assert set(followup_jobs(scheduler)) == {
        "followup:rangesrc:20260602T0915",
        "followup:rangesrc:20260602T1400",
    }
    # A second sync with nothing changed adds nothing: no piling up.
    assert sync_followups(scheduler, "rangesrc", now=NOW) == (0, 0)


def test_follow_up_missed_during_a_short_downtime_runs_at_start(sources, settings):
    high(time(8, 30))
    start = datetime(2026, 6, 2, 8, 40, tzinfo=UTC)  # 8 min after the follow-up was due

    found = followup_jobs(build_scheduler(start))

    assert list(found) == ["followup:rangesrc:20260602T0830"]
    run_times = found["followup:rangesrc:20260602T0830"]._get_run_times(start)
    assert run_times == [datetime(2026, 6, 2, 8, 32, tzinfo=UTC)]  # due: runs once


def test_a_follow_up_that_just_ran_is_not_planned_again(sources):
    high(time(8, 30))
    after_run = datetime(2026, 6, 2, 8, 32, 5, tzinfo=UTC)

    assert plan_followups("rangesrc", now=after_run) == {}


def test_follow_up_delay_comes_from_settings(sources, settings):
    settings.SCHEDULER_FOLLOWUP_DELAY_MINUTES = 5
    high(time(8, 30))

    (followup,) = plan_followups("rangesrc", now=NOW).values()

    assert followup.run_at - datetime(2026, 6, 2, 8, 30, tzinfo=UTC) == timedelta(
        minutes=5
    )
