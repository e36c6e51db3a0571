"""The one way sources talk HTTP: timeouts, bounded retries with backoff, a User-Agent.

``requests`` has no default timeout, so a hung server would hang a crawl (and the
scheduler) forever; the session below applies ``(connect, read)`` timeouts to every
request that does not set its own.
"""

import logging

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

# 429 and 5xx are worth retrying; 403 is a verdict (bot protection), not a hiccup.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CappedRetry(Retry):
    """urllib3's Retry, but a server's Retry-After never exceeds ``max_retry_after``:
    a "come back tomorrow" (Retry-After: 86400) must not park a crawl, and the
    scheduler worker running it, for a day."""

    max_retry_after: float = 120.0

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def new(self, **kwargs):
        retry = super().new(**kwargs)
        retry.max_retry_after = self.max_retry_after
        return retry


class TimeoutSession(requests.Session):
    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def build_session(
    *,
    retries: int | None = None,
    backoff_factor: float = 1.0,
    timeout: tuple[float, float] | None = None,
    max_retry_after: float | None = None,
) -> requests.Session:
    """A Session with timeouts, retries on 429/5xx (honouring Retry-After) and our UA.

    After the last retry the final response is returned (``raise_on_status=False``) so
    the source decides what it means: ``check_not_blocked`` turns 429/503 into
    SourceBlocked, ``raise_for_status`` anything else.
    """
    retry = CappedRetry(
        total=settings.INGESTION_RETRIES if retries is None else retries,
        connect=None,
        read=None,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset(
            {"GET", "POST", "HEAD"}
        ),  # Investing's calendar is a POST
        backoff_factor=backoff_factor,
        backoff_max=60,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.max_retry_after = (
        settings.INGESTION_MAX_RETRY_AFTER
        if max_retry_after is None
        else max_retry_after
    )
    session = TimeoutSession(
        timeout or (settings.INGESTION_CONNECT_TIMEOUT, settings.INGESTION_READ_TIMEOUT)
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = settings.INGESTION_USER_AGENT
    return session
