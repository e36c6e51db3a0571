"""The shipped indicator catalogue (src/ingestion/catalogue/*.yaml) and its loader.

Pure tests, no database: the catalogue loads, covers each headline country, places the
bundled sample's rows as issue 12 states, matches the recorded payloads' rows, and the
loader refuses a broken file with a message naming the file, the entry and the rule.
"""

from datetime import date
from pathlib import Path

import pytest

from ingestion.catalogue import (
    ALIAS_KEYS,
    CatalogueError,
    load_catalogue,
    normalise_name,
)
from ingestion.sources import get_source
from scripts import catalogue_candidates

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLES = Path(__file__).resolve().parents[2] / "src" / "ingestion" / "samples"

# The ids each headline country must have: its releases that move the currency.
HEADLINE = {
    "US": "nonfarm-payrolls unemployment-rate average-hourly-earnings-mom initial-jobless-claims "
    "cpi-mom cpi-yoy core-cpi-mom core-cpi-yoy ppi-mom core-pce-price-index-mom gdp-qoq "
    "retail-sales-mom industrial-production-mom ism-manufacturing-pmi ism-services-pmi "
    "uom-consumer-sentiment cb-consumer-confidence housing-starts trade-balance "
    "fed-funds-rate fomc-statement fomc-meeting-minutes fomc-press-conference fed-chair-speaks",
    "EU": "cpi-yoy core-cpi-yoy gdp-qoq unemployment-rate retail-sales-mom "
    "industrial-production-mom manufacturing-pmi services-pmi zew-economic-sentiment "
    "trade-balance main-refinancing-rate deposit-facility-rate ecb-monetary-policy-statement "
    "ecb-press-conference ecb-president-speaks",
    "DE": "cpi-mom gdp-qoq unemployment-change retail-sales-mom industrial-production-mom "
    "factory-orders-mom trade-balance manufacturing-pmi services-pmi ifo-business-climate "
    "zew-economic-sentiment gfk-consumer-climate",
    "FR": "cpi-mom gdp-qoq consumer-spending-mom industrial-production-mom trade-balance "
    "manufacturing-pmi services-pmi",
    "IT": "cpi-mom gdp-qoq unemployment-rate retail-sales-mom industrial-production-mom "
    "manufacturing-pmi services-pmi",
    "GB": "cpi-yoy core-cpi-yoy claimant-count-change unemployment-rate "
    "average-earnings-index-3m-yoy gdp-mom gdp-qoq retail-sales-mom industrial-production-mom "
    "manufacturing-pmi services-pmi goods-trade-balance official-bank-rate "
    "mpc-official-bank-rate-votes monetary-policy-summary boe-governor-speaks",
    "JP": "national-core-cpi-yoy tokyo-core-cpi-yoy gdp-qoq unemployment-rate retail-sales-yoy "
    "industrial-production-mom trade-balance tankan-manufacturing-index manufacturing-pmi "
    "boj-policy-rate boj-monetary-policy-statement boj-press-conference boj-governor-speaks",
    "CA": "cpi-mom median-cpi-yoy trimmed-cpi-yoy employment-change unemployment-rate gdp-mom "
    "retail-sales-mom trade-balance ivey-pmi housing-starts overnight-rate boc-rate-statement "
    "boc-press-conference boc-governor-speaks",
    "AU": "cpi-yoy cpi-qoq trimmed-mean-cpi-qoq employment-change unemployment-rate "
    "wage-price-index-qoq gdp-qoq retail-sales-mom trade-balance cash-rate rba-rate-statement "
    "rba-meeting-minutes rba-governor-speaks",
    "NZ": "cpi-qoq employment-change-qoq unemployment-rate gdp-qoq trade-balance gdt-price-index "
    "official-cash-rate rbnz-rate-statement rbnz-monetary-policy-statement "
    "rbnz-press-conference rbnz-governor-speaks",
    "CH": "cpi-mom cpi-yoy unemployment-rate gdp-qoq retail-sales-yoy trade-balance "
    "kof-economic-barometer snb-policy-rate snb-monetary-policy-assessment "
    "snb-press-conference snb-chairman-speaks",
    "CN": "cpi-yoy ppi-yoy gdp-yoy industrial-production-yoy retail-sales-yoy "
    "fixed-asset-investment-ytd-yoy trade-balance new-loans manufacturing-pmi "
    "non-manufacturing-pmi sp-global-manufacturing-pmi 1-year-loan-prime-rate",
}
# Importance-3 rows of the recorded payloads the catalogue leaves out, and why.
KNOWN_UNCATALOGUED_TOP_ROWS = {
    ("JP", "BOJ Gov-Designate Ueda Speaks"): "the 2023 confirmation hearing, one-off; "
    "the governor's speeches are jp-boj-governor-speaks",
    (
        "US",
        "Fed Chair Nomination Vote",
    ): "a one-off Senate vote, not a recurring release",
}
# Measured on tests/fixtures when the catalogue shipped: 2192 of 2456 rows of the twelve
# countries (89.3%). Most of the rest are FOMC members' and MPC members' speeches, which
# get an indicator of their own from their normalised name.
ROW_COVERAGE_FLOOR = 0.89


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def recorded():
    """Every row of every recorded payload, grouped as the maintainer's script groups them."""
    rows = list(catalogue_candidates.recorded_rows(FIXTURES))
    return catalogue_candidates.candidates(rows, load_catalogue())


