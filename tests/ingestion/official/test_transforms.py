"""Transformations to the calendar figure, checked against facts and printed figures.

Each figure is computed with the catalogue's own specification (its ``official:`` lists) from a
real recording, then compared with a fact in tests/fixtures/official/*/PROVENANCE.md
or with what ForexFactory / Investing printed for the same month.
"""

from datetime import date
from decimal import Decimal
from functools import cache

import pytest

from ingestion.official import bls, ecb, fred
from ingestion.official.observations import Observation, Period
from ingestion.official.series import OfficialSeries, official_series
from ingestion.official.transforms import (
    bls_pct_change,
    difference,
    level,
    pct_change,
    pct_change_annualised,
    pct_change_yoy,
    round_figure,
)
from ingestion.records import EventRecord
from ingestion.sources import get_source
from tests.conftest import fixture_bytes
from tests.ingestion.official.recorded import (
    cassette_bodies,
    envelope,
    ruby_assigned_json,
    rust_raw_bodies,
)


def month(year: int, number: int) -> Period:
    return Period.of("M", year, number)


def quarter(year: int, number: int) -> Period:
    return Period.of("Q", year, number)


@cache
def spec(slug: str, agency: str) -> OfficialSeries:
    """The catalogue's entry for ``slug`` from ``agency``."""
    return next(s for s in official_series()[slug] if s.agency == agency)


def printed(figure: Decimal, series: OfficialSeries) -> str:
    """The figure as a calendar prints it: "1.3%", "38K"."""
    return f"{figure}{series.unit}"


def bls_envelope(relative: str, series_id: str) -> tuple[bls.BlsObservation, ...]:
    return bls.read_response(envelope(relative)["response"]).get(series_id).observations


@cache
def vintage_2016() -> bls.BlsResponse:
    return bls.read_results(
        ruby_assigned_json(
            "bls/ruby_embedded_v2_CES0000000001_LNS14000000_CES0500000003_vintage-2016-06.rb",
            "data",
        )
    )


@cache
def cpi_nsa_2024() -> tuple[bls.BlsObservation, ...]:
    body = rust_raw_bodies(
        "bls/rust_embedded_v2_CUUR0000SA0_vintage-2024-06_and_2025-01.rs"
    )[0]
    return bls.parse_response(body).get("CUUR0000SA0").observations


@cache
def cpi_sa(year: int) -> tuple[bls.BlsObservation, ...]:
    return bls_envelope(
        f"bls/envelope_v2_CUSR0000SA0_{year}_captured-2026-02-17.json", "CUSR0000SA0"
    )


@cache
def gdp_vintages() -> fred.FredSeries:
    body = cassette_bodies(
        "fred/alfred_GDP_observations_all_vintages_2024-11-03_2025-01-20.cassette.yaml"
    )[0]
    return fred.parse_observations(body, series_id="GDP", frequency="Q")


@cache
def calendar_week(relative: str) -> dict[str, EventRecord]:
    """US events of a recorded calendar payload, by name, parsed by our own source."""
    source = "investing" if relative.startswith("investing") else "forexfactory"
    parsed = get_source(source).parse(fixture_bytes(relative))
    return {r.event_name: r for r in parsed.records if r.country == "US"}


# ---- rounding and the arithmetic ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        ("0.25", 1, "0.3"),  # half up, where half-even would give 0.2
        ("-0.25", 1, "-0.3"),  # ties away from zero
        ("1.2499", 1, "1.2"),
        ("-0.0149", 1, "0.0"),  # never "-0.0"
        ("37.5", 0, "38"),
        ("2", 1, "2.0"),
    ],
)
def test_round_figure(value, decimals, expected):
    assert str(round_figure(Decimal(value), decimals)) == expected


def series_of(*values: str | None, frequency: str = "M") -> list[Observation]:
    start = Period.of(frequency, 2024, 1)
    return [
        Observation("X", start.shifted(i), None if v is None else Decimal(v))
        for i, v in enumerate(values)
    ]


