"""/api/events/: the calendar, one row per release across sources.

The framework's extension points carry the weight: ``CalendarFilterBackend`` validates
and applies the filters (leaving the cleaned parameters on the view), the pagination
classes read the page (keyset pages for JSON, the whole capped list for CSV and
iCalendar), the serializer hands each row to ``core.representation``. The views add
what a calendar API needs around them: strict parameters, relative days, conditional
requests and the response cache.
"""

from datetime import UTC
from zoneinfo import ZoneInfo

from django.db import connections
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from calendar_api import detail, feeds, relative_dates
from calendar_api.filters import CalendarFilterBackend, OccurrenceFilterSet
from calendar_api.pagination import (
    ORDERINGS,
    ExportPagination,
    KeysetPagination,
    attachment,
)
from calendar_api.params import FORMAT, QuerySpec, StrictQueryMixin
from calendar_api.renderers import CSVRenderer, FastJSONRenderer, ICalendarRenderer
from calendar_api.serializers import OccurrenceDetailSerializer, OccurrenceSerializer
from calendar_api.views.common import (
    ERROR_RESPONSE,
    NOT_FOUND_RESPONSE,
    NOT_MODIFIED_RESPONSE,
    ConditionalMixin,
    JSONErrorsMixin,
    SingleFormat,
    version_source,
)
from core.models import Occurrence
from core.representation import DOCUMENT_COLUMNS, OCCURRENCE_COLUMNS
from core.timezones import lookup_zone

EXPORT_FORMATS = ("csv", "ics")
MAX_ID = 2**63 - 1
PAGING = ("cursor", "page_size")
LIST_QUERY = QuerySpec.for_filterset(OccurrenceFilterSet, single=[FORMAT, *PAGING])
# /api/events.csv and .ics: the path is the format; exports are in time order, whole.
EXPORT_QUERY = LIST_QUERY.without(FORMAT, "ordering", *PAGING)
DETAIL_QUERY = QuerySpec.of(single=[FORMAT, "tz"])


class CalendarListMixin(StrictQueryMixin, JSONErrorsMixin, ConditionalMixin):
    """A list of the calendar: filtered, keyset-paged (or exported whole), 304-aware.

    Subclasses set ``queryset``, ``serializer_class``, ``filterset_class``, ``columns``
    (the ``.values()`` the serializer reads) and ``sort_keys()``.
    """

    filter_backends = [CalendarFilterBackend]
    pagination_class = KeysetPagination
    renderer_classes = [FastJSONRenderer, CSVRenderer]
    exporting = False  # an export route (/api/events.csv): the whole list, capped
    rolling = False  # a feed without days covers a window around today
    params: dict = {}
    relative = False

    @property
    def format(self) -> str:
        renderer = getattr(self.request, "accepted_renderer", None)
        return renderer.format if renderer is not None else "json"

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            export = self.exporting or self.format in EXPORT_FORMATS
            self._paginator = ExportPagination() if export else self.pagination_class()
        return self._paginator

    @property
    def zone(self) -> ZoneInfo | None:
        return self.params.get("tz")

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "tz": self.zone}

    def list(self, request: Request, *args, **kwargs) -> Response:
        # Parameters are checked first (no query runs for that), then the 304 and the
        # response cache, whose key holds the full query string and the days it
        # resolved to: only valid requests' 200s are ever cached.
        queryset = self.filter_queryset(self.get_queryset())
        if isinstance(self.paginator, KeysetPagination):
            self.paginator.page_size(request)
        if self.relative:
            first, last = feeds.days_of(self.params)
            self.variant = f"days={first}..{last}"
            self.max_age = relative_dates.seconds_left_today(self.zone or UTC)
        documents = None
        if self.in_one_statement(queryset, request):
            version, documents = self.paginator.paginate_documents(
                queryset,
                request,
                self,
                version_source(connections[queryset.db]),
                tz=self.zone,
            )
            self.known_version = (version,)
        not_modified = self.not_modified(request)
        if not_modified is not None:
            return not_modified
        if documents is None:
            page = self.paginate_queryset(queryset)
            documents = self.get_serializer(page, many=True).data
        return self.add_validators(self.get_paginated_response(documents))

    def in_one_statement(self, queryset, request: Request) -> bool:
        """Whether the version and the page come in one statement: a JSON page of
        stored documents on PostgreSQL, for a question that is likely new
        (``likely_new_question``)."""
        return (
            getattr(self, "columns", None) == DOCUMENT_COLUMNS
            and connections[queryset.db].vendor == "postgresql"
            and self.likely_new_question(request)
        )


