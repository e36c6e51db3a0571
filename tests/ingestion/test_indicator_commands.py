"""manage.py unmatched_indicators and rematch, on recorded payloads."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import (
    EconomicEvent,
    Indicator,
    IndicatorAlias,
    IngestionRun,
    Occurrence,
)
from ingestion.consolidation import consolidate
from ingestion.indicators import IndicatorResolver
from ingestion.services import ingest_source, rematch
from tests.conftest import fixture_path
from tests.factories import EconomicEventFactory

pytestmark = pytest.mark.django_db

INVESTING_0604 = "investing_page/investing_econcal_nextjs_2026-06-04_tobigom.html"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_unmatched_names_are_listed_most_frequent_first():
    ingest_source(
        "investing",
        files=[fixture_path(INVESTING_0604)],
        trigger=IngestionRun.Trigger.TEST,
    )
    lines = run(
        "unmatched_indicators", "--country", "us", "--limit", "100"
    ).splitlines()

    assert lines[0].split() == ["rows", "imp", "country", "source", "id", "name"]
    listed = [line.split(None, 5)[5] for line in lines[1:]]
    assert "Reserve Balances with Federal Reserve Banks" in listed
    # Catalogued names are not listed: Investing 294 is Initial Jobless Claims.
    assert "Initial Jobless Claims" not in listed
    counts = [int(line.split()[0]) for line in lines[1:]]
    assert counts == sorted(counts, reverse=True)
    expected = EconomicEvent.objects.filter(
        country="US", indicator__catalogued=False
    ).count()
    assert sum(counts) == expected


def test_unmatched_refuses_an_unknown_country():
    with pytest.raises(CommandError, match="unknown country code 'XX'"):
        run("unmatched_indicators", "--country", "xx")


def test_rematch_applies_a_new_alias_to_stored_rows():
    ingest_source(
        "investing",
        files=[fixture_path(INVESTING_0604)],
        trigger=IngestionRun.Trigger.TEST,
    )
    reserves = EconomicEvent.objects.get(
        event_name="Reserve Balances with Federal Reserve Banks"
    )
    before = Occurrence.objects.get(members__event=reserves)
    assert before.indicator_id == "us-reserve-balances-with-federal-reserve-banks"
    # A maintainer maps that Investing id onto the balance-sheet indicator (a
    # database alias stands in for an edited data file here).
    IndicatorAlias.objects.create(
        indicator=Indicator.objects.get(pk="us-feds-balance-sheet"),
        source="investing",
        key=reserves.source_event_id,
    )
    groups = rematch(EconomicEvent.objects.filter(pk=reserves.pk), IndicatorResolver())
    consolidate(groups, now=timezone.now())

    reserves.refresh_from_db()
    assert reserves.indicator_id == "us-feds-balance-sheet"
    after = Occurrence.objects.get(members__event=reserves)
    # Two Investing rows of one indicator at one time are still two occurrences.
    assert after.indicator_id == "us-feds-balance-sheet"
    assert Occurrence.objects.filter(indicator_id="us-feds-balance-sheet").count() == 2
    assert not Occurrence.objects.filter(
        indicator_id="us-reserve-balances-with-federal-reserve-banks"
    ).exists()


def test_rematch_command_reports_and_changes_nothing_when_all_is_matched():
    ingest_source(
        "investing",
        files=[fixture_path(INVESTING_0604)],
        trigger=IngestionRun.Trigger.TEST,
    )
    before = list(Occurrence.objects.order_by("id").values_list("id", "indicator_id"))
    out = run("rematch")
    assert out.startswith("0 (indicator, day) groups re-matched")
    assert (
        list(Occurrence.objects.order_by("id").values_list("id", "indicator_id"))
        == before
    )


def test_migrate_matches_rows_stored_before_indicators_existed():
    """An upgraded install: its rows have no indicator and no occurrence yet; the
    migrate step (post_migrate) builds them, so the API lists them at once."""
    rows = [
        EconomicEventFactory(event_name="Unemployment Claims", source="forexfactory"),
        EconomicEventFactory(
            event_name="Initial Jobless Claims",
            source="investing",
            source_event_id="294",
        ),
    ]
    assert not Occurrence.objects.exists()

    call_command("migrate", verbosity=0)

    (occurrence,) = Occurrence.objects.all()
    assert occurrence.indicator_id == "us-initial-jobless-claims"
    assert {e["event_id"] for e in occurrence.sources} == {row.pk for row in rows}
