"""Request builders (pure) and ``fetch`` with ``responses`` serving recorded bodies."""

import json
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from django.test import override_settings
from responses import matchers

from ingestion.errors import IngestionError, PayloadError, SourceBlocked
from ingestion.http import build_session
from ingestion.official import bls, ecb, endpoints, fred
from ingestion.official.observations import Period
from tests.ingestion.official.recorded import (
    cassette_bodies,
    cassette_uris,
    envelope,
    envelope_body,
    rust_raw_bodies,
)

KEY = "abcdefghijklmnopqrstuvwxyz123456"  # the documented example key, not a real one
INITIAL = "fred/alfred_GDP_observations_output_type4_initial_release_2024-11-03_2025-01-20.cassette.yaml"


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# ---- BLS ---------------------------------------------------------------------------


def test_bls_without_a_key_uses_v1_and_sends_no_options():
    request = endpoints.bls_request(["CUSR0000SA0", "LNS14000000"], 2024, 2025)
    assert (request.method, request.url) == (
        "POST",
        "https://api.bls.gov/publicAPI/v1/timeseries/data/",
    )
    assert request.body == {
        "seriesid": ["CUSR0000SA0", "LNS14000000"],
        "startyear": "2024",
        "endyear": "2025",
    }
    with pytest.raises(ValueError, match="calculations needs a key"):
        endpoints.bls_request(["CUSR0000SA0"], 2024, 2025, calculations=True)


def test_bls_with_a_key_uses_v2_with_the_key_in_the_body():
    request = endpoints.bls_request(
        ["APU0000701111"], 2022, 2022, api_key=KEY, catalog=True, calculations=True,
        annual_average=True,
    )  # fmt: skip
    assert request.url == "https://api.bls.gov/publicAPI/v2/timeseries/data/"
    # The same body OpenBB recorded (its key was MOCK_API_KEY), years as strings.
    assert request.body == {
        "seriesid": ["APU0000701111"],
        "startyear": "2022",
        "endyear": "2022",
        "catalog": True,
        "calculations": True,
        "annualaverage": True,
        "registrationkey": KEY,
    }
    assert KEY not in request.shown()


@pytest.mark.parametrize(
    ("series", "years", "key", "message"),
    [
        (26, (2015, 2016), "", "BLS v1 takes 1 to 25 series"),
        (51, (2015, 2016), KEY, "BLS v2 takes 1 to 50 series"),
        (0, (2015, 2016), KEY, "BLS v2 takes 1 to 50 series"),
        (1, (2006, 2016), "", "BLS v1 takes at most 10 years a query, not 2006..2016"),
        (1, (1996, 2016), KEY, "BLS v2 takes at most 20 years"),
        (1, (2016, 2015), KEY, "not 2016..2015"),
    ],
)
def test_bls_limits(series, years, key, message):
    with pytest.raises(ValueError, match=message):
        endpoints.bls_request([f"S{i:08d}" for i in range(series)], *years, api_key=key)


def test_bls_limits_are_inclusive():
    assert endpoints.bls_request(["S"] * 25, 2007, 2016).url.endswith(
        "/v1/timeseries/data/"
    )
    assert (
        endpoints.bls_request(["S"] * 50, 1997, 2016, api_key=KEY).body["endyear"]
        == "2016"
    )


@responses.activate
def test_bls_round_trip():
    body = rust_raw_bodies(
        "bls/rust_embedded_v2_CUUR0000SA0_vintage-2024-06_and_2025-01.rs"
    )[0]
    responses.post("https://api.bls.gov/publicAPI/v1/timeseries/data/", body=body)
    request = endpoints.bls_request(["CUUR0000SA0"], 2022, 2024)
    payload = endpoints.fetch(build_session(retries=0), request)
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"seriesid": ["CUUR0000SA0"], "startyear": "2022", "endyear": "2024"}
    series = bls.parse_response(payload.body).get("CUUR0000SA0")
    assert series.observations[-1].value == Decimal("314.069")
    assert payload.url == "https://api.bls.gov/publicAPI/v1/timeseries/data/"


@override_settings(BLS_API_KEY="", FRED_API_KEY=KEY)
def test_keys_come_from_settings():
    assert endpoints.bls_api_key() == ""
    assert endpoints.fred_api_key() == KEY


# ---- FRED --------------------------------------------------------------------------


def test_fred_initial_release_request_is_the_recorded_one():
    request = endpoints.fred_observations_request(
        "GDP", api_key=KEY, output_type=4, realtime_start=date(1776, 7, 4)
    )
    assert request.url == "https://api.stlouisfed.org/fred/series/observations"
    recorded = query(cassette_uris(INITIAL)[0])  # api_key was filtered out of it
    assert recorded == {k: v for k, v in request.params.items() if k != "api_key"}
    assert request.params["api_key"] == KEY
    assert request.shown() == (
        "https://api.stlouisfed.org/fred/series/observations?series_id=GDP"
        "&output_type=4&realtime_start=1776-07-04&api_key=***&file_type=json"
    )


