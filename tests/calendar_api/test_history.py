"""GET /api/indicators/ and /api/indicators/{id}/history/: metadata, history, surprise,
and the history as known at an instant, on recorded payloads."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine

from core.models import EventRevision, IngestionRun, Occurrence
from ingestion.services import ingest_source
from tests.conftest import fixture_path

pytestmark = pytest.mark.django_db
FIRST = "forexfactory_feed/ff_thisweek_2026-08-16_json_dkmarlin_11cf751_first.json"
LAST = "forexfactory_feed/ff_thisweek_2026-08-16_json_dkmarlin_e174305_last.json"
PAGE = "forexfactory_html/ff_calendar_page_2026-05-31_week_tobigom.html"
INVESTING = "investing_page/investing_econcal_nextjs_2026-06-04_tobigom.html"
T1 = datetime(2026, 8, 16, 12, 0, tzinfo=UTC)
T2 = datetime(2026, 8, 19, 12, 0, tzinfo=UTC)


def ingest(source: str, name: str, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        ingest_source(
            source, files=[fixture_path(name)], trigger=IngestionRun.Trigger.TEST
        )


@pytest.fixture
def weeks():
    """Three recorded weeks of calendars: the page of 31 May (with actuals), Investing's
    4 June, and the feed of 16 August seen twice (re-forecast in between)."""
    ingest("forexfactory", PAGE, datetime(2026, 6, 6, tzinfo=UTC))
    ingest("investing", INVESTING, datetime(2026, 6, 6, 1, tzinfo=UTC))
    ingest("forexfactory", FIRST, T1)
    ingest("forexfactory", LAST, T2)


def test_an_indicator_s_history_newest_first_with_surprise(api_client, weeks):
    body = api_client.get("/api/indicators/us-initial-jobless-claims/history/").json()
    rows = body["results"]
    assert [row["date"] for row in rows] == sorted(
        (r["date"] for r in rows), reverse=True
    )
    assert len(rows) >= 2  # 4 June (released) and the week of 16 August (scheduled)
    june = next(row for row in rows if row["date"] == "2026-06-04")
    assert (june["actual"]["text"], june["forecast"]["text"]) == ("225K", "214K")
    assert (june["surprise"], june["outcome"], june["actual_source"]) == (
        11.0, "worse", "forexfactory",
    )  # fmt: skip
    assert june["revised_previous"]["text"] == "212K"


def test_history_filters_by_days_and_downloads_as_csv(api_client, weeks):
    url = "/api/indicators/us-initial-jobless-claims/history/"
    rows = api_client.get(url, {"date_from": "2026-08-01"}).json()["results"]
    assert {row["date"][:7] for row in rows} == {"2026-08"}
    response = api_client.get(url, {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert table[0]["id"].isdigit()
    assert "surprise" in table[0]
    assert [row["date"] for row in table] == sorted(
        (r["date"] for r in table), reverse=True
    )


def test_history_as_of_an_instant_shows_what_was_known_then(api_client, weeks):
    revision = (
        EventRevision.objects.filter(field="forecast", changed_at=T2)
        .select_related("event")
        .order_by("id")
        .first()
    )
    assert revision is not None, "the second snapshot re-forecast some release"
    event = revision.event
    occurrence = Occurrence.objects.get(members__event=event)
    url = f"/api/indicators/{occurrence.indicator_id}/history/"
    day = {"date": event.date.isoformat()}

    def forecast_at(at: datetime) -> str | None:
        body = api_client.get(url, {**day, "as_of": at.isoformat()}).json()
        (row,) = [r for r in body["results"] if r["id"] == occurrence.pk]
        return (row["forecast"] or {}).get("text")

    assert forecast_at(datetime(2026, 8, 17, tzinfo=UTC)) == revision.old_value
    assert forecast_at(datetime(2026, 8, 20, tzinfo=UTC)) == revision.new_value
    # Before the first snapshot nothing was known about it.
    body = api_client.get(url, {**day, "as_of": "2026-08-01T00:00:00Z"}).json()
    assert occurrence.pk not in [row["id"] for row in body["results"]]


def test_as_of_must_be_a_datetime(api_client, weeks):
    response = api_client.get(
        "/api/indicators/us-initial-jobless-claims/history/", {"as_of": "last week"}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["as_of"]


def test_indicators_list_and_detail(api_client, weeks):
    with time_machine.travel(datetime(2026, 8, 18, tzinfo=UTC), tick=False):
        body = api_client.get(
            "/api/indicators/",
            {"country": "US", "category": "employment", "page_size": 200},
        ).json()
    claims = next(
        row for row in body["results"] if row["id"] == "us-initial-jobless-claims"
    )
    assert claims["catalogued"] is True
    assert claims["higher_is_better"] is False
    assert {(a["source"], a["key"]) for a in claims["aliases"]} >= {
        ("forexfactory", "US:unemployment claims"), ("investing", "294"),
    }  # fmt: skip
    assert claims["last_release"]["actual"]["text"] == "225K"
    assert claims["next_occurrence"]["date"] == "2026-08-20"
    detail = api_client.get("/api/indicators/us-initial-jobless-claims/").json()
    assert detail["name"] == "Initial Jobless Claims"
    assert "description" in detail
    assert api_client.get("/api/indicators/us-nope/").status_code == 404
    assert api_client.get("/api/indicators/us-nope/history/").status_code == 404


def test_a_release_level_entry_lists_what_it_announces(api_client):
    body = api_client.get("/api/indicators/", {"q": "employment-situation"}).json()
    (release,) = body["results"]
    detail = api_client.get(f"/api/indicators/{release['id']}/").json()
    assert "us-nonfarm-payrolls" in detail["announces"]
