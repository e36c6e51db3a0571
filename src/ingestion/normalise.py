"""Pure functions that turn what sources print into our vocabulary.

No I/O, no Django models: table-driven tests in ``tests/ingestion/test_normalise.py``.
"""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.countries import EURO_AREA, GLOBAL
from core.figures import clean_text
from core.models import EventKind, Importance
from core.timezones import lookup_zone

# FIGURES (``core.figures``: one reading for the writer and the history)
# ------------------------------------------------------------------------------

# COUNTRIES AND CURRENCIES
# ------------------------------------------------------------------------------

# Global / multi-country rows ("All" in the FF feed, G7/G20/OPEC meetings) are GLOBAL.
CURRENCY_COUNTRY = {
    "USD": "US", "EUR": EURO_AREA, "GBP": "GB", "JPY": "JP", "CHF": "CH", "CAD": "CA",
    "AUD": "AU", "NZD": "NZ", "CNY": "CN", "HKD": "HK", "SGD": "SG", "SEK": "SE",
    "NOK": "NO", "DKK": "DK", "PLN": "PL", "CZK": "CZ", "HUF": "HU", "RON": "RO",
    "TRY": "TR", "RUB": "RU", "ZAR": "ZA", "INR": "IN", "KRW": "KR", "TWD": "TW",
    "IDR": "ID", "MYR": "MY", "THB": "TH", "PHP": "PH", "VND": "VN", "BRL": "BR",
    "MXN": "MX", "ARS": "AR", "CLP": "CL", "COP": "CO", "PEN": "PE", "ILS": "IL",
    "SAR": "SA", "AED": "AE", "QAR": "QA", "KWD": "KW", "EGP": "EG", "NGN": "NG",
    "KES": "KE", "PKR": "PK", "BGN": "BG", "ISK": "IS", "UAH": "UA", "KZT": "KZ",
    "BHD": "BH", "OMR": "OM", "JOD": "JO", "LKR": "LK", "BDT": "BD", "MAD": "MA",
}  # fmt: skip
COUNTRY_CURRENCY = {country: currency for currency, country in CURRENCY_COUNTRY.items()}
# Euro-area members publish in EUR; their own releases keep their own country code.
for _member in (
    "DE", "FR", "IT", "ES", "NL", "BE", "AT", "PT", "IE", "FI", "GR", "SK", "SI",
    "LT", "LV", "EE", "LU", "MT", "CY", "HR",
):  # fmt: skip
    COUNTRY_CURRENCY[_member] = "EUR"

# Country names as sources print them (Investing "Euro Zone", TE "United States",
# Investing flag classes "United_States" after replacing "_"), lower-cased.
COUNTRY_NAMES = {
    "united states": "US", "usa": "US", "us": "US", "euro zone": EURO_AREA,
    "eurozone": EURO_AREA, "euro area": EURO_AREA, "european union": EURO_AREA,
    "united kingdom": "GB", "uk": "GB",
    "great britain": "GB", "japan": "JP", "switzerland": "CH", "canada": "CA",
    "australia": "AU", "new zealand": "NZ", "china": "CN", "hong kong": "HK",
    "singapore": "SG", "sweden": "SE", "norway": "NO", "denmark": "DK", "poland": "PL",
    "czech republic": "CZ", "czechia": "CZ", "hungary": "HU", "romania": "RO",
    "turkey": "TR", "türkiye": "TR", "turkiye": "TR", "russia": "RU",
    "south africa": "ZA", "india": "IN", "south korea": "KR", "korea": "KR",
    "taiwan": "TW", "indonesia": "ID", "malaysia": "MY", "thailand": "TH",
    "philippines": "PH", "vietnam": "VN", "brazil": "BR", "mexico": "MX",
    "argentina": "AR", "chile": "CL", "colombia": "CO", "peru": "PE", "israel": "IL",
    "saudi arabia": "SA", "united arab emirates": "AE", "qatar": "QA", "kuwait": "KW",
    "egypt": "EG", "nigeria": "NG", "kenya": "KE", "pakistan": "PK", "bulgaria": "BG",
    "iceland": "IS", "ukraine": "UA", "kazakhstan": "KZ", "bahrain": "BH", "oman": "OM",
    "jordan": "JO", "sri lanka": "LK", "bangladesh": "BD", "morocco": "MA",
    "germany": "DE", "france": "FR", "italy": "IT", "spain": "ES", "netherlands": "NL",
    "belgium": "BE", "austria": "AT", "portugal": "PT", "ireland": "IE", "finland": "FI",
    "greece": "GR", "slovakia": "SK", "slovenia": "SI", "lithuania": "LT",
    "latvia": "LV", "estonia": "EE", "luxembourg": "LU", "malta": "MT", "cyprus": "CY",
    "croatia": "HR", "serbia": "RS", "iran": "IR", "iraq": "IQ", "venezuela": "VE",
    "world": GLOBAL, "global": GLOBAL, "all": GLOBAL,
}  # fmt: skip


