"""Read-mostly admin: rows are written by ingestion, people look and search."""

from django.contrib import admin

from core.models import (
    EconomicEvent,
    EventRevision,
    Heartbeat,
    IngestionRun,
    SourceSchedule,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewing and searching only: edits would bypass the change log."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EventRevisionInline(admin.TabularInline):
    model = EventRevision
    extra = 0
    can_delete = False
    fields = ("changed_at", "field", "old_value", "new_value", "run")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


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
