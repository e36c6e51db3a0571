"""What the database knows about an indicator's releases, for the agencies' rows.

Reads only: the occurrences the calendars listed (when each release is or was), and the
rows an agency's source already stored (which periods it printed, and what). Nothing
here writes; ``ingestion.services`` does, with the records ``ingestion.official.build``
makes from these answers.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q

from core.models import EconomicEvent, EventStatus, Occurrence, TimePrecision
from core.sources import all_sources, is_enabled, keeps_first_print
from ingestion.official.series import OfficialSeries, official_series
from ingestion.records import DateWindow

# A release counts as due (its figure still to fetch) this long after its time: a
# catch-up run after a short outage still takes the first print, and agencies do not
# revise a figure within days of printing it.
DUE = timedelta(days=3)
# A fallback (FRED's copy of a BLS series) is asked only this long after the release,
# when the agency itself has had its chance, unless the agency's source is disabled.
FALLBACK_DELAY = timedelta(minutes=15)


# {indicator: its series of one agency, preferred first}: what a release-day run asks.
Due = dict[str, tuple[OfficialSeries, ...]]


@dataclass(frozen=True)
class Release:
    """One occurrence of an indicator (or of the indicator that dates it)."""

    indicator: str  # the occurrence's own indicator
    date: date
    scheduled_at: datetime
    exact: bool
    previous: str = ""  # the previous figure the calendars showed for it


@dataclass(frozen=True)
class StoredRow:
    """An agency's stored row for one indicator and period."""

    external_id: str
    reference_period: str
    date: date
    actual: str
    revised: str
    previous: str
    revised_previous: str

    @property
    def current(self) -> str:
        """The figure as it stands now: revised if it was revised."""
        return self.revised or self.actual


def dating_indicators(slug: str, spec: OfficialSeries) -> list[str]:
    """The indicators whose occurrences are ``slug``'s releases."""
    return [slug, spec.dated_by] if spec.dated_by else [slug]


def releases(slugs: Iterable[str], start: date, end: date) -> list[Release]:
    """Occurrences of ``slugs`` dated ``start``..``end`` that are not cancelled,
    oldest first."""
    rows = (
        Occurrence.objects.filter(
            indicator_id__in=list(slugs), date__range=(start, end)
        )
        .exclude(status=EventStatus.CANCELLED)
        .order_by("scheduled_at", "id")
        .values_list(
            "indicator_id", "date", "scheduled_at", "time_precision", "previous"
        )
    )
    return [
        Release(slug, day, at, precision == TimePrecision.EXACT, previous)
        for slug, day, at, precision, previous in rows
    ]


def due_release(
    slug: str, spec: OfficialSeries, *, now: datetime, fallback: bool = False
) -> Release | None:
    """The latest timed release of ``slug`` that is out by ``now`` and at most ``DUE``
    old: the one a figure fetched now belongs to. A ``fallback`` source waits
    ``FALLBACK_DELAY`` after it."""
    latest = now - FALLBACK_DELAY if fallback else now
    found = [
        release
        for release in releases(
            dating_indicators(slug, spec), (now - DUE).date(), now.date()
        )
        if release.exact and now - DUE < release.scheduled_at <= latest
    ]
    return found[-1] if found else None


def has_official_figure(slug: str, day: date) -> bool:
    """True when an agency's row of ``slug`` dated ``day`` carries a first print."""
    return (
        EconomicEvent.objects.filter(
            source__in=official_sources(), indicator_id=slug, date=day
        )
        .exclude(actual="")
        .exists()
    )


def official_sources() -> list[str]:
    """The registered sources that keep first prints: the agencies' (bls, ecb, fred)."""
    return [source.name for source in all_sources() if keeps_first_print(source.name)]


def is_fallback(slug: str, spec: OfficialSeries) -> bool:
    """True when ``spec`` stands in for an enabled agency's own series of ``slug``
    (FRED's copy of a BLS series while ``bls`` is enabled)."""
    preferred = official_series()[slug][0]
    return preferred.agency != spec.agency and is_enabled(preferred.agency)


def due_series(agency: str, window: DateWindow, *, now: datetime) -> Due:
    """{indicator: its series of ``agency``, preferred first} whose release in
    ``window`` is out by ``now``, at most ``DUE`` old, and has no agency figure yet.

    This is what a release-day run of an agency's source asks for: nothing on a day
    without a release, so a small quota (BLS v1) is spent only on indicators due.
    """
    wanted: Due = {}
    for slug, specs in official_series().items():
        mine = tuple(spec for spec in specs if spec.agency == agency)
        if not mine:
            continue
        fallback = is_fallback(slug, mine[0])
        release = due_release(slug, mine[0], now=now, fallback=fallback)
        if release is None or not window.start <= release.date <= window.end:
            continue
        if not has_official_figure(slug, release.date):
            wanted[slug] = mine
    return wanted


def awaited_releases(agency: str, start: datetime, end: datetime) -> list[Release]:
    """Timed releases between ``start`` and ``end`` of indicators with a series of
    ``agency`` whose agency figure is not in yet: what its follow-ups are for."""
    dating: set[str] = set()
    for slug, specs in official_series().items():
        for spec in specs:
            if spec.agency == agency:
                dating.update(dating_indicators(slug, spec))
    found = []
    for release in releases(dating, start.date(), end.date()):
        if not (release.exact and start < release.scheduled_at <= end):
            continue
        if not all(
            has_official_figure(slug, release.date)
            for slug in figures_of(release.indicator, agency)
        ):
            found.append(release)
    return found


def figures_of(indicator: str, agency: str) -> list[str]:
    """The indicators with a series of ``agency`` whose releases are ``indicator``'s
    occurrences (itself, and those it dates)."""
    return [
        slug
        for slug, specs in official_series().items()
        if any(
            spec.agency == agency and indicator in dating_indicators(slug, spec)
            for spec in specs
        )
    ]


def stored_rows(source: str, keys: Iterable[str]) -> dict[str, StoredRow]:
    """The rows ``source`` stored under the external ids ``keys``, by external id."""
    rows = EconomicEvent.objects.filter(source=source, external_id__in=list(keys))
    columns = (
        "external_id", "reference_period", "date", "actual", "revised", "previous",
        "revised_previous",
    )  # fmt: skip
    return {row[0]: StoredRow(*row) for row in rows.values_list(*columns)}


def latest_period_label(source: str, slug: str) -> str | None:
    """The reference period of ``source``'s most recently released row of ``slug``."""
    row = (
        EconomicEvent.objects.filter(source=source, indicator_id=slug)
        .filter(~Q(actual="") | ~Q(revised=""))
        .order_by("-date", "-id")
        .values_list("reference_period", flat=True)
        .first()
    )
    return row
