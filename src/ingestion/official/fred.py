"""FRED/ALFRED API responses: series/observations, series/vintagedates, release/dates.

``series/observations`` (recorded in tests/fixtures/official/fred/)::

    {"realtime_start": "1776-07-04", "realtime_end": "9999-12-31", "units": "lin",
     "output_type": 4, "count": 132, "offset": 0, "limit": 100000,
     "observations": [{"realtime_start": "2022-07-28", "realtime_end": "2022-08-24",
                       "date": "2022-04-01", "value": "24851.809"}, ...]}

* Each value carries the span of days during which it was the current one (its
  vintage); ``9999-12-31`` means "still current". With ``realtime_start=1776-07-04``
  and ``realtime_end=9999-12-31`` (ALFRED) every vintage of every date is listed;
  ``FredSeries.vintage(day)`` picks the values known on one day.
* ``output_type=1`` lists values by real-time period; ``output_type=4`` lists only
  each date's initial release (first print).
* ``"."`` is a missing value (GDP 1946-01-01 in some vintages).
* ``date`` is the first day of the reference period; the body does not name the
  series or its frequency, so the caller does.
* Errors: HTTP 400 with ``{"error_code": 400, "error_message": "Bad Request. ..."}``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ingestion.errors import InvalidRow, PayloadError
from ingestion.official.observations import (
    Observation,
    Period,
    expect_dict,
    expect_list,
    load_json,
    to_decimal,
)
from ingestion.records import Skip

AGENCY = "fred"
MISSING = "."


@dataclass(frozen=True)
class FredObservation(Observation):
    realtime_start: date
    realtime_end: date

    def known_on(self, day: date) -> bool:
        """True when this was the current value on ``day``."""
        return self.realtime_start <= day <= self.realtime_end


@dataclass(frozen=True)
class FredSeries:
    series_id: str
    output_type: int
    units: str
    observations: tuple[FredObservation, ...]
    skipped: tuple[Skip, ...] = ()
    # More observations exist than this page holds (count > offset + rows).
    truncated: bool = False
    # The real-time span the request asked for: one day (the values current that
    # day) unless ALFRED vintages were asked for.
    realtime_start: date | None = None
    realtime_end: date | None = None

    @property
    def vintaged(self) -> bool:
        """True when the values carry their vintages (ALFRED), False when they are
        the values of one day (a plain FRED request)."""
        if self.output_type == 4:
            return True
        start, end = self.realtime_start, self.realtime_end
        return start is not None and end is not None and start < end

    def vintage(self, day: date) -> tuple[FredObservation, ...]:
        """The values known on ``day``: one vintage, ready for a transformation."""
        return tuple(o for o in self.observations if o.known_on(day))


@dataclass(frozen=True)
class ReleaseDate:
    release_id: int
    date: date


def parse_observations(body: bytes, *, series_id: str, frequency: str) -> FredSeries:
    """A ``series/observations`` body -> FredSeries; PayloadError on an API error.

    ``frequency`` ("M", "Q", "D"...) turns each ``date`` into a Period; a date that
    does not start a period of that frequency is skipped, not guessed.
    """
    data = _read(body, "series/observations")
    rows = expect_list(AGENCY, data.get("observations"), "observations")
    found: list[FredObservation] = []
    skipped: list[Skip] = []
    for row in rows:
        try:
            found.append(_read_observation(series_id, frequency, row))
        except InvalidRow as exc:
            skipped.append(Skip(str(exc), f"{series_id} {str(row)[:120]}"))
    count = data.get("count")
    offset = data.get("offset", 0)
    truncated = (
        isinstance(count, int)
        and isinstance(offset, int)
        and (offset + len(rows) < count)
    )
    return FredSeries(
        series_id=series_id,
        output_type=int(data.get("output_type", 1)),
        units=str(data.get("units", "")),
        observations=tuple(found),
        skipped=tuple(skipped),
        truncated=truncated,
        realtime_start=_optional_day(data.get("realtime_start"), "realtime_start"),
        realtime_end=_optional_day(data.get("realtime_end"), "realtime_end"),
    )


def parse_vintage_dates(body: bytes) -> tuple[date, ...]:
    """A ``series/vintagedates`` body -> the days on which the series was revised."""
    data = _read(body, "series/vintagedates")
    days = expect_list(AGENCY, data.get("vintage_dates"), "vintage_dates")
    return tuple(_day(day, "vintage date") for day in days)


def parse_release_dates(body: bytes) -> tuple[ReleaseDate, ...]:
    """A ``release/dates`` body -> (release id, day) pairs, as listed."""
    data = _read(body, "release/dates")
    rows = expect_list(AGENCY, data.get("release_dates"), "release_dates")
    out = []
    for row in rows:
        row = expect_dict(AGENCY, row, "a release date")
        if not isinstance(row.get("release_id"), int):
            raise PayloadError(f"fred: release date {row!r} has no release_id")
        out.append(ReleaseDate(row["release_id"], _day(row.get("date"), "date")))
    return tuple(out)


def _read(body: bytes, what: str) -> Mapping:
    data = expect_dict(AGENCY, load_json(AGENCY, body, what), what)
    if "error_code" in data or "error_message" in data:
        raise PayloadError(f"fred: {what}: {data.get('error_message', 'error')}")
    return data


def _read_observation(series_id: str, frequency: str, row: object) -> FredObservation:
    if not isinstance(row, dict):
        raise InvalidRow("an observation is not a JSON object")
    try:
        day = _day(row.get("date"), "date")
        period = Period(day, frequency)
        value = None if row.get("value") == MISSING else to_decimal(row.get("value"))
        start = _day(row.get("realtime_start"), "realtime_start")
        end = _day(row.get("realtime_end"), "realtime_end")
    except (PayloadError, ValueError) as exc:
        raise InvalidRow(str(exc)) from None
    return FredObservation(series_id, period, value, start, end)


def _optional_day(text: object, what: str) -> date | None:
    return None if text is None else _day(text, what)


def _day(text: object, what: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise PayloadError(f"fred: {what} {text!r} is not a YYYY-MM-DD date") from None
