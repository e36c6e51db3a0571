"""The BLS API parser on recorded responses (tests/fixtures/official/bls/PROVENANCE.md)."""

import json
from decimal import Decimal

import pytest

from ingestion.errors import PayloadError
from ingestion.official import bls
from ingestion.official.bls import Footnote
from ingestion.official.observations import Period
from tests.ingestion.official.recorded import (
    cassette_bodies,
    envelope,
    ruby_assigned_json,
    rust_raw_bodies,
)

CPI_2025 = "bls/envelope_v2_CUSR0000SA0_2025_captured-2026-02-17.json"
UNEMPLOYMENT_2025 = "bls/envelope_v2_LNS14000000_2025_captured-2026-02-17.json"
VINTAGE_2016 = (
    "bls/ruby_embedded_v2_CES0000000001_LNS14000000_CES0500000003_vintage-2016-06.rb"
)
CPI_NSA = "bls/rust_embedded_v2_CUUR0000SA0_vintage-2024-06_and_2025-01.rs"
CALCULATIONS = (
    "bls/openbb_cassette_v2_APU0000701111_2022_catalog_calculations_2024-08-19.yaml"
)


def month(year: int, number: int) -> Period:
    return Period.of("M", year, number)


def observations(series: bls.BlsSeries) -> dict[Period, bls.BlsObservation]:
    return {o.period: o for o in series.observations}


def read(relative: str, series_id: str) -> bls.BlsSeries:
    return bls.read_response(envelope(relative)["response"]).get(series_id)


def test_shutdown_month_is_a_gap_that_keeps_its_footnote():
    cpi = observations(read(CPI_2025, "CUSR0000SA0"))
    assert cpi[month(2025, 10)].value is None
    assert cpi[month(2025, 10)].footnotes == (
        Footnote("X", "Data unavailable due to the 2025 lapse in appropriations"),
    )
    assert cpi[month(2025, 11)].value == Decimal("325.063")
    assert cpi[month(2025, 11)].footnotes == ()  # BLS's [{}] is no footnote
    # CPS marks the same gap with another code.
    unemployment = observations(read(UNEMPLOYMENT_2025, "LNS14000000"))
    assert unemployment[month(2025, 10)].value is None
    assert [n.code for n in unemployment[month(2025, 10)].footnotes] == ["9"]


def test_observations_come_oldest_first_with_the_latest_flag():
    series = read(CPI_2025, "CUSR0000SA0")
    assert [str(o.period) for o in series.observations][:2] == ["2025-01", "2025-02"]
    assert not any(o.latest for o in series.observations)
    [january] = read(
        "bls/envelope_v2_CUSR0000SA0_2026_captured-2026-02-17.json", "CUSR0000SA0"
    ).observations
    assert (january.period, january.value, january.latest) == (
        month(2026, 1),
        Decimal("326.588"),
        True,
    )


def test_first_print_vintage_flags_the_two_latest_payroll_months_preliminary():
    response = bls.read_results(ruby_assigned_json(VINTAGE_2016, "data"))
    payrolls = observations(response.get("CES0000000001"))
    assert payrolls[month(2016, 5)].value == Decimal("143894")
    assert payrolls[month(2016, 5)].preliminary
    assert payrolls[month(2016, 4)].preliminary
    assert not payrolls[month(2016, 3)].preliminary
    # The household survey (CPS) carries no P flag.
    unemployment = response.get("LNS14000000")
    assert not any(o.preliminary for o in unemployment.observations)
    assert set(response.series) == {"CES0000000001", "LNS14000000", "CES0500000003"}


def test_full_body_from_bytes():
    first, _ = rust_raw_bodies(CPI_NSA)
    response = bls.parse_response(first)
    assert (response.warnings, response.errors) == ((), {})
    cpi = observations(response.get("CUUR0000SA0"))
    assert len(cpi) == 29  # 2022-01 .. 2024-05
    assert cpi[month(2024, 5)].latest
    assert cpi[month(2024, 5)].value == Decimal("314.069")
    assert cpi[month(2022, 6)].value == Decimal("296.311")


def test_no_data_message_is_a_warning_and_m13_is_the_annual_average():
    _, second = rust_raw_bodies(CPI_NSA)
    response = bls.parse_response(second)
    assert response.warnings == ("No Data Available for Series CUUR0000SA0 Year: 2025",)
    assert response.errors == {}
    [average] = response.get("CUUR0000SA0").observations
    assert (average.period, average.period_code, average.annual_average) == (
        Period.of("A", 2024),
        "M13",
        True,
    )
    assert average.value == Decimal("313.689")


