"""Test-double sources for the scheduler, patched in per test (never registered).

The registry feeds /api/sources/, so the doubles are handed to the scheduler by
monkeypatching ``scheduler.schedule.all_sources`` instead of ``@register``.
"""

import pytest

from ingestion.sources.base import Source


class RangeSource(Source):
    name = "rangesrc"
    label = "Range test source"
    homepage = "https://example.invalid/range"
    schedule = "0 6 * * *"
    supports_range = True


class FeedSource(Source):
    name = "feedsrc"
    label = "Feed test source"
    homepage = "https://example.invalid/feed"
    schedule = "15 */4 * * *"
    supports_range = False


@pytest.fixture
def sources(monkeypatch, settings):
    """Enable the two test-double sources (and nothing else)."""
    monkeypatch.setattr(
        "scheduler.schedule.all_sources", lambda: [FeedSource, RangeSource]
    )
    settings.INGESTION_SOURCES = ["rangesrc", "feedsrc"]
    return {"rangesrc": RangeSource, "feedsrc": FeedSource}


@pytest.fixture
def ingest_calls(monkeypatch):
    """Record calls to ingestion.services.ingest_source instead of crawling."""
    calls = []

    def fake_ingest_source(name, **kwargs):
        calls.append((name, kwargs))

    monkeypatch.setattr("ingestion.services.ingest_source", fake_ingest_source)
    return calls