# THE SHIPPED CATALOGUE
# ------------------------------------------------------------------------------


def test_shipped_catalogue_loads_with_150_or_more_indicators(catalogue):
    assert len(catalogue.indicators) >= 150
    assert {e.country for e in catalogue.indicators} >= set(HEADLINE)


@pytest.mark.parametrize("country", sorted(HEADLINE))
def test_each_headline_country_has_its_headline_set(catalogue, country):
    by_id = catalogue.by_id()
    expected = {f"{country.lower()}-{slug}" for slug in HEADLINE[country].split()}
    assert expected - set(by_id) == set()
    assert {by_id[i].country for i in expected} == {country}


def test_ids_carry_the_period_of_their_name(catalogue):
    """``us-cpi-mom`` for "CPI m/m": the rate suffix follows the name's period word."""
    wrong = [
        e.id
        for e in catalogue.indicators
        for period in ("mom", "yoy", "qoq")
        if period in normalise_name(e.name).split() and not e.id.endswith(f"-{period}")
    ]
    assert wrong == []


def test_polarity_is_set_where_calendars_agree_and_left_out_where_not(catalogue):
    def polarity(entries):
        return {e.higher_is_better for e in entries}

    entries = catalogue.indicators
    unemployment = [e for e in entries if e.id.endswith("-unemployment-rate")]
    assert len(unemployment) >= 12
    assert polarity(unemployment) == {False}
    assert polarity(e for e in entries if "-cpi-" in e.id) == {True}
    assert polarity(
        e for e in entries if e.category == "rates" and e.unit == "percent"
    ) == {True}
    no_figure = ("speeches", "holidays", "auctions")
    assert polarity(e for e in entries if e.category in no_figure) == {None}


def test_aliases_are_what_the_recorded_payloads_print(catalogue, recorded):
    """Every ForexFactory name and Investing id in the catalogue is a recorded row's.

    TradingEconomics has no recorded payload; its few tickers cite their origin in
    us.yaml.
    """
    seen = {(c.source, c.country, c.key) for c in recorded}
    seen_names = {
        (c.source, c.country, normalise_name(c.name))
        for c in recorded
        if ALIAS_KEYS.get(c.source) == "name"
    }
    invented = [
        (e.id, source, key)
        for e in catalogue.indicators
        for source, keys in e.aliases.items()
        if source in ("forexfactory", "investing")
        for key in keys
        if (source, e.country, key) not in seen
        and (source, e.country, normalise_name(key)) not in seen_names
    ]
    assert invented == []


def test_fred_releases_announce_the_indicators_they_carry(catalogue):
    releases = {(r.source, r.key): r for r in catalogue.releases}
    employment = releases[("fred", "50")]
    assert employment.name == "Employment Situation"
    assert set(employment.indicators) >= {
        "us-nonfarm-payrolls",
        "us-unemployment-rate",
        "us-average-hourly-earnings-mom",
    }
    assert set(releases[("fred", "10")].indicators) >= {"us-cpi-mom", "us-cpi-yoy"}
    assert {r.country for r in catalogue.releases} == {"US"}


