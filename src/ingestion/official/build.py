"""From an agency's series to calendar rows: which release each figure belongs to.

An agency's row is one indicator and one reference period (``official_key``:
``us-nonfarm-payrolls:2016-05``), dated the day of its first print, without a clock
time, so it joins the occurrence the calendars list for that indicator on that day.
``actual`` is the figure as first printed, ``previous`` the prior period's figure as it
stood before this release, ``revised_previous`` that prior figure in this release when it
differs, ``revised`` this period's figure as revised later (``ingestion.services`` keeps a
stored ``actual`` whatever arrives).

A payload gives figures by period; which release printed each is decided here, in one
of four ways:

Release day (values current at the fetch; a scheduled or command-line run)
  The release a fetch reports is the **newest period in the payload**, and only when
  (1) a release of the indicator is out by the fetch time and at most ``DUE`` old (the
  calendars' occurrence: ``releases.due_release``), (2) that period is newer than every
  period the source stored for the indicator, and (3) the period ends at most
  ``FIRST_RELEASE_LAG`` before the release (``EARLY`` after it, for flash estimates that
  come out on a month's last days). A fetch made before the agency's API has the new
  figure sees last month's period, already stored: nothing is new and the next attempt
  tries again. Stored periods in the payload are updated (revisions); other periods are
  left alone: history is ``backfill``'s job. Observations of periods starting after the
  fetch time are ignored (a replayed recording holds later months).

History (a ``backfill`` run, values current now: BLS, the ECB, FRED without a key)
  Every period in the range, with its current value as ``revised`` and ``actual``
  empty: these are revised figures, not first prints. Each is dated by the first release
  of the indicator after the period ends (within the same lag), from the occurrences the
  calendars stored and, for BLS series, BLS's release schedule; a period with no known
  release date is skipped and counted.

Vintages (ALFRED: FRED with a key)
  Each period's first release date is its earliest ``realtime_start``; its first print
  is the transformation of the vintage of that day (so a % change compares with the
  prior period as it stood that day, as the agency computed it); ``previous`` comes from
  the vintage of the day before; every later vintage that changes the figure becomes a
  dated step of ``revised_history``, so the change log carries the real vintage dates.

Key rates (daily series holding one observation per change, dated the day it takes
effect)
  A decision's row is keyed by the decision day (the occurrence, or the occurrence of
  the indicator the rate is ``dated_by``), its figure the level that takes effect within
  ``EFFECT_WINDOW`` of it. On the day, only a change can be told from a portal not yet
  updated, so an unchanged decision gets its figure from history, once the window has
  passed. A key rate is never revised: history gives its first print.
"""

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from core.models import TimePrecision
from ingestion.catalogue import IndicatorEntry, load_catalogue
from ingestion.errors import InvalidRow
from ingestion.indicators import official_key
from ingestion.official import releases as known
from ingestion.official.fred import FredObservation
from ingestion.official.observations import Observation, Period, SeriesVintage
from ingestion.official.series import OfficialSeries, indicators_of
from ingestion.official.transforms import Figures, round_figure
from ingestion.records import EventRecord, Skip

# Longest time from a period's end to its first release: monthly figures come out
# within a month (US CPI by the 15th-18th, payrolls by the 10th), quarterly ones within
# about a month (US GDP advance estimate), the next period's then being further away.
FIRST_RELEASE_LAG = {"M": timedelta(days=31), "Q": timedelta(days=100)}
# Flash estimates can come out before their month ends (Eurostat's, on the last
# working day).
EARLY = timedelta(days=3)
# A key-rate decision takes effect within days (the ECB's, the next Wednesday).
EFFECT_WINDOW = timedelta(days=14)

SeriesLookup = Callable[[str, str], list[tuple[str, OfficialSeries]]]


