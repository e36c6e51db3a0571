from pathlib import Path

import pytest
from django.db import connection

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only when DATABASE_URL points at PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def fixture_path(relative: str) -> Path:
    """Path of a recorded payload under tests/fixtures/ (copied from shared/fixtures)."""
    path = FIXTURES / relative
    if not path.is_file():
        raise FileNotFoundError(f"no recorded fixture {relative!r} under {FIXTURES}")
    return path


def fixture_bytes(relative: str) -> bytes:
    return fixture_path(relative).read_bytes()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _clear_cache():
    """The database is rolled back after each test; the cache must be too."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
