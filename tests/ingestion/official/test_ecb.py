"""The ECB SDMX-JSON parser on the recorded HICP response (tests/fixtures/official/ecb/)."""

import copy
import json
from decimal import Decimal

import pytest

from ingestion.errors import PayloadError
from ingestion.official import ecb
from ingestion.official.observations import Period
from tests.ingestion.official.recorded import envelope, envelope_body

HICP = "ecb/envelope_sdmxjson_ICP_M.U2.N.000000.4.ANR_2025_captured-2026-02-17.json"


@pytest.fixture
def message() -> dict:
    return envelope(HICP)["response"]


def test_series_key_is_decoded_from_the_structure(message):
    [series] = ecb.read_data(message)
    assert series.series_id == "ICP.M.U2.N.000000.4.ANR"
    assert series.dimensions["ICP_ITEM"] == "000000"
    assert series.attributes["UNIT"] == "PCCH"
    assert series.attributes["DECIMALS"] == "1"
    assert series.title.startswith("Euro area (changing composition) - HICP")


def test_observations_by_time_period(message):
    [series] = ecb.read_data(message)
    values = {str(o.period): o.value for o in series.observations}
    assert len(values) == 12
    assert values["2025-01"] == Decimal("2.5")
    assert values["2025-06"] == Decimal("2")  # a JSON 2, not 2.0
    assert values["2025-12"] == Decimal("1.9")
    assert [o.time_period for o in series.observations][:2] == ["2025-01", "2025-02"]


def test_observation_status_and_comment(message):
    [series] = ecb.read_data(message)
    status = {str(o.period): o.status for o in series.observations}
    assert status["2025-06"] == "E"  # estimated
    assert status["2025-01"] == "A"  # normal
    november = next(
        o for o in series.observations if o.period == Period.of("M", 2025, 11)
    )
    assert (
        "discontinue the current Indices of Consumer Prices"
        in november.attributes["OBS_COM"]
    )


def test_observation_keys_need_not_be_in_order(message):
    observations = message["dataSets"][0]["series"]["0:0:0:0:0:0"]["observations"]
    message["dataSets"][0]["series"]["0:0:0:0:0:0"]["observations"] = dict(
        reversed(observations.items())
    )
    [series] = ecb.read_data(message)
    assert str(series.observations[0].period) == "2025-01"


def test_from_bytes_without_a_dataflow_link():
    message = json.loads(envelope_body(HICP))
    del message["structure"]["links"]
    body = json.dumps(message).encode()
    with pytest.raises(PayloadError, match="names no dataflow"):
        ecb.parse_data(body)
    [series] = ecb.parse_data(body, flow="ICP")
    assert series.series_id == "ICP.M.U2.N.000000.4.ANR"
    assert series.observations[0].value == Decimal("2.5")  # a JSON number


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda m: m.pop("structure"), "structure is not a JSON object"),
        (
            lambda m: m["dataSets"][0].pop("series"),
            "only series-level messages",
        ),
        (
            lambda m: m["structure"]["dimensions"]["observation"][0].update(id="X"),
            "not keyed by TIME_PERIOD",
        ),
        (
            lambda m: m["dataSets"][0]["series"].update(
                {"0:0:0:0:0:7": m["dataSets"][0]["series"]["0:0:0:0:0:0"]}
            ),
            "index '7' is out of range",
        ),
    ],
)
def test_malformed_messages(message, change, error):
    broken = copy.deepcopy(message)
    change(broken)
    with pytest.raises(PayloadError, match=error):
        ecb.read_data(broken)


def test_an_observation_outside_the_time_dimension_is_skipped(message):
    series = message["dataSets"][0]["series"]["0:0:0:0:0:0"]
    series["observations"]["12"] = [Decimal("9.9"), 0, 0, None, None]
    [parsed] = ecb.read_data(message)
    assert len(parsed.observations) == 12
    assert [s.reason for s in parsed.skipped] == [
        "observation 12: list index out of range"
    ]


@pytest.mark.parametrize(
    ("text", "frequency", "period"),
    [
        ("2025-06", "M", "2025-06"),
        ("2025-Q2", "Q", "2025-Q2"),
        ("2025", "A", "2025"),
        ("2025-S1", "S", "2025-S1"),
        ("2024-09-18", "D", "2024-09-18"),
        ("2024-09-18", "B", "2024-09-18"),
    ],
)
def test_time_periods(text, frequency, period):
    assert str(ecb.read_period(text, frequency)) == period


def test_an_unread_frequency_is_refused():
    with pytest.raises(ValueError, match="not a W period"):
        ecb.read_period("2025-W01", "W")
