"""Writing many rows at once, faster than the ORM's per-object machinery.

``write_rows(model, fields, rows, conflict=...)`` inserts tuples of field values; with
``conflict`` (the fields of a unique constraint, or ``("id",)``) a row that clashes
overwrites the stored one instead, which is how existing rows are updated in bulk.

Plain SQL rather than ``bulk_create``/``bulk_update``: preparing a model instance and
every field per row cost more than the database work (docs/benchmarks.md), and
``bulk_update`` builds a ``CASE`` per field and row. On PostgreSQL the rows go in with
COPY, the fastest path by far; an upsert COPYs into a temporary table and merges with
one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``. Elsewhere (SQLite >= 3.24) one
``executemany`` of the same INSERT, values passed through Django's adapters so they read
back as if the ORM wrote them. JSON fields are passed as their JSON text.
"""

from collections.abc import Sequence

import orjson
from django.db import connection
from django.db.models import Model


def dumps_text(value: object) -> str:
    """A JSON field's stored text."""
    return orjson.dumps(value).decode()


def write_rows(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[tuple],
    *,
    conflict: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (tuples in ``fields`` order) into ``model``'s table.

    With ``conflict``, rows clashing on those fields overwrite every column but the
    conflict fields and ``keep`` (columns a stored row keeps, such as first_seen_at).
    """
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = [meta.get_field(name).column for name in fields]
    columns = ", ".join(quote(column) for column in names)
    on_conflict = _on_conflict(model, names, conflict, keep)
    adapters = _adapters(model, fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, table, columns, rows, adapters, on_conflict)
            return
        values = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({values}){on_conflict}",
            [_adapt(row, adapters) for row in rows],
        )


def _on_conflict(
    model: type[Model], names: list[str], conflict: Sequence[str], keep: Sequence[str]
) -> str:
    """`` ON CONFLICT (...) DO UPDATE SET ...`` for an upsert, or an empty string."""
    if not conflict:
        return ""
    meta = model._meta
    quote = connection.ops.quote_name
    fixed = {meta.get_field(name).column for name in (*conflict, *keep)}
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}"
        for column in names
        if column not in fixed
    )
    target = ", ".join(quote(meta.get_field(name).column) for name in conflict)
    return f" ON CONFLICT ({target}) DO UPDATE SET {updates}"


def _copy(cursor, table: str, columns: str, rows, adapters, on_conflict: str) -> None:
    quote = connection.ops.quote_name
    target = table
    if on_conflict:
        target = quote("bulk_upsert")
        # Only the written columns: no id default, no constraints to trip over.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
    json_only = [adapt if adapt is dumps_text else None for adapt in adapters]
    with cursor.cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        if any(json_only):
            rows = (_adapt(row, json_only) for row in rows)
        for row in rows:
            copy.write_row(row)
    if on_conflict:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {target}{on_conflict}"
        )
        cursor.execute(f"DROP TABLE {target}")


def _adapt(row: tuple, adapters: list) -> tuple:
    if not any(adapters):
        return row
    return tuple(
        adapt(value) if adapt and value is not None else value
        for adapt, value in zip(adapters, row, strict=True)
    )


def _adapters(model: type[Model], fields: Sequence[str]) -> list:
    """Per field, the adapter to its stored form (None: the driver's own)."""
    ops = connection.ops
    by_type = {"JSONField": dumps_text}
    if connection.vendor != "postgresql":
        by_type |= {
            "DateField": ops.adapt_datefield_value,
            "TimeField": ops.adapt_timefield_value,
            "DateTimeField": ops.adapt_datetimefield_value,
        }
    adapters = []
    for name in fields:
        field = model._meta.get_field(name)
        kind = field.get_internal_type()
        if kind == "DecimalField" and connection.vendor != "postgresql":
            adapters.append(
                lambda value, f=field: ops.adapt_decimalfield_value(
                    value, f.max_digits, f.decimal_places
                )
            )
        else:
            adapters.append(by_type.get(kind))
    return adapters
