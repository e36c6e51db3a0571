"""An occurrence in full, for /api/events/{id}/: its stored document, each member row
with its change log, and its own change log.

Two ways of reading the same row, chosen by the view:

- ``occurrence_detail(pk)``: four ORM queries, on any database.
- ``DETAIL_STATEMENT.read(pk)`` on PostgreSQL: the data version and the whole detail in
  one statement, the member rows and change logs as JSON built by PostgreSQL. The
  statement is the ORM's own SQL for that query, compiled once per database and run
  again with each id (compiling it cost more than running it), so no SQL is written
  here by hand.

Both hand ``core.representation.occurrence_detail_json`` the same row: ``document``,
``date``, ``time``, ``scheduled_at``, ``members`` (``SOURCE_COLUMNS`` plus
``revisions``) and ``revisions`` (``REVISION_COLUMNS``), with the ORM's Python types;
a test holds the two equal on every occurrence of the sample data.
"""

import threading
from collections import defaultdict
from datetime import date, datetime, time
from typing import Any

import orjson
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, models, router
from django.db.models import OuterRef, QuerySet
from django.db.models.functions import JSONObject

from calendar_api.views.common import version_source
from core.models import EconomicEvent, EventRevision, Occurrence, OccurrenceRevision
from core.representation import DOCUMENT_COLUMNS, REVISION_COLUMNS, SOURCE_COLUMNS


def occurrence_detail(pk: int) -> dict | None:
    """The detail row of occurrence ``pk`` through the ORM (any database), or None."""
    row = Occurrence.objects.filter(pk=pk).order_by().values(*DOCUMENT_COLUMNS).first()
    if row is None:
        return None
    members = list(
        EconomicEvent.objects.filter(memberships__occurrence_id=pk)
        .order_by("source", "id")
        .values(*SOURCE_COLUMNS)
    )
    changes = defaultdict(list)
    for revision in (
        EventRevision.objects.filter(event_id__in=[m["id"] for m in members])
        .order_by("changed_at", "id")
        .values("event_id", *REVISION_COLUMNS)
    ):
        changes[revision.pop("event_id")].append(revision)
    for member in members:
        member["revisions"] = changes[member["id"]]
    row["members"] = members
    row["revisions"] = list(
        OccurrenceRevision.objects.filter(occurrence_id=pk)
        .order_by("changed_at", "id")
        .values(*REVISION_COLUMNS)
    )
    return row


def _as_json(queryset: QuerySet, columns: tuple[str, ...], **more) -> ArraySubquery:
    """The rows of ``queryset`` as an array of JSON objects of ``columns``."""
    fields = {name: name for name in columns}
    return ArraySubquery(queryset.values(json=JSONObject(**fields, **more)))


def _revisions(queryset: QuerySet) -> ArraySubquery:
    return _as_json(queryset.order_by("changed_at", "id"), REVISION_COLUMNS)


class DetailStatement:
    """The data version and the detail row of one occurrence, in one statement.

    ``read(pk)`` runs, on the database the ORM reads occurrences from (the request's
    replica, if it has one), the ORM's SQL for the occurrence's document with two
    array subqueries (members with their change logs, the occurrence's own log) inside
    a select that also reads the data version. Compiled once per database alias with a
    placeholder id, whose position among the parameters is replaced on each call.
    """

    PLACEHOLDER = -(2**62)  # an id no occurrence has, to find among the parameters

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[str, list[Any], int]] = {}
        self._lock = threading.Lock()

    def queryset(self, pk: int) -> QuerySet:
        members = EconomicEvent.objects.filter(
            memberships__occurrence_id=OuterRef("pk")
        ).order_by("source", "id")
        return (
            Occurrence.objects.filter(pk=pk)
            .order_by()
            .values(
                *DOCUMENT_COLUMNS,
                member_rows=_as_json(
                    members,
                    SOURCE_COLUMNS,
                    revisions=_revisions(
                        EventRevision.objects.filter(event_id=OuterRef("id"))
                    ),
                ),
                revision_rows=_revisions(
                    OccurrenceRevision.objects.filter(occurrence_id=OuterRef("pk"))
                ),
            )
        )

    def _compile(self, alias: str) -> tuple[str, list[Any], int]:
        """The ORM's SQL for ``queryset``, its parameters and the id's position."""
        compiled = self._compiled.get(alias)
        if compiled is None:
            queryset = self.queryset(self.PLACEHOLDER).using(alias)
            sql, params = queryset.query.sql_with_params()
            slots = [i for i, value in enumerate(params) if value == self.PLACEHOLDER]
            if len(slots) != 1:
                raise RuntimeError(f"the detail statement has {len(slots)} id slots")
            compiled = (sql, list(params), slots[0])
            with self._lock:
                self._compiled[alias] = compiled
        return compiled

    def read(self, pk: int) -> tuple[datetime | None, dict] | None:
        """(data version, detail row) of occurrence ``pk``, or None without one."""
        alias = router.db_for_read(Occurrence)
        compiled, params, slot = self._compile(alias)
        params = list(params)
        params[slot] = pk
        connection = connections[alias]
        table, column = version_source(connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT MAX({column}) FROM {table}), d.* FROM ({compiled}) d",
                params,
            )
            found = cursor.fetchone()
        if found is None:
            return None
        version, *document, members, revisions = found
        row = dict(zip(DOCUMENT_COLUMNS, document, strict=True))
        row["members"] = [_member(orjson.loads(member)) for member in members]
        row["revisions"] = [_revision(orjson.loads(item)) for item in revisions]
        return version, row


def available(alias: str | None = None) -> bool:
    """Whether the one-statement detail can run where occurrences are read."""
    alias = alias or router.db_for_read(Occurrence)
    return connections[alias].vendor == "postgresql"


# JSON built by PostgreSQL back to the ORM's Python types: dates, times and instants
# are ISO strings in JSON; numbers are JSON numbers (the representation turns a
# figure's value into a float either way).
def _parsers(model: type[models.Model], names: tuple[str, ...]) -> list[tuple]:
    parsers = []
    for name in names:
        field = model._meta.get_field(name)
        if isinstance(field, models.DateTimeField):  # before DateField: a subclass
            parsers.append((name, datetime.fromisoformat))
        elif isinstance(field, models.DateField):
            parsers.append((name, date.fromisoformat))
        elif isinstance(field, models.TimeField):
            parsers.append((name, time.fromisoformat))
    return parsers


_MEMBER_PARSERS = _parsers(EconomicEvent, SOURCE_COLUMNS)
_REVISION_PARSERS = _parsers(EventRevision, REVISION_COLUMNS)


def _typed(row: dict, parsers: list[tuple]) -> dict:
    for name, parse in parsers:
        if row[name] is not None:
            row[name] = parse(row[name])
    return row


def _revision(row: dict) -> dict:
    return _typed(row, _REVISION_PARSERS)


def _member(row: dict) -> dict:
    row["revisions"] = [_revision(item) for item in row["revisions"]]
    return _typed(row, _MEMBER_PARSERS)


DETAIL_STATEMENT = DetailStatement()
