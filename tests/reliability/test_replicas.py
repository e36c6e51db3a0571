"""The API reading from a real PostgreSQL streaming replica.

A private primary (tests/reliability/pgcluster.py) is migrated; a second cluster made
from it with ``pg_basebackup -R`` follows it on a port of its own. gunicorn runs the
production settings with ``DATABASE_REPLICA_URLS`` naming the replica, and the sample
data is ingested on the primary by ``manage.py loadsample``, as the scheduler would.

- Reads come from the replica: with its replay paused the API keeps answering the
  replica's older state (no events) while the primary has them all; once replay
  resumes the events arrive through the API.
- A replica further behind than ``DATABASE_REPLICA_MAX_LAG_SECONDS`` is skipped: a
  second server with a 1 s limit answers the primary's newer data version while the
  replica's replay is paused again, and logs why.
- A replica that is stopped is skipped: every request still answers 200 (from the
  primary), /api/health/ says "unreachable", and the log names the replica.

Every wait polls with a generous deadline; nothing asserts a duration.
"""

import time

import psycopg
import pytest

from core.models import Occurrence
from tests.processes import http_get, manage, wait_until
from tests.reliability.live import gunicorn, service_env
from tests.reliability.pgcluster import PrivateCluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

COUNTRIES = "/api/countries/"
# Any valid list: its Last-Modified is the data version of the server that answered.
EVENTS = "/api/events/?date_from=2026-01-01&date_to=2026-01-01"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"


@pytest.fixture
def clusters():
    primary = PrivateCluster()
    replica = None
    try:
        primary.start()
        with psycopg.connect(primary.url + "/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE dipcal")
        replica = PrivateCluster(standby_of=primary)
        replica.start()
        yield primary, replica
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()


def sql(url: str, query: str):
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        return conn.execute(query).fetchone()


def get(server, path: str):
    response = http_get(server.url(path), timeout=30)
    assert response is not None, f"no answer for {path}"
    return response


def answered_events(server) -> int:
    response = get(server, COUNTRIES)
    assert response.status == 200, response.body[:300]
    return sum(row["events"] for row in response.json())


def test_api_reads_from_a_streaming_replica_and_skips_it_when_bad(clusters, tmp_path):
    primary, replica = clusters
    primary_db, replica_db = primary.url + "/dipcal", replica.url + "/dipcal"
    table = Occurrence._meta.db_table
    manage("migrate", "--no-input", env=service_env(primary_db), timeout=300, check=True)  # fmt: skip
    migrations = sql(primary_db, "SELECT count(*) FROM django_migrations")
    wait_until(
        lambda: sql(replica_db, "SELECT count(*) FROM django_migrations") == migrations,
        timeout=60,
        what="the replica replaying the migrations",
    )
    assert sql(replica_db, "SELECT pg_is_in_recovery()") == (True,)

    env = service_env(
        primary_db, DATABASE_REPLICA_URLS=replica_db, DJANGO_LOG_LEVEL="INFO"
    )
    patient = {**env, "DATABASE_REPLICA_MAX_LAG_SECONDS": "3600"}
    strict = {**env, "DATABASE_REPLICA_MAX_LAG_SECONDS": "1"}
    with (
        gunicorn(patient, tmp_path / "patient.log", workers=1, threads=2) as web,
        gunicorn(strict, tmp_path / "strict.log", workers=1, threads=2) as web_strict,
    ):
        health = get(web, "/api/health/").json()
        assert health["replicas"]["replica_1"]["status"] == "ok", health
        assert answered_events(web) == 0

        # ---- replay paused: the API answers the replica's state, not the primary's
        pause_replay(replica_db)
        manage("loadsample", env=service_env(primary_db), timeout=300, check=True)
        (on_primary,) = sql(primary_db, f"SELECT count(*) FROM {table}")
        assert on_primary > 0
        assert sql(replica_db, f"SELECT count(*) FROM {table}") == (0,)
        for _ in range(3):  # whichever request, whichever thread: the replica
            assert answered_events(web) == 0

        # ---- replay resumed: the events arrive through the API
        sql(replica_db, "SELECT pg_wal_replay_resume()")
        wait_until(
            lambda: answered_events(web) == on_primary,
            timeout=60,
            what="the ingested events arriving through the replica",
        )

        # ---- lag past the limit: skipped for the primary, with a log line
        pause_replay(replica_db)
        # A newer data version on the primary only (a change the replica lacks).
        sql(
            primary_db,
            f"UPDATE {table} SET updated_at = '2100-01-01T00:00:00Z'"
            f" WHERE id = (SELECT min(id) FROM {table}) RETURNING id",
        )
        wait_until(
            lambda: get(web_strict, EVENTS).headers.get("Last-Modified") == FUTURE,
            timeout=60,
            what="the 1 s-limit server skipping the lagging replica for the primary",
        )
        assert "alias=replica_1 status=lagging" in web_strict.proc.output()
        health = get(web_strict, "/api/health/")
        assert health.status == 200
        assert health.json()["replicas"]["replica_1"]["status"] == "lagging"
        assert health.json()["replicas"]["replica_1"]["lag_seconds"] > 1
        # The patient server still reads the (paused) replica: the older version.
        assert get(web, EVENTS).headers.get("Last-Modified") != FUTURE
        sql(replica_db, "SELECT pg_wal_replay_resume()")
        wait_until(
            lambda: get(web, EVENTS).headers.get("Last-Modified") == FUTURE,
            timeout=60,
            what="the change replayed on the replica",
        )

        # ---- replica down: every request still answers, from the primary
        replica.stop("fast")
        statuses = []
        deadline = time.monotonic() + 60
        while "alias=replica_1 status=unreachable" not in web.proc.output():
            assert time.monotonic() < deadline, web.proc.output()[-3000:]
            statuses += [get(web, COUNTRIES).status, get(web, EVENTS).status]
        statuses += [get(web, COUNTRIES).status, get(web, EVENTS).status]
        assert set(statuses) == {200}, statuses
        assert answered_events(web) == on_primary
        health = get(web, "/api/health/")
        assert health.status == 200
        assert health.json()["replicas"]["replica_1"] == {
            "status": "unreachable",
            "lag_seconds": None,
        }
        for server in (web, web_strict):
            assert "Traceback" not in server.proc.output(), server.proc.output()[-3000:]


def pause_replay(replica_db) -> None:
    """Pause the replica's WAL replay and wait until it has stopped applying."""
    sql(replica_db, "SELECT pg_wal_replay_pause()")
    wait_until(
        lambda: (
            sql(replica_db, "SELECT pg_get_wal_replay_pause_state()") == ("paused",)
        ),
        timeout=30,
        what="replay paused",
    )
