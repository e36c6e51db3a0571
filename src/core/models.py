"""The calendar's domain model: indicators, their occurrences, the per-source rows an
occurrence is consolidated from, the change logs, and ingestion runs.

- ``Indicator``: what is measured ("US Initial Jobless Claims"), from the curated
  catalogue or created for a row the catalogue does not know.
- ``EconomicEvent``: one scheduled occurrence *as one source lists it*.
- ``Occurrence``: one indicator on one scheduled date, consolidated across sources
  (what ``/api/events/`` lists); ``OccurrenceMember`` says which source rows it is made of.

All times are UTC. Rows keep ``date`` and ``time`` apart (so "everything on 2025-10-20"
is a plain ``filter(date=...)``) and ``scheduled_at`` beside them, the instant the API
sorts and range-filters on (midnight UTC of ``date`` when there is no clock time). Only
``ingestion`` writes these rows (see docs/data-model.md).
"""

from django.db import models
from django.db.models import Q

from core.querysets import EventQuerySet, IngestionRunQuerySet, OccurrenceQuerySet


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


class IndicatorCategory(models.TextChoices):
    EMPLOYMENT = "employment", "Employment"
    INFLATION = "inflation", "Inflation"
    GROWTH = "growth", "Growth"
    TRADE = "trade", "Trade"
    HOUSING = "housing", "Housing"
    SENTIMENT = "sentiment", "Sentiment"
    RATES = "rates", "Rates and central bank"
    SPEECHES = "speeches", "Speeches"
    AUCTIONS = "auctions", "Auctions"
    HOLIDAYS = "holidays", "Holidays"
    ENERGY = "energy", "Energy"
    OTHER = "other", "Other"


class IndicatorFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Twice a year"
    ANNUAL = "annual", "Annual"
    IRREGULAR = "irregular", "Irregular (meetings, speeches)"
    UNKNOWN = "unknown", "Unknown (not in the catalogue)"


class Outcome(models.TextChoices):
    BETTER = "better", "Better than forecast for the currency"
    WORSE = "worse", "Worse than forecast for the currency"
    INLINE = "inline", "As forecast"

    @classmethod
    def of(cls, surprise, higher_is_better: bool | None) -> str:
        """The outcome of ``surprise`` (actual - forecast) for an indicator whose
        higher prints are good (True), bad (False) or of unknown meaning (None: "")."""
        if surprise is None or higher_is_better is None:
            return ""
        if surprise == 0:
            return cls.INLINE
        return cls.BETTER if (surprise > 0) == higher_is_better else cls.WORSE


# The published figures of an occurrence. Each is stored three times: the text as
# published ("254K", "<0.25%", "4.44|2.7", "Pass"), and when it is a number, its Decimal
# value (254) and unit ("K"). ``revised_previous`` is the previous figure after the
# source revised it; ``previous`` stays what was first shown. ``revised`` is this
# period's own figure as an agency revised it later (or its current value when the
# first print is unknown); ``actual`` stays the first print (see docs/data-model.md).
FIGURE_FIELDS = ("actual", "forecast", "previous", "revised_previous", "revised")


class Indicator(models.Model):
    """What a release measures, across sources and dates: ``us-initial-jobless-claims``.

    Catalogued indicators come from the data files of ``ingestion/catalogue/``; a row
    the catalogue does not know gets one keyed on its country and normalised name
    (``catalogued`` false), so history works for everything.
    """

    id = models.CharField(
        primary_key=True, max_length=100, help_text="Stable slug: us-nonfarm-payrolls."
    )
    country = models.CharField(max_length=2)
    currency = models.CharField(max_length=3, blank=True, default="")
    name = models.CharField(max_length=255, help_text="Canonical name.")
    category = models.CharField(
        max_length=16,
        choices=IndicatorCategory.choices,
        default=IndicatorCategory.OTHER,
    )
    frequency = models.CharField(
        max_length=16,
        choices=IndicatorFrequency.choices,
        default=IndicatorFrequency.UNKNOWN,
    )
    kind = models.CharField(
        max_length=16, choices=EventKind.choices, default=EventKind.RELEASE
    )
    unit = models.CharField(
        max_length=32, blank=True, default="", help_text="percent, persons, index..."
    )
    scale = models.CharField(
        max_length=1, blank=True, default="", help_text="K, M, B, T or empty."
    )
    higher_is_better = models.BooleanField(
        null=True,
        blank=True,
        help_text="Whether a higher actual is good for the currency; null when unknown.",
    )
    importance = models.PositiveSmallIntegerField(
        choices=Importance.choices,
        null=True,
        blank=True,
        help_text="The catalogue's level; used when no source gives one.",
    )
    description = models.TextField(blank=True, default="")
    catalogued = models.BooleanField(default=False)
    # A release-level row (FRED "Employment Situation") announces these indicators.
    announces = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="announced_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "name"]
        indexes = [
            models.Index(fields=["country", "category"], name="indicator_country_cat")
        ]

    def __str__(self) -> str:
        return self.id


