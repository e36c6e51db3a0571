"""EventRecord: the two ways a parser places an event in time, and its own guards."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from core.models import EconomicEvent, TimePrecision
from ingestion.errors import InvalidRow
from ingestion.records import EventRecord

EVENT = {"external_id": "1", "event_name": "CPI y/y", "country": "JP"}


def test_at_an_instant_stores_its_utc_date_and_clock_time():
    tokyo = timezone(timedelta(hours=9))
    record = EventRecord.at(datetime(2026, 6, 19, 8, 30, tzinfo=tokyo), **EVENT)
    assert (record.date, record.time, record.time_precision) == (
        date(2026, 6, 18),
        time(23, 30),
        TimePrecision.EXACT,
    )
    assert record.scheduled_at == datetime(2026, 6, 18, 23, 30, tzinfo=UTC)


def test_an_instant_without_an_offset_is_a_bad_row():
    with pytest.raises(InvalidRow, match="has no UTC offset"):
        EventRecord.at(datetime(2026, 6, 19, 8, 30), **EVENT)  # noqa: DTZ001


@pytest.mark.parametrize(
    "precision",
    [TimePrecision.ALL_DAY, TimePrecision.TENTATIVE, TimePrecision.DATE_ONLY],
)
def test_on_a_day_has_no_clock_time(precision):
    record = EventRecord.on(date(2026, 6, 19), precision, **EVENT)
    assert (record.date, record.time, record.time_precision) == (
        date(2026, 6, 19),
        None,
        precision,
    )


def test_a_day_cannot_claim_an_exact_time():
    with pytest.raises(InvalidRow, match="exact-time event needs a time"):
        EventRecord.on(date(2026, 6, 19), TimePrecision.EXACT, **EVENT)


@pytest.mark.parametrize("name", ["event_name", "reference_period", "source_url"])
def test_text_longer_than_its_column_is_a_bad_row(name):
    limit = EconomicEvent._meta.get_field(name).max_length
    values = {**EVENT, name: "x" * (limit + 1)}
    with pytest.raises(InvalidRow, match=f"^{name} is {limit + 1} characters"):
        EventRecord.on(date(2026, 6, 19), TimePrecision.ALL_DAY, **values)
    values[name] = "x" * limit
    assert EventRecord.on(date(2026, 6, 19), TimePrecision.ALL_DAY, **values)


def test_a_currency_is_three_capitals_or_nothing():
    assert EventRecord.on(date(2026, 6, 19), "all_day", **EVENT, currency="")
    for bad in ("usd", "USDX", "USD\n"):
        with pytest.raises(InvalidRow, match="is not an ISO 4217 code"):
            EventRecord.on(date(2026, 6, 19), "all_day", **EVENT, currency=bad)
