"""The write path: idempotent upserts, the change log, cancellation, runs, rollback."""

import hashlib
import logging
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import EconomicEvent, EventRevision, IngestionRun
from ingestion import services
from ingestion.errors import IngestionError, PayloadError
from ingestion.records import DateWindow
from ingestion.services import ingest_source, run_ingest
from tests.conftest import fixture_path
from tests.ingestion.conftest import StubSource, stub_payload, stub_row

pytestmark = pytest.mark.django_db
WEEK = ("2026-06-01", "2026-06-07")


def ingest(source, *paths, **kwargs):
    return run_ingest(source, files=[str(p) for p in paths], trigger="test", **kwargs)


def table_checksum() -> str:
    """A digest of every stored event and revision, to prove a failed run changed nothing."""
    events = EconomicEvent.objects.order_by("pk").values_list()
    revisions = EventRevision.objects.order_by("pk").values_list()
    return hashlib.sha256(repr((list(events), list(revisions))).encode()).hexdigest()


def event_writes(queries) -> list[str]:
    return [
        q["sql"] for q in queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) and "core_economicevent" in q["sql"]
    ]  # fmt: skip


def test_first_run_creates_rows_with_derived_columns(stub_source, write_payload):
    path = write_payload(
        [stub_row("a", actual="254K", forecast="-1.2B"), stub_row("b")], WEEK
    )
    run = ingest(stub_source, path)
    assert (run.status, run.created, run.updated, run.unchanged, run.fetched) == (
        "succeeded", 2, 0, 0, 2,
    )  # fmt: skip
    event = EconomicEvent.objects.get(external_id="a")
    assert (event.actual_value, event.actual_unit, event.status) == (
        254,
        "K",
        "released",
    )
    assert (event.forecast_value, event.forecast_unit) == (Decimal("-1.2"), "B")
    assert event.scheduled_at.isoformat() == "2026-06-03T12:30:00+00:00"
    assert event.first_seen_at == event.last_seen_at == event.updated_at
    assert EconomicEvent.objects.get(external_id="b").status == "scheduled"
    assert EventRevision.objects.count() == 0  # creation is not a revision


def test_second_identical_run_writes_nothing(stub_source, write_payload):
    path = write_payload([stub_row(str(n)) for n in range(5)], WEEK)
    ingest(stub_source, path)
    before = table_checksum()
    with CaptureQueriesContext(connection) as queries:
        run = ingest(stub_source, path)
    assert (run.created, run.updated, run.unchanged, run.cancelled) == (0, 0, 5, 0)
    assert event_writes(queries.captured_queries) == []
    assert table_checksum() == before
    assert EconomicEvent.objects.count() == 5


def test_changed_fields_update_the_row_and_write_one_revision_each(
    stub_source, write_payload
):
    ingest(
        stub_source,
        write_payload([stub_row("nfp", forecast="88K", previous="390K")], WEEK),
    )
    run = ingest(
        stub_source,
        write_payload(
            [stub_row("nfp", forecast="85K", previous="390K", revised_previous="384K",
                      actual="372K", time="12:31:00")],
            WEEK,
        ),
    )  # fmt: skip
    assert (run.created, run.updated, run.unchanged) == (0, 1, 0)
    event = EconomicEvent.objects.get(external_id="nfp")
    changes = {(r.field, r.old_value, r.new_value) for r in event.revisions.all()}
    assert changes == {
        ("forecast", "88K", "85K"),
        ("revised_previous", "", "384K"),
        ("actual", "", "372K"),
        ("time", "12:30:00", "12:31:00"),
        ("status", "scheduled", "released"),
    }
    assert all(r.run_id == run.pk for r in event.revisions.all())
    assert (event.actual_value, event.status, event.scheduled_at.minute) == (
        372,
        "released",
        31,
    )
    assert event.first_seen_at < event.updated_at


def test_reschedule_to_another_day_is_a_revision(stub_source, write_payload):
    ingest(stub_source, write_payload([stub_row("x")]))
    ingest(stub_source, write_payload([stub_row("x", date="2026-06-04")]))
    revision = EventRevision.objects.get()
    assert (revision.field, revision.old_value, revision.new_value) == (
        "date", "2026-06-03", "2026-06-04",
    )  # fmt: skip


