"""A minimal WSGI server answering the calendar's queries with psycopg + orjson only.

The yardstick for bench/bench_api.py: the same question as ``/api/events/`` asks of
PostgreSQL (filters, ORDER BY scheduled_at, id, LIMIT page_size + 1) and the same
JSON, byte for byte (tests/bench/test_reference_server.py compares them), with none
of Django or DRF. Like the API it serves each occurrence's stored document, filling
``local`` for a ``tz``. Run it like the API:
``gunicorn -w 2 -k sync bench.reference_server:app`` with DATABASE_URL set.

Supports what the benchmark asks: country (``US,JP`` or repeated), date, date_from,
date_to (ISO dates), min_importance, tz, page_size, cursor, and /api/events/<id>/ (the
occurrence with each source's row and every change). No validation: it trusts its
input, which is part of why it is fast.
"""

import base64
import json
import os
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import orjson
import psycopg

PAGE_SIZE = 100
FIGURES = ("actual", "forecast", "previous", "revised_previous", "revised")
MEMBER_COLUMNS = (
    "id, source, external_id, source_event_id, event_name, reference_period, date, "
    "time, time_precision, scheduled_at, importance, status, "
    + ", ".join(f"{f}, {f}_value, {f}_unit" for f in FIGURES)
    + ", source_outcome, source_url, first_seen_at, updated_at"
)
REVISION_COLUMNS = "field, old_value, new_value, changed_at, run_id"

_connection = None


def database_url() -> str:
    url = os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/dipcal_api_bench"
    )
    return url.replace("postgres://", "postgresql://", 1)


def connection() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(database_url(), autocommit=True)
    return _connection


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_time(day: date, clock: time | None, instant: datetime, tz: ZoneInfo) -> dict:
    if clock is None:
        return {"tz": tz.key, "date": day.isoformat(), "time": None, "datetime": None}
    local = instant.astimezone(tz)
    return {
        "tz": tz.key,
        "date": local.date().isoformat(),
        "time": local.time().isoformat(),
        "datetime": local.isoformat(),
    }


def days_condition(params: dict, tz: ZoneInfo | None) -> tuple[list[str], list]:
    """The days of a list in ``tz``: timed rows by their instant's local day,
    untimed ones by their calendar date (as core.querysets.in_days)."""
    first = params.get("date") or params.get("date_from")
    last = params.get("date") or params.get("date_to")
    if not first and not last:
        return [], []
    first = date.fromisoformat(first) if first else None
    last = date.fromisoformat(last) if last else None
    if tz is None or tz.key == "UTC":
        if first and first == last:
            return ["date = %s"], [first]
        where, args = [], []
        if first:
            where.append("date >= %s")
            args.append(first)
        if last:
            where.append("date <= %s")
            args.append(last)
        return where, args
    timed, untimed, args_t, args_u = ["time IS NOT NULL"], ["time IS NULL"], [], []
    if first:
        timed.append("scheduled_at >= %s")
        args_t.append(datetime.combine(first, time(), tz))
        untimed.append("date >= %s")
        args_u.append(first)
    if last:
        timed.append("scheduled_at < %s")
        args_t.append(datetime.combine(last + timedelta(days=1), time(), tz))
        untimed.append("date <= %s")
        args_u.append(last)
    sql = f"(({' AND '.join(timed)}) OR ({' AND '.join(untimed)}))"
    return [sql], args_t + args_u


