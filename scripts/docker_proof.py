"""The Docker deployment, proven on a real engine, the way an operator runs it.

Clones the committed HEAD into a scratch directory and runs the documentation's
shell blocks there literally: README.md "Running with Docker" (.env from
.env.example, the two secrets, `docker compose up -d --build`, loadsample, curl),
docs/deployment.md "Upgrading" (to a release whose migration fails, then to one whose
migration works) and "The shared cache (Redis)". Around them it checks what those
documents promise. Prints PASS/FAIL/TIME/NOTE lines, each check with its duration,
and `failures: N` last; exits 1 on any FAIL, 2 when no engine answers. The stack is
always taken down (`docker compose down -v`); the scratch directory, with every
command and its output in commands.log, is removed unless something failed.

    python3 scripts/docker_proof.py          # needs docker and docker compose v2.24+

The only departures from the documents, each printed as a NOTE: the compose project
name (COMPOSE_PROJECT_NAME) and the host port (WEB_PORT) are unique to the run so a
real stack on the same engine is never touched; `docker compose exec` gets -T (no
terminal in CI); curl is pointed at that port.
"""

import argparse
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_SECTION = "Running with Docker"
UPGRADE_SECTION = "Upgrading"
REDIS_SECTION = "The shared cache (Redis)"
GIT_IDENTITY = [
    "-c",
    "user.name=docker-proof",
    "-c",
    "user.email=docker-proof@localhost",
]
IMAGE_LABEL = "org.opencontainers.image.title=dipping-calendar"


class Failed(Exception):
    """Why a check failed, in one line."""


# ---- reporting ------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.lines: list[str] = []
        self.failures = 0

    def line(self, kind: str, text: str) -> None:
        self.lines.append(f"{kind:5} {text}")
        print(f"{kind:5} {text}", flush=True)

    def note(self, text: str) -> None:
        self.line("NOTE", text)

    def time(self, what: str, seconds: float) -> None:
        self.line("TIME", f"{what}: {seconds:.1f} s")

    def check(self, what: str, run: Callable[[], str | None]) -> bool:
        """PASS when ``run`` returns (its text is the detail), FAIL when it raises."""
        started = time.monotonic()
        try:
            detail = run()
        except Failed as failure:
            ok, detail = False, str(failure)
        except Exception as error:  # a bug in the proof is a failure, never a pass
            ok, detail = False, f"{error.__class__.__name__}: {error}"
        else:
            ok = True
        took = time.monotonic() - started
        self.line(
            "PASS" if ok else "FAIL",
            f"{what}{f' ({detail})' if detail else ''} [{took:.1f} s]",
        )
        self.failures += not ok
        return ok

    def summary(self) -> None:
        self.time("total", time.monotonic() - self.started)
        print("\n==> Summary", flush=True)
        for line in self.lines:
            print(line)
        print(f"failures: {self.failures}", flush=True)


def step(title: str) -> None:
    print(f"\n==> {title}", flush=True)


# ---- the documents ----------------------------------------------------------------------


def doc_block(path: Path, heading: str) -> list[str]:
    """The first ```sh block in the section whose heading starts with ``heading``:
    its command lines, comment-only and blank lines dropped."""
    lines = path.read_text().splitlines()
    start = next(
        (
            n
            for n, line in enumerate(lines)
            if re.match(r"#+\s", line) and line.lstrip("#").strip().startswith(heading)
        ),
        None,
    )
    if start is None:
        raise Failed(f"{path.name} has no section '{heading}'")
    commands: list[str] = []
    inside = False
    for line in lines[start + 1 :]:
        if not inside and re.match(r"#+\s", line):
            break
        if line.startswith("```"):
            if inside:
                return commands
            inside = True
            continue
        if inside and line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    raise Failed(f"{path.name} '{heading}' has no shell block")


# ---- the stack ----------------------------------------------------------------------------


@dataclass
class Response:
    status: int  # 0: nothing answered
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        try:
            return json.loads(self.body)
        except ValueError:
            raise Failed(f"HTTP {self.status}, not JSON: {self.body[:120]!r}") from None


