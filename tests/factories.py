"""factory-boy factories for the core models. Natural keys come from sequences."""

from datetime import UTC, date, datetime, time

import factory
from factory.django import DjangoModelFactory

from core.models import EconomicEvent, EventRevision, Heartbeat, IngestionRun

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class EconomicEventFactory(DjangoModelFactory):
    class Meta:
        model = EconomicEvent

    source = "forexfactory"
    external_id = factory.Sequence(lambda n: f"evt-{n}")
    event_name = factory.Sequence(lambda n: f"Indicator {n}")
    country = "US"
    currency = "USD"
    date = date(2026, 6, 5)
    time = time(12, 30)
    time_precision = "exact"
    scheduled_at = factory.LazyAttribute(
        lambda o: datetime.combine(o.date, o.time or time.min, tzinfo=UTC)
    )
    importance = 2
    first_seen_at = NOW
    last_seen_at = NOW
    updated_at = NOW


class IngestionRunFactory(DjangoModelFactory):
    class Meta:
        model = IngestionRun

    source = "forexfactory"
    trigger = IngestionRun.Trigger.TEST
    started_at = NOW
    finished_at = NOW
    status = IngestionRun.Status.SUCCEEDED


class EventRevisionFactory(DjangoModelFactory):
    class Meta:
        model = EventRevision

    event = factory.SubFactory(EconomicEventFactory)
    run = factory.SubFactory(IngestionRunFactory)
    field = "forecast"
    old_value = "88K"
    new_value = "85K"
    changed_at = NOW


class HeartbeatFactory(DjangoModelFactory):
    class Meta:
        model = Heartbeat

    name = "scheduler"
    holder = "host:1"
    started_at = NOW
    beat_at = NOW
