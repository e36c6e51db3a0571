"""Concurrent ingests on PostgreSQL: no duplicates, no IntegrityError, exact counts."""

import threading

import pytest
from django.db import connections

from core.models import EconomicEvent, EventRevision, IngestionRun
from ingestion.services import ingest_source
from tests.conftest import FIXTURES

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
FEED = FIXTURES / "forexfactory_feed"


def ingest_in_threads(paths: list) -> list:
    """Start all ingests at the same moment; return each thread's run or exception."""
    barrier = threading.Barrier(len(paths))
    results: list = [None] * len(paths)

    def work(index: int, path) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = ingest_source("forexfactory", files=[path], trigger="test")
        except Exception as exc:  # reported by the assertions below
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_ingests_of_the_same_payload_at_once():
    path = FEED / "ff_thisweek_2025-05-04_xml_Rommans.xml"
    runs = ingest_in_threads([path, path])
    assert all(isinstance(run, IngestionRun) for run in runs), runs
    # The advisory lock makes them take turns: one creates, the other finds them all.
    assert sorted((run.created, run.unchanged) for run in runs) == [(0, 91), (91, 0)]
    assert EconomicEvent.objects.count() == 91
    assert EventRevision.objects.count() == 0


def test_four_ingests_of_overlapping_snapshots_at_once():
    first = FEED / "ff_thisweek_2026-08-09_json_dkmarlin_14ef9fe_first.json"
    last = FEED / "ff_thisweek_2026-08-09_json_dkmarlin_1e1fee8_last.json"
    runs = ingest_in_threads([first, last, first, last])
    assert all(isinstance(run, IngestionRun) for run in runs), runs
    keys = list(EconomicEvent.objects.values_list("external_id", flat=True))
    assert len(keys) == len(set(keys))
    # Whatever the order, every key either snapshot lists exists exactly once.
    assert len(keys) == 73 + 5
    assert sum(run.created for run in runs) == len(keys)
