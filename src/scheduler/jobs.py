"""The job functions the scheduler runs: one line of glue each.

The job store pickles a reference to each function by its import path
("scheduler.jobs:refresh"), so these names are part of the stored state: renaming one
makes django-apscheduler drop the stored job ("Unable to restore job"), after which the
next start re-adds it. Each is wrapped in ``close_old_connections`` (a dead or expired
DB connection is replaced before and after the run, as Django does per request) and
lets exceptions propagate, so the execution is recorded as failed.
"""

import calendar
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django_apscheduler.models import DjangoJobExecution
from django_apscheduler.util import close_old_connections

from core.models import IngestionRun
from ingestion import services
from ingestion.records import DateWindow

logger = logging.getLogger(__name__)

SCHEDULER = IngestionRun.Trigger.SCHEDULER

# Jobs of one source run one after another: a follow-up due during the daily refresh
# waits for it instead of crawling the same rows (and the same site) in parallel. A
# process lock is enough because only the leader process runs jobs.
_source_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_source_locks_guard = threading.Lock()


@contextmanager
def one_crawl_at_a_time(source: str) -> Iterator[None]:
    with _source_locks_guard:
        lock = _source_locks[source]
    with lock:
        yield


def month_to_crawl(now: datetime) -> DateWindow:
    """The month the monthly crawl fetches when it runs at ``now``.

    It fires at 23:00 UTC on a month's last day for the month starting an hour later, so
    the target is the month containing ``now + 1 h``. A run delayed past midnight, or a
    catch-up run days later, still crawls the month whose crawl was due.
    """
    moment = now.astimezone(UTC) + timedelta(hours=1)
    last_day = calendar.monthrange(moment.year, moment.month)[1]
    return DateWindow(
        date(moment.year, moment.month, 1), date(moment.year, moment.month, last_day)
    )


@close_old_connections
def refresh(source: str) -> None:
    """The source's own refresh window (this and next week, or the feed's week)."""
    with one_crawl_at_a_time(source):
        services.ingest_source(source, trigger=SCHEDULER)


@close_old_connections
def crawl_next_month(source: str) -> None:
    """The whole next month (see ``month_to_crawl``)."""
    window = month_to_crawl(datetime.now(UTC))
    with one_crawl_at_a_time(source):
        services.ingest_source(source, window=window, trigger=SCHEDULER)


@close_old_connections
def follow_up(source: str, day: date) -> None:
    """Re-crawl one day shortly after its high-importance releases, for the actuals."""
    with one_crawl_at_a_time(source):
        services.ingest_source(source, window=DateWindow(day, day), trigger=SCHEDULER)


@close_old_connections
def official_follow_up(source: str, day: date) -> None:
    """Ask an agency for the figures of ``day``'s releases that are due and missing;
    nothing when there are none (the figure came in at an earlier attempt)."""
    with one_crawl_at_a_time(source):
        services.ingest_due(source, day, trigger=SCHEDULER)


@close_old_connections
def prune_executions() -> None:
    """Delete job execution history older than SCHEDULER_EXECUTION_MAX_AGE_DAYS."""
    max_age = int(
        timedelta(days=settings.SCHEDULER_EXECUTION_MAX_AGE_DAYS).total_seconds()
    )
    DjangoJobExecution.objects.delete_old_job_executions(max_age)
