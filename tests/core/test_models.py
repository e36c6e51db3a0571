"""The natural key and the constraints hold in the database, not only in Python."""

from datetime import date, time

import pytest
from django.db import IntegrityError, transaction

from core.models import EconomicEvent, EventRevision
from tests.factories import EconomicEventFactory, EventRevisionFactory

pytestmark = pytest.mark.django_db


def test_two_events_differing_only_by_country_coexist():
    # ForexFactory 2025-05-06: USD and CAD both publish "Trade Balance" at 12:30 UTC.
    EconomicEventFactory(
        external_id="a", event_name="Trade Balance", country="US", currency="USD"
    )
    EconomicEventFactory(
        external_id="b", event_name="Trade Balance", country="CA", currency="CAD"
    )
    assert EconomicEvent.objects.filter(event_name="Trade Balance").count() == 2


def test_same_source_and_external_id_is_rejected():
    EconomicEventFactory(source="investing", external_id="453584")
    with pytest.raises(IntegrityError), transaction.atomic():
        EconomicEventFactory(source="investing", external_id="453584")


def test_same_external_id_at_another_source_is_a_different_event():
    EconomicEventFactory(source="investing", external_id="453584")
    EconomicEventFactory(source="tradingeconomics", external_id="453584")
    assert EconomicEvent.objects.count() == 2


def test_all_day_event_without_time_cannot_be_duplicated():
    # NULL times are distinct in a unique index on PostgreSQL; the key does not use them.
    fields = {
        "source": "forexfactory",
        "external_id": "20250505-JPY-bank-holiday",
        "time": None,
        "time_precision": "all_day",
        "importance": None,
        "kind": "holiday",
    }
    EconomicEventFactory(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        EconomicEventFactory(**fields)
    assert EconomicEvent.objects.filter(time__isnull=True).count() == 1


def test_importance_outside_one_to_three_is_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        EconomicEventFactory(importance=4)


def test_exact_precision_without_a_time_is_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        EconomicEventFactory(time=None, time_precision="exact")


def test_revisions_are_recorded_oldest_first_and_go_with_their_event():
    event = EconomicEventFactory()
    later = EventRevisionFactory(
        event=event, field="actual", old_value="", new_value="372K"
    )
    earlier = EventRevisionFactory(
        event=event,
        field="previous",
        old_value="390K",
        new_value="384K",
        changed_at=later.changed_at.replace(hour=1),
    )
    assert list(event.revisions.all()) == [earlier, later]
    event.delete()
    assert EventRevision.objects.count() == 0


def test_str_and_latest_previous():
    event = EconomicEventFactory.build(
        country="US", event_name="Nonfarm Payrolls", date=date(2022, 7, 8),
        time=time(12, 30), previous="390K", revised_previous="384K",
    )  # fmt: skip
    assert str(event) == "US Nonfarm Payrolls @ 2022-07-08 12:30 UTC (forexfactory)"
    assert event.latest_previous == "384K"
