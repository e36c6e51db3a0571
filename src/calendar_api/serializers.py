"""Output shapes. Declared fields document the OpenAPI schema; ``to_representation`` is
a direct mapping from ``.values()`` rows, because per-field serializer machinery cost
more than the query on the list endpoint (docs/benchmarks.md). A test checks that the
two agree key for key."""

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.models import FIGURE_FIELDS

# Columns a list row is built from (and the CSV/ICS exports).
EVENT_COLUMNS = [
    "id", "source", "external_id", "source_event_id", "event_name", "reference_period",
    "category", "kind", "country", "currency", "date", "time", "time_precision",
    "scheduled_at", "importance", "status", "source_url", "first_seen_at", "updated_at",
    *(f"{name}{part}" for name in FIGURE_FIELDS for part in ("", "_value", "_unit")),
]  # fmt: skip


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}:\d{2}$", "example": "12:30:00"}
)
class ClockTimeField(serializers.TimeField):
    """A wall-clock time, HH:MM:SS. Documented as a pattern, not ``format: time``:
    JSON Schema's "time" is RFC 3339's full-time, which must carry an offset, and
    the zone here is stated by the field (UTC, or ``local.tz``)."""


class FigureSerializer(serializers.Serializer):
    text = serializers.CharField(
        help_text='As published: "254K", "<0.25%", "4.44|2.7".'
    )
    value = serializers.FloatField(
        allow_null=True, help_text="The number, when the text is one (254 for 254K)."
    )
    unit = serializers.CharField(help_text="%, K, M, B, T, bp or empty.")


class LocalTimeSerializer(serializers.Serializer):
    tz = serializers.CharField()
    date = serializers.DateField()
    time = ClockTimeField(allow_null=True)
    datetime = serializers.DateTimeField(allow_null=True)


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()
    external_id = serializers.CharField()
    source_event_id = serializers.CharField()
    event_name = serializers.CharField()
    reference_period = serializers.CharField()
    category = serializers.CharField()
    kind = serializers.ChoiceField(choices=["release", "speech", "holiday", "other"])
    country = serializers.CharField(
        help_text="ISO 3166-1 alpha-2; EU euro area; WW global."
    )
    currency = serializers.CharField(help_text="ISO 4217; empty for global events.")
    date = serializers.DateField(help_text="UTC date.")
    time = ClockTimeField(allow_null=True, help_text="UTC time; null without one.")
    datetime = serializers.DateTimeField(
        allow_null=True, help_text="UTC instant (ISO 8601); null without a clock time."
    )
    time_precision = serializers.ChoiceField(
        choices=["exact", "all_day", "tentative", "date_only"]
    )
    local = LocalTimeSerializer(
        allow_null=True, help_text="Date and time in `tz`, present when `tz` is given."
    )
    importance = serializers.IntegerField(
        allow_null=True,
        help_text="1 low, 2 medium, 3 high; null when none is published.",
    )
    status = serializers.ChoiceField(choices=["scheduled", "released", "cancelled"])
    actual = FigureSerializer(allow_null=True)
    forecast = FigureSerializer(allow_null=True)
    previous = FigureSerializer(allow_null=True, help_text="As first shown.")
    revised_previous = FigureSerializer(
        allow_null=True, help_text="The previous figure after the source revised it."
    )
    source_url = serializers.CharField()
    first_seen_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        help_text="Last change of a published field."
    )

    def __init__(self, *args: Any, tz: ZoneInfo | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz

    def to_representation(self, row: dict) -> dict:
        return event_json(row, self.tz)


@extend_schema_serializer(many=False)  # the list action returns one page object
class EventPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="Next page, or null.")
    results = EventSerializer(many=True)


class RevisionSerializer(serializers.Serializer):
    field = serializers.CharField()
    old_value = serializers.CharField()
    new_value = serializers.CharField()
    changed_at = serializers.DateTimeField()
    run = serializers.IntegerField(allow_null=True, help_text="Ingestion run id.")


class EventDetailSerializer(EventSerializer):
    revisions = RevisionSerializer(many=True, help_text="Every change, oldest first.")

    def to_representation(self, row: dict) -> dict:
        data = event_json(row, self.tz)
        data["revisions"] = [
            {
                "field": rev["field"],
                "old_value": rev["old_value"],
                "new_value": rev["new_value"],
                "changed_at": _iso(rev["changed_at"]),
                "run": rev["run_id"],
            }
            for rev in row["revisions"]
        ]
        return data


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    events = serializers.IntegerField()


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    trigger = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    window_start = serializers.DateField(allow_null=True)
    window_end = serializers.DateField(allow_null=True)
    fetched = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    skipped = serializers.IntegerField()
    error = serializers.CharField()


class SourceSerializer(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField()
    homepage = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    supports_range = serializers.BooleanField()
    schedule = serializers.CharField(help_text="Refresh cron (UTC).")
    next_run_at = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_run = RunSerializer(allow_null=True)
    events = serializers.IntegerField()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    database = serializers.CharField()
    cache = serializers.ChoiceField(
        choices=["ok", "degraded"],
        help_text="degraded: the shared cache (Redis) is unreachable; the API answers uncached.",
    )
    host = serializers.CharField(required=False, help_text="Which replica answered.")
    sources = serializers.DictField(
        help_text="Per enabled source: age of its last success."
    )
    scheduler = serializers.DictField(
        allow_null=True, help_text="Heartbeat of the leader."
    )


def event_json(row: dict, tz: ZoneInfo | None) -> dict:
    timed = row["time"] is not None
    instant: datetime = row["scheduled_at"]
    data = {
        "id": row["id"],
        "source": row["source"],
        "external_id": row["external_id"],
        "source_event_id": row["source_event_id"],
        "event_name": row["event_name"],
        "reference_period": row["reference_period"],
        "category": row["category"],
        "kind": row["kind"],
        "country": row["country"],
        "currency": row["currency"],
        "date": row["date"].isoformat(),
        "time": row["time"].isoformat() if timed else None,
        "datetime": _iso(instant) if timed else None,
        "time_precision": row["time_precision"],
        "local": None,
        "importance": row["importance"],
        "status": row["status"],
        "actual": _figure(row, "actual"),
        "forecast": _figure(row, "forecast"),
        "previous": _figure(row, "previous"),
        "revised_previous": _figure(row, "revised_previous"),
        "source_url": row["source_url"],
        "first_seen_at": _iso(row["first_seen_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
    if tz is not None:
        if timed:
            local = instant.astimezone(tz)
            data["local"] = {
                "tz": tz.key,
                "date": local.date().isoformat(),
                "time": local.time().isoformat(),
                "datetime": local.isoformat(),
            }
        else:  # all-day and date-only events stay on their calendar day everywhere
            data["local"] = {
                "tz": tz.key,
                "date": data["date"],
                "time": None,
                "datetime": None,
            }
    return data


def _figure(row: dict, name: str) -> dict | None:
    text = row[name]
    if not text:
        return None
    value: Decimal | None = row[f"{name}_value"]
    return {
        "text": text,
        "value": float(value) if value is not None else None,
        "unit": row[f"{name}_unit"],
    }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def clock(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""