class Stack:
    """One compose project in a clone of the repository."""

    def __init__(self, directory: Path, name: str, port: int, logs: Path) -> None:
        self.dir = directory
        self.name = name
        self.port = port
        self.logs = logs
        self.env = {**os.environ, "COMPOSE_PROJECT_NAME": name, "WEB_PORT": str(port)}

    def sh(self, line: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """Runs a shell line in the clone; its output goes to the log too."""
        result = subprocess.run(
            ["bash", "-c", line],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        with self.logs.open("a") as log:
            log.write(
                f"+ {line}\n{result.stdout}{result.stderr}[exit {result.returncode}]\n"
            )
        return result

    def compose(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return self.sh(" ".join(["docker", "compose", *args]), timeout)

    def container(self, service: str) -> str:
        return self.compose("ps", "-a", "-q", service).stdout.strip().split("\n")[0]

    def inspect(self, target: str, template: str) -> str:
        result = self.sh(f"docker inspect -f '{template}' {target}")
        return result.stdout.strip() if result.returncode == 0 else ""

    def state(self, service: str) -> str:
        """Health when the container has a healthcheck, else its status."""
        cid = self.container(service)
        if not cid:
            return "missing"
        return self.inspect(
            cid,
            "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}",
        )

    def exit_code(self, service: str) -> str:
        return self.inspect(self.container(service), "{{.State.ExitCode}}")

    def get(self, path: str, timeout: float = 15, **headers: str) -> Response:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return Response(reply.status, dict(reply.headers), reply.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())
        except (urllib.error.URLError, OSError):
            return Response(0, {}, b"")

    def wait_for(
        self, what: str, condition: Callable[[], bool], timeout: float
    ) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if condition():
                return time.monotonic() - started
            time.sleep(0.25)
        raise Failed(f"{what}: not within {timeout:.0f} s")


class Prober(threading.Thread):
    """Asks /api/health/ twice a second; keeps (monotonic time, status)."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append(
                (time.monotonic(), self.stack.get("/api/health/", timeout=3).status)
            )
            self.done.wait(0.5)

    def stop(self) -> list[tuple[float, int]]:
        self.done.set()
        self.join(timeout=10)
        return self.samples


def run_streamed(
    stack: Stack, line: str, timeout: float = 900
) -> tuple[int, list[tuple[float, str]]]:
    """Runs a documented line; returns its exit status and its output lines, timed."""
    process = subprocess.Popen(
        ["bash", "-c", line],
        cwd=stack.dir,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    output = [(time.monotonic(), text.rstrip("\n")) for text in process.stdout]
    rc = process.wait()
    timer.cancel()
    with stack.logs.open("a") as log:
        log.write(
            f"+ {line}\n" + "".join(f"{t}\n" for _, t in output) + f"[exit {rc}]\n"
        )
    return rc, output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seconds(duration: str) -> float:
    """A Go duration as docker inspect prints it: "5s", "1m30s", "500ms"."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"([\d.]+)(h|ms|us|µs|ns|m|s)", duration)
    if not parts:
        raise Failed(f"not a duration: {duration!r}")
    return sum(float(n) * units[u] for n, u in parts)


# ---- the proof ------------------------------------------------------------------------------


class Proof:
    def __init__(self, report: Report, work: Path) -> None:
        self.report = report
        self.work = work
        self.project = work / "project"
        self.upstream = work / "upstream"
        self.stack = Stack(
            self.project,
            f"dipcal-proof-{os.getpid()}",
            free_port(),
            work / "commands.log",
        )
        self.checks = report.check

    # -- 1. the README's steps ----------------------------------------------------------------

    def readme(self) -> None:
        step(f'1. Clone the committed HEAD and follow README.md "{README_SECTION}"')
        head = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if dirty:
            self.report.note(
                "uncommitted changes are not part of the proof: it runs the committed HEAD"
            )
        subprocess.run(
            ["git", "clone", "--quiet", str(ROOT), str(self.project)], check=True
        )
        subprocess.run(
            ["git", "-C", str(self.project), "checkout", "--quiet", "-B", "proof"],
            check=True,
        )
        engine = self.stack.sh(
            "docker version --format '{{.Server.Version}}'"
        ).stdout.strip()
        compose = self.stack.sh("docker compose version --short").stdout.strip()
        self.report.note(f"project {head}; engine {engine}, compose {compose}")
        self.report.note(
            f"COMPOSE_PROJECT_NAME={self.stack.name} WEB_PORT={self.stack.port} for every command "
            "(a real stack on this engine is never touched)"
        )
        block = doc_block(self.project / "README.md", README_SECTION)
        up = next(
            (n for n, line in enumerate(block) if line.startswith("docker compose up")),
            None,
        )
        if up is None:
            raise Failed(f"README '{README_SECTION}' has no `docker compose up` line")
        for line in block[:up]:
            self.checks(
                f"README: {shown(line)[:70]}",
                lambda line=line: self.run_ok(line, timeout=60),
            )
        self.checks(".env has both secrets", self.secrets_filled)
        self.checks(
            "docker compose config",
            lambda: self.run_ok("docker compose config --quiet"),
        )
        self.up(block[up])
        for line in block[up + 1 :]:
            if line.startswith("docker compose exec "):
                literal = line.replace(
                    "docker compose exec ", "docker compose exec -T ", 1
                )
                self.checks(
                    f"README: {shown(literal)}",
                    lambda literal=literal: self.run_ok(literal),
                )
            elif line.startswith("curl "):
                pointed = line.replace("127.0.0.1:8000", f"127.0.0.1:{self.stack.port}")
                self.checks(
                    f"README: {shown(pointed)}",
                    lambda p=pointed: self.curl_ok(p),
                )
            else:
                self.checks(
                    f"README: {shown(line)}", lambda line=line: self.run_ok(line)
                )

    def run_ok(self, line: str, timeout: float = 900) -> str:
        result = self.stack.sh(line, timeout)
        if result.returncode != 0:
            raise Failed(
                f"exit {result.returncode}: {last_line(result.stdout + result.stderr)}"
            )
        return "exit 0"

    def curl_ok(self, line: str) -> str:
        result = self.stack.sh(line, timeout=60)
        if result.returncode != 0 or '"status":"ok"' not in result.stdout.replace(
            " ", ""
        ):
            raise Failed(f"exit {result.returncode}: {result.stdout[:200]}")
        return "status ok"

    def secrets_filled(self) -> str:
        values = dict(
            line.split("=", 1) for line in (self.project / ".env").read_text().splitlines()
            if re.match(r"^[A-Z_]+=", line)
        )  # fmt: skip
        if len(values.get("DJANGO_SECRET_KEY", "")) < 50 or not values.get(
            "POSTGRES_PASSWORD"
        ):
            raise Failed(
                "DJANGO_SECRET_KEY (50+ characters) or POSTGRES_PASSWORD missing"
            )
        return "DJANGO_SECRET_KEY and POSTGRES_PASSWORD set"

    def up(self, line: str) -> None:
        started = time.monotonic()
        result = self.stack.sh(line, timeout=2400)
        self.report.time(f"{shown(line)} (build and start)", time.monotonic() - started)
        output = result.stdout + result.stderr
        if not self.checks(shown(line), lambda: self.status(result)):
            print(output[-3000:], flush=True)
            raise Failed("the stack did not come up")
        self.checks(
            "no registry asked for the app image, no '# syntax' frontend fetched",
            lambda: no_registry(output),
        )
        self.checks(
            "migrate exited 0, db and web healthy, scheduler running", self.stack_up
        )
        self.checks(
            "web healthy within seconds of gunicorn answering", self.healthy_soon
        )

    @staticmethod
    def status(result: subprocess.CompletedProcess) -> str:
        if result.returncode != 0:
            raise Failed(
                f"exit {result.returncode}: {last_line(result.stdout + result.stderr)}"
            )
        return "exit 0"

    def stack_up(self) -> str:
        def ready() -> bool:
            migrate = self.stack.inspect(
                self.stack.container("migrate"), "{{.State.Status}} {{.State.ExitCode}}"
            )
            if migrate.startswith("exited") and migrate != "exited 0":
                raise Failed(f"migrate {migrate}")
            return (
                migrate == "exited 0"
                and self.stack.state("db") == "healthy"
                and self.stack.state("web") == "healthy"
                and self.stack.state("scheduler") == "running"
            )

        took = self.stack.wait_for("the stack", ready, timeout=300)
        return f"{took:.0f} s after up returned"

    def healthy_soon(self) -> str:
        """Restarts web and times gunicorn's first 200 against Docker's 'healthy'."""
        self.run_ok("docker compose restart web")
        answered = healthy = None
        reset = False  # Docker starts a restarted container's health over ("starting")
        started = time.monotonic()
        while time.monotonic() - started < 300 and healthy is None:
            now = time.monotonic()
            if (
                answered is None
                and self.stack.get("/api/health/", timeout=2).status == 200
            ):
                answered = now
            state = self.stack.state("web")
            reset = reset or state != "healthy"
            if reset and answered is not None and state == "healthy":
                healthy = now
            time.sleep(0.25)
        if answered is None or healthy is None:
            raise Failed(f"web {self.stack.state('web')} after 300 s")
        config = self.stack.inspect(
            self.stack.container("web"),
            "{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Timeout}}",
        )
        interval, timeout = (seconds(v) for v in config.split())
        # A probe that starts just before gunicorn answers may time out; the next
        # one runs an interval later. Beyond that the interval is too long.
        bound = 2 * (interval + timeout)
        lag = max(healthy - answered, 0.0)
        detail = f"healthy {lag:.1f} s after the first 200; probe every {interval:g} s, bound {bound:g} s"
        if lag > bound:
            raise Failed(detail)
        return detail

    # -- 2. what the stack promises --------------------------------------------------------------

    def behaviour(self) -> None:
        step("2. Behaviour")
        self.checks("GET /api/health/: 200, database ok, cache ok", self.health_ok)
        self.checks("GET /api/events/?country=US: US events", self.us_events)
        self.checks(
            "Swagger UI and Redoc with their hashed, compressed assets", self.docs_pages
        )
        self.checks(
            "admin static files, hashed and the unhashed names its scripts build",
            self.admin_static,
        )
        self.checks("scheduler is the leader and has its jobs", self.scheduler_leads)
        for service in ("web", "scheduler"):
            self.checks(f"{service} runs as uid 10001", lambda s=service: self.uid(s))
        self.checks("web cannot write /app", self.app_read_only)
        self.checks("a weak DJANGO_SECRET_KEY is refused", self.weak_secret)
        self.image_size()
        self.checks(
            "db stopped: /api/health/ and /api/events/ answer 503", self.db_down
        )
        self.checks("db started again: /api/health/ 200", self.db_back)

    def health_ok(self) -> str:
        body = self.stack.get("/api/health/").json()
        if (body.get("status"), body.get("database"), body.get("cache")) != (
            "ok",
            "ok",
            "ok",
        ):
            raise Failed(json.dumps(body)[:200])
        return "status ok, database ok, cache ok"

    def us_events(self) -> str:
        response = self.stack.get("/api/events/?country=US", timeout=30)
        results = response.json().get("results") or []
        if (
            response.status != 200
            or not results
            or any(e["country"] != "US" for e in results)
        ):
            raise Failed(f"HTTP {response.status}, {len(results)} results")
        return f"{len(results)} US events on the first page"

    def hashed_link(self, page: str, name: str, extension: str) -> str:
        """The content-hashed /static/ URL of ``name`` that ``page`` links to."""
        html = self.stack.get(page)
        match = re.search(
            rf'/static/[^"\']*{re.escape(name)}\.[0-9a-f]{{12}}\.{extension}',
            html.body.decode(errors="replace"),
        )
        if html.status != 200 or not match:
            found = "found" if match else "missing"
            raise Failed(f"{page}: HTTP {html.status}, hashed {name} link {found}")
        return match[0]

    def docs_pages(self) -> str:
        found = []
        for page, asset in (
            ("/api/docs/", "swagger-ui-bundle"),
            ("/api/redoc/", "redoc.standalone"),
        ):
            link = self.hashed_link(page, asset, "js")
            served = self.stack.get(link, **{"Accept-Encoding": "gzip"})
            if served.status != 200 or served.headers.get("Content-Encoding") != "gzip":
                raise Failed(
                    f"{link}: HTTP {served.status}, {served.headers.get('Content-Encoding')}"
                )
            found.append(link.rsplit("/", 1)[1])
        if self.stack.get("/api/schema/").status != 200:
            raise Failed("/api/schema/ not 200")
        return ", ".join(found) + " served gzipped; /api/schema/ 200"

    def admin_static(self) -> str:
        css = self.hashed_link("/admin/login/", "admin/css/base", "css")
        icon = "/static/admin/img/icon-calendar.svg"  # DateTimeShortcuts.js builds this URL
        statuses = {css: self.stack.get(css).status, icon: self.stack.get(icon).status}
        if set(statuses.values()) != {200}:
            raise Failed(str(statuses))
        return ", ".join(f"{path} 200" for path in statuses)

    def scheduler_leads(self) -> str:
        def log() -> str:
            return self.stack.compose("logs", "--no-color", "scheduler").stdout

        self.stack.wait_for(
            "leadership",
            lambda: "is the leader" in log() and "started with" in log(),
            90,
        )
        jobs = re.findall(r"scheduler started with \d+ jobs", log())
        return jobs[-1]

    def uid(self, service: str) -> str:
        result = self.stack.compose("exec", "-T", service, "id", "-u")
        if result.stdout.strip() != "10001":
            raise Failed(f"id -u: {result.stdout.strip() or result.stderr.strip()}")
        return "id -u: 10001"

    def app_read_only(self) -> str:
        result = self.stack.compose("exec", "-T", "web", "touch", "/app/.write-test")
        if result.returncode == 0:
            raise Failed("touch /app/.write-test succeeded")
        return last_line(result.stderr)

    def weak_secret(self) -> str:
        result = self.stack.compose(
            "run",
            "--rm",
            "--no-deps",
            "-T",
            "-e",
            "DJANGO_SECRET_KEY=short",
            "web",
            timeout=300,
        )
        output = result.stdout + result.stderr
        if result.returncode == 0 or "DJANGO_SECRET_KEY is unset or weak" not in output:
            raise Failed(f"exit {result.returncode}: {last_line(output)}")
        return f"exit {result.returncode}: DJANGO_SECRET_KEY is unset or weak"

    def image_size(self) -> None:
        image = self.stack.inspect(self.stack.container("web"), "{{.Config.Image}}")
        base = runtime_base(self.project / "Dockerfile")

        def history(ref: str) -> list[tuple[int, str]]:
            rows = self.stack.sh(
                f"docker history --no-trunc --human=false --format '{{{{.Size}}}}\t{{{{.CreatedBy}}}}' {ref}"
            ).stdout
            return [
                (int(size), created)
                for size, _, created in (r.partition("\t") for r in rows.splitlines())
            ]

        layers_all = history(image)
        ours = layers_all[: len(layers_all) - len(history(base))]  # above the base
        size = int(
            self.stack.sh(
                f"docker image inspect -f '{{{{.Size}}}}' {image}"
            ).stdout.strip()
            or 0
        )
        layers = ", ".join(
            f"{describe_layer(c)} {s / 1e6:.1f} MB" for s, c in ours if s > 100_000
        )
        self.report.note(
            f"image {image}: {size / 1e6:.0f} MB; the project's own layers "
            f"{sum(s for s, _ in ours) / 1e6:.1f} MB ({layers}) on {base}"
        )

    def db_down(self) -> str:
        self.run_ok("docker compose stop db")
        self.stack.wait_for(
            "503", lambda: self.stack.get("/api/health/").status == 503, 30
        )
        events = self.stack.get("/api/events/")
        if events.status != 503 or events.headers.get("Retry-After") != "5":
            raise Failed(
                f"/api/events/: HTTP {events.status}, Retry-After {events.headers.get('Retry-After')}"
            )
        return "503 with Retry-After: 5"

    def db_back(self) -> str:
        self.run_ok("docker compose start db")
        took = self.stack.wait_for(
            "200", lambda: self.stack.get("/api/health/").status == 200, 120
        )
        return f"{took:.0f} s after start"

    # -- 3. upgrades --------------------------------------------------------------------------------

    def upgrades(self) -> None:
        step(f'3. Upgrades: docs/deployment.md "{UPGRADE_SECTION}", run literally')
        block = doc_block(self.project / "docs" / "deployment.md", UPGRADE_SECTION)
        self.report.note(
            f"the documented upgrade: {' && '.join(shown(line) for line in block)}"
        )
        self.make_upstream()
        migration = self.commit_migration(
            'raise RuntimeError("this migration fails on purpose (upgrade check)")',
            "A release whose migration fails",
        )
        self.report.note(f"release 1: {migration} raises")
        self.checks(
            "upgrade to a release whose migration fails: old web serves throughout",
            lambda: self.failing_upgrade(block),
        )
        self.commit_migration(
            'schema_editor.execute("CREATE TABLE upgrade_check (id integer)")',
            "The migration fixed",
        )
        self.report.note(f"release 2: {migration} creates a table")
        self.checks(
            "upgrade to a release whose migration works: new web serves",
            lambda: self.good_upgrade(block),
        )

    def make_upstream(self) -> None:
        """A second clone plays the remote the operator pulls releases from."""
        git = ["git", *GIT_IDENTITY]
        subprocess.run(
            [*git, "clone", "--quiet", str(self.project), str(self.upstream)],
            check=True,
        )
        subprocess.run(
            [*git, "-C", str(self.upstream), "checkout", "--quiet", "-B", "proof"],
            check=True,
        )
        for args in (
            ["remote", "set-url", "origin", str(self.upstream)],
            ["fetch", "--quiet", "origin"],
            ["branch", "--quiet", "--set-upstream-to=origin/proof", "proof"],
            ["config", "pull.ff", "only"],
        ):
            subprocess.run([*git, "-C", str(self.project), *args], check=True)

    def commit_migration(self, body: str, message: str) -> str:
        migrations = self.upstream / "src" / "core" / "migrations"
        existing = sorted(
            p.stem
            for p in migrations.glob("[0-9][0-9][0-9][0-9]_*.py")
            if "upgrade_check" not in p.stem
        )
        leaf = existing[-1]
        name = f"{int(leaf[:4]) + 1:04d}_upgrade_check"
        (migrations / f"{name}.py").write_text(
            "from django.db import migrations\n\n\n"
            f"def forwards(apps, schema_editor):\n    {body}\n\n\n"
            "class Migration(migrations.Migration):\n"
            f'    dependencies = [("core", "{leaf}")]\n'
            "    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]\n"
        )
        git = ["git", *GIT_IDENTITY, "-C", str(self.upstream)]
        subprocess.run([*git, "add", "--all"], check=True)
        subprocess.run([*git, "commit", "--quiet", "-m", message], check=True)
        return f"core/migrations/{name}.py"

    def run_block(
        self, block: list[str]
    ) -> tuple[list[tuple[str, int, list[tuple[float, str]]]], Prober]:
        prober = Prober(self.stack)
        prober.start()
        ran = []
        for line in block:
            started = time.monotonic()
            rc, output = run_streamed(self.stack, line, timeout=2400)
            self.report.time(f"{shown(line)} (exit {rc})", time.monotonic() - started)
            ran.append((line, rc, output))
            if rc != 0:
                break
        time.sleep(5)  # keep probing a little after the last step
        prober.stop()
        return ran, prober

    def failing_upgrade(self, block: list[str]) -> str:
        before = {s: self.stack.container(s) for s in ("web", "scheduler")}
        ran, prober = self.run_block(block)
        line, rc, output = ran[-1]
        if rc == 0:
            raise Failed(f"'{shown(line)}' succeeded although the migration fails")
        logs = self.stack.compose("logs", "--no-color", "migrate").stdout
        if "fails on purpose" not in logs:
            raise Failed(
                f"'{shown(line)}' failed before the migration ran: {last_line(text_of(output))}"
            )
        after = {s: self.stack.container(s) for s in ("web", "scheduler")}
        states = {s: self.stack.state(s) for s in ("web", "scheduler")}
        bad = [status for _, status in prober.samples if status != 200]
        if after != before or states != {"web": "healthy", "scheduler": "running"}:
            raise Failed(f"containers replaced or stopped: {states}")
        if bad or self.stack.get("/api/health/").status != 200:
            raise Failed(
                f"/api/health/ not 200 in {len(bad)} of {len(prober.samples)} probes"
            )
        return (
            f"'{shown(line)}' exit {rc}, migrate's log holds the error; /api/health/ 200 in all "
            f"{len(prober.samples)} probes; the same web and scheduler containers, {states['web']} and {states['scheduler']}"
        )

    def good_upgrade(self, block: list[str]) -> str:
        before = {s: self.stack.container(s) for s in ("web", "scheduler")}
        ran, prober = self.run_block(block)
        line, rc, output = ran[-1]
        if rc != 0:
            raise Failed(f"'{shown(line)}' exit {rc}: {last_line(text_of(output))}")
        swap = next((t for t, text in output if "4/4" in text), None)
        if swap is None:
            raise Failed(f"'{shown(line)}' never reached the replace step")
        early = [status for t, status in prober.samples if t < swap and status != 200]
        if early:
            raise Failed(
                f"/api/health/ not 200 in {len(early)} probes before the migration had succeeded"
            )
        gap = swap_gap(prober.samples, swap)
        if gap is not None:
            self.report.time("web unavailable while it was replaced", gap)
        after = {s: self.stack.container(s) for s in ("web", "scheduler")}
        if any(after[s] == before[s] for s in after):
            raise Failed("web or scheduler was not replaced")
        latest = self.stack.sh(
            "docker image inspect -f '{{.Id}}' dipping-calendar:latest"
        ).stdout.strip()
        images = {
            s: self.stack.inspect(self.stack.container(s), "{{.Image}}")
            for s in ("migrate", "web", "scheduler")
        }
        if set(images.values()) != {latest}:
            raise Failed(f"not all on the new image {latest[:19]}: {images}")
        applied = self.stack.compose(
            "exec", "-T", "web", "python", "manage.py", "showmigrations", "core"
        ).stdout
        if not re.search(r"\[X\] \d{4}_upgrade_check", applied):
            raise Failed("the new migration is not applied")
        if (
            self.stack.state("web") != "healthy"
            or self.stack.get("/api/health/").status != 200
        ):
            raise Failed(f"web {self.stack.state('web')}")
        return (
            f"/api/health/ 200 until the migration had succeeded; migrate, web and scheduler on the new "
            f"image, {images['web'][7:19]}; upgrade_check applied; web healthy"
        )

    # -- 4. Redis -----------------------------------------------------------------------------------

    def redis(self) -> None:
        step(f'4. docs/deployment.md "{REDIS_SECTION}", then Redis stopped and started')
        block = doc_block(self.project / "docs" / "deployment.md", REDIS_SECTION)
        # Not in the documents: a low limit, to see throttling with and without Redis.
        with (self.project / ".env").open("a") as env:
            env.write("API_THROTTLE_ANON=5/minute\n")
        self.report.note(
            "API_THROTTLE_ANON=5/minute added to .env to watch the throttle"
        )
        for line in block:
            self.checks(
                f"docs: {shown(line)}",
                lambda line=line: self.run_ok(line, timeout=1200),
            )
        self.checks(
            "redis healthy, web healthy, health reports cache ok", self.redis_up
        )
        self.checks("responses cached in Redis, throttling enforced", self.redis_used)
        self.checks(
            "Redis stopped: every endpoint 200 (uncached), throttling open, health 200 'degraded'",
            self.redis_down,
        )
        self.checks("the outage is logged once per web process", self.outage_logged)
        self.checks(
            "Redis started again: cache ok, throttling enforced again", self.redis_back
        )

    def redis_up(self) -> str:
        for service in ("redis", "web"):
            self.stack.wait_for(
                f"{service} healthy",
                lambda s=service: self.stack.state(s) == "healthy",
                120,
            )
        body = self.stack.get("/api/health/").json()
        if body.get("cache") != "ok":
            raise Failed(json.dumps(body)[:200])
        return "cache ok"

    def redis_used(self) -> str:
        if self.stack.get("/api/events/?country=US", timeout=30).status != 200:
            raise Failed("/api/events/?country=US not 200")
        keys = self.stack.compose(
            "exec", "-T", "redis", "redis-cli", "dbsize"
        ).stdout.strip()
        statuses = [self.stack.get("/api/countries/").status for _ in range(15)]
        if not keys.isdigit() or int(keys) < 1 or 429 not in statuses:
            raise Failed(f"{keys} keys; statuses {statuses}")
        return f"{keys} keys in Redis; 15 requests at 5/minute: {statuses.count(429)} x 429"

    def redis_down(self) -> str:
        self.outage_from = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.run_ok("docker compose stop redis")
        event = self.stack.get("/api/events/?country=US").json()["results"][0]["id"]
        paths = [
            "/api/events/?country=US", "/api/events/?country=GB&format=csv", "/api/events/?format=ics",
            f"/api/events/{event}/", "/api/countries/", "/api/sources/", "/api/schema/",
        ]  # fmt: skip
        statuses = {
            path: [self.stack.get(path, timeout=30).status for _ in range(2)]
            for path in paths
        }
        throttled = [self.stack.get("/api/countries/").status for _ in range(15)]
        health = self.stack.get("/api/health/")
        body = health.json()
        wrong = {p: s for p, s in statuses.items() if s != [200, 200]}
        if (
            wrong
            or set(throttled) != {200}
            or health.status != 200
            or body.get("cache") != "degraded"
        ):
            raise Failed(
                f"{wrong}; throttled {throttled}; health {health.status} {json.dumps(body)[:120]}"
            )
        return f"{len(paths)} endpoints x 2: 200; 15 requests at 5/minute: all 200; health 200 cache degraded"

    def outage_logged(self) -> str:
        """At most one warning per process per interval (60 s), and no 500 at all."""
        logs = self.stack.compose(
            "logs", "--no-color", "--since", self.outage_from, "web"
        ).stdout
        warned: dict[str, list[float]] = {}
        for line in logs.splitlines():
            found = re.search(
                r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\S* level=WARNING logger=core\.cache pid=(\d+) cache unreachable",
                line,
            )
            if found:
                at = time.mktime(time.strptime(found[1], "%Y-%m-%dT%H:%M:%S"))
                warned.setdefault(found[2], []).append(at)
        too_close = {
            pid: times
            for pid, times in warned.items()
            if any(b - a < 59 for a, b in itertools.pairwise(times))
        }
        if not warned or too_close:
            raise Failed(
                f"warnings per process: { {p: len(t) for p, t in warned.items()} }"
            )
        if "status=500" in logs:
            raise Failed("a 500 in the access log")
        count = sum(len(t) for t in warned.values())
        return f"{count} warnings from {len(warned)} processes, none twice within 60 s; no 500"

    def redis_back(self) -> str:
        self.run_ok("docker compose start redis")
        self.stack.wait_for(
            "redis healthy", lambda: self.stack.state("redis") == "healthy", 120
        )
        took = self.stack.wait_for(
            "cache ok",
            lambda: self.stack.get("/api/health/").json().get("cache") == "ok",
            60,
        )
        # Each worker tries Redis again 5 s after its last failure: give them that.
        time.sleep(6)
        statuses = [self.stack.get("/api/countries/").status for _ in range(15)]
        if 429 not in statuses:
            raise Failed(f"statuses {statuses}")
        logs = self.stack.compose(
            "logs", "--no-color", "--since", self.outage_from, "web"
        ).stdout
        if "cache reachable again" not in logs:
            raise Failed("no 'cache reachable again' in the web log")
        return f"cache ok {took:.0f} s after redis was healthy; {statuses.count(429)} x 429 again; recovery logged"

    # -- 5. stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        step("5. docker compose stop")
        self.checks(
            "docker compose stop: exit 0, every container exit code 0", self.stop_all
        )

    def stop_all(self) -> str:
        started = time.monotonic()
        self.run_ok("docker compose stop")
        codes = {
            s: self.stack.exit_code(s) for s in ("web", "scheduler", "db", "redis")
        }
        if set(codes.values()) != {"0"}:
            raise Failed(f"exit codes {codes}")
        return f"{time.monotonic() - started:.0f} s; " + ", ".join(
            f"{s} {c}" for s, c in codes.items()
        )

    def teardown(self) -> None:
        if not (self.project / "docker-compose.yml").exists():
            return  # the clone never happened: nothing was started
        step("docker compose down -v")
        profiles = self.stack.compose("config", "--profiles").stdout.split()
        flags = " ".join(f"--profile {p}" for p in profiles)
        self.stack.sh(f"docker compose {flags} down -v --remove-orphans", timeout=300)
        left = self.stack.sh(
            f"docker ps -aq --filter label=com.docker.compose.project={self.stack.name}; "
            f"docker volume ls -q --filter label=com.docker.compose.project={self.stack.name}"
        ).stdout.split()
        if left:
            self.report.line("FAIL", f"docker compose down -v left {left}")
            self.report.failures += 1
        # Superseded builds of the app image (untagged), and nothing else.
        self.stack.sh(f"docker image prune --force --filter label={IMAGE_LABEL}")


def no_registry(output: str) -> str:
    asked = [
        line for line in output.splitlines()
        if re.search(r"Pulling|pull access denied|registry-1\.docker\.io|docker/dockerfile", line)
    ]  # fmt: skip
    if asked:
        raise Failed(asked[0][:200])
    return "no pull, no frontend image in the output"


def runtime_base(dockerfile: Path) -> str:
    text = dockerfile.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.MULTILINE))
    base = re.findall(r"^FROM (\S+)", text, re.MULTILINE)[-1]
    return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], ""), base)


