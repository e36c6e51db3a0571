"""What every agency parser produces: observations keyed by a reference period.

A ``Period`` is what a figure refers to (May 2016, 2024-Q3, a day), independent of how
the agency spells it (BLS ``M05``, FRED ``2016-05-01``, SDMX ``2016-05``), so the
transformations in ``transforms`` work on any agency's series.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from ingestion.errors import PayloadError

# Months per period of each calendar frequency; "D" (a day) has none.
MONTHS = {"M": 1, "Q": 3, "S": 6, "A": 12}
FREQUENCIES = (*MONTHS, "D")
_NAMES = {"M": "month", "Q": "quarter", "S": "half-year", "A": "year"}


@dataclass(frozen=True, order=True)
class Period:
    """A reference period: its first day and its frequency.

    ``start`` comes first so periods of one frequency sort chronologically.
    """

    start: date
    frequency: str

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"unknown frequency {self.frequency!r}")
        months = MONTHS.get(self.frequency)
        if months and (self.start.day != 1 or (self.start.month - 1) % months):
            raise ValueError(
                f"{self.start} is not the first day of a {_NAMES[self.frequency]}"
            )

    @classmethod
    def of(cls, frequency: str, year: int, number: int = 1) -> "Period":
        """The ``number``-th period of ``year`` (month 5, quarter 3, half 1...)."""
        if frequency == "D":
            return cls(date(year, 1, 1) + timedelta(days=number - 1), "D")
        months = MONTHS[frequency]
        if not 1 <= number <= 12 // months:
            raise ValueError(f"{frequency} period {number} does not exist")
        return cls(date(year, (number - 1) * months + 1, 1), frequency)

    @classmethod
    def containing(cls, day: date, frequency: str) -> "Period":
        """The period of ``frequency`` that ``day`` falls in."""
        if frequency == "D":
            return cls(day, "D")
        months = MONTHS[frequency]
        return cls(date(day.year, (day.month - 1) // months * months + 1, 1), frequency)

    @property
    def number(self) -> int:
        """Position in its year: the month for "M", the quarter for "Q"..."""
        if self.frequency == "D":
            return self.start.timetuple().tm_yday
        return (self.start.month - 1) // MONTHS[self.frequency] + 1

    @property
    def per_year(self) -> int:
        """Periods in a year, the lag of a year-on-year change (12 months, 4 quarters)."""
        if self.frequency == "D":
            raise ValueError("daily periods have no fixed count per year")
        return 12 // MONTHS[self.frequency]

    def shifted(self, periods: int) -> "Period":
        """The period ``periods`` steps later (earlier when negative)."""
        if self.frequency == "D":
            return Period(self.start + timedelta(days=periods), "D")
        index = self.start.year * 12 + self.start.month - 1
        index += periods * MONTHS[self.frequency]
        return Period(date(index // 12, index % 12 + 1, 1), self.frequency)

    @classmethod
    def parse(cls, text: str, frequency: str) -> "Period":
        """The period ``str(period)`` printed: "2026-05", "2024-Q3", "2025-06-11";
        ValueError otherwise."""
        if frequency == "D":
            return cls(date.fromisoformat(text), "D")
        year, _, rest = text.partition("-")
        if not year.isdigit():
            raise ValueError(f"{text!r} is not a {frequency} period")
        if frequency == "A" and not rest:
            return cls.of("A", int(year))
        if frequency == "M" and rest.isdigit():
            return cls.of("M", int(year), int(rest))
        if rest[:1] == frequency and rest[1:].isdigit():
            return cls.of(frequency, int(year), int(rest[1:]))
        raise ValueError(f"{text!r} is not a {frequency} period")

    @property
    def end(self) -> date:
        """The last day of the period."""
        if self.frequency == "D":
            return self.start
        return self.shifted(1).start - timedelta(days=1)

    def __str__(self) -> str:
        year = self.start.year
        if self.frequency == "M":
            return f"{year}-{self.start.month:02d}"
        if self.frequency == "A":
            return str(year)
        if self.frequency == "D":
            return self.start.isoformat()
        return f"{year}-{self.frequency}{self.number}"


@dataclass(frozen=True)
class Observation:
    """One value of one series for one period; ``value`` None is a published gap."""

    series_id: str
    period: Period
    value: Decimal | None


@dataclass(frozen=True)
class SeriesVintage:
    """One series as one payload gave it, ready for ``ingestion.official.build``.

    ``vintaged`` is True when the observations carry the real-time span of each value
    (ALFRED: several vintages of a period, or first releases), False when they are
    the values current when the payload was fetched (BLS, the ECB, FRED without
    ``realtime_*``).
    """

    agency: str
    series_id: str
    observations: tuple[Observation, ...]
    vintaged: bool = False


def to_decimal(text: object) -> Decimal:
    """A number as published ("143894", "-0.4", 2.5) -> Decimal; ValueError otherwise.

    Floats go through ``str`` so 2.5 stays 2.5 (JSON should be loaded with
    ``parse_float=Decimal`` anyway).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float | Decimal):
        raise ValueError(f"value {text!r} is not a number")
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"value {text!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"value {text!r} is not a finite number")
    return number


def load_json(agency: str, body: bytes, what: str) -> object:
    """JSON with exact decimals; a PayloadError naming the agency when malformed."""
    try:
        return json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"{agency}: {what} is malformed: {exc}") from None


def expect_dict(agency: str, value: object, what: str) -> dict:
    """``value`` when it is a JSON object; a PayloadError naming ``what`` otherwise."""
    if not isinstance(value, dict):
        raise PayloadError(f"{agency}: {what} is not a JSON object")
    return value


def expect_list(agency: str, value: object, what: str) -> list:
    """``value`` when it is a JSON array; a PayloadError naming ``what`` otherwise."""
    if not isinstance(value, list):
        raise PayloadError(f"{agency}: {what} is not a JSON array")
    return value
