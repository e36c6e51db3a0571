"""Pagination of the list endpoints: keyset pages for JSON, one capped list for exports.

``KeysetPagination``: no COUNT(*), stable while rows are added. The cursor is the sort
key of the last row served (opaque to clients, base64 JSON). The next page is "rows
strictly after that key" in the chosen order, ties broken by id, so a row inserted
meanwhile can neither be served twice nor push another row off a page boundary, and
page N costs the same as page 1 (an index range scan).

``ExportPagination``: a CSV download or an iCalendar feed is every matching row, in
time order, up to ``API_EXPORT_MAX_ROWS``.

Both read the rows as ``.values(*view.columns)`` dicts (the one representation of
core.representation is built from those), the sort order from ``view.sort_keys()``.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.db import connections
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from calendar_api import feeds
from core.representation import DOCUMENT_COLUMNS, document_with_local

# (queryset expression, descending?) per sort key; the view says which apply.
SortKeys = Sequence[tuple[str, bool]]
# Sort keys per `ordering` of the calendar lists; id is appended. The secondary keys
# of importance/country keep a day's releases in time order.
ORDERINGS: dict[str, SortKeys] = {
    "date": (("scheduled_at", False),),
    "-date": (("scheduled_at", True),),
    "importance": (("importance_rank", False), ("scheduled_at", False)),
    "-importance": (("importance_rank", True), ("scheduled_at", False)),
    "country": (("country", False), ("scheduled_at", False)),
    "-country": (("country", True), ("scheduled_at", False)),
    "updated": (("updated_at", False),),
}
_DATETIMES = {"scheduled_at", "updated_at"}


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view=None
    ) -> list[dict]:
        """One page of ``queryset.values(*view.columns)`` rows, in ``view.sort_keys()``."""
        self.request = request
        keys = self.keys(view)
        size = self.page_size(request)
        fields = view.columns
        extra = [name for name, _ in keys if name not in fields]
        queryset = self._ordered(queryset, request, keys)
        rows = list(queryset.values(*fields, *extra)[: size + 1])
        self.next_token = None
        if len(rows) > size:
            rows = rows[:size]
            self.next_token = _encode([rows[-1][name] for name, _ in keys])
        return rows

    def paginate_documents(
        self,
        queryset: QuerySet,
        request: Request,
        view,
        version: tuple[str, str],
        tz: ZoneInfo | None = None,
    ) -> tuple[datetime | None, orjson.Fragment]:
        """PostgreSQL: the data version and the page's stored documents in one
        statement.

        The same page as ``paginate_queryset`` (the same ORM query, wrapped): its rows
        are numbered in the sort order, the first ``size`` are aggregated, and only
        the last one's sort keys come back (for the ``next`` cursor), so the version
        costs no round trip of its own. Without ``tz`` PostgreSQL joins the documents
        into one JSON array and no row becomes Python objects; with a ``tz`` each
        document comes back with its date, time and instant, and ``local`` is filled
        here (``core.representation.document_with_local``, as on the row-by-row path).
        ``version`` is the quoted table and column whose maximum is the version.
        """
        self.request = request
        keys = self.keys(view)
        size = self.page_size(request)
        page = self._ordered(queryset, request, keys)
        names = [name for name, _ in keys]
        read = DOCUMENT_COLUMNS if tz is not None else ("document",)
        page = page.values(*dict.fromkeys((*read, *names)))[: size + 1]
        connection = connections[page.db]
        # The ORM's SQL for the page: values travel as its bound parameters.
        compiled, params = page.query.sql_with_params()
        quote = connection.ops.quote_name
        table, column = version
        columns = ", ".join(quote(name) for name in names)
        order = ", ".join(
            f"{quote(name)} {'DESC' if desc else 'ASC'}" for name, desc in keys
        )
        stored, on_page = f"n.{quote('document')}", "FILTER (WHERE n._n <= %s)"
        if tz is None:
            pages = [f"string_agg({stored}, ',' ORDER BY n._n) {on_page}"]
        else:
            # Date, time and instant as JSON text: ISO strings that C parses (the
            # driver's own timestamptz loader is Python, per value).
            when = ", ".join(f"n.{quote(name)}" for name in read[1:])
            pages = [
                f"array_agg({stored} ORDER BY n._n) {on_page}",
                f"(json_agg(json_build_array({when}) ORDER BY n._n) {on_page})::text",
            ]
        aggregates = ", ".join(pages)  # quoted columns; the page size is bound
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT MAX({column}) FROM {table}), count(*), "
                f"max(json_build_array({columns})::text) FILTER (WHERE n._n = %s), "
                f"{aggregates} "
                f"FROM (SELECT p.*, row_number() OVER (ORDER BY {order}) AS _n "
                f"FROM ({compiled}) p) n",
                (size, *[size] * len(pages), *params),
            )
            version, count, last, *aggregated = cursor.fetchone()
        self.next_token = None
        if count > size:
            values = json.loads(last)
            self.next_token = _encode(
                [
                    datetime.fromisoformat(value) if name in _DATETIMES else value
                    for name, value in zip(names, values, strict=True)
                ]
            )
        if tz is None:
            documents = (aggregated[0] or "").encode()
        else:
            texts, when = aggregated
            documents = b",".join(
                document_with_local(document.encode(), _when(day, clock, instant), tz)
                for document, (day, clock, instant) in zip(
                    texts or (), orjson.loads(when or "[]"), strict=True
                )
            )
        return version, orjson.Fragment(b"[" + documents + b"]")

    def _ordered(self, queryset: QuerySet, request: Request, keys: SortKeys):
        """``queryset`` after the request's cursor, in the order ``keys``."""
        if any(name == "importance_rank" for name, _ in keys):
            # Holidays have no importance; rank them lowest so the key is never NULL.
            queryset = queryset.annotate(
                importance_rank=Coalesce("importance", Value(0))
            )
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            queryset = queryset.filter(_after(self._decode(cursor, keys), keys))
        order = [F(name).desc() if desc else F(name).asc() for name, desc in keys]
        return queryset.order_by(*order)

    @staticmethod
    def keys(view) -> SortKeys:
        # id breaks ties in the first key's direction, so "-date" can walk the
        # (scheduled_at, id) index backwards.
        keys = tuple(view.sort_keys())
        if keys[-1][0] == "id":
            return keys
        return (*keys, ("id", keys[0][1]))

    def get_next_link(self) -> str | None:
        if self.next_token is None:
            return None
        return replace_query_param(
            self.request.build_absolute_uri(), self.cursor_query_param, self.next_token
        )

    def get_paginated_response(self, data: list) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page, or null on the last one.",
                },
                "results": schema,
            },
        }

    def page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return settings.API_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError(
                {"page_size": ["A whole number is required."]}
            ) from None
        if not 1 <= size <= settings.API_MAX_PAGE_SIZE:
            raise ValidationError(
                {"page_size": [f"Between 1 and {settings.API_MAX_PAGE_SIZE}."]}
            )
        return size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1-{settings.API_MAX_PAGE_SIZE} "
                f"(default {settings.API_PAGE_SIZE}).",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": settings.API_MAX_PAGE_SIZE,
                },
            },
        ]

    def _decode(self, token: str, keys: SortKeys) -> list[Any]:
        try:
            padded = token + "=" * (-len(token) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(values, list) or len(values) != len(keys):
                raise ValueError("wrong shape")
            return [
                datetime.fromisoformat(value) if name in _DATETIMES else value
                for (name, _), value in zip(keys, values, strict=True)
            ]
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise ValidationError(
                {"cursor": ["Invalid cursor: use the `next` link of a previous page."]}
            ) from None


class ExportPagination(BasePagination):
    """Every matching row in time order, up to API_EXPORT_MAX_ROWS.

    Past the cap a CSV is a 400 (a spreadsheet would silently miss rows); a feed is
    cut to the cap with a note in its description (a calendar app cannot show an
    error). The response carries the feed's description (calendar_api.feeds) and a
    download file name.
    """

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view=None
    ) -> list[dict]:
        cap = settings.API_EXPORT_MAX_ROWS
        order = [
            F(name).desc() if desc else F(name).asc()
            for name, desc in KeysetPagination.keys(view)
        ]
        rows = list(queryset.order_by(*order).values(*view.columns)[: cap + 1])
        self.truncated = len(rows) > cap
        self.format = request.accepted_renderer.format
        if self.truncated and self.format == "csv":
            raise ValidationError(
                {
                    "date_from": [
                        f"More than {cap} rows match; narrow date_from/date_to."
                    ]
                }
            )
        self.feed = feeds.describe(
            view.params,
            raw_days={
                name: view.query.get(name, "").strip() for name in feeds.DAY_FIELDS
            },
            rolling=view.rolling,
            truncated_at=cap if self.truncated else None,
        )
        return rows[:cap]

    def get_paginated_response(self, data: list) -> Response:
        response = Response({"results": data, "feed": self.feed})
        response["Content-Disposition"] = attachment(self.feed.filename, self.format)
        if self.truncated:
            response["X-Truncated"] = (
                f"first {settings.API_EXPORT_MAX_ROWS} rows of more"
            )
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {"type": "string"}


def attachment(filename: str, extension: str) -> str:
    return f'attachment; filename="{filename}.{extension}"'


def _when(day: str, clock: str | None, instant: str) -> dict:
    """An occurrence's date, time and instant (``core.representation.local_time``)
    from PostgreSQL's JSON of them."""
    return {
        "date": date.fromisoformat(day),
        "time": time.fromisoformat(clock) if clock is not None else None,
        "scheduled_at": datetime.fromisoformat(instant),
    }


def _encode(values: list[Any]) -> str:
    plain = [
        value.isoformat() if isinstance(value, datetime) else value for value in values
    ]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _after(values: list[Any], keys: SortKeys) -> Q:
    """Rows strictly after ``values`` in the order ``keys``: the lexicographic
    (a > x) OR (a = x AND b > y) OR (a = x AND b = y AND id > z)."""
    condition = Q()
    equal = Q()
    for (name, desc), value in zip(keys, values, strict=True):
        step = Q(**{f"{name}__lt" if desc else f"{name}__gt": value})
        condition |= equal & step
        equal &= Q(**{name: value})
    return condition
