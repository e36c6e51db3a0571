"""The FRED/ALFRED parsers on recorded responses (tests/fixtures/official/fred/)."""

from datetime import date
from decimal import Decimal

import pytest

from ingestion.errors import PayloadError
from ingestion.official import fred
from ingestion.official.observations import Period
from tests.conftest import fixture_bytes
from tests.ingestion.official.recorded import cassette_bodies

INITIAL = "fred/alfred_GDP_observations_output_type4_initial_release_2024-11-03_2025-01-20.cassette.yaml"
VINTAGES = (
    "fred/alfred_GDP_observations_all_vintages_2024-11-03_2025-01-20.cassette.yaml"
)
CURRENT = "fred/fred_GDP_observations_current_2024-11-03_2025-01-20.cassette.yaml"
PAYEMS = "official/fred/fred_PAYEMS_observations_vintage-2023-05-05_prettyprinted.json"
Q2_2022 = Period.of("Q", 2022, 2)


def gdp(body: bytes) -> fred.FredSeries:
    return fred.parse_observations(body, series_id="GDP", frequency="Q")


def by_period(observations) -> dict[Period, fred.FredObservation]:
    return {o.period: o for o in observations}


def test_initial_releases_are_first_prints_with_their_release_day():
    november, january = (gdp(body) for body in cassette_bodies(INITIAL))
    assert november.output_type == 4
    assert len(november.observations) == 132
    first = by_period(november.observations)
    assert first[Q2_2022].value == Decimal("24851.809")
    assert first[Q2_2022].realtime_start == date(2022, 7, 28)  # advance estimate
    assert first[Q2_2022].realtime_end == date(2022, 8, 24)
    assert first[Period.of("Q", 2023, 1)].value == Decimal("26465.865")
    assert first[Period.of("Q", 2024, 2)].realtime_start == date(2024, 7, 25)
    # 2024-Q3's first print was still current in November, superseded by January.
    q3 = Period.of("Q", 2024, 3)
    assert first[q3].realtime_end == date(9999, 12, 31)
    assert by_period(january.observations)[q3].realtime_end == date(2024, 11, 26)


def test_all_vintages_of_one_quarter():
    november = gdp(cassette_bodies(VINTAGES)[0])
    assert len(november.observations) == 3199
    assert november.skipped == ()
    q2 = [o for o in november.observations if o.period == Q2_2022]
    assert [(o.value, o.realtime_start) for o in q2] == [
        (Decimal("24851.809"), date(2022, 7, 28)),
        (Decimal("24882.878"), date(2022, 8, 25)),
        (Decimal("25248.476"), date(2022, 9, 29)),
        (Decimal("25544.273"), date(2023, 9, 28)),
        (Decimal("25805.791"), date(2024, 9, 26)),
    ]


def test_vintage_picks_what_was_known_on_a_day():
    november = gdp(cassette_bodies(VINTAGES)[0])
    known = by_period(november.vintage(date(2022, 9, 1)))
    assert known[Q2_2022].value == Decimal("24882.878")  # the second estimate
    assert Period.of("Q", 2022, 3) not in known  # not released yet
    # One value per period: a vintage is what a transformation takes.
    assert len(known) == len({o.period for o in known.values()})


def test_a_dot_is_a_missing_value():
    current = gdp(cassette_bodies(CURRENT)[0])
    assert current.observations[0].period == Period.of("Q", 1946, 1)
    assert current.observations[0].value is None
    assert len(current.observations) == 315


def test_a_date_that_does_not_start_a_month_is_skipped_not_guessed():
    payrolls = fred.parse_observations(
        fixture_bytes(PAYEMS), series_id="PAYEMS", frequency="M"
    )
    # The recording's first row is dated 1999-01-04 (see PROVENANCE.md).
    assert [s.reason for s in payrolls.skipped] == [
        "1999-01-04 is not the first day of a month"
    ]
    assert len(payrolls.observations) == 291
    april = payrolls.observations[-1]
    assert (april.period, april.value, april.realtime_start) == (
        Period.of("M", 2023, 4),
        Decimal("155673"),
        date(2023, 5, 5),
    )


def test_two_independent_captures_agree():
    may_2023 = fred.parse_observations(
        fixture_bytes("official/fred/fred_GDP_observations_vintage-2023-05-09.json"),
        series_id="GDP",
        frequency="Q",
    )
    known = by_period(may_2023.observations)
    first = by_period(gdp(cassette_bodies(INITIAL)[0]).observations)
    q1_2023 = Period.of("Q", 2023, 1)
    assert known[q1_2023].value == first[q1_2023].value == Decimal("26465.865")
    assert known[Q2_2022].value == Decimal("25248.476")  # the 2022-09-29 vintage


def test_vintage_dates():
    november, _, january, _ = (
        fred.parse_vintage_dates(body)
        for body in cassette_bodies(
            "fred/alfred_GDP_series_vintagedates_2024-11-03_2025-01-20.cassette.yaml"
        )
    )
    assert (len(november), len(january)) == (393, 395)
    assert november[0] == date(1991, 12, 4)
    assert january[-2:] == (date(2024, 11, 27), date(2024, 12, 19))


def test_release_dates():
    bodies = cassette_bodies(
        "fred/fred_release_dates_release_id10_CPI_2024-11-03_2025-01-20.cassette.yaml"
    )
    november, january = (
        fred.parse_release_dates(bodies[0]),
        fred.parse_release_dates(bodies[2]),
    )
    assert (len(november), len(january)) == (927, 930)
    assert {r.release_id for r in november} == {10}
    days_2022 = [r.date for r in november if r.date.year == 2022]
    assert date(2022, 7, 13) in days_2022  # June-2022 CPI, 9.1 % y/y
    assert len(days_2022) == 13  # 12 monthly releases and 2022-02-08
    assert (november[-1].date, january[-1].date) == (
        date(2024, 10, 10),
        date(2025, 1, 15),
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # The error envelope as public FRED clients quote it (not recorded here).
        (
            b'{"error_code":400,"error_message":"Bad Request.  The series does not exist."}',
            "series/observations: Bad Request.  The series does not exist.",
        ),
        (b"<html>", "series/observations is malformed"),
        (b'{"observations": {}}', "observations is not a JSON array"),
    ],
)
def test_errors(body, message):
    with pytest.raises(PayloadError, match=message):
        fred.parse_observations(body, series_id="GDP", frequency="Q")