@extend_schema_view(
    list=extend_schema(
        responses={
            (200, "application/json"): OccurrenceSerializer(many=True),
            304: NOT_MODIFIED_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
        },
    ),
)
class EventViewSet(CalendarListMixin, viewsets.ReadOnlyModelViewSet):
    """Scheduled macroeconomic releases, one row per release across sources.

    Each row is an occurrence: one indicator on one scheduled date, with the time,
    importance and figures chosen by source precedence, each source's own view in
    ``sources``, and the fields they disagree on in ``conflicts``. JSON here;
    ``?format=csv`` and ``?format=ics`` answer the same list as CSV or as an
    iCalendar feed (also at /api/events.csv and /api/events.ics, which a generated
    client can call as operations of their own).
    """

    queryset = Occurrence.objects.all()
    serializer_class = OccurrenceSerializer
    filterset_class = OccurrenceFilterSet
    renderer_classes = [FastJSONRenderer, CSVRenderer, ICalendarRenderer]
    lookup_value_regex = r"[0-9]+"

    @property
    def columns(self) -> tuple[str, ...]:
        """A JSON page reads the stored documents; exports build from the columns."""
        if isinstance(self.paginator, KeysetPagination):
            return DOCUMENT_COLUMNS
        return OCCURRENCE_COLUMNS

    @property
    def query_spec(self) -> QuerySpec:
        if self.action == "retrieve":
            return DETAIL_QUERY
        return EXPORT_QUERY if self.exporting else LIST_QUERY

    def sort_keys(self):
        return ORDERINGS[self.params.get("ordering") or "date"]

    @property
    def rolling(self) -> bool:
        """A feed without days: it covers a window around today (calendar_api.feeds)."""
        return self.format == "ics" and not any(
            self.query.get(name) for name in feeds.DAY_FIELDS
        )

    @property
    def default_days(self):
        return feeds.default_window if self.rolling else None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "tz", OpenApiTypes.STR, description="IANA zone for `local`."
            )
        ],
        responses={
            (200, "application/json"): OccurrenceDetailSerializer,
            304: NOT_MODIFIED_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
            (404, "application/json"): NOT_FOUND_RESPONSE,
        },
    )
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        """One release with each source's row in full and every change, oldest first."""
        pk = int(kwargs["pk"])
        self.params = {"tz": parse_tz(self.query)}
        if pk > MAX_ID:
            raise NotFound()
        row = None
        if self.likely_new_question(request) and detail.available():
            # PostgreSQL: the data version and the detail in one statement.
            found = detail.DETAIL_STATEMENT.read(pk)
            if found is None:
                raise NotFound()
            version, row = found
            self.known_version = (version,)
        not_modified = self.not_modified(request)
        if not_modified is not None:
            return not_modified
        if row is None:
            row = detail.occurrence_detail(pk)
            if row is None:
                raise NotFound()
        response = Response(
            OccurrenceDetailSerializer(row, context=self.get_serializer_context()).data
        )
        if self.format in EXPORT_FORMATS:
            response["Content-Disposition"] = attachment(
                feeds.event_filename(pk), self.format
            )
        return self.add_validators(response)


def parse_tz(query) -> ZoneInfo | None:
    value = query.get("tz", "").strip()
    if not value:
        return None
    try:
        return lookup_zone(value)
    except ValueError as exc:
        raise ValidationError({"tz": [str(exc)]}) from None


NO_PAGING = [OpenApiParameter(name, exclude=True) for name in ("ordering", *PAGING)]


def export_schema(fmt: str, media_type: str, what: str, more: str):
    """The schema of /api/events.<fmt>: its own operation, one content type."""
    return extend_schema_view(
        list=extend_schema(
            operation_id=f"events_{fmt}",
            description=(
                f"The list of /api/events/ (same filters) as {what}, every matching "
                "release in one answer, up to API_EXPORT_MAX_ROWS (10,000 by default). "
                + more
            ),
            parameters=NO_PAGING,
            responses={
                (200, media_type): OpenApiTypes.STR,
                304: NOT_MODIFIED_RESPONSE,
                (400, "application/json"): ERROR_RESPONSE,
            },
        )
    )


@export_schema(
    "csv",
    "text/csv",
    what="one CSV file (RFC 4180, UTF-8, a header row)",
    more="Past the cap, a 400 asking for narrower dates.",
)
class EventCSVViewSet(EventViewSet):
    renderer_classes = [CSVRenderer]
    content_negotiation_class = SingleFormat
    exporting = True


@export_schema(
    "ics",
    "text/calendar",
    what="an iCalendar feed (RFC 5545) to subscribe to, one event per release",
    more=(
        "Without date, date_from or date_to it covers a rolling window, "
        f"{feeds.FEED_PAST_DAYS} days back to {feeds.FEED_FUTURE_DAYS} days ahead; "
        "past the cap the feed is cut, with a note in its description."
    ),
)
class EventICSViewSet(EventCSVViewSet):
    renderer_classes = [ICalendarRenderer]