@dataclass(frozen=True)
class History:
    """A ``backfill`` of ``indicators``: reference periods starting ``start``..``end``
    (key rates: decisions on those days), and release times known from an agency's
    schedule, by release name (BLS: "Employment Situation")."""

    indicators: tuple[str, ...]
    start: date
    end: date
    schedule: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)

    def covers(self, period: Period) -> bool:
        return self.start <= period.start <= self.end


@dataclass
class Built:
    records: list[EventRecord] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def build_records(
    source: str,
    vintages: Iterable[SeriesVintage],
    *,
    now: datetime,
    history: History | None = None,
    series_of: SeriesLookup = indicators_of,
) -> Built:
    """The rows ``source`` writes for ``vintages`` fetched at ``now``; see the module.

    ``series_of(agency, series id)`` gives the (indicator, specification) pairs a
    series feeds: the catalogue's, unless a test reads a series it does not list.
    """
    builder = _Builder(source, now, history)
    for vintage in vintages:
        if vintage.agency != source:
            raise ValueError(f"{source} cannot write {vintage.agency}'s series")
        for slug, spec in series_of(vintage.agency, vintage.series_id):
            builder.add(slug, spec, vintage)
    return builder.built


def printed(figure: Decimal, spec: OfficialSeries) -> str:
    """A figure as the calendars print it: "38K", "3.6%", "-0.1%"."""
    return f"{figure}{spec.unit}"


