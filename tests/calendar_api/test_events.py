"""GET /api/events/ and /api/events/{id}/: filters, time zones, formats, paging, caching.

The rows are occurrences (one per release across sources); ``make_event`` stores a
source row and consolidates it as ingestion does, so names are the indicators' own
("Initial Jobless Claims" at a US source is Initial Jobless Claims)."""

import csv
import io
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from calendar_api.serializers import OccurrenceDetailSerializer, OccurrenceSerializer
from core.models import EconomicEvent, Occurrence
from tests.factories import EventRevisionFactory

pytestmark = pytest.mark.django_db
URL = "/api/events/"
NY = ZoneInfo("America/New_York")


def get(api_client, url=URL, **params):
    return api_client.get(url, params)


def names(response):
    assert response.status_code == 200, response.content
    return [item["event_name"] for item in response.json()["results"]]


# FILTERS
# ------------------------------------------------------------------------------


@pytest.fixture
def week(make_event):
    """A small, varied week around 2026-06-04."""
    return {
        "nfp": make_event(
            datetime(2026, 6, 5, 12, 30, tzinfo=UTC), event_name="Nonfarm Payrolls",
            importance=3, actual="139K", forecast="126K", category="Employment",
        ),
        "cad": make_event(
            datetime(2026, 6, 5, 12, 30, tzinfo=UTC), event_name="Unemployment Rate",
            country="CA", currency="CAD", importance=2, status="released", actual="7.0%",
        ),
        "claims": make_event(
            datetime(2026, 6, 4, 12, 30, tzinfo=UTC), event_name="Initial Jobless Claims",
            importance=2, source="investing", forecast="214K",
        ),
        "cpi": make_event(
            datetime(2026, 6, 3, 1, 30, tzinfo=UTC), event_name="CPI y/y",
            country="CN", currency="CNY", importance=1,
        ),
        "holiday": make_event(
            date(2026, 6, 4), event_name="Bank Holiday", country="GB", currency="GBP",
            importance=None, kind="holiday",
        ),
        "gone": make_event(
            datetime(2026, 6, 4, 9, 0, tzinfo=UTC), event_name="ECB Speech", country="EU",
            currency="EUR", importance=1, status="cancelled",
        ),
    }  # fmt: skip


def test_unfiltered_list_is_in_time_order(api_client, week):
    assert names(get(api_client)) == [
        "CPI y/y", "Bank Holiday", "ECB Speech", "Initial Jobless Claims",
        "Nonfarm Payrolls", "Unemployment Rate",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "us"}, ["Initial Jobless Claims", "Nonfarm Payrolls"]),
        ({"country": "US,ca"}, ["Initial Jobless Claims", "Nonfarm Payrolls", "Unemployment Rate"]),
        ({"currency": "cad"}, ["Unemployment Rate"]),
        ({"date": "2026-06-04"}, ["Bank Holiday", "ECB Speech", "Initial Jobless Claims"]),
        ({"date_from": "2026-06-04", "date_to": "2026-06-05"},
         ["Bank Holiday", "ECB Speech", "Initial Jobless Claims", "Nonfarm Payrolls", "Unemployment Rate"]),
        ({"date_from": "2026-06-05"}, ["Nonfarm Payrolls", "Unemployment Rate"]),
        ({"date_to": "2026-06-03"}, ["CPI y/y"]),
        ({"importance": "3,1"}, ["CPI y/y", "ECB Speech", "Nonfarm Payrolls"]),
        ({"min_importance": "2"}, ["Initial Jobless Claims", "Nonfarm Payrolls", "Unemployment Rate"]),
        ({"category": "employment"}, ["Initial Jobless Claims", "Nonfarm Payrolls", "Unemployment Rate"]),
        ({"category": "inflation,Employment", "country": "CN,CA"}, ["CPI y/y", "Unemployment Rate"]),
        ({"indicator": "us-nonfarm-payrolls,ca-unemployment-rate"}, ["Nonfarm Payrolls", "Unemployment Rate"]),
        ({"source": "investing"}, ["Initial Jobless Claims"]),
        ({"status": "cancelled"}, ["ECB Speech"]),
        # An occurrence with an actual is released, whatever a source's row says.
        ({"status": "released,cancelled"}, ["ECB Speech", "Nonfarm Payrolls", "Unemployment Rate"]),
        ({"has_actual": "true"}, ["Nonfarm Payrolls", "Unemployment Rate"]),
        ({"has_actual": "false", "country": "US"}, ["Initial Jobless Claims"]),
        ({"q": "unemployment"}, ["Unemployment Rate"]),
        ({"q": "jobless"}, ["Initial Jobless Claims"]),
        ({"q": "us-nonfarm"}, ["Nonfarm Payrolls"]),
        ({"ordering": "-importance"},
         ["Nonfarm Payrolls", "Initial Jobless Claims", "Unemployment Rate", "CPI y/y", "ECB Speech", "Bank Holiday"]),
        ({"ordering": "country", "date": "2026-06-05"}, ["Unemployment Rate", "Nonfarm Payrolls"]),
        ({"ordering": "-date", "country": "US"}, ["Nonfarm Payrolls", "Initial Jobless Claims"]),
    ],
)  # fmt: skip
def test_filters(api_client, week, params, expected):
    assert names(get(api_client, **params)) == expected