def country_from_currency(code: str) -> str | None:
    """ISO country for a currency code ("USD" -> "US", "EUR" -> "EU", "All" -> "WW")."""
    code = clean_text(code).upper()
    if code == "ALL":
        return GLOBAL
    return CURRENCY_COUNTRY.get(code)


def country_from_name(name: str) -> str | None:
    """ISO country for a printed name ("Euro Zone" -> "EU"; "United_States" -> "US")."""
    key = clean_text(name.replace("_", " ")).lower()
    return COUNTRY_NAMES.get(key)


def currency_for_country(country: str) -> str:
    """The currency a country's releases are denominated in, "" when unknown or global."""
    return COUNTRY_CURRENCY.get(country, "")


# IMPORTANCE AND KIND
# ------------------------------------------------------------------------------

_IMPORTANCE_WORDS = {
    "low": Importance.LOW, "medium": Importance.MEDIUM, "moderate": Importance.MEDIUM,
    "high": Importance.HIGH, "1": Importance.LOW, "2": Importance.MEDIUM,
    "3": Importance.HIGH, "bull1": Importance.LOW, "bull2": Importance.MEDIUM,
    "bull3": Importance.HIGH, "yel": Importance.LOW, "ora": Importance.MEDIUM,
    "red": Importance.HIGH,
}  # fmt: skip
_HOLIDAY_WORDS = {"holiday", "non-economic", "gra", "none", ""}


def importance_from_label(label: str | int | None) -> int | None:
    """1-3 from what sources print ("High", "bull3", "3", 3, "ora"); None for holidays.

    Raises ValueError for anything else, so a changed page is noticed, not guessed.
    """
    if label is None:
        return None
    if isinstance(label, int) and not isinstance(label, bool):
        if label in (1, 2, 3):
            return label
        raise ValueError(f"importance {label!r} is not 1, 2 or 3")
    key = clean_text(str(label)).lower()
    key = key.removesuffix(" impact expected").removesuffix(" volatility expected")
    if key in _IMPORTANCE_WORDS:
        return int(_IMPORTANCE_WORDS[key])
    if key in _HOLIDAY_WORDS:
        return None
    raise ValueError(f"unknown importance {label!r}")


_SPEECH = re.compile(r"\b(speaks|speech|testifies|testimony|press conference)\b", re.I)
_HOLIDAY = re.compile(r"\b(holiday|daylight saving time shift)\b", re.I)


def infer_kind(name: str, *, holiday: bool = False) -> str:
    """Release, speech or holiday from the source's holiday flag and the event name."""
    if holiday or _HOLIDAY.search(name):
        return EventKind.HOLIDAY
    if _SPEECH.search(name):
        return EventKind.SPEECH
    return EventKind.RELEASE


# CATEGORY
# ------------------------------------------------------------------------------

