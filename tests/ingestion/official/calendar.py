"""Calendar rows for the agency tests on days no calendar recording covers.

A row is what a calendar lists for a release: a name and a time (and a figure where a
test says so), written through the real writer. The tests that use it say it is not
a recording.
"""

from datetime import datetime, timedelta

from django.db import transaction

from ingestion.records import EventRecord
from ingestion.services import upsert_records

CURRENCIES = {"US": "USD", "EU": "EUR"}


def list_release(
    name: str,
    at: datetime,
    *,
    country: str = "US",
    source: str = "forexfactory",
    stored_at: datetime | None = None,
    **figures: str,
) -> None:
    """Store ``source``'s row of the release ``name`` at ``at`` (aware), as seen at
    ``stored_at`` (default: the day before)."""
    record = EventRecord.at(
        at,
        external_id=f"{name}-{at:%Y%m%dT%H%M}",
        event_name=name,
        country=country,
        currency=CURRENCIES[country],
        importance=3,
        **figures,
    )
    with transaction.atomic():  # the writer's contract, as ingest_source keeps it
        upsert_records(
            source=source, records=[record], now=stored_at or at - timedelta(days=1)
        )
