"""Release day with the default install and no keys: the scheduler plans the agency
follow-ups after a calendar's release time, and the real job, run at a frozen release
time, asks the agency (``responses`` serving a recorded body) and fills the
occurrence's actual, its source and the change log.
"""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import responses
import time_machine
from django.db import transaction

from core.models import IngestionRun, Occurrence, OccurrenceRevision
from ingestion.records import EventRecord
from ingestion.services import ingest_source, upsert_records
from scheduler import jobs
from scheduler.followups import (
    plan_official_followups,
    sync_official_followups,
)
from scheduler.schedule import SchedulerConfigError, build_scheduler, official_sources
from tests.conftest import fixture_path
from tests.ingestion.official.calendar import list_release
from tests.ingestion.official.recorded import envelope_body

# Job functions close old connections as Django does per request; inside a test's
# wrapping transaction that would drop the connection, so these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

INVESTING_BEFORE = "investing_ajax/getCalendarFilteredData_2022-07-08_to_2022-07-15_tz9_US-high-employment_limit0_pre-release.json"
UNEMPLOYMENT_2022 = "bls/envelope_v2_LNS14000000_2022_captured-2026-02-17.json"
HICP_2025 = (
    "ecb/envelope_sdmxjson_ICP_M.U2.N.000000.4.ANR_2025_captured-2026-02-17.json"
)
BLS_V1 = "https://api.bls.gov/publicAPI/v1/timeseries/data/"
ECB = "https://data-api.ecb.europa.eu/service/data/"
RELEASE = datetime(2022, 7, 8, 12, 30, tzinfo=UTC)
ATTEMPTS = ["+2", "+5", "+10", "+20", "+40"]


def official_jobs(scheduler) -> dict:
    return {j.id: j for j in scheduler.get_jobs() if j.id.startswith("official:")}


@pytest.fixture
def july_8_calendar():
    """Investing's recorded US employment calendar, before the 8 July 2022 release."""
    ingest_source(
        "investing",
        files=[fixture_path(INVESTING_BEFORE)],
        trigger=IngestionRun.Trigger.TEST,
    )


def test_the_default_install_follows_releases_with_the_keyless_agencies(settings):
    settings.FRED_API_KEY = ""
    assert {"bls", "ecb"} <= set(settings.INGESTION_SOURCES)
    assert official_sources() == ["bls", "ecb"]
    settings.FRED_API_KEY = "abcdefghijklmnopqrstuvwxyz123456"
    assert official_sources() == ["fred", "bls", "ecb"]


def test_attempts_are_planned_after_each_release_of_an_indicator_with_a_series(
    july_8_calendar,
):
    found = official_jobs(build_scheduler(RELEASE - timedelta(hours=6)))
    # NFP and the unemployment rate at one minute: one job per attempt, not per series.
    assert set(found) == {f"official:bls:20220708T1230{a}" for a in ATTEMPTS}
    first = found["official:bls:20220708T1230+2"]
    assert first.func is jobs.official_follow_up
    assert first.args == ("bls", date(2022, 7, 8))
    assert first.next_run_time == RELEASE + timedelta(minutes=2)
    # The ECB has nothing to do that day, FRED has no key.
    assert plan_official_followups("ecb", now=RELEASE) == {}


def test_a_bad_attempts_setting_is_a_readable_error(settings):
    settings.SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES = ["2", "soon"]
    with pytest.raises(SchedulerConfigError, match="must be whole minutes"):
        build_scheduler(RELEASE)


