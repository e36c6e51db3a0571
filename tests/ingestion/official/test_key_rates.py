"""The ECB's key rates: daily series holding one observation per change, dated the day
it takes effect, days after the decision.

No key-rate response is recorded, so the observations here are written by the test
from the ECB's published decisions of 2025 (deposit facility rate 2.25 % from
23 April, 2.00 % from 11 June; unchanged on 24 July): they are test data, not a
recording. The calendars list the decisions under the main refinancing rate, which
dates the deposit rate's releases (``dated_by`` in the catalogue).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ingestion.official.build import History, build_records
from ingestion.official.observations import Observation, Period, SeriesVintage
from tests.ingestion.official.calendar import list_release

pytestmark = pytest.mark.django_db

DFR = "FM.D.U2.EUR.4F.KR.DFR.LEV"
JUNE_DECISION = datetime(2025, 6, 5, 12, 15, tzinfo=UTC)
JULY_DECISION = datetime(2025, 7, 24, 12, 15, tzinfo=UTC)


def deposit_rate(*changes: tuple[date, str]) -> SeriesVintage:
    return SeriesVintage(
        "ecb",
        DFR,
        tuple(Observation(DFR, Period(day, "D"), Decimal(v)) for day, v in changes),
    )


@pytest.fixture
def decisions():
    for at in (JUNE_DECISION, JULY_DECISION):
        list_release("Main Refinancing Rate", at, country="EU")


def test_a_change_is_the_decision_s_figure_on_the_day(decisions):
    payload = deposit_rate((date(2025, 4, 23), "2.25"), (date(2025, 6, 11), "2.00"))
    built = build_records(
        "ecb", [payload], now=datetime(2025, 6, 5, 12, 17, tzinfo=UTC)
    )
    rows = {r.external_id: (r.date, r.actual, r.previous) for r in built.records}
    assert rows == {
        "eu-deposit-facility-rate:2025-06-05": (date(2025, 6, 5), "2.00%", "2.25%")
    }


def test_an_unchanged_rate_is_not_told_from_a_portal_not_updated_yet(decisions):
    payload = deposit_rate((date(2025, 4, 23), "2.25"), (date(2025, 6, 11), "2.00"))
    built = build_records(
        "ecb", [payload], now=datetime(2025, 7, 24, 12, 20, tzinfo=UTC)
    )
    assert built.records == []


def test_history_gives_every_decision_its_level_unchanged_ones_too(decisions):
    payload = deposit_rate((date(2025, 4, 23), "2.25"), (date(2025, 6, 11), "2.00"))
    history = History(
        ("eu-deposit-facility-rate",), date(2025, 6, 1), date(2025, 8, 31)
    )
    built = build_records(
        "ecb", [payload], now=datetime(2025, 9, 1, tzinfo=UTC), history=history
    )
    rows = sorted((r.reference_period, r.actual, r.previous) for r in built.records)
    assert rows == [
        ("2025-06-05", "2.00%", "2.25%"),
        ("2025-07-24", "2.00%", "2.00%"),
    ]


def test_a_decision_whose_effect_window_is_still_open_waits(decisions):
    payload = deposit_rate((date(2025, 4, 23), "2.25"), (date(2025, 6, 11), "2.00"))
    history = History(
        ("eu-deposit-facility-rate",), date(2025, 6, 1), date(2025, 8, 31)
    )
    built = build_records(
        "ecb", [payload], now=datetime(2025, 7, 30, tzinfo=UTC), history=history
    )
    assert [r.reference_period for r in built.records] == ["2025-06-05"]
