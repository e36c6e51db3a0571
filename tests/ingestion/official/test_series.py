"""The series specification, and the indicator catalogue's ``official:`` lists."""

import pytest

from ingestion.catalogue import load_catalogue
from ingestion.official.series import (
    OfficialSeries,
    SeriesSpecError,
    indicators_of,
    official_series,
    read_official,
)

GOOD = {
    "agency": "bls",
    "series": "CES0000000001",
    "frequency": "M",
    "transform": "difference",
    "decimals": 0,
    "unit": "K",
}
REQUIRED_SLUGS = {
    "us-nonfarm-payrolls",
    "us-unemployment-rate",
    "us-cpi-mom",
    "us-cpi-yoy",
    "us-core-cpi-mom",
    "us-core-cpi-yoy",
    "us-ppi-mom",
    "us-average-hourly-earnings-mom",
    "us-gdp-qoq",
    "us-retail-sales-mom",
    "eu-cpi-yoy",
    "eu-core-cpi-yoy",
    "eu-deposit-facility-rate",
    "eu-main-refinancing-rate",
    "eu-marginal-lending-rate",
}


def test_the_catalogue_covers_every_indicator_of_the_issue():
    assert set(official_series()) == REQUIRED_SLUGS


def test_every_series_reads_into_a_catalogued_indicator_of_its_country():
    entries = load_catalogue().by_id()
    for slug, specs in official_series().items():
        assert entries[slug].country in ("US", "EU"), slug
        for spec in specs:
            assert (slug, spec) in indicators_of(spec.agency, spec.series)


def test_bls_series_name_the_release_that_publishes_them():
    releases = {
        spec.release
        for specs in official_series().values()
        for spec in specs
        if spec.agency == "bls"
    }
    # As the BLS schedule (.ics SUMMARY) spells them.
    assert releases == {
        "Employment Situation",
        "Consumer Price Index",
        "Producer Price Index",
    }


def test_bls_indicators_come_from_bls_with_a_fred_fallback():
    catalogue = official_series()
    fallbacks = {
        "us-nonfarm-payrolls": "PAYEMS",
        "us-unemployment-rate": "UNRATE",
        "us-cpi-mom": "CPIAUCSL",
        "us-cpi-yoy": "CPIAUCNS",
        "us-core-cpi-mom": "CPILFESL",
        "us-core-cpi-yoy": "CPILFENS",
        "us-ppi-mom": "PPIFIS",
        "us-average-hourly-earnings-mom": "CES0500000003",
    }
    for slug, fred_id in fallbacks.items():
        preferred, fallback = catalogue[slug]
        assert preferred.agency == "bls", slug
        assert (fallback.agency, fallback.series) == ("fred", fred_id), slug
        # The fallback must print the same figure the same way.
        assert (fallback.transform, fallback.decimals, fallback.unit) == (
            preferred.transform,
            preferred.decimals,
            preferred.unit,
        ), slug


def test_series_recorded_in_a_fixture_are_marked_seen():
    seen = {
        s.series
        for specs in official_series().values()
        for s in specs
        if s.evidence == "seen"
    }
    assert seen == {
        "CES0000000001",  # bls/ruby_embedded_...
        "CES0500000003",
        "LNS14000000",  # bls/envelope_v2_LNS14000000_*
        "CUSR0000SA0",  # bls/envelope_v2_CUSR0000SA0_*
        "CUUR0000SA0",  # bls/rust_embedded_...
        "PAYEMS",  # fred/fred_PAYEMS_...
        "ICP.M.U2.N.000000.4.ANR",  # ecb/envelope_sdmxjson_...
    }


def test_from_dict_builds_a_frozen_spec():
    series = OfficialSeries.from_dict(GOOD)
    assert (series.agency, series.series, series.evidence) == (
        "bls",
        "CES0000000001",
        "unverified",
    )
    with pytest.raises(AttributeError):
        series.decimals = 1


def test_ecb_flow_and_key():
    series = OfficialSeries.from_dict(
        GOOD | {"agency": "ecb", "series": "FM.D.U2.EUR.4F.KR.DFR.LEV",
                "frequency": "D", "transform": "level", "decimals": 2, "unit": "%"}
    )  # fmt: skip
    assert (series.flow, series.key) == ("FM", "D.U2.EUR.4F.KR.DFR.LEV")
    assert OfficialSeries.from_dict(GOOD).key == "CES0000000001"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"transfrom": "level"}, "unknown key 'transfrom' (known: agency, series,"),
        ({"transform": "yoy"}, "transform: 'yoy' is not one of level, difference"),
        ({"agency": "bea"}, "agency: 'bea' is not one of bls, fred, ecb"),
        ({"frequency": "W"}, "frequency: 'W' is not one of M, Q, D"),
        ({"unit": "thousands"}, "unit: 'thousands' is not one of %, K"),
        ({"decimals": "1"}, "decimals: '1' is not an integer"),
        ({"decimals": True}, "decimals: True is not an integer"),
        ({"decimals": 7}, "decimals: 7 is not between 0 and 4"),
        ({"series": "cpi-u"}, "series: 'cpi-u' is not a bls series id"),
        ({"evidence": "maybe"}, "evidence: 'maybe' is not one of seen, code"),
        (
            {"agency": "fred", "series": "CPIAUCSL", "transform": "bls_pct_change_1m"},
            "transform: bls_pct_change_1m needs agency bls, not fred",
        ),
        (
            {"frequency": "D", "transform": "pct_change"},
            "a daily series takes 'level', not 'pct_change'",
        ),
    ],
)
def test_from_dict_names_the_bad_key(change, message):
    with pytest.raises(SeriesSpecError) as caught:
        OfficialSeries.from_dict(GOOD | change)
    assert message in str(caught.value)


def test_from_dict_names_a_missing_key():
    with pytest.raises(SeriesSpecError, match="missing key 'unit'"):
        OfficialSeries.from_dict({k: v for k, v in GOOD.items() if k != "unit"})
    with pytest.raises(SeriesSpecError, match="is a mapping"):
        OfficialSeries.from_dict(["bls"])


CATALOGUE_FILE = """country: US
currency: USD
indicators:
  - id: us-cpi-mom
    name: CPI m/m
    category: inflation
    frequency: monthly
    unit: percent
    official:
    - {spec}
"""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{agency: bls}", "us.yaml: us-cpi-mom: official[0]: missing key 'series'"),
        (
            "{agency: bls, series: CUSR0000SA0, frequency: M, transform: pct_change,"
            " decimals: 1, unit: '%', evidnce: seen}",
            "us.yaml: us-cpi-mom: official[0]: unknown key 'evidnce'",
        ),
        (
            "bls",
            "us.yaml: us-cpi-mom: official[0]: a series specification is a mapping",
        ),
        (
            "{agency: ecb, series: FM.D.U2.EUR.4F.KR.DFR.LEV, frequency: D,"
            " transform: level, decimals: 2, unit: '%', dated_by: us-fed-funds-rate}",
            "us.yaml: us-cpi-mom: official[0]: dated_by us-fed-funds-rate is not a"
            " catalogued indicator",
        ),
    ],
)
def test_a_bad_official_entry_names_the_file_indicator_and_entry(
    tmp_path, spec, message
):
    (tmp_path / "us.yaml").write_text(CATALOGUE_FILE.format(spec=spec))
    with pytest.raises(SeriesSpecError) as caught:
        read_official(load_catalogue(tmp_path))
    assert str(caught.value).startswith(message)
