# ruff: noqa: DTZ001 - to_utc takes naive wall-clock times on purpose.
"""Table-driven tests of the pure normalisers, with values seen in real payloads."""

from datetime import datetime
from decimal import Decimal

import pytest

from core.figures import Figure, parse_figure
from ingestion.normalise import (
    country_from_currency,
    country_from_name,
    importance_from_label,
    infer_category,
    infer_kind,
    split_reference_period,
    to_utc,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("254K", Figure("254K", Decimal("254"), "K")),
        ("-1.2B", Figure("-1.2B", Decimal("-1.2"), "B")),
        ("0.3%", Figure("0.3%", Decimal("0.3"), "%")),
        ("1,777K", Figure("1,777K", Decimal("1777"), "K")),
        ("160,662.0", Figure("160,662.0", Decimal("160662.0"), "")),
        ("-0.97T", Figure("-0.97T", Decimal("-0.97"), "T")),
        ("51.4", Figure("51.4", Decimal("51.4"), "")),
        ("¥113B", Figure("¥113B", Decimal("113"), "B")),
        ("$-38.2B", Figure("$-38.2B", Decimal("-38.2"), "B")),
        ("-$38.2B", Figure("-$38.2B", Decimal("-38.2"), "B")),
        ("\u22120.4%", Figure("\u22120.4%", Decimal("-0.4"), "%")),
        # Not single numbers: the text is kept, no value is guessed.
        ("<0.25%", Figure("<0.25%", None, "")),
        ("4.44|2.7", Figure("4.44|2.7", None, "")),
        ("2-0-7", Figure("2-0-7", None, "")),
        ("Pass", Figure("Pass", None, "")),
        ("1.2.3", Figure("1.2.3", None, "")),
        ("9" * 30, Figure("9" * 30, None, "")),
        # Blanks as sources print them.
        ("", Figure("")),
        (None, Figure("")),
        ("\xa0", Figure("")),
        ("&nbsp;", Figure("")),
        ("  3.6%  ", Figure("3.6%", Decimal("3.6"), "%")),
    ],
)
def test_parse_figure(text, expected):
    assert parse_figure(text) == expected


@pytest.mark.parametrize(
    ("code", "country"),
    [("USD", "US"), ("EUR", "EU"), ("GBP", "GB"), ("CNY", "CN"), ("All", "WW"),
     ("ALL", "WW"), ("chf", "CH"), ("XXX", None)],
)  # fmt: skip
def test_country_from_currency(code, country):
    assert country_from_currency(code) == country


@pytest.mark.parametrize(
    ("name", "country"),
    [("United States", "US"), ("United_States", "US"), ("Euro Zone", "EU"),
     ("United Kingdom", "GB"), ("South Korea", "KR"), ("Atlantis", None)],
)  # fmt: skip
def test_country_from_name(name, country):
    assert country_from_name(name) == country


@pytest.mark.parametrize(
    ("label", "importance"),
    [("High", 3), ("Medium", 2), ("Low", 1), ("bull3", 3), ("3", 3), (2, 2),
     ("High Volatility Expected", 3), ("Medium Impact Expected", 2), ("ora", 2),
     ("Holiday", None), ("Non-Economic", None), (None, None)],
)  # fmt: skip
def test_importance_from_label(label, importance):
    assert importance_from_label(label) == importance


@pytest.mark.parametrize("label", ["Critical", -1, 7, "4"])
def test_importance_from_unknown_label_raises(label):
    with pytest.raises(ValueError, match="importance"):
        importance_from_label(label)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Nonfarm Payrolls  (Jun)", ("Nonfarm Payrolls", "Jun")),
        ("GDP (QoQ) (Q1)", ("GDP (QoQ)", "Q1")),
        ("CPI (MoM)", ("CPI (MoM)", "")),
        ("Retail Sales (YoY) (Apr/26)", ("Retail Sales (YoY)", "Apr/26")),
        ("Budget (2026)", ("Budget", "2026")),
        ("CPI m/m", ("CPI m/m", "")),
    ],
)
def test_split_reference_period(name, expected):
    assert split_reference_period(name) == expected


@pytest.mark.parametrize(
    ("name", "holiday", "kind"),
    [("Bank Holiday", False, "holiday"), ("Fed Chair Powell Speaks", False, "speech"),
     ("Daylight Saving Time Shift", False, "holiday"), ("CPI m/m", False, "release"),
     ("New Year's Day", True, "holiday")],
)  # fmt: skip
def test_infer_kind(name, holiday, kind):
    assert infer_kind(name, holiday=holiday) == kind


# Names from the bundled samples; the order of the rules decides the ambiguous ones.
@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("Non-Farm Employment Change", "Employment"), ("Initial Jobless Claims", "Employment"),
        ("Average Hourly Earnings m/m", "Employment"),  # wages, not prices
        ("Core CPI m/m", "Inflation"), ("ISM Manufacturing Prices", "Inflation"),
        ("ISM Manufacturing PMI", "Economic Activity"), ("Prelim GDP q/q", "Economic Activity"),
        ("Philly Fed Manufacturing Index", "Economic Activity"),  # a survey, not the Fed
        ("FOMC Member Waller Speaks", "Central Banks"), ("BOE Gov Bailey Speaks", "Central Banks"),
        ("1-y Loan Prime Rate", "Central Banks"), ("Spanish 10-Year Obligacion Auction", "Bonds"),
        ("French Gov Budget Balance", "Balance"), ("Goods Trade Balance", "Balance"),
        ("GfK Consumer Confidence", "Confidence Index"), ("Consumer Credit m/m", "Credit"),
        ("M3 Money Supply y/y", "Credit"), ("President Trump Speaks", ""), ("NASDAQ", ""),
    ],
)  # fmt: skip
def test_infer_category(name, category):
    assert infer_category(name) == category


def test_holidays_have_no_category():
    assert infer_category("Bank Holiday Prices", "holiday") == ""


@pytest.mark.parametrize(
    ("local", "zone", "utc"),
    [
        # NFP 08:30 New York: EDT in July (UTC-4), EST in January (UTC-5).
        (datetime(2022, 7, 8, 8, 30), "America/New_York", datetime(2022, 7, 8, 12, 30)),
        (datetime(2026, 1, 9, 8, 30), "America/New_York", datetime(2026, 1, 9, 13, 30)),
        # FRED prints US Central: 1:00 am CDT on 2025-07-02 is 06:00Z.
        (datetime(2025, 7, 2, 1, 0), "America/Chicago", datetime(2025, 7, 2, 6, 0)),
        # The repeated hour when clocks go back takes the first (daylight) occurrence.
        (
            datetime(2025, 11, 2, 1, 30),
            "America/New_York",
            datetime(2025, 11, 2, 5, 30),
        ),
    ],
)
def test_to_utc_is_dst_correct(local, zone, utc):
    assert to_utc(local, zone).replace(tzinfo=None) == utc


def test_to_utc_rejects_unknown_zone():
    with pytest.raises(ValueError, match="Unknown time zone 'Mars/Olympus'"):
        to_utc(datetime(2025, 1, 1), "Mars/Olympus")


def test_a_published_category_wins_over_the_name():
    from dataclasses import replace
    from datetime import date

    from ingestion.records import EventRecord

    record = EventRecord(
        external_id="x", event_name="CPI m/m", country="US", date=date(2026, 6, 1),
        time=None, time_precision="date_only", category="Consumer Price Index",
    )  # fmt: skip
    assert record.category == "Consumer Price Index"
    assert replace(record, category="").category == "Inflation"
