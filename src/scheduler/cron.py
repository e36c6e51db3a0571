"""Crontab strings to APScheduler triggers, with crontab's own weekday numbering.

APScheduler 3's ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, so a
crontab "1-5" (Monday to Friday) would silently run Tuesday to Saturday (APScheduler
issue #286, fixed only in 4.x). Operators write crontab, so numeric weekdays are
translated to names before APScheduler sees them.
"""

import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

# crontab: 0 and 7 are Sunday.
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NUMERIC_PART = re.compile(r"^(?P<start>\d+)(?:-(?P<end>\d+))?(?P<step>/\d+)?$")


class CronError(ValueError):
    """A crontab string that cannot be scheduled; the message is one readable line."""


def _day_name(number: str) -> str:
    value = int(number)
    if value > 7:
        raise CronError(f"day of week {value} is not 0-7")
    return _DAY_NAMES[value]


def _translate_day_of_week(field: str) -> str:
    parts = []
    for part in field.split(","):
        match = _NUMERIC_PART.match(part)
        if match is None:  # "*", "*/2", "mon-fri": same meaning in both numberings
            parts.append(part)
            continue
        start, end, step = match["start"], match["end"], match["step"] or ""
        if end is None:
            parts.append(_day_name(start) + step)
        elif int(start) == 0 and int(end) > 0:
            # "0-5" wraps around APScheduler's Monday-first week: split off Sunday.
            if step:
                raise CronError(f"day of week {part!r}: write it without a step")
            parts.extend(["sun", f"mon-{_day_name(end)}"])
        else:
            parts.append(f"{_day_name(start)}-{_day_name(end)}{step}")
    return ",".join(parts)


def cron_trigger(expr: str) -> CronTrigger:
    """A UTC ``CronTrigger`` for a five-field crontab string; CronError if invalid."""
    fields = expr.split()
    if len(fields) != 5:
        raise CronError(
            f"{expr!r} has {len(fields)} fields, expected 5 (minute hour day month weekday)"
        )
    minute, hour, day, month, day_of_week = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_translate_day_of_week(day_of_week),
            timezone=UTC,
        )
    except CronError as exc:
        raise CronError(f"{expr!r}: {exc}") from None
    except ValueError as exc:
        raise CronError(f"{expr!r}: {exc}") from None


def shortest_gap(trigger: CronTrigger, start: datetime, fires: int = 500) -> timedelta:
    """The shortest time between two consecutive fires among the next ``fires``."""
    shortest = timedelta.max
    previous = trigger.get_next_fire_time(None, start)
    for _ in range(fires):
        if previous is None:
            break
        following = trigger.get_next_fire_time(
            previous, previous + timedelta(seconds=1)
        )
        if following is None:
            break
        shortest = min(shortest, following - previous)
        previous = following
    return shortest