def test_missing_events_inside_the_window_are_cancelled_then_revived(
    stub_source, write_payload
):
    ingest(
        stub_source,
        write_payload(
            [stub_row("stay"), stub_row("drop"), stub_row("late", date="2026-06-20")],
            WEEK,
        ),
    )
    run = ingest(stub_source, write_payload([stub_row("stay")], WEEK))
    assert (run.cancelled, run.unchanged) == (1, 1)
    assert EconomicEvent.objects.get(external_id="drop").status == "cancelled"
    # Outside the payload's window: not evidence of anything, left alone.
    assert EconomicEvent.objects.get(external_id="late").status == "scheduled"
    cancel = EventRevision.objects.get(event__external_id="drop")
    assert (cancel.field, cancel.old_value, cancel.new_value) == (
        "status",
        "scheduled",
        "cancelled",
    )

    run = ingest(stub_source, write_payload([stub_row("stay"), stub_row("drop")], WEEK))
    assert (run.updated, run.cancelled) == (1, 0)
    assert EconomicEvent.objects.get(external_id="drop").status == "scheduled"
    assert EconomicEvent.objects.count() == 3  # nothing is ever deleted


def test_a_payload_without_a_window_cancels_nothing(stub_source, write_payload):
    ingest(stub_source, write_payload([stub_row("a"), stub_row("b")], WEEK))
    run = ingest(stub_source, write_payload([stub_row("a")], window=None))
    assert run.cancelled == 0
    assert not EconomicEvent.objects.filter(status="cancelled").exists()


def test_other_sources_are_never_cancelled(stub_source, write_payload):
    from tests.factories import EconomicEventFactory

    other = EconomicEventFactory(source="investing", date=date(2026, 6, 3))
    ingest(stub_source, write_payload([stub_row("a")], WEEK))
    other.refresh_from_db()
    assert other.status == "scheduled"


def test_duplicates_inside_a_run_keep_the_first_and_count_the_rest(
    stub_source, write_payload
):
    path = write_payload(
        [stub_row("a", forecast="1%"), stub_row("a", forecast="2%"), stub_row("b")]
    )
    run = ingest(stub_source, path)
    assert (run.created, run.skipped, run.fetched) == (2, 1, 3)
    assert EconomicEvent.objects.get(external_id="a").forecast == "1%"


def test_a_bad_row_is_skipped_counted_and_logged(stub_source, write_payload, caplog):
    path = write_payload([stub_row("good"), stub_row("bad", country="Atlantis")])
    with caplog.at_level(logging.WARNING, logger="ingestion.services"):
        run = ingest(stub_source, path)
    assert (run.created, run.skipped, run.status) == (1, 1, "succeeded")
    assert "source=stub" in caplog.text
    assert "'Atlantis' is not an ISO 3166 alpha-2 code" in caplog.text


def test_a_failure_part_way_leaves_the_table_exactly_as_before(write_payload):
    # Two weekly chunks: the first parses (and would change "a"), the second is broken.
    source = StubSource(
        {
            date(2026, 6, 1): [stub_payload([stub_row("a", forecast="new")], WEEK)],
            date(2026, 6, 8): [b'{"error": "truncated body"}'],
        }
    )
    ingest(
        StubSource(),
        write_payload([stub_row("a", forecast="old"), stub_row("b")], WEEK),
    )
    before = table_checksum()

    with pytest.raises(PayloadError, match="stub: truncated body"):
        run_ingest(
            source,
            window=DateWindow(date(2026, 6, 1), date(2026, 6, 14)),
            trigger="test",
        )

    assert table_checksum() == before
    failed = IngestionRun.objects.latest("pk")
    assert (failed.status, failed.error) == ("failed", "stub: truncated body")
    assert failed.finished_at is not None


def test_a_database_error_mid_write_rolls_back_and_fails_the_run(
    stub_source, write_payload, monkeypatch
):
    ingest(stub_source, write_payload([stub_row("a", forecast="old")], WEEK))
    before = table_checksum()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_cancel_missing", explode)
    with pytest.raises(IngestionError, match="stub: disk full"):
        ingest(
            stub_source,
            write_payload([stub_row("a", forecast="new"), stub_row("c")], WEEK),
        )
    assert table_checksum() == before
    assert IngestionRun.objects.latest("pk").status == "failed"


def test_dry_run_reports_and_writes_nothing(stub_source, write_payload):
    ingest(stub_source, write_payload([stub_row("a")], WEEK))
    before = table_checksum()
    run = ingest(
        stub_source,
        write_payload([stub_row("a", forecast="9%"), stub_row("b")], WEEK),
        dry_run=True,
    )
    assert (run.created, run.updated, run.status) == (1, 1, "succeeded")
    assert "dry run" in run.error
    assert table_checksum() == before


def test_batches_larger_than_the_batch_size(stub_source, write_payload, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 3)
    rows = [stub_row(f"e{n}") for n in range(10)]
    assert ingest(stub_source, write_payload(rows, WEEK)).created == 10
    rows[7]["forecast"] = "5%"
    run = ingest(stub_source, write_payload(rows, WEEK))
    assert (run.updated, run.unchanged) == (1, 9)


