"""Keyset ("cursor") pagination: no COUNT(*), stable while rows are added.

The cursor is the sort key of the last row served (opaque to clients, base64 JSON).
The next page is "rows strictly after that key" in the chosen order, ties broken by
id, so a row inserted meanwhile can neither be served twice nor push another row off
a page boundary, and page N costs the same as page 1 (an index range scan).
"""

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

# Sort keys per `ordering`: (queryset expression name, descending?); id is appended.
# The secondary keys of importance/country keep a day's events in time order.
SORT_KEYS: dict[str, tuple[tuple[str, bool], ...]] = {
    "date": (("scheduled_at", False),),
    "-date": (("scheduled_at", True),),
    "importance": (("importance_rank", False), ("scheduled_at", False)),
    "-importance": (("importance_rank", True), ("scheduled_at", False)),
    "country": (("country", False), ("scheduled_at", False)),
    "-country": (("country", True), ("scheduled_at", False)),
    "updated": (("updated_at", False),),
}
_DATETIMES = {"scheduled_at", "updated_at"}


class KeysetPagination:
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

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

    def paginate(
        self, queryset: QuerySet, request: Request, ordering: str, fields: list[str]
    ) -> tuple[list[dict], str | None]:
        """One page of ``queryset.values(*fields)`` rows and the next page's URL."""
        # id breaks ties in the first key's direction, so "-date" can walk the
        # (scheduled_at, id) index backwards.
        keys = (*SORT_KEYS[ordering], ("id", SORT_KEYS[ordering][0][1]))
        size = self.page_size(request)
        if any(name == "importance_rank" for name, _ in keys):
            # Holidays have no importance; rank them lowest so the key is never NULL.
            queryset = queryset.annotate(
                importance_rank=Coalesce("importance", Value(0))
            )
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            queryset = queryset.filter(_after(self._decode(cursor, keys), keys))
        order = [F(name).desc() if desc else F(name).asc() for name, desc in keys]
        names = [name for name, _ in keys if name not in fields]
        rows = list(queryset.order_by(*order).values(*fields, *names)[: size + 1])
        next_url = None
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            token = _encode([last[name] for name, _ in keys])
            next_url = replace_query_param(
                request.build_absolute_uri(), self.cursor_query_param, token
            )
        return rows, next_url

    def _decode(self, token: str, keys: tuple) -> list[Any]:
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

    @staticmethod
    def schema_parameters() -> list[dict]:
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "Opaque position from a previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
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


def _encode(values: list[Any]) -> str:
    plain = [
        value.isoformat() if isinstance(value, datetime) else value for value in values
    ]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _after(values: list[Any], keys: tuple) -> Q:
    """Rows strictly after ``values`` in the order ``keys``: the lexicographic
    (a > x) OR (a = x AND b > y) OR (a = x AND b = y AND id > z)."""
    condition = Q()
    equal = Q()
    for (name, desc), value in zip(keys, values, strict=True):
        step = Q(**{f"{name}__lt" if desc else f"{name}__gt": value})
        condition |= equal & step
        equal &= Q(**{name: value})
    return condition