class _Builder:
    def __init__(self, source: str, now: datetime, history: History | None) -> None:
        self.source = source
        self.now = now
        self.history = history
        self.entries: dict[str, IndicatorEntry] = load_catalogue().by_id()
        self.built = Built()
        self.emitted: set[str] = set()

    def add(self, slug: str, spec: OfficialSeries, vintage: SeriesVintage) -> None:
        if self.history is not None and slug not in self.history.indicators:
            return
        observations = [
            o
            for o in vintage.observations
            if o.period.frequency == spec.frequency and self._could_be_out(o.period)
        ]
        if not observations:
            return
        if vintage.vintaged:
            self._from_vintages(slug, spec, observations)
        elif spec.frequency == "D":
            self._key_rate(slug, spec, observations)
        elif self.history is not None:
            self._history(slug, spec, observations)
        else:
            self._release_day(slug, spec, observations)

    def _could_be_out(self, period: Period) -> bool:
        """False for a period that cannot have been published by ``now`` (a replayed
        recording holds later months). A key rate's observation is dated the day it
        takes effect, which the ECB announces days ahead: always kept."""
        return period.frequency == "D" or period.end - EARLY <= self.now.date()

    # RELEASE DAY
    # --------------------------------------------------------------------------

    def _release_day(
        self, slug: str, spec: OfficialSeries, observations: list[Observation]
    ) -> None:
        figures = spec.figures(observations)
        newest = max(o.period for o in observations)
        wanted = {*figures, newest, newest.shifted(-1)}
        stored = known.stored_rows(self.source, (self._key(slug, p) for p in wanted))
        for period, figure in sorted(figures.items()):
            row = stored.get(self._key(slug, period))
            if row is not None:
                self._emit(self._revision(slug, spec, period, figure, row))
        if self._key(slug, newest) in stored or newest not in figures:
            return
        release = known.due_release(
            slug, spec, now=self.now, fallback=known.is_fallback(slug, spec)
        )
        if release is None or not self._first_release(slug, spec, newest, release):
            return
        prior = newest.shifted(-1)
        before = stored.get(self._key(slug, prior))
        shown = printed(figures[prior], spec) if prior in figures else ""
        previous = before.current if before else release.previous
        self._emit(
            self._record(
                slug, spec, str(newest), release.date,
                actual=printed(figures[newest], spec),
                previous=previous,
                revised_previous=shown if shown != previous else "",
            )
        )  # fmt: skip

    def _first_release(
        self, slug: str, spec: OfficialSeries, period: Period, release: known.Release
    ) -> bool:
        """Whether ``release`` can be ``period``'s first release (see the module)."""
        lag = FIRST_RELEASE_LAG[spec.frequency]
        if not period.end - EARLY <= release.date <= period.end + lag:
            return False
        latest = known.latest_period_label(self.source, slug)
        if latest is None:
            return True
        try:
            return Period.parse(latest, spec.frequency) < period
        except ValueError:
            return False

    def _revision(
        self,
        slug: str,
        spec: OfficialSeries,
        period: Period,
        figure: Decimal,
        row: known.StoredRow,
    ) -> EventRecord | None:
        """The stored row with ``figure`` as its current value."""
        text = printed(figure, spec)
        return self._record(
            slug, spec, str(period), row.date,
            actual=row.actual,
            revised="" if text == row.actual else text,
            previous=row.previous,
            revised_previous=row.revised_previous,
        )  # fmt: skip

    # HISTORY (current values)
    # --------------------------------------------------------------------------

    def _history(
        self, slug: str, spec: OfficialSeries, observations: list[Observation]
    ) -> None:
        assert self.history is not None
        figures = {
            period: figure
            for period, figure in spec.figures(observations).items()
            if self.history.covers(period)
        }
        stored = known.stored_rows(self.source, (self._key(slug, p) for p in figures))
        days = self._release_days(slug, spec, list(figures))
        for period, figure in sorted(figures.items()):
            row = stored.get(self._key(slug, period))
            if row is not None:
                self._emit(self._revision(slug, spec, period, figure, row))
            elif period in days:
                self._emit(
                    self._record(
                        slug, spec, str(period), days[period],
                        revised=printed(figure, spec),
                    )
                )  # fmt: skip
            else:
                self.built.skipped.append(
                    Skip(f"no release date known for {slug} {period}", spec.series)
                )

    def _release_days(
        self, slug: str, spec: OfficialSeries, periods: list[Period]
    ) -> dict[Period, date]:
        """Each period's first release day, from the calendars' occurrences and the
        agency's schedule: the first release after the period ends, within the lag."""
        if not periods:
            return {}
        lag = FIRST_RELEASE_LAG[spec.frequency]
        start = min(p.end for p in periods) - EARLY
        end = max(p.end for p in periods) + lag
        candidates = {
            release.date
            for release in known.releases(
                known.dating_indicators(slug, spec), start, end
            )
        }
        if self.history is not None:
            candidates |= {
                moment.astimezone(UTC).date()
                for moment in self.history.schedule.get(spec.release, ())
            }
        ordered = sorted(candidates)
        days = {}
        for period in periods:
            index = bisect_right(ordered, period.end - EARLY - timedelta(days=1))
            if index < len(ordered) and ordered[index] <= period.end + lag:
                days[period] = ordered[index]
        return days

    # KEY RATES
    # --------------------------------------------------------------------------

    def _key_rate(
        self, slug: str, spec: OfficialSeries, observations: list[Observation]
    ) -> None:
        levels = sorted(
            (o for o in observations if o.value is not None), key=lambda o: o.period
        )
        for release in self._decisions(slug, spec):
            after = [
                o
                for o in levels
                if release.date <= o.period.start <= release.date + EFFECT_WINDOW
            ]
            before = [o for o in levels if o.period.start < release.date]
            if not after and self.history is None:
                continue  # unchanged, or the portal is not updated yet: not today
            chosen = after[-1] if after else (before[-1] if before else None)
            if chosen is None or chosen.value is None:
                continue
            previous = before[-1].value if before else None
            self._emit(
                self._record(
                    slug, spec, release.date.isoformat(), release.date,
                    actual=self._level(chosen.value, spec),
                    previous="" if previous is None else self._level(previous, spec),
                )
            )  # fmt: skip

    def _decisions(self, slug: str, spec: OfficialSeries) -> list[known.Release]:
        if self.history is None:
            release = known.due_release(slug, spec, now=self.now)
            return [release] if release else []
        settled = self.now.date() - EFFECT_WINDOW
        return known.releases(
            known.dating_indicators(slug, spec),
            self.history.start,
            min(self.history.end, settled),
        )

    @staticmethod
    def _level(value: Decimal, spec: OfficialSeries) -> str:
        return printed(round_figure(value, spec.decimals), spec)

    # VINTAGES (ALFRED)
    # --------------------------------------------------------------------------

    def _from_vintages(
        self, slug: str, spec: OfficialSeries, observations: list[Observation]
    ) -> None:
        vintaged = [o for o in observations if isinstance(o, FredObservation)]
        days = sorted({o.realtime_start for o in vintaged})
        states = [
            spec.figures([o for o in vintaged if o.known_on(day)]) for day in days
        ]

        def state(day: date) -> Figures:
            index = bisect_right(days, day) - 1
            return states[index] if index >= 0 else {}

        first_release: dict[Period, date] = {}
        for o in vintaged:
            if o.value is not None:
                first = first_release.get(o.period)
                if first is None or o.realtime_start < first:
                    first_release[o.period] = o.realtime_start
        times = self._release_times(slug, spec, days)
        for period, day in sorted(first_release.items()):
            if self.history is not None and not self.history.covers(period):
                continue
            first = state(day).get(period)
            if first is None:
                continue
            record = self._vintage_record(
                slug, spec, period, day, first, state, days, states, times
            )
            self._emit(record)

    def _vintage_record(
        self,
        slug: str,
        spec: OfficialSeries,
        period: Period,
        day: date,
        first: Decimal,
        state,
        days: list[date],
        states: list[Figures],
        times: dict[date, datetime],
    ) -> EventRecord | None:
        prior = period.shifted(-1)
        before = state(day - timedelta(days=1)).get(prior)
        then = state(day).get(prior)
        previous = printed(before, spec) if before is not None else ""
        shown = printed(then, spec) if then is not None else ""
        steps: list[tuple[datetime, str]] = []
        last = first
        for vintage_day, figures in zip(days, states, strict=True):
            value = figures.get(period)
            if vintage_day > day and value is not None and value != last:
                when = times.get(vintage_day) or datetime.combine(
                    vintage_day, time.min, tzinfo=UTC
                )
                steps.append((when, printed(value, spec)))
                last = value
        revised = printed(last, spec) if last != first else ""
        return self._record(
            slug, spec, str(period), day,
            actual=printed(first, spec),
            previous=previous,
            revised_previous=shown if shown != previous else "",
            revised=revised,
            revised_history=tuple(steps) if revised else (),
        )  # fmt: skip

    def _release_times(
        self, slug: str, spec: OfficialSeries, days: list[date]
    ) -> dict[date, datetime]:
        """{day: the release time of the indicator's occurrence that day}: a vintage
        of a release day is dated at the release, not at midnight."""
        if not days:
            return {}
        return {
            release.date: release.scheduled_at
            for release in known.releases(
                known.dating_indicators(slug, spec), days[0], days[-1]
            )
            if release.exact
        }

    # RECORDS
    # --------------------------------------------------------------------------

    @staticmethod
    def _key(slug: str, period: Period) -> str:
        return official_key(slug, str(period))

    def _record(
        self, slug: str, spec: OfficialSeries, label: str, day: date, **figures
    ) -> EventRecord | None:
        entry = self.entries[slug]
        try:
            return EventRecord.on(
                day,
                TimePrecision.DATE_ONLY,
                external_id=official_key(slug, label),
                event_name=entry.name,
                country=entry.country,
                currency=entry.currency,
                kind=entry.kind,
                reference_period=label,
                source_event_id=spec.series,
                source_url=spec.page,
                indicator=slug,
                **figures,
            )
        except InvalidRow as exc:
            self.built.skipped.append(Skip(str(exc), f"{slug} {label}"))
            return None

    def _emit(self, record: EventRecord | None) -> None:
        if record is not None and record.external_id not in self.emitted:
            self.emitted.add(record.external_id)
            self.built.records.append(record)
