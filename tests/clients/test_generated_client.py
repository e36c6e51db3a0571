"""A client nobody here wrote: openapi-python-client generates one from the live
/api/schema/, and this test uses it the way a developer would.

gunicorn serves a PostgreSQL database seeded with the bundled sample (as in the
reliability suite). The generated client lists US and JP events over a range of
relative days, pages through it with the cursor, reads a detail with its revisions,
and downloads the same range as CSV and as a calendar feed. Every count is checked
against the database itself, with SQL, not against another API answer.
"""

import csv
import importlib
import inspect
import io
import subprocess
import sys
import typing
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from icalendar import Calendar

from tests.processes import scratch_database
from tests.reliability.live import gunicorn, seed, service_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PACKAGE = "dipping_calendar_api_client"  # from the schema's title
COUNTRIES = ["US", "JP"]
# The sample's first week (UTC days), with a day of margin on each side that holds no
# event of these countries: a run that crosses midnight shifts the relative days by
# one and still covers the same events.
FIRST, LAST = date(2026, 5, 30), date(2026, 6, 6)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with scratch_database("dipcal_clients") as url:
        seed(url)
        log = tmp_path_factory.mktemp("web") / "web.log"
        with gunicorn(service_env(url), log, workers=1, threads=4) as server:
            yield server, url


@pytest.fixture(scope="module")
def api(live, tmp_path_factory):
    """The generated package, imported from a temporary directory."""
    server, _ = live
    out = tmp_path_factory.mktemp("generated")
    venv_bin = Path(sys.executable).parent
    result = subprocess.run(
        [
            str(venv_bin / "openapi-python-client"),
            "generate",
            "--url",
            server.url("/api/schema/"),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
            "--fail-on-warning",
        ],
        cwd=out,
        # ruff (a dev dependency) formats the generated code: it must be on PATH.
        env={"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module(PACKAGE)
        yield (
            package,
            package.Client(base_url=server.base, raise_on_unexpected_status=True),
        )
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]


def operation(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def sql(database_url: str, query: str, *args) -> list[tuple]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(query, args).fetchall()


def relative_days() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {
        "date_from": f"{(FIRST - today).days:+d}d",
        "date_to": f"{(LAST - today).days:+d}d",
    }


@pytest.fixture(scope="module")
def expected_ids(live) -> list[int]:
    _, url = live
    rows = sql(
        url,
        "SELECT id FROM core_occurrence WHERE country = ANY(%s) "
        "AND date BETWEEN %s AND %s ORDER BY scheduled_at, id",
        COUNTRIES,
        FIRST,
        LAST,
    )
    ids = [row[0] for row in rows]
    assert len(ids) > 20, "the sample should hold a few dozen US and JP events"
    return ids


def test_operations_need_no_credentials(api):
    """With ``security`` on an operation, the generator types it AuthenticatedClient only."""
    package, _ = api
    for name in ("events.events_list", "events_csv.events_csv", "sources.sources_list"):
        annotation = (
            inspect.signature(operation(name).sync).parameters["client"].annotation
        )
        assert package.Client in typing.get_args(annotation), name


def test_list_two_countries_over_relative_days_and_page_with_the_cursor(
    api, expected_ids
):
    _, client = api
    events_list = operation("events.events_list")
    params = {"country": COUNTRIES, **relative_days(), "page_size": 7}
    ids, cursor, pages = [], None, 0
    while True:
        page = events_list.sync(
            client=client, **params, **({"cursor": cursor} if cursor else {})
        )
        pages += 1
        ids += [event.id for event in page.results]
        assert {event.country for event in page.results} <= set(COUNTRIES)
        if not page.next_:
            break
        cursor = parse_qs(urlsplit(page.next_).query)["cursor"][0]
    assert ids == expected_ids
    assert pages == -(-len(expected_ids) // 7)


def test_a_detail_with_its_revisions(api, live):
    _, client = api
    _, url = live
    (event_id, revisions), *_ = sql(
        url,
        "SELECT m.occurrence_id, count(*) FROM core_eventrevision r "
        "JOIN core_occurrencemember m ON m.event_id = r.event_id "
        "GROUP BY m.occurrence_id ORDER BY count(*) DESC, m.occurrence_id LIMIT 1",
    )
    detail = operation("events.events_retrieve").sync(
        client=client, id=event_id, tz="Asia/Tokyo"
    )
    assert detail.id == event_id
    assert sum(len(source.revisions) for source in detail.sources) == revisions
    assert detail.local.tz == "Asia/Tokyo"


def test_csv_and_calendar_downloads_hold_every_event(api, expected_ids):
    _, client = api
    params = {"country": COUNTRIES, **relative_days()}
    text = operation("events_csv.events_csv").sync(client=client, **params)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(row["id"]) for row in rows] == expected_ids
    feed = operation("events_ics.events_ics").sync(client=client, **params)
    assert len(Calendar.from_ical(feed).walk("VEVENT")) == len(expected_ids)


def test_a_bad_parameter_comes_back_as_the_documented_error(api):
    _, client = api
    response = operation("events.events_list").sync_detailed(
        client=client, country=["XX"], date_from="today"
    )
    assert response.status_code == 400
    assert (
        "Unknown country code(s): XX"
        in response.parsed.additional_properties["country"][0]
    )
