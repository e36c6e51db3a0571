"""History from the agencies: what ``manage.py backfill`` fetches, in which runs.

A backfill of indicators over reference periods ``--from``..``--to`` is a list of
``Chunk`` runs, each one ``run_ingest`` of an agency's source in history mode (one
``IngestionRun`` with trigger ``backfill``, one transaction): a source and its
indicators over a span of years that one request per series can carry. Per indicator:

* with ``FRED_API_KEY`` and a FRED series: ALFRED vintages, so first prints, with their
  revisions dated by vintage;
* otherwise the agency's own series (BLS, the ECB): its current values, stored as
  ``revised`` with ``actual`` empty, since they are not first prints
  (``ingestion.official.build``); an indicator whose only series is on FRED is left
  out, saying why.

Resuming: the writes are idempotent (one row per indicator and period), and a
checkpoint file lists the chunks done, so a second run after an interruption skips them
(and spends no quota on them). The file is removed once every chunk is done.
"""

import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import requests
from django.conf import settings

from core.models import IngestionRun
from ingestion.catalogue import load_catalogue
from ingestion.errors import IngestionError
from ingestion.http import build_session
from ingestion.official.bls_schedule import parse_calendar
from ingestion.official.build import History
from ingestion.official.endpoints import fred_api_key
from ingestion.official.series import official_series
from ingestion.official.source import OfficialSource
from ingestion.records import DateWindow
from ingestion.services import run_ingest
from ingestion.sources import get_source

logger = logging.getLogger(__name__)

BLS_SCHEDULE_URL = "https://www.bls.gov/schedule/news_release/bls.ics"


class BackfillError(ValueError):
    """A backfill cannot be planned; the message is one readable line."""


@dataclass(frozen=True)
class Chunk:
    source: str
    indicators: tuple[str, ...]
    window: DateWindow

    @property
    def key(self) -> str:
        return f"{self.source}:{','.join(self.indicators)}:{self.window}"


@dataclass
class Plan:
    chunks: list[Chunk] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # indicators left out, and why


@dataclass
class Outcome:
    runs: list[IngestionRun] = field(default_factory=list)
    resumed: int = 0  # chunks a checkpoint said were done

    def total(self, name: str) -> int:
        return sum(getattr(run, name) for run in self.runs)


def indicators_for(target: str) -> list[str]:
    """The indicators ``target`` names: one indicator id, or a country code (``US``,
    ``EU``) for all of that country's indicators with an official series.

    Raises BackfillError naming what is known.
    """
    official = official_series()
    if target in official:
        return [target]
    entries = load_catalogue().by_id()
    if target in entries:
        raise BackfillError(
            f"{target} has no official series (indicators with one: "
            f"{', '.join(sorted(official))})"
        )
    country = target.upper()
    found = sorted(slug for slug in official if entries[slug].country == country)
    if not found:
        countries = sorted({entries[slug].country for slug in official})
        raise BackfillError(
            f"{target!r} is neither an indicator with an official series nor a "
            f"country with one ({', '.join(countries)}; e.g. us-nonfarm-payrolls)"
        )
    return found


def plan(indicators: Sequence[str], window: DateWindow) -> Plan:
    """The chunks that backfill ``indicators`` over ``window``; see the module."""
    result = Plan()
    by_source: dict[str, list[str]] = defaultdict(list)
    keyed = bool(fred_api_key())
    for slug in indicators:
        agencies = [spec.agency for spec in official_series()[slug]]
        if keyed and "fred" in agencies:
            by_source["fred"].append(slug)
        elif own := [agency for agency in agencies if agency != "fred"]:
            by_source[own[0]].append(slug)
        else:
            result.notes.append(
                f"{slug} left out: its series is on FRED, which needs FRED_API_KEY"
            )
    for source, slugs in sorted(by_source.items()):
        years = _source(source).history_years()
        for chunk in _year_spans(window, years):
            result.chunks.append(Chunk(source, tuple(slugs), chunk))
    return result


def run(
    backfill: Plan,
    *,
    checkpoint: Path,
    progress: Callable[[int, int], None] | None = None,
    http: requests.Session | None = None,
) -> Outcome:
    """Run the chunks of ``backfill`` not yet in ``checkpoint``; each chunk is
    written as soon as its run succeeds. Raises IngestionError (the checkpoint kept)."""
    done = _read_checkpoint(checkpoint)
    outcome = Outcome()
    session = http or build_session()
    schedule: dict[str, tuple] | None = None
    for index, chunk in enumerate(backfill.chunks, start=1):
        if chunk.key in done:
            outcome.resumed += 1
        else:
            if chunk.source == "bls" and schedule is None:
                schedule = bls_schedule(session)
            history = History(
                chunk.indicators,
                chunk.window.start,
                chunk.window.end,
                schedule if chunk.source == "bls" and schedule else {},
            )
            source = type(_source(chunk.source))(history=history)
            outcome.runs.append(
                run_ingest(
                    source,
                    window=chunk.window,
                    http=session,
                    trigger=IngestionRun.Trigger.BACKFILL,
                )
            )
            done.add(chunk.key)
            _write_checkpoint(checkpoint, done)
        if progress:
            progress(index, len(backfill.chunks))
    checkpoint.unlink(missing_ok=True)
    return outcome


def bls_schedule(http: requests.Session) -> dict[str, tuple]:
    """BLS's release schedule (about two years), by release name; empty, with a
    warning, when it cannot be fetched: history is then dated from the calendars."""
    try:
        response = http.get(BLS_SCHEDULE_URL)
        response.raise_for_status()
        releases = parse_calendar(response.content).releases
    except (requests.RequestException, IngestionError) as exc:
        logger.warning("bls schedule not fetched: %s", exc)
        return {}
    schedule: dict[str, list] = defaultdict(list)
    for release in releases:
        schedule[release.name].append(release.at)
    return {name: tuple(times) for name, times in schedule.items()}


def default_checkpoint(target: str, window: DateWindow) -> Path:
    """Where a backfill of ``target`` over ``window`` keeps its progress: var/."""
    name = f"backfill-{target.lower()}-{window.start}-{window.end}.json"
    return Path(settings.BASE_DIR) / "var" / name


def _source(name: str) -> OfficialSource:
    source = get_source(name)
    assert isinstance(source, OfficialSource)
    return source


def _year_spans(window: DateWindow, years: int) -> list[DateWindow]:
    spans = []
    start = window.start
    while start <= window.end:
        last = min(date(start.year + years - 1, 12, 31), window.end)
        spans.append(DateWindow(start, last))
        start = date(last.year + 1, 1, 1)
    return spans


def _read_checkpoint(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError) as exc:
        raise IngestionError(f"checkpoint {path} is unreadable: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("done"), list):
        raise IngestionError(f"checkpoint {path} is not a backfill checkpoint")
    return {str(key) for key in data["done"]}


def _write_checkpoint(path: Path, done: set[str]) -> None:
    """Replace the file atomically: an interruption never leaves half a checkpoint."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps({"done": sorted(done)}), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise IngestionError(f"cannot write checkpoint {path}: {exc}") from None
