"""Agency payloads replayed through ``ingest`` at a frozen release time: first prints,
revisions, the agency winning the figures, and the quirks on the way.

The calendar side is a real recording where one exists (Investing's US employment
calendar of 8 July 2022, before and after the release); where none does, the test
writes the calendar row itself and says so. The agency side is always a recording
(tests/fixtures/official/*/PROVENANCE.md), taken out of its wrapper only.
"""

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from core.models import (
    EconomicEvent,
    EventRevision,
    IngestionRun,
    Occurrence,
    OccurrenceRevision,
)
from ingestion.errors import IngestionError, PayloadError
from ingestion.recordings import unwrap
from ingestion.services import ingest_source
from tests.conftest import fixture_bytes, fixture_path
from tests.ingestion.official.calendar import list_release
from tests.ingestion.official.recorded import envelope_body, ruby_assigned_json

pytestmark = pytest.mark.django_db

INVESTING_BEFORE = "investing_ajax/getCalendarFilteredData_2022-07-08_to_2022-07-15_tz9_US-high-employment_limit0_pre-release.json"
INVESTING_AFTER = "investing_ajax/getCalendarFilteredData_2022-07-07_to_2022-07-08_tz46_US-high-employment_limit0_after-release.json"
FF_WEEK_CPI = "forexfactory_feed/ff_thisweek_2022-07-10_csv_malimsZen_a9f0bdd.csv"
UNEMPLOYMENT_2022 = "bls/envelope_v2_LNS14000000_2022_captured-2026-02-17.json"
CPI_SA_2022 = "bls/envelope_v2_CUSR0000SA0_2022_captured-2026-02-17.json"
CPI_SA_2025 = "bls/envelope_v2_CUSR0000SA0_2025_captured-2026-02-17.json"
VINTAGE_2016 = (
    "bls/ruby_embedded_v2_CES0000000001_LNS14000000_CES0500000003_vintage-2016-06.rb"
)
HICP_2025 = (
    "ecb/envelope_sdmxjson_ICP_M.U2.N.000000.4.ANR_2025_captured-2026-02-17.json"
)
JULY_8 = datetime(2022, 7, 8, 12, 30, tzinfo=UTC)


def ingest(source: str, *relative: str) -> IngestionRun:
    return ingest_source(
        source,
        files=[fixture_path(name) for name in relative],
        trigger=IngestionRun.Trigger.TEST,
    )


def replay(tmp_path, source: str, body: bytes, **options) -> IngestionRun:
    """``ingest SOURCE --file`` of an agency body taken out of its recording's wrapper."""
    path = tmp_path / f"{source}.json"
    path.write_bytes(body)
    return ingest_source(
        source, files=[path], trigger=IngestionRun.Trigger.TEST, **options
    )


def vintage_2016_body(**changes: str) -> bytes:
    """The BLS response of June 2016: the recorded ``Results`` object in the API's
    envelope (the capturer kept only ``Results``, PROVENANCE.md says). ``changes``
    ({"2016 M05": "143900"}) alter CES0000000001's levels, to stand for a later
    vintage; no test calls such a body a recording."""
    results = ruby_assigned_json(VINTAGE_2016, "data")
    for series in results["series"]:
        if series["seriesID"] == "CES0000000001":
            for row in series["data"]:
                key = f"{row['year']} {row['period']}"
                row["value"] = changes.get(key, row["value"])
    envelope = {"status": "REQUEST_SUCCEEDED", "message": [], "Results": results}
    return json.dumps(envelope, default=str).encode()


def occurrence(indicator: str, day: date) -> Occurrence:
    return Occurrence.objects.get(indicator_id=indicator, date=day)


