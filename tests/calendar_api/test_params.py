"""Strict query strings: unknown and repeated parameters, and the two list forms."""

from datetime import UTC, datetime

import pytest
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from calendar_api.params import QuerySpec

pytestmark = pytest.mark.django_db
URL = "/api/events/"
SPEC = QuerySpec.of(single=["date", "tz"], lists=["country"])


def errors_of(spec: QuerySpec, query: str) -> dict:
    with pytest.raises(ValidationError) as caught:
        spec.check(QueryDict(query))
    return caught.value.detail


def test_repeated_list_values_are_joined_with_commas():
    checked = SPEC.check(QueryDict("country=US&country=jp,CA&date=2026-06-04"))
    assert checked.getlist("country") == ["US,jp,CA"]
    assert checked["date"] == "2026-06-04"


def test_an_unknown_parameter_names_the_closest_valid_one():
    assert errors_of(SPEC, "contry=US") == {
        "contry": ["Unknown parameter; did you mean 'country'?"]
    }
    assert errors_of(SPEC, "TZ=UTC")["TZ"] == ["Unknown parameter; did you mean 'tz'?"]


def test_an_unknown_parameter_without_a_close_one_lists_the_known_ones():
    assert errors_of(SPEC, "zzzzzz=1") == {
        "zzzzzz": ["Unknown parameter; known ones are country, date, tz."]
    }
    assert errors_of(QuerySpec(), "x=1") == {
        "x": ["Unknown parameter; this endpoint takes none."]
    }


def test_a_single_value_parameter_given_twice_is_refused():
    assert errors_of(SPEC, "date=2026-06-04&date=2026-06-05&tz=UTC") == {
        "date": ["Given 2 times; date takes one value."]
    }


def test_every_bad_parameter_is_named_at_once():
    assert set(errors_of(SPEC, "contry=US&date=1&date=2&foo=3")) == {
        "contry",
        "date",
        "foo",
    }


# THROUGH THE API
# ------------------------------------------------------------------------------


@pytest.fixture
def three_countries(make_event):
    for country, currency in (("US", "USD"), ("JP", "JPY"), ("GB", "GBP")):
        make_event(
            datetime(2026, 6, 4, 12, tzinfo=UTC), country=country, currency=currency
        )


def countries(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(item["country"] for item in response.json()["results"])


@pytest.mark.parametrize(
    "query",
    [
        "country=US,JP",
        "country=US&country=JP",
        "country=us&country=JP,us",
        "currency=USD&currency=JPY",
        "currency=USD,JPY&importance=2&importance=1,2",
    ],
)
def test_both_list_forms_mean_the_same_list(api_client, three_countries, query):
    assert countries(api_client.get(f"{URL}?{query}")) == ["JP", "US"]


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("contry=US", "contry", "did you mean 'country'?"),
        ("source_event_id=11", "source_event_id", "Unknown parameter"),
        ("date_form=2026-06-01", "date_form", "did you mean 'date_from'?"),
        ("pagesize=5", "pagesize", "did you mean 'page_size'?"),
        ("tz=UTC&tz=Asia/Seoul", "tz", "Given 2 times"),
        ("min_importance=1&min_importance=3", "min_importance", "Given 2 times"),
        ("format=csv&format=ics", "format", "Given 2 times"),
        ("cursor=a&cursor=b", "cursor", "Given 2 times"),
        ("source=nope", "source", "Unknown source nope; one of"),
    ],
)
def test_the_list_refuses_what_it_would_otherwise_ignore(
    api_client, three_countries, query, parameter, message
):
    response = api_client.get(f"{URL}?{query}")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [parameter]
    assert message in response.json()[parameter][0]


@pytest.mark.parametrize(
    "url",
    [
        "/api/events/1/?country=US",
        "/api/events/1/?tz=UTC&tz=UTC",
        "/api/countries/?country=US",
        "/api/sources/?enabled=true",
        "/api/events.csv?format=json",
        "/api/events.ics?cursor=abc",
        "/api/events.csv?ordering=-date",
    ],
)
def test_every_endpoint_is_strict(api_client, make_event, url):
    make_event(datetime(2026, 6, 4, 12, tzinfo=UTC))
    response = api_client.get(url)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"


def test_format_stays_a_parameter_of_every_endpoint(api_client, three_countries):
    assert api_client.get("/api/countries/?format=json").status_code == 200
    assert api_client.get(f"{URL}?format=csv").status_code == 200
