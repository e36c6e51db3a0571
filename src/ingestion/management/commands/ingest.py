"""python manage.py ingest SOURCE [--from D] [--to D] [--file PATH ... [--series ID]]
[--dry-run]"""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import IngestionRun
from core.sources import source_class
from ingestion.errors import IngestionError
from ingestion.management.progress import progress_bar
from ingestion.records import DateWindow
from ingestion.services import ingest_source


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Crawl one source over a date range, or replay recorded payloads with --file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="Source slug, e.g. forexfactory.")
        parser.add_argument("--from", dest="start", help="First UTC day (YYYY-MM-DD).")
        parser.add_argument(
            "--to", dest="end", help="Last UTC day, inclusive (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--file",
            dest="files",
            action="append",
            metavar="PATH",
            help="Replay a recorded payload instead of fetching (repeatable).",
        )
        parser.add_argument(
            "--series",
            default="",
            metavar="ID",
            help="The series a replayed body holds when it does not say (FRED "
            "series/observations).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and compare, write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["source"]
        try:
            source_class(name)
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        window = self.window(options["start"], options["end"])
        files = options["files"]
        if files and window:
            raise CommandError(
                "--file replays recorded payloads; it takes no --from/--to"
            )
        if options["series"] and not files:
            raise CommandError("--series names the series of a --file; give one")
        try:
            with progress_bar() as progress:
                run = ingest_source(
                    name,
                    window=window,
                    files=files,
                    series=options["series"],
                    dry_run=options["dry_run"],
                    trigger=IngestionRun.Trigger.FILE
                    if files
                    else IngestionRun.Trigger.CLI,
                    progress=progress,
                )
        except IngestionError as exc:
            raise CommandError(str(exc)) from None
        prefix = "dry run, nothing written: " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{name}: {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged, {run.cancelled} cancelled, {run.skipped} skipped "
            f"(run {run.pk}, {run.duration_seconds:.1f}s)"
        )

    def window(self, start: str | None, end: str | None) -> DateWindow | None:
        if start is None and end is None:
            return None
        # One bound alone means that single day.
        first = parse_day(start or end, "--from" if start else "--to")
        last = parse_day(end or start, "--to" if end else "--from")
        if first > last:
            raise CommandError(f"--from {first} is after --to {last}")
        return DateWindow(first, last)
