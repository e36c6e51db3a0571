"""Source rows -> one occurrence per release, on recorded payloads of two sources.

2026-06-04 is the day both the ForexFactory page (week of 31 May) and Investing's page
were recorded: 28 US rows between them for 19 real-world releases.
"""

import dataclasses
from datetime import UTC, date, datetime, time
from decimal import Decimal

import orjson
import pytest

from core.models import (
    EconomicEvent,
    IngestionRun,
    Occurrence,
    OccurrenceMember,
    OccurrenceRevision,
)
from core.representation import OCCURRENCE_COLUMNS, occurrence_json
from ingestion.consolidation import TIME_TOLERANCE, consolidate, z_score
from ingestion.services import ingest_source, upsert_records
from ingestion.sources import get_source
from tests.conftest import fixture_bytes, fixture_path

pytestmark = pytest.mark.django_db

FF_PAGE = "forexfactory_html/ff_calendar_page_2026-05-31_week_tobigom.html"
FF_PAGE_NEXT = "forexfactory_html/ff_calendar_page_2026-06-07_week_tobigom.html"
INVESTING_0604 = "investing_page/investing_econcal_nextjs_2026-06-04_tobigom.html"
INVESTING_0606 = "investing_page/investing_econcal_nextjs_2026-06-06_tobigom.html"
FRED_DAY = "fred/fred_releases_calendar_2025-07-02.json"
NOW = datetime(2026, 6, 4, 20, 0, tzinfo=UTC)

# (UTC time, indicator, sources, conflicts) of every US occurrence on 2026-06-04.
US_2026_06_04 = [
    ("09:30", "us-challenger-job-cuts-yoy", ["forexfactory", "investing"], []),
    ("09:30", "us-challenger-job-cuts", ["investing"], []),
    ("12:30", "us-fomc-member-barkin-speaks", ["forexfactory", "investing"], []),
    ("12:30", "us-nonfarm-productivity-qoq", ["forexfactory", "investing"], ["forecast", "previous"]),
    ("12:30", "us-unit-labor-costs-qoq", ["forexfactory", "investing"], ["forecast", "previous"]),
    ("12:30", "us-initial-jobless-claims", ["forexfactory", "investing"], []),
    ("12:30", "us-continuing-jobless-claims", ["investing"], []),
    ("12:30", "us-jobless-claims-4-week-average", ["investing"], []),
    ("14:00", "us-fomc-member-bowman-speaks", ["forexfactory", "investing"], []),
    ("14:00", "us-treasury-sec-bessent-speaks", ["forexfactory"], []),
    ("14:30", "us-natural-gas-storage", ["forexfactory", "investing"], []),
    ("15:30", "us-4-week-bill-auction", ["investing"], []),
    ("15:30", "us-8-week-bill-auction", ["investing"], []),
    ("15:40", "us-fomc-member-daly-speaks", ["forexfactory", "investing"], []),
    ("17:00", "us-fomc-member-schmid-speaks", ["forexfactory"], []),
    ("17:10", "us-fomc-member-daly-speaks", ["forexfactory", "investing"], []),
    ("19:00", "us-president-trump-speaks", ["forexfactory"], []),
    ("20:30", "us-reserve-balances-with-federal-reserve-banks", ["investing"], []),
    ("20:30", "us-feds-balance-sheet", ["investing"], []),
]  # fmt: skip


def ingest(source: str, *relative: str) -> IngestionRun:
    return ingest_source(
        source,
        files=[fixture_path(name) for name in relative],
        trigger=IngestionRun.Trigger.TEST,
    )


def day_summary(country: str, day: date) -> list[tuple]:
    rows = Occurrence.objects.filter(country=country, date=day).order_by(
        "scheduled_at", "indicator_id"
    )
    summary = [
        (
            f"{o.time:%H:%M}" if o.time else None,
            o.indicator_id,
            sorted(entry["source"] for entry in o.sources),
            o.conflicts,
        )
        for o in rows
    ]
    return sorted(summary, key=lambda item: (item[0] or "", ORDER.get(item[1], 99)))


ORDER = {indicator: index for index, (_, indicator, _, _) in enumerate(US_2026_06_04)}


def test_the_sample_day_is_one_row_per_release():
    ingest("forexfactory", FF_PAGE)
    ingest("investing", INVESTING_0604)

    source_rows = EconomicEvent.objects.filter(country="US", date="2026-06-04")
    assert source_rows.count() == 28
    assert day_summary("US", date(2026, 6, 4)) == US_2026_06_04
    # Every source row is in exactly one occurrence.
    assert OccurrenceMember.objects.filter(event__in=source_rows).count() == 28


def test_the_order_sources_arrive_in_does_not_matter():
    ingest("investing", INVESTING_0604)
    ingest("forexfactory", FF_PAGE)

    assert day_summary("US", date(2026, 6, 4)) == US_2026_06_04


