"""What the agencies' sources (``bls``, ``ecb``, and ``fred``'s series) share.

Each fetches series and hands them on as ``SeriesVintage`` objects; ``finish`` turns
them into rows with what is stored (``ingestion.official.build``), in the write
transaction. Two modes:

* release day (the default, what the scheduler and ``ingest`` run): only the series of
  indicators whose release is out, at most ``releases.DUE`` old, and has no agency
  figure yet (``releases.due_series``), so a day without a release costs no request;
* history (``backfill``): an ``History`` of indicators and reference periods.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import ClassVar

import requests
from django.utils import timezone

from ingestion.official.build import History, build_records
from ingestion.official.observations import SeriesVintage
from ingestion.official.releases import DUE, Due, due_series
from ingestion.official.series import OfficialSeries, official_series
from ingestion.records import DateWindow, EventRecord, Skip
from ingestion.sources.base import Payload, Source


class OfficialSource(Source):
    """Not registered itself: ``bls``, ``ecb`` and ``fred`` subclass it."""

    keeps_first_print = True
    figure_precedence = 1  # the agency's own figure wins
    # Rows without a clock time or an importance: the calendars' times, names and
    # importance come first.
    precedence = 80
    supports_range = False
    # Daily, after the morning releases and their follow-ups (US 08:30 ET, Eurostat
    # 11:00 CET): a catch-up for a release whose follow-ups all came too early. It
    # asks only for what is due, so it costs nothing on most days.
    schedule = "50 15 * * *"
    agency: ClassVar[str]

    def __init__(self, history: History | None = None) -> None:
        self.history = history
        if history is not None:
            # A backfill fetches its whole range at once; the agency's own limits
            # (BLS: years a query) split it inside fetch_history.
            self.chunk_days = (history.end - history.start).days + 1

    @classmethod
    def follows_releases(cls) -> bool:
        """Whether the scheduler asks this source for figures after releases."""
        return True

    def history_years(self) -> int:
        """How many years of reference periods one history run covers: what one
        request per series can carry."""
        return 10

    def default_window(self, today: date) -> DateWindow:
        """The days whose releases can still be due."""
        return DateWindow(today - timedelta(days=DUE.days), today)

    def fetch(self, http: requests.Session, window: DateWindow) -> Iterator[Payload]:
        if self.history is not None:
            yield from self.fetch_history(http, self.history)
            return
        due = due_series(self.agency, window, now=timezone.now())
        if due:
            yield from self.fetch_due(http, due, now=timezone.now())

    def fetch_due(
        self, http: requests.Session, due: Due, *, now: datetime
    ) -> Iterator[Payload]:
        """The payloads of the series ``due`` (indicator -> its series, preferred
        first), as current at ``now``."""
        raise NotImplementedError

    def fetch_history(
        self, http: requests.Session, history: History
    ) -> Iterator[Payload]:
        """The payloads of ``history``'s indicators over its periods."""
        raise NotImplementedError

    def finish(
        self, records: list[EventRecord], series: list[SeriesVintage], *, now: datetime
    ) -> tuple[list[EventRecord], list[Skip]]:
        built = build_records(self.name, series, now=now, history=self.history)
        return records + built.records, built.skipped

    def history_series(self, history: History) -> list[OfficialSeries]:
        """This agency's series of ``history``'s indicators, each once."""
        found: dict[str, OfficialSeries] = {}
        for slug in history.indicators:
            for spec in official_series().get(slug, ()):
                if spec.agency == self.agency:
                    found.setdefault(spec.series, spec)
        return list(found.values())
