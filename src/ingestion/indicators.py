"""Which indicator a source row is: the catalogue in the database, and the resolver.

``sync_catalogue()`` mirrors the data files (``ingestion/catalogue/*.yaml``) into
``Indicator`` / ``IndicatorAlias`` rows, writing only what differs; every ingest run calls
it, so a new catalogue takes effect with the next crawl (and ``manage.py rematch`` applies
it to stored rows at once).

``IndicatorResolver.resolve()`` answers, for one row, in this order:

0. the indicator the row names itself (an agency's row: ``EventRecord.indicator``, kept
   in its key ``us-cpi-mom:2026-05``), never a name match;
1. the source's own alias: its event-type id (Investing, TradingEconomics, a FRED
   release) or the name it prints, in the row's country (ForexFactory);
2. any catalogued indicator of the row's country whose name, or a name alias, normalises
   to the row's name (``catalogue.normalise_name``);
3. otherwise an indicator of its own, keyed on country and normalised name
   (``catalogued`` false), created on first sight, so history works for every row.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from core.models import (
    EventKind,
    Indicator,
    IndicatorAlias,
    IndicatorCategory,
    IndicatorFrequency,
)
from core.sources import keeps_first_print
from ingestion.catalogue import (
    ALIAS_KEYS,
    Catalogue,
    IndicatorEntry,
    ReleaseEntry,
    load_catalogue,
    normalise_name,
    slug_for,
)
from ingestion.errors import IngestionError

_CATEGORY_BY_KIND = {
    EventKind.SPEECH: IndicatorCategory.SPEECHES,
    EventKind.HOLIDAY: IndicatorCategory.HOLIDAYS,
}
# A row's own category (Investing's vocabulary, which normalise.infer_category also
# uses) -> the indicator categories, for indicators the catalogue does not know.
_CATEGORY_BY_SOURCE_CATEGORY = {
    "central banks": IndicatorCategory.RATES,
    "bonds": IndicatorCategory.AUCTIONS,
    "employment": IndicatorCategory.EMPLOYMENT,
    "inflation": IndicatorCategory.INFLATION,
    "confidence index": IndicatorCategory.SENTIMENT,
    "balance": IndicatorCategory.TRADE,
    "economic activity": IndicatorCategory.GROWTH,
    "credit": IndicatorCategory.OTHER,
}
# Indicator columns the catalogue owns (kept in step with the data files).
_CATALOGUE_FIELDS = (
    "country", "currency", "name", "category", "frequency", "kind", "unit", "scale",
    "higher_is_better", "importance", "description",
)  # fmt: skip


def alias_key(source: str, country: str, key: str) -> str:
    """How ``IndicatorAlias.key`` spells a source's key: ids as they are, names scoped
    to their country and normalised (``US:unemployment claims``)."""
    if ALIAS_KEYS.get(source, "name") == "event_id":
        return key
    return f"{country}:{normalise_name(key)}"


@dataclass(frozen=True)
class RowKey:
    """What the resolver reads of a row."""

    source: str
    country: str
    event_name: str
    source_event_id: str = ""
    kind: str = EventKind.RELEASE
    currency: str = ""
    category: str = ""
    indicator: str = ""  # named by the row itself (the agencies)

    @classmethod
    def of(cls, source: str, row: object) -> "RowKey":
        """The key of ``row``: a stored row's ``.values()`` dict (with its
        ``external_id``), or a record."""
        if isinstance(row, dict):
            named = indicator_named_by(source, row["external_id"])
            return cls(source, *(row[name] for name in ROW_KEY_FIELDS), indicator=named)
        values = (getattr(row, name) for name in ROW_KEY_FIELDS)
        return cls(source, *values, indicator=row.indicator)


# What the resolver reads of a row, after the source.
ROW_KEY_FIELDS = (
    "country", "event_name", "source_event_id", "kind", "currency", "category",
)  # fmt: skip


def official_key(indicator: str, period: str) -> str:
    """The ``external_id`` of an agency's row: one per indicator and reference period
    (``us-nonfarm-payrolls:2026-05``)."""
    return f"{indicator}:{period}"


def indicator_named_by(source: str, external_id: str) -> str:
    """The indicator an agency's row names in its key (``official_key``), else ""."""
    if not keeps_first_print(source):
        return ""
    slug, separator, _ = external_id.partition(":")
    return slug if separator else ""


