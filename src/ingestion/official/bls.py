"""BLS Public Data API responses, v1 and v2 (``/publicAPI/v2/timeseries/data/``).

Shape, as recorded in tests/fixtures/official/bls/::

    {"status": "REQUEST_SUCCEEDED", "responseTime": 81, "message": [],
     "Results": {"series": [{"seriesID": "CUSR0000SA0", "catalog": {...},
        "data": [{"year": "2025", "period": "M10", "periodName": "October",
                  "latest": "true", "value": "-",
                  "footnotes": [{"code": "X", "text": "Data unavailable due to ..."}],
                  "calculations": {"net_changes": {"1": "-0.002"},
                                   "pct_changes": {"1": "-0.4"}}}]}]}}

Quirks this module handles:

* Errors arrive with HTTP 200. A refused request (daily quota spent, key rejected)
  has status ``REQUEST_NOT_PROCESSED``; an unknown series comes back with status
  ``REQUEST_SUCCEEDED``, an empty ``data`` and "Series does not exist for Series X"
  in ``message``. "No Data Available for Series X Year: 2025" is only a warning.
* A gap is ``"value": "-"`` with a footnote saying why (the 2025 shutdown month:
  code ``X`` on CPI, ``9`` on CPS series). It becomes ``value=None``, footnote kept.
* ``P`` footnotes mark preliminary values (the two latest CES months).
* Periods: ``M01``..``M12``, ``Q01``..``Q04``, ``S01``/``S02``, ``A01``; ``M13``,
  ``Q05`` and ``S03`` are annual averages (``annualaverage=true``).
* ``calculations`` (v2 with ``calculations=true``): changes over 1, 3, 6 and 12
  months, already rounded as BLS publishes them.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ingestion.errors import InvalidRow, PayloadError
from ingestion.official.observations import (
    Observation,
    Period,
    expect_dict,
    expect_list,
    load_json,
    to_decimal,
)
from ingestion.records import Skip

AGENCY = "bls"
SUCCEEDED = "REQUEST_SUCCEEDED"
GAP = "-"
ANNUAL_AVERAGES = frozenset({"M13", "Q05", "S03"})
_PERIOD = re.compile(r"^([MQSA])(\d{2})$")
# How many periods of each kind a year has, before the annual-average code.
_PER_YEAR = {"M": 12, "Q": 4, "S": 2, "A": 1}
# A message naming one series: "... for Series CUUR0000SA0 Year: 2025".
_NAMED_SERIES = re.compile(r"\bfor Series\s+(?:id:\s*)?([A-Za-z0-9_#.-]+)")
# Messages that mean "no data for you" rather than "some years were empty".
_ERROR = re.compile(
    r"does not exist|invalid|threshold|exceeded|not processed|unable", re.I
)


@dataclass(frozen=True)
class Footnote:
    code: str
    text: str


@dataclass(frozen=True)
class Calculations:
    """BLS's own changes, keyed by the span in months (1, 3, 6, 12)."""

    net_changes: Mapping[int, Decimal | None]
    pct_changes: Mapping[int, Decimal | None]


@dataclass(frozen=True)
class BlsObservation(Observation):
    period_code: str = ""
    footnotes: tuple[Footnote, ...] = ()
    latest: bool = False
    calculations: Calculations | None = None

    @property
    def preliminary(self) -> bool:
        return any(note.code == "P" for note in self.footnotes)

    @property
    def annual_average(self) -> bool:
        return self.period_code in ANNUAL_AVERAGES


@dataclass(frozen=True)
class BlsSeries:
    """One series of a response, observations oldest first."""

    series_id: str
    observations: tuple[BlsObservation, ...]
    title: str = ""  # catalog.series_title, v2 with catalog=true only
    skipped: tuple[Skip, ...] = ()


@dataclass(frozen=True)
class BlsResponse:
    series: Mapping[str, BlsSeries]
    warnings: tuple[str, ...] = ()
    # Series BLS refused, with its message ("Series does not exist for Series X").
    errors: Mapping[str, str] = field(default_factory=dict)

    def get(self, series_id: str) -> BlsSeries:
        """The series ``series_id``; PayloadError naming it and BLS's message if not."""
        if series_id in self.errors:
            raise PayloadError(f"bls: series {series_id}: {self.errors[series_id]}")
        try:
            return self.series[series_id]
        except KeyError:
            raise PayloadError(
                f"bls: series {series_id} is not in the response"
            ) from None