def test_last_seen_is_refreshed_only_after_its_resolution(stub_source, write_payload):
    path = write_payload([stub_row("a")], WEEK)
    ingest(stub_source, path)
    old = (
        EconomicEvent.objects.get().last_seen_at
        - services.LAST_SEEN_RESOLUTION
        - timedelta(minutes=1)
    )
    EconomicEvent.objects.update(last_seen_at=old)
    ingest(stub_source, path)
    event = EconomicEvent.objects.get()
    assert event.last_seen_at > old
    assert EventRevision.objects.count() == 0


def test_unknown_source_names_the_known_ones():
    with pytest.raises(KeyError, match=r"unknown source 'nope'.*forexfactory"):
        ingest_source("nope", files=[])


def test_missing_file_fails_the_run_with_a_readable_error(stub_source):
    with pytest.raises(IngestionError, match="stub: cannot read /no/such/file"):
        ingest(stub_source, "/no/such/file")


# REAL DATA: a ForexFactory week as it changed between two real snapshots.
# ------------------------------------------------------------------------------


def feed(name: str) -> Path:
    return fixture_path(f"forexfactory_feed/{name}")


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("ff_thisweek_2025-06-08_xml_tito1270_first.xml", "ff_thisweek_2025-06-08_xml_tito1270_last.xml"),
        ("ff_thisweek_2026-08-09_json_dkmarlin_14ef9fe_first.json", "ff_thisweek_2026-08-09_json_dkmarlin_1e1fee8_last.json"),
        ("ff_thisweek_2026-08-16_json_dkmarlin_11cf751_first.json", "ff_thisweek_2026-08-16_json_dkmarlin_e174305_last.json"),
    ],
)  # fmt: skip
def test_forexfactory_first_then_last_snapshot(first, last):
    from ingestion.sources import get_source

    parser = get_source("forexfactory")
    before = parser.parse(feed(first).read_bytes())
    after = parser.parse(feed(last).read_bytes())
    first_keys = {r.external_id for r in before.records}
    last_keys = {r.external_id for r in after.records}

    created = ingest_source("forexfactory", files=[feed(first)], trigger="test").created
    assert created == len(first_keys)
    run = ingest_source("forexfactory", files=[feed(last)], trigger="test")
    events = EconomicEvent.objects.filter(source="forexfactory")

    # New events created, none duplicated: one row per key ever seen.
    assert run.created == len(last_keys - first_keys)
    assert events.count() == len(first_keys | last_keys)
    # Every event of the last snapshot is live with the last snapshot's values...
    live = set(events.exclude(status="cancelled").values_list("external_id", flat=True))
    assert last_keys <= live
    for record in after.records:
        stored = events.get(external_id=record.external_id)
        assert (stored.time, stored.forecast) == (record.time, record.forecast)
    # ...and what disappeared inside the feed's window is cancelled, not deleted.
    gone = first_keys - last_keys
    cancelled = set(
        events.filter(status="cancelled").values_list("external_id", flat=True)
    )
    in_window = {
        r.external_id for r in before.records
        if r.external_id in gone and after.window.start <= r.date <= after.window.end
    }  # fmt: skip
    assert cancelled == in_window
    assert run.cancelled == len(in_window)
    # Re-timed events were updated in place, with a revision of their time.
    retimed = {
        key for key in first_keys & last_keys
        if events.get(external_id=key).revisions.filter(field="time").exists()
    }  # fmt: skip
    assert retimed
    assert run.updated >= len(retimed)


def test_forexfactory_week_of_2025_06_08_in_detail():
    first = "ff_thisweek_2025-06-08_xml_tito1270_first.xml"
    last = "ff_thisweek_2025-06-08_xml_tito1270_last.xml"
    ingest_source("forexfactory", files=[feed(first)], trigger="test")
    run = ingest_source("forexfactory", files=[feed(last)], trigger="test")

    trade = EconomicEvent.objects.get(external_id="20250609-CNY-trade-balance")
    assert trade.time.isoformat() == "03:01:00"
    assert trade.revisions.get(field="time").old_value == "02:03:00"
    # CNY New Loans moved from Monday to Friday: the Monday occurrence is cancelled and
    # the Friday one is new. Both rows are kept; only the live one shows as scheduled.
    assert (
        EconomicEvent.objects.get(external_id="20250609-CNY-new-loans").status
        == "cancelled"
    )
    assert (
        EconomicEvent.objects.get(external_id="20250613-CNY-new-loans").status
        == "scheduled"
    )
    assert (run.created, run.cancelled) == (4, 2)
    assert run.fetched == 73
    assert run.created + run.updated + run.unchanged == 73
