"""The shared cache is an accelerator, never a dependency.

Django's RedisCache raises on every call while Redis is down, so a Redis outage
turned every cached endpoint into a 500 while /api/health/ kept saying "ok".
``FaultTolerantRedisCache`` makes an unreachable Redis behave like an empty cache
that stores nothing: reads miss, writes are dropped, ``incr`` finds no counter. Each
caller then does what it does on a miss (the views compute the response uncached,
the throttle counts the request as a window's first, so throttling fails open), and
nothing above this module needs to know Redis exists.

A failed call marks Redis down for ``down_retry_seconds``: meanwhile calls skip it
instead of each waiting for a refused or timed-out connection. The warning is logged
when Redis goes down and then at most once per ``down_warning_seconds`` per process
(each gunicorn worker logs its own), with how many calls were skipped since the last
one; recovery is logged once. ``cache_status()`` reports it to /api/health/.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")
_MISSING = object()


class Outage:
    """Whether one Redis server is known to be down, shared by a process's threads.

    Django gives each thread its own cache backend instance; the outage is one
    fact per server, so its state (and the warning's rate limit) lives here.
    """

    def __init__(self, server: str, retry_seconds: float, warning_seconds: float):
        self.server = server
        self.retry_seconds = retry_seconds
        self.warning_seconds = warning_seconds
        self.clock = time.monotonic  # tests move it instead of sleeping
        self._lock = threading.Lock()
        self._retry_at = 0.0  # monotonic; before this, calls skip Redis
        self._down_since: float | None = None
        self._warned_at: float | None = None
        self._skipped = 0  # calls answered without Redis since the last warning

    def skip(self) -> bool:
        """True while Redis is known down and not yet due for another try."""
        if self._down_since is None:
            return False
        with self._lock:
            if self.clock() < self._retry_at:
                self._skipped += 1
                return True
            return False

    def failed(self, error: Exception) -> None:
        now = self.clock()
        with self._lock:
            self._retry_at = now + self.retry_seconds
            self._skipped += 1
            if self._down_since is None:
                self._down_since = now
            if (
                self._warned_at is not None
                and now - self._warned_at < self.warning_seconds
            ):
                return
            self._warned_at, skipped, self._skipped = now, self._skipped, 0
            down_for = now - self._down_since
        logger.warning(
            "cache unreachable: server=%s error=%s down_seconds=%d calls_without_cache=%d; "
            "serving uncached, retrying every %gs",
            self.server,
            _describe(error),
            down_for,
            skipped,
            self.retry_seconds,
        )

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            down_for = self.clock() - self._down_since
            self._down_since = self._warned_at = None
            self._retry_at, self._skipped = 0.0, 0
        logger.info(
            "cache reachable again: server=%s down_seconds=%d", self.server, down_for
        )


_outages: dict[tuple[str, ...], Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(servers: list[str], retry: float, warning: float) -> Outage:
    key = tuple(servers)
    with _outages_lock:
        if key not in _outages:
            _outages[key] = Outage(_redact(servers[0]), retry, warning)
        return _outages[key]


def _redact(url: str) -> str:
    """The server URL without a password, for log lines."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}{sep}***@{host}" if at and credentials else url


def _describe(error: Exception) -> str:
    return f'"{error.__class__.__name__}: {str(error)[:200]}"'


class FaultTolerantRedisCache(RedisCache):
    """RedisCache where an unreachable Redis is an empty cache that stores nothing.

    Extra OPTIONS (the rest go to redis-py): ``down_retry_seconds`` (default 5),
    ``down_warning_seconds`` (default 60).
    """

    def __init__(self, server: str, params: dict[str, Any]):
        options = dict(params.get("OPTIONS") or {})
        retry = float(options.pop("down_retry_seconds", 5))
        warning = float(options.pop("down_warning_seconds", 60))
        super().__init__(server, {**params, "OPTIONS": options})
        self.outage = _outage_for(self._servers, retry, warning)

    def _guard(self, fallback: T, call: Callable[..., T], *args: Any) -> T:
        """call(*args), or ``fallback`` while Redis is down or when the call fails."""
        if self.outage.skip():
            return fallback
        try:
            result = call(*args)
        except RedisError as error:
            self.outage.failed(error)
            return fallback
        self.outage.succeeded()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._guard(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._guard(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._guard({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._guard(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        # An empty cache has no counter: ValueError, as RedisCache raises for a
        # missing key. AnonWindowThrottle then counts the request as the first.
        result = self._guard(_MISSING, super().incr, key, delta, version)
        if result is _MISSING:
            raise ValueError(f"Key '{key}' not found (the cache is unreachable).")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # The keys that could not be stored: all of them.
        return self._guard(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._guard(None, super().delete_many, keys, version)

    def clear(self):
        return self._guard(False, super().clear)

    def reachable(self) -> bool:
        """Ask Redis (unless it is known down); False when it does not answer."""
        return self._guard(False, self._ping)

    def _ping(self) -> bool:
        return bool(self._cache.get_client(write=True).ping())


def cache_status(alias: str = "default") -> str:
    """The shared cache's state: "ok", or "degraded" while it is unreachable."""
    reachable = getattr(caches[alias], "reachable", None)
    return "ok" if reachable is None or reachable() else "degraded"
