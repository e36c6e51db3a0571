"""Ingestion write-path benchmark on the local PostgreSQL.

    python bench/bench_ingest.py [--events 100000] [--seed-events 5000] [--repeat 3]

Creates a throwaway database (dipcal_bench_ingest), migrates it, generates realistic
normalised records and measures, through ``ingestion.services.upsert_records`` (records
in, rows and revisions out; no HTTP, no parsing):

1. new:        N events into an empty table;
2. unchanged:  the same N again (must write zero rows);
3. changed:    the same N with 10% of forecasts and 2% of times changed;
4. seed-style: the seed's ``update_or_create`` loop, per event, on a smaller sample.

Prints a Markdown table and writes it into docs/benchmarks.md (the "Ingestion" section).
Environment: PGHOST/PGPORT/PGUSER (defaults 127.0.0.1, 5432, postgres).
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DB = "dipcal_bench_ingest"
HOST = os.environ.get("PGHOST", "127.0.0.1")
PORT = os.environ.get("PGPORT", "5432")
USER = os.environ.get("PGUSER", "postgres")
os.environ["DATABASE_URL"] = f"postgres://{USER}@{HOST}:{PORT}/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

NAMES = [
    "CPI m/m", "CPI y/y", "Core CPI m/m", "PPI m/m", "Retail Sales m/m", "Unemployment Rate",
    "Nonfarm Payrolls", "Trade Balance", "Current Account", "GDP q/q", "Prelim GDP q/q",
    "Manufacturing PMI", "Services PMI", "Industrial Production m/m", "Building Permits",
    "Housing Starts", "Consumer Confidence", "ZEW Economic Sentiment", "Ifo Business Climate",
    "Official Bank Rate", "Federal Funds Rate", "Cash Rate", "Unemployment Claims",
    "Average Hourly Earnings m/m", "Claimant Count Change", "Employment Change",
    "10-y Bond Auction", "Crude Oil Inventories", "Natural Gas Storage", "M2 Money Supply y/y",
]  # fmt: skip
CURRENCIES = [
    ("US", "USD"), ("EU", "EUR"), ("GB", "GBP"), ("JP", "JPY"), ("CH", "CHF"), ("CA", "CAD"),
    ("AU", "AUD"), ("NZ", "NZD"), ("CN", "CNY"), ("DE", "EUR"), ("FR", "EUR"), ("IT", "EUR"),
    ("ES", "EUR"), ("SE", "SEK"), ("NO", "NOK"), ("KR", "KRW"), ("IN", "INR"), ("BR", "BRL"),
    ("MX", "MXN"), ("ZA", "ZAR"), ("TR", "TRY"), ("PL", "PLN"), ("SG", "SGD"), ("HK", "HKD"),
]  # fmt: skip
FIGURES = [
    "254K",
    "3.6%",
    "-0.4%",
    "51.4",
    "-1.2B",
    "1,777K",
    "0.3%",
    "4.50%",
    "-13.3K",
    "726B",
]


def create_database() -> None:
    import psycopg

    with psycopg.connect(
        host=HOST, port=PORT, user=USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect(
        host=HOST, port=PORT, user=USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def make_records(count: int, rng: random.Random):
    from ingestion.records import EventRecord

    start = date(2025, 1, 1)
    records = []
    for n in range(count):
        country, currency = rng.choice(CURRENCIES)
        day = start + timedelta(days=n % 730)
        holiday = n % 97 == 0
        records.append(
            EventRecord(
                external_id=f"bench-{n}",
                event_name=rng.choice(NAMES),
                country=country,
                currency=currency,
                date=day,
                time=None
                if holiday
                else clock(rng.randrange(24), rng.choice((0, 15, 30, 45))),
                time_precision="all_day" if holiday else "exact",
                importance=None if holiday else rng.choice((1, 1, 1, 2, 2, 3)),
                kind="holiday" if holiday else "release",
                actual=rng.choice(FIGURES) if n % 3 == 0 else "",
                forecast=rng.choice(FIGURES),
                previous=rng.choice(FIGURES),
                source_url=f"https://example.invalid/calendar/{n % 500}",
            )
        )
    return records


class StatementCounter:
    """Counts SQL statements: Django's executes (an execute_wrapper) and COPYs."""

    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += len(params) if many and params is not None else 1
        return execute(sql, params, many, context)


