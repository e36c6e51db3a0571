"""Published figures as text, number and unit: one reading for every source.

``parse_figure`` is how a figure's text ("254K", "-0.1%", "<0.25%") becomes the stored
value and unit: the writer (``ingestion``) uses it on every row, and a point-in-time
answer (``core.history``) on texts read back from the change log.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# A number, optionally signed, with thousands separators, an optional currency symbol
# before it and a scale or percent after it: "254K", "-1.2B", "1,777K", "¥113B", "0.3%".
_FIGURE = re.compile(
    r"""^
    (?P<sign>[-+\u2212]?)
    (?P<symbol>[$€£¥₹₩]|[A-Z]{1,3}\$)?
    (?P<sign2>[-+\u2212]?)
    (?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    \s*
    (?P<unit>%|[KMBT]|bp|bps)?
    $""",
    re.VERBOSE,
)
# The DB column holds 20 integer digits; a bigger "number" is not a figure we can trust.
_MAX_FIGURE = Decimal(10) ** 20
_BLANKS = {"", "-", "--", "\u2014", "n/a", "N/A", "&nbsp;"}


@dataclass(frozen=True)
class Figure:
    """A published figure: the text always, the number and unit when it is one."""

    text: str
    value: Decimal | None = None
    unit: str = ""


def clean_text(value: str | None) -> str:
    """Collapse runs of whitespace (including no-break spaces) and strip."""
    if not value:
        return ""
    return " ".join(value.replace("\xa0", " ").split())


def parse_figure(text: str | None) -> Figure:
    """Parse "254K" into Figure("254K", Decimal("254"), "K"); never raises.

    Text that is not a single number ("4.44|2.7" auction yield|cover, "2-0-7" votes,
    "Pass", "<0.25%" a bound, not a value) keeps its text with no value.
    """
    text = clean_text(text)
    if text in _BLANKS:
        return Figure("")
    match = _FIGURE.match(text)
    if match is None:
        return Figure(text)
    negative = "-" in (match["sign"], match["sign2"]) or "\u2212" in (
        match["sign"],
        match["sign2"],
    )
    try:
        value = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        return Figure(text)
    if value >= _MAX_FIGURE:
        return Figure(text)
    unit = match["unit"] or ""
    if unit == "bps":
        unit = "bp"
    return Figure(text, -value if negative else value, unit)
