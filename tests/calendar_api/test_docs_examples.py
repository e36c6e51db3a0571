"""Docs that cannot drift: every curl example in README.md and docs/api.md runs here
against the bundled sample (``manage.py loadsample``), as if today were the Monday of
the sample's first week.

An ``sh`` block's commands run in order. ``curl 'URL'`` is a GET of URL; ``NAME=$(curl
-s 'URL' | python3 -c '...')`` runs the Python snippet on the answer, as the shell
would, and ``$NAME`` is its output in later commands (how the docs find ids: by a
query, never typed by hand). A ``json`` block right after an ``sh`` block of one
command is that command's answer, compared key by key (ids, timestamps and ``"..."``
aside, which differ between databases); a command without one must answer 200 with
results. Links to the local server in the prose must answer too, and the README's
table of the sample's days must match what loadsample loads.
"""

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count

from core.models import EconomicEvent

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/api.md"]
BASE = "http://127.0.0.1:8000"
TODAY = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # Monday, 1 June 2026
# Keys whose values depend on the database the sample was loaded into.
VARYING = {
    "id", "event_id", "run", "first_seen_at", "updated_at", "changed_at", "...",
}  # fmt: skip
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
ASSIGNMENT = re.compile(r"^(?P<name>\w+)=\$\((?P<pipeline>.*)\)$")
LINK = re.compile(rf"{re.escape(BASE)}/[^\s>`)]*")
CURL_FLAGS = {"-s", "-S", "-f", "-i", "-O", "-J", "-OJ", "-sS"}


@dataclass
class Example:
    where: str
    commands: list[str]
    expected: object = None
    has_expected: bool = False


@dataclass
class Run:
    failures: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


