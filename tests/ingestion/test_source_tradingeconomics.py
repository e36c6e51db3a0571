"""The TradingEconomics parser.

No TradingEconomics payload was recorded for this project. The payload below is
CONSTRUCTED from the documented response schema
(docs.tradingeconomics.com/economic_calendar/schema; see docs/sources/tradingeconomics.md)
to exercise the parser. It is not a recording and lives here, not under tests/fixtures/.
"""

import json
from datetime import UTC, date, datetime

import pytest
import responses

from ingestion.errors import IngestionError, PayloadError
from ingestion.http import build_session
from ingestion.records import DateWindow
from ingestion.sources import get_source

CONSTRUCTED = [
    {
        "CalendarId": "332979", "Date": "2023-01-06T13:30:00", "Country": "United States",
        "Category": "Non Farm Payrolls", "Event": "Non Farm Payrolls", "Reference": "Dec",
        "ReferenceDate": "2022-12-31T00:00:00", "Source": "U.S. Bureau of Labor Statistics",
        "SourceURL": "https://www.bls.gov", "Actual": "223K", "Previous": "256K",
        "Forecast": "200K", "TEForecast": "205K", "URL": "/united-states/non-farm-payrolls",
        "DateSpan": "0", "Importance": 3, "LastUpdate": "2023-01-06T13:31:00",
        "Revised": "263K", "Currency": "", "Unit": "K", "Ticker": "NFP TCH", "Symbol": "NFP TCH",
    },
    {
        "CalendarId": "332980", "Date": "2023-01-01T00:00:00", "Country": "Japan",
        "Category": "Holidays", "Event": "New Year\u2019s Day", "Reference": "", "Actual": "",
        "Previous": "", "Forecast": "", "TEForecast": "", "URL": "/japan/holidays",
        "DateSpan": "0", "Importance": 1, "Revised": "", "Currency": "", "Unit": "",
        "Ticker": "", "Symbol": "",
    },
    {
        "CalendarId": "332981", "Date": "2023-01-05T00:00:00", "Country": "Japan",
        "Category": "Balance of Trade", "Event": "Balance of Trade", "Reference": "Dec",
        "Actual": "", "Previous": "¥113B", "Forecast": "-¥1.2T", "DateSpan": "1",
        "Importance": 2, "Revised": "", "Currency": "¥", "Unit": "B", "URL": "", "Ticker": "",
    },
    {
        "CalendarId": "332982", "Date": "2023-01-05T09:00:00", "Country": "Euro Area",
        "Category": "Inflation Rate", "Event": "Inflation Rate YoY Flash", "Reference": "Dec",
        "Actual": "9.2%", "Previous": "10.1%", "Forecast": "9.5%", "DateSpan": "0",
        "Importance": 3, "Revised": "", "Currency": "", "Unit": "%", "URL": "", "Ticker": "",
    },
    {"CalendarId": "1", "Date": "2023-01-05T09:00:00", "Country": "Atlantis", "Event": "X",
     "Importance": 1},
    {"CalendarId": "2", "Date": "yesterday", "Country": "Japan", "Event": "Y", "Importance": 1},
    {"CalendarId": "3", "Date": "2023-01-05T09:00:00", "Country": "Japan", "Event": "Z",
     "Importance": 7},
]  # fmt: skip


@pytest.fixture(scope="module")
def te():
    return get_source("tradingeconomics")


def parse(te, items=CONSTRUCTED):
    return te.parse(json.dumps(items).encode())


def test_documented_fields_map_onto_the_model(te):
    parsed = parse(te)
    records = {r.external_id: r for r in parsed.records}
    nfp = records["332979"]
    assert nfp.scheduled_at == datetime(2023, 1, 6, 13, 30, tzinfo=UTC)  # 08:30 EST
    assert (nfp.event_name, nfp.reference_period, nfp.category) == (
        "Non Farm Payrolls", "Dec", "Non Farm Payrolls",
    )  # fmt: skip
    assert (nfp.actual, nfp.forecast, nfp.importance) == ("223K", "200K", 3)
    # Schema: Revised = reported before revision, Previous = after revision.
    assert (nfp.previous, nfp.revised_previous) == ("263K", "256K")
    assert (nfp.country, nfp.currency, nfp.source_event_id) == ("US", "USD", "NFP TCH")
    assert (
        nfp.source_url == "https://tradingeconomics.com/united-states/non-farm-payrolls"
    )


def test_holidays_date_spans_symbols_and_regions(te):
    records = {r.external_id: r for r in parse(te).records}
    holiday = records["332980"]
    assert (holiday.kind, holiday.importance, holiday.time_precision) == (
        "holiday",
        None,
        "all_day",
    )
    assert holiday.event_name == "New Year\u2019s Day"
    trade = records["332981"]
    assert (trade.time_precision, trade.time, trade.date) == (
        "tentative",
        None,
        date(2023, 1, 5),
    )
    assert (trade.previous, trade.forecast, trade.currency) == (
        "¥113B",
        "-¥1.2T",
        "JPY",
    )
    assert records["332982"].country == "EU"


def test_bad_items_are_counted_skips(te):
    parsed = parse(te)
    reasons = [skip.reason for skip in parsed.skipped]
    assert len(parsed.records) == 4
    assert any("Atlantis" in r for r in reasons)
    assert any("'yesterday'" in r for r in reasons)
    assert any("importance" in r for r in reasons)
    assert parsed.window == DateWindow(date(2023, 1, 1), date(2023, 1, 6))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "malformed"),
        (b'{"Message": "No Access"}', "No Access"),
        (b'"x"', "not a list"),
    ],
)
def test_malformed_payloads(te, body, message):
    with pytest.raises(PayloadError, match=message):
        te.parse(body)


@responses.activate
def test_fetch_sends_the_key_in_a_header_and_reports_a_rejected_key(te, settings):
    settings.TRADINGECONOMICS_API_KEY = "secret:key"
    url = "https://api.tradingeconomics.com/calendar/country/All/2023-01-01/2023-01-07"
    responses.get(url, json=CONSTRUCTED[:1])
    window = DateWindow(date(2023, 1, 1), date(2023, 1, 7))
    (payload,) = te.fetch(build_session(retries=0), window)
    assert [r.external_id for r in te.parse(payload.body).records] == ["332979"]
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "secret:key"
    assert "secret" not in request.url
    responses.replace(responses.GET, url, status=401, body=b"Unauthorized")
    with pytest.raises(IngestionError, match="rejected the key"):
        list(te.fetch(build_session(retries=0), window))
