"""The writer's rules for the agencies' rows: a first print is kept, a row names its
indicator, and a revision is neither a conflict nor an overwrite."""

from datetime import UTC, date, datetime

import pytest

from core.models import EconomicEvent, EventRevision, Occurrence
from ingestion.errors import IngestionError, InvalidRow
from ingestion.indicators import IndicatorResolver
from ingestion.records import EventRecord
from ingestion.services import keep_first_print, rematch, upsert_records

DAY = date(2026, 6, 5)
NOW = datetime(2026, 6, 5, 12, 32, tzinfo=UTC)


def agency_row(**values) -> EventRecord:
    fields = {
        "external_id": "us-nonfarm-payrolls:2026-05",
        "event_name": "Nonfarm Payrolls",
        "country": "US",
        "currency": "USD",
        "indicator": "us-nonfarm-payrolls",
        "reference_period": "2026-05",
    }
    return EventRecord.on(DAY, "date_only", **{**fields, **values})


@pytest.mark.parametrize(
    ("stored", "incoming", "expected"),
    [
        ("", {"actual": "38K"}, ("38K", "")),  # nothing stored: the first print
        ("38K", {"actual": "38K"}, ("38K", "")),
        ("38K", {"actual": "11K"}, ("38K", "11K")),  # a later figure is a revision
        ("38K", {"revised": "11K"}, ("38K", "11K")),
        ("38K", {"actual": "", "revised": "38K"}, ("38K", "")),  # back to the print
        ("38K", {}, ("38K", "")),  # no figure now: the print stays
    ],
)
def test_keep_first_print(stored, incoming, expected):
    record = keep_first_print(agency_row(**incoming), stored)
    assert (record.actual, record.revised) == expected


def test_a_revision_keeps_its_vintage_date_only_when_it_is_the_value_kept():
    dated = agency_row(revised="11K", revised_history=((NOW, "11K"),))
    assert keep_first_print(dated, "38K").revised_history == ((NOW, "11K"),)
    back = agency_row(revised="38K", revised_history=((NOW, "38K"),))
    assert keep_first_print(back, "38K").revised_history == ()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"indicator": "Nonfarm Payrolls"}, "is not a slug like us-cpi-mom"),
        (
            {"revised": "11K", "revised_history": ((datetime(2026, 7, 3), "11K"),)},  # noqa: DTZ001
            "instants must be aware",
        ),
        (
            {"revised": "11K", "revised_history": ((NOW, "12K"),)},
            "must end with the revised value",
        ),
    ],
)
def test_bad_agency_rows_are_refused(values, message):
    with pytest.raises(InvalidRow, match=message):
        agency_row(**values)


@pytest.mark.django_db
def test_a_row_naming_its_indicator_is_never_matched_by_name():
    upsert_records(
        source="bls",
        records=[agency_row(event_name="Total Nonfarm Employment Change")],
        now=NOW,
    )
    row = EconomicEvent.objects.get(source="bls")
    assert row.indicator_id == "us-nonfarm-payrolls"
    # Matching every stored row again (a catalogue change) keeps it.
    assert rematch(EconomicEvent.objects.all(), IndicatorResolver()) == set()
    row.refresh_from_db()
    assert row.indicator_id == "us-nonfarm-payrolls"


@pytest.mark.django_db
def test_a_row_naming_an_unknown_indicator_fails_the_write():
    with pytest.raises(IngestionError, match="names indicator 'us-moon-phase'"):
        upsert_records(
            source="bls", records=[agency_row(indicator="us-moon-phase")], now=NOW
        )


@pytest.mark.django_db
def test_a_stored_first_print_survives_a_source_that_sends_another():
    """The writer keeps it even when a payload says otherwise."""
    upsert_records(source="bls", records=[agency_row(actual="38K")], now=NOW)
    later = datetime(2026, 7, 3, 12, 32, tzinfo=UTC)
    result = upsert_records(source="bls", records=[agency_row(actual="11K")], now=later)
    row = EconomicEvent.objects.get(source="bls")
    assert (result.updated, row.actual, row.revised) == (1, "38K", "11K")
    assert list(
        EventRevision.objects.filter(event=row).values_list(
            "field", "old_value", "new_value", "changed_at"
        )
    ) == [("revised", "", "11K", later)]
    occurrence = Occurrence.objects.get(indicator_id="us-nonfarm-payrolls")
    assert (occurrence.actual, occurrence.revised, occurrence.conflicts) == (
        "38K",
        "11K",
        [],
    )


@pytest.mark.django_db
def test_a_calendar_source_overwrites_as_before():
    record = EventRecord.on(
        DAY,
        "date_only",
        external_id="nfp",
        event_name="Non-Farm Employment Change",
        country="US",
        actual="38K",
    )
    upsert_records(source="forexfactory", records=[record], now=NOW)
    upsert_records(
        source="forexfactory",
        records=[
            EventRecord.on(DAY, "date_only", **{**_plain(record), "actual": "40K"})
        ],
        now=NOW,
    )
    row = EconomicEvent.objects.get(source="forexfactory")
    assert (row.actual, row.revised) == ("40K", "")


def _plain(record: EventRecord) -> dict:
    return {
        name: getattr(record, name)
        for name in ("external_id", "event_name", "country", "actual")
    }
