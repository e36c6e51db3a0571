"""Everything that writes calendar rows. Only this module does.

``ingest_source(name, ...)`` is what the ``ingest`` command and the scheduler call:

1. An ``IngestionRun`` row is created and committed as "running", so even a crash
   leaves a trace.
2. Payloads are fetched (or read from ``files``) and parsed *before* any write, so a
   slow or failing source never holds a transaction open.
3. One transaction writes the data (``upsert_records``): new rows, changed rows, one
   ``EventRevision`` per changed published field, cancellations inside the windows the
   payloads fully cover; each row gets its indicator (``ingestion.indicators``) and the
   occurrences of every (indicator, day) it touched are recomputed
   (``ingestion.consolidation``). Writers are serialised with an advisory lock on
   PostgreSQL, because occurrences are shared by sources (SQLite's IMMEDIATE
   transactions already serialise writers).
4. The run row gets its counts and "succeeded"; on any error the data transaction is
   rolled back, the run is saved "failed" with the message, and the error re-raised.
"""

import logging
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any

import requests
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from core.figures import parse_figure
from core.models import (
    FIGURE_FIELDS,
    EconomicEvent,
    EventRevision,
    EventStatus,
    IngestionRun,
)
from core.sources import keeps_first_print
from ingestion.bulk import write_rows
from ingestion.consolidation import Group, consolidate
from ingestion.errors import IngestionError
from ingestion.http import build_session
from ingestion.indicators import (
    ROW_KEY_FIELDS,
    IndicatorResolver,
    RowKey,
    sync_catalogue,
)
from ingestion.official.observations import SeriesVintage
from ingestion.official.releases import due_series
from ingestion.recordings import unwrap
from ingestion.records import DateWindow, EventRecord, ParsedPayload, Skip
from ingestion.sources import Source, get_source

logger = logging.getLogger(__name__)

# Published fields compared between a stored row and an incoming record. A change in any
# of them updates the row and writes one EventRevision per field. Derived columns
# (figure values and units, scheduled_at) follow their source field and are not logged.
TRACKED_FIELDS = (
    "event_name",
    "reference_period",
    "category",
    "kind",
    "country",
    "currency",
    "date",
    "time",
    "time_precision",
    "importance",
    "actual",
    "forecast",
    "previous",
    "revised_previous",
    "revised",
    "source_url",
    "source_event_id",
    "source_outcome",
)
_record_values = attrgetter(*TRACKED_FIELDS)
_DATE = TRACKED_FIELDS.index("date")
_ACTUAL = TRACKED_FIELDS.index("actual")
BATCH_SIZE = 2000
# An unchanged row's last_seen_at is refreshed only when it is older than this, so an
# immediate re-crawl of identical data writes nothing at all.
LAST_SEEN_RESOLUTION = timedelta(hours=1)

ProgressCallback = Callable[[int, int], None]


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    revisions: int = 0
    # (indicator, date) groups whose occurrences must be recomputed.
    groups: set[Group] = field(default_factory=set)


@dataclass
class Collected:
    """Everything a run read before writing: records, skips and covered windows."""

    records: list[EventRecord] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    windows: list[DateWindow] = field(default_factory=list)
    series: list[SeriesVintage] = field(default_factory=list)

    def add(self, parsed: ParsedPayload) -> None:
        self.records.extend(parsed.records)
        self.skipped.extend(parsed.skipped)
        self.series.extend(parsed.series)
        if parsed.window is not None:
            self.windows.append(parsed.window)


def ingest_source(name: str, **options: Any) -> IngestionRun:
    """Crawl (or replay ``files`` of) the source named ``name``: ``run_ingest`` of the
    registered source, with the same keyword options; see the module docstring.

    Returns the finished IngestionRun. Raises IngestionError (the run row is saved as
    failed first) and KeyError for an unknown source name.
    """
    return run_ingest(get_source(name), **options)


