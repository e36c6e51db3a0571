#!/usr/bin/env bash
# Upgrades the running compose stack to this checkout without taking the site down
# when the new release is broken (docs/deployment.md, "Upgrading"):
#
#   1. build the new image (the running containers keep the image they run);
#   2. run its migrations as a one-shot: if they fail, stop here, and the old web
#      and scheduler keep serving on the schema they know;
#   3. only then replace web and scheduler, and wait until web is healthy.
#
# `docker compose up -d` alone is not an upgrade: Compose stops and replaces web and
# scheduler before the migrate one-shot has run, so a failing migration leaves them
# created but not started.
#
#   scripts/upgrade.sh        (from the checkout, after `git pull` or `git checkout`)
#
# Exit status: 0 upgraded; 1 build or migration failed, old containers untouched;
# 2 the new web did not become healthy (see the message for what to do).
set -euo pipefail
cd "$(dirname "$0")/.."

WAIT_SECONDS=${UPGRADE_WAIT_SECONDS:-180}

say() { printf 'upgrade: %s\n' "$*"; }
fail() { printf 'upgrade: FAILED: %s\n' "$*" >&2; exit "${2:-1}"; }

release=$(git describe --always --dirty 2>/dev/null || echo "this checkout")
say "release $release"

say "1/3 building the image"
docker compose build || fail "the build failed; nothing was changed"

say "2/3 migrating (one-shot; web and scheduler keep running)"
docker compose up --detach --wait db \
    || fail "the database is not healthy; nothing was changed (docker compose logs db)"
# Only the migrate service: its exit status is the migration's, and its output
# stays in `docker compose logs migrate`.
if ! docker compose up --no-deps --exit-code-from migrate migrate; then
    fail "the migration failed; web and scheduler still run the previous release (docker compose logs migrate)"
fi

say "3/3 replacing web and scheduler"
if ! docker compose up --detach --no-deps --wait --wait-timeout "$WAIT_SECONDS" web scheduler; then
    fail "web is not healthy after ${WAIT_SECONDS}s (docker compose logs web). The schema is already
  migrated; to roll back, check out the previous release and run scripts/upgrade.sh again" 2
fi
say "done: $release is serving"
