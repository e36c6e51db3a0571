"""Test-double sources for the scheduler, registered for one test at a time (the
``source_registry`` fixture puts the real sources back afterwards)."""

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
def sources(source_registry, settings):
    """Enable the two test-double sources (and nothing else)."""
    source_registry.register_source(FeedSource)
    source_registry.register_source(RangeSource)
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
