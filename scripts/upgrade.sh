#!/usr/bin/env bash
# Applies this checkout (a new release, or a changed .env) to the running compose
# stack without taking the site down when the new release is broken
# (docs/deployment.md, "Upgrading"):
#
#   1. build the image (the running containers keep the image they run);
#   2. start or update what the app needs: db, and redis with its profile;
#   3. run the migrations as a one-shot: if they fail, stop here, and the old web
#      and scheduler keep serving on the schema they know;
#   4. only then replace web (and wait until it is healthy), then the scheduler.
#
# `docker compose up -d` alone is not an upgrade: Compose stops and replaces web and
# scheduler before the migrate one-shot has run, so a failing migration leaves them
# created but not started.
#
#   scripts/upgrade.sh        (from the checkout, after `git pull` or `git checkout`)
#
# Exit status: 0 done; 1 build, database or migration failed, web and scheduler
# untouched; 2 the new web did not become healthy (the message says what to do).
set -euo pipefail
cd "$(dirname "$0")/.."

WAIT_SECONDS=${UPGRADE_WAIT_SECONDS:-180}
APP_SERVICES='migrate|web|scheduler'

say() { printf 'upgrade: %s\n' "$*"; }
fail() { printf 'upgrade: FAILED: %s\n' "$1" >&2; exit "${2:-1}"; }

release=$(git describe --always --dirty 2>/dev/null || echo "this checkout")
say "release $release"

say "1/4 building the image"
docker compose build || fail "the build failed; nothing was changed"

# The services of the active profiles that are not the app's own roles.
mapfile -t needs < <(docker compose config --services | grep -vxE "$APP_SERVICES")
say "2/4 starting ${needs[*]}"
docker compose up --detach --wait "${needs[@]}" ||
    fail "${needs[*]} not healthy; web and scheduler untouched (docker compose logs ${needs[*]})"

say "3/4 migrating (one-shot; web and scheduler keep running)"
# Only the migrate service: its exit status is the migration's, and its output
# stays in `docker compose logs migrate`.
docker compose up --no-deps --exit-code-from migrate migrate ||
    fail "the migration failed; web and scheduler still run the previous release (docker compose logs migrate)"

say "4/4 replacing web, then scheduler"
# web is unavailable from the old gunicorn's exit until the new one listens (one
# host port cannot be bound twice); with replicas behind a proxy, replace them one
# at a time instead (docs/deployment.md).
docker compose up --detach --no-deps --wait --wait-timeout "$WAIT_SECONDS" web ||
    fail "web is not healthy after ${WAIT_SECONDS}s (docker compose logs web); the scheduler
  still runs the previous release. The schema is migrated: to roll back, check out
  the previous release and run scripts/upgrade.sh again" 2
# The old scheduler finishes a running ingestion first (its stop_grace_period).
docker compose up --detach --no-deps scheduler ||
    fail "the scheduler did not start (docker compose logs scheduler)" 2
say "done: $release is serving"
