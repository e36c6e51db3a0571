"""ECB Data Portal SDMX-JSON data messages (``format=jsondata``).

``GET https://data-api.ecb.europa.eu/service/data/ICP/M.U2.N.000000.4.ANR?format=jsondata``
answers (recorded in tests/fixtures/official/ecb/)::

    {"dataSets": [{"series": {"0:0:0:0:0:0": {
        "attributes": [0, null, 0, ...],
        "observations": {"0": [2.5, 0, 0, null, null], "5": [2, 1, 0, null, null]}}}}],
     "structure": {
        "links": [{"rel": "dataflow", "href": ".../service/dataflow/ECB/ICP/1.0"}],
        "dimensions": {"series": [{"id": "FREQ", "values": [{"id": "M"}]}, ...],
                       "observation": [{"id": "TIME_PERIOD",
                                        "values": [{"id": "2025-01"}, ...]}]},
        "attributes": {"series": [{"id": "TITLE", "values": [{"name": "..."}]}, ...],
                       "observation": [{"id": "OBS_STATUS",
                                        "values": [{"id": "A"}, {"id": "E"}]}, ...]}}}

Everything is an index into ``structure``: the series key ``0:0:0:0:0:0`` holds one
value index per series dimension; an observation's key indexes TIME_PERIOD; its
array is ``[OBS_VALUE, attribute index, ...]`` in ``attributes.observation`` order,
``null`` meaning absent. The series attributes are indexes the same way.

The ECB keeps only the latest figure: a flash estimate is overwritten by the final
one (Oct-2022 HICP flash 10.7, final 10.6, per research/official-series.md), so a
first print must be captured on release day.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

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

AGENCY = "ecb"
_FLOW = re.compile(r"/dataflow/[^/]+/([^/]+)/")
_PERIODS = {
    "M": re.compile(r"^(\d{4})-(\d{2})$"),
    "Q": re.compile(r"^(\d{4})-Q(\d)$"),
    "S": re.compile(r"^(\d{4})-S(\d)$"),
    "A": re.compile(r"^(\d{4})$"),
}


@dataclass(frozen=True)
class EcbObservation(Observation):
    time_period: str
    # OBS_STATUS: "A" normal, "E" estimated, "P" provisional...; "" when absent.
    status: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EcbSeries:
    series_id: str  # flow and key: "ICP.M.U2.N.000000.4.ANR"
    dimensions: Mapping[str, str]  # FREQ -> "M", REF_AREA -> "U2"...
    attributes: Mapping[str, str]  # TITLE_COMPL, UNIT, DECIMALS...
    observations: tuple[EcbObservation, ...]
    skipped: tuple[Skip, ...] = ()

    @property
    def title(self) -> str:
        return self.attributes.get("TITLE_COMPL") or self.attributes.get("TITLE", "")


def parse_data(body: bytes, *, flow: str = "") -> list[EcbSeries]:
    """An SDMX-JSON data message -> its series; PayloadError if it is not one.

    ``flow`` names the dataflow when the message has no ``dataflow`` link.
    """
    message = load_json(AGENCY, body, "SDMX-JSON message")
    return read_data(expect_dict(AGENCY, message, "SDMX-JSON message"), flow=flow)


def read_data(message: Mapping, *, flow: str = "") -> list[EcbSeries]:
    """The decoded SDMX-JSON message."""
    structure = expect_dict(AGENCY, message.get("structure"), "structure")
    flow = _flow(structure) or flow
    if not flow:
        raise PayloadError("ecb: the message names no dataflow; pass flow=")
    dimensions = expect_dict(AGENCY, structure.get("dimensions"), "dimensions")
    attributes = expect_dict(AGENCY, structure.get("attributes", {}), "attributes")
    times = _time_dimension(dimensions)
    out: list[EcbSeries] = []
    for data_set in expect_list(AGENCY, message.get("dataSets"), "dataSets"):
        data_set = expect_dict(AGENCY, data_set, "a dataSet")
        if "series" not in data_set:
            raise PayloadError(
                "ecb: only series-level messages are read (no dimensionAtObservation)"
            )
        series = expect_dict(AGENCY, data_set["series"], "dataSets.series")
        for key, item in series.items():
            out.append(_read_series(flow, key, item, dimensions, attributes, times))
    return out


def _flow(structure: Mapping) -> str:
    for link in structure.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "dataflow":
            match = _FLOW.search(str(link.get("href", "")))
            if match:
                return match.group(1)
    return ""


def _time_dimension(dimensions: Mapping) -> list[str]:
    levels = expect_list(
        AGENCY, dimensions.get("observation"), "observation dimensions"
    )
    if len(levels) != 1 or levels[0].get("id") != "TIME_PERIOD":
        raise PayloadError("ecb: observations are not keyed by TIME_PERIOD alone")
    return [str(v.get("id", "")) for v in levels[0].get("values", [])]


def _read_series(
    flow: str,
    key: str,
    item: object,
    dimensions: Mapping,
    attributes: Mapping,
    times: list[str],
) -> EcbSeries:
    item = expect_dict(AGENCY, item, f"series {key}")
    levels = expect_list(AGENCY, dimensions.get("series"), "series dimensions")
    codes = _decode(levels, key.split(":"), f"series key {key}")
    if "FREQ" not in codes:
        raise PayloadError(f"ecb: series {key} has no FREQ dimension")
    series_id = ".".join([flow, *codes.values()])
    series_attributes = _decode(
        attributes.get("series", []),
        item.get("attributes", []),
        f"{series_id} attributes",
    )
    found: list[EcbObservation] = []
    skipped: list[Skip] = []
    observations = expect_dict(AGENCY, item.get("observations", {}), "observations")
    for index, values in observations.items():
        try:
            found.append(
                _read_observation(
                    series_id, codes["FREQ"], index, values, times, attributes
                )
            )
        except InvalidRow as exc:
            skipped.append(Skip(str(exc), f"{series_id} {index}: {values!r}"[:160]))
    found.sort(key=lambda o: o.period)
    return EcbSeries(series_id, codes, series_attributes, tuple(found), tuple(skipped))


def _read_observation(
    series_id: str,
    frequency: str,
    index: str,
    values: object,
    times: list[str],
    attributes: Mapping,
) -> EcbObservation:
    if not isinstance(values, list) or not values:
        raise InvalidRow("observation is not a non-empty array")
    try:
        time_period = times[int(index)]
        period = read_period(time_period, frequency)
        value = None if values[0] is None else to_decimal(values[0])
        found = _decode(attributes.get("observation", []), values[1:], "attributes")
    except (IndexError, ValueError, PayloadError) as exc:
        raise InvalidRow(f"observation {index}: {exc}") from None
    return EcbObservation(
        series_id=series_id,
        period=period,
        value=value,
        time_period=time_period,
        status=found.get("OBS_STATUS", ""),
        attributes=found,
    )


def read_period(text: str, frequency: str) -> Period:
    """SDMX TIME_PERIOD of a FREQ ("2025-06" M, "2025-Q2", "2025", "2025-06-11" D/B)."""
    if frequency in {"D", "B"}:
        return Period(date.fromisoformat(text), "D")
    pattern = _PERIODS.get(frequency)
    match = pattern.match(text) if pattern else None
    if not match:
        raise ValueError(f"TIME_PERIOD {text!r} is not a {frequency} period we read")
    number = int(match.group(2)) if match.lastindex == 2 else 1
    return Period.of(frequency, int(match.group(1)), number)


def _decode(levels: object, indexes: list, what: str) -> dict[str, str]:
    """Index list -> {component id: value id (or name when it has no id)}.

    ``None`` indexes (absent attributes) are left out.
    """
    levels = expect_list(AGENCY, levels, what)
    if len(indexes) > len(levels):
        raise PayloadError(f"ecb: {what} has more values than the structure defines")
    out: dict[str, str] = {}
    for level, index in zip(levels, indexes, strict=False):
        if index is None or index == "":
            continue
        try:
            value = level["values"][int(index)]
        except (KeyError, IndexError, TypeError, ValueError):
            raise PayloadError(
                f"ecb: {what}: index {index!r} is out of range"
            ) from None
        out[str(level.get("id"))] = str(value.get("id", value.get("name", "")))
    return out
