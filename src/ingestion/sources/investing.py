"""Investing.com economic calendar: the AJAX endpoint and the Next.js page.

AJAX: ``POST /economic-calendar/Service/getCalendarFilteredData`` answers JSON whose
``data`` is HTML ``<tr>`` rows (old site markup), 200 rows per page, paged with
``limit_from`` = 0, 1, 2... until a "noResults" row. Row times are wall-clock in the
requested ``timeZone``; the response's ``params.offsetSec`` says which offset that was
(UTC = wall clock - offsetSec), so we ask for UTC (id 55) and convert anyway.

Page: ``GET /economic-calendar/`` is a Next.js page whose ``__NEXT_DATA__`` JSON carries
the day's events with UTC ISO times.

Both sit behind Cloudflare since 2022: a challenge page, a non-JSON body or
403/429/503 is "blocked by the source", never "no events". See docs/sources/investing.md.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests

from core.models import EventKind, TimePrecision
from ingestion.errors import InvalidRow, PayloadError
from ingestion.normalise import (
    clean_text,
    country_from_currency,
    country_from_name,
    currency_for_country,
    importance_from_label,
    infer_kind,
    split_reference_period,
)
from ingestion.records import DateWindow, EventRecord, ParsedPayload, Skip
from ingestion.sources.base import (
    Payload,
    Source,
    load_json,
    parse_html,
    register,
    strip_payload,
)

SITE = "https://www.investing.com"
AJAX_URL = SITE + "/economic-calendar/Service/getCalendarFilteredData"
PAGE_SIZE = 200
MAX_PAGES = 50  # 10,000 rows: a guard against a server that never says "no results"
UTC_TIMEZONE_ID = "55"

# AJAX row markup (see tests/fixtures/investing_ajax/).
ROWS = "//tr"
EVENT_ROW_PREFIX = "eventRowId_"


def _cell(css_class: str) -> str:
    """XPath for a cell with ``css_class`` as a whole class token: a substring test
    would match value cells too (``class="act event-453584-actual"``)."""
    return f"td[contains(concat(' ', normalize-space(@class), ' '), ' {css_class} ')]"


NO_RESULTS = "//" + _cell("noResults")
TIME_CELL = _cell("time")
FLAG_CELL = _cell("flagCur")
FLAG_SPAN = FLAG_CELL + "/span"
SENTIMENT_CELL = _cell("sentiment")
EVENT_CELL = _cell("event")
_NEXT_DATA = re.compile(
    rb'<script id="__NEXT_DATA__" type="application/json"[^>]*>(.*?)</script>', re.S
)
_REVISED_FROM = re.compile(r"Revised From\s+(.+)", re.I)


@register
class Investing(Source):
    name = "investing"
    precedence = 20
    label = "Investing.com"
    homepage = "https://www.investing.com/economic-calendar/"
    description = (
        "All countries, actual / forecast / previous with revisions. Behind Cloudflare "
        "since 2022: plain clients are usually blocked."
    )
    schedule = "20 5 * * *"  # daily; the scheduler adds follow-ups at release times
    supports_range = True
    chunk_days = 7

    def fetch(self, http: requests.Session, window: DateWindow) -> Iterator[Payload]:
        headers = {
            "X-Requested-With": "XMLHttpRequest",
            "Referer": "https://www.investing.com/economic-calendar/",
            "Accept": "application/json, text/javascript, */*; q=0.01",
        }
        for page in range(MAX_PAGES):
            form = {
                "dateFrom": window.start.isoformat(),
                "dateTo": window.end.isoformat(),
                "timeZone": UTC_TIMEZONE_ID,
                "timeFilter": "timeOnly",
                "currentTab": "custom",
                "submitFilters": "1",
                "limit_from": str(page),
            }
            payload = self.download(
                http, AJAX_URL, method="POST", data=form, headers=headers
            )
            yield payload
            if not _has_more_pages(payload.body):
                return
        raise PayloadError(
            f"{self.name}: still more pages after {MAX_PAGES}; giving up"
        )

    def extract(self, body: bytes) -> ParsedPayload:
        body = strip_payload(self.name, body)
        if body[:1] == b"{":
            return _parse_ajax(body)
        match = _NEXT_DATA.search(body)
        if match:
            return _parse_page(match.group(1))
        # Cloudflare and friends answer HTML; an AJAX client expects JSON. Either way
        # this is not data, and must never be read as "no events".
        raise PayloadError(
            f"{self.name}: expected calendar JSON or page, got something else"
        )


def _has_more_pages(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    rows = data.get("rows_num")
    return bool(data.get("bind_scroll_handler")) or (
        isinstance(rows, int) and rows >= PAGE_SIZE
    )


# AJAX
# ------------------------------------------------------------------------------


def _parse_ajax(body: bytes) -> ParsedPayload:
    data = load_json("investing", body)
    if not isinstance(data, dict) or not isinstance(data.get("data"), str):
        raise PayloadError("investing: calendar JSON has no 'data' rows")
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    try:
        offset = timedelta(seconds=int(params.get("offsetSec", 0)))
    except (TypeError, ValueError):
        raise PayloadError(
            f"investing: offsetSec {params.get('offsetSec')!r} is not a number"
        ) from None

    parsed = ParsedPayload()
    html = data["data"].strip()
    if not html:
        raise PayloadError("investing: calendar JSON has empty 'data'")
    tree = parse_html(f"<table>{html}</table>")
    if tree.xpath(NO_RESULTS):
        return parsed  # a real "no events" answer: the last page of a range
    category = _single(params.get("category"))
    for row in tree.xpath(ROWS):
        row_id = row.get("id") or ""
        if not row_id.startswith(EVENT_ROW_PREFIX):
            continue
        try:
            parsed.records.append(_ajax_record(row, row_id, offset, category))
        except (InvalidRow, OverflowError) as exc:
            parsed.skipped.append(Skip(str(exc), row_id))
    parsed.window = _ajax_window(data, params, offset)
    return parsed


def _ajax_record(
    row: Any, row_id: str, offset: timedelta, category: str
) -> EventRecord:
    stamp = row.get("data-event-datetime") or ""
    try:
        # Wall-clock time in the requested zone, read as if it were UTC; the zone's
        # offset is subtracted below to get the real UTC instant.
        wall = datetime.strptime(f"{stamp} +0000", "%Y/%m/%d %H:%M:%S %z")
    except ValueError:
        raise InvalidRow(
            f"data-event-datetime {stamp!r} is not YYYY/MM/DD HH:MM:SS"
        ) from None
    label = clean_text(_text(row.xpath(TIME_CELL))).lower()
    sentiment = row.xpath(SENTIMENT_CELL)
    holiday = label == "all day" or "holiday" in _text(sentiment).lower()
    values = _ajax_values(row, row_id, category, sentiment, holiday)
    if holiday:
        return EventRecord.on(wall.date(), TimePrecision.ALL_DAY, **values)
    if label == "tentative":
        return EventRecord.on(wall.date(), TimePrecision.TENTATIVE, **values)
    return EventRecord.at(wall - offset, **values)


def _ajax_values(
    row: Any, row_id: str, category: str, sentiment: list, holiday: bool
) -> dict[str, Any]:
    """Everything of an AJAX row's record but its date and time."""
    occurrence = row_id.removeprefix(EVENT_ROW_PREFIX)
    name, period = split_reference_period(_text(row.xpath(EVENT_CELL)))
    flag = row.xpath(FLAG_SPAN)
    country_name = flag[0].get("title", "") if flag else ""
    currency = clean_text(_text(row.xpath(FLAG_CELL))).upper()
    country = country_from_name(country_name) or (
        country_from_currency(currency) if currency else None
    )
    if country is None:
        raise InvalidRow(f"unknown country {country_name!r}")
    key = sentiment[0].get("data-img_key", "") if sentiment else ""
    try:
        importance = None if holiday else importance_from_label(key or None)
    except ValueError as exc:
        raise InvalidRow(str(exc)) from None
    previous, revised = _previous(row, occurrence)
    link = row.xpath(f"{EVENT_CELL}//a/@href")
    return {
        "external_id": occurrence,
        "source_event_id": row.get("event_attr_id") or row.get("event_attr_ID") or "",
        "event_name": name,
        "reference_period": period,
        "category": category,
        "kind": EventKind.HOLIDAY if holiday else infer_kind(name),
        "country": country,
        "currency": currency if len(currency) == 3 else currency_for_country(country),
        "importance": importance,
        "actual": _text(row.xpath(f"td[@id='eventActual_{occurrence}']")),
        "forecast": _text(row.xpath(f"td[@id='eventForecast_{occurrence}']")),
        "previous": previous,
        "revised_previous": revised,
        "source_url": SITE + link[0] if link and link[0].startswith("/") else "",
    }


