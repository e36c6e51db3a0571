"""Anonymous throttling holds across gunicorn worker processes with a shared Redis cache.

Each worker is a process with its own memory: with the local-memory cache every worker
counts on its own, so N workers let N times the limit through. With CACHE_URL pointing
at Redis the count is shared. The proof runs real gunicorn workers against the local
Redis and reads which worker answered each request from the access log.
"""

import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.processes import http_get, wait_until
from tests.reliability.live import gunicorn, service_env

REDIS_URL = "redis://127.0.0.1:6379/7"
# This run's own keys: another test run on the machine may share the Redis.
KEY_PREFIX = f"dipcal-test-{uuid.uuid4().hex[:12]}"
LIMIT = 10
RATE = f"{LIMIT}/hour"  # counted in fixed windows: see away_from_a_window_edge()
REQUESTS = 40
WORKERS = 3
ACCESS = re.compile(r"pid=(\d+) method=GET path=\"/api/events/\".* status=(\d{3})")


def redis_or_skip():
    """The local Redis; CI has one, so there a missing Redis fails instead of skipping."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def forget_counts(client) -> None:
    """Delete this run's keys (never another run's: no FLUSHDB)."""
    keys = list(client.scan_iter(f"{KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)


def hammer(server, forged_ips: bool) -> Counter:
    """REQUESTS GETs from 8 threads, each on a new connection; half forge X-Forwarded-For."""
    import urllib.request

    def one(index: int) -> int:
        request = urllib.request.Request(
            # Each request its own URL (q matches nothing): no two are alike.
            server.url(f"/api/events/?page_size=5&q=request-{index}")
        )
        if forged_ips and index % 2:
            request.add_header("X-Forwarded-For", f"203.0.113.{index % 250}")
        response = http_get(request, timeout=10)
        assert response is not None, f"request {index} got no answer"
        return response.status

    with ThreadPoolExecutor(8) as pool:
        return Counter(pool.map(one, range(REQUESTS)))


def away_from_a_window_edge(seconds: int = 3600, margin: float = 30) -> None:
    """The throttle counts in fixed windows; a run must not straddle two of them."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.5)


def served_by(read_log: Callable[[], str]) -> dict[str, Counter]:
    """Which worker answered each request, from gunicorn's access log.

    gunicorn writes a request's access line after the response has been sent, so the
    client can hold its answer before the line is in the log. Every request gets exactly
    one line: wait for all REQUESTS of them before counting.
    """
    lines: list[tuple[str, str]] = []

    def complete() -> bool:
        lines[:] = ACCESS.findall(read_log())
        return len(lines) >= REQUESTS

    wait_until(complete, timeout=60, what=f"{REQUESTS} access log lines")
    assert len(lines) == REQUESTS, f"{len(lines)} access lines for {REQUESTS} requests"
    workers: dict[str, Counter] = {}
    for pid, status in lines:
        workers.setdefault(pid, Counter())[int(status)] += 1
    return workers


@pytest.mark.postgres
@pytest.mark.slow
def test_throttle_is_shared_by_all_workers_through_redis(
    seeded_database, tmp_path, report
):
    client = redis_or_skip()
    env = service_env(
        seeded_database,
        API_THROTTLE_ANON=RATE,
        CACHE_URL=REDIS_URL,
        CACHE_KEY_PREFIX=KEY_PREFIX,
    )
    with gunicorn(env, tmp_path / "redis.log", workers=WORKERS, threads=1) as server:
        # Which worker accepts a connection is the kernel's choice: on a busy machine
        # one can take a whole round, which would prove nothing about sharing. Such a
        # round is run again on a fresh count; the assertions hold for every round.
        for _ in range(5):
            forget_counts(client)
            away_from_a_window_edge()
            offset = len(server.proc.output())
            statuses = hammer(server, forged_ips=True)
            workers = served_by(lambda start=offset: server.proc.output()[start:])
            assert statuses == {200: LIMIT, 429: REQUESTS - LIMIT}, statuses
            if len(workers) >= 2:
                break
    assert list(client.scan_iter(f"{KEY_PREFIX}:*")), "the counts were in Redis"
    forget_counts(client)

    assert len(workers) >= 2, f"one worker served everything: {workers}"
    report(
        "Security",
        "throttling across gunicorn workers (Redis)",
        tried=f"{REQUESTS} requests from 8 threads to {WORKERS} gunicorn workers, limit {RATE}, "
        "CACHE_URL=redis://127.0.0.1:6379; half of them forge a different X-Forwarded-For",
        showed=f"exactly {statuses[200]} x 200 and {statuses[429]} x 429 although "
        f"{len(workers)} worker processes answered; forged headers gained nothing",
        requests=REQUESTS,
        failures=0,
    )


@pytest.mark.postgres
@pytest.mark.slow
def test_without_a_shared_cache_each_worker_counts_alone(
    seeded_database, tmp_path, report
):
    """Why CACHE_URL matters: the same run on the local-memory cache lets more through."""
    env = service_env(seeded_database, API_THROTTLE_ANON=RATE)
    with gunicorn(env, tmp_path / "locmem.log", workers=WORKERS, threads=1) as server:
        away_from_a_window_edge()
        statuses = hammer(server, forged_ips=False)
        workers = served_by(server.proc.output)

    # Each worker lets LIMIT through on its own count.
    expected = sum(min(count.total(), LIMIT) for count in workers.values())
    assert statuses[200] == expected, (statuses, workers)
    assert sum(c[200] for c in workers.values()) == statuses[200]
    report(
        "Security",
        "throttling without a shared cache (contrast)",
        tried=f"the same {REQUESTS} requests on the local-memory cache",
        showed=f"{statuses[200]} x 200 from {len(workers)} workers (each counts alone): "
        "a shared cache is needed with several workers, as the docs say",
        requests=REQUESTS,
        failures=0,
    )


@pytest.mark.django_db
def test_the_throttle_identifies_clients_by_socket_address_by_default(
    client, monkeypatch, report
):
    """DRF's default would key on the whole X-Forwarded-For header: a new one, a new budget."""
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    codes = [
        client.get(
            "/api/countries/", HTTP_X_FORWARDED_FOR=str(uuid.uuid4())
        ).status_code
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    report(
        "Security",
        "forged X-Forwarded-For does not dodge the throttle",
        tried="5 requests at a 3/minute limit, each with a new random X-Forwarded-For",
        showed="200, 200, 200, 429, 429: clients are keyed on the socket address (API_NUM_PROXIES=0)",
        requests=5,
        failures=0,
    )
