"""A minimal WSGI server answering the API's event queries with psycopg + orjson only.

The yardstick for bench/bench_api.py: the same SQL shape (filters, ORDER BY
scheduled_at, id, LIMIT page_size+1), the same JSON per row, none of Django/DRF.
Run it like the API: ``gunicorn -w 2 -k sync bench.reference_server:app``
with DATABASE_URL set. Supports country, date, date_from, date_to, min_importance,
page_size, and /api/events/<id>/ (with revisions).
"""

import base64
import os
from datetime import datetime
from urllib.parse import parse_qs

import orjson
import psycopg

DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/dipcal_api_bench"
).replace("postgres://", "postgresql://", 1)

COLUMNS = (
    "id, source, external_id, source_event_id, event_name, reference_period, category, "
    "kind, country, currency, date, time, time_precision, scheduled_at, importance, "
    "status, actual, actual_value, actual_unit, forecast, forecast_value, forecast_unit, "
    "previous, previous_value, previous_unit, revised_previous, revised_previous_value, "
    "revised_previous_unit, source_url, first_seen_at, updated_at"
)
FIGURES = ("actual", "forecast", "previous", "revised_previous")

_connection = None


def connection():
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(DATABASE_URL, autocommit=True)
    return _connection


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def row_to_dict(row) -> dict:
    """The same JSON, key for key, as calendar_api.serializers.event_json (no tz)."""
    (
        id_, source, external_id, source_event_id, name, period, category, kind,
        country, currency, day, clock, precision, scheduled_at, importance, status, *rest,
    ) = row  # fmt: skip
    data = {
        "id": id_,
        "source": source,
        "external_id": external_id,
        "source_event_id": source_event_id,
        "event_name": name,
        "reference_period": period,
        "category": category,
        "kind": kind,
        "country": country,
        "currency": currency,
        "date": day.isoformat(),
        "time": clock.isoformat() if clock is not None else None,
        "datetime": iso(scheduled_at) if clock is not None else None,
        "time_precision": precision,
        "local": None,
        "importance": importance,
        "status": status,
    }
    for index, figure in enumerate(FIGURES):
        text, value, unit = rest[index * 3 : index * 3 + 3]
        data[figure] = (
            {
                "text": text,
                "value": float(value) if value is not None else None,
                "unit": unit,
            }
            if text
            else None
        )
    data["source_url"] = rest[12]
    data["first_seen_at"] = iso(rest[13])
    data["updated_at"] = iso(rest[14])
    return data


def list_events(environ) -> tuple[str, bytes]:
    params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    where, args = [], []
    if "country" in params:
        where.append("country = ANY(%s)")
        args.append([c.strip().upper() for c in params["country"].split(",")])
    if "date" in params:
        where.append("date = %s")
        args.append(params["date"])
    if "date_from" in params:
        where.append("date >= %s")
        args.append(params["date_from"])
    if "date_to" in params:
        where.append("date <= %s")
        args.append(params["date_to"])
    if "min_importance" in params:
        where.append("importance >= %s")
        args.append(int(params["min_importance"]))
    size = int(params.get("page_size", 100))
    sql = f"SELECT {COLUMNS} FROM core_economicevent"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY scheduled_at, id LIMIT %s"
    args.append(size + 1)
    rows = connection().execute(sql, args).fetchall()
    next_link = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        cursor = orjson.dumps([last[13].isoformat(), last[0]])
        token = base64.urlsafe_b64encode(cursor).decode().rstrip("=")
        host = environ.get("HTTP_HOST", "localhost")
        next_link = f"http://{host}{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}&cursor={token}"
    return "200 OK", orjson.dumps(
        {"next": next_link, "results": [row_to_dict(row) for row in rows]}
    )


def event_detail(event_id: int) -> tuple[str, bytes]:
    conn = connection()
    row = conn.execute(
        f"SELECT {COLUMNS} FROM core_economicevent WHERE id = %s", [event_id]
    ).fetchone()
    if row is None:
        return "404 Not Found", b'{"detail":"Not found."}'
    data = row_to_dict(row)
    data["revisions"] = [
        {
            "field": field,
            "old_value": old,
            "new_value": new,
            "changed_at": iso(changed),
            "run": run,
        }
        for field, old, new, changed, run in conn.execute(
            "SELECT field, old_value, new_value, changed_at, run_id "
            "FROM core_eventrevision WHERE event_id = %s ORDER BY changed_at, id",
            [event_id],
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
