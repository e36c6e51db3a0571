"""The public shape of an occurrence: one function, used by every output.

``occurrence_json(row, tz)`` turns a ``.values(*OCCURRENCE_COLUMNS)`` row into the dict
the API serves (JSON as is; the CSV and iCalendar renderers read the same dict). It is
a plain mapping rather than a DRF serializer because per-field serializer machinery
cost more than the query on the list endpoint (docs/benchmarks.md); the serializers in
``calendar_api.serializers`` document this shape for the OpenAPI schema, and a test
checks the two agree key for key.
"""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.models import FIGURE_FIELDS

# Columns an occurrence row is built from.
OCCURRENCE_COLUMNS = (
    "id", "indicator_id", "event_name", "reference_period", "category", "kind",
    "country", "currency", "date", "time", "time_precision", "scheduled_at",
    "importance", "status",
    *(f"{name}{part}" for name in FIGURE_FIELDS for part in ("", "_value", "_unit")),
    "actual_source", "surprise", "surprise_z", "outcome", "sources", "conflicts",
    "first_seen_at", "updated_at",
)  # fmt: skip


def occurrence_json(row: dict, tz: ZoneInfo | None = None) -> dict:
    """One occurrence as the API shows it; ``local`` is filled when ``tz`` is given."""
    timed = row["time"] is not None
    instant: datetime = row["scheduled_at"]
    surprise: Decimal | None = row["surprise"]
    return {
        "id": row["id"],
        "indicator": row["indicator_id"],
        "event_name": row["event_name"],
        "reference_period": row["reference_period"],
        "category": row["category"],
        "kind": row["kind"],
        "country": row["country"],
        "currency": row["currency"],
        "date": row["date"].isoformat(),
        "time": row["time"].isoformat() if timed else None,
        "datetime": iso(instant) if timed else None,
        "time_precision": row["time_precision"],
        "local": local_time(row, tz) if tz is not None else None,
        "importance": row["importance"],
        "status": row["status"],
        "actual": figure_json(row, "actual"),
        "forecast": figure_json(row, "forecast"),
        "previous": figure_json(row, "previous"),
        "revised_previous": figure_json(row, "revised_previous"),
        "revised": figure_json(row, "revised"),
        "actual_source": row["actual_source"] or None,
        "surprise": float(surprise) if surprise is not None else None,
        "surprise_z": row["surprise_z"],
        "outcome": row["outcome"] or None,
        "sources": row["sources"],
        "conflicts": row["conflicts"],
        "first_seen_at": iso(row["first_seen_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def local_time(row: dict, tz: ZoneInfo) -> dict:
    """Date and time in ``tz``. Untimed rows (all-day, date-only) stay on their calendar
    day everywhere."""
    if row["time"] is None:
        return {
            "tz": tz.key,
            "date": row["date"].isoformat(),
            "time": None,
            "datetime": None,
        }
    local = row["scheduled_at"].astimezone(tz)
    return {
        "tz": tz.key,
        "date": local.date().isoformat(),
        "time": local.time().isoformat(),
        "datetime": local.isoformat(),
    }


def figure_json(row: dict, name: str) -> dict | None:
    """``{"text", "value", "unit"}`` of a published figure; None when there is none."""
    text = row[name]
    if not text:
        return None
    value: Decimal | None = row[f"{name}_value"]
    return {
        "text": text,
        "value": float(value) if value is not None else None,
        "unit": row[f"{name}_unit"],
    }


def iso(value: datetime) -> str:
    """An aware instant in UTC, ISO 8601 with ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