def test_fred_other_requests_are_the_recorded_ones():
    vintage_dates = endpoints.fred_vintage_dates_request("GDP", api_key=KEY)
    release_dates = endpoints.fred_release_dates_request(10, api_key=KEY)
    for request, cassette in [
        (vintage_dates, "fred/alfred_GDP_series_vintagedates_2024-11-03_2025-01-20.cassette.yaml"),
        (release_dates, "fred/fred_release_dates_release_id10_CPI_2024-11-03_2025-01-20.cassette.yaml"),
    ]:  # fmt: skip
        uri = cassette_uris(cassette)[0]
        assert uri.split("?")[0] == request.url
        assert query(uri) == {k: v for k, v in request.params.items() if k != "api_key"}
    future = endpoints.fred_release_dates_request(10, api_key=KEY, include_future=True)
    assert future.params["include_release_dates_with_no_data"] == "true"


def test_fred_needs_a_key_and_a_valid_output_type():
    with pytest.raises(ValueError, match="FRED_API_KEY"):
        endpoints.fred_observations_request("GDP", api_key="")
    with pytest.raises(ValueError, match="output_type 5"):
        endpoints.fred_observations_request("GDP", api_key=KEY, output_type=5)


def fred_url_matcher():
    return matchers.query_param_matcher(
        {"series_id": "GDP", "output_type": "4", "realtime_start": "1776-07-04",
         "api_key": KEY, "file_type": "json"}
    )  # fmt: skip


@responses.activate
def test_fred_round_trip_masks_the_key():
    responses.get(
        "https://api.stlouisfed.org/fred/series/observations",
        body=cassette_bodies(INITIAL)[0],
        match=[fred_url_matcher()],
    )
    request = endpoints.fred_observations_request(
        "GDP", api_key=KEY, output_type=4, realtime_start=date(1776, 7, 4)
    )
    payload = endpoints.fetch(build_session(retries=0), request)
    assert KEY not in payload.url
    assert "api_key=***" in payload.url
    first = fred.parse_observations(payload.body, series_id="GDP", frequency="Q")
    assert {o.period: o.value for o in first.observations}[
        Period.of("Q", 2022, 2)
    ] == Decimal("24851.809")


@responses.activate
def test_fred_error_is_a_payload_error_without_the_key():
    responses.get(
        "https://api.stlouisfed.org/fred/series/observations",
        status=400,
        # FRED's error envelope as public clients quote it; this one echoes the key.
        json={
            "error_code": 400,
            "error_message": f"Bad Request.  api_key={KEY} is wrong",
        },
    )
    request = endpoints.fred_observations_request("GDP", api_key=KEY)
    with pytest.raises(PayloadError) as caught:
        endpoints.fetch(build_session(retries=0), request)
    assert "fred: HTTP 400" in str(caught.value)
    assert "Bad Request.  api_key=*** is wrong" in str(caught.value)
    assert KEY not in str(caught.value)


@responses.activate
def test_a_connection_failure_does_not_leak_the_key():
    responses.get(
        "https://api.stlouisfed.org/fred/series/observations",
        body=requests.ConnectionError(
            f"Max retries exceeded with url: /fred/series/observations?api_key={KEY}"
        ),
    )
    request = endpoints.fred_observations_request("GDP", api_key=KEY)
    with pytest.raises(IngestionError) as caught:
        endpoints.fetch(build_session(retries=0), request)
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None  # the original, with the URL, is dropped
    assert caught.value.__suppress_context__


@responses.activate
@pytest.mark.parametrize(
    ("status", "error"), [(429, SourceBlocked), (500, IngestionError)]
)
def test_http_failures(status, error):
    responses.get("https://api.stlouisfed.org/fred/release/dates", status=status)
    request = endpoints.fred_release_dates_request(10, api_key=KEY)
    with pytest.raises(error) as caught:
        endpoints.fetch(build_session(retries=0), request)
    assert KEY not in str(caught.value)


# ---- ECB ---------------------------------------------------------------------------


def test_ecb_request_is_the_recorded_one_plus_the_format():
    recorded = envelope(
        "ecb/envelope_sdmxjson_ICP_M.U2.N.000000.4.ANR_2025_captured-2026-02-17.json"
    )["request"]["url"]
    request = endpoints.ecb_data_request(
        "ICP", "M.U2.N.000000.4.ANR", start="2025-01-01", end="2025-12-31"
    )
    assert request.url == recorded.split("?")[0]
    assert request.params == query(recorded) | {"format": "jsondata"}
    assert endpoints.ecb_data_request("FM", "D.U2.EUR.4F.KR.DFR.LEV").shown() == (
        "https://data-api.ecb.europa.eu/service/data/FM/D.U2.EUR.4F.KR.DFR.LEV"
        "?format=jsondata"
    )
    with pytest.raises(ValueError, match="no '/'"):
        endpoints.ecb_data_request("ICP", "M.U2/../x")


@responses.activate
def test_ecb_round_trip():
    responses.get(
        "https://data-api.ecb.europa.eu/service/data/ICP/M.U2.N.000000.4.ANR",
        body=envelope_body(
            "ecb/envelope_sdmxjson_ICP_M.U2.N.000000.4.ANR_2025_captured-2026-02-17.json"
        ),
        match=[matchers.query_param_matcher({"format": "jsondata"})],
    )
    payload = endpoints.fetch(
        build_session(retries=0),
        endpoints.ecb_data_request("ICP", "M.U2.N.000000.4.ANR"),
    )
    [series] = ecb.parse_data(payload.body)
    assert series.observations[0].value == Decimal("2.5")