def ingest_due(
    name: str, day: date, *, trigger: str = IngestionRun.Trigger.CLI
) -> IngestionRun | None:
    """Run the agency source ``name`` over ``day`` when a release of that day is due
    and lacks its figure (``official.releases.due_series``); otherwise do nothing, not
    even log a run: a follow-up attempt after the figure came in costs nothing."""
    source = get_source(name)
    window = DateWindow(day, day)
    agency = getattr(source, "agency", "")
    if not agency or not due_series(agency, window, now=timezone.now()):
        return None
    return run_ingest(source, window=window, trigger=trigger)


def run_ingest(
    source: Source,
    *,
    window: DateWindow | None = None,
    trigger: str = IngestionRun.Trigger.CLI,
    files: Sequence[str | Path] | None = None,
    series: str = "",
    http: requests.Session | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestionRun:
    """Crawl ``source`` over ``window`` (default: its own refresh window) or replay
    ``files`` (``series`` names the series of bodies that do not: FRED observations);
    ``ingest_source`` by name. Tests pass doubles here, unregistered."""
    if files is None and window is None:
        window = source.default_window(timezone.now().date())
    run = IngestionRun.objects.create(
        source=source.name,
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        trigger=trigger,
        started_at=timezone.now(),
    )
    logger.info("ingest start source=%s run=%s window=%s", source.name, run.pk, window)
    try:
        collected = _collect(
            source,
            window=window,
            files=files,
            series=series,
            http=http,
            progress=progress,
        )
        with transaction.atomic():
            lock_writers()
            collected.records, late = source.finish(
                collected.records, collected.series, now=timezone.now()
            )
            collected.skipped += late
            _log_skips(source, run, collected.skipped)
            result = upsert_records(
                source=source.name,
                records=collected.records,
                windows=collected.windows,
                run=run,
            )
            if dry_run:
                transaction.set_rollback(True)
    except Exception as exc:
        run.status = IngestionRun.Status.FAILED
        run.error = _describe(source.name, exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.error(
            "ingest failed source=%s run=%s error=%s", source.name, run.pk, run.error
        )
        if isinstance(exc, IngestionError):
            raise
        raise IngestionError(run.error) from exc

    run.fetched = len(collected.records) + len(collected.skipped)
    run.skipped = len(collected.skipped) + (
        len(collected.records) - _unique_count(collected)
    )
    run.created = result.created
    run.updated = result.updated
    run.unchanged = result.unchanged
    run.cancelled = result.cancelled
    run.status = IngestionRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    if dry_run:
        run.error = "dry run: nothing was written"
    run.save()
    logger.info(
        "ingest done source=%s run=%s created=%d updated=%d unchanged=%d cancelled=%d skipped=%d",
        source.name,
        run.pk,
        run.created,
        run.updated,
        run.unchanged,
        run.cancelled,
        run.skipped,
    )
    return run


def _log_skips(source: Source, run: IngestionRun, skipped: list[Skip]) -> None:
    for skip in skipped:
        logger.warning(
            "skipped row source=%s run=%s reason=%s row=%s",
            source.name,
            run.pk,
            skip.reason,
            skip.excerpt[:200],
        )


def _collect(
    source: Source,
    *,
    window: DateWindow | None,
    files: Sequence[str | Path] | None,
    series: str,
    http: requests.Session | None,
    progress: ProgressCallback | None,
) -> Collected:
    collected = Collected()
    if files is not None:
        for index, path in enumerate(files, start=1):
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise IngestionError(
                    f"{source.name}: cannot read {path}: {exc.strerror}"
                ) from exc
            for recorded in unwrap(data, Path(path).name):
                collected.add(
                    source.parse(recorded.body, series=series or recorded.series)
                )
            if progress:
                progress(index, len(files))
        return collected

    assert window is not None
    chunks = window.chunks(source.chunk_days) if source.supports_range else [window]
    session = http or build_session()
    for index, chunk in enumerate(chunks, start=1):
        try:
            for payload in source.fetch(session, chunk):
                collected.add(source.parse(payload.body, series=payload.series))
        except requests.RequestException as exc:
            raise IngestionError(
                f"{source.name}: fetching {chunk} failed: {exc}"
            ) from exc
        if progress:
            progress(index, len(chunks))
    return collected


def _unique_count(collected: Collected) -> int:
    return len({record.external_id for record in collected.records})


def _describe(source: str, exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if text.startswith(f"{source}:") else f"{source}: {text}"


# WRITING
# ------------------------------------------------------------------------------


def upsert_records(
    *,
    source: str,
    records: Iterable[EventRecord],
    windows: Sequence[DateWindow] = (),
    run: IngestionRun | None = None,
    now: datetime | None = None,
) -> UpsertResult:
    """Insert new, update changed, leave unchanged rows alone; cancel what disappeared;
    then recompute the occurrences of what changed.

    Must run inside a transaction (``ingest_source`` opens it). Records with an
    external_id already seen in this call are ignored (the first one wins).
    Returns what was done.
    """
    now = now or timezone.now()
    lock_writers()
    resolver = prepare_indicators(run, now)
    first_prints = keeps_first_print(source)
    incoming: dict[str, EventRecord] = {}
    for record in records:
        incoming.setdefault(record.external_id, record)

    result = UpsertResult()
    to_create: list[tuple] = []
    to_update: list[tuple] = []
    revisions: list[EventRevision] = []
    stale_ids: list[int] = []
    stale_before = now - LAST_SEEN_RESOLUTION

    keys = list(incoming)
    for start in range(0, len(keys), BATCH_SIZE):
        batch = keys[start : start + BATCH_SIZE]
        existing = _existing_rows(source, batch, stale_before)
        for key in batch:
            record = incoming[key]
            row = existing.get(key)
            if row is not None and first_prints:
                record = keep_first_print(record, row[4 + _ACTUAL])
            new_values = _record_values(record)
            status = _status_for(record)
            indicator = resolver.resolve(RowKey.of(source, record))
            if row is None:
                to_create.append(_row_values(source, record, status, indicator, now))
                result.groups.add((indicator, record.date))
                continue
            event_id, old_status, stale, old_indicator = row[:4]
            old_values = row[4:]
            if old_values == new_values and old_status == status:
                result.unchanged += 1
                if stale:
                    stale_ids.append(event_id)
                continue
            to_update.append(_row_values(source, record, status, indicator, now))
            result.groups.add((indicator, record.date))
            result.groups.add((old_indicator, old_values[_DATE]))
            for name, old, new in zip(
                TRACKED_FIELDS, old_values, new_values, strict=True
            ):
                if old != new:
                    when = _revised_at(record, now) if name == "revised" else now
                    revisions.append(_revision(event_id, run, name, old, new, when))
            if old_status != status:
                revisions.append(
                    _revision(event_id, run, "status", old_status, status, now)
                )

    resolver.save_new()
    write_rows(EconomicEvent, _COLUMNS, to_create)
    result.created = len(to_create)
    revisions += _revisions_of_created(source, incoming, to_create, run, now)
    write_rows(
        EconomicEvent,
        _COLUMNS,
        to_update,
        conflict=("source", "external_id"),
        keep=("first_seen_at",),
    )
    result.updated = len(to_update)
    for start in range(0, len(stale_ids), BATCH_SIZE):
        EconomicEvent.objects.filter(
            pk__in=stale_ids[start : start + BATCH_SIZE]
        ).update(last_seen_at=now)

    result.cancelled = _cancel_missing(
        source, windows, incoming, run, now, revisions, result.groups
    )
    EventRevision.objects.bulk_create(revisions, batch_size=BATCH_SIZE)
    result.revisions = len(revisions)
    consolidate(result.groups, run=run, now=now)
    return result


def prepare_indicators(run: IngestionRun | None, now: datetime) -> IndicatorResolver:
    """Bring the catalogue up to date and every stored row matched to it.

    A changed catalogue re-matches every stored row; rows stored before indicators
    existed (an upgraded install) are matched on first sight. Either way the
    occurrences they touch are recomputed.
    """
    changed = sync_catalogue()
    resolver = IndicatorResolver()
    rows = EconomicEvent.objects.all()
    if not changed:
        rows = rows.filter(indicator__isnull=True)
    groups = rematch(rows, resolver)
    if groups:
        consolidate(groups, run=run, now=now)
    return resolver


def rematch(rows, resolver: IndicatorResolver) -> set[Group]:
    """Resolve ``rows`` again; returns the (indicator, date) groups that changed."""
    groups: set[Group] = set()
    columns = ("id", "source", "indicator_id", "date", "external_id", *ROW_KEY_FIELDS)
    changes: dict[str, list[int]] = defaultdict(list)
    for row in rows.values(*columns).iterator(chunk_size=BATCH_SIZE):
        key = RowKey.of(row["source"], row)
        indicator = resolver.resolve(key)
        if indicator != row["indicator_id"]:
            changes[indicator].append(row["id"])
            groups.add((indicator, row["date"]))
            if row["indicator_id"]:
                groups.add((row["indicator_id"], row["date"]))
    resolver.save_new()
    for indicator, ids in changes.items():
        for start in range(0, len(ids), BATCH_SIZE):
            EconomicEvent.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).update(
                indicator_id=indicator
            )
    return groups


def _existing_rows(
    source: str, keys: list[str], stale_before: datetime
) -> dict[str, tuple]:
    """{external_id: (id, status, last_seen_at is stale, indicator, *TRACKED_FIELDS)}.

    On PostgreSQL the keys travel as one array parameter: thousands of ``IN (%s, ...)``
    placeholders cost more to build than the query costs to run. Elsewhere the ORM
    query, whose converters turn SQLite's text back into dates and times.
    """
    if connection.vendor == "postgresql":
        meta = EconomicEvent._meta
        quote = connection.ops.quote_name
        columns = ", ".join(
            quote(meta.get_field(name).column) for name in TRACKED_FIELDS
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, id, status, last_seen_at < %s, indicator_id, {columns} "
                f"FROM {quote(meta.db_table)} WHERE source = %s AND external_id = ANY(%s)",
                [stale_before, source, keys],
            )
            return {row[0]: row[1:] for row in cursor.fetchall()}
    rows = (
        EconomicEvent.objects.filter(source=source, external_id__in=keys)
        .annotate(
            stale=ExpressionWrapper(Q(last_seen_at__lt=stale_before), BooleanField())
        )
        .values_list(
            "external_id", "id", "status", "stale", "indicator_id", *TRACKED_FIELDS
        )
    )
    return {row[0]: row[1:] for row in rows}


def _cancel_missing(
    source: str,
    windows: Sequence[DateWindow],
    incoming: dict[str, EventRecord],
    run: IngestionRun | None,
    now: datetime,
    revisions: list[EventRevision],
    groups: set[Group],
) -> int:
    """Mark cancelled the stored events inside ``windows`` that this run did not list."""
    missing: list[int] = []
    for window in _merge_windows(windows):
        rows = (
            EconomicEvent.objects.filter(
                source=source, date__range=(window.start, window.end)
            )
            .exclude(status=EventStatus.CANCELLED)
            .values_list("id", "external_id", "status", "indicator_id", "date")
        )
        for event_id, key, status, indicator, day in rows.iterator(
            chunk_size=BATCH_SIZE
        ):
            if key not in incoming:
                missing.append(event_id)
                groups.add((indicator, day))
                revisions.append(
                    _revision(
                        event_id, run, "status", status, EventStatus.CANCELLED, now
                    )
                )
    for start in range(0, len(missing), BATCH_SIZE):
        EconomicEvent.objects.filter(pk__in=missing[start : start + BATCH_SIZE]).update(
            status=EventStatus.CANCELLED, updated_at=now
        )
    return len(missing)


def _merge_windows(windows: Sequence[DateWindow]) -> list[DateWindow]:
    merged: list[DateWindow] = []
    for window in sorted(windows, key=attrgetter("start")):
        if merged and window.start <= merged[-1].end + timedelta(days=1):
            last = merged[-1]
            merged[-1] = DateWindow(last.start, max(last.end, window.end))
        else:
            merged.append(window)
    return merged


def _status_for(record: EventRecord) -> str:
    released = record.actual or record.revised
    return EventStatus.RELEASED if released else EventStatus.SCHEDULED


def keep_first_print(record: EventRecord, first_print: str) -> EventRecord:
    """``record`` with the stored first print ``first_print`` kept.

    An agency's figure, once printed, is never overwritten: a different figure arriving
    later (as ``actual``, or as ``revised``) becomes the row's ``revised`` value, and a
    figure equal to the first print again clears it.
    """
    if not first_print or record.actual == first_print:
        return record
    current = record.revised or record.actual
    if not current:
        return replace(record, actual=first_print)
    if current == first_print:
        return replace(record, actual=first_print, revised="", revised_history=())
    history = record.revised_history if current == record.revised else ()
    return replace(record, actual=first_print, revised=current, revised_history=history)


def _revised_at(record: EventRecord, now: datetime) -> datetime:
    """When ``record.revised`` became current: its vintage date, else ``now``."""
    if record.revised_history and record.revised_history[-1][1] == record.revised:
        return record.revised_history[-1][0]
    return now


def _revisions_of_created(
    source: str,
    incoming: dict[str, EventRecord],
    created: list[tuple],
    run: IngestionRun | None,
    now: datetime,
) -> list[EventRevision]:
    """Change-log entries of new rows that arrive already revised.

    Creating a row logs nothing, except a ``revised`` figure: it is logged with the
    vintage dates it went through (or the run's time when they are unknown), so that a
    point-in-time query does not show a revision before it was made.
    """
    keys = [row[1] for row in created if incoming[row[1]].revised]
    if not keys:
        return []
    ids = dict(
        EconomicEvent.objects.filter(source=source, external_id__in=keys).values_list(
            "external_id", "id"
        )
    )
    revisions = []
    for key in keys:
        record = incoming[key]
        steps = record.revised_history or ((now, record.revised),)
        before = ""
        for when, value in steps:
            revisions.append(_revision(ids[key], run, "revised", before, value, when))
            before = value
    return revisions


# Every column of a row, in the order _row_values builds them.
_COLUMNS = [
    "source",
    "external_id",
    "indicator",
    *TRACKED_FIELDS,
    *(f"{name}_{part}" for name in FIGURE_FIELDS for part in ("value", "unit")),
    "scheduled_at",
    "status",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
]


def _row_values(
    source: str, record: EventRecord, status: str, indicator: str, now: datetime
) -> tuple:
    """One row as a tuple in _COLUMNS order, derived columns computed here only."""
    figures: list[object] = []
    for name in FIGURE_FIELDS:
        figure = parse_figure(getattr(record, name))
        figures += (figure.value, figure.unit)
    return (
        source,
        record.external_id,
        indicator,
        *_record_values(record),
        *figures,
        record.scheduled_at,
        status,
        now,  # first_seen_at: kept by an existing row (not in the UPDATE SET)
        now,
        now,
    )


def _revision(
    event_id: int,
    run: IngestionRun | None,
    name: str,
    old: object,
    new: object,
    now: datetime,
) -> EventRevision:
    return EventRevision(
        event_id=event_id,
        run=run,
        field=name,
        old_value=_as_text(old),
        new_value=_as_text(new),
        changed_at=now,
    )


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def lock_writers() -> None:
    """Serialise writers until the transaction ends (PostgreSQL).

    Two runs of the same payload at once would otherwise both see "no row yet" and
    both count it as created; and runs of different sources meet in the occurrences
    they share. With the lock, each run sees the previous one's rows.
    """
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(b"dipping-calendar:ingest")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    except DatabaseError as exc:  # pragma: no cover - surfaced as a failed run
        raise IngestionError(f"could not lock the calendar for writing: {exc}") from exc
