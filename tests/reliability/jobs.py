"""A scheduler job for the outage test: a real ingest that needs no network.

Enabled with SCHEDULER_EXTRA_JOBS=tests.reliability.jobs.replay_fred, it replays the
recorded FRED payload through the full ingestion path, as the scheduler's refresh
would after a fetch, so "the scheduler's next job succeeds" means a real write.
"""

from django_apscheduler.util import close_old_connections

from ingestion.services import ingest_source
from tests.conftest import fixture_path


@close_old_connections
def replay_fred() -> None:
    ingest_source(
        "fred",
        files=[fixture_path("fred/fred_releases_calendar_2025-07-02.json")],
        trigger="scheduler",
    )
