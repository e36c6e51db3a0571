from datetime import UTC, date, datetime, time

import pytest

from core.models import EconomicEvent, Occurrence
from ingestion.consolidation import consolidate
from ingestion.services import prepare_indicators
from tests.factories import EconomicEventFactory


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]


@pytest.fixture
def make_event():
    """A release at a UTC instant (or an all-day one when ``at`` is a date): a source
    row, matched to its indicator and consolidated as ingestion does; returns its
    occurrence. Each call is its own release (a new indicator per event name)."""

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
        row = EconomicEventFactory(**values, **fields)
        # Matched to its indicator and consolidated as ingestion does with a row it
        # has not matched yet (ingestion.services.prepare_indicators).
        prepare_indicators(None, row.updated_at)
        return Occurrence.objects.get(members__event=row)

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
            "precedence": 50,
        }
        source_registry.register_source(type(title, (), attributes))


@pytest.fixture
def republish():
    """A source changes its row of ``occurrence`` (``fields``) at ``at``: the row is
    updated and the occurrence recomputed, as an ingest run does. Returns it again."""

    def change(occurrence: Occurrence, at: datetime, **fields) -> Occurrence:
        row = EconomicEvent.objects.get(memberships__occurrence=occurrence)
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = at
        row.save()
        consolidate([(row.indicator_id, row.date)], now=at)
        return Occurrence.objects.get(pk=occurrence.pk)

    return change