# SYNC
# ------------------------------------------------------------------------------


def sync_catalogue(catalogue: Catalogue | None = None) -> bool:
    """Make the catalogued indicators and aliases in the database match the files.

    Returns True when anything changed (stored rows may then need ``rematch``). Aliases
    of indicators no longer in the files are removed; the indicators stay (rows point
    at them) but are marked not catalogued.
    """
    catalogue = catalogue or load_catalogue()
    wanted = _wanted_indicators(catalogue)
    stored = {indicator.id: indicator for indicator in Indicator.objects.all()}
    changed = _sync_indicators(wanted, stored)
    changed |= _sync_aliases(_wanted_aliases(catalogue))
    changed |= _sync_announces(catalogue)
    return changed


def _wanted_indicators(catalogue: Catalogue) -> dict[str, dict]:
    wanted = {entry.id: _fields(entry) for entry in catalogue.indicators}
    for release in catalogue.releases:
        wanted.setdefault(release_indicator_id(release), _release_fields(release))
    return wanted


def release_indicator_id(release: ReleaseEntry) -> str:
    return slug_for(release.country, release.name)


def _fields(entry: IndicatorEntry) -> dict:
    return {name: getattr(entry, name) for name in _CATALOGUE_FIELDS}


def _release_fields(release: ReleaseEntry) -> dict:
    return {
        "country": release.country,
        "currency": "",
        "name": release.name,
        "category": IndicatorCategory.OTHER,
        "frequency": IndicatorFrequency.IRREGULAR,
        "kind": EventKind.RELEASE,
        "unit": "",
        "scale": "",
        "higher_is_better": None,
        "importance": None,
        "description": f"A release announcing {', '.join(release.indicators)}.",
    }


def _sync_indicators(wanted: dict[str, dict], stored: dict[str, Indicator]) -> bool:
    create, update = [], []
    for slug, fields in wanted.items():
        indicator = stored.get(slug)
        if indicator is None:
            create.append(Indicator(id=slug, catalogued=True, **fields))
        elif not indicator.catalogued or any(
            getattr(indicator, name) != value for name, value in fields.items()
        ):
            for name, value in fields.items():
                setattr(indicator, name, value)
            indicator.catalogued = True
            update.append(indicator)
    dropped = [
        indicator
        for slug, indicator in stored.items()
        if indicator.catalogued and slug not in wanted
    ]
    for indicator in dropped:
        indicator.catalogued = False
    Indicator.objects.bulk_create(create)
    Indicator.objects.bulk_update(
        update + dropped, [*_CATALOGUE_FIELDS, "catalogued", "updated_at"]
    )
    return bool(create or update or dropped)


def _wanted_aliases(catalogue: Catalogue) -> dict[tuple[str, str], tuple[str, str]]:
    """{(source, key): (indicator id, name as printed)} of every catalogued alias."""
    wanted = {}
    for entry in catalogue.indicators:
        for source, keys in entry.aliases.items():
            for key in keys:
                wanted[(source, alias_key(source, entry.country, key))] = (
                    entry.id,
                    key if ALIAS_KEYS[source] == "name" else "",
                )
    for release in catalogue.releases:
        key = alias_key(release.source, release.country, release.key)
        wanted[(release.source, key)] = (release_indicator_id(release), release.name)
    return wanted


def _sync_aliases(wanted: dict[tuple[str, str], tuple[str, str]]) -> bool:
    stored = {
        (alias.source, alias.key): alias for alias in IndicatorAlias.objects.all()
    }
    stale = [alias.pk for key, alias in stored.items() if key not in wanted]
    create, update = [], []
    for (source, key), (slug, name) in wanted.items():
        alias = stored.get((source, key))
        if alias is None:
            create.append(
                IndicatorAlias(indicator_id=slug, source=source, key=key, name=name)
            )
        elif (alias.indicator_id, alias.name) != (slug, name):
            alias.indicator_id, alias.name = slug, name
            update.append(alias)
    IndicatorAlias.objects.filter(pk__in=stale).delete()
    IndicatorAlias.objects.bulk_create(create)
    IndicatorAlias.objects.bulk_update(update, ["indicator", "name"])
    return bool(stale or create or update)


