"""The ForexFactory parser on every real recorded payload (tests/fixtures/forexfactory_*,
and the three that are also bundled sample data, src/ingestion/samples/forexfactory/)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import responses

from ingestion import SAMPLES_DIR
from ingestion.errors import PayloadError, SourceBlocked
from ingestion.records import DateWindow
from ingestion.sources import get_source
from tests.conftest import FIXTURES, fixture_bytes

FEED = FIXTURES / "forexfactory_feed"
PAGE = FIXTURES / "forexfactory_html"

# Events per file, from the PROVENANCE.md tables (the JSON with one empty date lists 87).
FEED_EVENTS = {
    "ff_thisweek_2022-06-26_xml_JefersonProfit.xml": 97,
    "ff_thisweek_2022-07-10_csv_malimsZen_a9f0bdd.csv": 92,
    "ff_thisweek_2022-08-07_csv_malimsZen_2decabf.csv": 58,
    "ff_thisweek_2022-08-14_csv_malimsZen_29961af.csv": 87,
    "ff_thisweek_2022-08-14_json_malimsZen_466cd4d_emptydate.json": 87,
    "ff_thisweek_2023-02-20_xml_ipassas.xml": 88,
    "ff_thisweek_2023-10-22_xml_ZONES.xml": 74,
    "ff_thisweek_2023-11-12_xml_ZONES.xml": 112,
    "ff_thisweek_2023-11-26_xml_Alphazero.xml": 113,
    "ff_thisweek_2024-09-08_xml_NT8.xml": 83,
    "ff_thisweek_2024-09-15_xml_NT8.xml": 94,
    "ff_thisweek_2024-09-22_xml_NT8.xml": 89,
    "ff_thisweek_2025-05-04_xml_Rommans.xml": 91,
    "ff_thisweek_2025-06-08_xml_tito1270_first.xml": 71,
    "ff_thisweek_2025-06-08_xml_tito1270_last.xml": 73,
    "ff_thisweek_2026-02-08_csv_KundaNgambi.csv": 88,
    "ff_thisweek_2026-02-08_xml_Sandip2512.xml": 89,
    "ff_thisweek_2026-05-11_xml_Pablo.xml": 94,
    "ff_thisweek_2026-07-26_json_dkmarlin_1408252.json": 92,
    "ff_thisweek_2026-08-02_json_dkmarlin_1301db8_first.json": 94,
    "ff_thisweek_2026-08-02_json_dkmarlin_fdda6fb_last.json": 99,
    "ff_thisweek_2026-08-09_json_dkmarlin_14ef9fe_first.json": 73,
    "ff_thisweek_2026-08-09_json_dkmarlin_1e1fee8_last.json": 75,
    "ff_thisweek_2026-08-16_json_dkmarlin_11cf751_first.json": 96,
    "ff_thisweek_2026-08-16_json_dkmarlin_e174305_last.json": 100,
}
PAGE_EVENTS = {
    "ff_calendar_page_2026-05-31_week_tobigom.html": 121,
    "ff_calendar_page_2026-06-07_week_tobigom.html": 79,
}
PAIRS = [
    ("ff_thisweek_2025-06-08_xml_tito1270_first.xml", "ff_thisweek_2025-06-08_xml_tito1270_last.xml"),
    ("ff_thisweek_2026-08-02_json_dkmarlin_1301db8_first.json", "ff_thisweek_2026-08-02_json_dkmarlin_fdda6fb_last.json"),
    ("ff_thisweek_2026-08-09_json_dkmarlin_14ef9fe_first.json", "ff_thisweek_2026-08-09_json_dkmarlin_1e1fee8_last.json"),
    ("ff_thisweek_2026-08-16_json_dkmarlin_11cf751_first.json", "ff_thisweek_2026-08-16_json_dkmarlin_e174305_last.json"),
]  # fmt: skip


@pytest.fixture(scope="module")
def ff():
    return get_source("forexfactory")


def parse(ff, folder, name):
    return ff.parse(fixture_bytes(f"{folder.name}/{name}"))


def by_id(parsed):
    return {record.external_id: record for record in parsed.records}


def test_every_recorded_payload_is_listed_here():
    bundled = {p.name for p in (SAMPLES_DIR / "forexfactory").iterdir()}
    recorded = {p.name for p in FEED.iterdir() if p.suffix != ".md"}
    recorded |= {name for name in bundled if name.startswith("ff_thisweek_")}
    assert recorded == set(FEED_EVENTS)
    recorded_pages = {p.name for p in PAGE.iterdir() if "calendar_page" in p.name}
    recorded_pages |= {name for name in bundled if "calendar_page" in name}
    assert recorded_pages == set(PAGE_EVENTS)


@pytest.mark.parametrize("name", sorted(FEED_EVENTS))
def test_every_feed_payload_parses_completely(ff, name):
    parsed = parse(ff, FEED, name)
    assert len(parsed.records) + len(parsed.skipped) == FEED_EVENTS[name]
    ids = [record.external_id for record in parsed.records]
    assert len(ids) == len(set(ids)), (
        "two events of one payload share an occurrence key"
    )
    # The feed covers a New York week; the UTC dates it covers completely (the ones
    # it may cancel in) are Monday..Saturday. Events spill onto the Sundays around it.
    window = parsed.window
    assert (window.start.weekday(), window.days) == (0, 6)
    edge_start, edge_end = (
        window.start - timedelta(days=1),
        window.end + timedelta(days=1),
    )
    assert all(edge_start <= r.date <= edge_end for r in parsed.records)


def test_the_empty_date_is_a_counted_skip_not_a_crash(ff):
    parsed = parse(
        ff, FEED, "ff_thisweek_2022-08-14_json_malimsZen_466cd4d_emptydate.json"
    )
    assert [skip.reason for skip in parsed.skipped] == ["no date"]
    assert parsed.skipped[0].excerpt == "BusinessNZ Services Index"
    assert len(parsed.records) == 86


@pytest.mark.parametrize("name", sorted(PAGE_EVENTS))
def test_every_calendar_page_parses_completely(ff, name):
    parsed = parse(ff, PAGE, name)
    assert len(parsed.records) == PAGE_EVENTS[name]
    assert parsed.skipped == []
    assert parsed.window is None  # the page only adds and updates, never cancels


def test_xml_gmt_times_and_values(ff):
    records = by_id(parse(ff, FEED, "ff_thisweek_2025-05-04_xml_Rommans.xml"))
    fomc = records["20250507-USD-federal-funds-rate"]
    # 6:00pm GMT = 14:00 New York (EDT): the feed's XML times are GMT.
    assert (fomc.date, fomc.time, fomc.time_precision) == (
        date(2025, 5, 7),
        time(18),
        "exact",
    )
    assert (fomc.importance, fomc.forecast, fomc.country, fomc.currency) == (
        3,
        "4.50%",
        "US",
        "USD",
    )
    assert (
        fomc.source_url
        == "https://www.forexfactory.com/calendar/1-us-federal-funds-rate"
    )
    assert fomc.source_event_id == "1"  # the event type's id, from the URL slug


def test_same_title_same_minute_different_currency_stays_two_events(ff):
    records = by_id(parse(ff, FEED, "ff_thisweek_2025-05-04_xml_Rommans.xml"))
    usd = records["20250506-USD-trade-balance"]
    cad = records["20250506-CAD-trade-balance"]
    assert (
        usd.scheduled_at == cad.scheduled_at == datetime(2025, 5, 6, 12, 30, tzinfo=UTC)
    )
    assert (usd.country, cad.country) == ("US", "CA")


def test_holiday_is_all_day_on_its_local_date(ff):
    # JPY Bank Holiday "05-04-2025 11:00pm" GMT is 5 May in Tokyo.
    record = by_id(parse(ff, FEED, "ff_thisweek_2025-05-04_xml_Rommans.xml"))[
        "20250505-JPY-bank-holiday"
    ]
    assert (record.date, record.time, record.time_precision) == (
        date(2025, 5, 5),
        None,
        "all_day",
    )
    assert (record.importance, record.kind, record.country) == (None, "holiday", "JP")
    assert record.source_event_id == "393"


def test_euro_member_titles_name_their_country(ff):
    records = by_id(parse(ff, FEED, "ff_thisweek_2025-05-04_xml_Rommans.xml"))
    assert records["20250508-EUR-german-trade-balance"].country == "DE"
    assert records["20250507-EUR-french-trade-balance"].country == "FR"


def test_texts_that_are_not_numbers_are_kept(ff):
    boj = [
        r for r in parse(ff, FEED, "ff_thisweek_2024-09-15_xml_NT8.xml").records
        if r.forecast == "<0.25%"
    ]  # fmt: skip
    assert boj, "the BOJ policy rate '<0.25%' is in this week"
    auction = by_id(parse(ff, FEED, "ff_thisweek_2024-09-08_xml_NT8.xml"))[
        "20240911-GBP-10-y-bond-auction"
    ]
    assert auction.previous == "4.08|2.9"
    vote = [
        r for r in parse(ff, FEED, "ff_thisweek_2026-05-11_xml_Pablo.xml").records
        if r.event_name == "Fed Chair Nomination Vote"
    ]  # fmt: skip
    assert vote[0].forecast == "Pass"


def test_csv_crlf_and_trillions(ff):
    record = by_id(parse(ff, FEED, "ff_thisweek_2022-08-07_csv_malimsZen_2decabf.csv"))[
        "20220807-JPY-current-account"
    ]
    assert (record.time, record.forecast, record.previous) == (
        time(23, 50),
        "-0.03T",
        "0.01T",
    )


def test_cdata_title_with_ampersand(ff):
    records = parse(ff, FEED, "ff_thisweek_2022-06-26_xml_JefersonProfit.xml").records
    assert "S&P/CS Composite-20 HPI y/y" in {r.event_name for r in records}


def test_xml_and_csv_of_the_same_week_agree(ff):
    xml = by_id(parse(ff, FEED, "ff_thisweek_2026-02-08_xml_Sandip2512.xml"))
    csv = by_id(parse(ff, FEED, "ff_thisweek_2026-02-08_csv_KundaNgambi.csv"))
    # The two files were downloaded at different moments of the week: the XML already
    # lists two speeches more, one event moved to the next day, one was re-timed.
    # Everything else parses to identical records from the two formats.
    assert set(xml) - set(csv) == {
        "20260210-GBP-mpc-member-mann-speaks",
        "20260213-USD-mortgage-delinquencies",
    }
    assert set(csv) - set(xml) == {"20260212-USD-mortgage-delinquencies"}
    differing = [key for key in set(csv) & set(xml) if csv[key] != xml[key]]
    assert differing == ["20260212-EUR-german-buba-president-nagel-speaks"]
    assert len(set(csv) & set(xml)) == 87


def test_json_offset_and_csv_gmt_give_the_same_instant(ff):
    json_ = by_id(
        parse(ff, FEED, "ff_thisweek_2022-08-14_json_malimsZen_466cd4d_emptydate.json")
    )
    csv = by_id(parse(ff, FEED, "ff_thisweek_2022-08-14_csv_malimsZen_29961af.csv"))
    key = "20220814-GBP-rightmove-hpi-m-m"
    # CSV "08-14-2022,11:01pm" (GMT) == JSON "2022-08-14T19:01:00-04:00".
    assert (
        json_[key].scheduled_at
        == csv[key].scheduled_at
        == datetime(2022, 8, 14, 23, 1, tzinfo=UTC)
    )
    assert set(json_) == set(csv) - {"20220814-NZD-businessnz-services-index"}


@pytest.mark.parametrize(("first", "last"), PAIRS)
def test_keys_survive_re_timing_within_a_day(ff, first, last):
    before = by_id(parse(ff, FEED, first))
    after = by_id(parse(ff, FEED, last))
    moved = [
        key
        for key in before.keys() & after.keys()
        if before[key].time != after[key].time
    ]
    assert moved, "each recorded week has events re-timed between its snapshots"
    # Nothing is matched to a different event: name and currency are part of the key.
    for key in before.keys() & after.keys():
        assert (before[key].event_name, before[key].currency) == (
            after[key].event_name,
            after[key].currency,
        )


def test_known_moves_keep_their_ids(ff):
    before = by_id(parse(ff, FEED, PAIRS[2][0]))
    after = by_id(parse(ff, FEED, PAIRS[2][1]))
    key = "20260812-USD-federal-budget-balance"
    assert (before[key].time, after[key].time) == (time(18, 0), time(17, 58))
    # CNY New Loans moved to the next day: a new occurrence, the old one disappears.
    assert "20260813-CNY-new-loans" in before
    assert "20260813-CNY-new-loans" not in after
    assert "20260814-CNY-new-loans" in after


def test_same_title_twice_a_day_gets_ordinals(ff):
    records = by_id(parse(ff, FEED, PAIRS[2][1]))
    first = records["20260811-USD-adp-weekly-employment-change"]
    second = records["20260811-USD-adp-weekly-employment-change-2"]
    assert first.scheduled_at < second.scheduled_at


def test_page_uses_dateline_not_the_session_time_label(ff):
    records = by_id(parse(ff, PAGE, "ff_calendar_page_2026-05-31_week_tobigom.html"))
    pmi = records["20260531-CNY-manufacturing-pmi"]
    # Label "10:30am" in a UTC+9 session; dateline 1780191000 = 01:30Z.
    assert pmi.scheduled_at == datetime(2026, 5, 31, 1, 30, tzinfo=UTC)
    assert (pmi.country, pmi.source_event_id, pmi.actual) == ("CN", "449", "50.0")
    assert (
        pmi.source_url
        == "https://www.forexfactory.com/calendar/449-ch-manufacturing-pmi"
    )


def test_page_actuals_and_revised_previous(ff):
    records = by_id(parse(ff, PAGE, "ff_calendar_page_2026-05-31_week_tobigom.html"))
    claims = records["20260604-USD-unemployment-claims"]
    assert claims.scheduled_at == datetime(2026, 6, 4, 12, 30, tzinfo=UTC)
    assert (claims.actual, claims.forecast) == ("225K", "214K")
    # FF: `previous` is what was first reported, `revision` the revised figure.
    assert (claims.previous, claims.revised_previous) == ("215K", "212K")
    assert claims.importance == 2
    trade = records["20260604-AUD-goods-trade-balance"]
    assert (trade.previous, trade.revised_previous) == ("-1.84B", "-1.02B")


def test_page_time_precisions(ff):
    records = parse(ff, PAGE, "ff_calendar_page_2026-06-07_week_tobigom.html").records
    by_name = {(r.event_name, r.currency): r for r in records}
    holiday = by_name[("Bank Holiday", "AUD")]
    assert (holiday.date, holiday.time_precision, holiday.kind) == (
        date(2026, 6, 8),
        "all_day",
        "holiday",
    )
    tentative = by_name[("Trade Balance", "CNY")]
    assert (tentative.time, tentative.time_precision) == (None, "tentative")
    ranged = by_name[("German WPI m/m", "EUR")]
    assert (ranged.time_precision, ranged.country) == ("date_only", "DE")
    opec = by_name[("OPEC Meetings", "")]
    assert (opec.country, opec.time_precision) == ("WW", "all_day")


def test_page_and_feed_agree_on_keys_for_the_same_kind_of_row(ff):
    # No feed snapshot of the page's weeks was recorded; the same release in adjacent
    # weeks shows both entry points build the key the same way.
    page = by_id(parse(ff, PAGE, "ff_calendar_page_2026-05-31_week_tobigom.html"))
    feed = by_id(parse(ff, FEED, "ff_thisweek_2026-05-11_xml_Pablo.xml"))
    page_claims = next(k for k in page if k.endswith("-USD-unemployment-claims"))
    feed_claims = next(k for k in feed if k.endswith("-USD-unemployment-claims"))
    assert page_claims.split("-", 1)[1] == feed_claims.split("-", 1)[1]
    assert (
        page[page_claims].source_event_id == feed[feed_claims].source_event_id == "11"
    )


@pytest.mark.parametrize(
    "name",
    ["ff_cloudflare_challenge_Sandip2512.html"],
)
def test_cloudflare_challenge_is_blocked_not_empty(ff, name):
    with pytest.raises(SourceBlocked, match="forexfactory: blocked by the source"):
        parse(ff, PAGE, name)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty payload"),
        (b"   \n", "empty payload"),
        (b"[]", "lists no events"),
        (b'{"error": "rate limited"}', "not a ForexFactory feed"),
        (
            b'[{"title":"CPI m/m","country":"CHF","date":"2025-',
            "feed JSON is malformed",
        ),
        (
            b'<?xml version="1.0"?><weeklyevents><event><title>CPI',
            "feed XML is malformed",
        ),
        (
            b"<html><body>Service unavailable</body></html>",
            "HTML page without calendar data",
        ),
        (b"Title,Country\n", "CSV header"),
    ],
)
def test_malformed_payloads_fail_with_a_clear_message(ff, body, message):
    with pytest.raises(PayloadError, match=message) as info:
        ff.parse(body)
    assert str(info.value).startswith("forexfactory:")


def test_truncated_real_payload_fails_cleanly(ff):
    body = fixture_bytes("forexfactory_feed/ff_thisweek_2025-05-04_xml_Rommans.xml")
    with pytest.raises(PayloadError, match="XML is malformed"):
        ff.parse(body[: len(body) // 2])


def test_bad_rows_are_skipped_and_the_rest_kept(ff):
    body = (
        b'[{"title":"CPI m/m","country":"CHF","date":"2025-05-05T02:30:00-04:00","impact":"High","forecast":"0.2%","previous":"0.0%"},'
        b'{"title":"Mystery","country":"XYZ","date":"2025-05-05T02:30:00-04:00","impact":"Low","forecast":"","previous":""},'
        b'{"title":"Far future","country":"USD","date":"9999-05-05T02:30:00-04:00","impact":"Low","forecast":"","previous":""},'
        b'{"title":"Odd impact","country":"USD","date":"2025-05-05T02:30:00-04:00","impact":"Critical","forecast":"","previous":""},'
        b'{"title":"No zone","country":"USD","date":"2025-05-05T02:30:00","impact":"Low","forecast":"","previous":""},'
        b'"not an object"]'
    )
    parsed = ff.parse(body)
    assert [r.event_name for r in parsed.records] == ["CPI m/m"]
    reasons = " | ".join(skip.reason for skip in parsed.skipped)
    assert len(parsed.skipped) == 5
    for fragment in (
        "unknown currency 'XYZ'",
        "outside",
        "unknown importance",
        "no UTC offset",
        "not an object",
    ):
        assert fragment in reasons


@responses.activate
def test_fetch_reads_the_feed_and_detects_blocking(ff, settings):
    from ingestion.http import build_session

    settings.FOREXFACTORY_FEED_FORMAT = "xml"
    url = "https://nfs.faireconomy.media/ff_calendar_thisweek.xml"
    body = fixture_bytes("forexfactory_feed/ff_thisweek_2025-05-04_xml_Rommans.xml")
    responses.get(url, body=body)
    window = DateWindow(date(2025, 5, 4), date(2025, 5, 10))
    payloads = list(ff.fetch(build_session(retries=0), window))
    assert [p.url for p in payloads] == [url]
    assert len(ff.parse(payloads[0].body).records) == 91

    responses.replace(responses.GET, url, status=403, body=b"Forbidden")
    with pytest.raises(SourceBlocked, match="HTTP 403"):
        list(ff.fetch(build_session(retries=0), window))

    challenge = fixture_bytes(
        "forexfactory_html/ff_cloudflare_challenge_Sandip2512.html"
    )
    responses.replace(responses.GET, url, status=200, body=challenge)
    with pytest.raises(SourceBlocked, match="Cloudflare"):
        list(ff.fetch(build_session(retries=0), window))


@responses.activate
def test_with_the_page_enabled_it_is_fetched_before_the_feed(ff, settings, db):
    """The page (with actuals) comes first; the writer keeps the first record of an
    occurrence (test_services: duplicates keep the first), so the page's values win."""
    from ingestion.http import build_session
    from ingestion.services import run_ingest

    settings.FOREXFACTORY_PAGE_ENABLED = True
    page = fixture_bytes(
        "forexfactory_html/ff_calendar_page_2026-05-31_week_tobigom.html"
    )
    responses.get("https://www.forexfactory.com/calendar?week=may31.2026", body=page)
    # No feed of the page's week was recorded; another week's feed fills the slot.
    feed = fixture_bytes(
        "forexfactory_feed/ff_thisweek_2026-08-16_json_dkmarlin_e174305_last.json"
    )
    responses.get("https://nfs.faireconomy.media/ff_calendar_thisweek.json", body=feed)
    window = DateWindow(date(2026, 5, 31), date(2026, 6, 6))
    urls = [p.url for p in ff.fetch(build_session(retries=0), window)]
    assert urls[0].startswith("https://www.forexfactory.com/calendar")
    run = run_ingest(ff, window=window, http=build_session(retries=0), trigger="test")
    assert run.created == 121 + 100
    from core.models import EconomicEvent

    claims = EconomicEvent.objects.get(external_id="20260604-USD-unemployment-claims")
    assert (claims.actual, claims.status) == ("225K", "released")
