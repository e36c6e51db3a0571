"""BLS release schedules (.ics feed, schedule page), cross-checked with each other,
with FRED's release dates and with a calendar's times."""

from datetime import UTC, date, datetime
from functools import cache

import icalendar
import pytest

from ingestion.errors import PayloadError
from ingestion.normalise import to_utc
from ingestion.official import bls_schedule, fred
from ingestion.official.observations import Period
from ingestion.sources import get_source
from tests.conftest import fixture_bytes
from tests.ingestion.official.recorded import cassette_bodies

ICS_2023_2024 = "official/bls_schedule/bls_schedule_MrCroesus_c76d1a6.ics"
ICS_2025_2026 = "official/bls_schedule/bls_schedule_REX0227_08e9941.ics"
PAGE_JUL_2024 = "official/bls/bls_schedule_cpi_htm_chrome-dump_2024-07-18.html"
PAGE_NOV_2024 = "official/bls/bls_schedule_cpi_htm_chrome-dump_2024-11-21.html"
CPI = "Consumer Price Index"


@cache
def calendar(relative: str) -> bls_schedule.Schedule:
    return bls_schedule.parse_calendar(fixture_bytes(relative))


def page(relative: str) -> bls_schedule.Schedule:
    return bls_schedule.parse_schedule_page(fixture_bytes(relative))


def released(schedule: bls_schedule.Schedule, name: str) -> list[datetime]:
    return [r.at for r in schedule.releases if r.name == name]


def test_calendar_feeds():
    older, newer = calendar(ICS_2023_2024), calendar(ICS_2025_2026)
    assert (len(older.releases), len(newer.releases)) == (321, 246)
    assert older.skipped == newer.skipped == ()
    first = older.releases[0]
    assert (first.name, first.at) == (
        "Job Openings and Labor Turnover Survey",
        datetime(2023, 1, 4, 15, 0, tzinfo=UTC),
    )


def test_the_feeds_own_time_zone_agrees_with_new_york():
    """US-Eastern is defined inside the file; its rules must give New York's times."""
    for relative in (ICS_2023_2024, ICS_2025_2026):
        events = icalendar.Calendar.from_ical(fixture_bytes(relative)).walk("VEVENT")
        wall_clock = [
            (
                to_utc(
                    datetime.strptime(  # noqa: DTZ007 - the feed's local wall time
                        event["DTSTART"].to_ical().decode(), "%Y%m%dT%H%M%S"
                    ),
                    "America/New_York",
                ),
                str(event["SUMMARY"]).strip(),
            )
            for event in events
        ]
        parsed = [(r.at, r.name) for r in calendar(relative).releases]
        assert sorted(wall_clock) == parsed
    cpi = released(calendar(ICS_2023_2024), CPI)
    # 08:30 Eastern: 13:30Z in winter (EST), 12:30Z after the March switch (EDT).
    assert datetime(2023, 2, 14, 13, 30, tzinfo=UTC) in cpi
    assert datetime(2023, 3, 14, 12, 30, tzinfo=UTC) in cpi


def test_schedule_page_rows():
    schedule = page(PAGE_JUL_2024)
    assert len(schedule.releases) == 14
    first, last = schedule.releases[0], schedule.releases[-1]
    assert (first.name, first.reference, first.reference_period, first.at) == (
        CPI,
        "October 2023",
        Period.of("M", 2023, 10),
        datetime(2023, 11, 14, 13, 30, tzinfo=UTC),
    )
    assert (last.reference_period, last.at) == (
        Period.of("M", 2024, 11),
        datetime(2024, 12, 11, 13, 30, tzinfo=UTC),
    )


def test_page_and_feed_agree_on_every_2024_cpi_release():
    feed = set(released(calendar(ICS_2023_2024), CPI))
    for relative in (PAGE_JUL_2024, PAGE_NOV_2024):
        for row in page(relative).releases:
            if row.at.year <= 2024:
                assert row.at in feed, row


def test_fred_lists_the_same_cpi_release_days():
    release_dates = fred.parse_release_dates(
        cassette_bodies(
            "fred/fred_release_dates_release_id10_CPI_2024-11-03_2025-01-20.cassette.yaml"
        )[0]
    )
    fred_days = {r.date for r in release_dates}
    page_days = {r.at.date() for r in page(PAGE_JUL_2024).releases}
    listed = {d for d in page_days if d <= date(2024, 10, 10)}  # FRED's last day
    assert len(listed) == 12
    assert listed <= fred_days


def test_the_2025_shutdown_moved_releases():
    # In November 2024 the page scheduled November-2025 CPI for Dec. 10, 2025 ...
    planned = page(PAGE_NOV_2024).releases[-1]
    assert (planned.reference_period, planned.at.date()) == (
        Period.of("M", 2025, 11),
        date(2025, 12, 10),
    )
    # ... the feed of February 2026 has it on Dec. 18, September's CPI on Oct. 24,
    # and no CPI release in between (October 2025 was never published).
    cpi = released(calendar(ICS_2025_2026), CPI)
    autumn = [
        at.date() for at in cpi if date(2025, 10, 1) <= at.date() <= date(2025, 12, 31)
    ]
    assert autumn == [date(2025, 10, 24), date(2025, 12, 18)]


def test_a_calendar_lists_the_same_release_times():
    """ForexFactory's feed of the week of 8 Feb 2026 against the BLS feed."""
    feed = calendar(ICS_2025_2026)
    week = get_source("forexfactory").parse(
        fixture_bytes("forexfactory_feed/ff_thisweek_2026-02-08_xml_Sandip2512.xml")
    )
    times = {r.event_name: r.scheduled_at for r in week.records if r.country == "US"}
    assert times["CPI m/m"] in released(feed, CPI)
    assert times["Non-Farm Employment Change"] in released(feed, "Employment Situation")
    assert times["CPI m/m"] == datetime(2026, 2, 13, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><h2>Something else</h2></html>", "no 'Schedule of Releases for'"),
        (
            b"<html><h2>Schedule of Releases for the CPI</h2></html>",
            "no release-list table",
        ),
    ],
)
def test_page_errors(body, message):
    with pytest.raises(PayloadError, match=message):
        bls_schedule.parse_schedule_page(body)


def test_a_bad_row_is_skipped():
    body = (
        b"<html><h2>Schedule of Releases for the Employment Cost Index</h2>"
        b"<table class='release-list'><tbody>"
        b"<tr><td>1st Quarter 2024</td><td>Apr. 30, 2024</td><td>08:30 AM</td></tr>"
        b"<tr><td>2nd Quarter 2024</td><td>soon</td><td>08:30 AM</td></tr>"
        b"</tbody></table></html>"
    )
    schedule = bls_schedule.parse_schedule_page(body)
    [row] = schedule.releases
    assert (row.name, row.reference_period, row.at) == (
        "Employment Cost Index",
        Period.of("Q", 2024, 1),
        datetime(2024, 4, 30, 12, 30, tzinfo=UTC),
    )
    assert [s.reason for s in schedule.skipped] == [
        "release date 'soon' is not like 'Nov. 13, 2024'"
    ]


def test_a_broken_calendar_is_a_payload_error():
    with pytest.raises(PayloadError, match="schedule calendar"):
        bls_schedule.parse_calendar(b"BEGIN:VCALENDAR\nEND:VCALENDAR\n")
