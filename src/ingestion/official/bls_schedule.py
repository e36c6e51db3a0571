"""BLS release schedules: when each news release comes out, in UTC.

Two shapes, both recorded in tests/fixtures/official/:

* ``https://www.bls.gov/schedule/news_release/bls.ics``: every BLS release of a year
  or two, ``DTSTART;TZID=US-Eastern:20230106T083000`` and ``SUMMARY:Employment
  Situation``. ``US-Eastern`` is not an IANA name; the file defines it in its own
  VTIMEZONE (US rules since 2007), which icalendar applies. No reference period.
* ``https://www.bls.gov/schedule/news_release/cpi.htm`` (one page per release): a
  table "Reference Month | Release Date | Release Time" ("October 2024 |
  Nov. 13, 2024 | 08:30 AM", Eastern time) under "Schedule of Releases for the
  Consumer Price Index". The release name matches the .ics ``SUMMARY``.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import icalendar
import lxml.html

from ingestion.errors import InvalidRow, PayloadError
from ingestion.normalise import clean_text, to_utc
from ingestion.official.observations import Period
from ingestion.records import Skip

ZONE = "America/New_York"
TITLE = "//title | //h1 | //h2"
ROWS = "//table[contains(@class, 'release-list')]//tbody/tr"
_TITLE = re.compile(r"^Schedule of Releases for (?:the )?(.+)$")
_DAY = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),\s*(\d{4})$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})\s*([AP])\.?M\.?$", re.I)
_QUARTER = re.compile(r"^([1-4])(?:st|nd|rd|th) Quarter (\d{4})$", re.I)


@dataclass(frozen=True)
class ScheduledRelease:
    name: str  # "Consumer Price Index", as the .ics SUMMARY and the page title say
    at: datetime  # aware, UTC
    reference: str = ""  # the page's "Reference Month" cell; "" from the .ics
    reference_period: Period | None = None


@dataclass(frozen=True)
class Schedule:
    releases: tuple[ScheduledRelease, ...]
    skipped: tuple[Skip, ...] = ()


def parse_calendar(body: bytes) -> Schedule:
    """The BLS .ics feed -> every timed release, oldest first."""
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except ValueError as exc:
        raise PayloadError(f"bls: schedule calendar is malformed: {exc}") from None
    releases: list[ScheduledRelease] = []
    skipped: list[Skip] = []
    for event in calendar.walk("VEVENT"):
        name = clean_text(str(event.get("SUMMARY", "")))
        start = event.get("DTSTART")
        moment = getattr(start, "dt", None)
        if not name or not isinstance(moment, datetime) or moment.tzinfo is None:
            skipped.append(Skip("event without a name or a zoned start time", name))
            continue
        releases.append(ScheduledRelease(name, moment.astimezone(UTC)))
    if not releases and not skipped:
        raise PayloadError("bls: schedule calendar has no events")
    releases.sort(key=lambda r: (r.at, r.name))
    return Schedule(tuple(releases), tuple(skipped))


def parse_schedule_page(body: bytes) -> Schedule:
    """A release's schedule page -> (reference period, release time) per row."""
    tree = lxml.html.fromstring(body)
    titles = [clean_text(h.text_content()) for h in tree.xpath(TITLE)]
    match = next((m for m in map(_TITLE.match, titles) if m), None)
    if not match:
        raise PayloadError("bls: schedule page has no 'Schedule of Releases for' title")
    rows = tree.xpath(ROWS)
    if not rows:
        raise PayloadError("bls: schedule page has no release-list table")
    releases: list[ScheduledRelease] = []
    skipped: list[Skip] = []
    for row in rows:
        cells = [clean_text(td.text_content()) for td in row.xpath("td")]
        try:
            releases.append(_row(match.group(1), cells))
        except InvalidRow as exc:
            skipped.append(Skip(str(exc), " | ".join(cells)))
    return Schedule(tuple(releases), tuple(skipped))


def _row(name: str, cells: list[str]) -> ScheduledRelease:
    if len(cells) != 3:
        raise InvalidRow(f"expected 3 cells, found {len(cells)}")
    reference, day_text, clock_text = cells
    day, clock = _DAY.match(day_text), _CLOCK.match(clock_text)
    if not day:
        raise InvalidRow(f"release date {day_text!r} is not like 'Nov. 13, 2024'")
    if not clock:
        raise InvalidRow(f"release time {clock_text!r} is not like '08:30 AM'")
    hour = int(clock.group(1)) % 12 + (12 if clock.group(3).upper() == "P" else 0)
    try:  # "Sept." and "Sep." alike: the first three letters name the month
        local = datetime.strptime(  # noqa: DTZ007 - Eastern wall time, converted below
            f"{day.group(1)} {day.group(2)} {day.group(3)} {hour}:{clock.group(2)}",
            "%b %d %Y %H:%M",
        )
    except ValueError:
        raise InvalidRow(f"release date {day_text!r} does not exist") from None
    return ScheduledRelease(name, to_utc(local, ZONE), reference, _reference(reference))


def _reference(text: str) -> Period | None:
    """The reference period: "October 2024" -> 2024-10, "1st Quarter 2024" -> 2024-Q1."""
    quarter = _QUARTER.match(text)
    if quarter:
        return Period.of("Q", int(quarter.group(2)), int(quarter.group(1)))
    try:
        month = datetime.strptime(text, "%B %Y")  # noqa: DTZ007 - a month, no time
    except ValueError:
        return None
    return Period(date(month.year, month.month, 1), "M")
