"""An indicator's history as it was known at an instant: ``history_as_of``.

"What did the calendar say about US payrolls on 2016-06-10?": the first print of May
(38K, out on 3 June), the forecast for June, previous as shown then, and no revision
that came later. The answer is rebuilt from the source rows of each occurrence and
their change log (``EventRevision``), not from the occurrence as stored now:

* a row counts if we had seen it by then (``first_seen_at``), or, for an agency's row
  (a source that keeps first prints), if its release was out by then: its first print
  is what the agency published that day, even when it was backfilled later;
* each counted row's fields are rolled back through its revisions made after the
  instant, newest first (so a backfill from ALFRED, whose revisions carry their
  vintage dates, answers with the figures of each vintage);
* the occurrence's figures are then chosen as consolidation chooses them
  (``ingestion.consolidation``): each from the counted row of the best figure
  precedence that has it (the agencies first), the time from the best timed row.

An agency's current values stored without a first print (a backfill without ALFRED)
carry a revision dated when we stored them, so they appear only from then on: nothing
is claimed known earlier than it was.
"""

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from core.figures import parse_figure
from core.models import (
    FIGURE_FIELDS,
    EconomicEvent,
    EventRevision,
    EventStatus,
    Occurrence,
    OccurrenceMember,
    TimePrecision,
)
from core.representation import iso
from core.sources import figure_precedence, keeps_first_print, precedence

# Source-row fields a point-in-time answer reads (and rolls back when revised since).
ROW_FIELDS = (
    "id", "source", "first_seen_at", "date", "time", "time_precision",
    "reference_period", "status", *FIGURE_FIELDS,
)  # fmt: skip
ROLLED_BACK = {"date", "time", "time_precision", "reference_period", "status"} | set(
    FIGURE_FIELDS
)


def history_as_of(
    indicator: str,
    as_of: datetime,
    *,
    start: date | None = None,
    end: date | None = None,
) -> list[dict]:
    """The occurrences of ``indicator`` dated ``start``..``end`` (inclusive, either
    open) as known at ``as_of`` (aware), newest first; see the module.

    Each is a plain dict: ``id``, ``indicator``, ``date``, ``time``, ``datetime``
    (UTC ISO 8601, null without a clock time), ``reference_period``, ``status``, the
    figures ``actual``, ``forecast``, ``previous``, ``revised_previous`` and
    ``revised`` (``{"text", "value", "unit"}`` or None), ``actual_source``,
    ``surprise`` (actual - forecast in the same unit, or None) and ``sources`` (the
    slugs of the rows known then). Occurrences nothing was known of are left out.
    Four queries whatever the length. Raises ValueError for a naive ``as_of``.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be an aware datetime")
    occurrences = Occurrence.objects.filter(indicator_id=indicator)
    if start is not None:
        occurrences = occurrences.filter(date__gte=start)
    if end is not None:
        occurrences = occurrences.filter(date__lte=end)
    released = dict(occurrences.values_list("id", "scheduled_at"))
    members: dict[int, list[int]] = defaultdict(list)
    for occurrence_id, event_id in OccurrenceMember.objects.filter(
        occurrence_id__in=list(released)
    ).values_list("occurrence_id", "event_id"):
        members[occurrence_id].append(event_id)
    rows = _rows_as_of([e for ids in members.values() for e in ids], as_of)
    entries = []
    for occurrence_id, event_ids in members.items():
        known = [
            rows[event_id]
            for event_id in event_ids
            if _known(rows[event_id], released[occurrence_id], as_of)
        ]
        if known:
            entries.append(_entry(occurrence_id, indicator, known))
    entries.sort(key=lambda e: (e["date"], e["time"] or "", e["id"]), reverse=True)
    return entries


def _rows_as_of(event_ids: list[int], as_of: datetime) -> dict[int, dict]:
    """The rows ``event_ids`` with every field revised after ``as_of`` rolled back."""
    rows = {
        row["id"]: row
        for row in EconomicEvent.objects.filter(pk__in=event_ids).values(*ROW_FIELDS)
    }
    later = (
        EventRevision.objects.filter(
            event_id__in=event_ids, changed_at__gt=as_of, field__in=ROLLED_BACK
        )
        .order_by("-changed_at", "-id")
        .values_list("event_id", "field", "old_value")
    )
    for event_id, field, old_value in later:
        rows[event_id][field] = _typed(field, old_value)
    return rows


def _typed(field: str, text: str) -> object:
    """A change log's text back to the column's type."""
    if field == "date":
        return date.fromisoformat(text)
    if field == "time":
        return datetime.strptime(text, "%H:%M:%S").time() if text else None  # noqa: DTZ007 - a clock time
    return text


def _known(row: dict, release: datetime, as_of: datetime) -> bool:
    if row["first_seen_at"] <= as_of:
        return True
    # An agency's row says what the agency published at the release.
    return keeps_first_print(row["source"]) and release <= as_of


def _entry(occurrence_id: int, indicator: str, rows: list[dict]) -> dict:
    live = [row for row in rows if row["status"] != EventStatus.CANCELLED] or rows
    live.sort(key=lambda row: (precedence(row["source"]), row["id"]))
    timed = [row for row in live if row["time_precision"] == TimePrecision.EXACT]
    when = (timed or live)[0]
    by_figures = sorted(live, key=lambda row: figure_precedence(row["source"]))
    entry: dict = {
        "id": occurrence_id,
        "indicator": indicator,
        "date": when["date"].isoformat(),
        "time": when["time"].isoformat() if timed else None,
        "datetime": iso(datetime.combine(when["date"], when["time"], tzinfo=UTC))
        if timed
        else None,
        "reference_period": next(
            (row["reference_period"] for row in live if row["reference_period"]), ""
        ),
        "actual_source": None,
        "sources": sorted({row["source"] for row in rows}),
    }
    for name in FIGURE_FIELDS:
        row = next((row for row in by_figures if row[name]), None)
        entry[name] = _figure(row[name]) if row else None
        if name == "actual" and row:
            entry["actual_source"] = row["source"]
    if all(row["status"] == EventStatus.CANCELLED for row in rows):
        entry["status"] = EventStatus.CANCELLED
    else:
        entry["status"] = (
            EventStatus.RELEASED if entry["actual"] else EventStatus.SCHEDULED
        )
    entry["surprise"] = _surprise(entry["actual"], entry["forecast"])
    return entry


def _figure(text: str) -> dict:
    figure = parse_figure(text)
    return {
        "text": text,
        "value": float(figure.value) if figure.value is not None else None,
        "unit": figure.unit,
    }


def _surprise(actual: dict | None, forecast: dict | None) -> float | None:
    if not actual or not forecast or actual["unit"] != forecast["unit"]:
        return None
    if actual["value"] is None or forecast["value"] is None:
        return None
    difference = Decimal(str(actual["value"])) - Decimal(str(forecast["value"]))
    return float(difference)