def _previous(row: Any, occurrence: str) -> tuple[str, str]:
    """(previous as first shown, revised value): Investing shows the revised value
    with ``title="Revised From 390K"`` holding the original."""
    cells = row.xpath(f"td[@id='eventPrevious_{occurrence}']")
    shown = _text(cells)
    titles = cells[0].xpath(".//span/@title") if cells else []
    match = _REVISED_FROM.match(clean_text(titles[0])) if titles else None
    if match:
        return clean_text(match.group(1)), shown
    return shown, ""


def _ajax_window(data: dict, params: dict, offset: timedelta) -> DateWindow | None:
    """The UTC days this answer covers completely, or None.

    Only an unfiltered request in UTC (offsetSec 0) lists every event of its days; a
    filtered one (country, importance, category) proves nothing about the rest. A
    range bigger than one page is complete only together with its other pages, which
    ``fetch`` always ingests in the same run.
    """
    if offset or any(params.get(key) for key in ("country", "importance", "category")):
        return None
    limit = str(params.get("limit", "0,"))
    if not limit.startswith("0,"):
        return None  # a later page; the first page carries the window
    try:
        return DateWindow(
            date.fromisoformat(data["dateFrom"]), date.fromisoformat(data["dateTo"])
        )
    except (KeyError, TypeError, ValueError):
        return None


