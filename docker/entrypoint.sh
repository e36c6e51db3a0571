#!/bin/sh
# Entrypoint for every role of the image (web, scheduler, migrate, one-off commands).
# Fails fast on a misconfigured production environment, then replaces itself with
# the command so that it runs as PID 1 and receives SIGTERM from `docker stop`.
set -eu

if [ "${DJANGO_DEPLOY_CHECK:-1}" != "0" ]; then
    # Imports the settings (the secret-key guard) and runs every deploy check; no
    # database access. DJANGO_DEPLOY_CHECK=0 skips it for one-off debugging.
    python manage.py check --deploy --fail-level WARNING >/dev/null
fi

exec "$@"
