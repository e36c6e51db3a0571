"""With replicas configured, the API's GET requests read from one replica each.

In process, the "replica" is the test database under a second alias: a DatabaseWrapper
of its own (so its queries are counted apart from the primary's) on the primary's
connection and transaction, and its reachability and lag are what the test says.
tests/reliability/test_replicas.py runs a real streaming replica.
"""

import copy
import logging
from collections import deque
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext

from core import replicas

pytestmark = pytest.mark.django_db

ALIAS = "replica_1"


@pytest.fixture
def replica(db, settings, monkeypatch):
    primary = connections["default"]
    primary.ensure_connection()
    wrapper = copy.copy(primary)
    wrapper.alias = ALIAS
    wrapper.execute_wrappers = []
    wrapper.queries_log = deque(maxlen=primary.queries_log.maxlen)
    # Closing it would close the primary's connection it shares.
    wrapper.close = lambda: None
    wrapper.close_if_unusable_or_obsolete = lambda: None
    connections.settings[ALIAS] = primary.settings_dict
    connections[ALIAS] = wrapper
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.DATABASE_ROUTERS = ["core.routers.ReplicaRouter"]
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "calendar_api.middleware.ReplicaReadsMiddleware",
    ]
    state = {"answer": replicas.ReplicaState("ok", 0.25, "", 0.0)}
    monkeypatch.setattr(replicas, "check", lambda alias: state["answer"])
    # Every request checks again (the interval is covered in tests/core/test_routers).
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    replicas.reset()
    yield wrapper, state
    replicas.reset()
    del connections[ALIAS]
    del connections.settings[ALIAS]


def reads(api_client, path, replica):
    """(status, queries on the replica, queries on the primary) for GET ``path``."""
    with (
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = api_client.get(path)
    return response, len(on_replica), len(on_primary)


@pytest.mark.parametrize(
    "path",
    [
        "/api/events/?date_from=2026-06-01&date_to=2026-06-02",
        "/api/events.csv?date_from=2026-06-01&date_to=2026-06-02",
        "/api/events.ics?date_from=2026-06-01&date_to=2026-06-02",
        "/api/indicators/",
        "/api/countries/",
        "/api/sources/",
    ],
)
def test_api_reads_go_to_the_replica(api_client, replica, make_event, path):
    wrapper, _ = replica
    make_event(datetime(2026, 6, 1, 12, tzinfo=UTC), country="US")
    response, on_replica, on_primary = reads(api_client, path, wrapper)
    assert response.status_code == 200, response.content[:300]
    assert on_replica > 0
    assert on_primary == 0


def test_detail_and_its_data_version_come_from_the_replica(
    api_client, replica, make_event
):
    wrapper, _ = replica
    occurrence = make_event(datetime(2026, 6, 1, 12, tzinfo=UTC))
    with (
        CaptureQueriesContext(wrapper) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = api_client.get(f"/api/events/{occurrence.pk}/")
    assert response.status_code == 200
    assert any("MAX(" in q["sql"] for q in on_replica.captured_queries)
    assert len(on_primary) == 0


def test_a_lagging_replica_is_skipped_for_the_primary(
    api_client, replica, make_event, caplog
):
    wrapper, state = replica
    state["answer"] = replicas.ReplicaState("lagging", 75.0, "replay lag 75.0s > 30s", 0.0)  # fmt: skip
    make_event(datetime(2026, 6, 1, 12, tzinfo=UTC))
    with caplog.at_level(logging.WARNING, logger="core.replicas"):
        response, on_replica, on_primary = reads(api_client, "/api/events/", wrapper)
    assert response.status_code == 200
    assert (on_replica, on_primary > 0) == (0, True)
    assert "alias=replica_1 status=lagging reason=replay lag 75.0s" in caplog.text


def test_an_unreachable_replica_is_skipped_for_the_primary(api_client, replica, caplog):
    wrapper, state = replica
    state["answer"] = replicas.ReplicaState("unreachable", None, "OperationalError: refused", 0.0)  # fmt: skip
    response, on_replica, on_primary = reads(api_client, "/api/countries/", wrapper)
    assert response.status_code == 200
    assert (on_replica, on_primary > 0) == (0, True)
    assert "alias=replica_1 status=unreachable" in caplog.text


def test_a_replica_failing_mid_request_is_answered_from_the_primary(
    api_client, replica, make_event, caplog
):
    wrapper, _ = replica
    make_event(datetime(2026, 6, 1, 12, tzinfo=UTC))

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    wrapper.execute_wrappers.append(refuse)
    response = api_client.get("/api/events/?date_from=2026-06-01&date_to=2026-06-02")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
    assert "replica failed mid-request, answering from the primary: alias=replica_1" in caplog.text  # fmt: skip
    assert replicas._states[ALIAS].status == "unreachable"


def test_admin_reads_stay_on_the_primary(admin_client, replica):
    wrapper, _ = replica
    with CaptureQueriesContext(wrapper) as on_replica:
        response = admin_client.get("/admin/core/occurrence/")
    assert response.status_code == 200
    assert len(on_replica) == 0


def test_health_reads_the_primary_and_reports_each_replica(api_client, replica):
    wrapper, state = replica
    with CaptureQueriesContext(wrapper) as on_replica:
        body = api_client.get("/api/health/").json()
    assert len(on_replica) == 0  # the check itself is stubbed here
    assert body["status"] == "ok"
    assert body["replicas"] == {ALIAS: {"status": "ok", "lag_seconds": 0.25}}

    state["answer"] = replicas.ReplicaState("unreachable", None, "refused", 0.0)
    response = api_client.get("/api/health/")
    assert response.status_code == 200  # the primary answers: still healthy
    assert response.json()["replicas"] == {
        ALIAS: {"status": "unreachable", "lag_seconds": None}
    }


def test_health_without_replicas_reports_none(api_client):
    assert api_client.get("/api/health/").json()["replicas"] == {}


@pytest.mark.postgres
def test_the_lag_check_refuses_a_server_that_is_not_a_replica(replica, monkeypatch):
    monkeypatch.undo()  # the real check, against the (primary) test database
    found = replicas.check(ALIAS)
    assert (found.status, found.lag_seconds) == ("lagging", None)
    assert "not in recovery" in found.reason