# LOOKUP: THE BUNDLED SAMPLE (2026-06-04, US) AS ISSUE 12 STATES IT
# ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_rows():
    """{(source, name): row} of the bundled sample's US rows on 2026-06-04."""
    files = {
        "forexfactory": SAMPLES
        / "forexfactory"
        / "ff_calendar_page_2026-05-31_week_tobigom.html",
        "investing": SAMPLES
        / "investing"
        / "investing_econcal_nextjs_2026-06-04_tobigom.html",
    }
    rows = {}
    for source, path in files.items():
        for row in get_source(source).parse(path.read_bytes()).records:
            if row.country == "US" and row.date == date(2026, 6, 4):
                rows[(source, row.event_name)] = row
    return rows


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("forexfactory", "Unemployment Claims", "us-initial-jobless-claims"),
        ("investing", "Initial Jobless Claims", "us-initial-jobless-claims"),
        ("investing", "Continuing Jobless Claims", "us-continuing-jobless-claims"),
        ("investing", "Jobless Claims 4-Week Avg.", "us-jobless-claims-4-week-average"),
        ("forexfactory", "Challenger Job Cuts y/y", "us-challenger-job-cuts-yoy"),
        ("investing", "Challenger Job Cuts (YoY)", "us-challenger-job-cuts-yoy"),
        ("investing", "Challenger Job Cuts", "us-challenger-job-cuts"),
        (
            "forexfactory",
            "Revised Nonfarm Productivity q/q",
            "us-nonfarm-productivity-qoq",
        ),
        ("investing", "Nonfarm Productivity (QoQ)", "us-nonfarm-productivity-qoq"),
        ("forexfactory", "Revised Unit Labor Costs q/q", "us-unit-labor-costs-qoq"),
        ("investing", "Unit Labor Costs (QoQ)", "us-unit-labor-costs-qoq"),
        ("forexfactory", "Natural Gas Storage", "us-natural-gas-storage"),
        ("investing", "Natural Gas Storage", "us-natural-gas-storage"),
        # Not catalogued (a member, not the head): the lead's fallback names them.
        ("forexfactory", "FOMC Member Daly Speaks", None),
        ("investing", "FOMC Member Daly Speaks", None),
    ],
)
def test_bundled_sample_rows_find_their_indicator(
    catalogue, sample_rows, source, name, expected
):
    row = sample_rows[(source, name)]
    entry = catalogue.lookup(source, row.country, row.event_name, row.source_event_id)
    assert (entry.id if entry else None) == expected


def test_lookup_prefers_the_source_id_then_falls_back_to_the_name(catalogue):
    claims = "us-initial-jobless-claims"
    assert (
        catalogue.lookup("investing", "US", "Renamed by Investing", "294").id == claims
    )
    # An Investing id the catalogue does not list still meets a catalogued name.
    rate = catalogue.lookup("investing", "US", "Unemployment Rate", "999999")
    assert rate.id == "us-unemployment-rate"
    # ForexFactory keys by name: its own ids (ebaseId) never reach Investing's.
    payrolls = catalogue.lookup(
        "forexfactory", "US", "Non-Farm Employment Change", "294"
    )
    assert payrolls.id == "us-nonfarm-payrolls"
    # A name is scoped to its country.
    assert catalogue.lookup("forexfactory", "CA", "Unemployment Claims") is None
    assert catalogue.lookup(
        "forexfactory", "DE", "German Flash Manufacturing PMI"
    ).id == ("de-manufacturing-pmi")


# COVERAGE ON EVERY RECORDED PAYLOAD
# ------------------------------------------------------------------------------


def test_recorded_rows_of_the_headline_countries_match_the_catalogue(recorded):
    cover = catalogue_candidates.coverage(recorded, HEADLINE)
    assert cover.rows > 2000  # the fixtures were all read
    assert cover.matched / cover.rows >= ROW_COVERAGE_FLOOR
    unmatched = {(c.country, c.name) for c in cover.unmatched_top}
    assert unmatched == set(KNOWN_UNCATALOGUED_TOP_ROWS)
    assert cover.top_matched == cover.top_rows - len(cover.unmatched_top)