# Investing.com's calendar categories, the one vocabulary a source publishes for every
# country. Only its AJAX answer to a category-filtered request and TradingEconomics
# say which category an event is in; ForexFactory, FRED and Investing's page do not,
# so the category comes from the name. First match wins: "Fed Chair Speaks" is
# Central Banks before anything else, "ISM Manufacturing Prices" Inflation before
# Economic Activity, "Average Hourly Earnings" Employment before Inflation.
_CATEGORY_RULES = [
    ("Central Banks", r"\b(fomc|ecb|boe|boj|rba|rbnz|boc|snb|mpc|federal reserve|federal funds|gov council|governor|fed chair|monetary policy|interest rate|policy rate|cash rate|bank rate|loan prime rate|sofr|sonia|overnight|short term rate|reserve balances|balance sheet|beige book|open market|buba|bank of japan|monetary base)\b"),
    ("Bonds", r"\b(auction|bonds?|bonos|obligacion|oat|bund|gilt|btp|treasury inflation|yield|commercial paper)\b"),
    ("Employment", r"\b(payrolls?|non-?farm employment|employment|unemployment|jobless|claims|jobs?|job cuts|claimant|jolts|labou?r|earnings|wages?|wage|adp|overtime pay)\b"),
    ("Inflation", r"\b(cpi|ppi|pce|hicp|rpi|ippi|rmpi|inflation|prices?|price index|hpi|deflator)\b"),
    ("Confidence Index", r"\b(confidence|sentiment|zew|ifo|gfk|optimism|expectations|uncertainty|tankan)\b"),
    ("Balance", r"\b(trade balance|current account|budget|balance|borrowing|exports|imports|trade index|tic|foreign securities|reserves|foreign direct investment)\b"),
    ("Credit", r"\b(credit|lending|loans?|mortgage|money supply|m[1-4])\b"),
    ("Economic Activity", r"\b(gdp|pmi|production|manufacturing|retail sales|spending|orders|housing|home sales|building|construction|capacity utilization|productivity|industrial|activity|inventories|investment|registrations?|vehicle sales|leading ind|services index|operating profits|capital spending|household)\b"),
]  # fmt: skip
_CATEGORIES = [(name, re.compile(pattern, re.I)) for name, pattern in _CATEGORY_RULES]


def infer_category(name: str, kind: str = EventKind.RELEASE) -> str:
    """The Investing.com category an event's name places it in; "" when none fits
    (and for holidays, which are no indicator)."""
    if kind == EventKind.HOLIDAY:
        return ""
    for category, pattern in _CATEGORIES:
        if pattern.search(name):
            return category
    return ""


# NAMES AND PERIODS
# ------------------------------------------------------------------------------

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# "(Jun)", "(Jun/26)", "(Q1)", "(Q1 2026)", "(H2)", "(2026)" at the end of a name;
# "(MoM)", "(YoY)" are part of the indicator's name and stay.
_PERIOD = re.compile(
    rf"\s*\((?P<period>(?:{_MONTHS})(?:\s*/?\s*'?\d{{2,4}})?|[QH][1-4](?:\s*/?\s*'?\d{{2,4}})?|\d{{4}})\)\s*$"
)


def split_reference_period(name: str) -> tuple[str, str]:
    """("Nonfarm Payrolls (Jun)") -> ("Nonfarm Payrolls", "Jun")."""
    name = clean_text(name)
    match = _PERIOD.search(name)
    if match is None:
        return name, ""
    return name[: match.start()].rstrip(), match["period"]


# TIME
# ------------------------------------------------------------------------------


def to_utc(local: datetime, zone: str | ZoneInfo) -> datetime:
    """Wall-clock ``local`` (naive) in IANA ``zone`` -> aware UTC, DST-correct.

    An already-aware datetime is just converted. Ambiguous wall times (the repeated
    hour when clocks go back) take the first occurrence, as zoneinfo's fold=0 does.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    tz = zone if isinstance(zone, ZoneInfo) else lookup_zone(zone)
    return local.replace(tzinfo=tz).astimezone(UTC)
