"""ForexFactory: the public weekly export feed (JSON, XML, CSV) and the calendar page.

Feed: https://nfs.faireconomy.media/ff_calendar_thisweek.{json,xml,csv}. Always the
current week (Sunday to Saturday), forecasts and previous values only (no actuals),
no occurrence id, no documented rate limit but a community-reported ~2 downloads per
5 minutes. JSON dates carry a New York offset; XML/CSV dates are GMT in
``MM-DD-YYYY`` + ``h:mmam``. The XML declares windows-1252.

Page: https://www.forexfactory.com/calendar (behind Cloudflare, opt-in). Its
``window.calendarComponentStates[1] = {days: [...]}`` carries every event of the week
with ``dateline`` (a UTC epoch), actuals and revised previous values. Its time labels
are rendered in the visitor's session zone, so only ``dateline`` is used for instants.

Both entry points produce the same ``external_id`` for one occurrence, so a page crawl
adds actuals to the rows the feed created. See docs/sources/forexfactory.md.
"""

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from lxml import etree

from core.countries import EURO_AREA, GLOBAL
from core.models import Outcome, TimePrecision
from ingestion.errors import InvalidRow, PayloadError
from ingestion.normalise import (
    clean_text,
    country_from_currency,
    importance_from_label,
    infer_kind,
    split_reference_period,
)
from ingestion.records import DateWindow, EventRecord, ParsedPayload, Skip
from ingestion.sources.base import (
    Payload,
    Source,
    load_json,
    register,
    strip_payload,
)

FEED_URL = "https://nfs.faireconomy.media/ff_calendar_thisweek.{format}"
PAGE_URL = "https://www.forexfactory.com/calendar?week={week}"
SITE = "https://www.forexfactory.com"

# Where a currency's holidays happen: a holiday's clock time in the feed is GMT (JPY
# Bank Holiday "05-04-2025 11:00pm" is 5 May in Tokyo), so its calendar day is taken
# in this zone and the row is stored all-day on that day.
CURRENCY_ZONES = {
    "USD": "America/New_York", "EUR": "Europe/Berlin", "GBP": "Europe/London",
    "JPY": "Asia/Tokyo", "CHF": "Europe/Zurich", "CAD": "America/Toronto",
    "AUD": "Australia/Sydney", "NZD": "Pacific/Auckland", "CNY": "Asia/Shanghai",
}  # fmt: skip
# Euro-area releases name their member state in the title in both the feed and the
# page ("German Prelim CPI m/m", "Italian Bank Holiday"); the currency says only EUR.
TITLE_PREFIX_COUNTRY = {
    "German": "DE",
    "French": "FR",
    "Italian": "IT",
    "Spanish": "ES",
}

_PAGE_STATE = re.compile(rb"calendarComponentStates\[\d+\]\s*=\s*\{\s*days\s*:\s*")
_SLUG_ID = re.compile(r"/calendar/(\d+)-")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_FEED_TIME = re.compile(r"^(\d{1,2}):(\d{2})\s*([ap]m)$", re.I)
_CSV_HEADER = ("Title", "Country", "Date", "Time", "Impact")


@register
class ForexFactory(Source):
    name = "forexfactory"
    precedence = 10  # the default source: its times and importance lead
    label = "ForexFactory"
    homepage = "https://www.forexfactory.com/calendar"
    description = (
        "Weekly export feed (forecast and previous; this week only) and, opt-in, the "
        "calendar page (actuals, revisions; behind Cloudflare)."
    )
    # Every 4 hours at :07: far below the ~2 downloads / 5 minutes the host tolerates,
    # often enough to pick up re-timed events and new forecasts during the week.
    schedule = "7 */4 * * *"
    supports_range = False
    chunk_days = 7

    def fetch(self, http: requests.Session, window: DateWindow) -> Iterator[Payload]:
        # The page first: the writer keeps the first record of an occurrence, and only
        # the page has actuals. A blocked page fails the run rather than letting the
        # feed alone blank the actuals an earlier page crawl stored.
        if getattr(settings, "FOREXFACTORY_PAGE_ENABLED", False):
            week = window.start.strftime("%b%d.%Y").lower()
            yield self.download(http, PAGE_URL.format(week=week))
        fmt = getattr(settings, "FOREXFACTORY_FEED_FORMAT", "json")
        yield self.download(http, FEED_URL.format(format=fmt))

    def extract(self, body: bytes) -> ParsedPayload:
        body = strip_payload(self.name, body)
        if body[:1] == b"[":
            return _finish(list(_json_rows(body)), feed=True)
        if body[:5] == b"<?xml" or body.startswith(b"<weeklyevents"):
            return _finish(list(_xml_rows(body)), feed=True)
        if body.startswith(b"Title,"):
            return _finish(list(_csv_rows(body)), feed=True)
        if _PAGE_STATE.search(body):
            return _finish(_page_rows(body), feed=False)
        if body[:1] == b"<":
            raise PayloadError(f"{self.name}: an HTML page without calendar data")
        raise PayloadError(
            f"{self.name}: not a ForexFactory feed (JSON, XML or CSV) or page"
        )


