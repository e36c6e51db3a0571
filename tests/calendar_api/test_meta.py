"""/api/countries/, /api/sources/, /api/health/, the schema and the offline docs."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from core.models import SourceSchedule
from tests.factories import HeartbeatFactory, IngestionRunFactory

pytestmark = pytest.mark.django_db


def test_countries_with_names_and_counts(api_client, make_event):
    for country in ("US", "US", "EU", "GB"):
        make_event(datetime(2026, 6, 1, tzinfo=UTC), country=country)
    assert api_client.get("/api/countries/").json() == [
        {"code": "EU", "name": "Euro Area", "events": 1},
        {"code": "GB", "name": "United Kingdom", "events": 1},
        {"code": "US", "name": "United States", "events": 2},
    ]


def test_countries_follow_new_data(api_client, make_event):
    make_event(datetime(2026, 6, 1, tzinfo=UTC), country="US")
    assert len(api_client.get("/api/countries/").json()) == 1
    make_event(
        datetime(2026, 6, 1, tzinfo=UTC),
        country="JP",
        updated_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert [c["code"] for c in api_client.get("/api/countries/").json()] == ["JP", "US"]


def test_sources_list_every_source_with_its_last_run(
    api_client, registered_sources, settings, make_event
):
    settings.INGESTION_SOURCES = ["alpha"]
    IngestionRunFactory(source="alpha", status="succeeded", created=5,
                        finished_at=datetime(2026, 6, 1, 10, tzinfo=UTC))  # fmt: skip
    IngestionRunFactory(source="alpha", status="failed", error="alpha: blocked by the source (HTTP 403)",
                        started_at=datetime(2026, 6, 2, tzinfo=UTC), finished_at=datetime(2026, 6, 2, tzinfo=UTC))  # fmt: skip
    make_event(datetime(2026, 6, 1, tzinfo=UTC), source="alpha")
    alpha, beta = api_client.get("/api/sources/").json()
    assert (alpha["slug"], alpha["enabled"], beta["slug"], beta["enabled"]) == (
        "alpha",
        True,
        "beta",
        False,
    )
    assert alpha["last_run"]["status"] == "failed"
    assert alpha["last_run"]["error"] == "alpha: blocked by the source (HTTP 403)"
    assert alpha["last_success_at"] == "2026-06-01T10:00:00Z"
    assert (alpha["events"], beta["events"], beta["last_run"]) == (1, 0, None)
    assert alpha["schedule"] == "0 6 * * *"


def test_sources_show_the_next_run_the_scheduler_published(
    api_client, registered_sources
):
    SourceSchedule.objects.create(
        source="beta",
        next_run_at=datetime(2026, 6, 3, 6, 0, tzinfo=UTC),
        published_at=datetime(2026, 6, 2, 12, 0, tzinfo=UTC),
    )
    alpha, beta = api_client.get("/api/sources/").json()
    assert (alpha["next_run_at"], beta["next_run_at"]) == (None, "2026-06-03T06:00:00Z")


def test_source_schedule_follows_its_override(api_client, registered_sources, settings):
    settings.SCHEDULER_CRON_ALPHA = "*/30 * * * *"
    assert api_client.get("/api/sources/").json()[0]["schedule"] == "*/30 * * * *"


def test_health_reports_freshness_and_the_scheduler(
    api_client, registered_sources, settings
):
    settings.INGESTION_SOURCES = ["alpha", "beta"]
    now = timezone.now()
    IngestionRunFactory(source="alpha", finished_at=now - timedelta(minutes=10))
    HeartbeatFactory(beat_at=now - timedelta(seconds=20), holder="sched-1:42")
    body = api_client.get("/api/health/").json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert 590 <= body["sources"]["alpha"]["age_seconds"] <= 610
    assert body["sources"]["beta"] == {"last_success_at": None, "age_seconds": None}
    assert body["scheduler"]["holder"] == "sched-1:42"
    assert 15 <= body["scheduler"]["age_seconds"] <= 30


def test_health_is_503_when_the_database_is_down(api_client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable (OperationalError)"
    # The other endpoints answer 503 too, never a traceback.
    events = api_client.get("/api/events/")
    assert events.status_code == 503
    assert events["Retry-After"] == "5"
    assert "database is unavailable" in events.json()["detail"]


def test_openapi_schema_validates_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    for name in ("country", "currency", "date_from", "date_to", "tz", "min_importance",
                 "updated_since", "has_actual", "ordering", "cursor", "page_size", "kind"):  # fmt: skip
        assert f"name: {name}" in schema, name


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_assets_from_this_server_only(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    for outside in (
        "cdn.jsdelivr",
        "unpkg.com",
        "fonts.googleapis",
        "fonts.gstatic",
        "http://",
        "https://",
    ):
        assert outside not in html, outside


def test_sidecar_assets_are_served(client):
    response = client.get(
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    )
    assert response.status_code == 200
