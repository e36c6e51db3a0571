"""Everything that writes calendar rows. Only this module does.

Contract (implemented by the ingestion work; the scheduler calls it):

    ingest_source(name, *, window=None, trigger="cli", files=None, http=None,
                  dry_run=False) -> IngestionRun

One call = one IngestionRun row and one transaction for its data. On success the run
is returned with status "succeeded" and its counts. On failure the data transaction
is rolled back, the run row is saved as "failed" with the error message, and the
IngestionError is re-raised (so the scheduler records a failed execution).
"""

from core.models import IngestionRun
from ingestion.records import DateWindow


def ingest_source(
    name: str,
    *,
    window: DateWindow | None = None,
    trigger: str = IngestionRun.Trigger.CLI,
    files: list[str] | None = None,
    http=None,
    dry_run: bool = False,
) -> IngestionRun:
    raise NotImplementedError
