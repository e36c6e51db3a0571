"""The Investing.com parser on every real recorded payload (tests/fixtures/investing_*,
and the page that is also bundled sample data, src/ingestion/samples/investing/)."""

from datetime import UTC, date, datetime

import pytest
import responses

from ingestion import SAMPLES_DIR
from ingestion.errors import PayloadError, SourceBlocked
from ingestion.http import build_session
from ingestion.records import DateWindow
from ingestion.sources import get_source
from ingestion.sources.investing import AJAX_URL
from tests.conftest import FIXTURES, fixture_bytes

AJAX = FIXTURES / "investing_ajax"
PAGE = FIXTURES / "investing_page"
AFTER = "getCalendarFilteredData_2022-07-07_to_2022-07-08_tz46_US-high-employment_limit0_after-release.json"
BEFORE = "getCalendarFilteredData_2022-07-08_to_2022-07-15_tz9_US-high-employment_limit0_pre-release.json"
EXPECTED = {
    AFTER: 3,
    BEFORE: 2,
    "getCalendarFilteredData_2022-07-07_to_2022-07-08_tz46_US-high-employment_limit1_noresults.json": 0,
    "getCalendarFilteredData_2022-07-08_to_2022-07-15_tz9_US-high-employment_limit1_noresults.json": 0,
    "investing_econcal_nextjs_2026-06-04_tobigom.html": 50,
    "investing_econcal_nextjs_2026-06-06_tobigom.html": 1,
}
CHALLENGES = [
    "investing_cloudflare_challenge_Sandip2512.html",
    "investing_cloudflare_challenge_giant-shoulder.html",
]


@pytest.fixture(scope="module")
def investing():
    return get_source("investing")


def parse(source, name):
    folder = AJAX if name.startswith("getCalendar") else PAGE
    return source.parse(fixture_bytes(f"{folder.name}/{name}"))


def by_id(parsed):
    return {record.external_id: record for record in parsed.records}


