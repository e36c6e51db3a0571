"""python manage.py loadsample: ingest the real recorded payloads bundled with the code.

Every directory ``src/ingestion/samples/<slug>/`` holds recorded payloads of the source
``<slug>`` (see the README beside them). They go through the same parse and write path
as a crawl. The files are snapshots in time (a week's first and last feed), so they are
loaded once per source; ``--force`` replays them.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import IngestionRun
from ingestion import SAMPLES_DIR
from ingestion.errors import IngestionError
from ingestion.services import ingest_source
from ingestion.sources import all_sources

NOT_PAYLOADS = {".md", ".txt"}  # READMEs and notes beside the payloads


class Command(BaseCommand):
    help = "Load the bundled real sample payloads through the ingestion path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir", type=Path, default=SAMPLES_DIR, help="Samples directory."
        )
        parser.add_argument(
            "--force", action="store_true", help="Load even if loaded before."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root: Path = options["dir"]
        known = {source.name for source in all_sources()}
        if not root.is_dir():
            self.stdout.write(f"no samples under {root}")
            return
        for folder in sorted(path for path in root.iterdir() if path.is_dir()):
            if folder.name not in known:
                raise CommandError(
                    f"samples folder {folder.name!r} names no known source"
                )
            files = sorted(
                path for path in folder.iterdir()
                if path.is_file() and path.suffix.lower() not in NOT_PAYLOADS
            )  # fmt: skip
            if not files:
                self.stdout.write(f"{folder.name}: no sample files")
                continue
            loaded = IngestionRun.objects.filter(
                source=folder.name,
                trigger=IngestionRun.Trigger.SAMPLE,
                status=IngestionRun.Status.SUCCEEDED,
            )
            if loaded.exists() and not options["force"]:
                self.stdout.write(
                    f"{folder.name}: samples already loaded (--force replays them)"
                )
                continue
            try:
                # One run per file: each recorded payload is its own snapshot in time.
                for path in files:
                    run = ingest_source(
                        folder.name, files=[path], trigger=IngestionRun.Trigger.SAMPLE
                    )
                    self.stdout.write(
                        f"{folder.name} {path.name}: {run.created} created, "
                        f"{run.updated} updated, {run.unchanged} unchanged, "
                        f"{run.cancelled} cancelled, {run.skipped} skipped"
                    )
            except IngestionError as exc:
                raise CommandError(str(exc)) from None