def _sync_announces(catalogue: Catalogue) -> bool:
    through = Indicator.announces.through
    wanted = {
        (release_indicator_id(release), slug)
        for release in catalogue.releases
        for slug in release.indicators
    }
    stored = set(through.objects.values_list("from_indicator_id", "to_indicator_id"))
    for pair in stored - wanted:
        through.objects.filter(
            from_indicator_id=pair[0], to_indicator_id=pair[1]
        ).delete()
    through.objects.bulk_create(
        [through(from_indicator_id=a, to_indicator_id=b) for a, b in wanted - stored]
    )
    return stored != wanted


# RESOLVING
# ------------------------------------------------------------------------------


class IndicatorResolver:
    """Resolves rows to indicator ids; builds its indexes once from the database.

    Use one per write transaction (after ``sync_catalogue``): indicators it has to
    create are collected and written by ``save_new()``, which must run before rows
    pointing at them are written.
    """

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._by_name: dict[tuple[str, str], str] = {}
        aliases = IndicatorAlias.objects.values_list(
            "source", "key", "indicator_id", "indicator__country"
        )
        for source, key, slug, country in aliases:
            self._by_key[(source, key)] = slug
            if ALIAS_KEYS.get(source, "name") == "name":
                self._by_name.setdefault((country, key.split(":", 1)[1]), slug)
        for slug, country, name in Indicator.objects.filter(
            catalogued=True
        ).values_list("id", "country", "name"):
            self._by_name.setdefault((country, normalise_name(name)), slug)
        self._known = set(Indicator.objects.values_list("id", flat=True))
        self._resolved: dict[RowKey, str] = {}
        self._new: list[Indicator] = []

    def resolve(self, row: RowKey) -> str:
        """The id of ``row``'s indicator, creating an uncatalogued one if need be.

        Raises IngestionError when the row names an indicator that does not exist.
        """
        if row.indicator:
            if row.indicator not in self._known:
                raise IngestionError(
                    f"{row.source}: a row names indicator {row.indicator!r}, which "
                    "is not in the catalogue"
                )
            return row.indicator
        slug = self._resolved.get(row)
        if slug is not None:
            return slug
        slug = self.lookup(row)
        if slug is None:
            slug = slug_for(row.country, row.event_name)
            if slug not in self._known:
                self._create(slug, row)
        self._resolved[row] = slug
        return slug

    def lookup(self, row: RowKey) -> str | None:
        """The catalogued (or already known) indicator of ``row``, without creating one."""
        if ALIAS_KEYS.get(row.source) == "event_id":
            slug = self._by_key.get((row.source, row.source_event_id))
        else:
            slug = self._by_key.get(
                (row.source, alias_key(row.source, row.country, row.event_name))
            )
        return slug or self._by_name.get((row.country, normalise_name(row.event_name)))

    def save_new(self) -> int:
        """Write the indicators created since the last call; returns how many."""
        new, self._new = self._new, []
        Indicator.objects.bulk_create(new, batch_size=1000)
        return len(new)

    def _create(self, slug: str, row: RowKey) -> None:
        self._new.append(
            Indicator(
                id=slug,
                country=row.country,
                currency=row.currency,
                name=row.event_name,
                category=_CATEGORY_BY_KIND.get(row.kind)
                or _CATEGORY_BY_SOURCE_CATEGORY.get(row.category.lower())
                or IndicatorCategory.OTHER,
                kind=row.kind,
                catalogued=False,
            )
        )
        self._known.add(slug)


def announced_by(indicator_ids: Iterable[str]) -> dict[str, set[str]]:
    """{release indicator id: the ids it announces}, for releases touching ``indicator_ids``."""
    ids = set(indicator_ids)
    through = Indicator.announces.through
    pairs = through.objects.filter(from_indicator_id__in=ids) | through.objects.filter(
        to_indicator_id__in=ids
    )
    releases: dict[str, set[str]] = defaultdict(set)
    for release, announced in pairs.values_list("from_indicator_id", "to_indicator_id"):
        releases[release].add(announced)
    # A release found through one announced indicator: all of its indicators matter.
    extra = through.objects.filter(from_indicator_id__in=list(releases)).values_list(
        "from_indicator_id", "to_indicator_id"
    )
    for release, announced in extra:
        releases[release].add(announced)
    return dict(releases)
