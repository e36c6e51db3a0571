"""A test-double source: its payloads are JSON the tests write, never a recording."""

import json
from datetime import date, time
from pathlib import Path

import pytest

from ingestion.errors import InvalidRow, PayloadError
from ingestion.records import DateWindow, EventRecord, ParsedPayload, Skip
from ingestion.sources.base import Payload, Source


class StubSource(Source):
    """Not @register-ed: it never appears in the global registry or /api/sources/.

    A payload is ``{"window": ["2026-06-01", "2026-06-07"] | null, "rows": [...]}``
    where each row holds EventRecord fields (dates and times as ISO strings), or
    ``{"error": "..."}`` to make parsing fail.
    """

    name = "stub"
    label = "Stub"
    homepage = "https://example.invalid/"
    schedule = "0 * * * *"
    chunk_days = 7

    def __init__(self, chunks: dict[date, list[bytes]] | None = None) -> None:
        self.chunks = chunks or {}

    def fetch(self, http, window):
        for body in self.chunks.get(window.start, []):
            yield Payload(body, f"https://example.invalid/{window.start}")

    def extract(self, body: bytes) -> ParsedPayload:
        data = json.loads(body)
        if "error" in data:
            raise PayloadError(f"stub: {data['error']}")
        parsed = ParsedPayload()
        if data.get("window"):
            start, end = data["window"]
            parsed.window = DateWindow(
                date.fromisoformat(start), date.fromisoformat(end)
            )
        for row in data["rows"]:
            fields = dict(row)
            fields["date"] = date.fromisoformat(fields["date"])
            fields["time"] = (
                time.fromisoformat(fields["time"]) if fields.get("time") else None
            )
            try:
                parsed.records.append(EventRecord(**fields))
            except InvalidRow as exc:
                parsed.skipped.append(Skip(str(exc), fields.get("event_name", "")))
        return parsed


def stub_row(external_id: str, **fields) -> dict:
    row = {
        "external_id": external_id,
        "event_name": f"Indicator {external_id}",
        "country": "US",
        "currency": "USD",
        "date": "2026-06-03",
        "time": "12:30:00",
        "importance": 2,
        "forecast": "1.0%",
        "previous": "0.9%",
    }
    row.update(fields)
    return row


def stub_payload(rows: list[dict], window: tuple[str, str] | None = None) -> bytes:
    return json.dumps(
        {"window": list(window) if window else None, "rows": rows}
    ).encode()


@pytest.fixture
def stub_source():
    return StubSource()


@pytest.fixture
def write_payload(tmp_path):
    counter = iter(range(1_000_000))

    def write(rows: list[dict], window: tuple[str, str] | None = None) -> Path:
        path = tmp_path / f"payload-{next(counter)}.json"
        path.write_bytes(stub_payload(rows, window))
        return path

    return write