def test_every_recorded_payload_is_covered():
    folders = [AJAX, PAGE, SAMPLES_DIR / "investing"]
    recorded = {p.name for f in folders for p in f.iterdir() if p.suffix != ".md"}
    assert recorded == set(EXPECTED) | set(CHALLENGES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_recorded_payload_parses(investing, name):
    parsed = parse(investing, name)
    assert len(parsed.records) == EXPECTED[name]
    assert parsed.skipped == []
    # The recordings are filtered (US, high, employment) or a visitor's "today":
    # neither is complete evidence for cancelling anything.
    assert parsed.window is None


def test_ajax_row_after_release(investing):
    nfp = by_id(parse(investing, AFTER))["453584"]
    # 08:30 in the requested zone, offsetSec -14400: 12:30 UTC.
    assert nfp.scheduled_at == datetime(2022, 7, 8, 12, 30, tzinfo=UTC)
    assert (nfp.event_name, nfp.reference_period) == ("Nonfarm Payrolls", "Jun")
    assert (nfp.actual, nfp.forecast) == ("372K", "268K")
    # Shown "384K" with title "Revised From 390K".
    assert (nfp.previous, nfp.revised_previous) == ("390K", "384K")
    assert (nfp.importance, nfp.country, nfp.currency) == (3, "US", "USD")
    assert (nfp.source_event_id, nfp.category) == ("227", "employment")
    assert (
        nfp.source_url
        == "https://www.investing.com/economic-calendar/nonfarm-payrolls-227"
    )


def test_same_occurrence_before_release_has_the_same_id(investing):
    before = by_id(parse(investing, BEFORE))["453584"]
    after = by_id(parse(investing, AFTER))["453584"]
    assert before.scheduled_at == after.scheduled_at
    assert (before.actual, before.previous, before.revised_previous) == ("", "390K", "")


def test_ajax_time_uses_the_returned_offset(investing):
    data = fixture_bytes(f"investing_ajax/{AFTER}").replace(
        b'"offsetSec":-14400', b'"offsetSec":0'
    )
    assert b'"offsetSec":0' in data
    nfp = by_id(investing.parse(data))["453584"]
    assert nfp.scheduled_at == datetime(2022, 7, 8, 8, 30, tzinfo=UTC)


def test_unfiltered_utc_answer_covers_its_days(investing):
    data = (
        fixture_bytes(f"investing_ajax/{AFTER}")
        .replace(b'"offsetSec":-14400', b'"offsetSec":0')
        .replace(b'"country":["5"]', b'"country":[]')
        .replace(b'"category":["_employment"]', b'"category":[]')
        .replace(b'"importance":["3"]', b'"importance":[]')
    )
    assert investing.parse(data).window == DateWindow(
        date(2022, 7, 7), date(2022, 7, 8)
    )


def test_page_entries(investing):
    records = by_id(
        parse(investing, "investing_econcal_nextjs_2026-06-04_tobigom.html")
    )
    claims = records["550435"]
    assert claims.scheduled_at == datetime(2026, 6, 4, 12, 30, tzinfo=UTC)
    assert (claims.actual, claims.forecast) == ("225K", "214K")
    # The page keeps the revised figure in `previous` and the original in `revisedFrom`.
    assert (claims.previous, claims.revised_previous) == ("215K", "212K")
    assert (claims.importance, claims.source_event_id) == (3, "294")
    holiday = records["holiday-20260604-BR-144"]
    assert (holiday.kind, holiday.importance, holiday.time_precision) == (
        "holiday",
        None,
        "all_day",
    )
    assert (holiday.country, holiday.currency) == ("BR", "BRL")
    exports = records["550428"]
    assert (exports.event_name, exports.reference_period) == ("Exports (MoM)", "Apr")
    assert records["548520"].country == "GB"  # currencyFlag says "UK"
    assert records["548512"].country == "EU"
    lagarde = records["550608"]
    assert (lagarde.event_name, lagarde.kind) == (
        "ECB President Lagarde Speaks",
        "speech",
    )


def test_page_and_ajax_share_the_event_type_ids(investing):
    page = by_id(parse(investing, "investing_econcal_nextjs_2026-06-04_tobigom.html"))
    ajax = by_id(parse(investing, AFTER))
    assert page["550435"].source_event_id == ajax["454438"].source_event_id == "294"


@pytest.mark.parametrize("name", CHALLENGES)
def test_cloudflare_challenge_is_blocked_not_empty(investing, name):
    with pytest.raises(SourceBlocked, match="investing: blocked by the source"):
        investing.parse((PAGE / name).read_bytes())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty payload"),
        (b"Service Unavailable", "expected calendar JSON"),
        (b'{"data": ', "malformed"),
        (b'{"rows_num": 3}', "no 'data' rows"),
        (b'{"data": ""}', "empty 'data'"),
        (b"<html><body>Maintenance</body></html>", "expected calendar JSON"),
    ],
)
def test_malformed_payloads(investing, body, message):
    with pytest.raises(PayloadError, match=message):
        investing.parse(body)


def test_bad_row_is_skipped(investing):
    data = fixture_bytes(f"investing_ajax/{AFTER}").replace(
        b'data-event-datetime=\\"2022\\/07\\/07 08:30:00\\"',
        b'data-event-datetime=\\"soon\\"',
    )
    parsed = investing.parse(data)
    assert [r.external_id for r in parsed.records] == ["453584", "453590"]
    assert "data-event-datetime 'soon'" in parsed.skipped[0].reason


@responses.activate
def test_fetch_pages_until_no_results(investing):
    first = fixture_bytes(f"investing_ajax/{AFTER}")
    last = fixture_bytes(
        "investing_ajax/getCalendarFilteredData_2022-07-07_to_2022-07-08_tz46_US-high-employment_limit1_noresults.json"
    )
    # Pretend page 0 was full so the client asks for page 1, which says "no results".
    responses.post(AJAX_URL, body=first.replace(b'"rows_num":3', b'"rows_num":200'))
    responses.post(AJAX_URL, body=last)
    payloads = list(
        investing.fetch(
            build_session(retries=0), DateWindow(date(2022, 7, 7), date(2022, 7, 8))
        )
    )
    assert len(payloads) == 2
    forms = [call.request.body for call in responses.calls]
    assert "limit_from=0" in forms[0]
    assert "limit_from=1" in forms[1]
    assert "timeZone=55" in forms[0]
    assert sum(len(investing.parse(p.body).records) for p in payloads) == 3


@responses.activate
@pytest.mark.parametrize("status", [403, 429, 503])
def test_fetch_blocked_statuses(investing, status):
    responses.post(AJAX_URL, status=status, body=b"nope")
    with pytest.raises(SourceBlocked, match=f"HTTP {status}"):
        list(
            investing.fetch(
                build_session(retries=0), DateWindow(date(2022, 7, 7), date(2022, 7, 8))
            )
        )
