"""``core.history.history_as_of``: an indicator's history as known at an instant, from
the change logs and the vintage dates a backfill records."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from core.history import history_as_of
from core.models import IngestionRun
from ingestion.official.build import History
from ingestion.records import EventRecord
from ingestion.services import ingest_source, upsert_records
from tests.conftest import fixture_path
from tests.ingestion.official.calendar import list_release
from tests.ingestion.official.recorded import envelope_body
from tests.ingestion.official.test_history import build_gdp

pytestmark = pytest.mark.django_db

INVESTING_BEFORE = "investing_ajax/getCalendarFilteredData_2022-07-08_to_2022-07-15_tz9_US-high-employment_limit0_pre-release.json"
INVESTING_AFTER = "investing_ajax/getCalendarFilteredData_2022-07-07_to_2022-07-08_tz46_US-high-employment_limit0_after-release.json"
UNEMPLOYMENT_2022 = "bls/envelope_v2_LNS14000000_2022_captured-2026-02-17.json"
RELEASE = datetime(2022, 7, 8, 12, 30, tzinfo=UTC)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def text(figure: dict | None) -> str | None:
    return figure["text"] if figure else None


@pytest.fixture
def release_day(tmp_path):
    """8 July 2022 as it happened: Investing's calendar two days before, BLS's first
    print two minutes after the release, Investing's page with actuals at 13:00."""
    with at(RELEASE - timedelta(days=2)):
        ingest_source(
            "investing",
            files=[fixture_path(INVESTING_BEFORE)],
            trigger=IngestionRun.Trigger.TEST,
        )
    body = tmp_path / "bls.json"
    body.write_bytes(envelope_body(UNEMPLOYMENT_2022))
    with at(RELEASE + timedelta(minutes=2)):
        ingest_source("bls", files=[body], trigger=IngestionRun.Trigger.TEST)
    with at(RELEASE + timedelta(minutes=30)):
        ingest_source(
            "investing",
            files=[fixture_path(INVESTING_AFTER)],
            trigger=IngestionRun.Trigger.TEST,
        )


def test_before_the_release_forecast_and_previous_no_actual(release_day):
    [entry] = history_as_of("us-unemployment-rate", RELEASE - timedelta(hours=1))
    assert (entry["date"], entry["datetime"]) == ("2022-07-08", "2022-07-08T12:30:00Z")
    assert (text(entry["forecast"]), text(entry["previous"])) == ("3.6%", "3.6%")
    assert (entry["actual"], entry["actual_source"], entry["status"]) == (
        None,
        None,
        "scheduled",
    )
    assert entry["sources"] == ["investing"]


def test_after_the_release_the_agency_s_first_print(release_day):
    [entry] = history_as_of("us-unemployment-rate", RELEASE + timedelta(minutes=1))
    assert entry["actual"] == {"text": "3.6%", "value": 3.6, "unit": "%"}
    assert (entry["actual_source"], entry["status"], entry["surprise"]) == (
        "bls",
        "released",
        0.0,
    )
    assert entry["reference_period"] == "Jun"  # Investing's, the calendar's label
    assert entry["sources"] == ["bls", "investing"]


def test_nothing_is_known_before_it_was_listed(release_day):
    assert history_as_of("us-unemployment-rate", RELEASE - timedelta(days=3)) == []
    assert history_as_of("us-unemployment-rate", RELEASE, start=date(2022, 7, 9)) == []


def test_a_forecast_changed_later_is_shown_as_it_was():
    """A calendar's forecast revised after the instant is rolled back (rows written
    here, not a recording)."""
    name = "Non-Farm Employment Change"
    list_release(name, RELEASE, stored_at=RELEASE - timedelta(days=3), forecast="250K")
    list_release(name, RELEASE, stored_at=RELEASE - timedelta(days=1), forecast="268K")
    [before] = history_as_of("us-nonfarm-payrolls", RELEASE - timedelta(days=2))
    [after] = history_as_of("us-nonfarm-payrolls", RELEASE - timedelta(hours=1))
    assert (text(before["forecast"]), text(after["forecast"])) == ("250K", "268K")


def test_alfred_vintages_answer_each_instant_with_its_vintage():
    """Q2 2022 nominal GDP, backfilled in 2024 from ALFRED: the first print from its
    release day, each revision from its vintage date (tests/ingestion/official/
    test_history.py builds the same records)."""
    history = History(("us-gdp-qoq",), date(2022, 4, 1), date(2022, 6, 30))
    with at(datetime(2024, 11, 3, tzinfo=UTC)):
        built = build_gdp(history, datetime(2024, 11, 3, tzinfo=UTC))
        upsert_records(source="fred", records=built.records)

    def known(day: date) -> tuple:
        moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        entries = history_as_of("us-gdp-qoq", moment + timedelta(hours=23))
        if not entries:
            return ()
        [entry] = entries
        return text(entry["actual"]), text(entry["revised"])

    assert known(date(2022, 7, 27)) == ()
    assert known(date(2022, 7, 28)) == ("7.8%", None)
    assert known(date(2022, 8, 25)) == ("7.8%", "8.4%")
    assert known(date(2023, 12, 31)) == ("7.8%", "8.5%")
    assert known(date(2024, 11, 3)) == ("7.8%", "9.7%")


def test_current_values_without_a_first_print_are_known_only_from_when_stored():
    """A keyless backfill stores the agency's current value as ``revised``: it was not
    known in 2022, so a 2022 instant does not show it."""
    record = EventRecord.on(
        date(2022, 7, 8),
        "date_only",
        external_id="us-unemployment-rate:2022-06",
        event_name="Unemployment Rate",
        country="US",
        indicator="us-unemployment-rate",
        revised="3.6%",
    )
    stored_at = datetime(2026, 2, 17, tzinfo=UTC)
    with at(stored_at):
        upsert_records(source="bls", records=[record])
    [then] = history_as_of("us-unemployment-rate", datetime(2022, 8, 1, tzinfo=UTC))
    [now] = history_as_of("us-unemployment-rate", stored_at + timedelta(seconds=1))
    assert (then["actual"], then["revised"]) == (None, None)
    assert (now["actual"], text(now["revised"])) == (None, "3.6%")


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="aware"):
        history_as_of("us-unemployment-rate", datetime(2022, 7, 8))  # noqa: DTZ001