def test_the_first_print_fills_the_calendar_occurrence(tmp_path):
    ingest("investing", INVESTING_BEFORE)
    with time_machine.travel(datetime(2022, 7, 8, 12, 32, tzinfo=UTC), tick=False):
        run = replay(tmp_path, "bls", envelope_body(UNEMPLOYMENT_2022))
    assert (run.status, run.created, run.skipped) == ("succeeded", 1, 0)

    row = EconomicEvent.objects.get(source="bls")
    assert (row.external_id, row.reference_period, row.date, row.time) == (
        "us-unemployment-rate:2022-06",
        "2022-06",
        date(2022, 7, 8),
        None,
    )
    # Previous: what the calendar showed before the release; BLS shows it unrevised.
    assert (row.actual, row.previous, row.revised_previous) == ("3.6%", "3.6%", "")
    assert (row.indicator_id, row.source_event_id) == (
        "us-unemployment-rate",
        "LNS14000000",
    )

    rate = occurrence("us-unemployment-rate", date(2022, 7, 8))
    assert (rate.actual, rate.actual_value, rate.actual_source) == (
        "3.6%",
        Decimal("3.6"),
        "bls",
    )
    assert rate.actual_at == datetime(2022, 7, 8, 12, 32, tzinfo=UTC)
    assert rate.time == time(12, 30)  # the calendar's time: the agency gives none
    assert rate.forecast == "3.6%"  # the calendar's forecast
    assert sorted(s["source"] for s in rate.sources) == ["bls", "investing"]
    assert rate.status == "released"
    logged = {
        r.field: (r.old_value, r.new_value)
        for r in OccurrenceRevision.objects.filter(occurrence=rate)
    }
    assert logged["actual"] == ("", "3.6%")
    assert logged["actual_source"] == ("", "bls")
    assert logged["sources"] == ("investing", "bls,investing")


def test_a_fetch_before_the_agency_has_the_figure_writes_nothing(tmp_path):
    """At 12:31 the API still ends in May (as if lagging): nothing is new."""
    ingest("investing", INVESTING_BEFORE)
    results = json.loads(envelope_body(UNEMPLOYMENT_2022))
    [series] = results["Results"]["series"]
    series["data"] = [o for o in series["data"] if o["period"] <= "M05"]
    with time_machine.travel(datetime(2022, 7, 8, 12, 31, tzinfo=UTC), tick=False):
        run = replay(tmp_path, "bls", json.dumps(results).encode())
    assert (run.created, run.updated) == (0, 0)
    assert occurrence("us-unemployment-rate", JULY_8.date()).actual == ""


def test_no_release_due_no_row(tmp_path):
    """Replayed a week later, nothing was released in the last days: a payload alone
    never dates a figure."""
    ingest("investing", INVESTING_BEFORE)
    with time_machine.travel(datetime(2022, 7, 20, 12, tzinfo=UTC), tick=False):
        run = replay(tmp_path, "bls", envelope_body(UNEMPLOYMENT_2022))
    assert run.created == 0
    assert not EconomicEvent.objects.filter(source="bls").exists()


def test_the_agency_wins_and_an_aggregator_that_disagrees_is_a_conflict(tmp_path):
    ingest("investing", INVESTING_BEFORE)
    with time_machine.travel(datetime(2022, 7, 8, 12, 32, tzinfo=UTC), tick=False):
        replay(tmp_path, "bls", envelope_body(UNEMPLOYMENT_2022))
    ingest("investing", INVESTING_AFTER)  # Investing printed 3.6% too
    rate = occurrence("us-unemployment-rate", JULY_8.date())
    assert (rate.actual, rate.actual_source, rate.conflicts) == ("3.6%", "bls", [])

    # An aggregator printing another figure: flagged, and the agency's stays.
    list_release(
        "Unemployment Rate",
        JULY_8,
        source="tradingeconomics",
        stored_at=JULY_8 + timedelta(minutes=5),
        actual="3.7%",
    )
    rate.refresh_from_db()
    assert (rate.actual, rate.actual_source) == ("3.6%", "bls")
    assert rate.conflicts == ["actual"]
    mine = {s["source"]: s["actual"]["text"] for s in rate.sources if s["actual"]}
    assert mine == {"bls": "3.6%", "investing": "3.6%", "tradingeconomics": "3.7%"}


