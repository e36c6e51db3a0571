"""History from the agencies: ALFRED vintages (first prints, revisions dated by
vintage) and ``manage.py backfill`` (resumable; revised values without a key).

The agency bodies are recordings (tests/fixtures/official/*/PROVENANCE.md). The GDP
vintages are nominal GDP, which the catalogue does not list (it reads real GDP): the
vintage tests give the builder a specification of their own for it, as
test_transforms does, and say so.
"""

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import responses
import time_machine
from django.core.management import CommandError, call_command

from core.models import EconomicEvent, EventRevision, IngestionRun, Occurrence
from ingestion import backfill
from ingestion.official import fred
from ingestion.official.build import History, build_records
from ingestion.official.observations import Period, SeriesVintage
from ingestion.official.series import OfficialSeries
from ingestion.records import DateWindow
from ingestion.services import ingest_source, upsert_records
from tests.conftest import fixture_bytes, fixture_path
from tests.ingestion.official.calendar import list_release
from tests.ingestion.official.recorded import cassette_bodies, envelope_body

pytestmark = pytest.mark.django_db

VINTAGES = (
    "fred/alfred_GDP_observations_all_vintages_2024-11-03_2025-01-20.cassette.yaml"
)
UNEMPLOYMENT_2022 = "bls/envelope_v2_LNS14000000_2022_captured-2026-02-17.json"
HICP_2025 = (
    "ecb/envelope_sdmxjson_ICP_M.U2.N.000000.4.ANR_2025_captured-2026-02-17.json"
)
ICS_2023_2024 = "official/bls_schedule/bls_schedule_MrCroesus_c76d1a6.ics"
INVESTING_BEFORE = "investing_ajax/getCalendarFilteredData_2022-07-08_to_2022-07-15_tz9_US-high-employment_limit0_pre-release.json"
BLS_V1 = "https://api.bls.gov/publicAPI/v1/timeseries/data/"
ECB = "https://data-api.ecb.europa.eu/service/data/"
Q2_2022 = Period.of("Q", 2022, 2)
# Nominal GDP's annualised growth: the recording's series, not a catalogue one.
NOMINAL_GROWTH = OfficialSeries(
    agency="fred", series="GDP", frequency="Q",
    transform="pct_change_annualised", decimals=1, unit="%",
)  # fmt: skip


def gdp_vintages() -> SeriesVintage:
    series = fred.parse_observations(
        cassette_bodies(VINTAGES)[0], series_id="GDP", frequency="Q"
    )
    assert series.vintaged
    return SeriesVintage("fred", "GDP", series.observations, vintaged=True)


def growth_on(day: date) -> Decimal:
    """Q2 2022 growth in the vintage of ``day``, straight from the transformation."""
    series = fred.parse_observations(
        cassette_bodies(VINTAGES)[0], series_id="GDP", frequency="Q"
    )
    return NOMINAL_GROWTH.figures(series.vintage(day))[Q2_2022]


def build_gdp(history: History | None, now: datetime):
    return build_records(
        "fred",
        [gdp_vintages()],
        now=now,
        history=history,
        series_of=lambda agency, series: [("us-gdp-qoq", NOMINAL_GROWTH)],
    )


def test_alfred_gives_the_first_print_and_dates_every_revision():
    history = History(("us-gdp-qoq",), date(2022, 4, 1), date(2022, 6, 30))
    [record] = build_gdp(history, datetime(2024, 11, 3, tzinfo=UTC)).records
    assert (record.external_id, record.date) == (
        "us-gdp-qoq:2022-Q2",
        date(2022, 7, 28),  # the advance estimate's day: its first realtime_start
    )
    assert record.actual == "7.8%"  # BEA's nominal +7.8 %, the first print
    # Q2's level has five vintages; the 2023 annual revision moved Q1 and Q2 alike,
    # leaving the rate at 8.5: three revisions of the printed figure.
    steps = [(when.date(), text) for when, text in record.revised_history]
    assert steps == [
        (date(2022, 8, 25), "8.4%"),
        (date(2022, 9, 29), "8.5%"),
        (date(2024, 9, 26), "9.7%"),
    ]
    assert [text for _, text in steps] == [f"{growth_on(day)}%" for day, _ in steps]
    assert record.revised == "9.7%"
    # Q1 as it stood the day before (6.6 %); the annual update of that day moved its
    # levels without changing the printed rate, so no revised previous.
    assert (record.previous, record.revised_previous) == ("6.6%", "")
    q1 = Period.of("Q", 2022, 1)
    assert NOMINAL_GROWTH.figures(_vintage(date(2022, 7, 27)))[q1] == Decimal("6.6")


def _vintage(day: date):
    series = fred.parse_observations(
        cassette_bodies(VINTAGES)[0], series_id="GDP", frequency="Q"
    )
    return series.vintage(day)


