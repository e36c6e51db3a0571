"""/api/indicators/: what is measured, its next and last release, and its history."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from calendar_api import feeds
from calendar_api.filters import HistoryFilterSet, IndicatorFilterSet
from calendar_api.pagination import ORDERINGS
from calendar_api.params import FORMAT, QuerySpec
from calendar_api.renderers import CSVRenderer, FastJSONRenderer
from calendar_api.serializers import (
    HistorySerializer,
    IndicatorDetailSerializer,
    IndicatorSerializer,
)
from calendar_api.views.common import (
    ERROR_RESPONSE,
    NOT_FOUND_RESPONSE,
    NOT_MODIFIED_RESPONSE,
    data_version,
)
from calendar_api.views.events import PAGING, CalendarListMixin
from core.history import history_as_of
from core.models import EventStatus, Indicator, IndicatorAlias, Occurrence, Outcome
from core.representation import (
    INDICATOR_COLUMNS,
    OCCURRENCE_COLUMNS,
    REFERENCE_COLUMNS,
)

LIST_QUERY = QuerySpec.for_filterset(IndicatorFilterSet, single=[FORMAT, *PAGING])
DETAIL_QUERY = QuerySpec.of(single=[FORMAT])
HISTORY_QUERY = QuerySpec.for_filterset(HistoryFilterSet, single=[FORMAT, *PAGING])
# "Next release" depends on the clock as well as the data: answers are keyed on it
# to this resolution, so a cached answer never names a release long past.
CLOCK_RESOLUTION = timedelta(minutes=5)


@extend_schema_view(
    list=extend_schema(
        responses={
            (200, "application/json"): IndicatorSerializer(many=True),
            304: NOT_MODIFIED_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
        }
    ),
    retrieve=extend_schema(
        responses={
            (200, "application/json"): IndicatorDetailSerializer,
            304: NOT_MODIFIED_RESPONSE,
            (404, "application/json"): NOT_FOUND_RESPONSE,
        }
    ),
)
class IndicatorViewSet(CalendarListMixin, viewsets.ReadOnlyModelViewSet):
    """Indicators: what a release measures (``us-nonfarm-payrolls``), across sources
    and dates, with its next scheduled release and its last published one."""

    queryset = Indicator.objects.all()
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    lookup_value_regex = r"[a-z]{2}-[a-z0-9-]+"
    renderer_classes = [FastJSONRenderer]

    @property
    def columns(self) -> tuple[str, ...]:
        if self.action == "history":
            return OCCURRENCE_COLUMNS
        return (*INDICATOR_COLUMNS, "next_id", "last_id")

    @property
    def query_spec(self) -> QuerySpec:
        return {
            "list": LIST_QUERY,
            "history": HISTORY_QUERY,
        }.get(self.action, DETAIL_QUERY)

    def data_version(self) -> datetime | None:
        """Occurrences and the catalogue both shape these answers."""
        indicators = Indicator.objects.aggregate(version=Max("updated_at"))["version"]
        versions = [v for v in (data_version(), indicators) if v is not None]
        return max(versions, default=None)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        now = timezone.now()
        step = int(CLOCK_RESOLUTION.total_seconds())
        self.now = datetime.fromtimestamp(now.timestamp() // step * step, tz=UTC)
        if self.action != "history":
            self.variant = f"now={self.now.isoformat()}"

    def get_queryset(self):
        if self.action == "history":
            return Occurrence.objects.filter(indicator_id=self.kwargs.get("pk"))
        upcoming = (
            Occurrence.objects.filter(
                indicator_id=OuterRef("pk"), scheduled_at__gte=self.now
            )
            .exclude(status=EventStatus.CANCELLED)
            .order_by("scheduled_at", "id")
        )
        released = (
            Occurrence.objects.filter(indicator_id=OuterRef("pk"))
            .exclude(actual="")
            .order_by("-scheduled_at", "-id")
        )
        return Indicator.objects.annotate(
            next_id=Subquery(upcoming.values("id")[:1]),
            last_id=Subquery(released.values("id")[:1]),
        )

    def sort_keys(self):
        if self.action == "history":
            return ORDERINGS["-date"]
        return (("id", False),)

    def paginate_queryset(self, queryset):
        rows = super().paginate_queryset(queryset)
        return rows if self.action == "history" else with_references(rows)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        """One indicator with how each source keys it and what it announces."""
        not_modified = self.not_modified(request)
        if not_modified is not None:
            return not_modified
        row = (
            self.get_queryset()
            .filter(pk=kwargs["pk"])
            .values(*self.columns, "description")
            .first()
        )
        if row is None:
            raise NotFound()
        (row,) = with_references([row])
        row["announces"] = sorted(
            Indicator.announces.through.objects.filter(
                from_indicator_id=row["id"]
            ).values_list("to_indicator_id", flat=True)
        )
        return self.add_validators(Response(IndicatorDetailSerializer(row).data))

    @extend_schema(
        responses={
            (200, "application/json"): HistorySerializer(many=True),
            304: NOT_MODIFIED_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
            (404, "application/json"): NOT_FOUND_RESPONSE,
        },
    )
    @action(
        detail=True,
        queryset=Occurrence.objects.all(),
        serializer_class=HistorySerializer,
        filterset_class=HistoryFilterSet,
        renderer_classes=[FastJSONRenderer, CSVRenderer],
    )
    def history(self, request: Request, *args, **kwargs) -> Response:
        """Every release of the indicator, newest first: actual, forecast, previous,
        revised previous and surprise. ``?format=csv`` for a spreadsheet; ``as_of``
        for the history as it was known at an instant (one page)."""
        indicator = Indicator.objects.filter(pk=kwargs["pk"]).first()
        if indicator is None:
            raise NotFound()
        queryset = self.filter_queryset(self.get_queryset())
        as_of = self.params.get("as_of")
        if as_of is None:
            return self.list(request, *args, **kwargs)
        not_modified = self.not_modified(request)
        if not_modified is not None:
            return not_modified
        first, last = feeds.days_of(self.params)
        rows = history_as_of(indicator.pk, as_of, start=first, end=last)
        known = dict(queryset.values_list("id", "importance"))
        data = [
            as_of_entry(row, indicator, known) for row in rows if row["id"] in known
        ]
        return self.add_validators(Response({"next": None, "results": data}))


def as_of_entry(row: dict, indicator: Indicator, importance: dict[int, int]) -> dict:
    """A point-in-time history row (core.history) in the history's shape: importance
    as stored now, the outcome from the indicator's polarity, no z-score (the
    dispersion of surprises is not rebuilt for past instants)."""
    values = {
        **row,
        "importance": importance.get(row["id"]),
        "surprise_z": None,
        "outcome": Outcome.of(row["surprise"], indicator.higher_is_better) or None,
    }
    return {name: values[name] for name in HistorySerializer.field_order}


def with_references(rows: list[dict]) -> list[dict]:
    """Indicator rows with their aliases and next/last release rows (two queries)."""
    ids = [row["id"] for row in rows]
    aliases = defaultdict(list)
    for alias in (
        IndicatorAlias.objects.filter(indicator_id__in=ids)
        .order_by("source", "key")
        .values("indicator_id", "source", "key", "name")
    ):
        aliases[alias["indicator_id"]].append(alias)
    wanted = {row[name] for row in rows for name in ("next_id", "last_id")} - {None}
    occurrences = {
        row["id"]: row
        for row in Occurrence.objects.filter(pk__in=wanted).values(*REFERENCE_COLUMNS)
    }
    for row in rows:
        row["aliases"] = aliases[row["id"]]
        row["next_occurrence"] = occurrences.get(row["next_id"])
        row["last_release"] = occurrences.get(row["last_id"])
    return rows
