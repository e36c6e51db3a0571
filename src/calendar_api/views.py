"""Read-only views. Query vocabulary lives on core.querysets; these parse, call, render."""

import hashlib
import os
import socket
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import Error as DatabaseError
from django.db import connection
from django.db.models import Count, Max
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.views import View
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calendar_api import feeds, relative_dates
from calendar_api.filters import EventFilterSet
from calendar_api.pagination import KeysetPagination
from calendar_api.params import FORMAT, QuerySpec, StrictQueryMixin
from calendar_api.renderers import CSVRenderer, FastJSONRenderer, ICalendarRenderer
from calendar_api.serializers import (
    EVENT_COLUMNS,
    CountrySerializer,
    EventDetailSerializer,
    EventPageSerializer,
    EventSerializer,
    HealthSerializer,
    SourceSerializer,
    event_json,
)
from core.countries import country_name
from core.models import (
    EconomicEvent,
    EventRevision,
    Heartbeat,
    IngestionRun,
    SourceSchedule,
)
from core.sources import all_sources, is_enabled, refresh_cron
from core.timezones import lookup_zone

EXPORT_FORMATS = ("csv", "ics")
MAX_ID = 2**63 - 1
PAGING = ("cursor", "page_size")
LIST_QUERY = QuerySpec.for_filterset(EventFilterSet, single=[FORMAT, *PAGING])
# /api/events.csv and .ics: the path is the format; exports are in time order, whole.
EXPORT_QUERY = LIST_QUERY.without(FORMAT, "ordering", *PAGING)
DETAIL_QUERY = QuerySpec.of(single=[FORMAT, "tz"])

ERROR_RESPONSE = OpenApiResponse(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "string"},
            ]
        },
        "example": {"date_from": ["date_from is after date_to."]},
    },
    description="Invalid query: each key names a parameter, its value what is wrong.",
)
NOT_FOUND_RESPONSE = OpenApiResponse(
    {"type": "object", "properties": {"detail": {"type": "string"}}},
    description="No event with this id.",
)
NOT_MODIFIED_RESPONSE = OpenApiResponse(
    description="Not modified: the If-None-Match ETag is current."
)


def data_version() -> datetime | None:
    """When any event last changed: rows are never deleted and every change (including
    a cancellation) bumps updated_at, so this identifies the data any query can see.
    One index-only lookup on (updated_at, id)."""
    return EconomicEvent.objects.aggregate(version=Max("updated_at"))["version"]


def parse_tz(request: Request) -> ZoneInfo | None:
    value = request.query_params.get("tz", "").strip()
    if not value:
        return None
    try:
        return lookup_zone(value)
    except ValueError as exc:
        raise ValidationError({"tz": [str(exc)]}) from None


