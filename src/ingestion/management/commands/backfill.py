"""python manage.py backfill INDICATOR-OR-COUNTRY --from D [--to D] [--checkpoint PATH]

Fills an indicator's history (or a country's: ``US``, ``EU``) from the agencies, over
the reference periods starting ``--from``..``--to``: first prints from ALFRED where
``FRED_API_KEY`` is set, otherwise the agency's current values, stored as revised
figures, not first prints (ingestion.backfill). Interrupted, it resumes where it
stopped when run again with the same arguments.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ingestion import backfill
from ingestion.errors import IngestionError
from ingestion.management.commands.ingest import parse_day
from ingestion.management.progress import progress_bar
from ingestion.records import DateWindow


class Command(BaseCommand):
    help = "Fill indicators' history from the agencies (BLS, ECB; ALFRED with a key)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "target", help="An indicator id (us-cpi-mom) or a country code (US, EU)."
        )
        parser.add_argument(
            "--from",
            dest="start",
            required=True,
            help="First reference period's start (YYYY-MM-DD).",
        )
        parser.add_argument(
            "--to", dest="end", help="Last one, inclusive (YYYY-MM-DD); default today."
        )
        parser.add_argument(
            "--checkpoint",
            type=Path,
            help="Progress file for resuming (default var/backfill-<target>-...json).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        window = self.window(options["start"], options["end"])
        try:
            indicators = backfill.indicators_for(options["target"])
        except backfill.BackfillError as exc:
            raise CommandError(str(exc)) from None
        work = backfill.plan(indicators, window)
        for note in work.notes:
            self.stderr.write(note)
        if not work.chunks:
            raise CommandError(
                f"nothing to backfill for {options['target']}: " + "; ".join(work.notes)
            )
        checkpoint = options["checkpoint"] or backfill.default_checkpoint(
            options["target"], window
        )
        try:
            with progress_bar() as progress:
                outcome = backfill.run(work, checkpoint=checkpoint, progress=progress)
        except IngestionError as exc:
            raise CommandError(
                f"{exc} (done so far is kept; run the same command again to resume)"
            ) from None
        resumed = f", {outcome.resumed} done before" if outcome.resumed else ""
        self.stdout.write(
            f"backfill {options['target']} {window}: {len(outcome.runs)} runs{resumed}; "
            f"{outcome.total('created')} created, {outcome.total('updated')} updated, "
            f"{outcome.total('unchanged')} unchanged, "
            f"{outcome.total('skipped')} skipped"
        )

    @staticmethod
    def window(start: str, end: str | None) -> DateWindow:
        first = parse_day(start, "--from")
        last = parse_day(end, "--to") if end else timezone.now().date()
        if first > last:
            raise CommandError(f"--from {first} is after --to {last}")
        return DateWindow(first, last)
