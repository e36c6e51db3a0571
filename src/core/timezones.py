"""IANA time zones by name: the one lookup for the API's ``tz``, the sources' zones and
the scheduler's display zone."""

from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def lookup_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ValueError naming it when there is none.

    Names are checked against the zone list before ZoneInfo sees them: ZoneInfo turns
    a key into a file path, and odd keys fail with OSError (too long, a directory).
    """
    if name not in _zone_names():
        raise ValueError(
            f"Unknown time zone {name!r}; use an IANA name such as Asia/Seoul."
        )
    return ZoneInfo(name)