class JSONErrorsMixin:
    """Errors are JSON whatever format the view renders: a calendar app or a
    spreadsheet cannot show an error, the docs pages' HTML and the schema's YAML
    would not tell a client what went wrong, and a developer's console can read it.
    So is the OPTIONS description, which is no list of events to render as CSV."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(response, "accepted_renderer", None)
        if (
            isinstance(response, Response)
            and (response.status_code >= 400 or request.method == "OPTIONS")
            and renderer is not None
            and renderer.media_type != FastJSONRenderer.media_type
        ):
            response.accepted_renderer = FastJSONRenderer()
            response.accepted_media_type = FastJSONRenderer.media_type
        return response


class ConditionalMixin:
    """ETag and Last-Modified from data_version(); a matching request gets a 304
    before the page query runs, and a rendered response is cached under its ETag.

    The ETag covers the data version, the format, the scheme and host (the ``next``
    links are absolute) and the full query string, so a cached body can never be
    served for other data or another question: any change to any event changes the
    version, and old entries simply expire (API_RESPONSE_CACHE_SECONDS).
    """

    # What the query string alone does not pin down (the days "today" resolved to);
    # part of the ETag. And the seconds the answer stays right (until "today" ends).
    variant = ""
    max_age: int | None = None

    def not_modified(self, request: Request) -> HttpResponseBase | None:
        version = data_version()
        seed = "|".join(
            (
                version.isoformat() if version else "-",
                request.accepted_renderer.format,
                request.scheme,
                request.get_host(),
                request.get_full_path(),
                self.variant,
            )
        )
        self._etag = f'"{hashlib.sha1(seed.encode()).hexdigest()}"'
        self._last_modified = version.timestamp() if version else None
        response = get_conditional_response(
            request._request, etag=self._etag, last_modified=self._last_modified
        )
        if response is None and settings.API_RESPONSE_CACHE_SECONDS:
            cached = cache.get(self._cache_key())
            if cached is not None:
                body, content_type, headers = cached
                response = HttpResponse(body, content_type=content_type)
                for name, value in headers:
                    response[name] = value
        if response is not None:
            self.add_validators(response)
        return response

    def _cache_key(self) -> str:
        return f"api:response:{self._etag}"

    def store(self, response: Response) -> None:
        """Render ``response`` now and keep its bytes for the next identical request."""
        if not settings.API_RESPONSE_CACHE_SECONDS or response.status_code != 200:
            return
        response.render()
        headers = [
            (name, response[name])
            for name in ("Content-Disposition", "X-Truncated")
            if name in response
        ]
        cache.set(
            self._cache_key(),
            (response.content, response["Content-Type"], headers),
            settings.API_RESPONSE_CACHE_SECONDS,
        )

    def add_validators(self, response: HttpResponseBase) -> HttpResponseBase:
        response["ETag"] = self._etag
        if self._last_modified is not None:
            response["Last-Modified"] = http_date(self._last_modified)
        # Always revalidate (304s are cheap); an answer built from "today" also
        # expires when that day ends, so no cache keeps it into the next one.
        response["Cache-Control"] = "no-cache" + (
            f", max-age={self.max_age}" if self.max_age is not None else ""
        )
        patch_vary_headers(response, ["Accept"])
        return response


class EventViewSet(
    StrictQueryMixin, JSONErrorsMixin, ConditionalMixin, viewsets.ReadOnlyModelViewSet
):
    """Scheduled macroeconomic releases.

    JSON here; ``?format=csv`` and ``?format=ics`` answer the same list as CSV or
    as an iCalendar feed (also at /api/events.csv and /api/events.ics, which a
    generated client can call as operations of their own).
    """

    queryset = EconomicEvent.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = None  # keyset pagination below (no COUNT, stable under inserts)
    renderer_classes = [FastJSONRenderer, CSVRenderer, ICalendarRenderer]
    lookup_value_regex = r"[0-9]+"
    paginator = KeysetPagination()

    @property
    def query_spec(self) -> QuerySpec:
        return DETAIL_QUERY if self.action == "retrieve" else LIST_QUERY

    def filter_queryset(self, queryset):
        """The filtered rows; also sets ``params`` (cleaned, relative days resolved),
        ``variant`` and ``max_age``. Raises ValidationError (400) on a bad filter."""
        filterset = self.filterset_class(
            self.query, queryset=queryset, request=self.request
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        self.params = filterset.form.cleaned_data
        self.rolling = self.format == "ics" and not feeds.has_days(self.params)
        if self.rolling:
            # Applied by filterset.qs, which reads the cleaned data lazily.
            self.params["date_from"], self.params["date_to"] = feeds.default_window(
                relative_dates.today_in(self.zone)
            )
        if self.rolling or filterset.form.relative:
            first, last = feeds.days_of(self.params)
            self.variant = f"days={first}..{last}"
            self.max_age = relative_dates.seconds_left_today(self.zone)
        return filterset.qs

    @property
    def format(self) -> str:
        return self.request.accepted_renderer.format

    @property
    def zone(self) -> ZoneInfo:
        return self.params.get("tz") or UTC

    @extend_schema(
        parameters=[
            OpenApiParameter(p["name"], p["schema"], description=p["description"])
            for p in KeysetPagination.schema_parameters()
        ],
        responses={
            (200, "application/json"): EventPageSerializer,
            304: NOT_MODIFIED_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
        },
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        # Parameters are checked first (no query runs for that), then the 304 and the
        # response cache, whose key holds the full query string and the days it
        # resolved to: only valid requests' 200s are ever cached.
        queryset = self.filter_queryset(self.get_queryset())
        self.paginator.page_size(request)
        not_modified = self.not_modified(request)
        if not_modified is not None:
            return not_modified
        tz = self.params.get("tz")
        if self.format in EXPORT_FORMATS:
            response = self.export(queryset)
        else:
            rows, next_url = self.paginator.paginate(
                queryset, request, self.params.get("ordering") or "date", EVENT_COLUMNS
            )
            data = {"next": next_url, "results": [event_json(row, tz) for row in rows]}
            response = Response(data)
        return self.add_validators(response)

    def export(self, queryset) -> Response:
        """Every matching row as one CSV file or calendar feed, up to the cap.

        Past API_EXPORT_MAX_ROWS a CSV is a 400 (a spreadsheet would silently miss
        rows), a feed is cut to the cap with a note in its description (a calendar
        app cannot show an error).
        """
        cap = settings.API_EXPORT_MAX_ROWS
        rows = list(
            queryset.order_by("scheduled_at", "id").values(*EVENT_COLUMNS)[: cap + 1]
        )
        truncated = len(rows) > cap
        if truncated and self.format == "csv":
            raise ValidationError(
                {
                    "date_from": [
                        f"More than {cap} events match; narrow date_from/date_to."
                    ]
                }
            )
        feed = feeds.describe(
            self.params,
            raw_days={
                name: self.query.get(name, "").strip() for name in feeds.DAY_FIELDS
            },
            rolling=self.rolling,
            truncated_at=cap if truncated else None,
        )
        tz = self.params.get("tz")
        data = {"results": [event_json(row, tz) for row in rows[:cap]], "feed": feed}
        response = Response(data)
        response["Content-Disposition"] = attachment(feed.filename, self.format)
        if truncated:
            response["X-Truncated"] = f"first {cap} events of more"
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "tz", OpenApiTypes.STR, description="IANA zone for `local`."
            )
        ],
        responses={
            (200, "application/json"): EventDetailSerializer,
            304: NOT_MODIFIED_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
            (404, "application/json"): NOT_FOUND_RESPONSE,
        },
    )
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        pk = int(kwargs["pk"])
        tz = parse_tz(request)
        if pk > MAX_ID:
            raise NotFound()
        not_modified = self.not_modified(request)
        if not_modified is not None:
            return not_modified
        row = EconomicEvent.objects.filter(pk=pk).values(*EVENT_COLUMNS).first()
        if row is None:
            raise NotFound()
        row["revisions"] = list(
            EventRevision.objects.filter(event_id=pk)
            .order_by("changed_at", "id")
            .values("field", "old_value", "new_value", "changed_at", "run_id")
        )
        response = Response(EventDetailSerializer(row, tz=tz).data)
        if self.format in EXPORT_FORMATS:
            response["Content-Disposition"] = attachment(
                feeds.event_filename(pk), self.format
            )
        return self.add_validators(response)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and getattr(self, "_etag", None):
            self.store(response)
        return response


def attachment(filename: str, extension: str) -> str:
    return f'attachment; filename="{filename}.{extension}"'


class SingleFormat(BaseContentNegotiation):
    """The view's one renderer, whatever the Accept header or ``format`` says: the
    path (/api/events.csv) already chose the format."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


