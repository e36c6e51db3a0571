"""Query parameters of the list endpoints, declared once with django-filter: the
OpenAPI schema (drf-spectacular) and the validation both come from these classes.

Validation lives in each FilterSet's form, so every bad value is a 400 naming its
parameter; the query itself is the models' QuerySet vocabulary (core.querysets).
``CalendarFilterBackend`` runs them for the views and leaves the cleaned parameters on
the view (``view.params``) for the paginator, the serializer (``tz``) and the feeds.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import django_filters as filters
from django import forms
from django.db.models import Q
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from calendar_api import relative_dates
from calendar_api.relative_dates import DAY_FIELDS, RelativeDay
from core.countries import is_currency_code, is_known_country
from core.models import (
    EventKind,
    EventStatus,
    Importance,
    Indicator,
    IndicatorCategory,
    Occurrence,
)
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


class CalendarForm(forms.Form):
    """Checks shared by every list: codes, levels, names, days in a time zone.

    After ``is_valid()``, relative days are resolved to dates in ``tz`` and
    ``relative`` says whether any was given (the answer then expires at midnight).
    A FilterSet may pass ``default_days`` (first, last) for a request that names no
    day (a calendar feed's rolling window).
    """

    relative = False

    def __init__(self, *args, default_days=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_days = default_days

    def _clean_fields(self) -> None:
        """Django's loop without a BoundField per field: each value is read from its
        widget, as ``BoundField.data`` reads it (no field here is disabled or a file).
        A parameter the request does not name cleans to the same value every time,
        computed once per form class. A list names two or three of some twenty
        parameters; building a BoundField for each cost more than cleaning them."""
        absent = _absent_values(type(self))
        for name, field in self.fields.items():
            try:
                if name in self.data or name not in absent:
                    value = field.widget.value_from_datadict(
                        self.data, self.files, self.add_prefix(name)
                    )
                    self.cleaned_data[name] = field.clean(value)
                else:
                    self.cleaned_data[name] = absent[name]
                clean = getattr(self, f"clean_{name}", None)
                if clean is not None:
                    self.cleaned_data[name] = clean()
            except forms.ValidationError as exc:
                self.add_error(name, exc)

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
        return self._choices("source", source_slugs)

    def clean_category(self) -> list[str] | None:
        return self._choices("category", lambda: IndicatorCategory.values, lower=True)

    def clean_indicator(self) -> list[str] | None:
        return self._codes("indicator", upper=False)

    def clean_status(self) -> list[str] | None:
        return self._choices("status", lambda: EventStatus.values)

    def clean_kind(self) -> list[str] | None:
        return self._choices("kind", lambda: EventKind.values)

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

    def clean_as_of(self) -> datetime | None:
        value = self.cleaned_data.get("as_of")
        return value.astimezone(UTC) if value is not None else None

    def clean(self) -> dict:
        cleaned = super().clean()
        self._resolve_relative_days(cleaned)
        if self.default_days and not any(cleaned.get(name) for name in DAY_FIELDS):
            cleaned["date_from"], cleaned["date_to"] = self.default_days(
                relative_dates.today_in(cleaned.get("tz") or UTC)
            )
            self.relative = True  # a rolling window moves with today, like "today"
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

    def _choices(
        self, name: str, choices: Callable[[], list[str]], *, lower: bool = False
    ) -> list[str] | None:
        """The values of ``name``, each one of ``choices()`` (asked only when given)."""
        values = self._codes(name, upper=False)
        if values is None:
            return None
        if lower:
            values = [value.lower() for value in values]
        allowed = choices()
        bad = [value for value in values if value not in allowed]
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


def _absent_values(form_class: type[forms.Form]) -> dict:
    """What each field of ``form_class`` cleans to when its parameter is missing
    (immutable values only: a list could be changed by whoever receives it)."""
    cached = form_class.__dict__.get("_absent_values")
    if cached is None:
        cached = {}
        for name, field in form_class.base_fields.items():
            if field.required:
                continue
            value = field.clean(field.widget.value_from_datadict({}, {}, name))
            if value is None or isinstance(value, str | int | bool):
                cached[name] = value
        form_class._absent_values = cached
    return cached


class SharedFields(dict):
    """A form's fields, shared by every form of the class instead of deep-copied for
    each. Django copies them because a form may change its fields; ours never do
    (they are stateless validators), and the copy cost a third of a list request."""

    def __deepcopy__(self, memo) -> "SharedFields":
        return self


class CalendarFilterSet(filters.FilterSet):
    """Shared plumbing: the days filter (applied together, since days depend on
    ``tz``), country and currency lists, the form's ``default_days``, and the request
    path (``validate`` then ``apply``) that builds neither a FilterSet nor a form class
    per request.

    django-filter's own path (``FilterSet(data).qs``) gives the same queryset (a test
    compares them); it is what the schema generator and the admin-like tools use.
    """

    def __init__(self, *args, default_days=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_days = default_days

    def get_form_class(self):
        form_class = self.shared_form_class()
        default_days = self.default_days

        class Form(form_class):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, default_days=default_days, **kwargs)

        return Form

    @classmethod
    def shared_form_class(cls) -> type[CalendarForm]:
        """The form of this FilterSet, built once, its fields shared (SharedFields)."""
        form_class = cls.__dict__.get("_shared_form_class")
        if form_class is None:
            fields = {name: f.field for name, f in cls.base_filters.items()}
            form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
            form_class.base_fields = SharedFields(form_class.base_fields)
            cls._shared_form_class = form_class
        return form_class

    @classmethod
    def validate(cls, data, *, default_days=None) -> CalendarForm:
        """The bound, validated form of ``data`` (check ``is_valid()``)."""
        form = cls.shared_form_class()(data, default_days=default_days)
        form.is_valid()
        return form

    @classmethod
    def apply(cls, queryset, cleaned: dict):
        """``queryset`` filtered by the cleaned parameters, as ``FilterSet.qs`` does:
        each declared filter in turn (methods are static, filters stateless), then the
        days."""
        for name, value in cleaned.items():
            declared = cls.base_filters.get(name)
            if declared is None or value in EMPTY_VALUES:
                continue
            if declared.method:
                queryset = getattr(cls, declared.method)(queryset, name, value)
            else:
                queryset = declared.filter(queryset, value)
        return cls.filter_days(queryset, cleaned)

    @staticmethod
    def filter_noop(queryset, name, value):
        # Applied together in filter_days (days depend on tz) or by the view.
        return queryset

    @staticmethod
    def filter_country(queryset, name, value):
        return queryset.for_countries(value) if value else queryset

    @staticmethod
    def filter_currency(queryset, name, value):
        return queryset.for_currencies(value) if value else queryset

    @staticmethod
    def filter_days(queryset, data: dict):
        start = data.get("date") or data.get("date_from")
        end = data.get("date") or data.get("date_to")
        if start or end:
            queryset = queryset.in_days(start, end, data.get("tz"))
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return self.filter_days(queryset, self.form.cleaned_data)


class DaysFilterSet(CalendarFilterSet):
    """date, date_from, date_to and tz: the days of a list, in a time zone."""

    date = relative_date("One calendar day in `tz` (default UTC).")(
        method="filter_noop"
    )
    date_from = relative_date("First day, inclusive, in `tz`.")(method="filter_noop")
    date_to = relative_date("Last day, inclusive, in `tz`.")(method="filter_noop")
    tz = filters.CharFilter(
        method="filter_noop",
        help_text="IANA time zone (e.g. Asia/Seoul) for the day filters and each "
        "item's `local`.",
    )


COUNTRY_HELP = (
    "ISO 3166-1 alpha-2 codes, any case; EU is the euro area, WW global events."
)
CATEGORY_HELP = "Indicator categories."


class OccurrenceFilterSet(DaysFilterSet):
    """/api/events/: occurrences, one row per release across sources."""

    country = CharInFilter(method="filter_country", help_text=COUNTRY_HELP)
    currency = CharInFilter(
        method="filter_currency", help_text="ISO 4217 codes, e.g. USD,EUR."
    )
    importance = ImportanceInFilter(field_name="importance", lookup_expr="in")
    min_importance = ImportanceFilter(field_name="importance", lookup_expr="gte")
    category = choices_in(IndicatorCategory.values, CATEGORY_HELP)(
        field_name="category", lookup_expr="in"
    )
    indicator = CharInFilter(
        method="filter_indicator",
        help_text="Indicator ids (see /api/indicators/), e.g. us-nonfarm-payrolls.",
    )
    source = SourceInFilter(
        method="filter_source",
        help_text="Occurrences these sources list (see /api/sources/); each row's "
        "`sources` shows every source's own figures.",
    )
    status = choices_in(EventStatus.values, "Statuses.")(
        field_name="status", lookup_expr="in"
    )
    kind = choices_in(EventKind.values, "Kinds.")(field_name="kind", lookup_expr="in")
    has_actual = filters.BooleanFilter(method="filter_has_actual")
    q = filters.CharFilter(
        method="filter_q",
        help_text="Name or indicator id contains (case-insensitive).",
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
        model = Occurrence
        fields: list[str] = []
        form = CalendarForm

    @staticmethod
    def filter_indicator(queryset, name, value):
        return queryset.for_indicators(value) if value else queryset

    @staticmethod
    def filter_source(queryset, name, value):
        return queryset.listed_by(value) if value else queryset

    @staticmethod
    def filter_has_actual(queryset, name, value):
        return queryset.released() if value else queryset.filter(actual="")

    @staticmethod
    def filter_q(queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Q(event_name__icontains=value) | Q(indicator__id__icontains=value)
        )


class IndicatorFilterSet(CalendarFilterSet):
    """/api/indicators/: what is measured."""

    country = CharInFilter(method="filter_country", help_text=COUNTRY_HELP)
    category = choices_in(IndicatorCategory.values, CATEGORY_HELP)(
        field_name="category", lookup_expr="in"
    )
    importance = ImportanceInFilter(
        field_name="importance",
        lookup_expr="in",
        help_text="The catalogue's level.",
    )
    q = filters.CharFilter(
        method="filter_q", help_text="Name or id contains (case-insensitive)."
    )

    class Meta:
        model = Indicator
        fields: list[str] = []
        form = CalendarForm

    @staticmethod
    def filter_country(queryset, name, value):
        return queryset.filter(country__in=value) if value else queryset

    @staticmethod
    def filter_q(queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(id__icontains=value))


class HistoryFilterSet(DaysFilterSet):
    """/api/indicators/{id}/history/: an indicator's occurrences, newest first."""

    as_of = filters.IsoDateTimeFilter(
        method="filter_noop",
        help_text="ISO 8601 datetime: the history as it was known then (first prints, "
        "forecasts and previous figures as shown at that time).",
    )

    class Meta:
        model = Occurrence
        fields: list[str] = []
        form = CalendarForm


class CalendarFilterBackend(DjangoFilterBackend):
    """django-filter's backend on the shared path (``CalendarFilterSet.validate`` and
    ``apply``), leaving the cleaned parameters on the view as ``view.params`` (and
    ``view.relative``: whether a day was relative, so the answer expires at midnight)
    for the paginator, the serializer and the feeds.

    A view may define ``default_days(today) -> (first, last)`` for requests that name
    no day (a feed's rolling window), and ``query`` (the strict, list-joined query
    string of calendar_api.params) as the data to validate.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        form = filterset_class.validate(
            getattr(view, "query", request.query_params),
            default_days=getattr(view, "default_days", None),
        )
        if not form.is_valid():
            raise ValidationError(form.errors)
        view.params = form.cleaned_data
        view.relative = form.relative
        return filterset_class.apply(queryset, form.cleaned_data)