def fenced_blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(language, body, start offset, end offset) of each fenced block."""
    return [(m[1], m[2], m.start(), m.end()) for m in FENCE.finditer(text)]


def examples_in(doc: str) -> list[Example]:
    text = (ROOT / doc).read_text()
    blocks = fenced_blocks(text)
    found = []
    for index, (language, body, start, end) in enumerate(blocks):
        commands = [
            line.strip()
            for line in body.replace("\\\n", " ").splitlines()
            if "curl " in line and not line.strip().startswith("#")
        ]
        if language != "sh" or not commands:
            continue
        line = text.count("\n", 0, start) + 2
        example = Example(f"{doc}:{line}", commands)
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        if after and after[0] == "json" and not text[end : after[2]].strip():
            if len(commands) != 1:
                raise AssertionError(
                    f"{example.where}: a shown answer needs one command"
                )
            example.expected = json.loads(after[1])
            example.has_expected = True
        found.append(example)
    return found


def links_in(doc: str) -> list[str]:
    """Local-server URLs in the prose (code blocks are examples, run above)."""
    text = FENCE.sub("", (ROOT / doc).read_text())
    return sorted(set(LINK.findall(text)))


# RUNNING A COMMAND
# ------------------------------------------------------------------------------


def curl(client, command: str, run: Run):
    """GET the URL of a ``curl`` command line with the test client."""
    for name, value in run.variables.items():
        command = command.replace(f"${{{name}}}", value).replace(f"${name}", value)
    words = shlex.split(command, comments=True)
    assert words[0] == "curl", command
    headers, urls, words = {}, [], words[1:]
    while words:
        word = words.pop(0)
        if word == "-H":
            name, _, value = words.pop(0).partition(":")
            headers["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
        elif word in CURL_FLAGS:
            continue
        elif word.startswith("-"):
            raise AssertionError(f"curl option {word} is not one the docs test knows")
        else:
            urls.append(word)
    assert len(urls) == 1, command
    assert urls[0].startswith(BASE + "/"), command
    parts = urlsplit(urls[0])
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.get(path, **headers), "-OJ" in command.split()


def pipeline(client, command: str, run: Run) -> None:
    """``NAME=$(curl ... | python3 -c '...')``: the snippet reads the answer on stdin."""
    match = ASSIGNMENT.match(command)
    curl_part, _, program = match["pipeline"].partition(" | ")
    response, _ = curl(client, curl_part, run)
    words = shlex.split(program)
    assert words[:2] == ["python3", "-c"], program
    assert len(words) == 3, program
    result = subprocess.run(
        [sys.executable, "-c", words[2]],
        input=response.content,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    run.variables[match["name"]] = result.stdout.decode().strip()


def has_results(response, download: bool) -> str | None:
    """Why ``response`` is not a useful answer, or None when it is."""
    if response.status_code != 200:
        return f"status {response.status_code}: {response.content[:300]!r}"
    kind = response["Content-Type"]
    if download and "filename=" not in response.get("Content-Disposition", ""):
        return "a download without a file name"
    if kind.startswith("text/csv"):
        return None if response.content.count(b"\n") > 1 else "a CSV without rows"
    if kind.startswith("text/calendar"):
        return (
            None if b"BEGIN:VEVENT" in response.content else "a calendar without events"
        )
    if not kind.startswith("application/json"):  # the docs pages, the schema
        return None if response.content else "an empty page"
    body = response.json()
    if isinstance(body, dict) and "results" in body:
        return None if body["results"] else "no results"
    return None if body else "an empty answer"


def mismatch(expected, actual, where: str = "") -> str | None:
    """Where ``actual`` differs from the documented ``expected`` (None: it does not)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if key in VARYING:
                continue
            if key not in actual:
                return f"{where}.{key}: missing"
            found = mismatch(value, actual[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) < len(expected):
            return f"{where}: expected {len(expected)}+ items, got {actual!r}"[:300]
        for index, item in enumerate(expected):
            found = mismatch(item, actual[index], f"{where}[{index}]")
            if found:
                return found
        return None
    return (
        None
        if expected == actual
        else f"{where}: documented {expected!r}, got {actual!r}"
    )


def run_example(client, example: Example, run: Run) -> None:
    for command in example.commands:
        where = f"{example.where}: {command}"
        try:
            if ASSIGNMENT.match(command):
                pipeline(client, command, run)
                continue
            response, download = curl(client, command, run)
        except AssertionError as exc:
            run.failures.append(f"{where}\n  {exc}")
            continue
        if example.has_expected:
            problem = mismatch(example.expected, response.json())
        else:
            problem = has_results(response, download)
        if problem:
            run.failures.append(f"{where}\n  {problem}")


# THE TESTS
# ------------------------------------------------------------------------------


@pytest.fixture
def sample(db):
    call_command("loadsample", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.parametrize("doc", DOCS)
def test_every_curl_example_answers_what_the_docs_say(client, sample, doc):
    found = examples_in(doc)
    assert len(found) >= 4, f"{doc}: the examples were not found"
    run = Run()
    with time_machine.travel(TODAY, tick=False):
        for example in found:
            run_example(client, example, run)
        for url in links_in(doc):
            problem = has_results(client.get(url[len(BASE) :], follow=True), False)
            if problem:
                run.failures.append(f"{doc}: link {url}\n  {problem}")
    assert not run.failures, "\n".join(run.failures)


SAMPLE_ROW = re.compile(
    r"^\| `(?P<source>\w+)` \| (?P<first>\d{4}-\d{2}-\d{2})(?: to (?P<last>\d{4}-\d{2}-\d{2}))? \| (?P<events>\d+) \|",
    re.M,
)


def test_the_readme_says_which_days_the_sample_covers(sample):
    rows = list(SAMPLE_ROW.finditer((ROOT / "README.md").read_text()))
    assert rows, "README.md: the table of the sample's days was not found"
    per_day = {
        (row["source"], row["date"]): row["n"]
        for row in EconomicEvent.objects.values("source", "date").annotate(
            n=Count("id")
        )
    }
    covered = set()
    for row in rows:
        first = date.fromisoformat(row["first"])
        last = date.fromisoformat(row["last"] or row["first"])
        days = {
            key
            for key in per_day
            if key[0] == row["source"] and first <= key[1] <= last
        }
        assert sum(per_day[key] for key in days) == int(row["events"]), row[0]
        assert (row["source"], first) in days, row[0]
        assert (row["source"], last) in days, row[0]
        covered |= days
    assert covered == set(per_day), "days of the sample missing from the README table"
