"""FRED release calendar (St. Louis Fed): US data release dates and times, no values.

``GET https://fred.stlouisfed.org/releases/calendar?po=1&ptic=0&vs=D1&ve=D2`` with
``Accept: application/json`` answers ``{"pager": "<table html>", "ptic": N}``. The
table has a header row per day ("Wednesday July 02, 2025") and one row per release:
a time cell ("1:00 am", blank = same as the row above, "N/A" = no time) and a link
``/release?rid=502``. The times are not labelled; they are US Central: on 2025-07-02
the Euro Short Term Rate (published by the ECB at 08:00 CEST = 06:00Z) shows 1:00 am,
SOFR (08:00 ET) 7:00 am, ADP (08:15 ET) 7:15 am.
"""

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime

import requests

from core.models import TimePrecision
from ingestion.errors import InvalidRow, PayloadError
from ingestion.normalise import clean_text, to_utc
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


@register
class Fred(Source):
    name = "fred"
    precedence = 90  # release dates only: last for every field
    label = "FRED release calendar"
    homepage = "https://fred.stlouisfed.org/releases/calendar"
    description = "US release dates and times from the St. Louis Fed; no values."
    schedule = "35 6 * * *"  # daily; release dates change rarely
    supports_range = True
    chunk_days = 31

    def fetch(self, http: requests.Session, window: DateWindow) -> Iterator[Payload]:
        params = {
            "po": "1",
            "ptic": "0",
            "vs": window.start.isoformat(),
            "ve": window.end.isoformat(),
        }
        yield self.download(
            http, CALENDAR_URL, params=params, headers={"Accept": "application/json"}
        )

    def extract(self, body: bytes) -> ParsedPayload:
        data = load_json(self.name, body)
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