def test_the_first_print_is_kept_and_a_revision_is_logged(tmp_path):
    """May 2016 payrolls: +38K on 3 June 2016; a later vintage with May's level up
    stands for a revision (a derived body, not a recording)."""
    list_release("Non-Farm Employment Change", datetime(2016, 6, 3, 12, 30, tzinfo=UTC))
    with time_machine.travel(datetime(2016, 6, 3, 12, 33, tzinfo=UTC), tick=False):
        replay(tmp_path, "bls", vintage_2016_body())
    payrolls = EconomicEvent.objects.get(external_id="us-nonfarm-payrolls:2016-05")
    # April: 143856 - 143733 = 123 thousand, as this release showed it; what it was
    # before, no calendar row here says.
    assert (payrolls.actual, payrolls.previous, payrolls.revised_previous) == (
        "38K",
        "",
        "123K",
    )
    assert occurrence("us-nonfarm-payrolls", date(2016, 6, 3)).actual == "38K"

    with time_machine.travel(datetime(2016, 7, 8, 12, 33, tzinfo=UTC), tick=False):
        run = replay(tmp_path, "bls", vintage_2016_body(**{"2016 M05": "143867"}))
    assert run.updated == 1  # May only: nothing else is stored, nothing new is due
    payrolls.refresh_from_db()
    assert (payrolls.actual, payrolls.revised) == ("38K", "11K")
    [revision] = EventRevision.objects.filter(event=payrolls)
    assert (revision.field, revision.old_value, revision.new_value) == (
        "revised",
        "",
        "11K",
    )
    assert revision.changed_at == datetime(2016, 7, 8, 12, 33, tzinfo=UTC)
    june_3 = occurrence("us-nonfarm-payrolls", date(2016, 6, 3))
    assert (june_3.actual, june_3.revised, june_3.actual_source) == (
        "38K",
        "11K",
        "bls",
    )
    assert OccurrenceRevision.objects.filter(
        occurrence=june_3, field="revised"
    ).exists()


def test_unemployment_and_earnings_of_one_release_come_in_one_payload(tmp_path):
    at = datetime(2016, 6, 3, 12, 30, tzinfo=UTC)
    for name in (
        "Non-Farm Employment Change",
        "Unemployment Rate",
        "Average Hourly Earnings m/m",
    ):
        list_release(name, at)
    with time_machine.travel(datetime(2016, 6, 3, 12, 33, tzinfo=UTC), tick=False):
        replay(tmp_path, "bls", vintage_2016_body())
    printed = {
        o.indicator_id: o.actual
        for o in Occurrence.objects.filter(date=date(2016, 6, 3))
    }
    assert printed == {
        "us-nonfarm-payrolls": "38K",
        "us-unemployment-rate": "4.7%",
        "us-average-hourly-earnings-mom": "0.2%",
    }


def test_the_shutdown_gap_is_no_figure_never_a_zero(tmp_path):
    """November 2025 CPI came out on 18 December with October missing ("-", footnote
    X): no m/m figure for November (it needs October), none for October."""
    list_release("CPI m/m", datetime(2025, 12, 18, 13, 30, tzinfo=UTC))
    with time_machine.travel(datetime(2025, 12, 18, 13, 32, tzinfo=UTC), tick=False):
        run = replay(tmp_path, "bls", envelope_body(CPI_SA_2025))
    assert (run.status, run.created) == ("succeeded", 0)
    cpi = occurrence("us-cpi-mom", date(2025, 12, 18))
    assert (cpi.actual, cpi.actual_source) == ("", "")


def test_a_bls_refusal_fails_the_run_with_its_message(tmp_path):
    """BLS answers a refused query with HTTP 200, a status and a message (the text as
    public clients quote it: no refusal was recorded)."""
    body = {
        "status": "REQUEST_NOT_PROCESSED",
        "responseTime": 30,
        "message": [
            "Request could not be serviced, as the daily threshold for total number "
            "of requests allocated to the user has been reached."
        ],
        "Results": {},
    }
    with pytest.raises(Exception, match="daily threshold"):
        replay(tmp_path, "bls", json.dumps(body).encode())
    run = IngestionRun.objects.get(source="bls")
    assert run.status == "failed"
    assert "bls: request not processed (REQUEST_NOT_PROCESSED)" in run.error


