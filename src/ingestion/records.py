"""The normalised shapes a source's ``parse`` produces and ``services`` writes.

``EventRecord`` validates itself on construction, so every source gets the same guards
(country code, importance range, sane dates, field lengths) and a bad row becomes an
``InvalidRow`` that the parser turns into a counted ``Skip``.
"""

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import models

from core.countries import is_currency_code
from core.models import EconomicEvent, EventKind, Outcome, TimePrecision
from ingestion.errors import InvalidRow
from ingestion.normalise import infer_category
from ingestion.official.observations import SeriesVintage

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_INDICATOR = re.compile(r"^[a-z]{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")
# Calendars list decades of history and a few years ahead; anything else is garbage.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)


@dataclass(frozen=True)
class DateWindow:
    """Inclusive range of UTC dates."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"window starts {self.start} after it ends {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def chunks(self, days: int) -> list["DateWindow"]:
        """Split into consecutive windows of at most ``days`` days."""
        out: list[DateWindow] = []
        cursor = self.start
        while cursor <= self.end:
            last = min(cursor + timedelta(days=days - 1), self.end)
            out.append(DateWindow(cursor, last))
            cursor = last + timedelta(days=1)
        return out

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


@dataclass(frozen=True)
class EventRecord:
    """One occurrence as a source published it, normalised (UTC, ISO codes, 1-3)."""

    external_id: str
    event_name: str
    country: str
    date: date
    time: time | None
    time_precision: str = TimePrecision.EXACT
    currency: str = ""
    importance: int | None = None
    kind: str = EventKind.RELEASE
    reference_period: str = ""
    category: str = ""
    source_event_id: str = ""
    actual: str = ""
    forecast: str = ""
    previous: str = ""
    revised_previous: str = ""
    # This period's figure as revised after its first print (``actual``), or, with
    # ``actual`` empty, its current value when the first print is not known (agencies).
    revised: str = ""
    source_url: str = ""
    source_outcome: str = ""  # the source's own better/worse mark on the actual
    # The indicator (slug) this row is, when the source knows it (the agencies, from
    # the catalogue's official series): the resolver takes it before any name matching.
    indicator: str = ""
    # The successive values of ``revised`` with the instants they became current
    # (ALFRED vintage dates), oldest first, the last one being ``revised``: the writer
    # dates its change-log entries by them instead of by the run's time.
    revised_history: tuple[tuple[datetime, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.external_id:
            raise InvalidRow("no occurrence id")
        if not self.event_name:
            raise InvalidRow("no event name")
        if not _COUNTRY.match(self.country):
            raise InvalidRow(
                f"country {self.country!r} is not an ISO 3166 alpha-2 code"
            )
        if self.currency and not is_currency_code(self.currency):
            raise InvalidRow(f"currency {self.currency!r} is not an ISO 4217 code")
        if not MIN_DATE <= self.date <= MAX_DATE:
            raise InvalidRow(f"date {self.date} is outside {MIN_DATE}..{MAX_DATE}")
        if self.importance is not None and self.importance not in (1, 2, 3):
            raise InvalidRow(f"importance {self.importance!r} is not 1, 2 or 3")
        if self.time_precision not in TimePrecision.values:
            raise InvalidRow(f"time precision {self.time_precision!r} is unknown")
        if self.source_outcome and self.source_outcome not in Outcome.values:
            raise InvalidRow(f"outcome {self.source_outcome!r} is unknown")
        if self.kind not in EventKind.values:
            raise InvalidRow(f"kind {self.kind!r} is unknown")
        if self.time_precision == TimePrecision.EXACT and self.time is None:
            raise InvalidRow("an exact-time event needs a time")
        if self.time_precision != TimePrecision.EXACT and self.time is not None:
            raise InvalidRow(f"a {self.time_precision} event has no clock time")
        if self.time is not None and self.time.tzinfo is not None:
            raise InvalidRow("time must be naive UTC")
        if not self.category:
            # Most sources publish no category; the name says it (normalise.py).
            object.__setattr__(
                self, "category", infer_category(self.event_name, self.kind)
            )
        if self.indicator and not _INDICATOR.match(self.indicator):
            raise InvalidRow(
                f"indicator {self.indicator!r} is not a slug like us-cpi-mom"
            )
        self._check_revised_history()
        for name, limit in MAX_LENGTHS.items():
            value = getattr(self, name)
            if len(value) > limit:
                raise InvalidRow(
                    f"{name} is {len(value)} characters, more than {limit}"
                )

    def _check_revised_history(self) -> None:
        if not self.revised_history:
            return
        if any(when.tzinfo is None for when, _ in self.revised_history):
            raise InvalidRow("revised_history instants must be aware")
        if self.revised_history[-1][1] != self.revised:
            raise InvalidRow("revised_history must end with the revised value")

    @classmethod
    def at(cls, instant: datetime, **values: Any) -> "EventRecord":
        """An event at an exact instant (aware), stored as its UTC date and clock time."""
        if instant.tzinfo is None:
            raise InvalidRow(f"instant {instant.isoformat()} has no UTC offset")
        utc = instant.astimezone(UTC)
        return cls(
            date=utc.date(),
            time=utc.time(),
            time_precision=TimePrecision.EXACT,
            **values,
        )

    @classmethod
    def on(cls, day: date, precision: str, **values: Any) -> "EventRecord":
        """An event on a calendar day without a clock time; ``precision`` says why
        (all day, tentative, or only the date is known)."""
        return cls(date=day, time=None, time_precision=precision, **values)

    @property
    def scheduled_at(self) -> datetime:
        return datetime.combine(self.date, self.time or time.min, tzinfo=UTC)


# The limits of the columns the text fields are stored in, read from the model: a
# longer value is a bad row (a counted skip), never a database error mid-write.
_RECORD_FIELDS = {record_field.name for record_field in fields(EventRecord)}
MAX_LENGTHS = {
    column.name: column.max_length
    for column in EconomicEvent._meta.get_fields()
    if isinstance(column, models.CharField) and column.name in _RECORD_FIELDS
}


@dataclass(frozen=True)
class Skip:
    """A row the parser could not use, with the reason and a short excerpt of it."""

    reason: str
    excerpt: str = ""


@dataclass
class ParsedPayload:
    """What one payload yields.

    ``window`` is the span of UTC dates the payload covers *completely*: events of this
    source stored in that span and absent here are marked cancelled. None when the
    payload is partial (filtered by country, one page of several) and nothing may be
    cancelled on its evidence.
    """

    records: list[EventRecord] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    window: DateWindow | None = None
    # An agency's series: which rows they become depends on what is stored (which
    # release a period belongs to), so ``Source.finish`` turns them into records in
    # the write transaction.
    series: list[SeriesVintage] = field(default_factory=list)
