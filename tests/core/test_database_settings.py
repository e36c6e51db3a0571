"""PostgreSQL connection options from the environment: server-side binding and when
psycopg prepares a statement (DATABASE_PREPARE_THRESHOLD)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.core.test_routers import PRIMARY, load_settings


def options(monkeypatch, **env: str) -> dict:
    return load_settings(monkeypatch, DATABASE_URL=PRIMARY, **env)["DATABASES"][
        "default"
    ]["OPTIONS"]


def test_statements_are_bound_server_side_and_prepared_after_five_runs(monkeypatch):
    found = options(monkeypatch)
    assert (found["server_side_binding"], found["prepare_threshold"]) == (True, 5)


def test_the_threshold_is_configurable_and_off_never_prepares(monkeypatch):
    assert (
        options(monkeypatch, DATABASE_PREPARE_THRESHOLD="2")["prepare_threshold"] == 2
    )
    off = options(monkeypatch, DATABASE_PREPARE_THRESHOLD="off")
    assert (off["server_side_binding"], off["prepare_threshold"]) == (True, None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "DATABASE_PREPARE_THRESHOLD must be 0 or more, or off, got -1"),
        ("sometimes", "DATABASE_PREPARE_THRESHOLD must be an integer, got 'sometimes'"),
    ],
)
def test_a_bad_threshold_is_refused_by_name(monkeypatch, value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        options(monkeypatch, DATABASE_PREPARE_THRESHOLD=value)


def test_sqlite_is_left_alone(monkeypatch):
    found = load_settings(monkeypatch, DATABASE_URL="sqlite:///var/x.sqlite3")
    assert "prepare_threshold" not in found["DATABASES"]["default"]["OPTIONS"]
