"""A Redis outage is never a 500: every endpoint answers uncached (CACHE_URL at a
closed port), throttling fails open, and /api/health/ says "degraded" with a 200."""

from datetime import UTC, datetime

import pytest

from core import cache as core_cache
from tests.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings, monkeypatch):
    """The production cache settings, pointed at a port nothing listens on."""
    monkeypatch.setattr(core_cache, "_outages", {})
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "KEY_PREFIX": "dipcal",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def events(make_event):
    return [
        make_event(datetime(2026, 6, 5, 12, 30, tzinfo=UTC), country="US"),
        make_event(datetime(2026, 6, 5, 9, 0, tzinfo=UTC), country="GB"),
    ]


@pytest.fixture
def one_per_minute(monkeypatch):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "1/minute"}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)


def test_every_endpoint_answers_uncached_while_redis_is_down(
    api_client, events, redis_down
):
    urls = [
        "/api/events/",
        "/api/events/?country=US",
        "/api/events/?country=US&format=csv",
        "/api/events/?country=US&format=ics",
        f"/api/events/{events[0].pk}/",
        "/api/countries/",
        "/api/sources/",
        "/api/schema/",
    ]
    for url in urls * 2:  # the second round would be cache hits
        response = api_client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
    us = api_client.get("/api/events/?country=US").json()["results"]
    assert [e["country"] for e in us] == ["US"]
    # Bad input is still a 400 naming the parameter, not a 500.
    assert "tz" in api_client.get("/api/events/?tz=Mars/Base").json()


def test_health_reports_the_cache_degraded_and_stays_200(api_client, redis_down):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["cache"]) == ("ok", "ok", "degraded")


def test_health_reports_the_cache_ok_normally(api_client):
    assert api_client.get("/api/health/").json()["cache"] == "ok"


def test_throttling_fails_open_while_redis_is_down(
    api_client, events, redis_down, one_per_minute
):
    statuses = [api_client.get("/api/countries/").status_code for _ in range(5)]
    assert statuses == [200] * 5


def test_the_same_limit_holds_with_a_working_cache(api_client, events, one_per_minute):
    """Contrast: the limit above is real, only the outage lets requests through."""
    statuses = [api_client.get("/api/countries/").status_code for _ in range(3)]
    assert statuses[0] == 200
    assert 429 in statuses
