# syntax=docker/dockerfile:1
# One image for every role: web (gunicorn), scheduler, migrate, one-off commands.
# Build: docker build -t dipping-calendar .   (docs/deployment.md)

ARG PYTHON_VERSION=3.11

# ---- build: wheels for the pinned runtime set --------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock .
# Every dependency ships manylinux wheels (psycopg[binary], lxml), so no compiler
# is needed; `pip wheel` still gives the runtime stage an offline, exact set.
RUN pip wheel --wheel-dir /wheels --requirement requirements.lock

# ---- runtime: the app, its pinned dependencies, static files, a non-root user --
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_STATIC_MANIFEST=1 \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app

# The wheels are mounted, not copied: they never become a layer of this image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements.lock,target=/tmp/requirements.lock \
    pip install --no-index --find-links=/wheels --requirement /tmp/requirements.lock

WORKDIR /app
# The source tree as in the repository (manage.py and gunicorn.conf.py put src/ on
# the path), owned by root: the app user can read the code but not change it.
COPY manage.py gunicorn.conf.py ./
COPY docker/ ./docker/
COPY src/ ./src/

# Swagger UI / Redoc assets (drf-spectacular-sidecar) and the admin's, hashed and
# gzipped for whitenoise. Settings are imported without a secret key here.
RUN DJANGO_REQUIRE_SECRET_KEY=0 python manage.py collectstatic --no-input \
    && python -m compileall -q src

# From here on the image refuses to start with a missing or weak secret key.
ENV DJANGO_REQUIRE_SECRET_KEY=1
USER app:app
EXPOSE 8000

# No curl in slim images: the standard library asks /api/health/ (200 = the app
# and its database are up). Sends the first DJANGO_ALLOWED_HOSTS entry as Host so
# the probe passes ALLOWED_HOSTS. Roles without HTTP disable it in compose.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request as u; h=[x.strip().lstrip('.') for x in os.environ.get('DJANGO_ALLOWED_HOSTS','localhost').split(',') if x.strip() not in ('','*')]; r=u.Request('http://127.0.0.1:%s/api/health/' % os.environ.get('PORT','8000'), headers={'Host': (h or ['localhost'])[0]}); sys.exit(0 if u.urlopen(r, timeout=4).status == 200 else 1)"]

# Exec form throughout: no shell in between, so SIGTERM reaches gunicorn (and the
# scheduler, whose compose command replaces CMD) directly.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "/app/gunicorn.conf.py"]
