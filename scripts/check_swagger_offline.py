"""Check that Swagger UI at /api/docs/ works with no network but loopback.

Starts the app on 127.0.0.1 with a throwaway SQLite database, then runs Debian's
headless Chromium with every non-loopback host unresolvable, dumps the DOM after the
JavaScript ran and asserts the operations and the events filters are in it. Also
writes a screenshot to docs/img/swagger.png. Needs ``apt-get install chromium``.

    .venv/bin/python scripts/check_swagger_offline.py
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = [
    "/api/events/",
    "/api/events/{id}/",
    "/api/countries/",
    "/api/sources/",
    "/api/health/",
]
FILTERS = [
    "country", "currency", "date", "date_from", "date_to", "tz", "importance",
    "min_importance", "category", "source", "status", "has_actual", "q",
    "updated_since", "ordering", "cursor", "page_size", "format",
]  # fmt: skip
# Loopback only: any other name fails to resolve, so a CDN or font link cannot load.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # and nothing may go out through a proxy
    "--proxy-bypass-list=127.0.0.1",
    "--virtual-time-budget=20000",
    "--window-size=1280,1800",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("chromium not found: apt-get install -y chromium")


def main() -> int:
    browser = chromium()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "check-swagger-offline-" + os.urandom(16).hex(),
        }
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "migrate", "--no-input", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        server = subprocess.Popen(
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/api/health/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            # Deep link: Swagger UI opens the events list operation, showing its filters.
            url = f"{base}/api/docs/#/events/events_list"
            dom = subprocess.run(
                [browser, *CHROMIUM_FLAGS, "--dump-dom", url],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "HOME": tmp},
            ).stdout
            screenshot = ROOT / "docs" / "img" / "swagger.png"
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [browser, *CHROMIUM_FLAGS, f"--screenshot={screenshot}", url],
                capture_output=True,
                timeout=120,
                env={**os.environ, "HOME": tmp},
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    missing = [op for op in OPERATIONS if f'data-path="{op}"' not in dom]
    missing += [name for name in FILTERS if f'data-param-name="{name}"' not in dom]
    print(f"DOM: {len(dom)} characters; screenshot: {screenshot}")
    if "swagger-ui" not in dom or missing:
        print(f"FAILED: missing from the rendered page: {missing}")
        return 1
    print(
        f"OK: {len(OPERATIONS)} operations and {len(FILTERS)} filters rendered offline"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
