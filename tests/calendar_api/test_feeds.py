"""Downloads and subscriptions: the iCalendar feed read by two independent parsers
(icalendar, as Python calendar tools read it; ics, a stricter RFC 5545 reader), and
the CSV file as a spreadsheet reads it."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import ics
import pytest
import time_machine
from icalendar import Calendar

from core.models import Occurrence
from ingestion.services import ingest_source
from tests.conftest import fixture_path

pytestmark = pytest.mark.django_db
TODAY = datetime(2026, 6, 4, 15, 0, tzinfo=UTC)
FF_WEEK = "forexfactory_feed/ff_thisweek_2026-08-16_json_dkmarlin_11cf751_first.json"
FF_PAGE = "forexfactory_html/ff_calendar_page_2026-05-31_week_tobigom.html"
INVESTING_DAY = "investing_page/investing_econcal_nextjs_2026-06-04_tobigom.html"


def feed(api_client, url="/api/events.ics", **params):
    response = api_client.get(url, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response


def both_parsers(raw: bytes) -> tuple[Calendar, ics.Calendar]:
    return Calendar.from_ical(raw), ics.Calendar(raw.decode())


def calendar_text(calendar: Calendar, name: str) -> str:
    """A calendar property as a calendar app shows it (X- ones come back escaped)."""
    return re.sub(r"\\([\\;,])", r"\1", str(calendar[name]))


# THE ROLLING WINDOW
# ------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_a_feed_without_dates_covers_30_days_back_to_90_ahead(api_client, make_event):
    today = TODAY.date()
    for offset in (-31, -30, 0, 90, 91):
        make_event(
            datetime.combine(today + timedelta(days=offset), TODAY.timetz()),
            event_name=f"day {offset:+d}",
        )
    response = feed(api_client, country="US")
    calendar, parsed = both_parsers(response.content)
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == [
        "[US !!] day -30", "[US !!] day +0", "[US !!] day +90",
    ]  # fmt: skip
    assert len(parsed.events) == 3
    assert "rolling window from 30 days ago to 90 days ahead" in calendar_text(
        calendar, "X-WR-CALDESC"
    )
    # The window moves at midnight UTC: the answer says so.
    assert response["Cache-Control"] == f"no-cache, max-age={9 * 3600}"


@time_machine.travel(TODAY, tick=False)
def test_explicit_dates_replace_the_window(api_client, make_event):
    make_event(datetime(2020, 1, 2, 12, tzinfo=UTC), event_name="long ago")
    calendar, _ = both_parsers(feed(api_client, date_from="2020-01-01").content)
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == ["[US !!] long ago"]


@time_machine.travel(TODAY, tick=False)
def test_past_the_cap_a_feed_is_cut_with_a_note_not_refused(
    api_client, make_event, settings
):
    settings.API_EXPORT_MAX_ROWS = 3
    for hour in range(5):
        make_event(datetime(2026, 6, 1, hour, tzinfo=UTC), event_name=f"h{hour}")
    response = feed(api_client, date_from="2026-06-01", date_to="2026-06-01")
    calendar, parsed = both_parsers(response.content)
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == [
        "[US !!] h0", "[US !!] h1", "[US !!] h2",
    ]  # fmt: skip
    assert len(parsed.events) == 3
    assert "Truncated" in calendar_text(calendar, "X-WR-CALDESC")
    assert "first 3" in str(calendar["DESCRIPTION"])
    assert response["X-Truncated"] == "first 3 rows of more"
    # A spreadsheet would silently miss rows: the CSV is still refused.
    csv_response = api_client.get("/api/events.csv", {"date": "2026-06-01"})
    assert csv_response.status_code == 400
    assert "narrow date_from/date_to" in csv_response.json()["date_from"][0]


# EVENTS AS CALENDAR APPS READ THEM
# ------------------------------------------------------------------------------


def test_timed_events_end_after_they_start_and_all_day_ones_next_day(
    api_client, make_event
):
    make_event(datetime(2026, 6, 5, 12, 30, tzinfo=UTC), event_name="NFP")
    make_event(date(2026, 6, 5), event_name="Holiday", importance=None, kind="holiday")
    calendar, parsed = both_parsers(feed(api_client, date="2026-06-05").content)
    holiday, nfp = calendar.walk("VEVENT")
    assert nfp.decoded("DTSTART") == datetime(2026, 6, 5, 12, 30, tzinfo=UTC)
    assert nfp.decoded("DTEND") == datetime(2026, 6, 5, 12, 45, tzinfo=UTC)
    assert (holiday.decoded("DTSTART"), holiday.decoded("DTEND")) == (
        date(2026, 6, 5),
        date(2026, 6, 6),
    )
    for event in calendar.walk("VEVENT"):
        assert str(event["TRANSP"]) == "TRANSPARENT"  # nobody is busy for a release
    by_name = {event.name: event for event in parsed.events}
    assert by_name["[US !!] NFP"].duration == timedelta(minutes=15)
    assert by_name["[US] Holiday"].all_day


def test_the_calendar_names_its_filter_and_how_often_to_refresh(api_client, make_event):
    make_event(datetime(2026, 6, 5, 12, 30, tzinfo=UTC), country="EU", currency="EUR",
               importance=3)  # fmt: skip
    response = feed(
        api_client,
        "/api/events/",
        format="ics",
        country="US,EU",
        min_importance="3",
        date_from="2026-06-01",
        date_to="2026-06-07",
        tz="America/New_York",
    )
    raw = response.content
    calendar, parsed = both_parsers(raw)
    title = "Economic calendar: US, EU · high importance"
    assert str(calendar["X-WR-CALNAME"]) == title
    assert str(calendar["NAME"]) == title
    assert calendar_text(calendar, "X-WR-CALDESC") == (
        f"{title}, from dipping-calendar. Days: 2026-06-01 to 2026-06-07 "
        "(America/New_York)."
    )
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in raw
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in raw
    assert b"METHOD:PUBLISH\r\n" in raw
    assert len(parsed.events) == 1
    assert response["Content-Disposition"] == (
        'attachment; filename="economic-calendar_US-EU_2026-06-01_2026-06-07.ics"'
    )


@time_machine.travel(TODAY, tick=False)
def test_a_relative_feed_says_so_in_its_description(api_client, make_event):
    calendar, _ = both_parsers(
        feed(api_client, date_from="today", date_to="+6d", kind="release").content
    )
    assert str(calendar["X-WR-CALNAME"]) == "Economic calendar: kind release"
    assert "Days: today to +6d (UTC; now 2026-06-04 to 2026-06-10)." in calendar_text(
        calendar, "X-WR-CALDESC"
    )


def test_uids_stay_while_the_release_stays_the_same(api_client):
    """A UID is the occurrence's: re-ingesting, a re-timed release and a second
    source joining all keep it, so a subscribed calendar updates events in place."""
    day = {"date": "2026-06-04"}

    def uids() -> set[tuple[str, str]]:
        calendar, parsed = both_parsers(feed(api_client, **day).content)
        found = {(str(e["SUMMARY"]), str(e["UID"])) for e in calendar.walk("VEVENT")}
        assert sorted(e.uid for e in parsed.events) == sorted(u for _, u in found)
        return found

    ingest_source("forexfactory", files=[fixture_path(FF_PAGE)], trigger="test")
    first = uids()
    ingest_source("forexfactory", files=[fixture_path(FF_PAGE)], trigger="test")
    assert uids() == first
    ingest_source("investing", files=[fixture_path(INVESTING_DAY)], trigger="test")
    joined = uids()
    # Investing adds releases ForexFactory does not list, and joins the ones it does
    # (a summary may gain Investing's reference period, the UID stays).
    assert {u for _, u in first} <= {u for _, u in joined}
    assert len(joined) > len(first)
    claims = Occurrence.objects.get(indicator_id="us-initial-jobless-claims", **day)
    uid = f"occurrence-{claims.pk}@dipping-calendar"
    assert ("[US !!] Initial Jobless Claims", uid) in first
    assert {e["source"] for e in claims.sources} == {"forexfactory", "investing"}
    assert all(re.fullmatch(r"occurrence-\d+@dipping-calendar", u) for _, u in joined)


# CSV
# ------------------------------------------------------------------------------


def test_csv_columns_keep_their_types(api_client):
    """importance is an integer column with empty cells (holidays), never "3.0";
    category is filled where the name says it."""
    ingest_source("forexfactory", files=[fixture_path(FF_PAGE)], trigger="test")
    response = api_client.get("/api/events.csv", {"date_from": "2026-05-31"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="economic-calendar_2026-05-31_end.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 121
    importance = {row["importance"] for row in rows}
    assert importance <= {"1", "2", "3", ""}
    assert "" in importance  # holidays: an empty cell, which pandas reads as <NA>
    by_name = {row["event_name"]: row for row in rows}
    # The indicator's category: from the catalogue, or from the name for the rest.
    assert by_name["ISM Manufacturing PMI"]["category"] == "sentiment"  # a survey
    assert by_name["Average Hourly Earnings m/m"]["category"] == "employment"
    assert by_name["ISM Manufacturing Prices"]["category"] == "sentiment"  # a survey
    assert by_name["BOE Governor Speaks"]["category"] == "speeches"
    released = [row for row in rows if row["kind"] == "release"]
    assert sum(1 for row in released if row["category"] != "other") >= 0.8 * len(
        released
    )
    assert all(re.fullmatch(r"\d+", row["id"]) for row in rows)


def test_one_event_downloads_with_its_own_file_name(api_client, make_event):
    event = make_event(datetime(2026, 6, 5, 12, 30, tzinfo=UTC))
    for fmt in ("csv", "ics"):
        response = api_client.get(f"/api/events/{event.pk}/", {"format": fmt})
        assert response["Content-Disposition"] == (
            f'attachment; filename="economic-calendar_event-{event.pk}.{fmt}"'
        )
