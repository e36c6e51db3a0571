"""Read-only views. Query vocabulary lives on core.querysets; these parse, call, render."""

import hashlib
import os
import socket
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import Error as DatabaseError
from django.db import connection
from django.db.models import Count, Max
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calendar_api.filters import EventFilterSet, lookup_zone
from calendar_api.pagination import KeysetPagination
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
from core.cache import cache_status
from core.countries import country_name
from core.models import EconomicEvent, EventRevision, Heartbeat, IngestionRun
from core.sources import all_source_infos

EXPORT_FORMATS = ("csv", "ics")
MAX_ID = 2**63 - 1
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv", "ics"],
    description="Response format: JSON (default), CSV, or an iCalendar feed (RFC 5545).",
)

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


class ConditionalMixin:
    """ETag and Last-Modified from data_version(); a matching request gets a 304
    before the page query runs, and a rendered response is cached under its ETag.

    The ETag covers the data version, the format, the scheme and host (the ``next``
    links are absolute) and the full query string, so a cached body can never be
    served for other data or another question: any change to any event changes the
    version, and old entries simply expire (API_RESPONSE_CACHE_SECONDS).
    """

    def not_modified(self, request: Request) -> HttpResponseBase | None:
        version = data_version()
        seed = "|".join(
            (
                version.isoformat() if version else "-",
                request.accepted_renderer.format,
                request.scheme,
                request.get_host(),
                request.get_full_path(),
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
            for name in ("Content-Disposition",)
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
        response["Cache-Control"] = "no-cache"  # always revalidate; 304s are cheap
        patch_vary_headers(response, ["Accept"])
        return response


@extend_schema(parameters=[FORMAT_PARAMETER])
class EventViewSet(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """Scheduled macroeconomic releases."""

    queryset = EconomicEvent.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = None  # keyset pagination below (no COUNT, stable under inserts)
    renderer_classes = [FastJSONRenderer, CSVRenderer, ICalendarRenderer]
    lookup_value_regex = r"[0-9]+"
    paginator = KeysetPagination()

    def filter_queryset(self, queryset):
        filterset = self.filterset_class(
            self.request.query_params, queryset=queryset, request=self.request
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        self.params = filterset.form.cleaned_data
        return filterset.qs

    @extend_schema(
        parameters=[
            OpenApiParameter(p["name"], p["schema"], description=p["description"])
            for p in KeysetPagination.schema_parameters()
        ],
        responses={
            (200, "application/json"): EventPageSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "text/calendar"): OpenApiTypes.STR,
            304: NOT_MODIFIED_RESPONSE,
            (400, "application/json"): ERROR_RESPONSE,
        },
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        # The cache and the 304 come first: only valid requests' 200s are ever cached,
        # and the key holds the full query string, so a hit is a request already
        # validated; anything else is validated below before any page query runs.
        not_modified = self.not_modified(request)
        if not_modified is not None:
            return not_modified
        queryset = self.filter_queryset(self.get_queryset())
        self.paginator.page_size(request)
        tz = self.params.get("tz")
        fmt = request.accepted_renderer.format
        if fmt in EXPORT_FORMATS:
            cap = settings.API_EXPORT_MAX_ROWS
            rows = list(
                queryset.order_by("scheduled_at", "id").values(*EVENT_COLUMNS)[
                    : cap + 1
                ]
            )
            if len(rows) > cap:
                raise ValidationError(
                    {
                        "date_from": [
                            f"More than {cap} events match; narrow date_from/date_to."
                        ]
                    }
                )
            data = {"results": [event_json(row, tz) for row in rows]}
        else:
            rows, next_url = self.paginator.paginate(
                queryset, request, self.params.get("ordering") or "date", EVENT_COLUMNS
            )
            data = {"next": next_url, "results": [event_json(row, tz) for row in rows]}
        response = Response(data)
        if fmt == "ics":
            response["Content-Disposition"] = 'inline; filename="economic-calendar.ics"'
        return self.add_validators(response)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "tz", OpenApiTypes.STR, description="IANA zone for `local`."
            )
        ],
        responses={
            (200, "application/json"): EventDetailSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "text/calendar"): OpenApiTypes.STR,
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
        return self.add_validators(Response(EventDetailSerializer(row, tz=tz).data))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and getattr(self, "_etag", None):
            self.store(response)
        renderer = getattr(response, "accepted_renderer", None)
        if (
            response.status_code >= 400
            and renderer
            and renderer.format in EXPORT_FORMATS
        ):
            # Errors are JSON whatever format was asked for: a calendar app or a
            # spreadsheet cannot show an error, a developer's console can.
            response.accepted_renderer = FastJSONRenderer()
            response.accepted_media_type = FastJSONRenderer.media_type
        return response


class CountryListView(APIView):
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


class SourceListView(APIView):
    """Every source this server knows, enabled or not, with its freshness."""

    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=SourceSerializer(many=True))
    def get(self, request: Request) -> Response:
        from django_apscheduler.models import DjangoJob

        next_runs = dict(
            DjangoJob.objects.filter(id__startswith="ingest:").values_list(
                "id", "next_run_time"
            )
        )
        counts = dict(
            EconomicEvent.objects.values("source")
            .annotate(n=Count("id"))
            .values_list("source", "n")
        )
        data = []
        for info in all_source_infos():
            runs = IngestionRun.objects.filter(source=info.slug)
            last = runs.order_by("-started_at", "-id").first()
            success = (
                runs.filter(status=IngestionRun.Status.SUCCEEDED)
                .order_by("-finished_at")
                .values_list("finished_at", flat=True)
                .first()
            )
            data.append(
                {
                    "slug": info.slug,
                    "label": info.label,
                    "homepage": info.homepage,
                    "description": info.description,
                    "enabled": info.enabled,
                    "supports_range": info.supports_range,
                    "schedule": info.schedule,
                    "next_run_at": next_runs.get(f"ingest:{info.slug}"),
                    "last_success_at": success,
                    "last_run": _run_json(last) if last else None,
                    "events": counts.get(info.slug, 0),
                }
            )
        return Response(data)


def _run_json(run: IngestionRun) -> dict:
    return {
        "id": run.pk,
        "trigger": run.trigger,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "window_start": run.window_start,
        "window_end": run.window_end,
        "fetched": run.fetched,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "cancelled": run.cancelled,
        "skipped": run.skipped,
        "error": run.error,
    }


class HealthView(APIView):
    """200 when the database answers (with freshness per source), 503 when it does not."""

    renderer_classes = [FastJSONRenderer]
    throttle_classes: list = []

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request: Request) -> Response:
        now = timezone.now()
        # The cache is an accelerator: "degraded" is reported but stays a 200.
        cache_state = cache_status()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            sources = {}
            for info in all_source_infos():
                if not info.enabled:
                    continue
                last = (
                    IngestionRun.objects.filter(
                        source=info.slug, status=IngestionRun.Status.SUCCEEDED
                    )
                    .order_by("-finished_at")
                    .values_list("finished_at", flat=True)
                    .first()
                )
                sources[info.slug] = {
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
                    "cache": cache_state,
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
                "cache": cache_state,
                "host": os.environ.get("HOSTNAME") or socket.gethostname(),
                "sources": sources,
                "scheduler": scheduler,
            }
        )
