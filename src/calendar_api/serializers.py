"""Output shapes, for the OpenAPI schema and for rendering.

Each serializer declares its fields, which document the schema; ``to_representation``
hands the row to the one mapping in ``core.representation``, because per-field
serializer machinery cost more than the query on the list endpoint
(docs/benchmarks.md). A test checks that the declared fields and that mapping agree key
for key, so the schema cannot drift from what the API serves.
"""

import orjson
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import (
    EventKind,
    EventStatus,
    IndicatorCategory,
    IndicatorFrequency,
    IngestionRun,
    Outcome,
    TimePrecision,
)
from core.representation import (
    document_with_local,
    indicator_json,
    occurrence_detail_json,
    occurrence_json,
    revision_json,
    source_event_json,
)


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


class OrderedSerializer(serializers.Serializer):
    """Fields in ``field_order``, the order ``core.representation`` builds them in
    (DRF would put a mixin's fields first); CSV columns follow it too."""

    field_order: tuple[str, ...] = ()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        rank = {name: index for index, name in enumerate(self.field_order)}
        return dict(
            sorted(fields.items(), key=lambda item: rank.get(item[0], len(rank)))
        )


class FiguresMixin(OrderedSerializer):
    """The four published figures of a release."""

    actual = FigureSerializer(allow_null=True, help_text="As first published.")
    forecast = FigureSerializer(allow_null=True, help_text="The consensus forecast.")
    previous = FigureSerializer(
        allow_null=True,
        help_text="The previous period's figure as first shown with this release.",
    )
    revised_previous = FigureSerializer(
        allow_null=True, help_text="The previous figure after this release revised it."
    )
    revised = FigureSerializer(
        allow_null=True,
        help_text="This release's own figure as the agency revised it later (the "
        "actual stays the first print).",
    )


WHEN = ("date", "time", "datetime", "time_precision")
FIGURE_NAMES = ("actual", "forecast", "previous", "revised_previous", "revised")


class WhenMixin(OrderedSerializer):
    """When a release is scheduled: UTC date and time, and its precision."""

    date = serializers.DateField(help_text="UTC date.")
    time = ClockTimeField(allow_null=True, help_text="UTC time; null without one.")
    datetime = serializers.DateTimeField(
        allow_null=True, help_text="UTC instant (ISO 8601); null without a clock time."
    )
    time_precision = serializers.ChoiceField(choices=TimePrecision.values)


class SourceEntrySerializer(FiguresMixin, WhenMixin):
    """One source's own view of an occurrence."""

    field_order = (
        "source", "event_id", "event_name", "reference_period", "importance", *WHEN,
        "status", *FIGURE_NAMES, "outcome", "url", "release", "external_id",
        "source_event_id", "first_seen_at", "updated_at", "revisions",
    )  # fmt: skip

    source = serializers.CharField()
    event_id = serializers.IntegerField(help_text="The source row's id.")
    event_name = serializers.CharField(help_text="As the source names it.")
    reference_period = serializers.CharField()
    importance = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=EventStatus.values)
    outcome = serializers.ChoiceField(
        choices=Outcome.values,
        allow_null=True,
        help_text="The source's own better/worse mark on the actual, when it prints one.",
    )
    url = serializers.CharField()
    release = serializers.BooleanField(
        help_text="A release-level row (FRED's release calendar) announcing this "
        "occurrence's indicator."
    )