def test_candidates_script_lists_unmatched_names_of_a_country(capsys):
    assert (
        catalogue_candidates.main([str(FIXTURES), "--country", "us", "--unmatched"])
        == 0
    )
    out, err = capsys.readouterr()
    names = {line.split("\t")[4] for line in out.splitlines()}
    assert "FOMC Member Daly Speaks" in names
    assert "Unemployment Claims" not in names
    assert {line.split("\t")[0] for line in out.splitlines()} == {"US"}
    assert "importance 3:" in err


# THE LOADER REFUSES BROKEN FILES
# ------------------------------------------------------------------------------

GOOD = """\
country: US
currency: USD
indicators:
  - id: us-cpi-mom
    name: CPI m/m
    category: inflation
    frequency: monthly
    unit: percent
    aliases:
      forexfactory: [CPI m/m]
      investing: [69]
"""
SECOND = """\
  - id: {id}
    name: {name}
    category: {category}
    frequency: monthly
    unit: percent
    aliases:
      investing: [{investing}]
"""


def load_text(tmp_path, text, filename="us.yaml"):
    (tmp_path / filename).write_text(text)
    return load_catalogue(tmp_path)


def second(**fields):
    values = {"id": "us-ppi-mom", "name": "PPI m/m", "category": "inflation"}
    return SECOND.format(**{**values, "investing": 70, **fields})


def test_a_good_file_loads_and_looks_up(tmp_path):
    catalogue = load_text(tmp_path, GOOD + second())
    assert [e.id for e in catalogue.indicators] == ["us-cpi-mom", "us-ppi-mom"]
    assert catalogue.lookup("investing", "US", "", "70").id == "us-ppi-mom"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + second(id="us-cpi-mom"), r"^us\.yaml: us-cpi-mom: listed twice$"),
        (
            GOOD + second(investing=69),
            r"^us\.yaml: us-ppi-mom: investing id 69 is also us-cpi-mom's$",
        ),
        (
            GOOD + second(name="CPI (MoM)"),
            r"^us\.yaml: us-ppi-mom: name 'cpi mom' also matches us-cpi-mom in US$",
        ),
        (
            GOOD + second(category="prices"),
            r"^us\.yaml: us-ppi-mom: category 'prices' is not one of .*'inflation'",
        ),
        (
            GOOD + second(id="eu-ppi-mom"),
            r"^us\.yaml: eu-ppi-mom: id must be .* starting with 'us-'$",
        ),
        (
            GOOD + "releases:\n  - {source: fred, key: 10, name: Consumer Price Index, "
            "indicators: [us-cpi-mom, us-core-cpi-mom]}\n",
            r"^us\.yaml: release fred:10: unknown indicator\(s\) us-core-cpi-mom$",
        ),
        (
            GOOD
            + "releases:\n  - {source: fred, key: 10, name: CPI, indicators: [us-cpi-mom]}\n"
            "  - {source: fred, key: 10, name: CPI, indicators: [us-cpi-mom]}\n",
            r"^us\.yaml: release fred:10: the key is also release CPI's$",
        ),
        (GOOD + "  - id: [unclosed\n", r"^us\.yaml: not valid YAML: "),
    ],
    ids=[
        "duplicate-id",
        "shared-investing-id",
        "shared-normalised-name",
        "unknown-category",
        "id-of-another-country",
        "release-names-unknown-indicator",
        "release-listed-twice",
        "invalid-yaml",
    ],
)
def test_loader_refuses_a_broken_file_naming_file_entry_and_rule(
    tmp_path, text, message
):
    with pytest.raises(CatalogueError, match=message):
        load_text(tmp_path, text)


def test_loader_refuses_a_file_named_for_another_country(tmp_path):
    with pytest.raises(CatalogueError, match=r"^de\.yaml: a file holds one country"):
        load_text(tmp_path, GOOD, filename="de.yaml")