def list_events(environ) -> tuple[str, bytes]:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    params = {key: values[-1] for key, values in query.items()}
    tz = ZoneInfo(params["tz"]) if params.get("tz") else None
    where, args = days_condition(params, tz)
    if "country" in query:
        where.append("country = ANY(%s)")
        args.append([c.strip().upper() for v in query["country"] for c in v.split(",")])
    if "min_importance" in params:
        where.append("importance >= %s")
        args.append(int(params["min_importance"]))
    if "cursor" in params:
        token = params["cursor"]
        instant, last_id = json.loads(
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        )
        where.append("(scheduled_at, id) > (%s, %s)")
        args += [datetime.fromisoformat(instant), last_id]
    size = int(params.get("page_size", PAGE_SIZE))
    sql = "SELECT document, date, time, scheduled_at, id FROM core_occurrence"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY scheduled_at, id LIMIT %s"
    args.append(size + 1)
    rows = connection().execute(sql, args).fetchall()
    next_link = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        token = base64.urlsafe_b64encode(
            json.dumps([last[3].isoformat(), last[4]]).encode()
        )
        query["cursor"] = [token.decode().rstrip("=")]
        host = environ.get("HTTP_HOST", "localhost")
        next_link = (
            f"http://{host}{environ['PATH_INFO']}?"
            f"{urlencode(sorted(query.items()), doseq=True)}"
        )
    documents = []
    for document, day, clock, instant, _ in rows:
        document = document.encode()
        if tz is not None:
            local = orjson.dumps(local_time(day, clock, instant, tz))
            document = document.replace(b'"local":null', b'"local":' + local, 1)
        documents.append(document)
    return "200 OK", b"".join(
        (
            b'{"next":',
            orjson.dumps(next_link),
            b',"results":[',
            b",".join(documents),
            b"]}",
        )
    )


def figure(row: dict, name: str) -> dict | None:
    if not row[name]:
        return None
    value = row[f"{name}_value"]
    return {
        "text": row[name],
        "value": float(value) if value is not None else None,
        "unit": row[f"{name}_unit"],
    }


def revision(row: tuple) -> dict:
    field, old, new, changed_at, run = row
    return {
        "field": field,
        "old_value": old,
        "new_value": new,
        "changed_at": iso(changed_at),
        "run": run,
    }


def member_json(row: dict, release: bool, revisions: list) -> dict:
    """A source's row as the API's detail shows it (core.representation's
    ``source_event_json``, written again on purpose: the yardstick imports nothing of
    the project; the comparison test keeps the two equal)."""
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
        **{name: figure(row, name) for name in FIGURES},
        "outcome": row["source_outcome"] or None,
        "url": row["source_url"],
        "release": release,
        "external_id": row["external_id"],
        "source_event_id": row["source_event_id"],
        "first_seen_at": iso(row["first_seen_at"]),
        "updated_at": iso(row["updated_at"]),
        "revisions": revisions,
    }


def event_detail(pk: int) -> tuple[str, bytes]:
    conn = connection()
    found = conn.execute(
        "SELECT document, sources FROM core_occurrence WHERE id = %s", [pk]
    ).fetchone()
    if found is None:
        return "404 Not Found", b'{"detail":"Not found."}'
    data = orjson.loads(found[0])
    release = {entry["event_id"]: entry["release"] for entry in found[1]}
    cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
    members = cursor.execute(
        f"SELECT {MEMBER_COLUMNS} FROM core_economicevent WHERE id IN "
        "(SELECT event_id FROM core_occurrencemember WHERE occurrence_id = %s) "
        "ORDER BY source, id",
        [pk],
    ).fetchall()
    changes: dict[int, list] = {member["id"]: [] for member in members}
    for row in conn.execute(
        f"SELECT event_id, {REVISION_COLUMNS} FROM core_eventrevision "
        "WHERE event_id = ANY(%s) ORDER BY changed_at, id",
        [list(changes)],
    ):
        changes[row[0]].append(revision(row[1:]))
    data["sources"] = [
        member_json(m, release.get(m["id"], False), changes[m["id"]]) for m in members
    ]
    data["revisions"] = [
        revision(row)
        for row in conn.execute(
            f"SELECT {REVISION_COLUMNS} FROM core_occurrencerevision "
            "WHERE occurrence_id = %s ORDER BY changed_at, id",
            [pk],
        )
    ]
    return "200 OK", orjson.dumps(data)


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/api/events/":
        status, body = list_events(environ)
    elif path.startswith("/api/events/") and path[12:-1].isdigit():
        status, body = event_detail(int(path[12:-1]))
    else:
        status, body = "404 Not Found", b'{"detail":"Not found."}'
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
