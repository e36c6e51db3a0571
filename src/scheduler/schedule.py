"""The job set, declared in code and mirrored into django-apscheduler's job store.

``build_scheduler(now)`` returns a configured, *not started* scheduler, so tests and
``runapscheduler --list`` can inspect job ids, triggers and next run times without
running anything. The management command starts it once this process leads.

Jobs (all UTC):

- ``ingest:<slug>``: refresh each enabled source on its own cron (``Source.schedule``,
  overridden by ``SCHEDULER_CRON_<SLUG>``: ``core.sources.refresh_cron``).
- ``monthly:<slug>``: at 23:00 on the last day of each month, crawl the whole next
  month from each enabled source that supports date ranges.
- ``followup:<slug>:<YYYYmmddTHHMM>``: one-shot re-crawls after high-importance
  releases (see ``scheduler.followups``), re-planned after every scheduled crawl.
- ``official:<slug>:<YYYYmmddTHHMM>+<minutes>``: one-shot requests to an agency
  (``bls``, ``ecb``, ``fred`` with a key) for the figure of a release, at each attempt
  while it is missing; re-planned after every job that ran.
- ``housekeeping:prune-executions``: weekly, drop old job execution history.

Catch-up: ``replace_existing=True`` recomputes each job's next run time from "now" at
every start, so a run that fell due while the scheduler was down would never happen.
For each cron job, the last successful execution recorded by django-apscheduler is
compared with the trigger: if the trigger fired since then (or the job never
succeeded), the job's first run is set to ``now``, once; after it the trigger's own
times apply.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
    SchedulerEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, close_old_connections, connections, transaction
from django.db.models import Max
from django.utils.module_loading import import_string
from django_apscheduler.jobstores import DjangoJobStore
from django_apscheduler.models import DjangoJob, DjangoJobExecution

from core.models import SourceSchedule
from core.sources import refresh_cron
from ingestion import sources as registry
from ingestion.official.source import OfficialSource
from ingestion.sources import Source
from scheduler import jobs
from scheduler.cron import CronError, cron_trigger, shortest_gap
from scheduler.followups import (
    OFFICIAL,
    add_followup,
    official_attempts,
    plan_followups,
    plan_official_followups,
    sync_followups,
    sync_official_followups,
)
from scheduler.followups import PREFIX as FOLLOWUP

logger = logging.getLogger(__name__)

# Job ids are "<kind>:<slug>". They are the job store's keys (a renamed id is a new
# job), so they are spelled here only.
REFRESH = "ingest"
MONTHLY = "monthly"
MONTHLY_TRIGGER_FIELDS = {"day": "last", "hour": 23}
PRUNE_JOB_ID = "housekeeping:prune-executions"
# No refresh may poll a source more often than this, whatever the cron says: the
# ForexFactory feed tolerates about 2 downloads per 5 minutes (docs/sources/forexfactory.md,
# "Fetching, schedule, rate limit").
# A source may ask for more room with a ``min_interval`` (timedelta) class attribute.
DEFAULT_MIN_INTERVAL = timedelta(minutes=5)
# Pruning must keep the last run of the monthly crawl, or every restart would redo it.
MIN_EXECUTION_MAX_AGE_DAYS = 32


class SchedulerConfigError(Exception):
    """The configured schedule cannot run; the message is one readable line."""


@dataclass(frozen=True)
class JobSpec:
    """One job declared in code."""

    id: str
    func: Callable[..., Any]
    trigger: BaseTrigger
    name: str
    args: tuple[Any, ...] = ()
    catch_up: bool = True  # a fire missed while down runs once at start
    run_at_start: bool = False  # runs at every start, then on its trigger


class DjangoBackgroundScheduler(BackgroundScheduler):
    """A BackgroundScheduler whose thread closes its Django connections when it ends,
    and whose shutdown waits for a listener that is re-planning jobs.

    The job store queries the database from the scheduler's own thread; without this a
    stopped scheduler (lost leadership, shutdown) would leave that session open.

    A listener runs in the job's worker thread, and APScheduler's ``shutdown(wait=True)``
    holds the job-store lock while it waits for that thread: a listener re-planning
    (``get_jobs``) then would wait for the lock forever. So re-planning happens inside
    ``replanning()``, and shutdown first waits for it and closes it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._replan_lock = threading.Lock()
        self._closing = False

    @contextmanager
    def replanning(self) -> Iterator[bool]:
        """Hold shutdown off while the caller re-plans; yields False once it began."""
        with self._replan_lock:
            yield not self._closing

    def shutdown(self, wait: bool = True) -> None:
        with self._replan_lock:
            self._closing = True
        super().shutdown(wait)

    def _main_loop(self) -> None:
        try:
            super()._main_loop()
        finally:
            connections.close_all()  # this thread's connections only


