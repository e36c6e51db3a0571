"""The public shapes of the calendar: one function per shape, used by every output.

``occurrence_json(row, tz)`` turns a ``.values(*OCCURRENCE_COLUMNS)`` row into the dict
the API serves (JSON as is; the CSV and iCalendar renderers read the same dict);
``source_entry`` is one source's view inside it, which consolidation stores with the
occurrence; ``indicator_json`` and ``revision_json`` shape the rest. They are plain
mappings rather than DRF serializers because per-field serializer machinery cost more
than the query on the list endpoint (docs/benchmarks.md); the serializers in
``calendar_api.serializers`` document these shapes for the OpenAPI schema, and a test
checks the two agree key for key.
"""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson

from core.models import FIGURE_FIELDS

# Columns of a change-log entry (EventRevision, OccurrenceRevision).
REVISION_COLUMNS = ("field", "old_value", "new_value", "changed_at", "run_id")
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
        # In source_entry's key order: PostgreSQL's jsonb keeps keys in its own.
        "sources": [
            {key: entry[key] for key in SOURCE_ENTRY_KEYS} for entry in row["sources"]
        ],
        "conflicts": row["conflicts"],
        "first_seen_at": iso(row["first_seen_at"]),
        "updated_at": iso(row["updated_at"]),
    }


# Columns a page of stored documents is read from (``local`` is filled per request).
DOCUMENT_COLUMNS = ("document", "date", "time", "scheduled_at")
# Columns of a source row (EconomicEvent) its entry is built from.
SOURCE_COLUMNS = (
    "id", "source", "external_id", "source_event_id", "event_name", "reference_period",
    "date", "time", "time_precision", "scheduled_at", "importance", "status",
    *(f"{name}{part}" for name in FIGURE_FIELDS for part in ("", "_value", "_unit")),
    "source_outcome", "source_url", "first_seen_at", "updated_at",
)  # fmt: skip
INDICATOR_COLUMNS = (
    "id", "country", "currency", "name", "category", "frequency", "kind", "unit",
    "scale", "higher_is_better", "importance", "catalogued",
)  # fmt: skip
# Columns of an occurrence as an indicator's next or last release.
REFERENCE_COLUMNS = (
    "id", "date", "time", "scheduled_at", "reference_period",
    *(f"{name}{part}" for name in FIGURE_FIELDS for part in ("", "_value", "_unit")),
    "surprise", "outcome",
)  # fmt: skip


def source_entry(row: dict, *, release: bool = False) -> dict:
    """One source's own view of an occurrence (an item of its ``sources``)."""
    timed = row["time"] is not None
    return {
        "source": row["source"],
        "event_id": row["id"],
        "event_name": row["event_name"],
        "reference_period": row["reference_period"],
        "importance": row["importance"],
        "date": row["date"].isoformat(),
        "time": row["time"].isoformat() if timed else None,
        "datetime": iso(row["scheduled_at"]) if timed else None,
        "time_precision": row["time_precision"],
        "status": row["status"],
        **{name: figure_json(row, name) for name in FIGURE_FIELDS},
        "outcome": row["source_outcome"] or None,
        "url": row["source_url"],
        "release": release,
    }


SOURCE_ENTRY_KEYS = (
    "source", "event_id", "event_name", "reference_period", "importance", "date",
    "time", "datetime", "time_precision", "status", *FIGURE_FIELDS, "outcome", "url",
    "release",
)  # fmt: skip


def source_event_json(row: dict) -> dict:
    """A member row in full, with its change log (``row["revisions"]``)."""
    return {
        **source_entry(row, release=row.get("release", False)),
        "external_id": row["external_id"],
        "source_event_id": row["source_event_id"],
        "first_seen_at": iso(row["first_seen_at"]),
        "updated_at": iso(row["updated_at"]),
        "revisions": [revision_json(revision) for revision in row["revisions"]],
    }


def revision_json(row: dict) -> dict:
    """One change-log entry (``field, old_value, new_value, changed_at, run_id``)."""
    return {
        "field": row["field"],
        "old_value": row["old_value"],
        "new_value": row["new_value"],
        "changed_at": iso(row["changed_at"]),
        "run": row["run_id"],
    }


def indicator_json(row: dict, *, detail: bool = False) -> dict:
    """An indicator (``INDICATOR_COLUMNS`` plus ``aliases``, ``next_occurrence`` and
    ``last_release`` rows; with ``detail``, ``description`` and ``announces``)."""
    data = {name: row[name] for name in INDICATOR_COLUMNS}
    data["aliases"] = [
        {"source": alias["source"], "key": alias["key"], "name": alias["name"]}
        for alias in row["aliases"]
    ]
    data["next_occurrence"] = reference_json(row["next_occurrence"])
    data["last_release"] = reference_json(row["last_release"])
    if detail:
        data["description"] = row["description"]
        data["announces"] = list(row["announces"])
    return data


def reference_json(row: dict | None) -> dict | None:
    """An occurrence as an indicator's next or last release (``REFERENCE_COLUMNS``)."""
    if row is None:
        return None
    surprise: Decimal | None = row["surprise"]
    return {
        "id": row["id"],
        "date": row["date"].isoformat(),
        "datetime": iso(row["scheduled_at"]) if row["time"] is not None else None,
        "reference_period": row["reference_period"],
        **{name: figure_json(row, name) for name in FIGURE_FIELDS},
        "surprise": float(surprise) if surprise is not None else None,
        "outcome": row["outcome"] or None,
    }


# DOCUMENTS: an occurrence rendered once, when it is written
# ------------------------------------------------------------------------------

# ``local`` depends on the request's ``tz``: a document holds it as null, and a page
# with ``tz`` puts the object in its place (the first such key is the top-level one:
# it comes before ``sources``, and a string before it cannot hold an unescaped quote).
_NO_LOCAL = b'"local":null'


def occurrence_document(row: dict) -> str:
    """``occurrence_json(row)`` as JSON text, stored with the occurrence."""
    return orjson.dumps(occurrence_json(row)).decode()


def document_with_local(document: bytes, row: dict, tz: ZoneInfo | None) -> bytes:
    """A stored document with ``local`` filled for ``tz`` (``row``: date, time,
    scheduled_at); unchanged without a ``tz``."""
    if tz is None:
        return document
    local = b'"local":' + orjson.dumps(local_time(row, tz))
    return document.replace(_NO_LOCAL, local, 1)


def occurrence_detail_json(row: dict, tz: ZoneInfo | None = None) -> dict:
    """An occurrence in full: its stored document (``local`` filled for ``tz``), each
    member row with its change log in place of the document's ``sources``, and its own
    change log. ``row``: ``DOCUMENT_COLUMNS``, ``members`` (``SOURCE_COLUMNS`` and
    ``revisions``) and ``revisions``."""
    data = orjson.loads(document_with_local(row["document"].encode(), row, tz))
    release = {entry["event_id"]: entry["release"] for entry in data["sources"]}
    data["sources"] = [
        source_event_json({**member, "release": release.get(member["id"], False)})
        for member in row["members"]
    ]
    data["revisions"] = [revision_json(revision) for revision in row["revisions"]]
    return data


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