def test_precedence_and_what_each_source_said():
    ingest("forexfactory", FF_PAGE)
    ingest("investing", INVESTING_0604)

    claims = Occurrence.objects.get(
        indicator_id="us-initial-jobless-claims", date="2026-06-04"
    )
    # ForexFactory leads (importance 2); Investing's own 3 stays visible in `sources`.
    assert claims.importance == 2
    by_source = {entry["source"]: entry for entry in claims.sources}
    assert by_source["investing"]["importance"] == 3
    assert by_source["forexfactory"]["event_name"] == "Unemployment Claims"
    assert by_source["investing"]["event_name"] == "Initial Jobless Claims"
    assert (claims.actual, claims.forecast, claims.previous) == ("225K", "214K", "215K")
    assert claims.revised_previous == "212K"
    assert claims.actual_source == "forexfactory"
    assert claims.status == "released"

    productivity = Occurrence.objects.get(
        indicator_id="us-nonfarm-productivity-qoq", date="2026-06-04"
    )
    by_source = {entry["source"]: entry for entry in productivity.sources}
    assert by_source["forexfactory"]["forecast"]["text"] == "0.5%"
    assert by_source["investing"]["forecast"]["text"] == "0.8%"
    assert by_source["forexfactory"]["previous"]["text"] == "0.8%"
    assert by_source["investing"]["previous"]["text"] == "1.8%"
    assert productivity.forecast == "0.5%"  # ForexFactory's, by precedence


def test_surprise_and_outcome_agree_with_the_page_s_own_mark():
    ingest("forexfactory", FF_PAGE)

    claims = Occurrence.objects.get(
        indicator_id="us-initial-jobless-claims", date="2026-06-04"
    )
    assert claims.surprise == Decimal(11)  # 225K against 214K forecast
    assert claims.outcome == "worse"  # more claims than expected
    ff_row = EconomicEvent.objects.get(
        source="forexfactory", event_name="Unemployment Claims", date="2026-06-04"
    )
    assert ff_row.source_outcome == "worse"  # the page's red mark


def test_two_speeches_of_one_person_on_one_day_stay_apart():
    ingest("forexfactory", FF_PAGE)
    ingest("investing", INVESTING_0604)

    daly = Occurrence.objects.filter(
        indicator_id="us-fomc-member-daly-speaks", date="2026-06-04"
    ).order_by("time")
    assert [f"{o.time:%H:%M}" for o in daly] == ["15:40", "17:10"]
    for occurrence in daly:
        assert sorted(e["source"] for e in occurrence.sources) == [
            "forexfactory",
            "investing",
        ]
        assert len({e["datetime"] for e in occurrence.sources}) == 1


def test_reingesting_changes_nothing():
    ingest("forexfactory", FF_PAGE)
    ingest("investing", INVESTING_0604)
    before = list(Occurrence.objects.order_by("id").values())
    revisions = OccurrenceRevision.objects.count()

    ingest("investing", INVESTING_0604)
    ingest("forexfactory", FF_PAGE)

    assert list(Occurrence.objects.order_by("id").values()) == before
    assert OccurrenceRevision.objects.count() == revisions


def test_a_correction_at_one_source_updates_the_occurrence_and_its_log():
    ingest("forexfactory", FF_PAGE)
    ingest("investing", INVESTING_0604)
    claims = Occurrence.objects.get(
        indicator_id="us-initial-jobless-claims", date="2026-06-04"
    )
    # ForexFactory corrects its forecast (the same row, one field changed).
    records = [
        dataclasses.replace(record, forecast="216K")
        if record.event_name == "Unemployment Claims"
        else record
        for record in get_source("forexfactory").parse(fixture_bytes(FF_PAGE)).records
    ]
    upsert_records(source="forexfactory", records=records, now=NOW)

    claims.refresh_from_db()
    assert claims.forecast == "216K"
    assert claims.surprise == Decimal(9)
    assert claims.updated_at == NOW
    logged = OccurrenceRevision.objects.filter(occurrence=claims, changed_at=NOW)
    assert {(r.field, r.old_value, r.new_value) for r in logged} == {
        ("forecast", "214K", "216K")
    }
    assert "forecast" in claims.conflicts  # Investing still says 214K


def test_a_release_moved_by_its_only_source_keeps_its_id():
    ingest("forexfactory", FF_PAGE)
    trump = Occurrence.objects.get(indicator_id="us-president-trump-speaks")
    records = [
        dataclasses.replace(record, date=date(2026, 6, 5))
        if record.event_name == "President Trump Speaks"
        else record
        for record in get_source("forexfactory").parse(fixture_bytes(FF_PAGE)).records
    ]
    upsert_records(source="forexfactory", records=records, now=NOW)

    moved = Occurrence.objects.get(indicator_id="us-president-trump-speaks")
    assert moved.pk == trump.pk
    assert moved.date == date(2026, 6, 5)
    assert OccurrenceRevision.objects.filter(
        occurrence=moved, field="date", old_value="2026-06-04", new_value="2026-06-05"
    ).exists()


