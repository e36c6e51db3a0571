"""API fuzzing with schemathesis against the project's own OpenAPI schema.

gunicorn serves a PostgreSQL database seeded with the real sample data; schemathesis
reads /api/schema/ and generates requests for every operation (its coverage, fuzzing
and stateful phases: boundary values, random valid and invalid parameters, links
from a list to its details). Checks: no 5xx, and every response conforms to the
schema, including CSV and iCalendar bodies that must parse (schemathesis_hooks.py).
A fixed seed and a bounded number of examples keep it deterministic and a minute long.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT
from tests.reliability.live import gunicorn, service_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SEED = 20261125
MAX_EXAMPLES = 200
CHECKS = "not_a_server_error,response_schema_conformance"
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


def test_schemathesis_finds_no_failure(seeded_database, tmp_path, report):
    env = service_env(seeded_database)
    with gunicorn(env, tmp_path / "web.log", workers=2, threads=4) as server:
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                server.url("/api/schema/"),
                "--checks",
                CHECKS,
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(SEED),
                "--workers",
                "2",
                "--request-timeout",
                "30",
                "--report",
                "json",
                "--report-json-path",
                str(tmp_path / "report.json"),
                "--output-truncate",
                "true",
            ],
            cwd=ROOT,
            env={**env, "SCHEMATHESIS_HOOKS": str(HOOKS)},
            capture_output=True,
            text=True,
            timeout=900,
        )
        server_log = server.proc.output()

    summary = json.loads((tmp_path / "report.json").read_text())
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert summary["operations"]["tested"] == summary["operations"]["total"] >= 5
    assert summary["failures"] == []
    assert summary["errors"] == []
    # Every media type was read and validated: none skipped for want of a parser.
    assert summary["warnings"]["missing_deserializer"] == []
    assert "Traceback" not in server_log
    cases = summary["test_cases"]
    assert cases["generated"] >= MAX_EXAMPLES
    report(
        "Bad input",
        "API fuzzing (schemathesis)",
        tried=f"schemathesis {summary['schemathesis_version']}, seed {SEED}, up to {MAX_EXAMPLES} "
        f"examples per operation, coverage + fuzzing + stateful phases, on all "
        f"{summary['operations']['total']} operations of /api/schema/; checks {CHECKS} "
        "(CSV and iCalendar bodies parsed)",
        showed=f"{cases['generated']} generated requests, {cases['with_failures']} failures, "
        f"0 errors, no traceback in the server log ({summary['running_time']:.0f}s)",
        requests=cases["generated"],
        failures=cases["with_failures"],
    )