# ROWS: an intermediate shape shared by the four formats
# ------------------------------------------------------------------------------


class Row:
    """One event as read from any format, before the occurrence key is assigned."""

    __slots__ = ("fields", "instant", "label")

    def __init__(
        self, fields: dict[str, Any], instant: datetime | None, label: str
    ) -> None:
        self.fields = (
            fields  # EventRecord kwargs except external_id/date/time/precision
        )
        self.instant = instant  # aware UTC, or None when the source gives no instant
        self.label = (
            label  # time label: "" (exact), "All Day", "Tentative", "11th-15th"
        )


def _finish(rows: list[Row | Skip], *, feed: bool) -> ParsedPayload:
    """Give rows their dates, precisions and occurrence keys; build the records."""
    parsed = ParsedPayload()
    placed: dict[tuple[date, str, str], list[tuple[datetime, int, Row, str]]] = (
        defaultdict(list)
    )
    for index, row in enumerate(rows):
        if isinstance(row, Skip):
            parsed.skipped.append(row)
            continue
        try:
            day, precision = _place(row)
        except (InvalidRow, OverflowError) as exc:
            parsed.skipped.append(Skip(str(exc), row.fields.get("event_name", "")))
            continue
        base = (day, row.fields["currency"] or "ALL", _slug(row.fields["event_name"]))
        placed[base].append((row.instant, index, row, precision))

    for (day, currency, slug), group in placed.items():
        group.sort(key=lambda item: (item[0], item[1]))
        seen: set[tuple] = set()
        ordinal = 0
        for instant, _index, row, precision in group:
            # Two rows alike in every field are one event listed twice, not two
            # events: numbering the second would invent an occurrence.
            twin = (row.instant, row.label, tuple(sorted(row.fields.items())))
            if twin in seen:
                parsed.skipped.append(
                    Skip("duplicate of an earlier row", row.fields["event_name"])
                )
                continue
            seen.add(twin)
            ordinal += 1
            suffix = "" if ordinal == 1 else f"-{ordinal}"
            external_id = f"{day:%Y%m%d}-{currency}-{slug[:90]}{suffix}"
            try:
                parsed.records.append(
                    EventRecord.at(instant, external_id=external_id, **row.fields)
                    if precision == TimePrecision.EXACT
                    else EventRecord.on(
                        day, precision, external_id=external_id, **row.fields
                    )
                )
            except InvalidRow as exc:
                parsed.skipped.append(Skip(str(exc), row.fields.get("event_name", "")))
    parsed.records.sort(key=lambda record: (record.scheduled_at, record.external_id))
    if feed and parsed.records:
        parsed.window = _feed_week(parsed.records)
    return parsed


def _place(row: Row) -> tuple[date, str]:
    """A row's calendar date and time precision (see the module docstring); an exact
    row's date is the UTC date of its instant."""
    label = row.label.strip().lower()
    if row.instant is None:
        raise InvalidRow("no date")
    if row.fields["kind"] == "holiday":
        zone = ZoneInfo(CURRENCY_ZONES.get(row.fields["currency"], "UTC"))
        return row.instant.astimezone(zone).date(), TimePrecision.ALL_DAY
    day = row.instant.astimezone(UTC).date()
    if label == "":
        return day, TimePrecision.EXACT
    if label == "all day":
        return day, TimePrecision.ALL_DAY
    if label == "tentative":
        return day, TimePrecision.TENTATIVE
    # "11th-15th", "Jun 11-15": released some day in a range
    return day, TimePrecision.DATE_ONLY