class IndicatorAlias(models.Model):
    """How one source keys an indicator: ForexFactory by name, Investing by event id.

    ``key`` is the source's event-type id, or ``<country>:<normalised name>`` for a
    source that keys by name (see ``ingestion.catalogue.ALIAS_KEYS``).
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="aliases"
    )
    source = models.CharField(max_length=32)
    key = models.CharField(max_length=300)
    name = models.CharField(
        max_length=255, blank=True, default="", help_text="As the source prints it."
    )

    class Meta:
        ordering = ["source", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "key"], name="alias_unique_source_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.key} -> {self.indicator_id}"


class CalendarEntry(models.Model):
    """What a calendar row says, per source (``EconomicEvent``) or consolidated
    (``Occurrence``): what, where, when, how important, and the four figures."""

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
    revised = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="This period's figure as revised after its first print (agencies).",
    )
    revised_value = models.DecimalField(
        max_digits=28, decimal_places=8, null=True, blank=True
    )
    revised_unit = models.CharField(max_length=8, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=EventStatus.choices, default=EventStatus.SCHEDULED
    )

    first_seen_at = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="When a published field last changed.")

    class Meta:
        abstract = True
        ordering = ["scheduled_at", "id"]

    def __str__(self) -> str:
        when = f"{self.date} {self.time:%H:%M}" if self.time else f"{self.date}"
        return f"{self.country} {self.event_name} @ {when} UTC"

    @property
    def latest_previous(self) -> str:
        """The previous figure as the source shows it now: revised if it was revised."""
        return self.revised_previous or self.previous


class EconomicEvent(CalendarEntry):
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
    source_url = models.URLField(max_length=500, blank=True, default="")
    source_outcome = models.CharField(
        max_length=8,
        choices=Outcome.choices,
        blank=True,
        default="",
        help_text="The source's own better/worse mark on the actual, when it prints one.",
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="source_events",
    )
    last_seen_at = models.DateTimeField()

    objects = EventQuerySet.as_manager()

    class Meta(CalendarEntry.Meta):
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
            models.Index(fields=["indicator", "date"], name="event_indicator_date"),
        ]

    def __str__(self) -> str:
        return f"{super().__str__()} ({self.source})"


class Occurrence(CalendarEntry):
    """One indicator on one scheduled date, consolidated across the sources that list it.

    Its fields are chosen from its member rows by a documented precedence
    (docs/data-model.md); ``sources`` keeps each member's own view and ``conflicts``
    names the figures they disagree on. Written only by ``ingestion.consolidation``.
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="occurrences"
    )
    events = models.ManyToManyField(
        EconomicEvent, through="OccurrenceMember", related_name="occurrences"
    )
    actual_source = models.CharField(
        max_length=32, blank=True, default="", help_text="Source of the actual."
    )
    actual_at = models.DateTimeField(
        null=True, blank=True, help_text="When that source's actual was first seen."
    )
    surprise = models.DecimalField(
        max_digits=28,
        decimal_places=8,
        null=True,
        blank=True,
        help_text="actual - forecast, in the figures' unit.",
    )
    surprise_z = models.FloatField(
        null=True,
        blank=True,
        help_text="surprise / stdev of the indicator's previous 24 surprises (8+).",
    )
    outcome = models.CharField(
        max_length=8, choices=Outcome.choices, blank=True, default=""
    )
    # Each member's own view, denormalised so a list page is one query.
    sources = models.JSONField(default=list)
    conflicts = models.JSONField(default=list)
    # The occurrence as the API shows it (core.representation.occurrence_document),
    # rendered when the occurrence is written, so a list page passes bytes through.
    document = models.TextField(default="", editable=False)

    objects = OccurrenceQuerySet.as_manager()

    class Meta(CalendarEntry.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(importance__isnull=True)
                | Q(importance__gte=1, importance__lte=3),
                name="occurrence_importance_1_to_3",
            ),
            models.CheckConstraint(
                condition=Q(time__isnull=False) | ~Q(time_precision="exact"),
                name="occurrence_exact_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["date", "time"], name="occ_date_time"),
            models.Index(fields=["scheduled_at", "id"], name="occ_scheduled_id"),
            models.Index(
                fields=["country", "scheduled_at", "id"], name="occ_country_sched"
            ),
            models.Index(fields=["updated_at", "id"], name="occ_updated_id"),
            models.Index(
                fields=["indicator", "scheduled_at", "id"], name="occ_indicator_sched"
            ),
        ]


class OccurrenceMember(models.Model):
    """A source row that an occurrence is made of. A release-level row (FRED's
    "Employment Situation") can belong to several occurrences; any other row to one."""

    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.CASCADE, related_name="members"
    )
    event = models.ForeignKey(
        EconomicEvent, on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "event"], name="member_unique_occurrence_event"
            )
        ]
        indexes = [models.Index(fields=["event"], name="member_event")]

    def __str__(self) -> str:
        return f"{self.event_id} in {self.occurrence_id}"


class IngestionRun(models.Model):
    """One crawl of one source over one window: what came in and what it changed."""

    class Trigger(models.TextChoices):
        CLI = "cli", "Command line"
        SCHEDULER = "scheduler", "Scheduler"
        FILE = "file", "Recorded file"
        SAMPLE = "sample", "Bundled sample data"
        BACKFILL = "backfill", "History backfill"
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


class ChangeLogEntry(models.Model):
    """One changed field: its old and new value as text, when, and the run that saw it."""

    field = models.CharField(max_length=32)
    old_value = models.TextField(blank=True, default="")
    new_value = models.TextField(blank=True, default="")
    changed_at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value!r} -> {self.new_value!r}"


class EventRevision(ChangeLogEntry):
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

    class Meta(ChangeLogEntry.Meta):
        indexes = [
            models.Index(fields=["event", "changed_at"], name="revision_event_changed")
        ]


class OccurrenceRevision(ChangeLogEntry):
    """One changed consolidated field of an occurrence, and the run that changed it."""

    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.CASCADE, related_name="revisions"
    )
    run = models.ForeignKey(
        IngestionRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="occurrence_revisions",
    )

    class Meta(ChangeLogEntry.Meta):
        indexes = [
            models.Index(
                fields=["occurrence", "changed_at"], name="occ_revision_changed"
            )
        ]


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