class OccurrenceSerializer(FiguresMixin, WhenMixin):
    """One release: an indicator on one scheduled date, consolidated across sources."""

    field_order = (
        "id", "indicator", "event_name", "reference_period", "category", "kind",
        "country", "currency", *WHEN, "local", "importance", "status", *FIGURE_NAMES,
        "actual_source", "surprise", "surprise_z", "outcome", "sources", "conflicts",
        "first_seen_at", "updated_at", "revisions",
    )  # fmt: skip

    id = serializers.IntegerField()
    indicator = serializers.CharField(help_text="The indicator's id.")
    event_name = serializers.CharField(help_text="The indicator's name.")
    reference_period = serializers.CharField()
    category = serializers.ChoiceField(choices=IndicatorCategory.values)
    kind = serializers.ChoiceField(choices=EventKind.values)
    country = serializers.CharField(
        help_text="ISO 3166-1 alpha-2; EU euro area; WW global."
    )
    currency = serializers.CharField(help_text="ISO 4217; empty for global events.")
    local = LocalTimeSerializer(
        allow_null=True, help_text="Date and time in `tz`, present when `tz` is given."
    )
    importance = serializers.IntegerField(
        allow_null=True,
        help_text="1 low, 2 medium, 3 high; null when none is published.",
    )
    status = serializers.ChoiceField(choices=EventStatus.values)
    actual_source = serializers.CharField(
        allow_null=True, help_text="The source the actual comes from."
    )
    surprise = serializers.FloatField(
        allow_null=True,
        help_text="actual - forecast, in the figures' unit, when both are numbers.",
    )
    surprise_z = serializers.FloatField(
        allow_null=True,
        help_text="surprise / standard deviation of the indicator's previous 24 "
        "surprises (when 8 or more exist).",
    )
    outcome = serializers.ChoiceField(
        choices=Outcome.values,
        allow_null=True,
        help_text="For the currency, from the indicator's polarity; null when unknown.",
    )
    sources = SourceEntrySerializer(many=True, help_text="Each source's own view.")
    conflicts = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fields on which the sources disagree (time, actual, forecast, "
        "previous, revised_previous).",
    )
    first_seen_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        help_text="Last change of a consolidated field."
    )

    def to_representation(self, row: dict) -> dict | orjson.Fragment:
        """The stored document when the row carries one (a JSON page: its bytes pass
        through the renderer as they are), else the mapping built from the row."""
        tz = self.context.get("tz")
        document = row.get("document")
        if document is not None:
            return orjson.Fragment(document_with_local(document.encode(), row, tz))
        return occurrence_json(row, tz)


class RevisionSerializer(serializers.Serializer):
    field = serializers.CharField()
    old_value = serializers.CharField()
    new_value = serializers.CharField()
    changed_at = serializers.DateTimeField()
    run = serializers.IntegerField(allow_null=True, help_text="Ingestion run id.")

    def to_representation(self, row: dict) -> dict:
        return revision_json(row)


class SourceEventSerializer(SourceEntrySerializer):
    """A member row in full, with its own change log."""

    external_id = serializers.CharField(help_text="The source's key of the row.")
    source_event_id = serializers.CharField(
        help_text="The source's id of the event type."
    )
    first_seen_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    revisions = RevisionSerializer(many=True, help_text="Every change, oldest first.")

    def to_representation(self, row: dict) -> dict:
        return source_event_json(row)


class OccurrenceDetailSerializer(OccurrenceSerializer):
    sources = SourceEventSerializer(many=True, help_text="Each source's row in full.")
    revisions = RevisionSerializer(
        many=True, help_text="Every change of a consolidated field, oldest first."
    )

    def to_representation(self, row: dict) -> dict:
        return occurrence_detail_json(row, self.context.get("tz"))


class AliasSerializer(serializers.Serializer):
    source = serializers.CharField()
    key = serializers.CharField(
        help_text="The source's id, or country:normalised name."
    )
    name = serializers.CharField(help_text="As the source prints it, when known.")


class OccurrenceRefSerializer(FiguresMixin):
    field_order = (
        "id", "date", "datetime", "reference_period", *FIGURE_NAMES, "surprise", "outcome"
    )  # fmt: skip
    id = serializers.IntegerField()
    date = serializers.DateField()
    datetime = serializers.DateTimeField(allow_null=True)
    reference_period = serializers.CharField()
    surprise = serializers.FloatField(allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.values, allow_null=True)


class IndicatorSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stable slug: us-nonfarm-payrolls.")
    country = serializers.CharField()
    currency = serializers.CharField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=IndicatorCategory.values)
    frequency = serializers.ChoiceField(choices=IndicatorFrequency.values)
    kind = serializers.ChoiceField(choices=EventKind.values)
    unit = serializers.CharField(
        help_text="What the figure counts: percent, persons..."
    )
    scale = serializers.CharField(help_text="K, M, B, T or empty.")
    higher_is_better = serializers.BooleanField(
        allow_null=True,
        help_text="Whether a higher actual is good for the currency; null when unknown.",
    )
    importance = serializers.IntegerField(allow_null=True)
    catalogued = serializers.BooleanField(
        help_text="In the curated catalogue; false for names only a source knows."
    )
    aliases = AliasSerializer(many=True, help_text="How each source keys it.")
    next_occurrence = OccurrenceRefSerializer(
        allow_null=True, help_text="The next scheduled release."
    )
    last_release = OccurrenceRefSerializer(
        allow_null=True, help_text="The latest release with an actual."
    )

    def to_representation(self, row: dict) -> dict:
        return indicator_json(row)


class IndicatorDetailSerializer(IndicatorSerializer):
    description = serializers.CharField()
    announces = serializers.ListField(
        child=serializers.CharField(),
        help_text="For a release (FRED's): the indicators it announces.",
    )

    def to_representation(self, row: dict) -> dict:
        return indicator_json(row, detail=True)


class HistorySerializer(FiguresMixin):
    """One release of an indicator, as its history lists it."""

    field_order = (
        "id", "date", "datetime", "reference_period", "status", "importance",
        *FIGURE_NAMES, "actual_source", "surprise", "surprise_z", "outcome",
    )  # fmt: skip

    id = serializers.IntegerField(help_text="The occurrence's id (/api/events/{id}/).")
    date = serializers.DateField(help_text="UTC date.")
    datetime = serializers.DateTimeField(allow_null=True)
    reference_period = serializers.CharField()
    status = serializers.ChoiceField(choices=EventStatus.values)
    importance = serializers.IntegerField(allow_null=True)
    actual_source = serializers.CharField(allow_null=True)
    surprise = serializers.FloatField(allow_null=True)
    surprise_z = serializers.FloatField(allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.values, allow_null=True)

    def to_representation(self, row: dict) -> dict:
        return {
            name: value
            for name, value in occurrence_json(row).items()
            if name in HISTORY_KEYS
        }


HISTORY_KEYS = frozenset(HistorySerializer().fields)


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    events = serializers.IntegerField()


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = IngestionRun
        fields = [
            "id", "trigger", "status", "started_at", "finished_at", "window_start",
            "window_end", "fetched", "created", "updated", "unchanged", "cancelled",
            "skipped", "error",
        ]  # fmt: skip
        read_only_fields = fields  # output only: every field is always present


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


class ReplicaHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["ok", "lagging", "unreachable"],
        help_text="lagging: replay lag past DATABASE_REPLICA_MAX_LAG_SECONDS (or not a "
        "replica); unreachable: no connection. Either way the API reads elsewhere.",
    )
    lag_seconds = serializers.FloatField(
        allow_null=True, help_text="Replay lag; null when unknown or unreachable."
    )


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    database = serializers.CharField()
    cache = serializers.ChoiceField(
        choices=["ok", "degraded"],
        help_text="degraded: the shared cache (Redis) is unreachable; the API answers uncached.",
    )
    replicas = serializers.DictField(
        child=ReplicaHealthSerializer(),
        help_text="Per PostgreSQL read replica (DATABASE_REPLICA_URLS), by alias; empty "
        "when none is configured. A bad replica is skipped, not an error.",
    )
    host = serializers.CharField(required=False, help_text="Which replica answered.")
    sources = serializers.DictField(
        help_text="Per enabled source: age of its last success."
    )
    scheduler = serializers.DictField(
        allow_null=True, help_text="Heartbeat of the leader."
    )
