"""DATABASE_REPLICA_URLS in settings, and where the router sends reads and writes."""

import runpy
from pathlib import Path

import pytest

from core import replicas
from core.models import Occurrence
from core.routers import ReplicaRouter

SETTINGS = Path(__file__).resolve().parents[2] / "src" / "core" / "settings.py"
PRIMARY = "postgres://app@db.internal:5432/dipcal"


def load_settings(monkeypatch, **env: str) -> dict:
    """core/settings.py evaluated afresh under ``env`` (the running settings stay)."""
    for name in (
        "DATABASE_REPLICA_URLS",
        "DATABASE_REPLICA_MAX_LAG_SECONDS",
        "DATABASE_PREPARE_THRESHOLD",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_without_replicas_nothing_changes(monkeypatch):
    found = load_settings(monkeypatch, DATABASE_URL=PRIMARY)
    assert list(found["DATABASES"]) == ["default"]
    assert found["DATABASE_ROUTERS"] == []
    assert found["DATABASE_REPLICAS"] == []
    assert not any("Replica" in name for name in found["MIDDLEWARE"])


def test_each_replica_url_is_an_alias_configured_like_the_primary(monkeypatch):
    found = load_settings(
        monkeypatch,
        DATABASE_URL=PRIMARY,
        DATABASE_REPLICA_URLS="postgres://app@replica-a:5432/dipcal, postgres://app@replica-b/dipcal",
        DATABASE_CONNECT_TIMEOUT="3",
        DATABASE_CONN_MAX_AGE="30",
        DATABASE_REPLICA_MAX_LAG_SECONDS="12.5",
        DATABASE_PREPARE_THRESHOLD="3",
    )
    databases = found["DATABASES"]
    assert list(databases) == ["default", "replica_1", "replica_2"]
    assert found["DATABASE_REPLICAS"] == ["replica_1", "replica_2"]
    assert (databases["replica_1"]["HOST"], databases["replica_2"]["HOST"]) == (
        "replica-a",
        "replica-b",
    )
    for alias in databases:
        assert databases[alias]["OPTIONS"] == {
            "application_name": "dipping-calendar",
            "server_side_binding": True,
            "prepare_threshold": 3,
            "connect_timeout": 3,
        }
        assert databases[alias]["CONN_MAX_AGE"] == 30
        assert databases[alias]["CONN_HEALTH_CHECKS"] is True
    assert found["DATABASE_ROUTERS"] == ["core.routers.ReplicaRouter"]
    assert found["MIDDLEWARE"][-1] == "calendar_api.middleware.ReplicaReadsMiddleware"
    assert found["DATABASE_REPLICA_MAX_LAG_SECONDS"] == 12.5


def test_a_replica_must_be_postgresql(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="replica_1 must be a postgres"):
        load_settings(
            monkeypatch,
            DATABASE_URL=PRIMARY,
            DATABASE_REPLICA_URLS="sqlite:////tmp/replica.sqlite3",
        )


def test_reads_go_to_the_primary_unless_pinned_to_a_replica():
    router = ReplicaRouter()
    # Ingestion, the scheduler, the admin, management commands: no pin.
    assert router.db_for_read(Occurrence) is None
    with replicas.pinned_reads() as pin:
        assert router.db_for_read(Occurrence) is None  # no usable replica: primary
        pin.alias = "replica_2"
        assert router.db_for_read(Occurrence) == "replica_2"
        assert replicas.read_alias() == "replica_2"
        assert router.db_for_write(Occurrence) == "default"
    assert router.db_for_read(Occurrence) is None
    assert replicas.read_alias() == "default"


def test_writes_and_migrations_only_on_the_primary():
    router = ReplicaRouter()
    assert router.db_for_write(Occurrence) == "default"
    assert router.allow_migrate("default", "core") is True
    assert router.allow_migrate("replica_1", "core") is False
    assert router.allow_relation(object(), object()) is True


@pytest.fixture
def two_replicas(settings, monkeypatch):
    settings.DATABASE_REPLICAS = ["replica_1", "replica_2"]
    settings.DATABASE_REPLICA_CHECK_SECONDS = 5
    answers: dict[str, replicas.ReplicaState] = {}
    calls: list[str] = []
    now = [1000.0]
    monkeypatch.setattr(replicas, "clock", lambda: now[0])

    def check(alias):
        calls.append(alias)
        return answers.get(alias) or replicas.ReplicaState("ok", 0.0, "", now[0])

    monkeypatch.setattr(replicas, "check", check)
    replicas.reset()
    yield answers, calls, now
    replicas.reset()


def test_round_robin_over_usable_replicas(two_replicas):
    chosen = {replicas.choose() for _ in range(4)}
    assert chosen == {"replica_1", "replica_2"}


def test_a_bad_replica_is_skipped_with_a_warning_and_checked_again_later(
    two_replicas, caplog
):
    answers, calls, now = two_replicas
    answers["replica_1"] = replicas.ReplicaState(
        "unreachable", None, "OperationalError: connection refused", now[0]
    )
    assert [replicas.choose() for _ in range(4)] == ["replica_2"] * 4
    assert calls == ["replica_1", "replica_2"]  # one check each within the interval
    (warning,) = [r for r in caplog.records if r.name == "core.replicas"]
    assert warning.levelname == "WARNING"
    assert "alias=replica_1 status=unreachable" in warning.getMessage()
    assert "connection refused" in warning.getMessage()

    del answers["replica_1"]
    now[0] += 5  # the interval has passed: checked again, usable again
    assert {replicas.choose() for _ in range(4)} == {"replica_1", "replica_2"}
    assert calls.count("replica_1") == 2


def test_every_replica_bad_means_the_primary(two_replicas):
    answers, _, now = two_replicas
    for alias in ("replica_1", "replica_2"):
        answers[alias] = replicas.ReplicaState("lagging", 99.0, "lag", now[0])
    assert replicas.choose() is None


def test_no_replicas_configured_means_the_primary(settings):
    settings.DATABASE_REPLICAS = []
    assert replicas.choose() is None
    assert replicas.states() == {}
