"""`manage.py ingest` and `manage.py loadsample`: one summary line, one error line."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.models import EconomicEvent, IngestionRun
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
FEED = FIXTURES / "forexfactory_feed"


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_ingest_replays_a_recorded_file_and_prints_one_summary_line():
    out = run(
        "ingest",
        "forexfactory",
        "--file",
        str(FEED / "ff_thisweek_2025-05-04_xml_Rommans.xml"),
    )
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "forexfactory: 91 created, 0 updated, 0 unchanged, 0 cancelled, 0 skipped"
    )
    assert IngestionRun.objects.get().trigger == "file"
    assert EconomicEvent.objects.count() == 91


def test_ingest_dry_run_writes_nothing():
    out = run(
        "ingest",
        "forexfactory",
        "--dry-run",
        "--file",
        str(FEED / "ff_thisweek_2025-05-04_xml_Rommans.xml"),
    )
    assert out.startswith("dry run, nothing written: forexfactory: 91 created")
    assert EconomicEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown source 'nope' (known: bls, ecb, forexfactory, fred, investing, tradingeconomics)"),
        (["fred", "--from", "2025-13-01"], "--from '2025-13-01' is not a date (YYYY-MM-DD)"),
        (["fred", "--from", "2025-07-03", "--to", "2025-07-01"], "--from 2025-07-03 is after --to 2025-07-01"),
        (["fred", "--file", "/no/such/payload.json"], "fred: cannot read /no/such/payload.json"),
        (
            ["investing", "--file", str(FIXTURES / "investing_page/investing_cloudflare_challenge_Sandip2512.html")],
            "investing: blocked by the source",
        ),
        (["fred", "--file", str(FEED / "ff_thisweek_2025-05-04_xml_Rommans.xml")], "fred: calendar JSON is malformed"),
    ],
)  # fmt: skip
def test_ingest_errors_are_one_readable_line(args, message):
    with pytest.raises(CommandError) as info:
        run("ingest", *args)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_ingest_failure_exits_non_zero_without_a_traceback(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    bad = tmp_path / "truncated.json"
    bad.write_bytes(b'[{"title":"CPI m/m","country":"CHF","date":"2025-')
    result = subprocess.run(
        [sys.executable, "manage.py", "ingest", "forexfactory", "--file", str(bad)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("CommandError: forexfactory: feed JSON is malformed")
    )


def test_loadsample_loads_every_source_once():
    out = run("loadsample")
    assert (
        "forexfactory ff_thisweek_2026-08-16_json_dkmarlin_e174305_last.json: 5 created, 38 updated"
        in out
    )
    assert "fred fred_releases_calendar_2025-07-02.json: 36 created" in out
    assert (
        "investing investing_econcal_nextjs_2026-06-04_tobigom.html: 50 created" in out
    )
    count = EconomicEvent.objects.count()
    assert count == 121 + 96 + 5 + 36 + 50
    again = run("loadsample")
    assert again.count("already loaded") == 3
    assert EconomicEvent.objects.count() == count


def test_loadsample_rejects_a_folder_that_names_no_source(tmp_path):
    (tmp_path / "nosuchsource").mkdir()
    (tmp_path / "nosuchsource" / "x.json").write_text("[]")
    with pytest.raises(CommandError, match="'nosuchsource' names no known source"):
        run("loadsample", "--dir", str(tmp_path))