def _feed_week(records: list[EventRecord]) -> DateWindow:
    """The UTC dates this feed covers completely: Monday..Saturday of its week.

    The feed's week runs Sunday to Saturday in New York, i.e. from Sunday ~04:00Z to
    the next Sunday ~04:00Z. Each UTC Sunday is shared with the neighbouring feed
    (CNY CPI on Sunday 01:30Z belongs to the week before), so cancelling on a Sunday
    could cancel the other week's rows: Sundays are left out.
    """
    new_york = ZoneInfo("America/New_York")
    sundays: dict[date, int] = defaultdict(int)
    for record in records:
        local = record.scheduled_at.astimezone(new_york).date()
        sundays[date.fromordinal(local.toordinal() - (local.weekday() + 1) % 7)] += 1
    sunday = max(sundays, key=lambda day: (sundays[day], day))
    return DateWindow(
        date.fromordinal(sunday.toordinal() + 1),
        date.fromordinal(sunday.toordinal() + 6),
    )


def _slug(title: str) -> str:
    return _NOT_SLUG.sub("-", title.lower()).strip("-") or "event"


def _row(
    *,
    title: str | None,
    currency: str | None,
    impact: str | None,
    instant: datetime | None,
    label: str = "",
    url: str | None = None,
    actual: str | None = "",
    forecast: str | None = "",
    previous: str | None = "",
    revised_previous: str | None = "",
    type_id: str | int | None = None,
    outcome: str = "",
) -> Row | Skip:
    """Common normalisation for every format; a Skip when the row is unusable."""
    name, period = split_reference_period(title or "")
    code = clean_text(currency)
    if not name:
        return Skip("no title", f"{currency} {instant}")
    country = country_from_currency(code)
    if country is None:
        return Skip(f"unknown currency {code!r}", name)
    if country == EURO_AREA:
        country = next(
            (
                cc
                for prefix, cc in TITLE_PREFIX_COUNTRY.items()
                if name.startswith(prefix + " ")
            ),
            country,
        )
    try:
        importance = importance_from_label(impact)
    except ValueError as exc:
        return Skip(str(exc), name)
    is_holiday = clean_text(impact).lower() in {"holiday", "non-economic"}
    url = clean_text(url)
    if url.startswith("/"):
        url = SITE + url
    if type_id is None and url:
        match = _SLUG_ID.search(url)
        type_id = match.group(1) if match else None
    fields = {
        "event_name": name,
        "reference_period": period,
        "country": country,
        "currency": "" if country == GLOBAL else code.upper(),
        "importance": importance,
        "kind": infer_kind(name, holiday=is_holiday),
        "actual": clean_text(actual),
        "forecast": clean_text(forecast),
        "previous": clean_text(previous),
        "revised_previous": clean_text(revised_previous),
        "source_url": url,
        "source_event_id": "" if type_id is None else str(type_id),
        "source_outcome": outcome,
    }
    return Row(fields, instant, label)


# FEED FORMATS
# ------------------------------------------------------------------------------


def _feed_instant(day: str | None, clock: str | None) -> tuple[datetime | None, str]:
    """XML/CSV ``MM-DD-YYYY`` + ``h:mmam`` (GMT) -> (UTC instant, label)."""
    day, clock = clean_text(day), clean_text(clock)
    if not day:
        return None, ""
    try:
        base = datetime.strptime(day, "%m-%d-%Y").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRow(f"date {day!r} is not MM-DD-YYYY") from None
    match = _FEED_TIME.match(clock)
    if match is None:
        # Never seen in real feeds, but the page uses these labels: keep the day.
        return base, clock or "All Day"
    hour, minute = int(match[1]) % 12, int(match[2])
    if match[3].lower() == "pm":
        hour += 12
    if minute > 59:
        raise InvalidRow(f"time {clock!r} is not h:mmam")
    return base.replace(hour=hour, minute=minute), ""


def _iso_instant(raw: str) -> datetime | None:
    """JSON ``2026-08-16T18:30:00-04:00`` -> UTC; the offset is read, never assumed."""
    if not raw:
        return None  # one real download has "date":"" (time not known yet)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidRow(f"date {raw!r} is not ISO 8601") from None
    if value.tzinfo is None:
        raise InvalidRow(f"date {raw!r} has no UTC offset")
    return value.astimezone(UTC)


def _feed_row(record: Mapping[str, Any], instant_from: str) -> Row | Skip:
    try:
        if instant_from == "iso":
            instant, label = _iso_instant(clean_text(record.get("date"))), ""
        else:
            instant, label = _feed_instant(record.get("date"), record.get("time"))
    except (InvalidRow, ValueError, OverflowError) as exc:
        return Skip(str(exc), clean_text(record.get("title")))
    return _row(
        title=record.get("title"),
        currency=record.get("country"),
        impact=record.get("impact"),
        instant=instant,
        label=label,
        url=record.get("url"),
        forecast=record.get("forecast"),
        previous=record.get("previous"),
    )