def test_a_gap_yields_no_figure_for_the_periods_that_need_it():
    values = series_of("100", "101", None, "103", "104")
    assert level(values, 0) == {
        month(2024, 1): Decimal("100"),
        month(2024, 2): Decimal("101"),
        month(2024, 4): Decimal("103"),
        month(2024, 5): Decimal("104"),
    }
    assert difference(values, 0) == {
        month(2024, 2): Decimal("1"),
        month(2024, 5): Decimal("1"),
    }


def test_year_on_year_looks_one_year_back():
    values = series_of(*[str(100 + i) for i in range(13)])
    assert pct_change_yoy(values, 1) == {month(2025, 1): Decimal("12.0")}
    quarters = series_of("100", "101", "102", "103", "110", frequency="Q")
    assert pct_change_yoy(quarters, 1) == {quarter(2025, 1): Decimal("10.0")}


def test_annualised_compounds_over_the_year():
    quarters = series_of("100", "101", frequency="Q")
    # 1.01 ** 4 = 1.04060401
    assert pct_change_annualised(quarters, 2) == {quarter(2024, 2): Decimal("4.06")}


def test_several_vintages_at_once_are_refused():
    with pytest.raises(
        ValueError, match="GDP: two values for 1946-Q1; pass one vintage"
    ):
        pct_change_annualised(gdp_vintages().observations, 1)


def test_mixed_frequencies_are_refused():
    with pytest.raises(ValueError, match="mix frequencies"):
        level([*series_of("1"), *series_of("2", frequency="A")], 1)


def test_changes_of_a_daily_series_are_refused():
    with pytest.raises(ValueError, match="monthly, quarterly or yearly"):
        pct_change(series_of("1", "2", frequency="D"), 1)


def test_spec_figures_ignore_annual_averages():
    _, with_m13 = rust_raw_bodies(
        "bls/rust_embedded_v2_CUUR0000SA0_vintage-2024-06_and_2025-01.rs"
    )
    observations = bls.parse_response(with_m13).get("CUUR0000SA0").observations
    assert spec("us-cpi-yoy", "bls").figures(observations) == {}
    assert level(observations, 3) == {Period.of("A", 2024): Decimal("313.689")}


# ---- PROVENANCE facts --------------------------------------------------------------


def test_may_2016_payrolls_first_print_was_plus_38k():
    payrolls = spec("us-nonfarm-payrolls", "bls")
    figures = payrolls.figures(vintage_2016().get("CES0000000001").observations)
    assert printed(figures[month(2016, 5)], payrolls) == "38K"
    assert printed(figures[month(2016, 4)], payrolls) == "123K"  # April, revised


def test_may_2016_unemployment_and_hourly_earnings():
    rate = spec("us-unemployment-rate", "bls")
    earnings = spec("us-average-hourly-earnings-mom", "bls")
    assert rate.figures(vintage_2016().get("LNS14000000").observations)[
        month(2016, 5)
    ] == Decimal("4.7")
    # $25.54 -> $25.59: +0.196 % -> 0.2
    assert earnings.figures(vintage_2016().get("CES0500000003").observations)[
        month(2016, 5)
    ] == Decimal("0.2")


def test_april_2023_payrolls_first_print_was_plus_253k_from_fred():
    payrolls = spec("us-nonfarm-payrolls", "fred")
    vintage = fred.parse_observations(
        fixture_bytes(
            "official/fred/fred_PAYEMS_observations_vintage-2023-05-05_prettyprinted.json"
        ),
        series_id="PAYEMS",
        frequency="M",
    )
    figures = payrolls.figures(vintage.vintage(date(2023, 5, 5)))
    assert printed(figures[month(2023, 4)], payrolls) == "253K"
    assert printed(figures[month(2023, 3)], payrolls) == "165K"  # March, revised