def test_euro_area_hicp_first_print_on_flash_day(tmp_path):
    """June 2025 HICP flash, 1 July 2025 09:00 UTC: 2.0% (the ECB's file holds the
    final figure, the same here). No calendar recording covers the day."""
    list_release(
        "CPI Flash Estimate y/y", datetime(2025, 7, 1, 9, 0, tzinfo=UTC), country="EU"
    )
    with time_machine.travel(datetime(2025, 7, 1, 9, 2, tzinfo=UTC), tick=False):
        run = replay(tmp_path, "ecb", envelope_body(HICP_2025))
    assert run.created == 1
    hicp = occurrence("eu-cpi-yoy", date(2025, 7, 1))
    assert (hicp.actual, hicp.revised_previous, hicp.actual_source) == (
        "2.0%",
        "1.9%",
        "ecb",
    )
    row = EconomicEvent.objects.get(source="ecb")
    assert (row.reference_period, row.source_event_id) == (
        "2025-06",
        "ICP.M.U2.N.000000.4.ANR",
    )


def test_replaying_the_same_payload_twice_changes_nothing(tmp_path):
    ingest("investing", INVESTING_BEFORE)
    with time_machine.travel(datetime(2022, 7, 8, 12, 32, tzinfo=UTC), tick=False):
        replay(tmp_path, "bls", envelope_body(UNEMPLOYMENT_2022))
        again = replay(tmp_path, "bls", envelope_body(UNEMPLOYMENT_2022))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_june_2022_cpi_month_on_month_on_its_release_day(tmp_path):
    """13 July 2022: CPI m/m +1.3 %, the first print (PROVENANCE.md); the index of
    later months in the same recording cannot be out yet and is ignored."""
    ingest("forexfactory", FF_WEEK_CPI)
    with time_machine.travel(datetime(2022, 7, 13, 12, 32, tzinfo=UTC), tick=False):
        replay(tmp_path, "bls", envelope_body(CPI_SA_2022))
    cpi = occurrence("us-cpi-mom", date(2022, 7, 13))
    assert (cpi.actual, cpi.actual_source) == ("1.3%", "bls")
    assert cpi.forecast == "1.1%"  # ForexFactory's
    # May as shown before the release (ForexFactory's 1.0) and as this payload shows
    # it (0.9: BLS has revised its seasonal factors since, so a revision here).
    assert (cpi.previous, cpi.revised_previous) == ("1.0%", "0.9%")
    assert cpi.conflicts == []


def test_recordings_replay_in_the_wrappers_they_were_saved_in():
    """``ingest --file`` takes a capturer's envelope or a VCR cassette as it is: the
    BLS envelope straight from tests/fixtures, and the ALFRED cassette, whose request
    names its series (GDP, which no catalogued indicator reads)."""
    ingest("investing", INVESTING_BEFORE)
    with time_machine.travel(datetime(2022, 7, 8, 12, 32, tzinfo=UTC), tick=False):
        run = ingest("bls", f"official/{UNEMPLOYMENT_2022}")
    assert run.created == 1
    cassette = "official/fred/alfred_GDP_observations_output_type4_initial_release_2024-11-03_2025-01-20.cassette.yaml"
    with pytest.raises(IngestionError, match="fred: series GDP feeds no indicator"):
        ingest("fred", cassette)


def test_a_cassette_yields_every_recorded_response_with_its_series():
    cassette = "official/fred/alfred_GDP_observations_output_type4_initial_release_2024-11-03_2025-01-20.cassette.yaml"
    recorded = unwrap(fixture_bytes(cassette))
    assert [r.series for r in recorded] == ["GDP", "GDP"]  # recorded twice
    assert all(r.body.startswith(b'{"realtime_start":"1776-07-04"') for r in recorded)
    with pytest.raises(PayloadError, match=r"x\.yaml: the cassette holds no response"):
        unwrap(b"interactions: []\n", "x.yaml")
