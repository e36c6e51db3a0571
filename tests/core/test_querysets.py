"""Read vocabulary on the QuerySets: what views may ask for without writing SQL."""

from datetime import UTC, datetime

import pytest

from core.models import IngestionRun
from tests.factories import IngestionRunFactory

pytestmark = pytest.mark.django_db


def at(day: int) -> datetime:
    return datetime(2026, 6, day, 12, 0, tzinfo=UTC)


def test_last_success_per_source_is_one_query(django_assert_num_queries):
    IngestionRunFactory(source="fred", finished_at=at(1))
    IngestionRunFactory(source="fred", finished_at=at(3))
    # A later failure and a run still going do not count as successes.
    IngestionRunFactory(source="fred", status="failed", finished_at=at(4))
    IngestionRunFactory(source="fred", status="running", finished_at=None)
    IngestionRunFactory(source="investing", finished_at=at(2))
    IngestionRunFactory(source="forexfactory", status="failed", finished_at=at(5))

    with django_assert_num_queries(1):
        successes = IngestionRun.objects.last_success_by_source()

    assert successes == {"fred": at(3), "investing": at(2)}