def test_catalog_and_calculations():
    [body] = cassette_bodies(CALCULATIONS)
    series = bls.parse_response(body).get("APU0000701111")
    assert series.title.startswith("Flour, white, all purpose, per lb.")
    december = observations(series)[month(2022, 12)]
    assert december.value == Decimal("0.522")
    assert december.calculations.pct_changes == {
        1: Decimal("-0.4"),
        3: Decimal("-6.1"),
        6: Decimal("4.8"),
        12: Decimal("34.5"),
    }
    assert december.calculations.net_changes[1] == Decimal("-0.002")
    # annualaverage=true was asked for, yet no M13 row came back.
    assert all(o.period.frequency == "M" for o in series.observations)


# Error answers: no error response was recorded. These bodies are constructed from
# the shape of the recorded ones and message texts quoted by public BLS clients.


def body(status: str, messages: list[str], series: list | None = None) -> bytes:
    return json.dumps(
        {
            "status": status,
            "responseTime": 12,
            "message": messages,
            "Results": {} if series is None else {"series": series},
        }
    ).encode()


QUOTA = (
    "Request could not be serviced, as the daily threshold for total number of"
    " requests allocated to the user has been reached."
)


def test_a_refused_request_is_a_payload_error_with_bls_message():
    with pytest.raises(PayloadError, match="daily threshold") as caught:
        bls.parse_response(body("REQUEST_NOT_PROCESSED", [QUOTA]))
    assert "REQUEST_NOT_PROCESSED" in str(caught.value)


def test_an_unknown_series_fails_alone_naming_itself():
    good = {"seriesID": "LNS14000000", "data": [
        {"year": "2022", "period": "M06", "periodName": "June", "value": "3.6",
         "footnotes": [{}]}
    ]}  # fmt: skip
    response = bls.parse_response(
        body(
            "REQUEST_SUCCEEDED",
            ["Series does not exist for Series CUSR0000SA9"],
            [good, {"seriesID": "CUSR0000SA9", "data": []}],
        )
    )
    with pytest.raises(PayloadError, match="series CUSR0000SA9: Series does not exist"):
        response.get("CUSR0000SA9")
    assert response.get("LNS14000000").observations[0].value == Decimal("3.6")
    with pytest.raises(PayloadError, match="series CES0000000001 is not in"):
        response.get("CES0000000001")


def test_an_error_about_the_request_fails_even_when_status_says_succeeded():
    with pytest.raises(PayloadError, match="key provided by the User is invalid"):
        bls.parse_response(
            body("REQUEST_SUCCEEDED", ["The key provided by the User is invalid."], [])
        )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "response is malformed"),
        (b"[]", "response is not a JSON object"),
        (b'{"status": "REQUEST_SUCCEEDED", "message": []}', "Results is not"),
        (body("REQUEST_SUCCEEDED", [], [{"data": []}]), "has no seriesID"),
    ],
)
def test_malformed_responses(payload, message):
    with pytest.raises(PayloadError, match=message):
        bls.parse_response(payload)


def test_a_bad_row_is_skipped_and_counted():
    rows = [
        {"year": "2022", "period": "M06", "value": "3.6", "footnotes": [{}]},
        {"year": "2022", "period": "M14", "value": "3.6"},
        {"year": "2022", "period": "M05", "value": "n/a"},
    ]
    series = bls.parse_response(
        body("REQUEST_SUCCEEDED", [], [{"seriesID": "LNS14000000", "data": rows}])
    ).get("LNS14000000")
    assert [str(o.period) for o in series.observations] == ["2022-06"]
    assert [s.reason for s in series.skipped] == [
        "period 'M14' does not exist",
        "2022-05: value 'n/a' is not a number",
    ]


@pytest.mark.parametrize(
    ("year", "code", "period"),
    [
        ("2024", "M01", "2024-01"),
        ("2024", "M13", "2024"),
        ("2024", "Q03", "2024-Q3"),
        ("2024", "Q05", "2024"),
        ("2024", "S02", "2024-S2"),
        ("2024", "S03", "2024"),
        ("2024", "A01", "2024"),
    ],
)
def test_period_codes(year, code, period):
    assert str(bls.read_period(year, code)) == period
