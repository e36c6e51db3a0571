"""Relative days: ``today``, ``yesterday``, ``tomorrow``, ``-7d``, ``+30d``.

A calendar subscription or a saved link asks for "this week", not for fixed dates, so
every date parameter also takes a day relative to today. "Today" is the day in the
request's time zone (UTC unless ``tz`` says otherwise): at 23:30 in New York on
4 June, ``today`` with ``tz=America/New_York`` is 4 June, in UTC already 5 June.

An answer built from a relative day is only right until that day ends, so it says
when it expires (``seconds_left_today``), and its cache key holds the resolved dates.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

# The parameters that take a day, and so a relative one.
DAY_FIELDS = ("date", "date_from", "date_to")
NAMED = {"yesterday": -1, "today": 0, "tomorrow": 1}
# The sign is optional: an unescaped "+" in a query string arrives as a space, so
# "date_to=+7d" typed into a browser reaches us as " 7d", and means +7d.
_OFFSET = re.compile(r"^(?P<days>[+-]?\d{1,5})d$")
MAX_OFFSET_DAYS = 36_600  # a century either way; beyond is a typo, not a calendar
# For the OpenAPI schema: what a date parameter accepts.
PATTERN = r"^(\d{4}-\d{2}-\d{2}|today|yesterday|tomorrow|[+-]?\d{1,5}d)$"
HELP = (
    "YYYY-MM-DD, or a day relative to today in `tz` (UTC by default): "
    "`today`, `yesterday`, `tomorrow`, or a number of days such as `-7d`, `+30d` "
    "(`30d` is `+30d`)."
)


@dataclass(frozen=True)
class RelativeDay:
    """A day given as an offset from today; resolved once the time zone is known."""

    days: int
    text: str

    def resolve(self, today: date) -> date:
        """The date ``days`` after ``today``; ValueError past the calendar's ends."""
        try:
            return today + timedelta(days=self.days)
        except OverflowError:
            raise ValueError(f"{self.text} is outside the calendar.") from None

    def __str__(self) -> str:
        return self.text


def parse_relative(text: str) -> RelativeDay | None:
    """The RelativeDay ``text`` names, or None when it is not a relative day.

    Raises ValueError for an offset too large to mean a day anyone schedules.
    """
    key = text.strip().lower()
    if key in NAMED:
        return RelativeDay(NAMED[key], key)
    match = _OFFSET.match(key)
    if match is None:
        return None
    days = int(match["days"])
    if abs(days) > MAX_OFFSET_DAYS:
        raise ValueError(f"At most {MAX_OFFSET_DAYS} days either way.")
    return RelativeDay(days, key)


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(tz).date()


def seconds_left_today(tz: ZoneInfo, now: datetime | None = None) -> int:
    """Seconds until the current day ends in ``tz`` (DST-correct), at least 1."""
    now = (now or timezone.now()).astimezone(UTC)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    # Subtracted in UTC: aware datetimes sharing a tzinfo subtract as wall clocks.
    midnight = datetime.combine(tomorrow, time.min, tzinfo=tz).astimezone(UTC)
    return max(1, int((midnight - now).total_seconds()))
