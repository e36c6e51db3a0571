"""FRED (St. Louis Fed): the US release calendar, and with ``FRED_API_KEY`` series
values and ALFRED vintages (docs/sources/fred.md).

Release calendar (no key, always):

``GET https://fred.stlouisfed.org/releases/calendar?po=1&ptic=0&vs=D1&ve=D2`` with
``Accept: application/json`` answers ``{"pager": "<table html>", "ptic": N}``. The
table has a header row per day ("Wednesday July 02, 2025") and one row per release:
a time cell ("1:00 am", blank = same as the row above, "N/A" = no time) and a link
``/release?rid=502``. The times are not labelled; they are US Central: on 2025-07-02
the Euro Short Term Rate (published by the ECB at 08:00 CEST = 06:00Z) shows 1:00 am,
SOFR (08:00 ET) 7:00 am, ADP (08:15 ET) 7:15 am.

Series (``FRED_API_KEY``): ``GET https://api.stlouisfed.org/fred/series/observations``.
On release day, the catalogue's FRED series of the indicators due (US GDP and retail
sales first, FRED's copies of BLS series as a fallback a while after the release); in a
``backfill``, ALFRED's vintages, whose first releases are first prints. The body does
not name its series: a fetched payload carries it, ``ingest fred --file F --series ID``
names it for a recording.
"""

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import requests
from django.utils import timezone

from core.models import TimePrecision
from ingestion.errors import InvalidRow, PayloadError
from ingestion.normalise import clean_text, to_utc
from ingestion.official import fred as fred_api
from ingestion.official.build import History
from ingestion.official.endpoints import (
    fetch,
    fred_api_key,
    fred_observations_request,
)
from ingestion.official.observations import SeriesVintage
from ingestion.official.releases import DUE, Due
from ingestion.official.series import indicators_of
from ingestion.official.source import OfficialSource
from ingestion.records import DateWindow, EventRecord, ParsedPayload, Skip
from ingestion.sources.base import Payload, Source, load_json, parse_html, register

SITE = "https://fred.stlouisfed.org"
CALENDAR_URL = SITE + "/releases/calendar"
ZONE = "America/Chicago"

ROWS = "//tbody/tr"
DAY_HEADER = "td[@colspan='2']/span[1]"
TIME_CELL = "td[1]"
LINK = "td[2]//a[contains(@href, 'rid=')]"
_RID = re.compile(r"rid=(\d+)")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})\s*([ap])\.?m\.?$", re.I)
# How far back a release-day request for a series reaches.
RECENT = timedelta(days=3 * 366)
ALFRED_END = date(9999, 12, 31)  # "every vintage since": ALFRED's open end


