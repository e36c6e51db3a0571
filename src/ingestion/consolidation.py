"""Source rows -> occurrences: one row per release across sources.

``consolidate(groups)`` recomputes the occurrences of the given (indicator, UTC date)
groups from the source rows in them, inside the caller's transaction, and writes only
what changed (with a change-log row per changed consolidated field). It is
deterministic: the same source rows always give the same occurrences, whatever order
they arrived in. The rules (docs/data-model.md, "Occurrences"):

Matching
  Rows join one occurrence when they have the same indicator and the same UTC date and
  - both have a clock time within ``TIME_TOLERANCE`` of each other, or
  - one has no clock time (tentative, date only);
  and never two rows of one source (two speeches of one person on one day are two
  occurrences). Rows are taken in precedence order, then by time; each joins the first
  occurrence it fits.

Release-level rows
  A row whose indicator announces others (FRED's "Employment Situation") attaches to
  the occurrences of those indicators on its date; when there are none, it is an
  occurrence of its own.

Precedence
  Each consolidated field comes from the member with the highest precedence (the
  lowest ``Source.precedence``) that has a value for it: the time from a member with an
  exact time when there is one. Each figure (actual, forecast, previous, revised
  previous, revised) separately, by ``Source.figure_precedence`` instead: the agencies
  (``bls``, ``ecb``: 1; ``fred``'s series: 5) before any calendar, so the agency's own
  figure wins and ``actual_source`` names it. Cancelled members count only when every
  member is cancelled.

Identity
  An occurrence keeps its id while its members change: each new grouping takes over the
  stored occurrence that shares most of its rows (then: on the same date, lower id).
  An occurrence left without rows is deleted.
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter

from django.db import connection
from django.db.models import Q

from core.models import (
    FIGURE_FIELDS,
    EconomicEvent,
    EventStatus,
    Indicator,
    IngestionRun,
    Occurrence,
    OccurrenceMember,
    OccurrenceRevision,
    Outcome,
    TimePrecision,
)
from core.representation import (
    OCCURRENCE_COLUMNS,
    occurrence_document,
    source_entry,
)
from ingestion.bulk import write_rows
from ingestion.indicators import announced_by
from ingestion.sources import figure_precedence, source_precedence

TIME_TOLERANCE = timedelta(minutes=30)
SURPRISE_WINDOW = 24  # surprises the z-score's standard deviation is taken over
SURPRISE_MINIMUM = 8  # fewer earlier surprises than this: no z-score
GROUP_BATCH = 2000

Group = tuple[str, date]

# Source-row columns consolidation reads.
MEMBER_COLUMNS = (
    "id", "source", "external_id", "indicator_id", "event_name", "reference_period",
    "kind", "country", "currency", "date", "time", "time_precision", "scheduled_at",
    "importance", "status", "source_url", "source_outcome", "first_seen_at",
    *(f"{name}{part}" for name in FIGURE_FIELDS for part in ("", "_value", "_unit")),
)  # fmt: skip
# Consolidated fields whose changes are logged (OccurrenceRevision), as stored.
LOGGED_FIELDS = (
    "event_name", "reference_period", "kind", "country", "currency", "date", "time",
    "time_precision", "importance", "status", *FIGURE_FIELDS, "actual_source",
)  # fmt: skip
# Every consolidated column an Occurrence gets from its members.
WRITTEN_FIELDS = (
    *LOGGED_FIELDS, "category", "scheduled_at", "indicator_id",
    *(f"{name}_{part}" for name in FIGURE_FIELDS for part in ("value", "unit")),
    "actual_at", "surprise", "outcome", "sources", "conflicts",
)  # fmt: skip
# The columns of an occurrence row as written, and as read back to compare.
ROW_FIELDS = ("id", *WRITTEN_FIELDS, "first_seen_at", "updated_at", "document")
STORED_FIELDS = (*ROW_FIELDS, "surprise_z")
# Figures two sources can disagree on, and the time (within the tolerance). Not
# ``revised``: only the agencies publish it, and a revision is not a disagreement.
CONFLICT_FIELDS = ("time", "actual", "forecast", "previous", "revised_previous")


@dataclass
class Cluster:
    """One occurrence-to-be: its regular rows and attached release-level rows."""

    group: Group
    rows: list[dict] = field(default_factory=list)
    attached: list[dict] = field(default_factory=list)

    @property
    def members(self) -> list[dict]:
        return self.rows + self.attached

    def fits(self, row: dict) -> bool:
        if any(other["source"] == row["source"] for other in self.rows):
            return False
        if row["time"] is None:
            return True
        return all(
            other["time"] is None
            or abs(other["scheduled_at"] - row["scheduled_at"]) <= TIME_TOLERANCE
            for other in self.rows
        )


@dataclass
class Result:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    revisions: int = 0
    indicators: set[str] = field(default_factory=set)


def consolidate(
    groups: Iterable[Group], *, run: IngestionRun | None = None, now: datetime
) -> Result:
    """Recompute the occurrences of ``groups`` (and what they touch); see the module."""
    result = Result()
    # By day, so that a batch's rows are "these indicators on these days".
    pending = sorted(set(groups), key=lambda group: (group[1], group[0]))
    for start in range(0, len(pending), GROUP_BATCH):
        _consolidate_batch(set(pending[start : start + GROUP_BATCH]), run, now, result)
    update_surprise_scores(result.indicators, now)
    return result


def _consolidate_batch(
    groups: set[Group], run: IngestionRun | None, now: datetime, result: Result
) -> None:
    releases = announced_by({slug for slug, _ in groups})
    groups = _with_release_groups(groups, releases)
    rows = _load_rows(groups)
    stored = _stored_occurrences(groups, [row["id"] for row in rows])
    # Rows of stored occurrences outside ``groups`` (moved away, re-matched) count too.
    extra = {(row["indicator_id"], row["date"]) for row in _members_of(stored)} - groups
    if extra:
        groups |= _with_release_groups(extra, announced_by({s for s, _ in extra}))
        rows = _load_rows(groups)
        stored = _stored_occurrences(groups, [row["id"] for row in rows])
    clusters = _cluster(rows, releases)
    _write(clusters, stored, run, now, result)


def _with_release_groups(
    groups: set[Group], releases: dict[str, set[str]]
) -> set[Group]:
    """Add, for each day, the groups of the releases announcing a group's indicator and
    of the indicators a release group announces."""
    out = set(groups)
    for slug, day in groups:
        for release, announced in releases.items():
            if slug == release:
                out.update((other, day) for other in announced)
            elif slug in announced:
                out.add((release, day))
    return out


def _in_groups(groups: set[Group]) -> Q:
    """Rows whose (indicator, date) may be in ``groups``: both columns in their sets.
    The caller keeps the exact pairs; batches are taken by day (``consolidate``), so
    this over-reaches little and runs on an index."""
    return Q(date__in=sorted({day for _, day in groups})) & Q(
        indicator_id__in=sorted({slug for slug, _ in groups})
    )


def _load_rows(groups: set[Group]) -> list[dict]:
    if not groups:
        return []
    rows = [
        row
        for row in EconomicEvent.objects.filter(_in_groups(groups)).values(
            *MEMBER_COLUMNS
        )
        if (row["indicator_id"], row["date"]) in groups
    ]
    for row in rows:
        row["precedence"] = source_precedence(row["source"])
        row["figure_precedence"] = figure_precedence(row["source"])
    rows.sort(
        key=lambda row: (
            row["precedence"],
            row["scheduled_at"],
            row["source"],
            row["external_id"],
        )
    )
    return rows


@dataclass
class Stored:
    occurrences: dict[int, dict]  # id -> stored values (STORED_FIELDS)
    members: dict[int, set[int]]  # occurrence id -> event ids
    member_ids: dict[tuple[int, int], int]  # (occurrence, event) -> member row id


def _stored_occurrences(groups: set[Group], event_ids: Sequence[int]) -> Stored:
    """Stored occurrences of ``groups`` or holding one of ``event_ids``, with members."""
    ids = set(
        OccurrenceMember.objects.filter(event_id__in=event_ids).values_list(
            "occurrence_id", flat=True
        )
    )
    by_day: dict[date, set[str]] = defaultdict(set)
    for slug, day in groups:
        by_day[day].add(slug)
    condition = Q(pk__in=ids)
    for day, slugs in by_day.items():
        condition |= Q(date=day, indicator_id__in=sorted(slugs))
    occurrences = {
        row["id"]: row
        for row in Occurrence.objects.filter(condition).values(*STORED_FIELDS)
    }
    members: dict[int, set[int]] = defaultdict(set)
    member_ids = {}
    for pk, occurrence_id, event_id in OccurrenceMember.objects.filter(
        occurrence_id__in=list(occurrences)
    ).values_list("id", "occurrence_id", "event_id"):
        members[occurrence_id].add(event_id)
        member_ids[(occurrence_id, event_id)] = pk
    return Stored(occurrences, members, member_ids)


def _members_of(stored: Stored) -> list[dict]:
    ids = {event_id for ids in stored.members.values() for event_id in ids}
    return list(EconomicEvent.objects.filter(pk__in=ids).values("indicator_id", "date"))


# MATCHING
# ------------------------------------------------------------------------------


def _cluster(rows: list[dict], releases: dict[str, set[str]]) -> list[Cluster]:
    """Rows (in precedence order) into clusters; release-level rows attached last."""
    by_group: dict[Group, list[Cluster]] = defaultdict(list)
    release_rows = []
    for row in rows:
        if row["indicator_id"] in releases:
            release_rows.append(row)
            continue
        _place(row, by_group[(row["indicator_id"], row["date"])])
    for row in release_rows:
        targets = [
            cluster
            for slug in sorted(releases[row["indicator_id"]])
            for cluster in by_group.get((slug, row["date"]), [])
        ]
        if targets:
            for cluster in targets:
                cluster.attached.append(row)
        else:
            _place(row, by_group[(row["indicator_id"], row["date"])])
    return [cluster for clusters in by_group.values() for cluster in clusters]


def _place(row: dict, clusters: list[Cluster]) -> None:
    group = (row["indicator_id"], row["date"])
    candidates = sorted(clusters, key=_anchor_time)
    for cluster in candidates:
        if cluster.fits(row):
            cluster.rows.append(row)
            return
    clusters.append(Cluster(group, [row]))


def _anchor_time(cluster: Cluster) -> datetime:
    return min(row["scheduled_at"] for row in cluster.rows)


# WRITING
# ------------------------------------------------------------------------------


def _write(
    clusters: list[Cluster],
    stored: Stored,
    run: IngestionRun | None,
    now: datetime,
    result: Result,
) -> None:
    claimed = _claim(clusters, stored)
    indicators = {
        i.pk: i
        for i in Indicator.objects.filter(
            pk__in={cluster.group[0] for cluster in clusters}
        )
    }
    fresh = iter(
        reserve_ids(Occurrence, sum(1 for c in clusters if id(c) not in claimed))
    )
    revisions: list[OccurrenceRevision] = []
    rows: list[tuple] = []
    membership: dict[int, set[int]] = {}
    for cluster in clusters:
        values = consolidated_values(cluster, indicators[cluster.group[0]])
        old = claimed.get(id(cluster))
        if old is None:
            row = {
                "id": next(fresh),
                "first_seen_at": now,
                "updated_at": now,
                "surprise_z": None,
                **values,
            }
            row["actual_at"] = now if values["actual"] else None
            result.created += 1
        else:
            row = _changed(old, values, run, now, revisions)
            if row is None:
                membership[old["id"]] = {r["id"] for r in cluster.members}
                continue
            result.updated += 1
        row["document"] = occurrence_document(row)
        rows.append(tuple(row[name] for name in ROW_FIELDS))
        membership[row["id"]] = {r["id"] for r in cluster.members}
        result.indicators.add(row["indicator_id"])
    write_rows(
        Occurrence,
        ROW_FIELDS,
        rows,
        conflict=("id",),
        keep=("first_seen_at", "surprise_z"),
    )
    gone = [pk for pk in stored.occurrences if pk not in membership]
    result.indicators.update(stored.occurrences[pk]["indicator_id"] for pk in gone)
    OccurrenceMember.objects.filter(occurrence_id__in=gone).delete()
    OccurrenceRevision.objects.filter(occurrence_id__in=gone).delete()
    Occurrence.objects.filter(pk__in=gone).delete()
    result.deleted += len(gone)
    _write_members(membership, stored)
    OccurrenceRevision.objects.bulk_create(revisions, batch_size=1000)
    result.revisions += len(revisions)


def reserve_ids(model, count: int) -> list[int]:
    """``count`` new primary keys for ``model``, taken from its sequence (PostgreSQL) or
    above the highest ever used (SQLite's AUTOINCREMENT); writers hold the write lock."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT max(id) FROM {quote(table)}")
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        used = cursor.fetchone()
        start = max(top, used[0] if used else 0) + 1
        return list(range(start, start + count))


def _claim(clusters: list[Cluster], stored: Stored) -> dict[int, dict]:
    """{id(cluster): the stored occurrence it continues}; see "Identity" above."""
    owner: dict[int, int] = {}
    for pk, event_ids in sorted(stored.members.items()):
        for event_id in event_ids:
            owner.setdefault(event_id, pk)
    offers = []
    for cluster in clusters:
        counts: dict[int, int] = defaultdict(int)
        for row in cluster.rows or cluster.attached:
            if row["id"] in owner:
                counts[owner[row["id"]]] += 1
        for pk, count in counts.items():
            same_day = stored.occurrences[pk]["date"] == cluster.group[1]
            offers.append((-count, not same_day, pk, _cluster_key(cluster), cluster))
    claimed: dict[int, dict] = {}
    taken: set[int] = set()
    for *_, pk, _key, cluster in sorted(offers, key=lambda offer: offer[:4]):
        if pk in taken or id(cluster) in claimed:
            continue
        claimed[id(cluster)] = stored.occurrences[pk]
        taken.add(pk)
    # Unclaimed stored occurrences of the same indicator and day are reused before new
    # ones are made, so a source that re-keys its rows does not churn ids.
    for cluster in sorted(clusters, key=_cluster_key):
        if id(cluster) in claimed:
            continue
        spare = next(
            (
                row
                for pk, row in sorted(stored.occurrences.items())
                if pk not in taken
                and (row["indicator_id"], row["date"]) == cluster.group
            ),
            None,
        )
        if spare is not None:
            claimed[id(cluster)] = spare
            taken.add(spare["id"])
    return claimed


def _cluster_key(cluster: Cluster) -> tuple:
    return (
        cluster.group,
        _anchor_time(cluster),
        min(row["id"] for row in cluster.members),
    )


def _changed(
    old: dict,
    values: dict,
    run: IngestionRun | None,
    now: datetime,
    revisions: list[OccurrenceRevision],
) -> dict | None:
    """``old`` updated with ``values``, logging what changed; None when nothing did."""
    changed = {name: new for name, new in values.items() if old[name] != new}
    if not changed:
        return None
    for name, new in changed.items():
        logged = name in LOGGED_FIELDS or (
            # Members' own figures are logged on their rows; here, who joined or left.
            name == "sources" and _as_text(name, old[name]) != _as_text(name, new)
        )
        if logged:
            revisions.append(
                OccurrenceRevision(
                    occurrence_id=old["id"],
                    run=run,
                    field=name,
                    old_value=_as_text(name, old[name]),
                    new_value=_as_text(name, new),
                    changed_at=now,
                )
            )
    row = {**old, **values, "updated_at": now}
    if values["actual"] and (
        not old["actual_at"] or values["actual_source"] != old["actual_source"]
    ):
        row["actual_at"] = now  # when this source's actual was first seen
    return row


def _as_text(name: str, value: object) -> str:
    if name == "sources":
        return ",".join(sorted({entry["source"] for entry in value or []}))
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _write_members(membership: dict[int, set[int]], stored: Stored) -> None:
    add, remove = [], []
    for pk, event_ids in membership.items():
        before = stored.members.get(pk, set())
        add += [(pk, event_id) for event_id in sorted(event_ids - before)]
        remove += [stored.member_ids[(pk, e)] for e in before - event_ids]
    OccurrenceMember.objects.filter(pk__in=remove).delete()
    write_rows(OccurrenceMember, ("occurrence", "event"), add)


# CONSOLIDATED VALUES
# ------------------------------------------------------------------------------


def consolidated_values(cluster: Cluster, indicator: Indicator) -> dict:
    """The occurrence's fields from its members, by precedence (see the module)."""
    live = [row for row in cluster.rows if row["status"] != EventStatus.CANCELLED]
    chosen = live or cluster.rows or cluster.attached
    timed = [row for row in chosen if row["time_precision"] == TimePrecision.EXACT]
    when = (timed or chosen)[0]
    first = chosen[0]
    values = {
        "indicator_id": indicator.pk,
        "event_name": indicator.name if indicator.catalogued else first["event_name"],
        "category": indicator.category,
        "kind": indicator.kind if indicator.catalogued else first["kind"],
        "country": first["country"],
        "currency": first["currency"] or indicator.currency,
        "reference_period": _first(chosen, "reference_period") or "",
        "date": when["date"],
        "time": when["time"],
        "time_precision": when["time_precision"],
        "scheduled_at": when["scheduled_at"],
        "importance": _first(chosen, "importance", blank=None) or indicator.importance,
        "actual_source": "",
    }
    by_figures = sorted(chosen, key=itemgetter("figure_precedence"))  # stable
    for name in FIGURE_FIELDS:
        row = next((row for row in by_figures if row[name]), None)
        values[name] = row[name] if row else ""
        values[f"{name}_value"] = row[f"{name}_value"] if row else None
        values[f"{name}_unit"] = row[f"{name}_unit"] if row else ""
        if name == "actual" and row:
            values["actual_source"] = row["source"]
    if not live and cluster.rows:
        values["status"] = EventStatus.CANCELLED
    else:
        values["status"] = (
            EventStatus.RELEASED if values["actual"] else EventStatus.SCHEDULED
        )
    values["surprise"] = surprise(values)
    values["outcome"] = Outcome.of(values["surprise"], indicator.higher_is_better)
    values["sources"] = [
        source_entry(row, release=row in cluster.attached) for row in cluster.members
    ]
    values["conflicts"] = conflicts(live or cluster.rows)
    return values


def _first(rows: list[dict], name: str, blank: object = "") -> object:
    return next((row[name] for row in rows if row[name] not in (blank, "")), None)


def surprise(values: dict) -> Decimal | None:
    """actual - forecast when both are numbers in the same unit."""
    actual, forecast = values["actual_value"], values["forecast_value"]
    if (
        actual is None
        or forecast is None
        or values["actual_unit"] != values["forecast_unit"]
    ):
        return None
    return actual - forecast


def conflicts(rows: list[dict]) -> list[str]:
    """Fields on which two members' published values disagree."""
    names = []
    for name in CONFLICT_FIELDS:
        seen = {_comparable(row, name) for row in rows}
        seen.discard(None)
        if len(seen) > 1:
            names.append(name)
    return names


def _comparable(row: dict, name: str) -> object:
    if name == "time":
        return row["time"] if row["time_precision"] == TimePrecision.EXACT else None
    if not row[name]:
        return None
    if row[f"{name}_value"] is not None:
        return (row[f"{name}_value"].normalize(), row[f"{name}_unit"])
    return " ".join(row[name].lower().split())


# SURPRISE Z-SCORES
# ------------------------------------------------------------------------------


def update_surprise_scores(indicator_ids: Iterable[str], now: datetime) -> int:
    """Recompute ``surprise_z`` of the indicators' occurrences; returns rows changed.

    z = surprise / the standard deviation of the indicator's previous
    ``SURPRISE_WINDOW`` surprises, when at least ``SURPRISE_MINIMUM`` exist. A
    changed z changes the occurrence (``updated_at``) and its document.
    """
    ids = sorted(set(indicator_ids))
    changed: dict[int, float | None] = {}
    for start in range(0, len(ids), 500):
        rows = (
            Occurrence.objects.filter(indicator_id__in=ids[start : start + 500])
            .exclude(surprise__isnull=True, surprise_z__isnull=True)
            .order_by("indicator_id", "scheduled_at", "id")
            .values_list("id", "indicator_id", "surprise", "surprise_z")
        )
        history: dict[str, list[Decimal]] = defaultdict(list)
        for pk, indicator_id, difference, stored_z in rows:
            earlier = history[indicator_id]
            z = z_score(difference, earlier)
            if z != stored_z:
                changed[pk] = z
            if difference is not None:
                earlier.append(difference)
    _write_scores(changed, now)
    return len(changed)


def refresh_documents(*, force: bool = False) -> int:
    """Re-render stored documents when the representation changed since they were
    written (a new release of the code); returns how many were rewritten.

    Whether it changed is read off the newest occurrence: its stored document against
    a fresh rendering. ``migrate`` calls this (ingestion.apps), so a deploy that
    changes the API's shape never serves documents of the old shape.
    """
    newest = Occurrence.objects.order_by("-id").values(*OCCURRENCE_COLUMNS, "document")
    row = newest.first()
    if row is None or (not force and row["document"] == occurrence_document(row)):
        return 0
    pks = list(Occurrence.objects.order_by("pk").values_list("pk", flat=True))
    table = connection.ops.quote_name(Occurrence._meta.db_table)
    for start in range(0, len(pks), 1000):
        rows = Occurrence.objects.filter(pk__in=pks[start : start + 1000])
        updates = [
            (occurrence_document(row), row["id"])
            for row in rows.values(*OCCURRENCE_COLUMNS)
        ]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET document = %s WHERE id = %s", updates
            )
    return len(pks)


def _write_scores(scores: dict[int, float | None], now: datetime) -> None:
    pks = sorted(scores)
    for start in range(0, len(pks), 1000):
        updates = []
        for row in Occurrence.objects.filter(pk__in=pks[start : start + 1000]).values(
            *OCCURRENCE_COLUMNS
        ):
            row["surprise_z"], row["updated_at"] = scores[row["id"]], now
            updates.append(
                (
                    row["surprise_z"],
                    connection.ops.adapt_datetimefield_value(now),
                    occurrence_document(row),
                    row["id"],
                )
            )
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Occurrence._meta.db_table)
            cursor.executemany(
                f"UPDATE {table} SET surprise_z = %s, updated_at = %s, document = %s "
                "WHERE id = %s",
                updates,
            )


def z_score(value: Decimal | None, earlier: list[Decimal]) -> float | None:
    window = earlier[-SURPRISE_WINDOW:]
    if value is None or len(window) < SURPRISE_MINIMUM:
        return None
    spread = statistics.stdev(float(x) for x in window)
    if spread == 0:
        return None
    return round(float(value) / spread, 4)
