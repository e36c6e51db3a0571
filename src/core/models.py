"""The calendar's domain model: occurrences, their change log, and ingestion runs.

All times are UTC. An occurrence keeps ``date`` and ``time`` apart (so "everything on
2025-10-20" is a plain ``filter(date=...)``) and ``scheduled_at`` beside them, the
instant the API sorts and range-filters on (midnight UTC of ``date`` when there is no
clock time). Only ``ingestion.services`` writes these rows.
"""

from django.db import models
from django.db.models import Q

from core.querysets import EventQuerySet, IngestionRunQuerySet


class TimePrecision(models.TextChoices):
    EXACT = "exact", "Exact time"
    ALL_DAY = "all_day", "All day"
    TENTATIVE = "tentative", "Tentative (day known, time not)"
    DATE_ONLY = "date_only", "Date only"


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RELEASED = "released", "Released"
    CANCELLED = "cancelled", "Cancelled"


class EventKind(models.TextChoices):
    RELEASE = "release", "Data release"
    SPEECH = "speech", "Speech or testimony"
    HOLIDAY = "holiday", "Market holiday"
    OTHER = "other", "Other (meeting, auction, non-economic)"


class Importance(models.IntegerChoices):
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"


# The four published figures of an occurrence. Each is stored three times: the text as
# published ("254K", "<0.25%", "4.44|2.7", "Pass"), and when it is a number, its Decimal
# value (254) and unit ("K"). ``revised_previous`` is the previous figure after the
# source revised it; ``previous`` stays what was first shown (see docs/data-model.md).
FIGURE_FIELDS = ("actual", "forecast", "previous", "revised_previous")


class EconomicEvent(models.Model):
    """One scheduled occurrence of a release at one source (NFP for June 2024 at FF)."""

    source = models.CharField(
        max_length=32, help_text="Slug of the source that lists it."
    )
    external_id = models.CharField(
        max_length=128,
        help_text="The source's occurrence id, or a stable key derived from the row.",
    )
    source_event_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The source's id of the event type.",
    )

    event_name = models.CharField(max_length=255)
    reference_period = models.CharField(max_length=32, blank=True, default="")
    category = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(
        max_length=16, choices=EventKind.choices, default=EventKind.RELEASE
    )

    country = models.CharField(
        max_length=2,
        help_text="ISO 3166-1 alpha-2; EU for the euro area, WW for global.",
    )
    currency = models.CharField(
        max_length=3, blank=True, default="", help_text="ISO 4217."
    )

    date = models.DateField(help_text="UTC date.")
    time = models.TimeField(
        null=True, blank=True, help_text="UTC time; null without one."
    )
    time_precision = models.CharField(
        max_length=16, choices=TimePrecision.choices, default=TimePrecision.EXACT
    )
    scheduled_at = models.DateTimeField(
        help_text="date + time in UTC (midnight when there is no clock time); sort key."
    )

    importance = models.PositiveSmallIntegerField(
        choices=Importance.choices,
        null=True,
        blank=True,
        help_text="Null for holidays.",
    )
    actual = models.CharField(max_length=64, blank=True, default="")
    actual_value = models.DecimalField(
        max_digits=28, decimal_places=8, null=True, blank=True
    )
    actual_unit = models.CharField(max_length=8, blank=True, default="")
    forecast = models.CharField(max_length=64, blank=True, default="")
    forecast_value = models.DecimalField(
        max_digits=28, decimal_places=8, null=True, blank=True
    )
    forecast_unit = models.CharField(max_length=8, blank=True, default="")
    previous = models.CharField(max_length=64, blank=True, default="")
    previous_value = models.DecimalField(
        max_digits=28, decimal_places=8, null=True, blank=True
    )
    previous_unit = models.CharField(max_length=8, blank=True, default="")
    revised_previous = models.CharField(max_length=64, blank=True, default="")
    revised_previous_value = models.DecimalField(
        max_digits=28, decimal_places=8, null=True, blank=True
    )
    revised_previous_unit = models.CharField(max_length=8, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=EventStatus.choices, default=EventStatus.SCHEDULED
    )
    source_url = models.URLField(max_length=500, blank=True, default="")

    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="When a published field last changed.")

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="event_unique_source_external_id"
            ),
            models.CheckConstraint(
                condition=Q(importance__isnull=True)
                | Q(importance__gte=1, importance__lte=3),
                name="event_importance_1_to_3",
            ),
            models.CheckConstraint(
                condition=Q(time__isnull=False) | ~Q(time_precision="exact"),
                name="event_exact_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["date", "time"], name="event_date_time"),
            models.Index(fields=["country", "date"], name="event_country_date"),
            models.Index(fields=["scheduled_at", "id"], name="event_scheduled_id"),
            models.Index(
                fields=["country", "scheduled_at", "id"], name="event_country_sched"
            ),
            models.Index(fields=["updated_at", "id"], name="event_updated_id"),
            models.Index(fields=["source", "date"], name="event_source_date"),
        ]

    def __str__(self) -> str:
        when = f"{self.date} {self.time:%H:%M}" if self.time else f"{self.date}"
        return f"{self.country} {self.event_name} @ {when} UTC ({self.source})"

    @property
    def latest_previous(self) -> str:
        """The previous figure as the source shows it now: revised if it was revised."""
        return self.revised_previous or self.previous


class IngestionRun(models.Model):
    """One crawl of one source over one window: what came in and what it changed."""

    class Trigger(models.TextChoices):
        CLI = "cli", "Command line"
        SCHEDULER = "scheduler", "Scheduler"
        FILE = "file", "Recorded file"
        SAMPLE = "sample", "Bundled sample data"
        TEST = "test", "Test"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=32)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    trigger = models.CharField(
        max_length=16, choices=Trigger.choices, default=Trigger.CLI
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    fetched = models.PositiveIntegerField(
        default=0, help_text="Rows read from payloads."
    )
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    objects = IngestionRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["source", "-started_at"], name="run_source_started"),
            models.Index(
                fields=["source", "status", "-finished_at"], name="run_source_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} run #{self.pk} {self.status} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class EventRevision(models.Model):
    """One changed field of one occurrence: a revised previous, a new actual, a move."""

    event = models.ForeignKey(
        EconomicEvent, on_delete=models.CASCADE, related_name="revisions"
    )
    run = models.ForeignKey(
        IngestionRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="revisions",
    )
    field = models.CharField(max_length=32)
    old_value = models.TextField(blank=True, default="")
    new_value = models.TextField(blank=True, default="")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["event", "changed_at"], name="revision_event_changed")
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value!r} -> {self.new_value!r}"


class Heartbeat(models.Model):
    """A long-running process's sign of life (the scheduler leader), for /api/health/."""

    name = models.CharField(max_length=64, unique=True)
    holder = models.CharField(
        max_length=255, blank=True, default="", help_text="host:pid"
    )
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.holder}) at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class SourceSchedule(models.Model):
    """When the scheduler next refreshes a source, for /api/sources/.

    The scheduler leader writes it whenever a refresh job's next run time changes (at
    start, and each time the job is handed to a worker), as it writes the Heartbeat:
    the API reads a core row instead of importing the scheduler or its job store.
    """

    source = models.CharField(max_length=32, unique=True)
    next_run_at = models.DateTimeField(
        null=True, blank=True, help_text="Null while the job is paused."
    )
    published_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source} next at {self.next_run_at or 'never'}"
