"""Faults at the source: errors, rate limits and silence, through the scheduler's job.

A real loopback HTTP server plays the source (FRED's calendar URL is pointed at it)
and the scheduler's own job function runs the crawl, with real retry sleeps and real
socket timeouts. Every failure must end in a failed IngestionRun that says why,
leave the stored events untouched, and the next run must succeed.
"""

import time

import pytest

from core.models import EconomicEvent, IngestionRun
from ingestion.errors import IngestionError
from scheduler import jobs
from tests.conftest import HANG, fixture_bytes
from tests.reliability.conftest import table_checksum

# The job functions close the connection around a run (as in the scheduler), which a
# test wrapped in a transaction would not survive: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

CALENDAR = fixture_bytes("fred/fred_releases_calendar_2025-07-02.json")
OK = (200, {"Content-Type": "application/json"}, CALENDAR)


@pytest.fixture
def source(scripted_server, monkeypatch, settings):
    """FRED pointed at a scripted local server; returns start(script) -> request times."""
    settings.INGESTION_RETRIES = 2
    settings.INGESTION_CONNECT_TIMEOUT = 2
    settings.INGESTION_READ_TIMEOUT = 1

    def start(script):
        url, seen = scripted_server(script)
        monkeypatch.setattr(
            "ingestion.sources.fred.CALENDAR_URL", url + "releases/calendar"
        )
        return seen

    return start


def last_run() -> IngestionRun:
    return IngestionRun.objects.filter(source="fred").latest("pk")


def crawl() -> tuple[IngestionRun, float, Exception | None]:
    started = time.monotonic()
    error = None
    try:
        jobs.refresh("fred")
    except IngestionError as exc:
        error = exc
    return last_run(), time.monotonic() - started, error


def test_a_500_then_a_200_is_retried_and_succeeds(source, report):
    seen = source([(500, {}, b"Internal Server Error"), OK])
    run, seconds, error = crawl()
    assert error is None
    assert run.status == "succeeded"
    assert run.created == EconomicEvent.objects.filter(source="fred").count() > 0
    assert len(seen) == 2
    report(
        "Faults",
        "source answers 500, then 200",
        tried="the scheduler's refresh job against a server answering 500 once",
        showed=f"retried once, run succeeded with {run.created} events in {seconds:.1f}s",
        requests=len(seen),
        failures=0,
    )


def test_a_429_waits_for_retry_after_then_succeeds(source, report):
    seen = source([(429, {"Retry-After": "1"}, b""), OK])
    run, _, error = crawl()
    assert error is None
    assert run.status == "succeeded"
    assert len(seen) == 2
    waited = seen[1] - seen[0]
    assert 1.0 <= waited < 5
    report(
        "Faults",
        "source answers 429 with Retry-After: 1",
        tried="the refresh job against a server rate-limiting the first request",
        showed=f"waited {waited:.2f}s as asked, retried, run succeeded",
        requests=len(seen),
        failures=0,
    )


@pytest.mark.parametrize(
    ("case", "script", "reason", "max_seconds"),
    [
        ("always 500", [(500, {}, b"oops")], "500 Server Error", 10),
        (
            "always 429 with Retry-After: 1",
            [(429, {"Retry-After": "1"}, b"")],
            "blocked by the source (HTTP 429)",
            10,
        ),
        ("hangs past the read timeout", [HANG], "Read timed out", 10),
    ],
)
def test_a_source_that_keeps_failing_ends_in_a_failed_run_then_recovers(
    source, report, case, script, reason, max_seconds
):
    # Data from an earlier good crawl must survive the failed one untouched.
    source([OK])
    jobs.refresh("fred")
    assert last_run().status == "succeeded"
    before = table_checksum()

    seen = source(script)
    run, seconds, error = crawl()

    assert error is not None
    assert run.status == "failed"
    assert reason in run.error
    assert run.error.startswith("fred: ")
    assert run.finished_at is not None
    assert len(seen) == 3  # the first try and INGESTION_RETRIES=2 retries, no more
    assert seconds < max_seconds
    assert table_checksum() == before

    # The next scheduled run, the source healthy again, succeeds.
    good = source([OK])
    run_after, _, error_after = crawl()
    assert error_after is None
    assert run_after.status == "succeeded"
    assert run_after.unchanged == run_after.fetched - run_after.skipped
    assert len(good) == 1
    report(
        "Faults",
        f"source {case}",
        tried=f"the refresh job against a server that {case}, INGESTION_RETRIES=2, read timeout 1s",
        showed=f"3 attempts in {seconds:.1f}s, then a failed run: {run.error[:90]!r}; "
        "stored events unchanged; the next run succeeded",
        requests=len(seen) + 2,
        failures=0,
        rows_lost=0,
    )
