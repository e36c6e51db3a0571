"""TradingEconomics calendar API (key required; ``guest:guest`` is a limited demo).

``GET https://api.tradingeconomics.com/calendar/country/All/{d1}/{d2}?c=KEY&f=json``.
No payload was recorded for this project; the fields below are the documented ones
(docs.tradingeconomics.com/economic_calendar/schema, listed in
docs/sources/tradingeconomics.md), and the parser is tested on a payload constructed
from that schema, labelled as such.

- ``CalendarId`` (``CalendarID`` in the schema table): the occurrence id.
- ``Date``: UTC, without an offset (NFP ``2013-01-04T13:30:00`` = 08:30 EST).
- ``DateSpan``: "0" time known, "1" only the day is known.
- ``Previous``: the previous figure *after* revision; ``Revised``: the figure as
  reported *before* revision (the current schema; an older version of the page says
  the opposite, see the docs file). Mapped to our ``previous`` (as first shown) and
  ``revised_previous``.
- ``Currency`` is a symbol ("C$", "¥"), so the ISO code comes from the country.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings

from core.models import EventKind, TimePrecision
from ingestion.errors import IngestionError, InvalidRow, PayloadError
from ingestion.normalise import (
    clean_text,
    country_from_name,
    currency_for_country,
    importance_from_label,
    infer_kind,
)
from ingestion.records import DateWindow, EventRecord, ParsedPayload, Skip
from ingestion.sources.base import Payload, Source, load_json, register

API = "https://api.tradingeconomics.com"
SITE = "https://tradingeconomics.com"


@register
class TradingEconomics(Source):
    name = "tradingeconomics"
    precedence = 30
    label = "TradingEconomics"
    homepage = "https://tradingeconomics.com/calendar"
    description = "All countries via the keyed API (TRADINGECONOMICS_API_KEY)."
    schedule = "50 5 * * *"  # daily; follow-ups catch actuals at release time
    supports_range = True
    chunk_days = 7

    def fetch(self, http: requests.Session, window: DateWindow) -> Iterator[Payload]:
        url = f"{API}/calendar/country/All/{window.start}/{window.end}"
        # The key goes in a header, not the URL, so it never reaches a log line.
        yield self.download(
            http,
            url,
            params={"f": "json"},
            headers={"Authorization": settings.TRADINGECONOMICS_API_KEY},
        )

    def check_response(self, response: requests.Response) -> None:
        # 401/403 without a Cloudflare page is the API refusing the key, which the
        # operator can fix; a generic "blocked" would hide that.
        if (
            response.status_code in (401, 403)
            and b"Just a moment" not in response.content
        ):
            raise IngestionError(
                f"{self.name}: the API rejected the key (HTTP {response.status_code}); "
                "set TRADINGECONOMICS_API_KEY"
            )
        super().check_response(response)

    def extract(self, body: bytes) -> ParsedPayload:
        data = load_json(self.name, body)
        if isinstance(data, dict):
            message = data.get("Message") or data.get("message") or data
            raise PayloadError(f"{self.name}: the API answered an error: {message}")
        if not isinstance(data, list):
            raise PayloadError(f"{self.name}: calendar JSON is not a list of events")
        parsed = ParsedPayload()
        for item in data:
            try:
                if not isinstance(item, dict):
                    raise InvalidRow("calendar item is not an object")
                parsed.records.append(_record(item))
            except (InvalidRow, OverflowError) as exc:  # Overflow: year 1 or 9999
                excerpt = (
                    clean_text(item.get("Event"))
                    if isinstance(item, dict)
                    else str(item)[:80]
                )
                parsed.skipped.append(Skip(str(exc), excerpt))
        if parsed.records:
            # fetch() always asks for every country and importance, so each day from
            # the first to the last listed one is complete.
            days = [record.date for record in parsed.records]
            parsed.window = DateWindow(min(days), max(days))
        return parsed


def _record(item: dict[str, Any]) -> EventRecord:
    occurrence = clean_text(str(item.get("CalendarId") or item.get("CalendarID") or ""))
    raw_date = clean_text(item.get("Date"))
    try:
        instant = datetime.fromisoformat(raw_date)
    except ValueError:
        raise InvalidRow(f"Date {raw_date!r} is not ISO 8601") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)  # documented as UTC without an offset
    instant = instant.astimezone(UTC)
    country = country_from_name(clean_text(item.get("Country")))
    if country is None:
        raise InvalidRow(f"unknown country {item.get('Country')!r}")
    category = clean_text(item.get("Category"))
    name = clean_text(item.get("Event"))
    holiday = category.lower() == "holidays"
    try:
        importance = None if holiday else importance_from_label(item.get("Importance"))
    except ValueError as exc:
        raise InvalidRow(str(exc)) from None
    before_revision = clean_text(item.get("Revised"))
    after_revision = clean_text(item.get("Previous"))
    url = clean_text(item.get("URL"))
    values = {
        "external_id": occurrence,
        "source_event_id": clean_text(item.get("Ticker"))[:64],
        "event_name": name,
        "reference_period": clean_text(item.get("Reference")),
        "category": category[:64],
        "kind": EventKind.HOLIDAY if holiday else infer_kind(name),
        "country": country,
        "currency": currency_for_country(country),
        "importance": importance,
        "actual": clean_text(item.get("Actual")),
        "forecast": clean_text(item.get("Forecast")),
        "previous": before_revision or after_revision,
        "revised_previous": after_revision if before_revision else "",
        "source_url": SITE + url if url.startswith("/") else "",
    }
    if holiday:
        return EventRecord.on(instant.date(), TimePrecision.ALL_DAY, **values)
    if str(item.get("DateSpan", "0")).strip() not in ("", "0"):
        # DateSpan "1": only the day is known.
        return EventRecord.on(instant.date(), TimePrecision.TENTATIVE, **values)
    return EventRecord.at(instant, **values)