@responses.activate
def test_the_follow_up_job_fills_the_actual_from_bls(july_8_calendar):
    scheduler = build_scheduler(RELEASE - timedelta(hours=6))
    responses.post(BLS_V1, body=envelope_body(UNEMPLOYMENT_2022))

    with time_machine.travel(RELEASE + timedelta(minutes=2), tick=False):
        jobs.official_follow_up("bls", date(2022, 7, 8))

    # One keyless v1 query for both series of the release.
    [call] = responses.calls
    assert json.loads(call.request.body) == {
        "seriesid": ["CES0000000001", "LNS14000000"],
        "startyear": "2020",
        "endyear": "2022",
    }
    rate = Occurrence.objects.get(indicator_id="us-unemployment-rate")
    assert (rate.actual, rate.actual_source, rate.status) == ("3.6%", "bls", "released")
    assert rate.actual_at == RELEASE + timedelta(minutes=2)
    assert {(s["source"], (s["actual"] or {}).get("text")) for s in rate.sources} == {
        ("bls", "3.6%"),
        ("investing", None),
    }
    log = [
        (r.field, r.old_value, r.new_value, r.run.source, r.run.trigger)
        for r in OccurrenceRevision.objects.filter(occurrence=rate).order_by("field")
    ]
    assert log == [
        ("actual", "", "3.6%", "bls", "scheduler"),
        ("actual_source", "", "bls", "bls", "scheduler"),
        ("sources", "investing", "bls,investing", "bls", "scheduler"),
        ("status", "scheduled", "released", "bls", "scheduler"),
    ]

    # The recording holds no payrolls: that figure is still awaited, the rest of the
    # attempts stay planned for it.
    with time_machine.travel(RELEASE + timedelta(minutes=3), tick=False):
        sync_official_followups(scheduler, "bls", now=RELEASE + timedelta(minutes=3))
    assert set(official_jobs(scheduler)) == {
        f"official:bls:20220708T1230{a}" for a in ATTEMPTS[1:]
    }


@responses.activate
def test_attempts_stop_once_every_figure_is_in(july_8_calendar):
    responses.post(BLS_V1, body=envelope_body(UNEMPLOYMENT_2022))
    with time_machine.travel(RELEASE + timedelta(minutes=2), tick=False):
        jobs.official_follow_up("bls", date(2022, 7, 8))
    # Payrolls' row too, as an earlier attempt would have stored it (state, not a
    # payload: no BLS payrolls response of 2022 is recorded).
    payrolls = EventRecord.on(
        date(2022, 7, 8),
        "date_only",
        external_id="us-nonfarm-payrolls:2022-06",
        event_name="Nonfarm Payrolls",
        country="US",
        indicator="us-nonfarm-payrolls",
        actual="372K",
    )
    with transaction.atomic():
        upsert_records(source="bls", records=[payrolls])
    later = RELEASE + timedelta(minutes=5)
    assert plan_official_followups("bls", now=later) == {}
    with time_machine.travel(later, tick=False):
        jobs.official_follow_up("bls", date(2022, 7, 8))
    assert len(responses.calls) == 1  # the second attempt asked nothing


@responses.activate
def test_the_ecb_follow_up_falls_back_to_the_discontinued_dataset():
    """1 July 2025, June's HICP flash at 09:00 UTC; no calendar recording covers the
    day, so the calendar row is written here. The new HICP dataset answers 404 in
    this test (no response of it is recorded); ICP answers with the recording."""
    at = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
    list_release("CPI Flash Estimate y/y", at, country="EU", forecast="2.0%")
    assert "official:ecb:20250701T0900+2" in plan_official_followups(
        "ecb", now=at - timedelta(hours=1)
    )
    responses.get(ECB + "HICP/M.U2.N.000000.4D0.ANR", status=404, body="No results")
    responses.get(ECB + "ICP/M.U2.N.000000.4.ANR", body=envelope_body(HICP_2025))

    with time_machine.travel(at + timedelta(minutes=2), tick=False):
        jobs.official_follow_up("ecb", date(2025, 7, 1))

    hicp = Occurrence.objects.get(indicator_id="eu-cpi-yoy")
    assert (hicp.actual, hicp.actual_source, hicp.forecast) == ("2.0%", "ecb", "2.0%")
    assert hicp.outcome == "inline"
    assert [c.request.url.split("?")[0] for c in responses.calls] == [
        ECB + "HICP/M.U2.N.000000.4D0.ANR",
        ECB + "ICP/M.U2.N.000000.4.ANR",
    ]


def test_no_release_due_no_request_no_run():
    with time_machine.travel(RELEASE, tick=False):
        jobs.official_follow_up("bls", date(2022, 7, 8))
    assert not IngestionRun.objects.filter(source="bls").exists()