def describe_layer(created_by: str) -> str:
    words = created_by.replace("/bin/sh -c ", "").replace("# buildkit", "").split()
    if words and words[0] == "COPY":
        return " ".join(w for w in words[:4] if not w.startswith("--from"))
    if "collectstatic" in created_by:
        return "RUN collectstatic"
    return " ".join(words[:3])


def swap_gap(samples: list[tuple[float, int]], since: float) -> float | None:
    """Seconds from the first failed probe after ``since`` to the next 200."""
    failed = next((t for t, s in samples if t >= since and s != 200), None)
    if failed is None:
        return None
    back = next((t for t, s in samples if t > failed and s == 200), samples[-1][0])
    return back - failed


def shown(line: str) -> str:
    """A documented command line without its trailing comment, for PASS/FAIL lines."""
    return line.split(" #")[0].strip()


def text_of(output: list[tuple[float, str]]) -> str:
    return "\n".join(text for _, text in output)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:240] if lines else ""


def engine_answers() -> str | None:
    """None when docker and compose v2 answer, else why not."""
    if shutil.which("docker") is None:
        return "no docker command"
    if (
        subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode
        != 0
    ):
        return "no Docker engine answers"
    if (
        subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=60
        ).returncode
        != 0
    ):
        return "docker compose (v2) is missing"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch directory (clones, commands.log) even when all passed",
    )
    options = parser.parse_args()
    missing = engine_answers()
    if missing:
        print(f"docker_proof: {missing}", file=sys.stderr)
        return 2
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="dipcal-docker-proof-"))
    proof = Proof(report, work)
    try:
        proof.readme()
        proof.behaviour()
        proof.upgrades()
        proof.redis()
        proof.stop()
    except Failed as failure:
        report.line("FAIL", f"stopped: {failure}")
        report.failures += 1
    except Exception as error:  # a crash of the proof is a failure, never a pass
        report.line("FAIL", f"stopped: {error.__class__.__name__}: {error}")
        report.failures += 1
    except KeyboardInterrupt:
        report.line("FAIL", "interrupted")
        report.failures += 1
    finally:
        proof.teardown()
        if options.keep or report.failures:
            report.note(f"every command and its output: {work / 'commands.log'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        report.summary()
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
