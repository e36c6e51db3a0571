"""What a calendar feed or a download says about itself: its window, name and file name.

A subscribed calendar re-reads the same URL for years. Without dates it covers a
rolling window around today (FEED_PAST_DAYS back, FEED_FUTURE_DAYS ahead), so it
neither grows past API_EXPORT_MAX_ROWS nor goes stale; past the cap, a feed is cut
with a note instead of failing, because a calendar app shows an error as a broken
calendar, not as a message. The title and description name the filter, so a person
with five subscribed feeds can tell them apart.

Everything here reads the cleaned filter parameters (a dict), not a queryset, so the
same feed logic serves any list that takes the same parameters.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from calendar_api.relative_dates import DAY_FIELDS
from core.models import Importance

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 90
# How often a subscribed calendar should re-read the feed (REFRESH-INTERVAL and
# X-PUBLISHED-TTL); calendar apps treat it as a hint and poll on their own schedule.
REFRESH_INTERVAL = timedelta(hours=1)
IMPORTANCE_WORDS = {level.value: level.label.lower() for level in Importance}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Feed:
    """The calendar-level facts of one export."""

    title: str
    description: str
    filename: str  # without extension


def has_days(params: dict) -> bool:
    return any(params.get(name) for name in DAY_FIELDS)


def default_window(today: date) -> tuple[date, date]:
    """The days a feed without dates covers: FEED_PAST_DAYS back to FEED_FUTURE_DAYS ahead."""
    return (
        today - timedelta(days=FEED_PAST_DAYS),
        today + timedelta(days=FEED_FUTURE_DAYS),
    )


def days_of(params: dict) -> tuple[date | None, date | None]:
    """The inclusive first and last day the cleaned ``params`` ask for."""
    if params.get("date"):
        return params["date"], params["date"]
    return params.get("date_from"), params.get("date_to")


def describe(
    params: dict,
    *,
    raw_days: dict[str, str],
    rolling: bool,
    truncated_at: int | None = None,
) -> Feed:
    """Title, description and file name for the cleaned filter ``params``.

    ``raw_days`` are the day parameters as given (``-7d`` stays ``-7d`` in the
    description, since a subscription re-resolves it on each refresh); ``rolling``
    says the days are the default window; ``truncated_at`` is the cap when more rows
    matched than the export holds.
    """
    parts = filter_parts(params)
    title = "Economic calendar" + (": " + " · ".join(parts) if parts else "")
    lines = [f"{title}, from dipping-calendar."]
    lines.append(_days_line(params, raw_days, rolling))
    if truncated_at is not None:
        lines.append(
            f"Truncated: more events match than one feed holds; this one has the "
            f"first {truncated_at}. Narrow date_from/date_to or the filters."
        )
    return Feed(title=title, description=" ".join(lines), filename=_filename(params))


def filter_parts(params: dict) -> list[str]:
    """Short phrases naming each filter, in a fixed order ("US, EU", "high importance")."""
    parts = []
    for name in ("country", "currency"):
        if params.get(name):
            parts.append(", ".join(params[name]))
    if params.get("min_importance"):
        levels = [
            level for level in IMPORTANCE_WORDS if level >= params["min_importance"]
        ]
        parts.append(_importance(levels))
    if params.get("importance"):
        parts.append(_importance(sorted(set(params["importance"]))))
    for name in ("kind", "status", "source"):
        if params.get(name):
            parts.append(f"{name} {', '.join(params[name])}")
    if params.get("category"):
        parts.append(f"category {params['category']}")
    if params.get("has_actual") is not None:
        parts.append("with actual" if params["has_actual"] else "without actual")
    if params.get("q"):
        parts.append(f'"{params["q"]}"')
    return parts


def _importance(levels: list[int]) -> str:
    words = [IMPORTANCE_WORDS[level] for level in levels]
    return " and ".join(words) + " importance"


def _days_line(params: dict, raw_days: dict[str, str], rolling: bool) -> str:
    zone = params["tz"].key if params.get("tz") else "UTC"
    if rolling:
        return (
            f"Days: a rolling window from {FEED_PAST_DAYS} days ago to "
            f"{FEED_FUTURE_DAYS} days ahead ({zone})."
        )
    first, last = days_of(params)
    given = " to ".join(
        raw_days[name] for name in DAY_FIELDS if raw_days.get(name)
    )  # fmt: skip
    resolved = f"{first or 'the beginning'} to {last or 'the end'}"
    if given and given != resolved:
        return f"Days: {given} ({zone}; now {resolved})."
    return f"Days: {resolved} ({zone})."


def _filename(params: dict) -> str:
    pieces = ["economic-calendar"]
    for name in ("country", "currency"):
        if params.get(name):
            pieces.append("-".join(params[name]))
    first, last = days_of(params)
    if first or last:
        pieces.append(
            f"{first or 'start'}_{last or 'end'}" if first != last else f"{first}"
        )
    return _UNSAFE.sub("-", "_".join(pieces))[:120]


def event_filename(event_id: int) -> str:
    return f"economic-calendar_event-{event_id}"
