"""The agencies' HTTP requests, built as data (pure, tested), and ``fetch`` to send one.

* BLS: ``POST https://api.bls.gov/publicAPI/v2/timeseries/data/`` with a JSON body
  when ``BLS_API_KEY`` is set (key in the body, 50 series and 20 years a query,
  ``catalog``/``calculations``/``annualaverage`` available); otherwise v1, no key,
  no options, 25 series and 10 years a query, and a small daily quota.
* FRED/ALFRED: ``GET https://api.stlouisfed.org/fred/...`` with ``api_key`` (from
  ``FRED_API_KEY``, always required) and ``file_type=json`` in the query string.
* ECB: ``GET https://data-api.ecb.europa.eu/service/data/{flow}/{key}`` with
  ``format=jsondata``; no key.

Keys never reach a log: ``fetch`` records the URL with the key masked and rewrites
the text of HTTP errors, whose message would otherwise quote the full URL.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

import requests
from django.conf import settings

from ingestion.errors import IngestionError, PayloadError, SeriesNotFound
from ingestion.sources.base import Payload, check_not_blocked

BLS_URL = "https://api.bls.gov/publicAPI/{version}/timeseries/data/"
FRED_URL = "https://api.stlouisfed.org/fred/"
ECB_URL = "https://data-api.ecb.europa.eu/service/data/"
# Per query: (series, years). api.bls.gov/developers, as quoted by several clients.
BLS_LIMITS = {"v1": (25, 10), "v2": (50, 20)}
MASK = "***"


@dataclass(frozen=True)
class ApiRequest:
    agency: str
    method: str
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, object] | None = None  # sent as JSON
    secret: str = ""  # the key, masked wherever the request is shown

    def shown(self) -> str:
        """The URL with its query string, the key masked: safe for logs and runs."""
        query = urlencode(self.params)
        url = f"{self.url}?{query}" if query else self.url
        return self.mask(url)

    def mask(self, text: str) -> str:
        return text.replace(self.secret, MASK) if self.secret else text


def bls_api_key() -> str:
    """The configured BLS key; "" selects API v1."""
    return settings.BLS_API_KEY


def fred_api_key() -> str:
    """The configured FRED key; "" means FRED series cannot be fetched."""
    return settings.FRED_API_KEY


def bls_request(
    series_ids: list[str],
    start_year: int,
    end_year: int,
    *,
    api_key: str = "",
    catalog: bool = False,
    calculations: bool = False,
    annual_average: bool = False,
) -> ApiRequest:
    """The BLS data request: v2 with ``api_key``, else v1; ValueError past its limits."""
    version = "v2" if api_key else "v1"
    max_series, max_years = BLS_LIMITS[version]
    if not series_ids or len(series_ids) > max_series:
        raise ValueError(f"BLS {version} takes 1 to {max_series} series a query")
    if not 0 <= end_year - start_year < max_years:
        raise ValueError(
            f"BLS {version} takes at most {max_years} years a query, not"
            f" {start_year}..{end_year}"
        )
    body: dict[str, object] = {
        "seriesid": list(series_ids),
        "startyear": str(start_year),
        "endyear": str(end_year),
    }
    options = {
        "catalog": catalog,
        "calculations": calculations,
        "annualaverage": annual_average,
    }
    if api_key:
        body |= {"registrationkey": api_key, **options}
    elif any(options.values()):
        asked = ", ".join(name for name, on in options.items() if on)
        raise ValueError(f"BLS {asked} needs a key (BLS_API_KEY): v1 has no options")
    return ApiRequest(
        "bls", "POST", BLS_URL.format(version=version), body=body, secret=api_key
    )


def fred_observations_request(
    series_id: str,
    *,
    api_key: str,
    output_type: int = 1,
    realtime_start: date | None = None,
    realtime_end: date | None = None,
    observation_start: date | None = None,
    observation_end: date | None = None,
) -> ApiRequest:
    """``series/observations``; ALFRED vintages via ``realtime_*`` and ``output_type``.

    ``output_type`` 1 lists values by real-time period, 4 the initial release only.
    """
    if output_type not in (1, 2, 3, 4):
        raise ValueError(f"FRED output_type {output_type} is not 1, 2, 3 or 4")
    return _fred(
        "series/observations",
        api_key,
        series_id=series_id,
        output_type=str(output_type),
        realtime_start=realtime_start,
        realtime_end=realtime_end,
        observation_start=observation_start,
        observation_end=observation_end,
    )


def fred_vintage_dates_request(series_id: str, *, api_key: str) -> ApiRequest:
    """``series/vintagedates``: every day on which the series was revised."""
    return _fred("series/vintagedates", api_key, series_id=series_id)


def fred_release_dates_request(
    release_id: int,
    *,
    api_key: str,
    realtime_start: date | None = None,
    realtime_end: date | None = None,
    include_future: bool = False,
) -> ApiRequest:
    """``release/dates``; ``include_future`` adds scheduled dates without data yet."""
    return _fred(
        "release/dates",
        api_key,
        release_id=str(release_id),
        realtime_start=realtime_start,
        realtime_end=realtime_end,
        include_release_dates_with_no_data="true" if include_future else None,
    )


def _fred(path: str, api_key: str, **params: str | date | None) -> ApiRequest:
    if not api_key:
        raise ValueError("the FRED API needs a key (FRED_API_KEY)")
    query = {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in params.items()
        if value is not None
    }
    query |= {"api_key": api_key, "file_type": "json"}
    return ApiRequest("fred", "GET", FRED_URL + path, params=query, secret=api_key)


def ecb_data_request(
    flow: str, key: str, *, start: str | None = None, end: str | None = None
) -> ApiRequest:
    """One ECB series as SDMX-JSON; ``start``/``end`` are SDMX periods ("2025-01")."""
    if not flow or not key or "/" in flow + key:
        raise ValueError(f"ECB flow {flow!r} and key {key!r} must be non-empty, no '/'")
    params = {"format": "jsondata"}
    if start:
        params["startPeriod"] = start
    if end:
        params["endPeriod"] = end
    return ApiRequest("ecb", "GET", f"{ECB_URL}{flow}/{key}", params=params)


def fetch(http: requests.Session, request: ApiRequest) -> Payload:
    """Send ``request`` through the shared session; the body and the masked URL.

    SourceBlocked on 401/403/429/503, PayloadError with the agency's message on a
    FRED 400, SeriesNotFound on a 404 (the ECB's answer to a series it does not have),
    IngestionError (key masked) on any other failure.
    """
    try:
        response = http.request(
            request.method, request.url, params=request.params, json=request.body
        )
    except requests.RequestException as exc:
        raise IngestionError(
            f"{request.agency}: {request.shown()} failed: {request.mask(str(exc))}"
        ) from None
    check_not_blocked(request.agency, response.content, response.status_code)
    if response.status_code >= 400:
        detail = _error_message(response) or response.reason
        error = {400: PayloadError, 404: SeriesNotFound}.get(
            response.status_code, IngestionError
        )
        raise error(
            f"{request.agency}: HTTP {response.status_code} from {request.shown()}:"
            f" {request.mask(str(detail))}"
        )
    return Payload(response.content, request.shown())


def _error_message(response: requests.Response) -> str:
    """FRED answers errors as ``{"error_code": 400, "error_message": "..."}``."""
    try:
        data = response.json()
    except ValueError:
        return ""
    return str(data.get("error_message", "")) if isinstance(data, dict) else ""