def test_june_and_july_2022_cpi_month_on_month():
    cpi = spec("us-cpi-mom", "bls")
    figures = cpi.figures(cpi_sa(2022))
    assert figures[month(2022, 6)] == Decimal("1.3")  # 294.957 / 291.298
    assert str(figures[month(2022, 7)]) == "0.0"  # -0.015 %, printed 0.0


def test_cpi_year_on_year_from_the_unrevised_index():
    cpi = spec("us-cpi-yoy", "bls")
    figures = cpi.figures(cpi_nsa_2024())
    assert figures[month(2024, 5)] == Decimal("3.3")  # 314.069 / 304.127
    assert figures[month(2023, 6)] == Decimal("3.0")  # 305.109 / 296.311
    # The recording starts in January 2022: June 2022 (9.1 %) needs June 2021,
    # which no recording holds, so no figure is made up for it.
    assert month(2022, 6) not in figures


def test_shutdown_months_have_no_figure():
    cpi = spec("us-cpi-mom", "bls")
    figures = cpi.figures(cpi_sa(2025))
    assert month(2025, 10) not in figures  # no index
    assert month(2025, 11) not in figures  # no October to compare with
    assert figures[month(2025, 12)] == Decimal("0.3")


def test_gdp_initial_releases_from_alfred():
    body = cassette_bodies(
        "fred/alfred_GDP_observations_output_type4_initial_release_2024-11-03_2025-01-20.cassette.yaml"
    )[0]
    first = fred.parse_observations(body, series_id="GDP", frequency="Q")
    prints = level(first.observations, 3)
    assert prints[quarter(2022, 2)] == Decimal("24851.809")
    assert prints[quarter(2023, 1)] == Decimal("26465.865")
    assert prints[quarter(2024, 2)] == Decimal("28629.153")


def test_gdp_growth_comes_from_the_release_day_vintage_not_from_initial_releases():
    """Q2 2022 advance estimate: nominal GDP up 7.8 % at an annual rate.

    The initial releases of Q2 (24851.809) and of Q1 (24382.683, printed three months
    earlier) give 7.9: the release compared Q2 with Q1 as revised that day.
    """
    growth = OfficialSeries(
        agency="fred", series="GDP", frequency="Q",
        transform="pct_change_annualised", decimals=1, unit="%",
    )  # fmt: skip
    on_release_day = growth.figures(gdp_vintages().vintage(date(2022, 7, 28)))
    assert on_release_day[quarter(2022, 2)] == Decimal("7.8")
    first = fred.parse_observations(
        cassette_bodies(
            "fred/alfred_GDP_observations_output_type4_initial_release_2024-11-03_2025-01-20.cassette.yaml"
        )[0],
        series_id="GDP",
        frequency="Q",
    )
    assert growth.figures(first.observations)[quarter(2022, 2)] == Decimal("7.9")


def test_gdp_q2_2023_third_estimate_matches_bea_release_text():
    """BEA, 2023-09-28: "Current dollar GDP increased 3.8 percent at an annual rate,
    or $249.4 billion, in the second quarter" (quoted on a stored public page)."""
    vintage = gdp_vintages().vintage(date(2023, 9, 28))
    assert pct_change_annualised(vintage, 1)[quarter(2023, 2)] == Decimal("3.8")
    assert difference(vintage, 1)[quarter(2023, 2)] == Decimal("249.4")


def test_euro_area_hicp_is_the_published_rate():
    hicp = spec("eu-cpi-yoy", "ecb")
    legacy = next(
        s for s in official_series()["eu-cpi-yoy"] if s.series.startswith("ICP")
    )
    [series] = ecb.read_data(envelope(
        "ecb/envelope_sdmxjson_ICP_M.U2.N.000000.4.ANR_2025_captured-2026-02-17.json"
    )["response"])  # fmt: skip
    assert series.series_id == legacy.series
    figures = legacy.figures(series.observations)
    assert [printed(figures[month(2025, m)], hicp) for m in (1, 6, 12)] == [
        "2.5%",
        "2.0%",
        "1.9%",
    ]


