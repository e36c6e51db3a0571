"""Relative days (today, -7d...) resolved in the request's zone, and how long the
answer built from them stays right."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from calendar_api.relative_dates import (
    RelativeDay,
    parse_relative,
    seconds_left_today,
    today_in,
)

URL = "/api/events/"
NY = ZoneInfo("America/New_York")
# 23:30 on 4 June in New York: already 5 June in UTC.
LATE_IN_NEW_YORK = datetime(2026, 6, 5, 3, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("today", 0), ("Yesterday", -1), ("tomorrow", 1), ("-7d", -7), ("+30d", 30),
        ("+0d", 0), (" -1d ", -1), ("30d", 30), (" 7d", 7),
    ],
)  # fmt: skip
def test_relative_days(text, days):
    assert parse_relative(text) == RelativeDay(days, text.strip().lower())


@pytest.mark.parametrize("text", ["2026-06-04", "d", "-7", "+7 d", "last week", ""])
def test_anything_else_is_not_a_relative_day(text):
    assert parse_relative(text) is None


def test_offsets_past_a_century_are_refused():
    with pytest.raises(ValueError, match="At most 36600 days"):
        parse_relative("+99999d")


def test_today_is_the_day_in_the_zone():
    assert today_in(ZoneInfo("UTC"), LATE_IN_NEW_YORK) == date(2026, 6, 5)
    assert today_in(NY, LATE_IN_NEW_YORK) == date(2026, 6, 4)


@pytest.mark.parametrize(
    ("now", "tz", "seconds"),
    [
        (LATE_IN_NEW_YORK, NY, 30 * 60),
        (LATE_IN_NEW_YORK, ZoneInfo("UTC"), (20 * 60 + 30) * 60),
        # 8 March 2026, New York springs forward: from 00:00 local the day has 23 hours.
        (datetime(2026, 3, 8, 5, 0, tzinfo=UTC), NY, 23 * 3600),
        # 1 November 2026, it falls back: 25 hours.
        (datetime(2026, 11, 1, 4, 0, tzinfo=UTC), NY, 25 * 3600),
    ],
)
def test_seconds_left_today_count_real_seconds(now, tz, seconds):
    assert seconds_left_today(tz, now) == seconds


# THROUGH THE API
# ------------------------------------------------------------------------------


@pytest.fixture
def days(db, make_event):
    """One US release at 12:30 UTC each day from 1 to 10 June 2026."""
    return {
        day: make_event(
            datetime(2026, 6, day, 12, 30, tzinfo=UTC), event_name=f"6/{day}"
        )
        for day in range(1, 11)
    }


def names(api_client, **params) -> list[str]:
    response = api_client.get(URL, params)
    assert response.status_code == 200, response.content
    return [item["event_name"] for item in response.json()["results"]]


@time_machine.travel(LATE_IN_NEW_YORK, tick=False)
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date": "today"}, ["6/5"]),
        ({"date": "today", "tz": "America/New_York"}, ["6/4"]),
        ({"date": "yesterday"}, ["6/4"]),
        ({"date": "tomorrow", "tz": "America/New_York"}, ["6/5"]),
        ({"date_from": "-2d", "date_to": "today"}, ["6/3", "6/4", "6/5"]),
        ({"date_from": "+3d"}, ["6/8", "6/9", "6/10"]),
        # An unescaped "+" in a URL arrives as a space.
        ({"date_from": " 3d"}, ["6/8", "6/9", "6/10"]),
        ({"date_from": "2026-06-09", "date_to": "+30d"}, ["6/9", "6/10"]),
    ],
)
def test_relative_days_in_the_list(api_client, days, params, expected):
    assert names(api_client, **params) == expected


@time_machine.travel(LATE_IN_NEW_YORK, tick=False)
def test_a_relative_range_is_checked_once_resolved(api_client, days):
    response = api_client.get(URL, {"date_from": "today", "date_to": "-1d"})
    assert response.status_code == 400
    assert response.json() == {
        "date_from": ["date_from 2026-06-05 is after date_to 2026-06-04."]
    }


@time_machine.travel(LATE_IN_NEW_YORK, tick=False)
def test_a_relative_answer_expires_when_today_ends(api_client, days):
    response = api_client.get(URL, {"date": "today", "tz": "America/New_York"})
    assert response["Cache-Control"] == "no-cache, max-age=1800"
    utc = api_client.get(URL, {"date_from": "-1d"})
    assert utc["Cache-Control"] == f"no-cache, max-age={(20 * 60 + 30) * 60}"
    fixed = api_client.get(URL, {"date": "2026-06-05"})
    assert fixed["Cache-Control"] == "no-cache"


def test_the_etag_of_today_changes_at_midnight(api_client, days):
    """The data did not change, the day did: yesterday's ETag is not a 304 today."""
    with time_machine.travel(datetime(2026, 6, 4, 23, 59, tzinfo=UTC), tick=False):
        before = api_client.get(URL, {"date": "today"})
        again = api_client.get(
            URL, {"date": "today"}, HTTP_IF_NONE_MATCH=before["ETag"]
        )
        assert again.status_code == 304
    with time_machine.travel(datetime(2026, 6, 5, 0, 1, tzinfo=UTC), tick=False):
        after = api_client.get(
            URL, {"date": "today"}, HTTP_IF_NONE_MATCH=before["ETag"]
        )
    assert after.status_code == 200
    assert [item["event_name"] for item in after.json()["results"]] == ["6/5"]
    assert [item["event_name"] for item in before.json()["results"]] == ["6/4"]


@time_machine.travel(datetime(9999, 12, 30, 12, tzinfo=UTC), tick=False)
def test_an_offset_past_the_end_of_the_calendar_is_a_400(api_client, db):
    response = api_client.get(URL, {"date_to": "+3d"})
    assert response.status_code == 400
    assert response.json() == {"date_to": ["+3d is outside the calendar."]}