@register
class Fred(OfficialSource):
    name = "fred"
    agency = "fred"
    precedence = 90  # release dates only: last for every calendar field
    figure_precedence = 5  # its series copy the agencies': after them, before calendars
    label = "FRED release calendar and series"
    homepage = "https://fred.stlouisfed.org/releases/calendar"
    description = (
        "US release dates and times from the St. Louis Fed; with FRED_API_KEY, series "
        "values (GDP, retail sales, BLS fallbacks) and ALFRED first prints."
    )
    schedule = "35 6 * * *"  # daily; release dates change rarely
    supports_range = True
    chunk_days = 31

    @classmethod
    def follows_releases(cls) -> bool:
        return bool(fred_api_key())  # series need the key; the calendar has no figures

    def default_window(self, today: date) -> DateWindow:
        return Source.default_window(self, today)

    def fetch(self, http: requests.Session, window: DateWindow) -> Iterator[Payload]:
        if self.history is None:
            yield self._calendar(http, window)
        if fred_api_key():
            # Releases of the last days count too, whatever window the calendar takes.
            today = timezone.now().date()
            start = min(window.start, today - timedelta(days=DUE.days))
            yield from super().fetch(http, DateWindow(start, window.end))

    def _calendar(self, http: requests.Session, window: DateWindow) -> Payload:
        params = {
            "po": "1",
            "ptic": "0",
            "vs": window.start.isoformat(),
            "ve": window.end.isoformat(),
        }
        return self.download(
            http, CALENDAR_URL, params=params, headers={"Accept": "application/json"}
        )

    def fetch_due(
        self, http: requests.Session, due: Due, *, now: datetime
    ) -> Iterator[Payload]:
        for series in sorted({specs[0].series for specs in due.values()}):
            request = fred_observations_request(
                series,
                api_key=fred_api_key(),
                observation_start=now.date() - RECENT,
            )
            yield self._with_series(fetch(http, request), series)

    def fetch_history(
        self, http: requests.Session, history: History
    ) -> Iterator[Payload]:
        for spec in self.history_series(history):
            request = fred_observations_request(
                spec.series,
                api_key=fred_api_key(),
                output_type=1,
                realtime_start=history.start - timedelta(days=1),
                realtime_end=ALFRED_END,
                observation_start=history.start - timedelta(days=400),
                observation_end=history.end,
            )
            yield self._with_series(fetch(http, request), spec.series)

    @staticmethod
    def _with_series(payload: Payload, series: str) -> Payload:
        return Payload(payload.body, payload.url, series)

    def extract_series(self, body: bytes, series: str) -> ParsedPayload:
        """A ``series/observations`` body of ``series`` (its frequency and indicators
        from the catalogue)."""
        specs = indicators_of(self.agency, series)
        if not specs:
            raise PayloadError(
                f"{self.name}: series {series} feeds no indicator of the catalogue"
            )
        found = fred_api.parse_observations(
            body, series_id=series, frequency=specs[0][1].frequency
        )
        if found.truncated:
            raise PayloadError(
                f"{self.name}: {series}: the answer holds only part of the observations"
            )
        return ParsedPayload(
            skipped=list(found.skipped),
            series=[
                SeriesVintage(self.agency, series, found.observations, found.vintaged)
            ],
        )

    def extract(self, body: bytes) -> ParsedPayload:
        data = load_json(self.name, body)
        if isinstance(data, dict) and "observations" in data:
            raise PayloadError(
                f"{self.name}: a series/observations body does not name its series: "
                "pass --series ID"
            )
        if not isinstance(data, dict) or not isinstance(data.get("pager"), str):
            raise PayloadError(f"{self.name}: calendar JSON has no 'pager' table")
        if not data["pager"].strip():
            raise PayloadError(f"{self.name}: calendar JSON has an empty 'pager' table")
        tree = parse_html(data["pager"])
        parsed = ParsedPayload()
        day: date | None = None
        clock = ""
        seen: Counter[tuple[str, date]] = Counter()
        listed: set[tuple[str, date, str, str]] = set()
        days: list[date] = []
        for row in tree.xpath(ROWS):
            header = row.xpath(DAY_HEADER)
            if header:
                day = _parse_day(clean_text(header[0].text_content()))
                if day is None:
                    raise PayloadError(
                        f"{self.name}: day header {header[0].text_content()!r}"
                    )
                days.append(day)
                clock = ""
                continue
            link = row.xpath(LINK)
            if not link:
                continue
            name = clean_text(link[0].text_content())
            cell = clean_text(" ".join(c.text_content() for c in row.xpath(TIME_CELL)))
            if cell:  # a blank time cell repeats the row above
                clock = cell
            try:
                if day is None:
                    raise InvalidRow("release listed before any day header")
                match = _RID.search(link[0].get("href", ""))
                rid = match.group(1) if match else ""
                if (rid, day, clock, name) in listed:
                    raise InvalidRow("duplicate of an earlier row")
                listed.add((rid, day, clock, name))
                seen[(rid, day)] += 1
                parsed.records.append(
                    self._record(name, rid, day, clock, seen[(rid, day)])
                )
            except (InvalidRow, OverflowError) as exc:
                parsed.skipped.append(Skip(str(exc), name))
        parsed.window = _covered_utc_days(days)
        return parsed

    def _record(
        self, name: str, rid: str, day: date, clock: str, nth: int
    ) -> EventRecord:
        if not rid:
            raise InvalidRow("release link has no rid")
        suffix = "" if nth == 1 else f"-{nth}"
        values = {
            # The local release day, not the UTC one: the key must not move with DST.
            "external_id": f"{rid}-{day:%Y%m%d}{suffix}",
            "source_event_id": rid,
            "event_name": name,
            "country": "US",
            "currency": "USD",
            "importance": None,  # FRED does not rank releases
            "source_url": f"{SITE}/release?rid={rid}",
        }
        if clock.upper() in {"", "N/A"}:
            return EventRecord.on(day, TimePrecision.DATE_ONLY, **values)
        match = _CLOCK.match(clock)
        if match is None:
            raise InvalidRow(f"time {clock!r} is not like '7:30 am'")
        hour = int(match[1]) % 12 + (12 if match[3].lower() == "p" else 0)
        local = datetime(day.year, day.month, day.day, hour, int(match[2]))  # noqa: DTZ001
        return EventRecord.at(to_utc(local, ZONE), **values)


def _covered_utc_days(days: list[date]) -> DateWindow | None:
    """UTC dates this payload lists completely: all but the first local day.

    A Central-time day runs from 05:00Z (06:00Z in winter) to the same time the next
    day, so its evening releases are stored on the next UTC date, and the first UTC
    date of the range also holds the previous local day's evening. Cancelling there
    could cancel releases another payload listed.
    """
    if not days or max(days) <= min(days):
        return None
    return DateWindow(date.fromordinal(min(days).toordinal() + 1), max(days))


def _parse_day(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%A %B %d, %Y").date()  # noqa: DTZ007 - a date
    except ValueError:
        return None