NO_PAGING = [OpenApiParameter(name, exclude=True) for name in ("ordering", *PAGING)]


def export_schema(fmt: str, media_type: str, what: str, more: str):
    """The schema of /api/events.<fmt>: its own operation, one content type."""
    return extend_schema_view(
        list=extend_schema(
            operation_id=f"events_{fmt}",
            description=(
                f"The list of /api/events/ (same filters) as {what}, every matching "
                "event in one answer, up to API_EXPORT_MAX_ROWS (10,000 by default). "
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
    query_spec = EXPORT_QUERY


@export_schema(
    "ics",
    "text/calendar",
    what="an iCalendar feed (RFC 5545) to subscribe to",
    more=(
        "Without date, date_from or date_to it covers a rolling window, "
        f"{feeds.FEED_PAST_DAYS} days back to {feeds.FEED_FUTURE_DAYS} days ahead; "
        "past the cap the feed is cut, with a note in its description."
    ),
)
class EventICSViewSet(EventCSVViewSet):
    renderer_classes = [ICalendarRenderer]


class CountryListView(StrictQueryMixin, APIView):
    """Countries with events, for filter menus."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=CountrySerializer(many=True))
    def get(self, request: Request) -> Response:
        version = data_version()
        key = f"api:countries:{version.isoformat() if version else '-'}"
        data = cache.get(key)
        if data is None:
            counts = (
                EconomicEvent.objects.values("country")
                .annotate(events=Count("id"))
                .order_by("country")
            )
            data = [
                {"code": row["country"], "name": country_name(row["country"]) or row["country"],
                 "events": row["events"]}
                for row in counts
            ]  # fmt: skip
            cache.set(key, data, timeout=3600)
        return Response(data)


class SourceListView(StrictQueryMixin, APIView):
    """Every source this server knows, enabled or not, with its freshness."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=SourceSerializer(many=True))
    def get(self, request: Request) -> Response:
        next_runs = dict(SourceSchedule.objects.values_list("source", "next_run_at"))
        successes = IngestionRun.objects.last_success_by_source()
        counts = dict(
            EconomicEvent.objects.values("source")
            .annotate(n=Count("id"))
            .values_list("source", "n")
        )
        rows = [
            {
                "slug": source.name,
                "label": source.label,
                "homepage": source.homepage,
                "description": source.description,
                "enabled": is_enabled(source.name),
                "supports_range": source.supports_range,
                "schedule": refresh_cron(source)[0],
                "next_run_at": next_runs.get(source.name),
                "last_success_at": successes.get(source.name),
                # Meta.ordering puts the latest run first.
                "last_run": IngestionRun.objects.filter(source=source.name).first(),
                "events": counts.get(source.name, 0),
            }
            for source in all_sources()
        ]
        return Response(SourceSerializer(rows, many=True).data)


class HealthView(APIView):
    """200 when the database answers (with freshness per source), 503 when it does not."""

    renderer_classes = [FastJSONRenderer]
    throttle_classes: list = []

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request: Request) -> Response:
        now = timezone.now()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            successes = IngestionRun.objects.last_success_by_source()
            sources = {}
            for source in all_sources():
                if not is_enabled(source.name):
                    continue
                last = successes.get(source.name)
                sources[source.name] = {
                    "last_success_at": last,
                    "age_seconds": round((now - last).total_seconds())
                    if last
                    else None,
                }
            beat = Heartbeat.objects.filter(name="scheduler").first()
        except DatabaseError as exc:
            connection.close_if_unusable_or_obsolete()
            return Response(
                {
                    "status": "error",
                    "database": f"unreachable ({exc.__class__.__name__})",
                    "sources": {},
                    "scheduler": None,
                },
                status=503,
            )
        scheduler = None
        if beat is not None:
            scheduler = {
                "holder": beat.holder,
                "beat_at": beat.beat_at,
                "age_seconds": round((now - beat.beat_at).total_seconds()),
            }
        return Response(
            {
                "status": "ok",
                "database": "ok",
                "host": os.environ.get("HOSTNAME") or socket.gethostname(),
                "sources": sources,
                "scheduler": scheduler,
            }
        )


# THE FRONT DOOR: the docs pages, the index, and JSON 404s
# ------------------------------------------------------------------------------


class SchemaView(JSONErrorsMixin, SpectacularAPIView):
    pass


class SwaggerView(JSONErrorsMixin, SpectacularSwaggerView):
    pass


class RedocView(JSONErrorsMixin, SpectacularRedocView):
    pass


INDEX_LINKS = {
    "events": "api:event-list",
    "events_csv": "api:event-list-csv",
    "events_ics": "api:event-list-ics",
    "countries": "api:country-list",
    "sources": "api:source-list",
    "health": "api:health",
    "schema": "api:schema",
    "docs": "api:docs",
    "redoc": "api:redoc",
}


class APIIndexView(View):
    """GET /api/: where everything is, for a person or a crawler starting here."""

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(
            {
                name: request.build_absolute_uri(reverse(url))
                for name, url in INDEX_LINKS.items()
            }
        )

    def http_method_not_allowed(self, request, *args, **kwargs) -> JsonResponse:
        response = JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'}, status=405
        )
        response["Allow"] = "GET, HEAD"
        return response


class APINotFoundView(View):
    """Anything else under /api/, any method: a JSON 404 whatever DEBUG is (Django's
    own 404 page is HTML, and with DEBUG on a page of URL patterns). A GET of a path
    that exists with a trailing slash is redirected there, as CommonMiddleware would
    have done had this catch-all not matched first."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        return self.get(request)

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
            match = _resolve(request.path + "/")
            if match is not None and match.url_name != "not-found":
                query = request.META.get("QUERY_STRING", "")
                return HttpResponsePermanentRedirect(
                    request.path + "/" + (f"?{query}" if query else "")
                )
        return JsonResponse({"detail": "Not found."}, status=404)


def _resolve(path: str):
    try:
        return resolve(path)
    except Resolver404:
        return None
