"""JSON (orjson), CSV and iCalendar renderers for the event list."""

import csv
import hashlib
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from icalendar import Calendar, Event, vDuration, vText
from rest_framework.renderers import BaseRenderer, JSONRenderer

from calendar_api.feeds import REFRESH_INTERVAL, Feed
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
    """``?format=csv``: one row per event, figures flattened to text/value/unit."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    columns = [
        "id", "source", "external_id", "date", "time", "datetime", "time_precision",
        "local_date", "local_time", "country", "currency", "event_name", "reference_period",
        "category", "kind", "importance", "status",
        "actual", "actual_value", "actual_unit", "forecast", "forecast_value",
        "forecast_unit", "previous", "previous_value", "previous_unit", "revised_previous",
        "revised_previous_value", "revised_previous_unit", "source_url", "updated_at",
    ]  # fmt: skip

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        for item in _events(data):
            row = dict(item)
            local = item.get("local") or {}
            row["local_date"] = local.get("date", "")
            row["local_time"] = local.get("time") or ""
            for name in ("actual", "forecast", "previous", "revised_previous"):
                figure = item.get(name) or {}
                row[name] = figure.get("text", "")
                row[f"{name}_value"] = (
                    "" if figure.get("value") is None else figure["value"]
                )
                row[f"{name}_unit"] = figure.get("unit", "")
            writer.writerow(row)
        return buffer.getvalue().encode()


class ICalendarRenderer(BaseRenderer):
    """``format=ics``: an RFC 5545 calendar of the filtered events.

    Calendar apps subscribe to it and re-read it, so: UIDs come from the source's
    own occurrence key (``uid``), stable across re-ingests and database rebuilds, and
    the app updates an event in place instead of duplicating it; DTSTAMP is the
    row's last change, so the bytes change only when the data does. Events without
    a clock time are all-day (DATE values, DTEND the next day); timed ones, instants
    in truth, last TIMED_EVENT_LENGTH, since RFC 5545 (3.8.2.2) wants DTEND after
    DTSTART and calendar apps hide zero-length events. All are TRANSPARENT: a release
    does not make anyone busy. The calendar's name, description and refresh hint
    come from ``data["feed"]`` (calendar_api.feeds) when the view gives one.
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
    """A UID from the source and its occurrence key: the same occurrence keeps it
    through re-ingests, re-timings and a rebuilt database (ids would not)."""
    domain = getattr(settings, "ICS_UID_DOMAIN", "dipping-calendar")
    key = hashlib.sha1(f"{item['source']}\x00{item['external_id']}".encode())
    return f"{item['source']}-{key.hexdigest()[:20]}@{domain}"


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
    if item["source_url"]:
        event.add("url", item["source_url"])
    event.add("categories", [item["country"], item["kind"]])
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
    lines.append(f"Source: {item['source']}")
    return "\n".join(lines)
