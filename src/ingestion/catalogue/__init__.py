"""The curated indicator catalogue: data files beside this module, read and checked here.

One YAML file per country (``us.yaml``, ``eu.yaml`` ...) lists that country's indicators
and how each source names them, and the release-level entries (a FRED release that
announces several indicators at once). ``docs/data-model.md`` ("Extending the
catalogue") is the maintainer's guide; ``load_catalogue()`` refuses a file that breaks a
rule, naming the file, the entry and the rule, so a mistake never reaches the database.

Nothing here touches the database: ``ingestion.indicators`` syncs a loaded catalogue into
``core.Indicator`` / ``core.IndicatorAlias`` rows and matches source rows against it.
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.countries import is_known_country
from core.models import EventKind, IndicatorCategory, IndicatorFrequency

CATALOGUE_DIR = Path(__file__).resolve().parent
# libyaml's safe loader when PyYAML was built with it (ten times faster), else PyYAML's.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ID_PATTERN = re.compile(r"^[a-z]{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")
SCALES = ("", "K", "M", "B", "T")
# How each source keys its rows in ``aliases``: by the name it prints (scoped to the
# indicator's country) or by its own id of the event type (``source_event_id``).
ALIAS_KEYS = {
    "forexfactory": "name",
    "investing": "event_id",
    "tradingeconomics": "event_id",
    "fred": "event_id",
}
_INDICATOR_KEYS = {
    "id", "name", "category", "frequency", "unit", "scale", "higher_is_better",
    "kind", "importance", "aliases", "official", "description",
}  # fmt: skip
_RELEASE_KEYS = {"source", "key", "name", "indicators"}


class CatalogueError(ValueError):
    """A catalogue file breaks a rule; the message names the file and the entry."""


@dataclass(frozen=True)
class IndicatorEntry:
    id: str
    country: str
    currency: str
    name: str
    category: str
    frequency: str
    unit: str
    scale: str = ""
    higher_is_better: bool | None = None
    kind: str = EventKind.RELEASE
    importance: int | None = None
    description: str = ""
    # {source slug: (key, ...)}: names or event ids, as ALIAS_KEYS says per source.
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Official series specs (issue 13), kept as read; ingestion.official validates them.
    official: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ReleaseEntry:
    """A release-level source row (FRED's "Employment Situation") and what it announces."""

    source: str
    key: str
    country: str
    name: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    indicators: tuple[IndicatorEntry, ...]
    releases: tuple[ReleaseEntry, ...]
    version: str  # sha256 of the files, to tell when the database needs a re-sync

    def by_id(self) -> dict[str, IndicatorEntry]:
        return {entry.id: entry for entry in self.indicators}

    def lookup(
        self, source: str, country: str, name: str, event_id: str = ""
    ) -> IndicatorEntry | None:
        """The catalogued indicator a source row names, or None.

        First the source's own alias: its event id for a source keyed by id
        (``ALIAS_KEYS``), then the row's normalised name among the canonical names and
        name aliases of ``country``'s indicators. The name step also places a row whose
        id is not catalogued yet (an Investing "Unemployment Rate" with a new id). Both
        steps are unambiguous: ``load_catalogue()`` refuses a key shared by two
        indicators.
        """
        by_event_id, by_name = self._indexes
        if event_id and ALIAS_KEYS.get(source) == "event_id":
            entry = by_event_id.get((source, event_id))
            if entry is not None:
                return entry
        return by_name.get((country, normalise_name(name)))

    @cached_property
    def _indexes(self) -> tuple[dict[tuple[str, str], IndicatorEntry], ...]:
        """({(source, event id): entry}, {(country, normalised name): entry})."""
        by_event_id = {}
        by_name = {}
        for entry in self.indicators:
            for key in _name_keys(entry):
                by_name[(entry.country, key)] = entry
            for source, keys in entry.aliases.items():
                if ALIAS_KEYS[source] == "event_id":
                    for key in keys:
                        by_event_id[(source, key)] = entry
        return by_event_id, by_name


# NAMES
# ------------------------------------------------------------------------------

# Spellings of the same thing across sources: "y/y" (ForexFactory), "(YoY)" (Investing).
_PERIOD_WORDS = (
    (re.compile(r"\(?\b(?:y/y|yoy)\b\)?"), " yoy "),
    (re.compile(r"\(?\b(?:m/m|mom)\b\)?"), " mom "),
    (re.compile(r"\(?\b(?:q/q|qoq)\b\)?"), " qoq "),
    (re.compile(r"\(?\b(?:w/w|wow)\b\)?"), " wow "),
)
# Release stages: one indicator, printed first as a flash or preliminary estimate and
# later revised; each stage is its own occurrence (another date), not another indicator.
_STAGE = re.compile(
    r"^(?:flash|prelim|preliminary|advance|adv|revised|final|second estimate|third estimate)\s+"
)
# The country a name starts with is the row's country already: ForexFactory lists
# "German Flash Manufacturing PMI" under EUR where Investing says "Manufacturing PMI".
_DEMONYM = re.compile(
    r"^(?:german|french|italian|spanish|euro ?zone|euro area|eu|uk|british|us|"
    r"japanese|chinese|canadian|australian|swiss|new zealand|nz)\s+"
)
_NON_WORD = re.compile(r"[^a-z0-9%]+")


@lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """The matching key of an event name: case, punctuation, period and stage words
    folded, so "Challenger Job Cuts y/y" and "Challenger Job Cuts (YoY)" meet, and
    "Revised Nonfarm Productivity q/q" meets "Nonfarm Productivity (QoQ)". The level
    ("Challenger Job Cuts") keeps its own key: nothing that changes the figure is folded.
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = text.lower().replace("'s ", "s ").replace("&", " and ")
    for pattern, replacement in _PERIOD_WORDS:
        text = pattern.sub(replacement, text)
    text = " ".join(_NON_WORD.sub(" ", text).split())
    return _STAGE.sub("", _DEMONYM.sub("", text))


def slug_for(country: str, name: str) -> str:
    """The id an indicator the catalogue does not know gets: ``us-fomc-member-daly-speaks``."""
    words = normalise_name(name).replace("%", " pct ").split()
    return f"{country.lower()}-{'-'.join(words)}"[:100].rstrip("-")


# LOADING
# ------------------------------------------------------------------------------


@cache
def load_catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    """Every ``*.yaml`` under ``directory``, checked; CatalogueError on the first problem."""
    files = sorted(directory.glob("*.yaml"))
    digest = hashlib.sha256()
    indicators: list[IndicatorEntry] = []
    releases: list[ReleaseEntry] = []
    for path in files:
        text = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + text)
        file_indicators, file_releases = _read_file(path, text)
        indicators += file_indicators
        releases += file_releases
    catalogue = Catalogue(tuple(indicators), tuple(releases), digest.hexdigest())
    _check_whole(catalogue)
    return catalogue


def _read_file(
    path: Path, text: bytes
) -> tuple[list[IndicatorEntry], list[ReleaseEntry]]:
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{path.name}: expected a mapping at the top")
    country = str(data.get("country", ""))
    if not is_known_country(country) or country != country.upper():
        raise CatalogueError(f"{path.name}: country {country!r} is not a known code")
    if path.stem != country.lower():
        raise CatalogueError(
            f"{path.name}: a file holds one country, named {country.lower()}.yaml"
        )
    currency = str(data.get("currency", ""))
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise CatalogueError(f"{path.name}: currency {currency!r} is not ISO 4217")
    indicators = [
        _indicator(path.name, country, currency, index, raw)
        for index, raw in enumerate(data.get("indicators") or [])
    ]
    releases = [
        _release(path.name, country, index, raw)
        for index, raw in enumerate(data.get("releases") or [])
    ]
    return indicators, releases


def _indicator(
    filename: str, country: str, currency: str, index: int, raw: Any
) -> IndicatorEntry:
    where = f"{filename}: indicators[{index}]"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    where = f"{filename}: {raw.get('id', f'indicators[{index}]')}"
    unknown = set(raw) - _INDICATOR_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("id", "name", "category", "frequency", "unit"):
        if not raw.get(key):
            raise CatalogueError(f"{where}: {key} is required")
    entry_id = str(raw["id"])
    if not ID_PATTERN.match(entry_id) or not entry_id.startswith(country.lower() + "-"):
        raise CatalogueError(
            f"{where}: id must be lowercase words joined by '-', starting with '{country.lower()}-'"
        )
    _choice(where, "category", raw["category"], IndicatorCategory.values)
    _choice(where, "frequency", raw["frequency"], IndicatorFrequency.values)
    _choice(where, "scale", raw.get("scale", ""), SCALES)
    _choice(where, "kind", raw.get("kind", EventKind.RELEASE), EventKind.values)
    better = raw.get("higher_is_better")
    if better not in (True, False, None):
        raise CatalogueError(f"{where}: higher_is_better is true, false or left out")
    importance = raw.get("importance")
    if importance not in (None, 1, 2, 3):
        raise CatalogueError(f"{where}: importance is 1, 2 or 3")
    return IndicatorEntry(
        id=entry_id,
        country=country,
        currency=currency,
        name=str(raw["name"]),
        category=raw["category"],
        frequency=raw["frequency"],
        unit=str(raw["unit"]),
        scale=raw.get("scale", ""),
        higher_is_better=better,
        kind=raw.get("kind", EventKind.RELEASE),
        importance=importance,
        description=str(raw.get("description", "")),
        aliases=_aliases(where, raw.get("aliases") or {}),
        official=tuple(raw.get("official") or ()),
    )


def _aliases(where: str, raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise CatalogueError(
            f"{where}: aliases is a mapping of source to a list of keys"
        )
    aliases = {}
    for source, keys in raw.items():
        if source not in ALIAS_KEYS:
            raise CatalogueError(
                f"{where}: aliases for unknown source {source!r} (known: {', '.join(ALIAS_KEYS)})"
            )
        if not isinstance(keys, list) or not keys:
            raise CatalogueError(f"{where}: aliases.{source} is a non-empty list")
        aliases[source] = tuple(str(key) for key in keys)
    return aliases


def _release(filename: str, country: str, index: int, raw: Any) -> ReleaseEntry:
    where = f"{filename}: releases[{index}]"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    unknown = set(raw) - _RELEASE_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = [key for key in sorted(_RELEASE_KEYS) if not raw.get(key)]
    if missing:
        raise CatalogueError(f"{where}: {', '.join(missing)} required")
    if raw["source"] not in ALIAS_KEYS:
        raise CatalogueError(f"{where}: unknown source {raw['source']!r}")
    return ReleaseEntry(
        source=raw["source"],
        key=str(raw["key"]),
        country=country,
        name=str(raw["name"]),
        indicators=tuple(str(slug) for slug in raw["indicators"]),
    )


def _choice(where: str, name: str, value: Any, allowed: Any) -> None:
    if value not in allowed:
        raise CatalogueError(
            f"{where}: {name} {value!r} is not one of {', '.join(map(repr, allowed))}"
        )


def _check_whole(catalogue: Catalogue) -> None:
    """Rules across files: unique ids, one indicator per alias, releases name real ids.

    An entry's file is ``<country>.yaml`` (``_read_file`` holds every file to that), so
    the messages name it although the entries do not carry it.
    """
    ids: set[str] = set()
    names: dict[tuple[str, str], str] = {}
    keys: dict[tuple[str, str], str] = {}
    for entry in catalogue.indicators:
        where = f"{entry.country.lower()}.yaml: {entry.id}"
        if entry.id in ids:
            raise CatalogueError(f"{where}: listed twice")
        ids.add(entry.id)
        for alias in _name_keys(entry):
            other = names.setdefault((entry.country, alias), entry.id)
            if other != entry.id:
                raise CatalogueError(
                    f"{where}: name {alias!r} also matches {other} in {entry.country}"
                )
        for source, source_keys in entry.aliases.items():
            if ALIAS_KEYS[source] != "event_id":
                continue
            for key in source_keys:
                other = keys.setdefault((source, key), entry.id)
                if other != entry.id:
                    raise CatalogueError(
                        f"{where}: {source} id {key} is also {other}'s"
                    )
    for release in catalogue.releases:
        where = (
            f"{release.country.lower()}.yaml: release {release.source}:{release.key}"
        )
        missing = [slug for slug in release.indicators if slug not in ids]
        if missing:
            raise CatalogueError(f"{where}: unknown indicator(s) {', '.join(missing)}")
        if (release.source, release.key) in keys:
            other = keys[(release.source, release.key)]
            raise CatalogueError(f"{where}: the key is also {other}'s")
        keys[(release.source, release.key)] = f"release {release.name}"


def _name_keys(entry: IndicatorEntry) -> set[str]:
    """Normalised names that identify ``entry`` in its country: its own and name aliases."""
    keys = {normalise_name(entry.name)}
    for source, aliases in entry.aliases.items():
        if ALIAS_KEYS[source] == "name":
            keys.update(normalise_name(alias) for alias in aliases)
    return keys
