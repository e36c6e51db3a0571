"""The documented Docker steps, checked without an engine.

scripts/docker_proof.py runs the README's and docs/deployment.md's shell blocks
literally on a real engine (in .ci/run); these tests catch, on any machine, an edit
that would make those blocks wrong or unreadable to the proof.
"""

import runpy
import subprocess

import pytest

from tests.deploy.stack import ROOT

README = ROOT / "README.md"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
UPGRADE_SCRIPT = ROOT / "scripts" / "upgrade.sh"
PROOF = runpy.run_path(str(ROOT / "scripts" / "docker_proof.py"))
doc_block = PROOF["doc_block"]
Failed = PROOF["Failed"]


def commands(block: list[str]) -> list[str]:
    """The lines as bash runs them: trailing comments dropped."""
    return [PROOF["shown"](line) for line in block]


def test_doc_block_reads_the_first_shell_block_of_a_section(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## Setup steps\n\nText.\n\n```sh\n# a comment\nmake it  # why\n\n"
        "make more\n```\n\n```sh\nnot this\n```\n\n## Other\n\n```sh\nnor this\n```\n"
    )
    assert doc_block(page, "Setup") == ["make it  # why", "make more"]
    with pytest.raises(Failed, match="no section"):
        doc_block(page, "Missing")
    page.write_text("## Setup\n\nNo block.\n\n## Other\n\n```sh\nx\n```\n")
    with pytest.raises(Failed, match="no shell block"):
        doc_block(page, "Setup")


def test_readme_builds_and_starts_the_stack_from_a_filled_env():
    block = commands(doc_block(README, PROOF["README_SECTION"]))
    assert block[0] == "cp .env.example .env"
    assert any("DJANGO_SECRET_KEY=" in line and ">> .env" in line for line in block)
    assert any("POSTGRES_PASSWORD=" in line and ">> .env" in line for line in block)
    # --build: `up` never starts an image older than the checkout.
    assert "docker compose up -d --build" in block
    assert "docker compose exec web python manage.py loadsample" in block


def test_the_documented_upgrade_is_the_upgrade_script():
    block = commands(doc_block(DEPLOYMENT_DOC, PROOF["UPGRADE_SECTION"]))
    assert block == ["git pull", "scripts/upgrade.sh"]
    assert UPGRADE_SCRIPT.stat().st_mode & 0o111, "executable in git"
    docs = DEPLOYMENT_DOC.read_text()
    assert "backwards compatible for one release" in docs


def test_the_upgrade_script_migrates_before_it_replaces_web_and_scheduler():
    script = UPGRADE_SCRIPT.read_text()
    assert "set -euo pipefail" in script
    order = [
        "docker compose build",
        "docker compose up --no-deps --exit-code-from migrate migrate",
        "--wait-timeout",  # web, waited for until healthy
        "docker compose up --detach --no-deps scheduler",
    ]
    positions = [script.index(step) for step in order]
    assert positions == sorted(positions)
    # A failed migration ends the script before anything is replaced.
    migrate = script.index(order[1])
    assert "fail " in script[migrate : positions[2]]
    result = subprocess.run(["bash", "-n", str(UPGRADE_SCRIPT)], capture_output=True)
    assert result.returncode == 0, result.stderr


def test_the_redis_steps_start_redis_and_point_the_app_at_it():
    block = commands(doc_block(DEPLOYMENT_DOC, PROOF["REDIS_SECTION"]))
    assert block == [
        "echo 'COMPOSE_PROFILES=redis' >> .env",
        "echo 'CACHE_URL=redis://redis:6379/0' >> .env",
        "scripts/upgrade.sh",
    ]
    example = (ROOT / ".env.example").read_text()
    assert "# CACHE_URL=redis://redis:6379/0" in example
    assert "# COMPOSE_PROFILES=redis" in example


def test_ci_runs_the_proof_on_an_engine_it_always_stops():
    ci = (ROOT / ".ci" / "run").read_text()
    prepare = ci.index('bash "$HARNESS/prepare.sh"')
    proof = ci.index("python scripts/docker_proof.py")
    assert prepare < proof
    assert "trap cleanup EXIT" in ci
    cleanup = ci[ci.index("cleanup() {") : ci.index("trap cleanup EXIT")]
    assert "stop.sh" in cleanup
    assert "DOCKER PROOF SKIPPED" in ci, "never skipped silently"