def source_job_id(kind: str, source: str) -> str:
    """The id of ``source``'s job of ``kind`` (REFRESH or MONTHLY): "ingest:fred"."""
    return f"{kind}:{source}"


def job_kind_and_source(job_id: str) -> tuple[str, str]:
    """("ingest", "fred") for "ingest:fred"; follow-up ids have a time after the slug."""
    kind, _, rest = job_id.partition(":")
    return kind, rest.split(":", 1)[0]


def enabled_sources() -> list[type[Source]]:
    """The enabled sources; SchedulerConfigError names any unknown slug."""
    try:
        return registry.enabled_sources()
    except ImproperlyConfigured as exc:
        raise SchedulerConfigError(str(exc)) from None


def declared_jobs(now: datetime) -> list[JobSpec]:
    """Every job the code declares for the current settings (not follow-ups).

    Raises SchedulerConfigError naming the variable when a cron is invalid or polls a
    source faster than it allows.
    """
    if settings.SCHEDULER_EXECUTION_MAX_AGE_DAYS < MIN_EXECUTION_MAX_AGE_DAYS:
        raise SchedulerConfigError(
            f"SCHEDULER_EXECUTION_MAX_AGE_DAYS={settings.SCHEDULER_EXECUTION_MAX_AGE_DAYS} "
            f"must be at least {MIN_EXECUTION_MAX_AGE_DAYS}: catch-up reads the monthly "
            "crawl's last execution"
        )
    try:
        official_attempts()
    except ValueError as exc:
        raise SchedulerConfigError(str(exc)) from None
    specs: list[JobSpec] = []
    for source in enabled_sources():
        expr, variable = refresh_cron(source)
        origin = variable or f"{source.__name__}.schedule"
        try:
            trigger = cron_trigger(expr)
        except CronError as exc:
            raise SchedulerConfigError(
                f"{origin} is not a valid crontab: {exc}"
            ) from None
        floor = getattr(source, "min_interval", DEFAULT_MIN_INTERVAL)
        gap = shortest_gap(trigger, now)
        if gap < floor:
            raise SchedulerConfigError(
                f"{origin}={expr!r} polls {source.name} every {gap}; "
                f"the source allows at most one crawl per {floor}"
            )
        specs.append(
            JobSpec(
                id=source_job_id(REFRESH, source.name),
                func=jobs.refresh,
                trigger=trigger,
                name=f"Refresh {source.name} ({expr})",
                args=(source.name,),
            )
        )
        if source.supports_range:
            specs.append(
                JobSpec(
                    id=source_job_id(MONTHLY, source.name),
                    func=jobs.crawl_next_month,
                    trigger=CronTrigger(**MONTHLY_TRIGGER_FIELDS, timezone=UTC),
                    name=f"Crawl next month from {source.name}",
                    args=(source.name,),
                )
            )
    specs.append(
        JobSpec(
            id=PRUNE_JOB_ID,
            func=jobs.prune_executions,
            trigger=CronTrigger(day_of_week="sun", hour=3, timezone=UTC),
            name="Prune old job executions",
        )
    )
    specs.extend(_extra_jobs())
    return specs


