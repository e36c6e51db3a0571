"""Periods: the reference-period arithmetic every transformation relies on."""

from datetime import date
from decimal import Decimal

import pytest

from ingestion.official.observations import Period, to_decimal


@pytest.mark.parametrize(
    ("period", "steps", "expected"),
    [
        (Period.of("M", 2016, 1), -1, "2015-12"),
        (Period.of("M", 2016, 5), -12, "2015-05"),
        (Period.of("Q", 2024, 1), -1, "2023-Q4"),
        (Period.of("Q", 2024, 3), -4, "2023-Q3"),
        (Period.of("S", 2024, 1), -1, "2023-S2"),
        (Period.of("A", 2024), -1, "2023"),
        (Period.of("D", 2024, 60), 1, "2024-03-01"),  # day 60 of a leap year
    ],
)
def test_shifted(period, steps, expected):
    assert str(period.shifted(steps)) == expected
    assert period.shifted(steps).shifted(-steps) == period


def test_containing_and_number():
    assert Period.containing(date(2024, 8, 15), "Q") == Period.of("Q", 2024, 3)
    assert Period.containing(date(2024, 8, 15), "M").number == 8
    assert Period.of("Q", 2024, 3).per_year == 4
    with pytest.raises(ValueError, match="no fixed count"):
        _ = Period.of("D", 2024, 1).per_year


def test_periods_sort_chronologically():
    months = [Period.of("M", 2024, n) for n in (11, 2, 7)]
    assert [str(p) for p in sorted(months)] == ["2024-02", "2024-07", "2024-11"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((date(2024, 2, 1), "Q"), "2024-02-01 is not the first day of a quarter"),
        ((date(2024, 1, 4), "M"), "2024-01-04 is not the first day of a month"),
        ((date(2024, 1, 1), "W"), "unknown frequency 'W'"),
    ],
)
def test_a_period_must_start_where_its_frequency_starts(arguments, message):
    with pytest.raises(ValueError, match=message):
        Period(*arguments)


def test_of_refuses_a_period_the_year_does_not_have():
    with pytest.raises(ValueError, match="Q period 5 does not exist"):
        Period.of("Q", 2024, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("143894", "143894"), ("-0.4", "-0.4"), (2, "2"), (Decimal("2.5"), "2.5")],
)
def test_to_decimal(text, expected):
    assert str(to_decimal(text)) == expected


@pytest.mark.parametrize("text", ["-", ".", "NaN", "Infinity", True, None, "1,234"])
def test_to_decimal_refuses_what_is_not_a_finite_number(text):
    with pytest.raises(ValueError, match="not a"):
        to_decimal(text)
