from datetime import UTC, date, datetime, time

import pytest

from tests.factories import EconomicEventFactory


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


@pytest.fixture
def make_event():
    """An event at a UTC instant (or an all-day one when ``at`` is a date)."""

    def make(at: datetime | date, **fields):
        if isinstance(at, datetime):
            at = at.astimezone(UTC)
            fields.setdefault("time_precision", "exact")
            values = {
                "date": at.date(),
                "time": at.time().replace(tzinfo=None),
                "scheduled_at": at,
            }
        else:
            fields.setdefault("time_precision", "all_day")
            values = {
                "date": at,
                "time": None,
                "scheduled_at": datetime.combine(at, time.min, tzinfo=UTC),
            }
        return EconomicEventFactory(**values, **fields)

    return make


@pytest.fixture
def registered_sources(source_registry):
    """Two sources registered for the test, and the registry restored afterwards."""
    for slug, title in (("alpha", "Alpha"), ("beta", "Beta")):
        attributes = {
            "name": slug,
            "label": title,
            "homepage": f"https://{slug}.invalid/",
            "description": "",
            "supports_range": True,
            "schedule": "0 6 * * *",
        }
        source_registry.register_source(type(title, (), attributes))