def _extra_jobs() -> list[JobSpec]:
    """The test-only hook: tests/settings.py defines SCHEDULER_EXTRA_JOBS for the
    scheduler processes the tests start; production settings do not."""
    specs: list[JobSpec] = []
    interval = getattr(settings, "SCHEDULER_EXTRA_JOBS_INTERVAL_SECONDS", 60)
    for path in getattr(settings, "SCHEDULER_EXTRA_JOBS", ()):
        try:
            func = import_string(path)
        except ImportError as exc:
            raise SchedulerConfigError(
                f"SCHEDULER_EXTRA_JOBS: cannot import {path!r} ({exc})"
            ) from None
        specs.append(
            JobSpec(
                id=f"extra:{path}",
                func=func,
                trigger=IntervalTrigger(seconds=interval, timezone=UTC),
                name=f"Extra job {path}",
                catch_up=False,
                run_at_start=True,
            )
        )
    return specs


def last_successes(job_ids: list[str]) -> dict[str, datetime]:
    """Scheduled time of each job's last successful execution (durable state)."""
    rows = (
        DjangoJobExecution.objects.filter(
            job_id__in=job_ids, status=DjangoJobExecution.SUCCESS
        )
        .values("job_id")
        .annotate(last=Max("run_time"))
    )
    return {row["job_id"]: row["last"] for row in rows}


def first_run_time(
    spec: JobSpec, now: datetime, last_success: datetime | None
) -> tuple[datetime | None, bool]:
    """When ``spec`` should first run after a start at ``now``, and whether that is a catch-up."""
    upcoming = spec.trigger.get_next_fire_time(None, now)
    if spec.run_at_start:
        return now, False
    if not spec.catch_up:
        return upcoming, False
    if last_success is None:
        return now, True
    # The first fire strictly after the last success; due by now means one was missed.
    due = spec.trigger.get_next_fire_time(None, last_success + timedelta(seconds=1))
    if due is not None and due <= now:
        return now, True
    return upcoming, False


def build_scheduler(now: datetime | None = None) -> DjangoBackgroundScheduler:
    """A configured scheduler (not started) with every declared job and follow-up.

    ``now`` (default: the current time) drives catch-up and the follow-up plan, so
    tests pass a fixed instant. Reads the database; writes nothing until started.
    """
    now = now or datetime.now(UTC)
    grace = settings.SCHEDULER_MISFIRE_GRACE_SECONDS
    scheduler = DjangoBackgroundScheduler(
        timezone=UTC,
        # Passed at the top level these would be ignored (APScheduler #146).
        job_defaults={
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": grace,
        },
    )
    scheduler.add_jobstore(DjangoJobStore(), "default")

    specs = declared_jobs(now)
    successes = last_successes([spec.id for spec in specs])
    for spec in specs:
        next_run_time, catching_up = first_run_time(spec, now, successes.get(spec.id))
        if catching_up:
            logger.info(
                "catch-up: %s last succeeded %s; running it once at start",
                spec.id,
                successes.get(spec.id, "never"),
            )
        scheduler.add_job(
            spec.func,
            trigger=spec.trigger,
            args=list(spec.args),
            id=spec.id,
            name=spec.name,
            next_run_time=next_run_time,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=grace,
        )

    followup_sources = [s.name for s in enabled_sources() if s.supports_range]
    for source in followup_sources:
        # Follow-ups due during a short downtime (within the grace time) run at start.
        since = now - timedelta(seconds=grace)
        for followup in plan_followups(source, now=now, since=since).values():
            add_followup(scheduler, followup)

    agencies = official_sources()
    for source in agencies:
        since = now - timedelta(seconds=grace)
        for followup in plan_official_followups(source, now=now, since=since).values():
            add_followup(scheduler, followup)

    scheduler.add_listener(
        _replan_after_crawl(scheduler, set(followup_sources)), EVENT_JOB_EXECUTED
    )
    scheduler.add_listener(
        _replan_agencies_after_jobs(scheduler, agencies), EVENT_JOB_EXECUTED
    )
    scheduler.add_listener(
        _publish_after_change(scheduler),
        EVENT_SCHEDULER_STARTED | EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES,
    )
    return scheduler


