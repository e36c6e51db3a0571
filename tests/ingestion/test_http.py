"""The shared session: timeouts applied, bounded retries with backoff, User-Agent."""

import socket
import threading

import pytest
import requests
import responses
from responses import registries

from ingestion.errors import SourceBlocked
from ingestion.http import build_session
from ingestion.sources.base import check_not_blocked

URL = "https://calendar.example.invalid/feed"


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """urllib3's backoff sleeps, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", slept.append)
    return slept


@responses.activate(registry=registries.OrderedRegistry)
def test_a_500_then_a_200_succeeds_after_one_retry(sleeps):
    responses.get(URL, status=500)
    responses.get(URL, body=b"ok")

    response = build_session(retries=3, backoff_factor=0.5).get(URL)

    assert (response.status_code, response.content) == (200, b"ok")
    assert len(responses.calls) == 2


def test_a_429_is_retried_after_the_retry_after_header(sleeps, scripted_server):
    url, _ = scripted_server([(429, {"Retry-After": "7"}, b""), (200, {}, b"ok")])

    response = build_session(retries=3, backoff_factor=0.001).get(url)

    assert (response.status_code, response.content) == (200, b"ok")
    assert sleeps == [7]


def test_retry_after_is_capped(sleeps, scripted_server):
    url, _ = scripted_server([(503, {"Retry-After": "86400"}, b""), (200, {}, b"ok")])

    assert build_session(retries=1, max_retry_after=30).get(url).ok
    assert sleeps == [30]


def test_backoff_grows_between_retries_without_retry_after(sleeps, scripted_server):
    url, _ = scripted_server([(500, {}, b"")] * 3 + [(200, {}, b"ok")])

    assert build_session(retries=3, backoff_factor=0.5).get(url).ok
    # urllib3 retries the first failure at once, then waits factor * 2^(n-1).
    assert sleeps == [1.0, 2.0]


@responses.activate(registry=registries.OrderedRegistry)
def test_post_is_retried_too(sleeps):
    responses.post(URL, status=502)
    responses.post(URL, body=b"{}")

    assert build_session(retries=2, backoff_factor=0).post(URL, data={"a": 1}).ok
    assert len(responses.calls) == 2


@responses.activate(registry=registries.OrderedRegistry)
def test_a_retried_out_503_ends_as_source_blocked(sleeps):
    for _ in range(3):
        responses.get(URL, status=503, body=b"Service Unavailable")

    response = build_session(retries=2, backoff_factor=0).get(URL)

    # The last response comes back (no MaxRetryError); the source's check names it.
    assert response.status_code == 503
    assert len(responses.calls) == 3
    with pytest.raises(
        SourceBlocked, match=r"^demo: blocked by the source \(HTTP 503\)"
    ):
        check_not_blocked("demo", response.content, response.status_code)


@responses.activate(registry=registries.OrderedRegistry)
def test_a_retried_out_500_raises_a_clear_http_error(sleeps):
    for _ in range(2):
        responses.get(URL, status=500)

    response = build_session(retries=1, backoff_factor=0).get(URL)

    with pytest.raises(requests.HTTPError, match="500 Server Error"):
        response.raise_for_status()


@responses.activate
def test_timeout_and_user_agent_come_from_settings(settings):
    settings.INGESTION_CONNECT_TIMEOUT = 2.5
    settings.INGESTION_READ_TIMEOUT = 11.0
    settings.INGESTION_USER_AGENT = "dipcal-test/1"
    responses.get(URL, body=b"ok")

    build_session().get(URL)

    call = responses.calls[0]
    assert call.request.req_kwargs["timeout"] == (2.5, 11.0)
    assert call.request.headers["User-Agent"] == "dipcal-test/1"


@responses.activate
def test_an_explicit_timeout_wins():
    responses.get(URL, body=b"ok")
    build_session().get(URL, timeout=1)
    assert responses.calls[0].request.req_kwargs["timeout"] == 1


def test_a_server_that_never_answers_hits_the_read_timeout():
    """A real local socket that accepts and stays silent: the read timeout fires."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    held: list[socket.socket] = []
    threading.Thread(
        target=lambda: held.append(server.accept()[0]), daemon=True
    ).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/"
    try:
        with pytest.raises(requests.ConnectionError, match="Read timed out"):
            build_session(retries=0, timeout=(5, 0.2)).get(url)
    finally:
        for conn in held:
            conn.close()
        server.close()
