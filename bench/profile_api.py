"""Where a list request's milliseconds go, in process, on the benchmark's data set.

    python bench/profile_api.py [--requests 300]

Runs fresh varied list queries (bench_api.varied_paths) through Django's test client
against the database of ``bench_api.py setup``, response cache off, and splits each
request's wall time with timers around the stages (the SQL at the database layer,
filter validation, the page's rows, rendering), then runs the same number of other
queries under cProfile for the functions that cost most of their own time. Writes
the ``## API per-request budget`` section of docs/benchmarks.md.
"""

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]
import bench_api  # noqa: E402

BEFORE_MS = 11.6  # issue 14: the list request before this work, same measurement


class Stages:
    """Wall time per named stage, summed over requests."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    @contextmanager
    def timing(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started
            self.counts[stage] += 1

    def wrap(self, owner, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            with self.timing(stage):
                return original(*args, **kwargs)

        setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    os.environ["API_RESPONSE_CACHE_SECONDS"] = "0"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    os.environ["API_THROTTLE_ANON"] = ""
    bench_api.django_setup()
    from django.db import connection
    from django.test import Client

    from calendar_api.filters import CalendarFilterBackend
    from calendar_api.pagination import KeysetPagination
    from calendar_api.renderers import FastJSONRenderer

    client = Client(HTTP_HOST="127.0.0.1")
    warm, measured, profiled = (
        bench_api.varied_paths(args.requests, seed=seed) for seed in (101, 102, 103)
    )
    for path in warm:  # imports, the connection, PostgreSQL's caches
        assert client.get(path).status_code == 200, path

    stages = Stages()
    stages.wrap(CalendarFilterBackend, "filter_queryset", "filters")
    stages.wrap(KeysetPagination, "paginate_queryset", "page")
    stages.wrap(KeysetPagination, "paginate_documents", "page")
    stages.wrap(FastJSONRenderer, "render", "render")

    def sql(execute, sql, params, many, context):
        # The version alone starts with it; a one-statement page holds it inside.
        stage = "sql: data version" if sql.startswith("SELECT MAX(") else "sql: page"
        with stages.timing(stage):
            return execute(sql, params, many, context)

    with connection.execute_wrapper(sql):
        started = time.perf_counter()
        for path in measured:
            assert client.get(path).status_code == 200, path
        wall = time.perf_counter() - started
    spent = dict(stages.seconds)  # the profiled requests below pass the timers too

    profile = cProfile.Profile()
    profile.enable()
    for path in profiled:
        client.get(path)
    profile.disable()
    detail = detail_budget(client, args.requests)
    write(args.requests, wall, spent, profile, detail, collection_pauses())


def collection_pauses() -> tuple[float, float, int]:
    """A full garbage collection's pause in this warmed process (median of 5, ms):
    with everything loaded in the collector's view, then after ``gc.freeze()`` (as
    core.wsgi does at start); and how many objects that froze."""

    def pause() -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            gc.collect()
            times.append((time.perf_counter() - started) * 1000)
        return sorted(times)[2]

    before = pause()
    gc.freeze()
    try:
        return before, pause(), gc.get_freeze_count()
    finally:
        gc.unfreeze()


def detail_budget(client, requests: int) -> dict[str, float]:
    """Wall and SQL time of ``requests`` details of occurrences that two sources list
    (each asked once, after as many others warm the process)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM core_occurrence WHERE jsonb_array_length(sources) = 2 "
            "ORDER BY id LIMIT %s",
            [requests * 2],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    for pk in ids[:requests]:
        assert client.get(f"/api/events/{pk}/").status_code == 200, pk
    sql = {"seconds": 0.0, "statements": 0}

    def timed(execute, sql_text, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            sql["seconds"] += time.perf_counter() - started
            sql["statements"] += 1

    measured = ids[requests:]
    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        for pk in measured:
            assert client.get(f"/api/events/{pk}/").status_code == 200, pk
        wall = time.perf_counter() - started
    return {
        "total": wall * 1000 / len(measured),
        "sql": sql["seconds"] * 1000 / len(measured),
        "statements": sql["statements"] / len(measured),
    }


def write(
    requests: int,
    wall: float,
    spent: dict[str, float],
    profile,
    detail: dict,
    pauses: tuple[float, float, int],
) -> None:
    per = {stage: seconds * 1000 / requests for stage, seconds in spent.items()}
    total = wall * 1000 / requests
    page_python = per["page"] - per.get("sql: page", 0)
    rows = [
        (
            "SQL: the data version on its own (pages with `tz`)",
            per.get("sql: data version", 0),
        ),
        ("SQL: the page (with the version, when in one statement)", per["sql: page"]),
        ("building the page's query, reading its rows", page_python),
        ("filters: validating the query string, building the WHERE", per["filters"]),
        ("rendering the page (orjson, documents passed through)", per["render"]),
    ]
    rest = total - sum(ms for _, ms in rows)
    rows.append(("the rest: middleware, URL resolution, DRF dispatch, response", rest))
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
    top = out.getvalue().split("\n")
    start = next(i for i, line in enumerate(top) if "ncalls" in line)
    lines = [
        "## API per-request budget",
        "",
        f"`python bench/profile_api.py --requests {requests}` on the data set above: "
        f"{requests} fresh varied list queries through Django's test client, response "
        "cache off, timers around each stage (SQL timed at the database layer). "
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
        + (f" {bench_api.CONDITIONS}" if bench_api.CONDITIONS else ""),
        "",
        "| stage | ms per request |",
        "| --- | ---: |",
        *(f"| {label} | {ms:.2f} |" for label, ms in rows),
        f"| **total** | **{total:.2f}** |",
        "",
        f"Before this work (issue 14's profile, same kind of queries): {BEFORE_MS} ms "
        "per list request, 3.5 ms of them turning the page's rows into Python "
        "objects, 3.6 ms in `filter_queryset` (a django-filter form built and "
        "deep-copied per request), 1.2 ms for the data-version query. What changed: "
        "stored documents passed through (no per-row objects on a JSON page), one "
        "statement for the version and the page on PostgreSQL (no round trip of its "
        "own, no rows read back but the last one's keys), a shared form class without "
        "deep copies, no BoundField per parameter, absent parameters cleaned once per "
        "form class, the query string read as it came; a page with `tz` in one "
        "statement too. Not in this budget, because Django's test client skips the "
        "per-request connection handling: the connection's health check, which was "
        "one more round trip per request in gunicorn (a fifth of a worker's time "
        "under load, by py-spy) and now looks at the socket instead "
        "(core.postgresql). What is left is Django's: "
        "compiling the page's query (most of \"building the page's query\"), DRF's "
        "dispatch and middleware, the form's cleaning; the bare server spends about "
        "0.5 ms of Python per request.",
        "",
        f"A detail with two sources (fresh ids, the same client): "
        f"{detail['total']:.2f} ms per request, {detail['sql']:.2f} ms of it in "
        f"{detail['statements']:.1f} SQL statement(s) (one on PostgreSQL: the version, "
        "the document, the member rows and change logs; before, five queries compiled "
        "by the ORM per request).",
        "",
        f"A full garbage collection in this process, every module, class and function "
        f"loaded: {pauses[0]:.1f} ms, a stall for every request queued behind it; "
        f"after `gc.freeze()` ({pauses[2]:,} objects set aside, as core.wsgi does at "
        f"start): {pauses[1]:.2f} ms.",
        "",
        "Most own time under cProfile (other fresh queries; cProfile slows Python "
        "code, not the database):",
        "",
        "```",
        *[line.rstrip() for line in top[start : start + 16]],
        "```",
    ]
    for label, ms in rows:
        print(f"{ms:7.2f} ms  {label}")
    print(f"{total:7.2f} ms  total")
    print(f"{detail['total']:7.2f} ms  detail ({detail['statements']:.1f} statements)")
    print(f"{pauses[0]:7.2f} ms  full collection, {pauses[1]:.2f} ms after gc.freeze()")
    bench_api.replace_section("API per-request budget", "\n".join(lines))


if __name__ == "__main__":
    main()