def test_written_vintages_carry_their_vintage_dates_in_the_change_log():
    history = History(("us-gdp-qoq",), date(2022, 4, 1), date(2022, 6, 30))
    built = build_gdp(history, datetime(2024, 11, 3, tzinfo=UTC))
    upsert_records(source="fred", records=built.records)
    row = EconomicEvent.objects.get(source="fred")
    log = list(
        EventRevision.objects.filter(event=row).values_list("field", "changed_at")
    )
    assert [field for field, _ in log] == ["revised"] * 3
    assert [when.date() for _, when in log] == [
        date(2022, 8, 25),
        date(2022, 9, 29),
        date(2024, 9, 26),
    ]
    # Written again (a resumed backfill): nothing changes, nothing is logged twice.
    again = upsert_records(source="fred", records=built.records)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert EventRevision.objects.filter(event=row).count() == 3


def test_a_vintage_on_a_calendar_release_day_is_dated_at_the_release():
    at = datetime(2022, 8, 25, 12, 30, tzinfo=UTC)
    list_release("Prelim GDP q/q", at)
    history = History(("us-gdp-qoq",), date(2022, 4, 1), date(2022, 6, 30))
    [record] = build_gdp(history, datetime(2024, 11, 3, tzinfo=UTC)).records
    assert record.revised_history[0][0] == at


# ---- manage.py backfill ------------------------------------------------------------


