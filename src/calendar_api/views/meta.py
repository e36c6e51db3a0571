"""The API's other endpoints: countries, sources, health, the docs and the front door."""

import os
import socket

from django.core.cache import cache
from django.db import Error as DatabaseError
from django.db import connection
from django.db.models import Count
from django.http import (
    HttpRequest,
    HttpResponseBase,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.views import View
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from calendar_api.params import StrictQueryMixin
from calendar_api.renderers import FastJSONRenderer
from calendar_api.serializers import (
    CountrySerializer,
    HealthSerializer,
    SourceSerializer,
)
from calendar_api.views.common import JSONErrorsMixin, data_version
from core import replicas
from core.cache import cache_status
from core.countries import country_name
from core.models import (
    EconomicEvent,
    Heartbeat,
    IngestionRun,
    Occurrence,
    SourceSchedule,
)
from core.sources import all_sources, is_enabled, refresh_cron


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
                Occurrence.objects.values("country")
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
    """200 when the database answers (with freshness per source), 503 when it does not.

    The database is the primary: freshness and the scheduler's heartbeat are read
    there. Each replica's state is reported beside it; like the cache, a replica
    that is down or behind is "degraded" information and still a 200, since the API
    then reads from the primary."""

    renderer_classes = [FastJSONRenderer]
    throttle_classes: list = []
    reads_from_replica = False

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request: Request) -> Response:
        now = timezone.now()
        # The cache is an accelerator: "degraded" is reported but stays a 200.
        cache_state = cache_status()
        replica_states = {
            alias: {"status": found.status, "lag_seconds": found.lag_seconds}
            for alias, found in replicas.states().items()
        }
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
                    "cache": cache_state,
                    "replicas": replica_states,
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
                "replicas": replica_states,
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
    "indicators": "api:indicator-list",
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
