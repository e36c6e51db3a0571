"""What a person or a client meets first: /, /api/, errors under /api/ in JSON whatever
DEBUG is, and a schema that client generators read right."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/nope", 404),
        ("get", "/api/nope/deeper/", 404),
        ("get", "/api/events/abc/", 404),
        ("get", "/api/events/1.5/", 404),
        ("get", "/api/events/424242/", 404),
        ("put", "/api/nope/", 404),
        ("post", "/api/events/", 405),
        ("delete", "/api/events.ics", 405),
        ("post", "/api/docs/", 405),
        ("delete", "/api/schema/", 405),
        ("options", "/api/redoc/", 405),
        ("post", "/api/health/", 405),
        ("get", "/api/events/?contry=US", 400),
        ("get", "/api/events.ics?tz=Mars/Base", 400),
        ("post", "/api/", 405),
        # OPTIONS describes the endpoint: JSON, not a calendar made of its metadata.
        ("options", "/api/events.ics", 200),
        ("options", "/api/events/?format=csv", 200),
    ],
)
def test_errors_under_api_are_json_whatever_debug_is(
    client, debug, method, url, status
):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)


def test_a_path_missing_its_slash_is_redirected_with_its_query(client, debug):
    response = client.get("/api/events?country=US")
    assert response.status_code == 301
    assert response["Location"] == "/api/events/?country=US"


def test_the_root_sends_people_to_the_swagger_ui(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
    assert client.get(response["Location"]).status_code == 200


def test_the_api_root_lists_its_links(client):
    links = client.get("/api/").json()
    assert links["events"] == "http://testserver/api/events/"
    assert links["events_ics"] == "http://testserver/api/events.ics"
    for url in links.values():
        assert client.get(url).status_code == 200, url


def test_other_paths_keep_django_pages(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/admin/").status_code == 302  # to the login page


# THE SCHEMA AS GENERATORS READ IT
# ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    return json.loads(out.getvalue())


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_api_is_declared_anonymous(schema):
    assert "security" not in schema
    assert "securitySchemes" not in schema.get("components", {})
    for path, _, operation in operations(schema):
        assert "security" not in operation, path


def test_each_operation_answers_one_content_type(schema):
    for path, _, operation in operations(schema):
        for status, response in operation["responses"].items():
            assert len(response.get("content", {})) <= 1, (path, status)
        assert not any(p["name"] == "format" for p in operation.get("parameters", []))
    media = {
        path: list(operation["responses"]["200"]["content"])
        for path, _, operation in operations(schema)
        if path.startswith("/api/events")
    }
    assert media == {
        "/api/events/": ["application/json"],
        "/api/events.csv": ["text/csv"],
        "/api/events.ics": ["text/calendar"],
        "/api/events/{id}/": ["application/json"],
    }


def test_list_filters_are_exploded_arrays(schema):
    parameters = {
        p["name"]: p for p in schema["paths"]["/api/events/"]["get"]["parameters"]
    }
    lists = {name for name, p in parameters.items() if p["schema"]["type"] == "array"}
    assert lists == {
        "country", "currency", "importance", "kind", "source", "status", "category",
        "indicator",
    }  # fmt: skip
    for name in lists:
        assert (parameters[name]["style"], parameters[name]["explode"]) == (
            "form",
            True,
        )
        assert parameters[name]["schema"]["maxItems"] == 50
    assert parameters["source"]["schema"]["items"]["enum"] == [
        "bls", "ecb", "forexfactory", "fred", "investing", "tradingeconomics",
    ]  # fmt: skip
    for name in ("date", "date_from", "date_to"):
        assert parameters[name]["schema"]["pattern"].startswith(
            "^(\\d{4}-\\d{2}-\\d{2}|today"
        )


def test_the_schema_lists_exactly_what_each_endpoint_accepts(schema):
    """The strictness layer and the schema agree: nothing accepted is undocumented
    (``format`` aside, which each format's own path replaces in the schema)."""
    from calendar_api.views.events import DETAIL_QUERY, EXPORT_QUERY, LIST_QUERY

    def documented(path):
        return {
            p["name"]
            for p in schema["paths"][path]["get"]["parameters"]
            if p["in"] == "query"
        }

    assert documented("/api/events/") == LIST_QUERY.names - {"format"}
    assert documented("/api/events.csv") == EXPORT_QUERY.names
    assert documented("/api/events.ics") == EXPORT_QUERY.names
    assert documented("/api/events/{id}/") == DETAIL_QUERY.names - {"format"}
