"""The event names recorded payloads carry, per country, and what the catalogue makes of them.

The maintainer's tool for extending ``src/ingestion/catalogue/`` (docs/data-model.md,
"Extending the catalogue"): every recorded payload is parsed with the project's own
parsers, rows are grouped by country, source and name, and each group is marked with the
indicator ``Catalogue.lookup`` finds, or the FRED release that announces indicators. The
unmatched names, most frequent first, are the ones to add. A coverage summary ends the
output (rows of the twelve headline countries that match; every importance-3 row should).

    .venv/bin/python scripts/catalogue_candidates.py                  # tests/fixtures
    .venv/bin/python scripts/catalogue_candidates.py ../shared/fixtures --country JP --unmatched
"""

import argparse
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script: make src importable and Django ready
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    import django

    django.setup()

from ingestion import SAMPLES_DIR  # noqa: E402
from ingestion.catalogue import ALIAS_KEYS, Catalogue, load_catalogue  # noqa: E402
from ingestion.errors import IngestionError  # noqa: E402
from ingestion.records import EventRecord  # noqa: E402
from ingestion.sources import get_source  # noqa: E402

# Which parser reads each folder of recorded payloads (tests/fixtures/<folder>/*).
FOLDERS = {
    "forexfactory_feed": "forexfactory",
    "forexfactory_html": "forexfactory",
    "investing_ajax": "investing",
    "investing_page": "investing",
    "fred": "fred",
}
HEADLINE_COUNTRIES = ("US", "EU", "DE", "FR", "IT", "GB", "JP", "CA", "AU", "NZ", "CH", "CN")  # fmt: skip


@dataclass
class Candidate:
    """One (country, source, name, key) as recorded, and what the catalogue matches."""

    country: str
    source: str
    name: str
    key: str  # the alias key the source is matched by (ALIAS_KEYS): its id or the name
    match: str  # an indicator id, "release <name>", or "" when nothing matches
    rows: int = 0
    importances: Counter[int] = field(default_factory=Counter)  # rows per level


@dataclass(frozen=True)
class Coverage:
    rows: int
    matched: int
    top_rows: int  # rows rated importance 3
    top_matched: int
    unmatched_top: tuple[Candidate, ...]


def recorded_rows(fixtures: Path) -> Iterator[tuple[str, EventRecord]]:
    """(source, row) for every row every recorded payload under ``fixtures`` parses to,
    and of the bundled samples (stored once, in the package)."""
    payloads = [
        (source, path)
        for folder, source in FOLDERS.items()
        for path in sorted((fixtures / folder).glob("*"))
    ]
    payloads += [
        (folder.name, path)
        for folder in sorted(SAMPLES_DIR.iterdir())
        if folder.is_dir()
        for path in sorted(folder.glob("*"))
    ]
    for source, path in payloads:
        if path.suffix == ".md":
            continue
        try:
            parsed = get_source(source).parse(path.read_bytes())
        except IngestionError:  # a recorded block page: no rows, on purpose
            continue
        for record in parsed.records:
            yield source, record


def candidates(
    rows: Iterable[tuple[str, EventRecord]], catalogue: Catalogue
) -> list[Candidate]:
    """Rows grouped by country, source and alias key, most frequent first."""
    releases = {(r.source, r.key): r for r in catalogue.releases}
    groups: dict[tuple[str, str, str, str], Candidate] = {}
    for source, record in rows:
        by_id = ALIAS_KEYS.get(source) == "event_id" and record.source_event_id
        key = record.source_event_id if by_id else record.event_name
        group = groups.get((record.country, source, record.event_name, key))
        if group is None:
            entry = catalogue.lookup(
                source, record.country, record.event_name, record.source_event_id
            )
            release = releases.get((source, record.source_event_id))
            match = entry.id if entry else f"release {release.name}" if release else ""
            group = Candidate(record.country, source, record.event_name, key, match)
            groups[(record.country, source, record.event_name, key)] = group
        group.rows += 1
        if record.importance is not None:
            group.importances[record.importance] += 1
    return sorted(groups.values(), key=lambda c: (c.country, -c.rows, c.name))


def coverage(found: Iterable[Candidate], countries: Iterable[str]) -> Coverage:
    """How many rows of ``countries`` match, overall and among importance-3 rows."""
    wanted = set(countries)
    found = [c for c in found if c.country in wanted]
    top = [c for c in found if c.importances[3]]
    return Coverage(
        rows=sum(c.rows for c in found),
        matched=sum(c.rows for c in found if c.match),
        top_rows=sum(c.importances[3] for c in top),
        top_matched=sum(c.importances[3] for c in top if c.match),
        unmatched_top=tuple(c for c in top if not c.match),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "fixtures", nargs="?", type=Path, default=ROOT / "tests/fixtures"
    )
    parser.add_argument("--country", help="only this country (US, EU, DE...)")
    parser.add_argument("--unmatched", action="store_true", help="only unmatched names")
    args = parser.parse_args(argv)
    found = candidates(recorded_rows(args.fixtures), load_catalogue())
    for c in found:
        if (args.country and c.country != args.country.upper()) or (
            args.unmatched and c.match
        ):
            continue
        stars = ",".join(map(str, sorted(c.importances))) or "-"
        name = c.name if c.key == c.name else f"{c.name} [{c.key}]"
        print(c.country, c.rows, stars, c.source, name, c.match or "-", sep="\t")
    cover = coverage(found, HEADLINE_COUNTRIES)
    print(
        f"\n{' '.join(HEADLINE_COUNTRIES)}: {cover.matched}/{cover.rows} rows match "
        f"({cover.matched / max(cover.rows, 1):.1%}); importance 3: "
        f"{cover.top_matched}/{cover.top_rows}",
        file=sys.stderr,
    )
    for c in cover.unmatched_top:
        print(
            f"  unmatched importance 3: {c.country} {c.source} {c.name}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
