"""The FRED release calendar parser on the real recorded payload."""

from datetime import UTC, date, datetime

import pytest
import responses

from ingestion import SAMPLES_DIR
from ingestion.errors import PayloadError
from ingestion.http import build_session
from ingestion.records import DateWindow
from ingestion.sources import get_source
from tests.conftest import FIXTURES, fixture_bytes

RECORDED = "fred/fred_releases_calendar_2025-07-02.json"


@pytest.fixture(scope="module")
def fred():
    return get_source("fred")


def test_every_recorded_payload_is_covered():
    folders = [FIXTURES / "fred", SAMPLES_DIR / "fred"]
    assert [p.name for f in folders for p in f.iterdir() if p.suffix == ".json"] == [
        "fred_releases_calendar_2025-07-02.json"
    ]


def test_recorded_day(fred):
    parsed = fred.parse(fixture_bytes(RECORDED))
    assert (len(parsed.records), parsed.skipped) == (36, [])
    records = {r.external_id: r for r in parsed.records}
    estr = records["502-20250702"]
    # "1:00 am" Central (CDT) = 06:00Z: the ECB publishes at 08:00 CEST.
    assert estr.scheduled_at == datetime(2025, 7, 2, 6, 0, tzinfo=UTC)
    assert (estr.event_name, estr.country, estr.importance) == (
        "Euro Short Term Rate",
        "US",
        None,
    )
    # A blank time cell repeats the row above: SOFR data at 7:00 am like the averages.
    assert records["445-20250702"].scheduled_at == records["483-20250702"].scheduled_at
    assert records["194-20250702"].scheduled_at == datetime(
        2025, 7, 2, 12, 15, tzinfo=UTC
    )
    no_time = [r for r in parsed.records if r.time_precision == "date_only"]
    assert no_time
    assert all(r.date == date(2025, 7, 2) and r.time is None for r in no_time)
    assert (
        records["502-20250702"].source_url
        == "https://fred.stlouisfed.org/release?rid=502"
    )
    # One local day covers no UTC day completely: nothing may be cancelled on it.
    assert parsed.window is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "malformed"),
        (b"[]", "no 'pager'"),
        (b'{"pager": ""}', "empty 'pager'"),
        (b'{"pag', "malformed"),
    ],
)
def test_malformed_payloads(fred, body, message):
    with pytest.raises(PayloadError, match=message):
        fred.parse(body)


def test_unreadable_time_is_a_skip(fred):
    data = fixture_bytes(RECORDED).replace(b"1:00 am", b"soonish", 1)
    parsed = fred.parse(data)
    assert len(parsed.records) == 35
    assert "soonish" in parsed.skipped[0].reason


@responses.activate
def test_fetch_asks_for_the_window(fred):
    responses.get(
        "https://fred.stlouisfed.org/releases/calendar", body=fixture_bytes(RECORDED)
    )
    (payload,) = fred.fetch(
        build_session(retries=0), DateWindow(date(2025, 7, 2), date(2025, 7, 2))
    )
    assert "vs=2025-07-02" in responses.calls[0].request.url
    assert responses.calls[0].request.headers["Accept"] == "application/json"
    assert len(fred.parse(payload.body).records) == 36
