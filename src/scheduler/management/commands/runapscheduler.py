"""``manage.py runapscheduler``: the scheduler process. Run exactly one replica per site.

The main thread is a supervisor (healthchecks' sendalerts pattern): signal handlers
only set a flag, and the loop, which wakes every fraction of a second,

1. waits as a standby until it holds the leader lock (``scheduler.leader``),
2. builds the schedule (catch-up decided from the database at that moment), removes
   stored jobs the code no longer declares, and starts the scheduler's thread,
3. writes the heartbeat every SCHEDULER_HEARTBEAT_SECONDS and checks the lock every
   SCHEDULER_LOCK_POLL_SECONDS; if the lock is lost (database restart) it stops the
   jobs and goes back to 1,
4. on SIGTERM/SIGINT stops taking jobs, waits for running ones
   (``shutdown(wait=True)``), releases the lock and exits 0. A second signal is ignored.
"""

import logging
import signal
import time
from datetime import UTC, datetime
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from core.models import Heartbeat
from core.timezones import lookup_zone
from scheduler.leader import LeaderLock, identity, leader_lock
from scheduler.schedule import (
    SchedulerConfigError,
    build_scheduler,
    declared_jobs,
    remove_stale_jobs,
)

logger = logging.getLogger(__name__)

HEARTBEAT_NAME = "scheduler"
TICK_SECONDS = 0.2  # how quickly the loop notices a signal


class Command(BaseCommand):
    help = (
        "Run the job scheduler (crawls, follow-ups, housekeeping). Exactly one replica."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--list",
            action="store_true",
            help="Print the jobs and their next run times, then exit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            display_tz = lookup_zone(settings.SCHEDULER_DISPLAY_TZ)
        except ValueError:
            raise CommandError(
                f"SCHEDULER_DISPLAY_TZ={settings.SCHEDULER_DISPLAY_TZ!r} is not an IANA time zone"
            ) from None
        try:
            if options["list"]:
                self.list_jobs(display_tz)
                return
            # Fail on a bad cron before waiting for leadership, not hours later.
            declared_jobs(datetime.now(UTC))
        except SchedulerConfigError as exc:
            raise CommandError(str(exc)) from None

        self.stopping = False
        self.me = identity()
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)

        lock = leader_lock()
        while not self.stopping:
            if not self.wait_for_leadership(lock):
                break
            database_failed = False
            try:
                self.lead(lock)
            except DatabaseError as exc:
                # The database went away while taking over: give the lock back and
                # retry as a standby rather than crash-looping the container.
                logger.error("scheduler %s cannot run its jobs: %s", self.me, exc)
                database_failed = True
            finally:
                lock.release()
            if database_failed:
                self.sleep(settings.SCHEDULER_LOCK_POLL_SECONDS)
        logger.info("scheduler %s stopped", self.me)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            logger.info(
                "%s received again; still waiting for running jobs",
                signal.strsignal(signum),
            )
            return
        logger.info(
            "%s received: stopping after running jobs finish", signal.strsignal(signum)
        )
        self.stopping = True

    def sleep(self, seconds: float) -> None:
        """Sleep in short ticks so a signal is acted on promptly."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(TICK_SECONDS, max(deadline - time.monotonic(), 0)))

    def wait_for_leadership(self, lock: LeaderLock) -> bool:
        """Block until ``lock`` is ours (True) or a signal arrives (False)."""
        announced = False
        while not self.stopping:
            if lock.try_acquire():
                logger.info(
                    "scheduler %s is the leader (%s)", self.me, lock.description
                )
                return True
            if not announced:
                logger.info(
                    "scheduler %s is standing by until it gets the %s",
                    self.me,
                    lock.description,
                )
                announced = True
            self.sleep(settings.SCHEDULER_LOCK_POLL_SECONDS)
        return False

    def lead(self, lock: LeaderLock) -> None:
        """Run jobs until a signal arrives or the lock is lost."""
        started_at = datetime.now(UTC)
        scheduler = build_scheduler(started_at)
        remove_stale_jobs(scheduler)
        try:
            scheduler.start()
            logger.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
            close_old_connections()
            last_beat = last_check = float("-inf")
            while not self.stopping:
                now = time.monotonic()
                if now - last_check >= settings.SCHEDULER_LOCK_POLL_SECONDS:
                    last_check = now
                    if not lock.is_held():
                        logger.error(
                            "scheduler %s lost the leader lock: stopping jobs, back to standby",
                            self.me,
                        )
                        break
                if now - last_beat >= settings.SCHEDULER_HEARTBEAT_SECONDS:
                    last_beat = now
                    self.beat(started_at)
                time.sleep(TICK_SECONDS)
        finally:
            self.stop(scheduler)

    def stop(self, scheduler: BaseScheduler) -> None:
        if scheduler.running:
            logger.info("waiting for running jobs to finish")
            scheduler.shutdown(wait=True)

    def beat(self, started_at: datetime) -> None:
        """Record that this leader is alive; a database hiccup is logged, not fatal."""
        close_old_connections()
        try:
            Heartbeat.objects.update_or_create(
                name=HEARTBEAT_NAME,
                defaults={
                    "holder": self.me,
                    "started_at": started_at,
                    "beat_at": datetime.now(UTC),
                },
            )
        except DatabaseError as exc:
            logger.warning("heartbeat not written: %s", exc)

    def list_jobs(self, display_tz: ZoneInfo) -> None:
        now = datetime.now(UTC)
        scheduler = build_scheduler(now)
        rows = sorted(
            scheduler.get_jobs(),
            key=lambda job: (
                job.next_run_time or datetime.max.replace(tzinfo=UTC),
                job.id,
            ),
        )
        for job in rows:
            when = job.next_run_time
            if when is None:
                shown = "paused"
            else:
                shown = f"{when:%Y-%m-%d %H:%M:%S} UTC"
                if display_tz.key != "UTC":
                    shown += f"  {when.astimezone(display_tz):%Y-%m-%d %H:%M:%S %Z}"
                if when <= now:
                    shown += "  (now: catch-up)"
            self.stdout.write(f"{job.id:<40} {shown}  [{job.trigger}]")
