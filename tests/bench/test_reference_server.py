"""The benchmark's yardstick answers the same question with the same JSON.

bench/bench_api.py compares the API's rate with bench/reference_server.py's (psycopg
and orjson, no framework); the comparison only means something while both serve the
same rows in the same shape. Here both answer the bundled sample's queries (lists by
country, day, week, importance, time zone, the next page) and details, compared as
parsed JSON: the reference reads PostgreSQL directly, so the test needs it.
"""

from io import BytesIO
from urllib.parse import urlsplit

import orjson
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench import reference_server
from core.models import Occurrence

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reference(monkeypatch):
    """The reference's WSGI app on the test database; (path) -> (status, JSON)."""
    settings = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL",
        f"postgresql://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}",
    )
    monkeypatch.setattr(reference_server, "_connection", None)

    def get(path: str) -> tuple[int, object]:
        parts = urlsplit(path)
        environ = {
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "HTTP_HOST": "testserver",
            "wsgi.input": BytesIO(),
        }
        seen = {}
        body = b"".join(
            reference_server.app(environ, lambda status, headers: seen.update(s=status))
        )
        return int(seen["s"].split()[0]), orjson.loads(body)

    yield get
    if reference_server._connection is not None:
        reference_server._connection.close()


@pytest.fixture
def sample():
    call_command("loadsample", stdout=open("/dev/null", "w"))  # noqa: SIM115
    busiest = (
        Occurrence.objects.values_list("date", flat=True).order_by("date").distinct()
    )
    days = list(busiest)
    assert days, "the sample loaded no occurrences"
    return days


def queries(days) -> list[str]:
    day = days[len(days) // 2]
    week = f"date_from={days[0]}&date_to={days[min(6, len(days) - 1)]}"
    return [
        f"/api/events/?country=US&date={day}",
        f"/api/events/?date={day}",
        f"/api/events/?country=US,GB,JP&{week}&min_importance=2",
        f"/api/events/?country=US&country=EU&{week}",
        f"/api/events/?date={day}&tz=America/New_York",
        f"/api/events/?country=US,EU&{week}&tz=Asia/Tokyo",
        f"/api/events/?{week}&page_size=7",
        f"/api/events/?{week}&min_importance=3&tz=Europe/Berlin&page_size=3",
        "/api/events/?date_from=2001-01-01&date_to=2001-01-02",
    ]


def test_lists_are_the_same_json(sample, reference):
    client = Client()
    compared = 0
    for path in queries(sample):
        response = client.get(path)
        assert response.status_code == 200, path
        status, body = reference(path)
        assert status == 200, path
        assert body == orjson.loads(response.content), path
        compared += len(body["results"])
    assert compared > 50  # real pages, not empty ones


def test_next_pages_are_the_same(sample, reference):
    client = Client()
    path = f"/api/events/?date_from={sample[0]}&date_to={sample[-1]}&page_size=5"
    for _ in range(3):
        api = orjson.loads(client.get(path).content)
        assert reference(path)[1] == api
        assert api["next"]
        path = api["next"].removeprefix("http://testserver")


def test_details_are_the_same_json(sample, reference):
    client = Client()
    # Occurrences with several sources and a change log, and single-source ones.
    shared = [
        pk
        for pk, sources in Occurrence.objects.values_list("pk", "sources")
        if len(sources) > 1
    ]
    assert shared, "the sample has no release listed by two sources"
    single = list(Occurrence.objects.order_by("-pk").values_list("pk", flat=True)[:3])
    for pk in [*shared[:10], *single]:
        path = f"/api/events/{pk}/"
        response = client.get(path)
        assert response.status_code == 200
        assert reference(path) == (200, orjson.loads(response.content)), path
    assert reference("/api/events/999999999/")[0] == 404
