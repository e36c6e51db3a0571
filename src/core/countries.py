"""Country and currency codes: ISO 3166-1 alpha-2 with names, the two codes calendars
need beyond ISO, and the shape of an ISO 4217 currency code."""

import re

from iso3166 import countries_by_alpha2

# Not ISO 3166 countries, but what calendars publish for: the euro area (ECB, Eurostat)
# and global events (G7/G20 and OPEC meetings).
EURO_AREA = "EU"
GLOBAL = "WW"
EXTRA = {EURO_AREA: "Euro Area", GLOBAL: "Global"}
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# ISO's official names are long; calendars and menus use these.
SHORT_NAMES = {
    "US": "United States", "GB": "United Kingdom", "KR": "South Korea", "RU": "Russia",
    "TW": "Taiwan", "VN": "Vietnam", "IR": "Iran", "BO": "Bolivia", "VE": "Venezuela",
    "TZ": "Tanzania", "MD": "Moldova", "SY": "Syria", "LA": "Laos", "KP": "North Korea",
    "CZ": "Czechia", "TR": "Türkiye",
}  # fmt: skip


def country_name(code: str) -> str | None:
    """English short name for an alpha-2 code (or EU/WW); None when unknown."""
    code = code.upper()
    if code in EXTRA:
        return EXTRA[code]
    if code in SHORT_NAMES:
        return SHORT_NAMES[code]
    country = countries_by_alpha2.get(code)
    return country.apolitical_name if country else None


def is_known_country(code: str) -> bool:
    return country_name(code) is not None


def is_currency_code(code: str) -> bool:
    """True for three capital letters, the shape of an ISO 4217 code ("USD")."""
    return _CURRENCY_CODE.fullmatch(code) is not None
