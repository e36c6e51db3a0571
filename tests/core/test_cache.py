"""core.cache: an unreachable Redis is an empty cache that stores nothing.

The backend talks to real sockets: a port nothing listens on (refused), a server
that accepts and hangs up (counts connection attempts), and a private redis-server
for recovery. Time moves through the outage's clock, never by sleeping.
"""

import logging
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from core import cache as core_cache
from core.cache import FaultTolerantRedisCache, cache_status
from tests.processes import free_port, wait_until

OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "down_retry_seconds": 5,
    "down_warning_seconds": 60,
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _fresh_outages(monkeypatch):
    """Each test sees its own outage registry (it is per process otherwise)."""
    monkeypatch.setattr(core_cache, "_outages", {})


def backend(port: int, **options) -> FaultTolerantRedisCache:
    params = {"KEY_PREFIX": "test", "OPTIONS": {**OPTIONS, **options}}
    return FaultTolerantRedisCache(f"redis://127.0.0.1:{port}/0", params)


@pytest.fixture
def down() -> FaultTolerantRedisCache:
    """A cache whose Redis refuses connections, on a clock the test moves."""
    cache = backend(free_port())
    cache.outage.clock = Clock()
    return cache


@contextmanager
def hanging_up_server() -> Iterator[tuple[int, list[int]]]:
    """Accepts each connection and closes it at once; yields (port, attempts)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # accept() wakes up to see ``stop``
    attempts: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            attempts.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], attempts
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_every_call_answers_like_an_empty_cache_that_stores_nothing(down):
    assert down.get("k") is None
    assert down.get("k", "fallback") == "fallback"
    assert down.set("k", "v") is None
    assert down.get("k") is None, "nothing was stored"
    assert down.add("k", "v") is False
    assert down.get_or_set("k", "computed") == "computed"
    assert down.get_many(["a", "b"]) == {}
    assert down.set_many({"a": 1, "b": 2}) == ["a", "b"], "no key could be stored"
    assert down.has_key("k") is False
    assert down.touch("k") is False
    assert down.delete("k") is False
    assert down.delete_many(["a", "b"]) is None
    assert down.clear() is False
    with pytest.raises(ValueError, match="not found"):
        down.incr("counter")
    with pytest.raises(ValueError, match="not found"):
        down.decr("counter")
    assert down.reachable() is False
    # Each call above was answered without Redis; the first one found it down.
    assert down.outage._down_since is not None


def test_the_throttle_counts_every_request_as_a_windows_first(down):
    """AnonWindowThrottle's add() + incr(): with Redis down it fails open."""
    from django.test import RequestFactory

    from calendar_api.throttling import AnonWindowThrottle

    class OnePerMinute(AnonWindowThrottle):
        cache = down
        rate = "1/minute"

    request = RequestFactory().get("/api/events/", REMOTE_ADDR="203.0.113.9")
    throttle = OnePerMinute()
    assert [throttle.allow_request(request, None) for _ in range(5)] == [True] * 5


def test_a_down_redis_is_skipped_until_the_retry_interval_has_passed():
    with hanging_up_server() as (port, attempts):
        cache = backend(port, down_retry_seconds=5)
        clock = cache.outage.clock = Clock()
        assert cache.get("k") is None
        tried = len(attempts)
        assert tried >= 1
        for _ in range(20):
            cache.get("k")
            cache.set("k", 1)
        assert len(attempts) == tried, "no connection while known down"
        clock.now += 5
        cache.get("k")
        wait_until(lambda: len(attempts) > tried, timeout=5, what="a retry")


def test_the_outage_is_shared_by_every_thread_of_the_process():
    """Django gives each thread its own backend instance; the outage is one fact."""
    port = free_port()
    first, second = backend(port), backend(port)
    assert first.outage is second.outage
    assert backend(free_port()).outage is not first.outage


def test_the_warning_is_logged_once_per_interval(down, caplog):
    clock = down.outage.clock
    caplog.set_level(logging.WARNING, logger="core.cache")
    down.get("k")
    for _ in range(11):  # retries every 5 s for 55 s: all fail, none warns
        clock.now += 5
        down.get("k")
        down.get("k")  # skipped
    warnings = [r for r in caplog.records if r.name == "core.cache"]
    assert len(warnings) == 1
    assert "cache unreachable" in warnings[0].getMessage()
    assert "ConnectionError" in warnings[0].getMessage()
    clock.now += 5  # 60 s after the first warning
    down.get("k")
    warnings = [r for r in caplog.records if r.name == "core.cache"]
    assert len(warnings) == 2
    # 12 failed tries and 11 skipped calls since the first warning.
    assert "calls_without_cache=23" in warnings[1].getMessage()
    assert "down_seconds=60" in warnings[1].getMessage()


def test_the_warning_never_shows_the_password(caplog):
    cache = FaultTolerantRedisCache(
        f"redis://:s3cret@127.0.0.1:{free_port()}/0", {"OPTIONS": OPTIONS}
    )
    caplog.set_level(logging.WARNING, logger="core.cache")
    cache.get("k")
    message = caplog.records[0].getMessage()
    assert "s3cret" not in message
    assert "redis://***@127.0.0.1:" in message


def test_health_reports_degraded_for_a_down_redis_and_ok_for_local_memory(settings):
    settings.CACHES = {"default": {"BACKEND": "core.cache.FaultTolerantRedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                                   "OPTIONS": OPTIONS}}  # fmt: skip
    assert cache_status() == "degraded"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    assert cache_status() == "ok"


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on a free port, started by ``start()``."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    processes = []

    def start() -> None:
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(tmp_path)]
        processes.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))
        wait_until(lambda: _answers(port), timeout=10, what="redis-server")

    yield port, start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_the_cache_is_used_again_once_redis_is_back(redis_server, caplog):
    port, start = redis_server
    cache = backend(port)
    clock = cache.outage.clock = Clock()
    caplog.set_level(logging.INFO, logger="core.cache")
    cache.set("k", "v")
    assert cache.reachable() is False
    start()
    assert cache.get("k") is None, "still skipped within the retry interval"
    clock.now += 5
    cache.set("k", "v")
    assert cache.get("k") == "v"
    assert cache.reachable() is True
    cache.add("counter", 0)
    assert cache.incr("counter") == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "core.cache"]
    assert len(messages) == 2
    assert messages[0].startswith("cache unreachable")
    assert messages[1].startswith("cache reachable again")
