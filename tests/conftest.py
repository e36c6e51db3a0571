import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection

from ingestion import SAMPLES_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only when DATABASE_URL points at PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def fixture_path(relative: str) -> Path:
    """Path of the recorded payload ``relative`` ("fred/<file>"): under tests/fixtures/,
    or, for the recordings that are also the bundled sample data, the one copy of that
    file under src/ingestion/samples/<slug>/ (each folder's PROVENANCE.md says which)."""
    path = FIXTURES / relative
    if path.is_file():
        return path
    samples = list(SAMPLES_DIR.glob(f"*/{Path(relative).name}"))
    if len(samples) != 1:
        raise FileNotFoundError(
            f"no recorded fixture {relative!r} under {FIXTURES} or {SAMPLES_DIR}"
        )
    return samples[0]


def fixture_bytes(relative: str) -> bytes:
    return fixture_path(relative).read_bytes()


@pytest.fixture
def source_registry():
    """The one source registry (core.sources), empty for the test; the real sources
    are back afterwards. Register test doubles with ``register_source``."""
    from core import sources

    saved = dict(sources._registry)
    sources._registry.clear()
    yield sources
    sources._registry.clear()
    sources._registry.update(saved)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(autouse=True)
def _clear_cache():
    """The database is rolled back after each test; the cache must be too, and the
    API's hint of what it holds (calendar_api.views.common.recent_questions)."""
    from django.core.cache import cache

    from calendar_api.views.common import recent_questions

    cache.clear()
    recent_questions.clear()
    yield
    cache.clear()
    recent_questions.clear()


# Stands for "accept the request and never answer" in a scripted_server script.
HANG = (0, {}, b"")


@pytest.fixture
def scripted_server():
    """A local HTTP server answering each request with the next (status, headers, body).

    ``responses`` replays retries without sleeping and cannot hang, so the Retry-After
    and timeout tests need a real (loopback) server for urllib3 to sleep and wait on.
    ``start(script)`` returns the server's URL and the list of request times it fills;
    the last answer repeats once the script runs out; ``HANG`` holds the connection
    open in silence for 30 s. A script's own Content-Length is sent as given (a body
    shorter than it is a download cut off mid-way).
    """
    servers = []

    def start(script: list[tuple[int, dict[str, str], bytes]]):
        answers = list(script)
        seen: list[float] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with lock:
                    seen.append(time.monotonic())
                    answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if answer is HANG:
                    time.sleep(30)
                    return
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:  # a script may lie about it
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
