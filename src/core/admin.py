"""Read-mostly admin: rows are written by ingestion, people look and search."""

from django.contrib import admin

from core.models import (
    EconomicEvent,
    EventRevision,
    Heartbeat,
    Indicator,
    IndicatorAlias,
    IngestionRun,
    Occurrence,
    OccurrenceRevision,
    SourceSchedule,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewing and searching only: edits would bypass the change log."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class EventRevisionInline(ReadOnlyInline):
    model = EventRevision
    fields = ("changed_at", "field", "old_value", "new_value", "run")
    readonly_fields = fields


@admin.register(EconomicEvent)
class EconomicEventAdmin(ReadOnlyAdmin):
    list_display = (
        "date", "time", "country", "currency", "event_name", "reference_period",
        "importance", "actual", "forecast", "previous", "status", "source",
    )  # fmt: skip
    list_filter = (
        "source",
        "importance",
        "status",
        "kind",
        "time_precision",
        "country",
    )
    search_fields = ("event_name", "external_id", "country", "currency")
    date_hierarchy = "date"
    ordering = ("-scheduled_at", "-id")
    inlines = [EventRevisionInline]
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over millions of rows on every page


@admin.register(EventRevision)
class EventRevisionAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "event", "field", "old_value", "new_value", "run")
    list_filter = ("field", "event__source", "event__country")
    search_fields = ("event__event_name",)
    list_select_related = ("event", "run")
    raw_id_fields = ("event", "run")
    show_full_result_count = False


@admin.register(IngestionRun)
class IngestionRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at", "source", "trigger", "status", "window_start", "window_end",
        "fetched", "created", "updated", "unchanged", "cancelled", "skipped",
    )  # fmt: skip
    list_filter = ("source", "status", "trigger")
    search_fields = ("error",)
    date_hierarchy = "started_at"


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "holder", "started_at", "beat_at")


@admin.register(SourceSchedule)
class SourceScheduleAdmin(ReadOnlyAdmin):
    list_display = ("source", "next_run_at", "published_at")


class IndicatorAliasInline(ReadOnlyInline):
    model = IndicatorAlias
    fields = ("source", "key", "name")
    readonly_fields = fields


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyAdmin):
    """The catalogue lives in ingestion/catalogue/*.yaml; edit it there."""

    list_display = (
        "id", "name", "country", "category", "frequency", "importance",
        "higher_is_better", "catalogued",
    )  # fmt: skip
    list_filter = ("catalogued", "category", "frequency", "country")
    search_fields = ("id", "name")
    inlines = [IndicatorAliasInline]
    list_per_page = 100


class OccurrenceRevisionInline(EventRevisionInline):
    model = OccurrenceRevision


@admin.register(Occurrence)
class OccurrenceAdmin(ReadOnlyAdmin):
    list_display = (
        "date", "time", "country", "event_name", "importance", "actual", "forecast",
        "previous", "surprise", "outcome", "status",
    )  # fmt: skip
    list_filter = ("importance", "status", "category", "country")
    search_fields = ("event_name", "indicator__id")
    date_hierarchy = "date"
    ordering = ("-scheduled_at", "-id")
    inlines = [OccurrenceRevisionInline]
    list_per_page = 100
    show_full_result_count = False