def parse_response(body: bytes) -> BlsResponse:
    """A BLS API response body -> BlsResponse; PayloadError when BLS refused it."""
    return read_response(
        expect_dict(AGENCY, load_json(AGENCY, body, "response"), "response")
    )


def read_response(data: Mapping) -> BlsResponse:
    """The decoded response object (``status``, ``message``, ``Results``)."""
    messages = [str(m) for m in expect_list(AGENCY, data.get("message", []), "message")]
    status = data.get("status")
    if status != SUCCEEDED:
        said = "; ".join(messages) or "no message"
        raise PayloadError(f"bls: request not processed ({status}): {said}")
    errors: dict[str, str] = {}
    warnings: list[str] = []
    for message in messages:
        named = _NAMED_SERIES.search(message)
        if not _ERROR.search(message):
            warnings.append(message)
        elif named:
            errors[named.group(1)] = message
        else:  # an error about the whole request, whatever the status says
            raise PayloadError(f"bls: request not processed: {message}")
    results = expect_dict(AGENCY, data.get("Results"), "Results")
    return read_results(results, warnings=tuple(warnings), errors=errors)


def read_results(
    results: Mapping,
    *,
    warnings: tuple[str, ...] = (),
    errors: Mapping[str, str] | None = None,
) -> BlsResponse:
    """The ``Results`` object alone (``{"series": [...]}``)."""
    found: dict[str, BlsSeries] = {}
    for item in expect_list(AGENCY, results.get("series"), "Results.series"):
        series = _read_series(expect_dict(AGENCY, item, "a series"))
        found[series.series_id] = series
    return BlsResponse(found, warnings, dict(errors or {}))


def _read_series(item: Mapping) -> BlsSeries:
    series_id = item.get("seriesID")
    if not isinstance(series_id, str) or not series_id:
        raise PayloadError("bls: a series has no seriesID")
    rows: list[BlsObservation] = []
    skipped: list[Skip] = []
    for row in expect_list(AGENCY, item.get("data", []), f"{series_id} data"):
        try:
            rows.append(_read_observation(series_id, row))
        except InvalidRow as exc:
            skipped.append(Skip(str(exc), f"{series_id} {str(row)[:120]}"))
    catalog = item.get("catalog")
    title = catalog.get("series_title", "") if isinstance(catalog, dict) else ""
    rows.sort(key=lambda o: (o.period.frequency, o.period.start))
    return BlsSeries(series_id, tuple(rows), str(title), tuple(skipped))


def _read_observation(series_id: str, row: object) -> BlsObservation:
    if not isinstance(row, dict):
        raise InvalidRow("an observation is not a JSON object")
    code = str(row.get("period", ""))
    period = read_period(str(row.get("year", "")), code)
    raw = row.get("value")
    try:
        value = None if raw == GAP else to_decimal(raw)
    except ValueError as exc:
        raise InvalidRow(f"{period}: {exc}") from None
    return BlsObservation(
        series_id=series_id,
        period=period,
        value=value,
        period_code=code,
        footnotes=_footnotes(row.get("footnotes")),
        latest=row.get("latest") == "true",
        calculations=_calculations(row.get("calculations")),
    )


def read_period(year: str, code: str) -> Period:
    """BLS ``year`` + ``period`` -> Period; annual averages become the year ("A")."""
    match = _PERIOD.match(code)
    if not year.isdigit() or not match:
        raise InvalidRow(f"period {year!r} {code!r} is not like 2016 M05")
    kind, number = match.group(1), int(match.group(2))
    if number == _PER_YEAR[kind] + 1 and kind != "A":
        return Period.of("A", int(year))
    if not 1 <= number <= _PER_YEAR[kind]:
        raise InvalidRow(f"period {code!r} does not exist")
    return Period.of(kind, int(year), number)


def _footnotes(notes: object) -> tuple[Footnote, ...]:
    if not isinstance(notes, list):
        return ()
    return tuple(
        Footnote(str(note.get("code", "")), str(note.get("text", "")))
        for note in notes
        if isinstance(note, dict) and (note.get("code") or note.get("text"))
    )


def _calculations(data: object) -> Calculations | None:
    if not isinstance(data, dict):
        return None
    return Calculations(
        _changes(data.get("net_changes")), _changes(data.get("pct_changes"))
    )


def _changes(data: object) -> dict[int, Decimal | None]:
    if not isinstance(data, dict):
        return {}
    changes: dict[int, Decimal | None] = {}
    for span, text in data.items():
        if not str(span).isdigit():
            continue
        try:
            changes[int(span)] = to_decimal(text)
        except ValueError:  # "-": BLS published no change over this span
            changes[int(span)] = None
    return changes