def _single(values: Any) -> str:
    if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
        return values[0].lstrip("_")
    return ""


def _text(nodes: list) -> str:
    return clean_text(" ".join(node.text_content() for node in nodes))


# NEXT.JS PAGE
# ------------------------------------------------------------------------------


def _parse_page(raw: bytes) -> ParsedPayload:
    try:
        data = json.loads(raw)
        by_date = data["props"]["pageProps"]["state"]["economicCalendarStore"][
            "calendarEventsByDate"
        ]
    except UnicodeDecodeError:
        raise PayloadError("investing: page data is not UTF-8") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadError(
            f"investing: page data has no calendar ({exc.__class__.__name__}: "
            f"{str(exc)[:120]})"
        ) from None
    if not isinstance(by_date, dict):
        raise PayloadError("investing: page calendarEventsByDate is not an object")
    parsed = ParsedPayload()
    for day, events in by_date.items():
        for event in events if isinstance(events, list) else []:
            try:
                parsed.records.append(_page_record(day, event))
            # ValueError: importance or day unreadable; OverflowError: year 1 or 9999.
            except (
                ValueError,
                OverflowError,
                KeyError,
                TypeError,
                AttributeError,
            ) as exc:
                excerpt = (
                    event.get("event", "")
                    if isinstance(event, dict)
                    else str(event)[:80]
                )
                parsed.skipped.append(Skip(f"unusable page event: {exc}", excerpt))
    # The default view is "today" for the visitor; it is not evidence for cancelling.
    return parsed


def _page_record(day: str, event: dict) -> EventRecord:
    holiday = event.get("type") == "holiday"
    country = country_from_name(event.get("country", "")) or country_from_name(
        {"UK": "United Kingdom"}.get(
            event.get("currencyFlag", ""), event.get("currencyFlag", "")
        )
    )
    if country is None:
        raise InvalidRow(f"unknown country {event.get('country')!r}")
    # Holidays have a day and no time; everything else has a UTC instant.
    instant = None if holiday else _page_instant(event["time"])
    on_day = date.fromisoformat(day) if instant is None else instant.date()
    occurrence = event.get("occurrenceId")
    if occurrence is not None:
        # Same id space as the AJAX rows' eventRowId (see docs/sources/investing.md).
        external_id = str(occurrence)
    else:
        # Holidays carry no occurrence id; the prefix keeps these apart from numbers.
        external_id = f"holiday-{on_day:%Y%m%d}-{country}-{event.get('eventId', '')}"
    name = clean_text(f"{event.get('event', '')} {event.get('suffix', '')}")
    revised_from = clean_text(event.get("revisedFrom"))
    shown_previous = clean_text(event.get("previous"))
    path = clean_text(event.get("path"))
    currency = clean_text(event.get("currency")).upper()
    values = {
        "external_id": external_id,
        "source_event_id": str(event.get("eventId", "")),
        "event_name": name,
        "reference_period": clean_text(event.get("period", "")).strip("()"),
        "kind": EventKind.HOLIDAY
        if holiday
        else (EventKind.SPEECH if event.get("isSpeech") else infer_kind(name)),
        "country": country,
        "currency": currency or currency_for_country(country),
        "importance": None
        if holiday
        else importance_from_label(event.get("importance")),
        "actual": clean_text(event.get("actual")),
        "forecast": clean_text(event.get("forecast")),
        # `previous` holds the revised figure and `revisedFrom` the original one.
        "previous": revised_from or shown_previous,
        "revised_previous": shown_previous if revised_from else "",
        "source_url": SITE + path if path.startswith("/") else "",
    }
    if instant is None:
        return EventRecord.on(on_day, TimePrecision.ALL_DAY, **values)
    return EventRecord.at(instant, **values)


def _page_instant(raw: str) -> datetime:
    """The page's ISO time ("2026-06-04T12:30:00Z") in UTC; the offset is read, never
    assumed."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRow(f"time {raw!r} is not ISO 8601") from None
    if value.tzinfo is None:
        raise InvalidRow(f"time {raw!r} has no UTC offset")
    return value.astimezone(UTC)
