"""The reliability suite: tests that try to break the service, and the record they keep.

Each test asks for ``report`` and says what it tried and what it showed::

    report("Bad input", "truncated ForexFactory XML", tried="...", showed="...",
           requests=1, failures=0, rows_lost=0)

When ``RELIABILITY_REPORT`` names a file, every record is appended to it as one JSON
line together with the test's outcome; ``scripts/reliability_report.py`` runs this
suite that way and renders ``docs/reliability.md`` from the lines. Without the
variable the records are only kept in memory, so the tests run the same either way.
"""

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass

import pytest
from django.db import connection

from core.models import EconomicEvent, EventRevision


@dataclass
class Record:
    area: str
    check: str
    tried: str
    showed: str
    requests: int | None = None
    failures: int | None = None
    rows_lost: int | None = None
    # A one-word result for summary tables ("error", "1 skip"...), when the check has one.
    verdict: str | None = None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def report(request):
    """Call it to record one reliability check; written out after the test ends."""
    records: list[Record] = []
    started = time.monotonic()

    def record(area: str, check: str, *, tried: str, showed: str, **extra) -> None:
        records.append(Record(area, check, tried, showed, **extra))

    yield record

    path = os.environ.get("RELIABILITY_REPORT")
    if not path or not records:
        return
    call = getattr(request.node, "rep_call", None)
    outcome = call.outcome if call is not None else "error"
    with open(path, "a", encoding="utf-8") as out:
        for item in records:
            line = {
                **asdict(item),
                "test": request.node.nodeid,
                "outcome": outcome,
                "seconds": round(time.monotonic() - started, 2),
                "database": connection.vendor,
            }
            out.write(json.dumps(line) + "\n")


def table_checksum() -> str:
    """A digest of every stored event and revision, to prove a failed run wrote nothing."""
    digest = hashlib.sha256()
    for model in (EconomicEvent, EventRevision):
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*fields):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def seeded_database():
    """A PostgreSQL database with the real sample data, shared by the live-server tests.

    Its own database (not pytest-django's): gunicorn in another process must see
    committed rows. Tests using it are marked ``postgres``; they only read.
    """
    from tests.processes import scratch_database
    from tests.reliability.live import seed

    with scratch_database("dipcal_reliability") as url:
        seed(url)
        yield url
