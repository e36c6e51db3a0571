"""Concurrency under load: overlapping ingests in separate processes while 16 clients read.

Four ``manage.py ingest`` processes start at the same moment with overlapping sets of
real recorded ForexFactory weeks; gunicorn serves 16 reading clients meanwhile. Each
ingest is one transaction, so a reader can only ever see the events of some subset of
the runs, completely: the count it sees must be the size of the union of the weeks of
some subset of runs. Afterwards: no duplicate, every run succeeded, no reader error.
"""

import itertools
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from ingestion.sources import get_source
from tests.conftest import FIXTURES
from tests.processes import ROOT, http_get, manage, scratch_database
from tests.reliability.live import gunicorn, service_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FEED = FIXTURES / "forexfactory_feed"
WEEKS = {
    "A": FEED / "ff_thisweek_2024-09-08_xml_NT8.xml",
    "B": FEED / "ff_thisweek_2024-09-15_xml_NT8.xml",
    "C": FEED / "ff_thisweek_2024-09-22_xml_NT8.xml",
    "D": FEED / "ff_thisweek_2025-05-04_xml_Rommans.xml",
    "E": FEED / "ff_thisweek_2026-07-26_json_dkmarlin_1408252.json",
}
# Four runs, each overlapping two others.
RUNS = ("ABC", "BCD", "CDE", "AE")
READERS = 16
LIST = "/api/events/?source=forexfactory&page_size=1000"


def keys_of(week: str) -> set[str]:
    parsed = get_source("forexfactory").parse(WEEKS[week].read_bytes())
    return {record.external_id for record in parsed.records}


def possible_counts() -> set[int]:
    """Sizes of the union of every subset of runs: what an all-or-nothing reader sees."""
    week_keys = {week: keys_of(week) for week in WEEKS}
    counts = set()
    for size in range(len(RUNS) + 1):
        for subset in itertools.combinations(RUNS, size):
            union: set[str] = set()
            for run in subset:
                for week in run:
                    union |= week_keys[week]
            counts.add(len(union))
    return counts


def test_four_ingest_processes_and_sixteen_readers(tmp_path, report):
    allowed = possible_counts()
    total = max(allowed)
    assert total < 1000, "one page must hold everything for a reader to count it"

    with scratch_database("dipcal_load") as url:
        env = service_env(url)
        manage("migrate", "--no-input", env=env, timeout=300, check=True)
        with gunicorn(env, tmp_path / "web.log", workers=2, threads=8) as web:
            seen: list[int] = []
            errors: list[str] = []
            stop = threading.Event()

            def read() -> int:
                done = 0
                while not stop.is_set():
                    response = http_get(web.url(LIST), timeout=30)
                    done += 1
                    if response is None or response.status != 200:
                        errors.append(
                            repr(response and (response.status, response.body[:200]))
                        )
                        continue
                    body = response.json()
                    if body["next"] is not None:
                        errors.append("a second page: the reader cannot count")
                    seen.append(len(body["results"]))
                return done

            with ThreadPoolExecutor(READERS) as pool:
                readers = [pool.submit(read) for _ in range(READERS)]
                time.sleep(0.5)  # readers warm up on the empty calendar
                writers = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            "manage.py",
                            "ingest",
                            "forexfactory",
                            *(
                                arg
                                for week in run
                                for arg in ("--file", str(WEEKS[week]))
                            ),
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                    )
                    for run in RUNS
                ]
                outputs = [w.communicate(timeout=180)[0].decode() for w in writers]
                time.sleep(0.5)  # readers see the final state too
                stop.set()
                requests = sum(reader.result() for reader in readers)

        with psycopg.connect(url) as conn:
            rows, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT (source, external_id)) FROM core_economicevent"
            ).fetchone()
            runs = conn.execute(
                "SELECT status, created FROM core_ingestionrun ORDER BY id"
            ).fetchall()

    for writer, output in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, output
    assert errors == []
    assert rows == distinct == total
    assert [status for status, _ in runs] == ["succeeded"] * len(RUNS)
    assert sum(created for _, created in runs) == total
    states = sorted(set(seen))
    assert set(seen) <= allowed, (
        f"a reader saw a partial run: {states} vs {sorted(allowed)}"
    )
    assert seen[-1] == total
    report(
        "Concurrency",
        "4 ingest processes + 16 readers",
        tried=f"4 `manage.py ingest` processes at once over overlapping real weeks {', '.join(RUNS)} "
        f"({total} distinct events) while 16 clients read /api/events/ through gunicorn",
        showed=f"{requests} reads, 0 errors; readers saw only whole runs (counts {states}); "
        f"{rows} rows, 0 duplicates; 4 runs succeeded, created summing to {total}",
        requests=requests,
        failures=0,
        rows_lost=0,
    )