def test_bls_own_calculations():
    [body] = cassette_bodies(
        "bls/openbb_cassette_v2_APU0000701111_2022_catalog_calculations_2024-08-19.yaml"
    )
    observations = bls.parse_response(body).get("APU0000701111").observations
    assert bls_pct_change(1)(observations, 1)[month(2022, 12)] == Decimal("-0.4")
    assert bls_pct_change(12)(observations, 1)[month(2022, 12)] == Decimal("34.5")
    # Recomputed from the published prices: 0.522 / 0.524 = -0.38 % -> -0.4.
    assert pct_change(observations, 1)[month(2022, 12)] == Decimal("-0.4")


# ---- figures a calendar printed ----------------------------------------------------


def test_investing_printed_june_2022_unemployment_3_6():
    rate = spec("us-unemployment-rate", "bls")
    figures = rate.figures(
        bls_envelope(
            "bls/envelope_v2_LNS14000000_2022_captured-2026-02-17.json", "LNS14000000"
        )
    )
    row = calendar_week(
        "investing_ajax/getCalendarFilteredData_2022-07-07_to_2022-07-08_tz46_US-high-employment_limit0_after-release.json"
    )["Unemployment Rate"]
    assert (row.reference_period, row.date) == ("Jun", date(2022, 7, 8))
    assert printed(figures[month(2022, 6)], rate) == row.actual == "3.6%"
    assert printed(figures[month(2022, 5)], rate) == row.previous == "3.6%"


@pytest.mark.parametrize(
    ("week", "event", "year", "number"),
    [
        # CPI m/m "previous" in the week after the release = the printed actual.
        ("forexfactory_feed/ff_thisweek_2022-08-07_csv_malimsZen_2decabf.csv", "CPI m/m", 2022, 6),
        ("forexfactory_feed/ff_thisweek_2025-06-08_xml_tito1270_first.xml", "CPI m/m", 2025, 4),
        ("forexfactory_feed/ff_thisweek_2026-02-08_xml_Sandip2512.xml", "CPI m/m", 2025, 12),
    ],
)  # fmt: skip
def test_forexfactory_printed_cpi_month_on_month(week, event, year, number):
    cpi = spec("us-cpi-mom", "bls")
    figures = cpi.figures(cpi_sa(year))
    assert (
        printed(figures[month(year, number)], cpi)
        == calendar_week(week)[event].previous
    )


def test_forexfactory_printed_september_2023_cpi_year_on_year():
    cpi = spec("us-cpi-yoy", "bls")
    figures = cpi.figures(cpi_nsa_2024())
    row = calendar_week("forexfactory_feed/ff_thisweek_2023-11-12_xml_ZONES.xml")[
        "CPI y/y"
    ]
    assert printed(figures[month(2023, 9)], cpi) == row.previous == "3.7%"


def test_forexfactory_printed_december_2025_unemployment():
    rate = spec("us-unemployment-rate", "bls")
    figures = rate.figures(
        bls_envelope(
            "bls/envelope_v2_LNS14000000_2025_captured-2026-02-17.json", "LNS14000000"
        )
    )
    row = calendar_week("forexfactory_feed/ff_thisweek_2026-02-08_xml_Sandip2512.xml")[
        "Unemployment Rate"
    ]
    assert printed(figures[month(2025, 12)], rate) == row.previous == "4.4%"


def test_revised_seasonal_factors_do_not_reproduce_may_2022_first_print():
    """Why the first print must be captured on release day.

    ForexFactory printed May-2022 CPI m/m as 1.0 %; the index as revised by
    February 2026 gives 291.298 / 288.561 = +0.95 % -> 0.9.
    """
    cpi = spec("us-cpi-mom", "bls")
    row = calendar_week(
        "forexfactory_feed/ff_thisweek_2022-07-10_csv_malimsZen_a9f0bdd.csv"
    )["CPI m/m"]
    assert row.previous == "1.0%"
    assert printed(cpi.figures(cpi_sa(2022))[month(2022, 5)], cpi) == "0.9%"