def backfill_cmd(*args: str) -> str:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("backfill", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mars", "--from", "2022-01-01"], "'mars' is neither an indicator with an official series nor a country with one (EU, US;"),
        (["us-ism-manufacturing-pmi", "--from", "2022-01-01"], "us-ism-manufacturing-pmi has no official series (indicators with one:"),
        (["US", "--from", "2022-13-01"], "--from '2022-13-01' is not a date (YYYY-MM-DD)"),
        (["US", "--from", "2022-02-01", "--to", "2022-01-01"], "--from 2022-02-01 is after --to 2022-01-01"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_readable_line(args, message):
    with pytest.raises(CommandError) as caught:
        backfill_cmd(*args)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_country_is_its_indicators_with_a_series():
    assert backfill.indicators_for("eu") == [
        "eu-core-cpi-yoy",
        "eu-cpi-yoy",
        "eu-deposit-facility-rate",
        "eu-main-refinancing-rate",
        "eu-marginal-lending-rate",
    ]


def test_without_a_fred_key_fred_only_indicators_are_left_out_saying_why(settings):
    settings.FRED_API_KEY = ""
    work = backfill.plan(
        ["us-gdp-qoq", "us-cpi-mom"], DateWindow(date(2016, 1, 1), date(2022, 12, 31))
    )
    assert work.notes == [
        "us-gdp-qoq left out: its series is on FRED, which needs FRED_API_KEY"
    ]
    # Keyless BLS: ten years a query, one of which is the year before the first.
    assert [(c.source, c.indicators, str(c.window)) for c in work.chunks] == [
        ("bls", ("us-cpi-mom",), "2016-01-01..2022-12-31")
    ]
    settings.FRED_API_KEY = "abcdefghijklmnopqrstuvwxyz123456"
    work = backfill.plan(
        ["us-gdp-qoq", "us-cpi-mom"], DateWindow(date(2010, 1, 1), date(2022, 12, 31))
    )
    assert [(c.source, str(c.window)) for c in work.chunks] == [
        ("fred", "2010-01-01..2019-12-31"),
        ("fred", "2020-01-01..2022-12-31"),
    ]


@responses.activate
def test_keyless_backfill_stores_revised_values_dated_by_the_calendars(tmp_path):
    """2022 unemployment from BLS's current values: revised figures, not first prints,
    dated where a release date is known: June by Investing's recorded calendar,
    December by BLS's schedule (the Employment Situation of 6 January 2023)."""
    with time_machine.travel(datetime(2022, 7, 6, tzinfo=UTC), tick=False):
        ingest_source(
            "investing",
            files=[fixture_path(INVESTING_BEFORE)],
            trigger=IngestionRun.Trigger.TEST,
        )
    responses.get(backfill.BLS_SCHEDULE_URL, body=fixture_bytes(ICS_2023_2024))
    responses.post(BLS_V1, body=envelope_body(UNEMPLOYMENT_2022))

    out = backfill_cmd(
        "us-unemployment-rate", "--from", "2022-01-01", "--to", "2022-12-31",
        "--checkpoint", str(tmp_path / "checkpoint.json"),
    )  # fmt: skip

    assert out.startswith(
        "backfill us-unemployment-rate 2022-01-01..2022-12-31: 1 runs; 2 created"
    )
    assert "10 skipped" in out  # the months no release date is known for
    assert json.loads(responses.calls[1].request.body) == {
        "seriesid": ["LNS14000000"],
        "startyear": "2021",
        "endyear": "2022",
    }
    rows = {
        row.reference_period: row
        for row in EconomicEvent.objects.filter(source="bls").order_by("date")
    }
    assert {period: (r.date, r.actual, r.revised) for period, r in rows.items()} == {
        "2022-06": (date(2022, 7, 8), "", "3.6%"),
        "2022-12": (date(2023, 1, 6), "", "3.5%"),
    }
    june = Occurrence.objects.get(
        indicator_id="us-unemployment-rate", date=date(2022, 7, 8)
    )
    assert (june.actual, june.revised, june.time) == ("", "3.6%", time(12, 30))
    run = IngestionRun.objects.get(source="bls")
    assert (run.trigger, run.window_start, run.window_end) == (
        "backfill",
        date(2022, 1, 1),
        date(2022, 12, 31),
    )
    assert not (tmp_path / "checkpoint.json").exists()  # finished: nothing to resume


@responses.activate
def test_an_interrupted_backfill_resumes_where_it_stopped(tmp_path, settings):
    """Keyless BLS over 2004-2022 is three queries; the second is refused (the daily
    quota, as BLS words it: no refusal was recorded). Run again, the first query is
    not repeated."""
    settings.FRED_API_KEY = ""
    checkpoint = tmp_path / "progress.json"
    refused = {
        "status": "REQUEST_NOT_PROCESSED",
        "message": ["daily threshold for total number of requests reached"],
        "Results": {},
    }
    responses.get(backfill.BLS_SCHEDULE_URL, status=404)
    responses.post(BLS_V1, body=envelope_body(UNEMPLOYMENT_2022))
    responses.post(BLS_V1, body=json.dumps(refused))
    args = ["us-unemployment-rate", "--from", "2004-01-01", "--to", "2022-12-31"]

    with pytest.raises(
        CommandError, match=r"daily threshold.*run the same command again"
    ):
        backfill_cmd(*args, "--checkpoint", str(checkpoint))
    assert json.loads(checkpoint.read_text()) == {
        "done": ["bls:us-unemployment-rate:2004-01-01..2012-12-31"]
    }

    responses.replace(responses.POST, BLS_V1, body=envelope_body(UNEMPLOYMENT_2022))
    out = backfill_cmd(*args, "--checkpoint", str(checkpoint))
    assert "2 runs, 1 done before" in out
    years = [
        json.loads(call.request.body)["startyear"]
        for call in responses.calls
        if call.request.method == "POST"
    ]
    assert years == ["2003", "2012", "2012", "2021"]  # 2003 asked once only
    assert not checkpoint.exists()


@responses.activate
def test_ecb_backfill_tries_every_series_of_the_indicator(tmp_path):
    """The new HICP dataset is not recorded (404 here); the discontinued ICP holds
    2025. A flash day written here (no calendar recording covers it) dates June."""
    list_release(
        "CPI Flash Estimate y/y",
        datetime(2025, 7, 1, 9, 0, tzinfo=UTC),
        country="EU",
        stored_at=datetime(2025, 7, 1, 9, 5, tzinfo=UTC),
        actual="2.0%",
    )
    responses.get(ECB + "HICP/M.U2.N.000000.4D0.ANR", status=404)
    responses.get(ECB + "ICP/M.U2.N.000000.4.ANR", body=envelope_body(HICP_2025))
    out = backfill_cmd(
        "eu-cpi-yoy", "--from", "2025-06-01", "--to", "2025-06-30",
        "--checkpoint", str(tmp_path / "c.json"),
    )  # fmt: skip
    assert "1 created" in out
    hicp = Occurrence.objects.get(indicator_id="eu-cpi-yoy")
    # The calendar's flash print stays the actual; the ECB's (final) is the revised
    # figure, not a conflict.
    assert (hicp.actual, hicp.actual_source, hicp.revised, hicp.conflicts) == (
        "2.0%",
        "forexfactory",
        "2.0%",
        [],
    )


def test_a_missing_fred_series_id_is_named(tmp_path):
    path = tmp_path / "observations.json"
    path.write_bytes(
        fixture_bytes(
            "official/fred/fred_PAYEMS_observations_vintage-2023-05-05_prettyprinted.json"
        )
    )
    with pytest.raises(
        CommandError, match="does not name its series: pass --series ID"
    ):
        call_command("ingest", "fred", "--file", str(path))
    with pytest.raises(CommandError, match="fred: series NOPE feeds no indicator"):
        call_command("ingest", "fred", "--file", str(path), "--series", "NOPE")
    with pytest.raises(CommandError, match="--series names the series of a --file"):
        call_command("ingest", "fred", "--series", "PAYEMS")


def test_fred_observations_replay_with_series(tmp_path):
    """``ingest fred --file F --series PAYEMS`` on the day of April 2023's release:
    +253K, the first print (PROVENANCE.md); the body is the values of 5 May 2023."""
    list_release("Non-Farm Employment Change", datetime(2023, 5, 5, 12, 30, tzinfo=UTC))
    path = tmp_path / "payems.json"
    path.write_bytes(
        fixture_bytes(
            "official/fred/fred_PAYEMS_observations_vintage-2023-05-05_prettyprinted.json"
        )
    )
    with time_machine.travel(datetime(2023, 5, 5, 13, 0, tzinfo=UTC), tick=False):
        call_command("ingest", "fred", "--file", str(path), "--series", "PAYEMS")
    nfp = Occurrence.objects.get(indicator_id="us-nonfarm-payrolls")
    assert (nfp.actual, nfp.revised_previous, nfp.actual_source) == (
        "253K",
        "165K",  # March as this release revised it
        "fred",
    )