def _replan_after_crawl(
    scheduler: DjangoBackgroundScheduler, sources: set[str]
) -> Callable[[JobExecutionEvent], None]:
    """A listener that re-plans a source's follow-ups after each successful crawl of it.

    This keeps "after each ingest" inside the scheduler app: ingestion never imports
    the scheduler (dependency direction scheduler -> ingestion -> core).
    """

    def listener(event: JobExecutionEvent) -> None:
        kind, source = job_kind_and_source(event.job_id)
        if kind not in (REFRESH, MONTHLY, FOLLOWUP) or source not in sources:
            return
        try:
            with scheduler.replanning() as allowed:
                if allowed:
                    sync_followups(scheduler, source, now=datetime.now(UTC))
        finally:
            # Listeners run in the job's worker thread, outside the job's wrapper.
            close_old_connections()

    return listener


def official_sources() -> list[str]:
    """The enabled sources that fetch agency figures on release day."""
    return [
        source.name
        for source in enabled_sources()
        if issubclass(source, OfficialSource) and source.follows_releases()
    ]


def _replan_agencies_after_jobs(
    scheduler: DjangoBackgroundScheduler, sources: list[str]
) -> Callable[[JobExecutionEvent], None]:
    """A listener that re-plans the agency follow-ups after every crawl: a calendar's
    crawl may list or move a release, an agency's run may bring its figure in."""

    def listener(event: JobExecutionEvent) -> None:
        kind, _ = job_kind_and_source(event.job_id)
        if kind not in (REFRESH, MONTHLY, FOLLOWUP, OFFICIAL) or not sources:
            return
        try:
            with scheduler.replanning() as allowed:
                for source in sources if allowed else ():
                    sync_official_followups(scheduler, source, now=datetime.now(UTC))
        finally:
            close_old_connections()

    return listener


def publish_next_runs(scheduler: BaseScheduler, job_id: str | None = None) -> None:
    """Copy refresh jobs' next run times into core.SourceSchedule, for /api/sources/.

    With ``job_id``, that refresh job only; without, every one, and the rows of sources
    no longer scheduled are dropped (as ``remove_stale_jobs`` drops their jobs).
    """
    jobs = [scheduler.get_job(job_id)] if job_id else scheduler.get_jobs()
    next_runs: dict[str, datetime | None] = {}
    for job in filter(None, jobs):  # None: the job was removed in the meantime
        kind, source = job_kind_and_source(job.id)
        if kind == REFRESH:
            next_runs[source] = job.next_run_time
    now = datetime.now(UTC)
    with transaction.atomic():
        if job_id is None:
            SourceSchedule.objects.exclude(source__in=next_runs).delete()
        for source, next_run_at in next_runs.items():
            SourceSchedule.objects.update_or_create(
                source=source,
                defaults={"next_run_at": next_run_at, "published_at": now},
            )


def _publish_after_change(
    scheduler: BaseScheduler,
) -> Callable[[SchedulerEvent], None]:
    """A listener that publishes next run times when they change: all of them at start,
    a refresh job's own when it is handed to a worker (APScheduler has just moved its
    next run time on; a job skipped as still running moves on too)."""

    def listener(event: SchedulerEvent) -> None:
        job_id = getattr(event, "job_id", None)
        if job_id is not None and job_kind_and_source(job_id)[0] != REFRESH:
            return
        try:
            publish_next_runs(scheduler, job_id)
        except DatabaseError as exc:
            # The next change publishes again; the jobs themselves are unaffected.
            logger.warning("next run times not published: %s", exc)

    return listener


def remove_stale_jobs(scheduler: BaseScheduler) -> list[str]:
    """Delete stored jobs that the code no longer declares (a disabled source, an old id).

    Call before ``start()``: it compares the store with the scheduler's pending jobs.
    Their execution history goes with them (cascade). Returns the removed ids.
    """
    wanted = {job.id for job in scheduler.get_jobs()}
    stale = sorted(
        DjangoJob.objects.exclude(id__in=wanted).values_list("id", flat=True)
    )
    if stale:
        DjangoJob.objects.filter(id__in=stale).delete()
        logger.info(
            "removed %d job(s) no longer declared: %s", len(stale), ", ".join(stale)
        )
    return stale
