"""JSON (orjson), CSV and iCalendar renderers for the calendar's lists."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from icalendar import Calendar, Event, vDuration, vText
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer

from calendar_api.feeds import REFRESH_INTERVAL, Feed
from calendar_api.serializers import FigureSerializer, LocalTimeSerializer
from core.models import Importance

IMPORTANCE_LABELS = dict(Importance.choices)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return str(value)  # lazy translation strings and the like in error bodies


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer with orjson: same output for our data, several times faster."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_UTC_Z)


class CSVRenderer(BaseRenderer):
    """``format=csv``: one row per item, a column per field of the view's serializer.

    The columns come from the serializer's declared fields (the same list the schema
    documents), flattened: a figure becomes ``name``, ``name_value``, ``name_unit``;
    ``local`` becomes ``local_date`` and ``local_time``; a list (``sources``,
    ``conflicts``) one cell of comma-separated names. Importance is an integer column
    with empty cells, never ``3.0``.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        columns = csv_columns(view.get_serializer_class()())
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([name for name, _ in columns])
        for item in _events(data):
            writer.writerow([cell(item) for _, cell in columns])
        return buffer.getvalue().encode()


def csv_columns(serializer: serializers.Serializer) -> list[tuple[str, Any]]:
    """(header, item -> cell) per CSV column of ``serializer``'s fields."""
    columns: list[tuple[str, Any]] = []
    for name, field in serializer.fields.items():
        if isinstance(field, FigureSerializer):
            columns += [
                (name, _part(name, "text")),
                (f"{name}_value", _part(name, "value")),
                (f"{name}_unit", _part(name, "unit")),
            ]
        elif isinstance(field, LocalTimeSerializer):
            columns += [
                ("local_date", _part(name, "date")),
                ("local_time", _part(name, "time")),
            ]
        elif isinstance(field, serializers.ListSerializer):
            columns.append((name, _names(name, "source")))
        elif isinstance(field, serializers.ListField):
            columns.append((name, _names(name, None)))
        else:
            columns.append((name, _plain(name)))
    return columns


def _plain(name: str):
    return lambda item: "" if item.get(name) is None else item[name]


def _part(name: str, key: str):
    def cell(item: dict):
        value = (item.get(name) or {}).get(key)
        return "" if value is None else value

    return cell


def _names(name: str, key: str | None):
    def cell(item: dict) -> str:
        values = item.get(name) or []
        return ",".join(str(v[key] if key else v) for v in values)

    return cell


class ICalendarRenderer(BaseRenderer):
    """``format=ics``: an RFC 5545 calendar, one VEVENT per release.

    Calendar apps subscribe to it and re-read it, so: each UID is the occurrence's
    (an occurrence keeps its id through re-ingests, re-timings and sources joining or
    leaving), and the app updates an event in place instead of duplicating it;
    DTSTAMP is the release's last change, so the bytes change only when the data
    does. Releases without a clock time are all-day (DATE values, DTEND the next
    day); timed ones, instants in truth, last TIMED_EVENT_LENGTH, since RFC 5545
    (3.8.2.2) wants DTEND after DTSTART and calendar apps hide zero-length events. All
    are TRANSPARENT: a release does not make anyone busy. The calendar's name,
    description and refresh hint come from ``data["feed"]`` (calendar_api.feeds).
    """

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        calendar = Calendar()
        calendar.add("prodid", "-//dipping-calendar//economic calendar//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        feed: Feed | None = (data or {}).get("feed")
        calendar.add("x-wr-calname", feed.title if feed else "Economic calendar")
        if feed is not None:
            calendar.add("x-wr-caldesc", vText(feed.description))
            calendar.add("name", feed.title)
            calendar.add("description", feed.description)
        calendar.add(
            "refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"}
        )
        calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL).to_ical().decode())
        for item in _events(data):
            calendar.add_component(_vevent(item))
        return calendar.to_ical()


TIMED_EVENT_LENGTH = timedelta(minutes=15)


def uid(item: dict) -> str:
    """The occurrence's UID: stable for as long as the occurrence is the same release."""
    domain = getattr(settings, "ICS_UID_DOMAIN", "dipping-calendar")
    return f"occurrence-{item['id']}@{domain}"


def _vevent(item: dict) -> Event:
    event = Event()
    event.add("uid", uid(item))
    changed = _instant(item["updated_at"])
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("summary", _summary(item))
    if item["datetime"]:
        start = _instant(item["datetime"])
        event.add("dtstart", start)
        event.add("dtend", start + TIMED_EVENT_LENGTH)
    else:
        day = date.fromisoformat(item["date"])
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("description", _description(item))
    if item["status"] == "cancelled":
        event.add("status", "CANCELLED")
    url = next((entry["url"] for entry in item["sources"] if entry["url"]), "")
    if url:
        event.add("url", url)
    event.add("categories", [item["country"], item["category"]])
    return event


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _events(data: dict | None) -> list[dict]:
    """The events to export: a list page's results, or the one event of a detail.

    Error bodies never get here: the view renders them as JSON whatever the format.
    """
    if not data:
        return []
    return data.get("results", [data])


def _summary(item: dict) -> str:
    stars = "!" * (item["importance"] or 0)
    period = f" ({item['reference_period']})" if item["reference_period"] else ""
    prefix = f"[{item['country']}{' ' + stars if stars else ''}] "
    return f"{prefix}{item['event_name']}{period}"


def _description(item: dict) -> str:
    lines = [
        f"Importance: {IMPORTANCE_LABELS.get(item['importance'], 'none published')}",
        f"Country: {item['country']}  Currency: {item['currency'] or '-'}",
    ]
    for name, label in (
        ("actual", "Actual"),
        ("forecast", "Forecast"),
        ("previous", "Previous"),
        ("revised_previous", "Revised previous"),
    ):
        if item.get(name):
            lines.append(f"{label}: {item[name]['text']}")
    if item.get("surprise") is not None:
        lines.append(
            f"Surprise: {item['surprise']:+g}"
            + (f" ({item['outcome']})" if item.get("outcome") else "")
        )
    sources = ", ".join(entry["source"] for entry in item["sources"])
    lines.append(f"Sources: {sources}")
    if item.get("conflicts"):
        lines.append(f"Sources disagree on: {', '.join(item['conflicts'])}")
    lines.append(f"Indicator: {item['indicator']}")
    return "\n".join(lines)