def test_updated_since_returns_rows_changed_after(api_client, week, republish):
    republish(week["nfp"], datetime(2026, 6, 5, 12, 31, tzinfo=UTC), forecast="127K")
    response = get(api_client, updated_since="2026-06-05T12:00:00Z", ordering="updated")
    assert names(response) == ["Nonfarm Payrolls"]
    # A naive datetime is read as UTC.
    assert names(get(api_client, updated_since="2026-06-05T12:00:00")) == [
        "Nonfarm Payrolls"
    ]


# TIME ZONES
# ------------------------------------------------------------------------------


def test_tz_moves_timed_events_to_their_local_day_and_keeps_all_day_ones(
    api_client, week
):
    # Seoul is UTC+9: CPI at 2026-06-03 01:30Z is 10:30 on 3 June there; the 12:30Z
    # releases of 4 and 5 June are 21:30 the same day; the all-day holiday stays put.
    response = get(api_client, date="2026-06-04", tz="Asia/Seoul")
    assert names(response) == ["Bank Holiday", "ECB Speech", "Initial Jobless Claims"]
    claims = response.json()["results"][2]
    assert claims["local"] == {
        "tz": "Asia/Seoul", "date": "2026-06-04", "time": "21:30:00",
        "datetime": "2026-06-04T21:30:00+09:00",
    }  # fmt: skip
    assert (claims["date"], claims["time"], claims["datetime"]) == (
        "2026-06-04", "12:30:00", "2026-06-04T12:30:00Z",
    )  # fmt: skip
    holiday = response.json()["results"][0]
    assert holiday["local"] == {
        "tz": "Asia/Seoul",
        "date": "2026-06-04",
        "time": None,
        "datetime": None,
    }
    assert holiday["datetime"] is None


def test_tz_east_of_utc_moves_an_early_utc_event_to_the_previous_day(
    api_client, make_event
):
    # 23:30Z on 3 June is 08:30 on 4 June in Seoul; 01:00Z on 5 June is 21:00 on 4 June
    # in New York.
    make_event(datetime(2026, 6, 3, 23, 30, tzinfo=UTC), event_name="Late UTC")
    make_event(datetime(2026, 6, 5, 1, 0, tzinfo=UTC), event_name="Early UTC")
    assert names(get(api_client, date="2026-06-04", tz="Asia/Seoul")) == ["Late UTC"]
    assert names(get(api_client, date="2026-06-04", tz="America/New_York")) == [
        "Early UTC"
    ]
    assert names(get(api_client, date="2026-06-04")) == []


