"""BLS Public Data API: US payrolls, unemployment, hourly earnings, CPI and PPI from
the agency itself (docs/sources/bls.md).

``POST https://api.bls.gov/publicAPI/v1/timeseries/data/`` without a key (a small daily
quota: spent only on release days, on the series due, batched in one query), ``/v2/``
with ``BLS_API_KEY``. The body names its series, so ``ingest bls --file`` replays any
recorded response. Parsing: ``ingestion.official.bls``; which release each figure
belongs to: ``ingestion.official.build``.
"""

from collections.abc import Iterator
from datetime import datetime

import requests

from ingestion.official import bls
from ingestion.official.build import History
from ingestion.official.endpoints import BLS_LIMITS, bls_api_key, bls_request, fetch
from ingestion.official.observations import SeriesVintage
from ingestion.official.releases import Due
from ingestion.official.source import OfficialSource
from ingestion.records import ParsedPayload, Skip
from ingestion.sources.base import Payload, register

# Years a release-day query covers: a year-on-year change in January needs the
# December two years back.
RECENT_YEARS = 3


@register
class Bls(OfficialSource):
    name = "bls"
    agency = "bls"
    label = "BLS Public Data API"
    homepage = "https://www.bls.gov/developers/"
    description = (
        "US payrolls, unemployment, earnings, CPI and PPI from the Bureau of Labor "
        "Statistics itself, on release day; no key needed (BLS_API_KEY: v2)."
    )

    def history_years(self) -> int:
        # The query also takes the year before (for the first months' changes).
        return BLS_LIMITS["v2" if bls_api_key() else "v1"][1] - 1

    def fetch_due(
        self, http: requests.Session, due: Due, *, now: datetime
    ) -> Iterator[Payload]:
        ids = sorted({specs[0].series for specs in due.values()})
        yield from self._queries(http, ids, now.year - RECENT_YEARS + 1, now.year)

    def fetch_history(
        self, http: requests.Session, history: History
    ) -> Iterator[Payload]:
        ids = sorted(spec.series for spec in self.history_series(history))
        # A year earlier for the changes on the first months (m/m, y/y).
        yield from self._queries(http, ids, history.start.year - 1, history.end.year)

    def _queries(
        self, http: requests.Session, ids: list[str], first: int, last: int
    ) -> Iterator[Payload]:
        """As few queries as the API version's limits allow."""
        key = bls_api_key()
        max_series, max_years = BLS_LIMITS["v2" if key else "v1"]
        for start in range(0, len(ids), max_series):
            batch = ids[start : start + max_series]
            for year in range(first, last + 1, max_years):
                end = min(year + max_years - 1, last)
                yield fetch(http, bls_request(batch, year, end, api_key=key))

    def extract(self, body: bytes) -> ParsedPayload:
        response = bls.parse_response(body)
        parsed = ParsedPayload()
        for series in response.series.values():
            parsed.series.append(
                SeriesVintage(self.agency, series.series_id, series.observations)
            )
            parsed.skipped.extend(series.skipped)
        for series_id, message in response.errors.items():
            parsed.skipped.append(Skip(f"BLS refused series {series_id}: {message}"))
        return parsed
