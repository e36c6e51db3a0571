"""JSON (orjson), CSV and iCalendar renderers for the event list."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from icalendar import Calendar, Event
from rest_framework.renderers import BaseRenderer, JSONRenderer

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
    """``?format=ics``: an RFC 5545 calendar of the filtered events.

    UIDs derive from the stored id, so a calendar app that re-fetches the feed updates
    events in place instead of duplicating them. Events without a clock time are
    all-day (DATE values); timed ones are zero-length at their UTC instant.
    """

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        calendar = Calendar()
        calendar.add("prodid", "-//dipping-calendar//economic calendar//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", "Economic calendar")
        host = getattr(settings, "ICS_UID_DOMAIN", "dipping-calendar")
        stamp = datetime.now(UTC)
        for item in _events(data):
            event = Event()
            event.add("uid", f"event-{item['id']}@{host}")
            event.add("dtstamp", stamp)
            event.add("summary", _summary(item))
            if item["datetime"]:
                start = datetime.fromisoformat(item["datetime"].replace("Z", "+00:00"))
                event.add("dtstart", start)
                event.add("dtend", start)
            else:
                day = datetime.fromisoformat(item["date"]).date()
                event.add("dtstart", day)
                event.add("dtend", day + timedelta(days=1))
            event.add("description", _description(item))
            event.add(
                "last-modified",
                datetime.fromisoformat(item["updated_at"].replace("Z", "+00:00")),
            )
            if item["status"] == "cancelled":
                event.add("status", "CANCELLED")
            if item["source_url"]:
                event.add("url", item["source_url"])
            event.add("categories", [item["country"], item["kind"]])
            calendar.add_component(event)
        return calendar.to_ical()


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
