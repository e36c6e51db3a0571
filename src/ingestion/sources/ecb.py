"""ECB Data Portal: euro-area HICP, core HICP and the ECB's key rates from the agency
itself (docs/sources/ecb.md).

``GET https://data-api.ecb.europa.eu/service/data/{flow}/{key}?format=jsondata``, no
key, one request per series. An indicator's series are tried in the catalogue's order
and the next one is asked when the portal answers 404 (the HICP dataset that replaced
ICP in February 2026, then ICP for the months before). Parsing:
``ingestion.official.ecb``; which release each figure belongs to:
``ingestion.official.build``.
"""

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import requests

from ingestion.errors import SeriesNotFound
from ingestion.official import ecb
from ingestion.official.build import EFFECT_WINDOW, History
from ingestion.official.endpoints import ecb_data_request, fetch
from ingestion.official.observations import SeriesVintage
from ingestion.official.releases import Due
from ingestion.official.series import OfficialSeries
from ingestion.official.source import OfficialSource
from ingestion.records import ParsedPayload
from ingestion.sources.base import Payload, register

# How far back a release-day request reaches: the prior period and some margin.
RECENT = timedelta(days=400)


@register
class Ecb(OfficialSource):
    name = "ecb"
    agency = "ecb"
    label = "ECB Data Portal"
    homepage = "https://data.ecb.europa.eu/"
    description = (
        "Euro-area HICP, core HICP and the ECB's key rates from the ECB's own data "
        "portal, on release day; no key."
    )

    def fetch_due(
        self, http: requests.Session, due: Due, *, now: datetime
    ) -> Iterator[Payload]:
        for specs in due.values():
            yield self._first_found(http, specs, now.date() - RECENT, None)

    def fetch_history(
        self, http: requests.Session, history: History
    ) -> Iterator[Payload]:
        # Every series, not the first found: the discontinued dataset holds the
        # months the new one may not (build keeps the preferred series' figure).
        for spec in self.history_series(history):
            start = history.start - timedelta(days=RECENT.days)
            try:
                yield self._get(http, spec, start, history.end + EFFECT_WINDOW)
            except SeriesNotFound:
                continue

    def _first_found(
        self,
        http: requests.Session,
        specs: tuple[OfficialSeries, ...],
        start: date,
        end: date | None,
    ) -> Payload:
        for spec in specs[:-1]:
            try:
                return self._get(http, spec, start, end)
            except SeriesNotFound:
                continue
        return self._get(http, specs[-1], start, end)

    @staticmethod
    def _get(
        http: requests.Session, spec: OfficialSeries, start: date, end: date | None
    ) -> Payload:
        def period(day: date | None) -> str | None:
            if day is None:
                return None
            return day.isoformat() if spec.frequency == "D" else f"{day:%Y-%m}"

        request = ecb_data_request(
            spec.flow, spec.key, start=period(start), end=period(end)
        )
        return fetch(http, request)

    def extract(self, body: bytes) -> ParsedPayload:
        parsed = ParsedPayload()
        for series in ecb.parse_data(body):
            parsed.series.append(
                SeriesVintage(self.agency, series.series_id, series.observations)
            )
            parsed.skipped.extend(series.skipped)
        return parsed
