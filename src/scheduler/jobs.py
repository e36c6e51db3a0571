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
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django_apscheduler.models import DjangoJobExecution
from django_apscheduler.util import close_old_connections

from core.models import IngestionRun
from ingestion import services
from ingestion.records import DateWindow

logger = logging.getLogger(__name__)

SCHEDULER = IngestionRun.Trigger.SCHEDULER


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
    services.ingest_source(source, trigger=SCHEDULER)


@close_old_connections
def crawl_next_month(source: str) -> None:
    """The whole next month (see ``month_to_crawl``)."""
    services.ingest_source(
        source, window=month_to_crawl(datetime.now(UTC)), trigger=SCHEDULER
    )


@close_old_connections
def follow_up(source: str, day: date) -> None:
    """Re-crawl one day shortly after its high-importance releases, for the actuals."""
    services.ingest_source(source, window=DateWindow(day, day), trigger=SCHEDULER)


@close_old_connections
def prune_executions() -> None:
    """Delete job execution history older than SCHEDULER_EXECUTION_MAX_AGE_DAYS."""
    max_age = int(
        timedelta(days=settings.SCHEDULER_EXECUTION_MAX_AGE_DAYS).total_seconds()
    )
    DjangoJobExecution.objects.delete_old_job_executions(max_age)
