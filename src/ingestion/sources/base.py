"""The contract every source implements, and the helpers they share.

A source is two halves: ``fetch`` does the HTTP (through ``Source.download``) and
yields raw payloads; ``extract`` is pure (bytes in, ``ParsedPayload`` out). Every
payload reaches ``extract`` through ``Source.parse``, which first refuses a block page,
so the tests, a crawl and ``python manage.py ingest SOURCE --file PATH`` all read
payloads the same way. The registry itself is ``core.sources``.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar, cast

import lxml.html
import requests

from core import sources as registry
from ingestion.errors import PayloadError, SourceBlocked
from ingestion.official.observations import SeriesVintage
from ingestion.records import DateWindow, EventRecord, ParsedPayload, Skip

# HTTP statuses with which bot protection answers; never read them as "no events".
BLOCKING_STATUSES = frozenset({401, 403, 429, 503})
# Markers of a Cloudflare interstitial, seen in every recorded challenge page
# (tests/fixtures/*/..._cloudflare_challenge_*.html).
_CHALLENGE_MARKERS = (
    b"<title>just a moment...</title>",
    b"cf_chl_opt",
    b"challenge-platform",
)


def load_json(source: str, body: bytes, what: str = "calendar JSON") -> object:
    """``json.loads`` whose failure is a PayloadError naming the source and the problem."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"{source}: {what} is malformed: {exc}") from None


# libxml2 stops at a text node over 10 MB unless huge_tree is on, and *recovers*: the
# rows after it are dropped without an error. For HTML (no entities to expand) the
# limit buys nothing; the payload is already in memory. Feed XML keeps the limit.
_HTML_PARSER = lxml.html.HTMLParser(huge_tree=True)


def parse_html(text: str) -> lxml.html.HtmlElement:
    """An HTML fragment's tree, without libxml2's silent cut at 10 MB text nodes."""
    return lxml.html.fromstring(text, parser=_HTML_PARSER)


def check_not_blocked(source: str, body: bytes, status: int | None = None) -> None:
    """Raise SourceBlocked when ``body``/``status`` is bot protection instead of data."""
    if status in BLOCKING_STATUSES:
        raise SourceBlocked(f"{source}: blocked by the source (HTTP {status})")
    head = body[:65536].lower()
    if any(marker in head for marker in _CHALLENGE_MARKERS):
        raise SourceBlocked(
            f"{source}: blocked by the source (a Cloudflare challenge page came back instead of data)"
        )


def strip_payload(source: str, payload: bytes) -> bytes:
    """``payload`` without a leading byte-order mark or white space; PayloadError
    when nothing is left."""
    body = payload.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body:
        raise PayloadError(f"{source}: empty payload")
    return body


@dataclass(frozen=True)
class Payload:
    """One HTTP response body (or a recorded file) with where it came from."""

    body: bytes
    url: str = ""
    # The series a body holds when the body does not say (FRED observations).
    series: str = ""


class Source:
    """Subclass, set the class attributes, implement ``fetch`` and ``extract``, ``@register``."""

    name: ClassVar[str]  # stable slug: stored on rows, names the scheduler's jobs
    label: ClassVar[str]
    homepage: ClassVar[str]
    description: ClassVar[str] = ""
    # Default cron for the refresh job (UTC); core.sources.refresh_cron says which
    # variable overrides it.
    schedule: ClassVar[str]
    # True when fetch() honours any window; False when the source only serves "now"
    # (the ForexFactory feed is always the current week).
    supports_range: ClassVar[bool] = True
    # Longest window one fetch() call asks for; longer ranges are split.
    chunk_days: ClassVar[int] = 7
    # Which source's view an occurrence takes when sources disagree: lower wins
    # (ingestion.consolidation; the order is documented in docs/data-model.md).
    precedence: ClassVar[int] = 50
    # The same for the figures (actual, forecast, previous...); None: ``precedence``.
    # The agencies set 1: their own figure wins over any calendar's copy of it.
    figure_precedence: ClassVar[int | None] = None
    # The agencies: a stored first print is never overwritten (ingestion.services).
    keeps_first_print: ClassVar[bool] = False

    def fetch(self, http: requests.Session, window: DateWindow) -> Iterator[Payload]:
        """The payloads that cover ``window``, each from ``self.download``."""
        raise NotImplementedError

    def extract(self, body: bytes) -> ParsedPayload:
        """The events in ``body``, which ``parse`` has checked is not a block page."""
        raise NotImplementedError

    def parse(self, payload: bytes, *, series: str = "") -> ParsedPayload:
        """The events in ``payload``; SourceBlocked when bot protection answered
        instead (a challenge page is never read as "no events"). ``series`` names the
        series of a body that does not name it (``ingest --series``)."""
        check_not_blocked(self.name, payload)
        if series:
            return self.extract_series(payload, series)
        return self.extract(payload)

    def extract_series(self, body: bytes, series: str) -> ParsedPayload:
        """``extract`` for a body holding the series ``series`` without naming it."""
        raise PayloadError(
            f"{self.name}: its payloads name what they hold; --series is for FRED "
            "series observations"
        )

    def finish(
        self, records: list[EventRecord], series: list[SeriesVintage], *, now: datetime
    ) -> tuple[list[EventRecord], list[Skip]]:
        """The records to write, and rows skipped, once everything is fetched.

        Called in the write transaction, after the writers' lock: an agency's source
        reads what is stored to tell which release each figure belongs to
        (``ingestion.official.build``). Others write their records as parsed.
        """
        return records, []

    def download(
        self, http: requests.Session, url: str, *, method: str = "GET", **kwargs
    ) -> Payload:
        """One request for ``fetch``: SourceBlocked when bot protection answers,
        requests.HTTPError for any other failing status, else the body."""
        response = http.request(method, url, **kwargs)
        self.check_response(response)
        response.raise_for_status()
        return Payload(response.content, response.url)

    def check_response(self, response: requests.Response) -> None:
        """Raise when ``response`` is a refusal, not data. A source that can tell its
        own refusals apart (a rejected API key) names them first, then calls this."""
        check_not_blocked(self.name, response.content, response.status_code)

    def default_window(self, today: date) -> DateWindow:
        """The window a refresh crawls when none is given: this week and the next."""
        start = today - timedelta(days=today.weekday())
        return DateWindow(start, start + timedelta(days=13))


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make a source known to ingest, the scheduler and /api/sources/
    (one registry, ``core.sources``)."""
    return registry.register_source(cls)


def get_source(name: str) -> Source:
    """An instance of the source named ``name``; KeyError lists the known names."""
    return cast(type[Source], registry.source_class(name))()


def source_precedence(name: str) -> int:
    """``precedence`` of the source ``name`` (``core.sources.precedence``)."""
    return registry.precedence(name)


def figure_precedence(name: str) -> int:
    """``figure_precedence`` of the source ``name`` (``core.sources.figure_precedence``)."""
    return registry.figure_precedence(name)


def all_sources() -> list[type[Source]]:
    """Every registered source class, sorted by slug."""
    return cast(list[type[Source]], registry.all_sources())


def enabled_sources() -> list[type[Source]]:
    """The enabled source classes (``core.sources.enabled_sources``)."""
    return cast(list[type[Source]], registry.enabled_sources())