def test_times_further_apart_than_the_tolerance_are_two_occurrences():
    ingest("forexfactory", FF_PAGE)
    records = [
        dataclasses.replace(
            record,
            time=(
                datetime.combine(record.date, record.time, tzinfo=UTC)
                + TIME_TOLERANCE * 2
            ).time(),
        )
        for record in get_source("investing")
        .parse(fixture_bytes(INVESTING_0604))
        .records
        if record.event_name == "Natural Gas Storage"
    ]
    upsert_records(source="investing", records=records, now=NOW)

    gas = Occurrence.objects.filter(indicator_id="us-natural-gas-storage")
    assert sorted(
        (f"{o.time:%H:%M}", [e["source"] for e in o.sources]) for o in gas
    ) == [("14:30", ["forexfactory"]), ("15:30", ["investing"])]


def test_a_release_level_row_attaches_to_the_occurrences_it_announces():
    ingest("fred", FRED_DAY)
    adp = EconomicEvent.objects.get(
        source="fred", event_name="ADP National Employment Report"
    )
    alone = Occurrence.objects.get(members__event=adp)
    assert [e["source"] for e in alone.sources] == ["fred"]

    # A rule test: ForexFactory's real ADP row, moved onto FRED's recorded date.
    feed = "forexfactory_feed/ff_thisweek_2026-08-02_json_dkmarlin_fdda6fb_last.json"
    ff_adp = next(
        dataclasses.replace(record, date=adp.date)
        for record in get_source("forexfactory").parse(fixture_bytes(feed)).records
        if record.event_name == "ADP Non-Farm Employment Change"
    )
    upsert_records(source="forexfactory", records=[ff_adp], now=NOW)

    occurrence = Occurrence.objects.get(members__event=adp)
    assert occurrence.indicator_id == "us-adp-nonfarm-employment-change"
    assert [(e["source"], e["release"]) for e in occurrence.sources] == [
        ("forexfactory", False),
        ("fred", True),
    ]
    assert not Occurrence.objects.filter(pk=alone.pk).exists()


def test_the_second_recorded_pair_of_sources():
    """2026-06-06: the ForexFactory page of the week of 7 June and Investing's page."""
    ingest("forexfactory", FF_PAGE_NEXT)
    ingest("investing", INVESTING_0606)

    assert day_summary("US", date(2026, 6, 6)) == [
        ("16:00", "us-fomc-member-barr-speaks", ["forexfactory", "investing"], []),
    ]


def test_consolidating_nothing_is_a_no_op():
    assert consolidate([], now=NOW).created == 0


@pytest.mark.parametrize(
    ("earlier", "value", "expected"),
    [
        ([Decimal(n) for n in (1, -1) * 3], Decimal(1), None),  # 6 < 8 surprises
        ([Decimal(n) for n in (2, -2) * 4], Decimal(3), round(3 / 2.1380899, 4)),
        ([Decimal(1)] * 10, Decimal(1), None),  # no spread
        ([Decimal(n) for n in (2, -2) * 4], None, None),
    ],
)
def test_z_score(earlier, value, expected):
    assert z_score(value, earlier) == expected


def test_unmatched_rows_still_get_a_history():
    ingest("investing", INVESTING_0604)
    occurrence = Occurrence.objects.get(
        indicator_id="us-reserve-balances-with-federal-reserve-banks"
    )
    assert occurrence.indicator.catalogued is False
    assert occurrence.indicator.name == "Reserve Balances with Federal Reserve Banks"
    assert occurrence.time == time(20, 30)


def test_our_outcome_agrees_with_every_mark_on_the_recorded_pages():
    """ForexFactory colours each actual better or worse; on both recorded pages every
    occurrence we give an outcome to (numeric actual and forecast, known polarity)
    agrees with that mark."""
    ingest("forexfactory", FF_PAGE, FF_PAGE_NEXT)

    compared = []
    for occurrence in Occurrence.objects.exclude(outcome=""):
        (ff,) = [e for e in occurrence.sources if e["source"] == "forexfactory"]
        if ff["outcome"]:
            compared.append(
                (occurrence.indicator_id, occurrence.outcome, ff["outcome"])
            )
    disagreements = [item for item in compared if item[1] != item[2]]
    assert disagreements == []
    assert len(compared) >= 45, compared  # 48 on these two pages


def test_each_stored_document_is_the_occurrence_as_the_api_shows_it():
    """The list serves stored documents; they must be what the representation gives."""
    ingest("forexfactory", FF_PAGE)
    ingest("investing", INVESTING_0604)
    upsert_records(  # a change at one source rewrites the document too
        source="forexfactory",
        records=[
            dataclasses.replace(record, forecast="216K")
            for record in get_source("forexfactory")
            .parse(fixture_bytes(FF_PAGE))
            .records
            if record.event_name == "Unemployment Claims"
        ],
        now=NOW,
    )
    rows = Occurrence.objects.values(*OCCURRENCE_COLUMNS, "document")
    assert len(rows) > 100
    for row in rows:
        assert orjson.loads(row["document"]) == occurrence_json(row), row["id"]
