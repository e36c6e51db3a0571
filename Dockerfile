# One image for every role: web (gunicorn), scheduler, migrate, one-off commands.
# Build: `docker compose build` (docs/deployment.md). Needs BuildKit, which compose
# and Docker Engine 23+ use by default (older engines: DOCKER_BUILDKIT=1 docker build).
# No "# syntax=" line on purpose: that makes BuildKit fetch its Dockerfile frontend
# from Docker Hub; the engine's built-in frontend builds this file, so the only
# images a build needs are the python base image below.

ARG PYTHON_VERSION=3.11

# ---- build: the pinned runtime set, installed under /install and pruned ---------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Every dependency ships manylinux wheels (psycopg[binary], lxml): no compiler needed.
# Installed apart from the base image's own packages, so that pruning touches only
# ours and the runtime stage gets the result as one layer. Pruned: what is never
# read at runtime (translation sources, as Django reads the compiled .mo; the
# dependencies' own test suites; C sources and headers).
RUN --mount=type=bind,source=requirements.lock,target=/tmp/requirements.lock \
    pip install --prefix=/install --ignore-installed --no-warn-script-location \
        --requirement /tmp/requirements.lock \
    && find /install \( -name '*.po' -o -name '*.c' -o -name '*.h' -o -name '*.pyx' \
        -o -name '*.pxd' -o -name '*.pxi' \) -type f -delete \
    && find /install -depth -type d -name tests -exec rm -rf {} +

# ---- runtime: the app, its pinned dependencies, static files, a non-root user ----------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="dipping-calendar" \
      org.opencontainers.image.description="Economic-calendar API (web), scheduler and migrations"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_STATIC_MANIFEST=1 \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app

# The dependencies with their compiled bytecode, into the interpreter's prefix.
COPY --from=build /install /usr/local

WORKDIR /app
# The source tree as in the repository (manage.py and gunicorn.conf.py put src/ on
# the path), owned by root: the app user can read the code but not change it.
COPY manage.py gunicorn.conf.py ./
COPY docker/ ./docker/
COPY src/ ./src/

# Swagger UI / Redoc assets (drf-spectacular-sidecar) and the admin's, hashed and
# gzipped for whitenoise; identical copies hard-linked (stored once). Settings are
# imported without a secret key here.
RUN DJANGO_REQUIRE_SECRET_KEY=0 python manage.py collectstatic --no-input \
    && python docker/link_duplicates.py /app/staticfiles \
    && python -m compileall -q src

# From here on the image refuses to start with a missing or weak secret key.
ENV DJANGO_REQUIRE_SECRET_KEY=1
USER app:app
EXPOSE 8000

# No curl in slim images: the standard library asks /api/health/ (200 = the app
# and its database are up). Sends the first DJANGO_ALLOWED_HOSTS entry as Host so
# the probe passes ALLOWED_HOSTS. Roles without HTTP disable it in compose.
# Every 5 s, so web is reported healthy within seconds of gunicorn answering (an
# engine runs the first probe one interval after the start; --start-interval would
# need Docker Engine 25+). Failures in the first 60 s do not count.
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request as u; h=[x.strip().lstrip('.') for x in os.environ.get('DJANGO_ALLOWED_HOSTS','localhost').split(',') if x.strip() not in ('','*')]; r=u.Request('http://127.0.0.1:%s/api/health/' % os.environ.get('PORT','8000'), headers={'Host': (h or ['localhost'])[0]}); sys.exit(0 if u.urlopen(r, timeout=4).status == 200 else 1)"]

# Exec form throughout: no shell in between, so SIGTERM reaches gunicorn (and the
# scheduler, whose compose command replaces CMD) directly.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "/app/gunicorn.conf.py"]