def rows_written() -> int:
    """Rows inserted, updated or deleted in our tables so far, per PostgreSQL itself
    (counts COPY too). Flushes this backend's pending statistics first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
            "WHERE relname IN ('core_economicevent', 'core_eventrevision')"
        )
        return int(cursor.fetchone()[0])


def measure(label: str, events: int, work) -> dict:
    import psycopg
    from django.db import connection

    counter = StatementCounter()
    original_copy = psycopg.Cursor.copy

    def counted_copy(cursor, *args, **kwargs):
        counter.statements += 1
        return original_copy(cursor, *args, **kwargs)

    written_before = rows_written()
    psycopg.Cursor.copy = counted_copy
    try:
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            work()
            elapsed = time.perf_counter() - started
    finally:
        psycopg.Cursor.copy = original_copy
    return {
        "case": label,
        "events": events,
        "seconds": elapsed,
        "events_per_s": events / elapsed,
        "statements": counter.statements,
        "statements_per_event": counter.statements / events,
        "rows_written": rows_written() - written_before,
    }


def run_once(count: int, seed_count: int, rng_seed: int) -> list[dict]:
    from dataclasses import replace

    from django.core.management import call_command
    from django.db import transaction

    from core.models import EconomicEvent, EventRevision, IngestionRun
    from ingestion.services import upsert_records

    call_command("flush", "--no-input", verbosity=0)
    # flush's own deletes are counted by rows_written(): measure() takes differences.
    rng = random.Random(rng_seed)
    records = make_records(count, rng)

    def upsert(batch):
        def work():
            with transaction.atomic():
                upsert_records(source="bench", records=batch)

        return work

    results = [measure("new", count, upsert(records))]
    assert EconomicEvent.objects.count() == count
    results.append(measure("unchanged", count, upsert(records)))
    changed = [
        replace(r, forecast="9.9%") if n % 10 == 0
        else replace(r, time=clock(1, 2)) if n % 50 == 1 and r.time is not None
        else r
        for n, r in enumerate(records)
    ]  # fmt: skip
    results.append(measure("changed (10% forecasts, 2% times)", count, upsert(changed)))
    revisions = EventRevision.objects.count()

    # The seed's way: one update_or_create per event, keyed on (date, time, name).
    seed_records = make_records(seed_count, random.Random(rng_seed + 1))

    def seed_loop():
        from django.utils import timezone

        now = timezone.now()
        for r in seed_records:
            with transaction.atomic():
                EconomicEvent.objects.update_or_create(
                    source="seed",
                    external_id=r.external_id,
                    defaults={
                        "event_name": r.event_name, "country": r.country,
                        "currency": r.currency, "date": r.date, "time": r.time,
                        "time_precision": r.time_precision, "scheduled_at": r.scheduled_at,
                        "importance": r.importance, "kind": r.kind, "actual": r.actual,
                        "forecast": r.forecast, "previous": r.previous,
                        "first_seen_at": now, "last_seen_at": now, "updated_at": now,
                    },
                )  # fmt: skip

    results.append(measure("seed-style update_or_create loop", seed_count, seed_loop))
    del IngestionRun
    results[2]["revisions"] = revisions
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed-events", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep", action="store_true", help="Keep the database afterwards."
    )
    parser.add_argument(
        "--no-write", action="store_true", help="Do not update docs/benchmarks.md."
    )
    args = parser.parse_args()

    create_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    server_version = connection.cursor().connection.info.server_version
    server_version = f"{server_version // 10000}.{server_version % 10000}"
    try:
        runs = [
            run_once(args.events, args.seed_events, seed) for seed in range(args.repeat)
        ]
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database()

    table = summarise(runs)
    print(table)
    if not args.no_write:
        write_section(table, args, server_version)


def summarise(runs: list[list[dict]]) -> str:
    rows = [
        "| case | events | events/s (median of runs) | SQL statements / event | rows written |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for index, first in enumerate(runs[0]):
        cases = [run[index] for run in runs]
        rate = statistics.median(c["events_per_s"] for c in cases)
        written = f"{first['rows_written']:,}"
        if "revisions" in first:
            written += f" (incl. {first['revisions']:,} revisions)"
        rows.append(
            f"| {first['case']} | {first['events']:,} | {rate:,.0f} | "
            f"{first['statements_per_event']:.4f} | {written} |"
        )
    return "\n".join(rows)


def write_section(table: str, args: argparse.Namespace, pg: str) -> None:
    import django

    docs = ROOT / "docs" / "benchmarks.md"
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    section = (
        "## Ingestion\n\n"
        f"`python bench/bench_ingest.py --events {args.events} --seed-events {args.seed_events} "
        f"--repeat {args.repeat}` on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"PostgreSQL {pg} on 127.0.0.1; generated with a fixed seed per run "
        "(24 countries, 30 indicator names, figures like `254K`, `3.6%`, 1% all-day).\n"
        "Records go in through `ingestion.services.upsert_records` (the whole write path "
        "except parsing). Statements are counted with a `connection.execute_wrapper` plus "
        "each COPY; rows written are PostgreSQL's own counts (`pg_stat_user_tables` "
        "inserts + updates + deletes on the event and revision tables).\n\n"
        f"{table}\n\n"
        "Targets (issue 3): new >= 20,000 events/s; unchanged >= 50,000 events/s with zero "
        "rows written. The seed-style loop is measured in the same run for comparison: "
        "per event a transaction, `update_or_create`'s savepoint, `SELECT ... FOR UPDATE` "
        "and an INSERT or UPDATE.\n\n"
        "Since the indicators issue (12) the write path also matches each new or changed "
        "row to its indicator and recomputes the occurrences it touches (matching, "
        "precedence, conflicts, surprise scores, the stored document, the occurrence "
        "change log), in the same transaction: that is most of a new event's cost now, "
        "and why `new` and `changed` are far below the issue 3 targets, which were set "
        "for the source rows alone. `unchanged` still writes nothing and consolidates "
        "nothing. Measured while other work ran on the 2 cores (a fresh-clone "
        "`.ci/run` beside it), so the absolute numbers are low.\n"
    )
    start = text.find("## Ingestion")
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    docs.write_text(text)


if __name__ == "__main__":
    main()
