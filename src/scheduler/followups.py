"""Release follow-ups: one-shot re-crawls just after high-importance releases.

Actual figures appear at release time, and the daily refresh would pick them up only
the next day. So for each upcoming high-importance event of a source that can crawl a
single day, a one-shot job re-crawls that day SCHEDULER_FOLLOWUP_DELAY_MINUTES after
the release. Events at the same minute share one job (ten releases at 08:30 -> one
crawl), id ``followup:<slug>:<YYYYmmddTHHMM>`` (the release minute, UTC).

The plan is a pure function of the stored events and ``now``; ``sync_followups`` makes
the scheduler's follow-up jobs match it, adding the missing ones and removing stale ones
(an event moved or cancelled), so they are replaced rather than piled up.

Agency follow-ups (``official:<slug>:<YYYYmmddTHHMM>+<minutes>``): for the sources that
fetch agency figures (``bls``, ``ecb``; ``fred`` with a key), one job per attempt after
each timed release, listed by any calendar, of an indicator with a series of that
agency, at each of SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES (the agency's API lags its press
release by minutes). While the figure is missing the attempts stay planned; once it is
in, re-planning drops the rest, and an attempt that runs anyway asks nothing
(``services.ingest_due``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from django.conf import settings

from core.models import EconomicEvent, EventStatus, Importance, TimePrecision
from ingestion.official.releases import awaited_releases
from scheduler import jobs

logger = logging.getLogger(__name__)

PREFIX = "followup"
OFFICIAL = "official"


@dataclass(frozen=True)
class FollowUp:
    job_id: str
    source: str
    day: date
    run_at: datetime
    func: Callable[..., None] = field(default=jobs.follow_up, compare=False)


def followup_prefix(source: str) -> str:
    return f"{PREFIX}:{source}:"


def official_prefix(source: str) -> str:
    return f"{OFFICIAL}:{source}:"


def official_attempts() -> list[timedelta]:
    """SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES as delays; ValueError naming the setting."""
    try:
        minutes = sorted(
            {int(item) for item in settings.SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES}
        )
    except ValueError:
        raise ValueError(
            "SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES must be whole minutes, like 2,5,10"
        ) from None
    if not minutes or minutes[0] < 0:
        raise ValueError(
            "SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES must list minutes of 0 or more"
        )
    return [timedelta(minutes=m) for m in minutes]


def plan_official_followups(
    source: str, *, now: datetime, since: datetime | None = None
) -> dict[str, FollowUp]:
    """The agency follow-ups ``source`` needs, by job id: every attempt after ``since``
    (default ``now``) of every awaited release within SCHEDULER_FOLLOWUP_HORIZON_DAYS."""
    attempts = official_attempts()
    since = since or now
    horizon = now + timedelta(days=settings.SCHEDULER_FOLLOWUP_HORIZON_DAYS)
    plan: dict[str, FollowUp] = {}
    for release in awaited_releases(source, since - attempts[-1], horizon):
        minute = release.scheduled_at.replace(second=0, microsecond=0)
        for delay in attempts:
            run_at = minute + delay
            if run_at <= since:
                continue
            minutes = int(delay.total_seconds() // 60)
            job_id = f"{official_prefix(source)}{minute:%Y%m%dT%H%M}+{minutes}"
            plan[job_id] = FollowUp(
                job_id, source, minute.date(), run_at, jobs.official_follow_up
            )
    return plan


def plan_followups(
    source: str, *, now: datetime, since: datetime | None = None
) -> dict[str, FollowUp]:
    """The follow-ups ``source`` needs, by job id.

    An event qualifies when it is high importance, has an exact time, is not cancelled,
    has no actual yet, and its follow-up falls after ``since`` (default ``now``) and
    within SCHEDULER_FOLLOWUP_HORIZON_DAYS. ``since`` earlier than ``now`` lets the
    start-up plan keep follow-ups missed during a short downtime (they run at once).
    """
    delay = timedelta(minutes=settings.SCHEDULER_FOLLOWUP_DELAY_MINUTES)
    horizon = now + timedelta(days=settings.SCHEDULER_FOLLOWUP_HORIZON_DAYS)
    release_times = (
        EconomicEvent.objects.filter(
            source=source,
            importance=Importance.HIGH,
            time_precision=TimePrecision.EXACT,
            actual="",
            scheduled_at__gt=(since or now) - delay,
            scheduled_at__lte=horizon,
        )
        .exclude(status=EventStatus.CANCELLED)
        .values_list("scheduled_at", flat=True)
        .distinct()
    )
    plan: dict[str, FollowUp] = {}
    for scheduled_at in release_times:
        minute = scheduled_at.replace(second=0, microsecond=0)
        job_id = f"{followup_prefix(source)}{minute:%Y%m%dT%H%M}"
        plan[job_id] = FollowUp(job_id, source, minute.date(), minute + delay)
    return plan


def add_followup(scheduler: BaseScheduler, followup: FollowUp) -> None:
    scheduler.add_job(
        followup.func,
        trigger=DateTrigger(run_date=followup.run_at),
        args=[followup.source, followup.day],
        id=followup.job_id,
        next_run_time=followup.run_at,
        name=f"Follow-up crawl of {followup.source} for {followup.day}",
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=settings.SCHEDULER_MISFIRE_GRACE_SECONDS,
    )


def sync_followups(
    scheduler: BaseScheduler, source: str, *, now: datetime
) -> tuple[int, int]:
    """Make ``source``'s follow-up jobs match the plan. Returns (added, removed)."""
    return _sync(scheduler, followup_prefix(source), plan_followups(source, now=now))


def sync_official_followups(
    scheduler: BaseScheduler, source: str, *, now: datetime
) -> tuple[int, int]:
    """Make ``source``'s agency follow-up jobs match the plan. Returns (added, removed)."""
    plan = plan_official_followups(source, now=now)
    return _sync(scheduler, official_prefix(source), plan)


def _sync(
    scheduler: BaseScheduler, prefix: str, plan: dict[str, FollowUp]
) -> tuple[int, int]:
    current = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(prefix)}
    removed = 0
    for job_id in current.keys() - plan.keys():
        try:
            scheduler.remove_job(job_id)
            removed += 1
        except JobLookupError:  # it has just run (one-shot jobs remove themselves)
            pass
    added = 0
    for job_id, followup in plan.items():
        existing = current.get(job_id)
        if (
            existing is not None
            and getattr(existing, "next_run_time", None) == followup.run_at
        ):
            continue
        add_followup(scheduler, followup)
        added += 1
    if added or removed:
        logger.info(
            "follow-ups %s*: %d planned, %d added, %d removed",
            prefix,
            len(plan),
            added,
            removed,
        )
    return added, removed
