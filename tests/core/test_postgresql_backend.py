"""core.postgresql: Django's health check without its per-request round trip.

Against the real PostgreSQL: a connection the server ended is still found and
replaced before the next request uses it, and a live one is used without asking the
server anything first.
"""

import pytest
from django.db import close_old_connections, connection
from django.db.backends.postgresql import base

from core.models import Occurrence
from tests.processes import terminate_backend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def select_one(monkeypatch) -> list[bool]:
    """Each run of Django's own check (``SELECT 1``), with what it found."""
    runs = []
    original = base.DatabaseWrapper.is_usable

    def is_usable(self):
        runs.append(original(self))
        return runs[-1]

    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", is_usable)
    return runs


def next_request() -> int:
    """What Django does around a request (``close_old_connections``), then the
    request's first query; the server process that answered it."""
    close_old_connections()
    Occurrence.objects.exists()
    return connection.connection.info.backend_pid


def test_the_engine_is_the_project_backend():
    assert connection.settings_dict["ENGINE"] == "core.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert connection.vendor == "postgresql"


def test_a_live_idle_connection_is_used_without_a_round_trip(select_one):
    pid = next_request()
    for _ in range(5):
        assert next_request() == pid  # the same persistent connection
    assert select_one == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(
    select_one,
):
    pid = next_request()
    terminate_backend(pid)
    # No error reaches the request: the termination notice on the socket sends the
    # check to SELECT 1, which fails, and Django connects afresh.
    new_pid = next_request()
    assert new_pid != pid
    assert select_one == [False]
    assert next_request() == new_pid
    assert select_one == [False]


def test_a_connection_inside_a_transaction_gets_django_s_check(select_one):
    pid = next_request()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert select_one == [True]
    assert connection.connection.info.backend_pid == pid
    with connection.cursor() as cursor:
        cursor.execute("ROLLBACK")
