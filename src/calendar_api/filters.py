"""Query parameters of /api/events/. Validation lives in the form, so every bad value is
a 400 naming its parameter; the query itself is the model's QuerySet vocabulary."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import django_filters as filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from calendar_api import relative_dates
from calendar_api.relative_dates import DAY_FIELDS, RelativeDay
from core.countries import is_currency_code, is_known_country
from core.models import EconomicEvent, EventKind, EventStatus, Importance
from core.sources import all_sources
from core.timezones import lookup_zone

ORDERINGS = (
    "date",
    "-date",
    "importance",
    "-importance",
    "country",
    "-country",
    "updated",
)
MAX_LIST = 50  # items in one list
MAX_Q = 100


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """List of strings: ``?country=US,ca`` (repeated keys are joined before, by
    calendar_api.params)."""

    max_items = MAX_LIST  # for the schema (calendar_api.schema)


class NumberInFilter(filters.BaseInFilter, filters.NumberFilter):
    """List of numbers: ``?importance=2,3``."""

    max_items = MAX_LIST


class SourceInFilter(CharInFilter):
    """Source slugs; the schema lists the sources this server knows."""

    @staticmethod
    def schema_choices() -> list[str]:
        return source_slugs()


def source_slugs() -> list[str]:
    return [source.name for source in all_sources()]


class RelativeDateField(forms.DateField):
    """A YYYY-MM-DD date, or a RelativeDay (``today``, ``-7d``) that the form resolves
    once it knows the time zone."""

    def to_python(self, value: object) -> date | RelativeDay | None:
        if isinstance(value, str):
            try:
                relative = relative_dates.parse_relative(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
            if relative is not None:
                return relative
        return super().to_python(value)


def relative_date(description: str) -> type[filters.DateFilter]:
    """A date filter that takes relative days too, documented as such."""
    schema = {
        "type": "string",
        "pattern": relative_dates.PATTERN,
        "description": f"{description} {relative_dates.HELP}",
        "example": "2026-06-04",
    }
    attrs = {"field_class": RelativeDateField}
    return extend_schema_field(schema)(
        type("RelativeDateFilter", (filters.DateFilter,), attrs)
    )


# The schema states the allowed values, so Swagger UI offers them and a generated
# client (or a fuzzer) knows what a valid request is; the form still checks them. An
# @extend_schema_field schema replaces the help_text, so it carries the description;
# on a list filter it describes one item (drf-spectacular builds the array).
LEVELS = [level.value for level in Importance]


# Levels as a range, not an enum: a generated client then takes plain integers
# (min_importance=3) rather than an enum class per operation.
LEVEL_RANGE = {"type": "integer", "minimum": min(LEVELS), "maximum": max(LEVELS)}


@extend_schema_field({**LEVEL_RANGE, "description": "Levels: 1 low, 2 medium, 3 high."})
class ImportanceInFilter(NumberInFilter):
    pass


@extend_schema_field({**LEVEL_RANGE, "description": "Lowest level: 1, 2 or 3."})
class ImportanceFilter(filters.NumberFilter):
    pass


def choices_in(values: list[str], description: str) -> type[CharInFilter]:
    """A CharInFilter class whose schema lists ``values``."""
    schema = {"type": "string", "enum": values, "description": description}
    return extend_schema_field(schema)(type("ChoicesInFilter", (CharInFilter,), {}))


class EventFilterForm(forms.Form):
    """Field-level and cross-field checks for EventFilterSet's generated fields.

    After ``is_valid()``, relative days are resolved to dates in ``tz`` and
    ``relative`` says whether any was given (the answer then expires at midnight).
    """

    relative = False

    def clean_country(self) -> list[str] | None:
        codes = self._codes("country")
        unknown = [code for code in codes or [] if not is_known_country(code)]
        if unknown:
            raise forms.ValidationError(
                f"Unknown country code(s): {', '.join(unknown)}. Use ISO 3166-1 alpha-2 "
                "codes, EU for the euro area, WW for global events."
            )
        return codes

    def clean_currency(self) -> list[str] | None:
        codes = self._codes("currency")
        bad = [code for code in codes or [] if not is_currency_code(code)]
        if bad:
            raise forms.ValidationError(
                f"Not ISO 4217 currency code(s): {', '.join(bad)}. Use e.g. USD,EUR."
            )
        return codes

    def clean_source(self) -> list[str] | None:
        return self._choices("source", source_slugs())

    def clean_status(self) -> list[str] | None:
        return self._choices("status", EventStatus.values)

    def clean_kind(self) -> list[str] | None:
        return self._choices("kind", EventKind.values)

    def clean_importance(self) -> list[int] | None:
        values = self.cleaned_data.get("importance")
        if values is None:
            return None
        self._check_length("importance", values)
        bad = [v for v in values if v not in Importance.values]
        if bad:
            raise forms.ValidationError(
                "Importance is 1 (low), 2 (medium) or 3 (high)."
            )
        return [int(v) for v in values]

    def clean_min_importance(self) -> int | None:
        value = self.cleaned_data.get("min_importance")
        if value is not None and value not in Importance.values:
            raise forms.ValidationError("min_importance is 1, 2 or 3.")
        return int(value) if value is not None else None

    def clean_has_actual(self) -> bool | None:
        # The null-boolean field reads anything unknown as "not given"; say so instead.
        raw = (self.data.get("has_actual") or "").strip().lower()
        if raw not in ("", "true", "false", "1", "0", "yes", "no"):
            raise forms.ValidationError("Use true or false.")
        return self.cleaned_data.get("has_actual")

    def clean_q(self) -> str:
        value = (self.cleaned_data.get("q") or "").strip()
        if len(value) > MAX_Q:
            raise forms.ValidationError(f"At most {MAX_Q} characters.")
        return value

    def clean_tz(self) -> ZoneInfo | None:
        value = (self.cleaned_data.get("tz") or "").strip()
        if not value:
            return None
        try:
            return lookup_zone(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_updated_since(self) -> datetime | None:
        value = self.cleaned_data.get("updated_since")
        if value is None:
            return None
        # In UTC before it reaches the database: PostgreSQL refuses offsets past
        # +-15:59 (ISO 8601 allows up to 23:59), and a year-1 instant east of UTC
        # falls before year 1 once converted.
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                f"{value.isoformat()} is out of range."
            ) from None

    def clean_ordering(self) -> str:
        value = (self.cleaned_data.get("ordering") or "date").strip()
        if value not in ORDERINGS:
            raise forms.ValidationError(f"Ordering is one of {', '.join(ORDERINGS)}.")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        self._resolve_relative_days(cleaned)
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_from", f"date_from {start} is after date_to {end}.")
        if cleaned.get("date") and (start or end):
            self.add_error("date", "Use either date or date_from/date_to, not both.")
        return cleaned

    def _resolve_relative_days(self, cleaned: dict) -> None:
        today = relative_dates.today_in(cleaned.get("tz") or UTC)
        for name in DAY_FIELDS:
            value = cleaned.get(name)
            if not isinstance(value, RelativeDay):
                continue
            self.relative = True
            try:
                cleaned[name] = value.resolve(today)
            except ValueError as exc:
                del cleaned[name]
                self.add_error(name, str(exc))

    def _choices(self, name: str, allowed: list[str]) -> list[str] | None:
        values = self._codes(name, upper=False)
        bad = [value for value in values or [] if value not in allowed]
        if bad:
            raise forms.ValidationError(
                f"Unknown {name} {', '.join(bad)}; one of {', '.join(allowed)}."
            )
        return values

    def _codes(self, name: str, *, upper: bool = True) -> list[str] | None:
        values = self.cleaned_data.get(name)
        if values is None:
            return None
        codes = [v.strip().upper() if upper else v.strip() for v in values if v.strip()]
        self._check_length(name, codes)
        return codes

    @staticmethod
    def _check_length(name: str, values: list) -> None:
        if len(values) > MAX_LIST:
            raise forms.ValidationError(f"At most {MAX_LIST} values in {name}.")


class EventFilterSet(filters.FilterSet):
    country = CharInFilter(
        method="filter_country",
        help_text="ISO 3166-1 alpha-2 codes, any case; EU is the euro area, WW global events.",
    )
    currency = CharInFilter(
        method="filter_currency",
        help_text="ISO 4217 codes, e.g. USD,EUR.",
    )
    date = relative_date("One calendar day in `tz` (default UTC).")(
        method="filter_noop"
    )
    date_from = relative_date("First day, inclusive, in `tz`.")(method="filter_noop")
    date_to = relative_date("Last day, inclusive, in `tz`.")(method="filter_noop")
    tz = filters.CharFilter(
        method="filter_noop",
        help_text="IANA time zone (e.g. Asia/Seoul) for the day filters and each item's `local`.",
    )
    importance = ImportanceInFilter(field_name="importance", lookup_expr="in")
    min_importance = ImportanceFilter(field_name="importance", lookup_expr="gte")
    category = filters.CharFilter(field_name="category", lookup_expr="iexact")
    source = SourceInFilter(
        field_name="source",
        lookup_expr="in",
        help_text="Source slugs (see /api/sources/).",
    )
    status = choices_in(EventStatus.values, "Statuses.")(
        field_name="status", lookup_expr="in"
    )
    kind = choices_in(EventKind.values, "Kinds.")(field_name="kind", lookup_expr="in")
    has_actual = filters.BooleanFilter(method="filter_has_actual")
    q = filters.CharFilter(
        method="filter_q", help_text="Event name contains (case-insensitive)."
    )
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="ISO 8601 datetime: rows changed at or after it (incremental sync).",
    )
    ordering = filters.ChoiceFilter(
        method="filter_noop",
        choices=[(value, value) for value in ORDERINGS],
        help_text="Sort order; ties are broken by id. `updated` suits incremental sync.",
    )

    class Meta:
        model = EconomicEvent
        fields: list[str] = []
        form = EventFilterForm

    def filter_noop(self, queryset, name, value):
        # Applied together in filter_queryset (days depend on tz) or by the view.
        return queryset

    def filter_country(self, queryset, name, value):
        return queryset.for_countries(value) if value else queryset

    def filter_currency(self, queryset, name, value):
        return queryset.for_currencies(value) if value else queryset

    def filter_has_actual(self, queryset, name, value):
        return queryset.released() if value else queryset.filter(actual="")

    def filter_q(self, queryset, name, value):
        return queryset.filter(event_name__icontains=value) if value else queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        start = data.get("date") or data.get("date_from")
        end = data.get("date") or data.get("date_to")
        if start or end:
            queryset = queryset.in_days(start, end, data.get("tz"))
        return queryset