def _json_rows(body: bytes) -> Iterator[Row | Skip]:
    data = load_json("forexfactory", body, "feed JSON")
    if not isinstance(data, list) or not data:
        raise PayloadError("forexfactory: feed JSON lists no events")
    for item in data:
        if not isinstance(item, dict):
            yield Skip("feed item is not an object", str(item)[:80])
            continue
        yield _feed_row(item, "iso")


def _xml_rows(body: bytes) -> Iterator[Row | Skip]:
    # No entity expansion, no network: the payload comes from outside.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        # libxml2 quotes the offending line after a newline: keep the message one line.
        detail = " ".join(str(exc).split())
        raise PayloadError(f"forexfactory: feed XML is malformed: {detail}") from None
    if root.tag != "weeklyevents":
        raise PayloadError(
            f"forexfactory: XML root is <{root.tag}>, not <weeklyevents>"
        )
    events = root.findall("event")
    if not events:
        raise PayloadError("forexfactory: feed XML lists no events")
    for event in events:
        yield _feed_row({child.tag: child.text for child in event}, "gmt")


def _csv_rows(body: bytes) -> Iterator[Row | Skip]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("cp1252", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or not set(_CSV_HEADER) <= set(reader.fieldnames):
        raise PayloadError(
            f"forexfactory: CSV header {reader.fieldnames} lacks {_CSV_HEADER}"
        )
    try:
        records = list(reader)
    except csv.Error as exc:  # e.g. a field over csv's 128 KiB limit
        raise PayloadError(f"forexfactory: feed CSV is malformed: {exc}") from None
    if not records:
        raise PayloadError("forexfactory: feed CSV lists no events")
    width = len(reader.fieldnames)
    for number, record in enumerate(records, start=1):
        # DictReader fills the columns a short line lacks with None. The feed has no
        # end marker, so a short *last* line is how a cut-off download shows; reading
        # on would take the week as complete and cancel every event after the cut.
        present = sum(value is not None for key, value in record.items() if key)
        if present < width:
            if number == len(records):
                raise PayloadError(
                    f"forexfactory: feed CSV is truncated: its last line has "
                    f"{present} of {width} columns"
                )
            yield Skip(f"line has {present} of {width} columns", str(record)[:80])
            continue
        yield _feed_row(
            {key.lower(): value for key, value in record.items() if key}, "gmt"
        )


# CALENDAR PAGE
# ------------------------------------------------------------------------------


def _page_rows(body: bytes) -> list[Row | Skip]:
    match = _PAGE_STATE.search(body)
    assert match is not None
    try:
        text = body[match.end() :].decode("utf-8", errors="replace")
        days, _end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"forexfactory: calendar page state is malformed: {exc}"
        ) from None
    if not isinstance(days, list):
        raise PayloadError("forexfactory: calendar page state has no list of days")
    rows: list[Row | Skip] = []
    for day in days:
        for event in day.get("events", []) if isinstance(day, dict) else []:
            rows.append(_page_row(event))
    if not rows:
        raise PayloadError("forexfactory: calendar page lists no events")
    return rows


_BETTER_WORSE = {1: Outcome.BETTER, 2: Outcome.WORSE}


def _page_row(event: Any) -> Row | Skip:
    if not isinstance(event, dict):
        return Skip("page event is not an object", str(event)[:80])
    dateline = event.get("dateline")
    if not isinstance(dateline, int) or not 0 < dateline < 7_258_118_400:  # < year 2200
        return Skip(
            f"dateline {dateline!r} is not an epoch", clean_text(event.get("name"))
        )
    label = clean_text(event.get("timeLabel"))
    exact = bool(re.match(r"^\d{1,2}:\d{2}\s*[ap]m$", label, re.I)) or label == ""
    return _row(
        title=event.get("name"),
        currency=event.get("currency"),
        impact=event.get("impactName"),
        instant=datetime.fromtimestamp(dateline, tz=UTC),
        label="" if exact else label,
        url=event.get("soloUrl"),
        actual=event.get("actual"),
        forecast=event.get("forecast"),
        previous=event.get("previous"),
        # FF keeps the originally reported figure in `previous` and the revised one in
        # `revision` (AUD Goods Trade Balance: previous -1.84B, revision -1.02B).
        revised_previous=event.get("revision"),
        type_id=event.get("ebaseId"),
        # The page colours an actual green or red: better or worse for the currency.
        outcome=_BETTER_WORSE.get(event.get("actualBetterWorse"), ""),
    )
