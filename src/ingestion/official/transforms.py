"""From one vintage of a series to the figure a calendar prints.

Every transformation takes the observations of **one vintage** (one value per
period: BLS's or the ECB's current values, or ``FredSeries.vintage(day)``) and
returns ``{period: figure}`` for each period it can compute. A gap (``value`` None,
e.g. the 2025 shutdown month) or a missing earlier period yields no figure for the
periods that need it; nothing is interpolated.

Rounding. Agencies compute a rate from the levels they publish and round it half up
to their published precision: BLS computes CPI percent changes from the indexes
rounded to three decimals that its API returns and publishes them to one decimal
(bls.gov/cpi/cpithreedec.htm), so recomputing from the API reproduces its figure.
No agency states its tie rule; ``ROUND_HALF_UP`` (ties away from zero) is the
conventional one, and a tie needs a ratio that is exact to the fifth digit.
A rate computed from *rounded* levels can still differ from one computed from the
agency's unrounded data (BEA's GDP growth, Eurostat's HICP rates): for those the
catalogue uses the agency's own published rate (``level`` of a rate series).
"""

from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

from ingestion.official.observations import Observation, Period

Figures = dict[Period, Decimal]
Transform = Callable[[Iterable[Observation], int], Figures]
HUNDRED = Decimal(100)


def round_figure(value: Decimal, decimals: int) -> Decimal:
    """``value`` rounded half up to ``decimals`` places; never "-0.0"."""
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded.is_zero() else rounded


def by_period(observations: Iterable[Observation]) -> dict[Period, Decimal | None]:
    """{period: value}; ValueError on two values for one period or mixed frequencies.

    Two values for one period mean several vintages were passed: pick one first.
    """
    values: dict[Period, Decimal | None] = {}
    frequencies = set()
    for observation in observations:
        if observation.period in values:
            raise ValueError(
                f"{observation.series_id}: two values for {observation.period};"
                " pass one vintage"
            )
        values[observation.period] = observation.value
        frequencies.add(observation.period.frequency)
    if len(frequencies) > 1:
        raise ValueError(f"observations mix frequencies {sorted(frequencies)}")
    return values


def level(observations: Iterable[Observation], decimals: int) -> Figures:
    """The value itself: unemployment rate, a published rate of change, a key rate."""
    return {
        period: round_figure(value, decimals)
        for period, value in by_period(observations).items()
        if value is not None
    }


def _change(
    observations: Iterable[Observation],
    decimals: int,
    lag: Callable[[Period], int],
    formula: Callable[[Decimal, Decimal, Period], Decimal | None],
) -> Figures:
    values = by_period(observations)
    figures: Figures = {}
    for period, value in values.items():
        if period.frequency == "D":
            raise ValueError("changes need a monthly, quarterly or yearly series")
        before = values.get(period.shifted(-lag(period)))
        if value is None or before is None:
            continue
        result = formula(value, before, period)
        if result is not None:
            figures[period] = round_figure(result, decimals)
    return figures


def _one(period: Period) -> int:
    return 1


def _year(period: Period) -> int:
    return period.per_year


def _difference(value: Decimal, before: Decimal, period: Period) -> Decimal:
    return value - before


def _percent(value: Decimal, before: Decimal, period: Period) -> Decimal | None:
    return None if before.is_zero() else (value / before - 1) * HUNDRED


def _annualised(value: Decimal, before: Decimal, period: Period) -> Decimal | None:
    if before.is_zero():
        return None
    return ((value / before) ** period.per_year - 1) * HUNDRED


def difference(observations: Iterable[Observation], decimals: int) -> Figures:
    """level(t) - level(t-1): payrolls' monthly change, in the series' unit."""
    return _change(observations, decimals, _one, _difference)


def pct_change(observations: Iterable[Observation], decimals: int) -> Figures:
    """% change on the previous period (m/m for a monthly series, q/q quarterly)."""
    return _change(observations, decimals, _one, _percent)


def pct_change_yoy(observations: Iterable[Observation], decimals: int) -> Figures:
    """% change on the same period a year earlier (12 months, 4 quarters back)."""
    return _change(observations, decimals, _year, _percent)


def pct_change_annualised(
    observations: Iterable[Observation], decimals: int
) -> Figures:
    """((x_t / x_{t-1}) ** periods-per-year - 1) * 100: US GDP's q/q "SAAR"."""
    return _change(observations, decimals, _one, _annualised)


def bls_pct_change(months: int) -> Transform:
    """BLS's own % change over ``months`` (v2 ``calculations=true`` only)."""

    def published(observations: Iterable[Observation], decimals: int) -> Figures:
        figures: Figures = {}
        for observation in observations:
            calculations = getattr(observation, "calculations", None)
            change = calculations.pct_changes.get(months) if calculations else None
            if change is not None:
                figures[observation.period] = round_figure(change, decimals)
        return figures

    published.__name__ = f"bls_pct_change_{months}m"
    return published


TRANSFORMS: dict[str, Transform] = {
    "level": level,
    "difference": difference,
    "pct_change": pct_change,
    "pct_change_yoy": pct_change_yoy,
    "pct_change_annualised": pct_change_annualised,
    "bls_pct_change_1m": bls_pct_change(1),
    "bls_pct_change_12m": bls_pct_change(12),
}
