"""What every calendar view shares: conditional requests, the response cache, JSON
errors, and the schema's error shapes."""

import hashlib
import threading
from collections import OrderedDict
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.http import HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from calendar_api.renderers import FastJSONRenderer
from core.models import Occurrence

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
    description="Nothing with this id.",
)
NOT_MODIFIED_RESPONSE = OpenApiResponse(
    description="Not modified: the If-None-Match ETag is current."
)


def data_version() -> datetime | None:
    """When any occurrence last changed: every change of a consolidated field, of a
    member's own view, or of membership bumps ``updated_at`` (a deleted occurrence's
    rows join another, which changes), so this identifies the data any query can see.
    One index-only lookup on (updated_at, id), asked on every request: plain SQL,
    since compiling the ORM's aggregate cost more than the lookup. Asked where the
    ORM reads occurrences (the request's replica, if it has one), so the ETag names
    the version the page was read from."""
    connection = connections[router.db_for_read(Occurrence)]
    table, column = version_source(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({column}) FROM {table}")
        (version,) = cursor.fetchone()
    if isinstance(version, str):  # SQLite hands back text
        version = parse_datetime(version).replace(tzinfo=UTC)
    return version


def question(request) -> str:
    """What a request asks, for ``recent_questions``: host and full path."""
    return f"{request.get_host()}{request.get_full_path()}"


def version_source(connection) -> tuple[str, str]:
    """The quoted table and column whose maximum is the data version (``data_version``;
    also read inside a page's statement, ``KeysetPagination.paginate_documents``)."""
    quote = connection.ops.quote_name
    return quote(Occurrence._meta.db_table), quote("updated_at")


class RecentQuestions:
    """The last ``size`` questions (host and full path) this process cached an
    answer to: a hint that the response cache likely holds the next identical one.
    Only a hint (entries expire, another worker may hold what this one does not);
    it chooses between two correct ways of answering."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, question: str) -> None:
        with self._lock:
            self._seen[question] = None
            self._seen.move_to_end(question)
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)

    def __contains__(self, question: str) -> bool:
        return question in self._seen

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


recent_questions = RecentQuestions()


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
    """ETag and Last-Modified from the data version; a matching request gets a 304
    before the page query runs, and a rendered response is cached under its ETag.

    The ETag covers the data version, the format, the scheme and host (the ``next``
    links are absolute), the full query string and the view's ``variant`` (what the
    query string alone does not pin down: the days "today" resolved to), so a cached
    body can never be served for other data or another question: any change makes a
    new version, and old entries simply expire (API_RESPONSE_CACHE_SECONDS).
    """

    variant = ""
    # Seconds the answer stays right (until "today" ends), or None.
    max_age: int | None = None

    # The version when the page's statement already read it (one round trip).
    known_version: tuple[datetime | None] | None = None

    def likely_new_question(self, request: Request) -> bool:
        """Whether the answer is likely to be read in full: the client holds no
        validator (else a 304 is likely) and this process has not recently cached an
        answer to the same question (else a cache hit is likely). Views then read the
        data version with their answer in one statement; otherwise the version alone
        comes first, so that a 304 or a cache hit costs no other query."""
        return (
            "HTTP_IF_NONE_MATCH" not in request.META
            and "HTTP_IF_MODIFIED_SINCE" not in request.META
            and not (
                settings.API_RESPONSE_CACHE_SECONDS
                and question(request) in recent_questions
            )
        )

    def data_version(self) -> datetime | None:
        if self.known_version is not None:
            return self.known_version[0]
        return data_version()

    def not_modified(self, request: Request) -> HttpResponseBase | None:
        version = self.data_version()
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
        recent_questions.add(question(self.request))

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

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and getattr(self, "_etag", None):
            self.store(response)
        return response


class SingleFormat(BaseContentNegotiation):
    """The view's one renderer, whatever the Accept header or ``format`` says: the
    path (/api/events.csv) already chose the format."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