@pytest.mark.parametrize(
    ("day", "local_midnight_utc"),
    [
        # Spring forward (8 March 2026): the New York day starts at 05:00Z, ends at 04:00Z.
        (
            "2026-03-08",
            (datetime(2026, 3, 8, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC)),
        ),
        # Fall back (1 November 2026): starts at 04:00Z, ends at 05:00Z (25 hours).
        (
            "2026-11-01",
            (
                datetime(2026, 11, 1, 4, tzinfo=UTC),
                datetime(2026, 11, 2, 5, tzinfo=UTC),
            ),
        ),
    ],
)
def test_tz_day_boundaries_across_dst_changes(
    api_client, make_event, day, local_midnight_utc
):
    start, end = local_midnight_utc
    from datetime import timedelta

    make_event(start - timedelta(minutes=1), event_name="before")
    make_event(start, event_name="first minute")
    make_event(end - timedelta(minutes=1), event_name="last minute")
    make_event(end, event_name="after")
    response = get(api_client, date=day, tz="America/New_York")
    assert names(response) == ["first minute", "last minute"]
    local = [item["local"]["time"] for item in response.json()["results"]]
    assert local == ["00:00:00", "23:59:00"]


# ERRORS: every bad parameter is a 400 naming it
# ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "parameter", "fragment"),
    [
        ({"date": "2026-13-01"}, "date", "valid date"),
        ({"date_from": "last week"}, "date_from", "valid date"),
        ({"date_to": "+99999d"}, "date_to", "At most 36600 days"),
        ({"source": "nope"}, "source", "Unknown source nope; one of"),
        (
            {"date_from": "2026-06-05", "date_to": "2026-06-01"},
            "date_from",
            "after date_to",
        ),
        ({"date": "2026-06-05", "date_to": "2026-06-06"}, "date", "not both"),
        ({"tz": "Mars/Olympus"}, "tz", "Unknown time zone"),
        ({"tz": "../../etc/passwd"}, "tz", "Unknown time zone"),
        # ZoneInfo itself fails on these with OSError (a directory, a name too long).
        ({"tz": "America"}, "tz", "Unknown time zone"),
        ({"tz": "x" * 1000}, "tz", "Unknown time zone"),
        # Before year 1 once in UTC.
        (
            {"updated_since": "0001-01-01T00:00:00+05:00"},
            "updated_since",
            "out of range",
        ),
        ({"country": "XX"}, "country", "Unknown country code(s): XX"),
        ({"country": "USA"}, "country", "Unknown country code(s): USA"),
        ({"currency": "DOLLARS"}, "currency", "Not ISO 4217"),
        ({"importance": "4"}, "importance", "1 (low)"),
        ({"importance": "high"}, "importance", "number"),
        ({"min_importance": "0"}, "min_importance", "1, 2 or 3"),
        ({"status": "maybe"}, "status", "Unknown status"),
        ({"has_actual": "perhaps"}, "has_actual", "true or false"),
        ({"updated_since": "last tuesday"}, "updated_since", "valid date/time"),
        ({"ordering": "price"}, "ordering", "valid choice"),
        ({"page_size": "1001"}, "page_size", "Between 1 and 1000"),
        ({"page_size": "0"}, "page_size", "Between 1 and 1000"),
        ({"page_size": "ten"}, "page_size", "whole number"),
        ({"cursor": "not-a-cursor"}, "cursor", "Invalid cursor"),
        ({"q": "x" * 101}, "q", "At most 100"),
        ({"country": ",".join(["US"] * 51)}, "country", "At most 50"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(
    api_client, week, params, parameter, fragment
):
    response = get(api_client, **params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [parameter]
    assert fragment in " ".join(body[parameter])


@pytest.mark.parametrize(
    "query",
    [
        "country=%00", "date=%ff%fe", "tz=%00", "q=%27%3B--", "importance=,,,", "country=,",
        "page_size=-1", "page_size=99999999999999999999", "cursor=W10", "cursor=WyJ4IiwgMV0",
        "cursor=WzEsIDIsIDMsIDRd", "ordering=", "updated_since=9999-12-31T23:59:59",
        "date_from=0001-01-01", "date_to=9999-12-31", "min_importance=1e400", "importance=NaN",
        "format=xml", "format=", "tz=UTC", "tz=", "q=%F0%9F%92%A5",
    ],
)  # fmt: skip
def test_garbage_never_answers_500(api_client, week, query):
    response = api_client.get(f"{URL}?{query}")
    assert response.status_code in (200, 400, 404), (query, response.content)
    assert response["Content-Type"].startswith("application/json")


def test_detail_not_found_cases_are_json_404(api_client):
    for url in (f"{URL}424242/", f"{URL}99999999999999999999999/", f"{URL}abc/"):
        response = api_client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_is_read_only(api_client, week, method):
    assert getattr(api_client, method)(URL, {}).status_code == 405
    assert getattr(api_client, method)(f"{URL}{week['nfp'].pk}/", {}).status_code == 405


# DETAIL
# ------------------------------------------------------------------------------


def test_detail_has_each_source_row_with_its_revisions_oldest_first(api_client, week):
    occurrence = week["nfp"]
    row = EconomicEvent.objects.get(memberships__occurrence=occurrence)
    EventRevisionFactory(event=row, field="actual", old_value="", new_value="139K",
                         changed_at=datetime(2026, 6, 5, 12, 31, tzinfo=UTC))  # fmt: skip
    EventRevisionFactory(event=row, field="forecast", old_value="130K", new_value="126K",
                         changed_at=datetime(2026, 6, 2, 8, 0, tzinfo=UTC))  # fmt: skip
    response = api_client.get(f"{URL}{occurrence.pk}/", {"tz": "America/New_York"})
    body = response.json()
    (source,) = body["sources"]
    assert (source["source"], source["event_id"]) == ("forexfactory", row.pk)
    assert [r["field"] for r in source["revisions"]] == ["forecast", "actual"]
    assert source["revisions"][0] == {
        "field": "forecast", "old_value": "130K", "new_value": "126K",
        "changed_at": "2026-06-02T08:00:00Z", "run": source["revisions"][0]["run"],
    }  # fmt: skip
    assert body["revisions"] == []  # the occurrence's own log: nothing changed yet
    assert body["local"]["datetime"] == "2026-06-05T08:30:00-04:00"
    assert body["actual"] == {
        "text": "139K",
        "value": None,
        "unit": "",
    }  # factory sets text only


def test_serializer_fields_match_the_output(api_client, week):
    """The declared fields (the OpenAPI schema) and the fast path agree key for key."""
    item = get(api_client).json()["results"][0]
    assert list(item) == list(OccurrenceSerializer().fields)
    detail = api_client.get(f"{URL}{item['id']}/").json()
    assert list(detail) == list(OccurrenceDetailSerializer().fields)
    serializer = OccurrenceDetailSerializer()
    entry_fields = serializer.fields["sources"].child.fields
    assert list(detail["sources"][0]) == list(entry_fields)
    assert list(item["sources"][0]) == list(
        OccurrenceSerializer().fields["sources"].child.fields
    )


# FORMATS
# ------------------------------------------------------------------------------


def test_csv_export(api_client, week):
    response = get(api_client, format="csv", country="US,CA", tz="America/Toronto")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["event_name"] for row in rows] == [
        "Initial Jobless Claims",
        "Nonfarm Payrolls",
        "Unemployment Rate",
    ]
    nfp = rows[1]
    assert (nfp["datetime"], nfp["local_date"], nfp["local_time"]) == (
        "2026-06-05T12:30:00Z",
        "2026-06-05",
        "08:30:00",
    )
    assert (nfp["actual"], nfp["forecast"], nfp["importance"]) == ("139K", "126K", "3")


def test_ics_feed_is_valid_rfc5545_with_stable_uids(api_client, week):
    response = get(api_client, format="ics", min_importance="2", date_from="2026-06-01")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")), (
        "lines are folded at 75 octets"
    )
    calendar = Calendar.from_ical(raw)
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [
        "[US !!] Initial Jobless Claims", "[US !!!] Nonfarm Payrolls", "[CA !!] Unemployment Rate",
    ]  # fmt: skip
    nfp = events[1]
    assert nfp.decoded("DTSTART") == datetime(2026, 6, 5, 12, 30, tzinfo=UTC)
    assert "Actual: 139K" in str(nfp["DESCRIPTION"])
    assert "Importance: High" in str(nfp["DESCRIPTION"])
    uids = [str(e["UID"]) for e in events]
    again = Calendar.from_ical(
        get(
            api_client, format="ics", min_importance="2", date_from="2026-06-01"
        ).content
    )
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == uids


def test_ics_all_day_events_are_dates(api_client, week):
    calendar = Calendar.from_ical(
        get(
            api_client, format="ics", kind="holiday", country="GB", date="2026-06-04"
        ).content
    )
    (holiday,) = calendar.walk("VEVENT")
    assert holiday.decoded("DTSTART") == date(2026, 6, 4)
    assert holiday.decoded("DTEND") == date(2026, 6, 5)
    cancelled = Calendar.from_ical(
        get(api_client, format="ics", status="cancelled", date="2026-06-04").content
    )
    assert str(cancelled.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_one_event_exports_as_csv_and_ics(api_client, week):
    url = f"{URL}{week['nfp'].pk}/"
    rows = list(
        csv.DictReader(io.StringIO(get(api_client, url, format="csv").content.decode()))
    )
    assert [(row["id"], row["event_name"], row["actual"]) for row in rows] == [
        (str(week["nfp"].pk), "Nonfarm Payrolls", "139K")
    ]
    (event,) = Calendar.from_ical(get(api_client, url, format="ics").content).walk(
        "VEVENT"
    )
    assert str(event["UID"]) == f"occurrence-{week['nfp'].pk}@dipping-calendar"


def test_updated_since_takes_any_iso_offset(api_client, week):
    # ISO 8601 allows offsets up to 23:59; PostgreSQL refuses past 15:59 (it is
    # converted to UTC before the query).
    response = get(api_client, updated_since="2000-01-01T06:25:23+18:42")
    assert len(names(response)) == len(week)


@pytest.mark.parametrize(
    "params",
    [
        {"date": "0001-01-01", "tz": "Asia/Seoul"},
        {"date": "9999-12-31", "tz": "America/New_York"},
        {
            "date_from": "2026-06-04",
            "date_to": "9999-12-31",
            "tz": "Pacific/Kiritimati",
        },
    ],
)
def test_day_filters_reach_the_ends_of_the_calendar(api_client, week, params):
    """A local day at year 1 or 9999 has a UTC bound datetime cannot hold: no bound."""
    found = names(get(api_client, **params))
    assert ("Nonfarm Payrolls" in found) == ("date_to" in params)


def test_errors_are_json_even_for_exports(api_client):
    response = get(api_client, format="ics", tz="Nowhere/Land")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "tz" in response.json()


def test_exports_refuse_too_many_rows(api_client, week, settings):
    settings.API_EXPORT_MAX_ROWS = 3
    response = get(api_client, format="csv")
    assert response.status_code == 400
    assert "narrow date_from/date_to" in response.json()["date_from"][0]


# PAGINATION
# ------------------------------------------------------------------------------


def walk(api_client, **params):
    """Follow `next` links to the end; return every id in order."""
    ids, response = [], get(api_client, **params)
    while True:
        body = response.json()
        ids += [item["id"] for item in body["results"]]
        if not body["next"]:
            return ids
        response = api_client.get(body["next"])


@pytest.mark.parametrize(
    "ordering",
    ["date", "-date", "importance", "-importance", "country", "-country", "updated"],
)
def test_pages_cover_every_row_once_in_order(api_client, make_event, ordering):
    # Many ties on every sort key: ids must break them.
    for n in range(23):
        make_event(datetime(2026, 6, 1 + n % 3, 12, 30, tzinfo=UTC), importance=(n % 3) + 1,
                   country=["US", "GB", "JP"][n % 3], event_name=f"e{n}")  # fmt: skip
    make_event(date(2026, 6, 2), importance=None, event_name="holiday")
    one_page = [
        item["id"]
        for item in get(api_client, ordering=ordering, page_size=1000).json()["results"]
    ]
    assert len(one_page) == 24
    assert walk(api_client, ordering=ordering, page_size=5) == one_page


def test_rows_added_between_pages_cause_no_duplicates_or_gaps(api_client, make_event):
    first = [
        make_event(datetime(2026, 6, 1, 12, n, tzinfo=UTC), event_name=f"e{n}")
        for n in range(10)
    ]
    page = get(api_client, page_size=4).json()
    assert [item["id"] for item in page["results"]] == [e.pk for e in first[:4]]
    # Rows appear before and after the cursor while the client is paging.
    make_event(datetime(2026, 6, 1, 11, 0, tzinfo=UTC), event_name="earlier")
    later = make_event(datetime(2026, 6, 1, 12, 30, tzinfo=UTC), event_name="later")
    rest, response = [], api_client.get(page["next"])
    while True:
        body = response.json()
        rest += [item["id"] for item in body["results"]]
        if not body["next"]:
            break
        response = api_client.get(body["next"])
    assert rest == [e.pk for e in first[4:]] + [later.pk]


def test_query_count_does_not_grow_with_page_size(
    api_client, make_event, django_assert_max_num_queries
):
    for n in range(60):
        make_event(datetime(2026, 6, 1, 0, n, tzinfo=UTC), event_name=f"e{n}")
    for size in (1, 10, 60):
        with django_assert_max_num_queries(2):  # data version + the page
            assert (
                len(get(api_client, page_size=size, tz="Asia/Seoul").json()["results"])
                == size
            )
    event = make_event(datetime(2026, 6, 2, tzinfo=UTC))
    # PostgreSQL: one statement; elsewhere the data version, the occurrence, its
    # source rows, their revisions, its own.
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 5):
        assert api_client.get(f"{URL}{event.pk}/").status_code == 200


# CONDITIONAL GET
# ------------------------------------------------------------------------------


def test_etag_and_last_modified_give_304s(
    api_client, week, django_assert_max_num_queries
):
    response = get(api_client, country="US")
    etag, modified = response["ETag"], response["Last-Modified"]
    assert etag
    assert modified
    with django_assert_max_num_queries(1):  # only the data version is read
        again = api_client.get(URL, {"country": "US"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert (
        api_client.get(
            URL, {"country": "US"}, HTTP_IF_MODIFIED_SINCE=modified
        ).status_code
        == 304
    )
    # Another query, another representation.
    assert (
        api_client.get(URL, {"country": "CA"}, HTTP_IF_NONE_MATCH=etag).status_code
        == 200
    )
    detail = api_client.get(f"{URL}{week['nfp'].pk}/")
    assert (
        api_client.get(
            f"{URL}{week['nfp'].pk}/", HTTP_IF_NONE_MATCH=detail["ETag"]
        ).status_code
        == 304
    )


def test_any_change_invalidates_the_etag(api_client, week, republish):
    etag = get(api_client, country="US")["ETag"]
    # even another country's release
    republish(week["cad"], datetime(2027, 1, 1, tzinfo=UTC), forecast="6.9%")
    response = api_client.get(URL, {"country": "US"}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


# THROTTLING
# ------------------------------------------------------------------------------


@pytest.fixture
def anon_rate(monkeypatch):
    """Set the anonymous rate (API_THROTTLE_ANON is read once, at import)."""
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    def set_rate(rate: str) -> None:
        rates = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": rate}
        monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)

    cache.clear()
    yield set_rate
    cache.clear()


def test_anonymous_throttling_from_settings(api_client, week, anon_rate):
    assert all(get(api_client).status_code == 200 for _ in range(5)), "off by default"
    anon_rate("3/min")
    with time_machine.travel(datetime(2026, 6, 1, 12, 0, 10, tzinfo=UTC), tick=False):
        statuses = [get(api_client).status_code for _ in range(4)]
        refused = get(api_client)
    assert statuses == [200, 200, 200, 429]
    # Retry-After: the rest of the window (fixed minute windows: 12:00:10 -> 12:01).
    assert refused["Retry-After"] == "50"
    assert "throttled" in refused.json()["detail"].lower()


def test_the_throttle_window_resets(api_client, week, anon_rate):
    anon_rate("2/min")
    with time_machine.travel(datetime(2026, 6, 1, 12, 0, 59, tzinfo=UTC), tick=False):
        assert [get(api_client).status_code for _ in range(3)] == [200, 200, 429]
    with time_machine.travel(datetime(2026, 6, 1, 12, 1, 0, tzinfo=UTC), tick=False):
        assert [get(api_client).status_code for _ in range(3)] == [200, 200, 429]


# RESPONSE CACHE
# ------------------------------------------------------------------------------


def test_a_repeated_request_is_served_from_the_cache(
    api_client, week, django_assert_num_queries
):
    first = get(api_client, country="US", format="ics")
    with django_assert_num_queries(1):  # only the data version
        again = get(api_client, country="US", format="ics")
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Content-Disposition"] == first["Content-Disposition"]
    assert again["ETag"] == first["ETag"]


@pytest.mark.parametrize("tz", [None, "America/New_York", "Asia/Kathmandu"])
def test_one_statement_pages_are_the_pages(api_client, week, settings, tz):
    """On PostgreSQL a JSON page is read in one statement (the version and the
    documents, joined by the database, or with a tz each with its date, time and
    instant to fill ``local``); the same page, walked with its cursor in every
    ordering, as the row-by-row path gives with a validator held (the response cache
    off, so that the second answer is read, not replayed)."""
    settings.API_RESPONSE_CACHE_SECONDS = 0
    zone = {"tz": tz} if tz else {}
    one_statement = 1 if connection.vendor == "postgresql" else 2
    for ordering in (
        "date",
        "-date",
        "importance",
        "-importance",
        "country",
        "updated",
    ):
        pages, walked = [], {"ordering": ordering, "page_size": 2, **zone}
        while walked is not None:
            with CaptureQueriesContext(connection) as statements:
                response = get(api_client, **walked)
            assert len(statements) == one_statement
            etag = response["ETag"]
            # A client holding a validator takes the row-by-row path.
            rows = api_client.get("/api/events/", walked, HTTP_IF_NONE_MATCH='"other"')
            assert rows.json() == response.json()
            assert rows["ETag"] == etag
            pages.append(response.json())
            link = response.json()["next"]
            walked = dict(parse_qsl(urlsplit(link).query)) if link else None
        results = [row for page in pages for row in page["results"]]
        assert len({row["id"] for row in results}) == Occurrence.objects.count()
        assert len(results) == Occurrence.objects.count()
        if tz:
            assert all(row["local"]["tz"] == tz for row in results)
            assert any(row["local"]["time"] is None for row in results)  # untimed
            assert any(row["local"]["time"] is not None for row in results)
    empty = get(api_client, date="2001-01-01", **zone)
    assert empty.json() == {"next": None, "results": []}


def test_one_statement_details_are_the_details(api_client, week, republish, settings):
    """On PostgreSQL a detail is read in one statement (member rows and change logs
    built as JSON by the database, typed back for the representation); it is the
    detail the ORM's four queries give a client holding a validator, on the bundled
    sample's real multi-source releases and on change logs of both kinds."""
    settings.API_RESPONSE_CACHE_SECONDS = 0
    call_command("loadsample", stdout=io.StringIO())
    republish(week["nfp"], datetime(2026, 6, 5, 12, 31, 7, 250000, tzinfo=UTC),
              actual="150K", forecast="120K")  # fmt: skip
    republish(week["nfp"], datetime(2026, 6, 6, 9, tzinfo=UTC), actual="151K")
    member = EconomicEvent.objects.get(memberships__occurrence=week["nfp"])
    EventRevisionFactory(event=member, field="actual", old_value="139K", new_value="150K",
                         changed_at=datetime(2026, 6, 5, 12, 31, 7, 250000, tzinfo=UTC))  # fmt: skip
    EventRevisionFactory(event=member, field="forecast", old_value="", new_value="126K",
                         changed_at=datetime(2026, 6, 1, 8, tzinfo=UTC))  # fmt: skip
    several = [
        pk
        for pk, sources in Occurrence.objects.values_list("pk", "sources")
        if len(sources) > 1
    ]
    assert len(several) >= 15
    one_statement = 1 if connection.vendor == "postgresql" else 5
    for pk in [*several, *Occurrence.objects.values_list("pk", flat=True)[:40]]:
        for query in ({}, {"tz": "America/New_York"}):
            with CaptureQueriesContext(connection) as first:
                one = api_client.get(f"{URL}{pk}/", query)
            with CaptureQueriesContext(connection) as second:
                orm = api_client.get(f"{URL}{pk}/", query, HTTP_IF_NONE_MATCH='"x"')
            assert (len(first), len(second)) == (one_statement, 5)
            assert one.json() == orm.json(), pk
            assert one["ETag"] == orm["ETag"]
    nfp = api_client.get(f"{URL}{week['nfp'].pk}/").json()
    assert [
        (r["new_value"], r["changed_at"]) for r in nfp["sources"][0]["revisions"]
    ] == [("126K", "2026-06-01T08:00:00Z"), ("150K", "2026-06-05T12:31:07.250000Z")]
    assert {r["new_value"] for r in nfp["revisions"]} >= {"150K", "151K"}
    assert api_client.get(f"{URL}424242/").status_code == 404


@pytest.mark.postgres
def test_a_statement_run_again_is_planned_once(api_client, make_event, settings):
    """DATABASE_PREPARE_THRESHOLD: after a few runs on a connection, the detail's
    statement (and any other) is prepared, so PostgreSQL stops planning it per
    request; the answers stay the same."""
    settings.API_RESPONSE_CACHE_SECONDS = 0
    occurrence = make_event(datetime(2026, 6, 2, 12, tzinfo=UTC))
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    if threshold is None:
        pytest.skip("DATABASE_PREPARE_THRESHOLD=off: nothing is prepared")
    answers = {
        api_client.get(f"{URL}{occurrence.pk}/").content for _ in range(threshold + 1)
    }
    assert len(answers) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("JSONB_BUILD_OBJECT" in statement for statement in prepared), prepared


def test_a_repeated_json_page_costs_only_the_version(api_client, week):
    """A question this process answered and cached is answered version first: the
    cache hit then costs one index lookup, never the page (on PostgreSQL a new
    question reads version and page in one statement)."""
    first = get(api_client, country="US", min_importance=2)
    with CaptureQueriesContext(connection) as queries:
        again = get(api_client, country="US", min_importance=2)
    assert again.content == first.content
    assert [q["sql"] for q in queries.captured_queries] == [
        'SELECT MAX("updated_at") FROM "core_occurrence"'
    ]


def test_the_cache_never_serves_stale_data(api_client, week, republish):
    before = get(api_client, country="US").json()
    republish(week["nfp"], datetime(2027, 1, 1, tzinfo=UTC), actual="150K")
    after = get(api_client, country="US").json()
    assert [i["actual"] for i in before["results"]] != [
        i["actual"] for i in after["results"]
    ]
    assert after["results"][1]["actual"]["text"] == "150K"


def test_the_cache_can_be_turned_off(
    api_client, week, settings, django_assert_num_queries
):
    settings.API_RESPONSE_CACHE_SECONDS = 0
    get(api_client, country="US")
    # The data version and the page: one statement on PostgreSQL.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        get(api_client, country="US")
