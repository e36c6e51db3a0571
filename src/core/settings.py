"""Settings for dipping-calendar: one module, driven by environment variables.

A bare checkout runs with no environment at all (SQLite under ``var/``, DEBUG off,
a development secret key that ``check --deploy`` rejects). Every variable is listed
in the README's configuration table and in ``.env.example``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.logformat import LINE_FORMATTER

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # the repository root


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def prepare_threshold() -> int | None:
    """DATABASE_PREPARE_THRESHOLD: runs of a statement before psycopg prepares it on
    its connection (default 5), or None for "off"."""
    if os.environ.get("DATABASE_PREPARE_THRESHOLD", "").strip().lower() == "off":
        return None
    threshold = env_int("DATABASE_PREPARE_THRESHOLD", 5)
    if threshold < 0:
        raise ImproperlyConfigured(
            f"DATABASE_PREPARE_THRESHOLD must be 0 or more, or off, got {threshold}"
        )
    return threshold


def env_set_off(name: str) -> bool:
    """True when ``name`` is set, non-empty, and false or zero: a recorded decision."""
    value = os.environ.get(name, "").strip().lower()
    return value != "" and value in {"0", "false", "no", "off"}


# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", default=False)
DEV_SECRET_KEY = "django-insecure-local-development-only"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or DEV_SECRET_KEY
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

TIME_ZONE = "UTC"
USE_TZ = True
USE_I18N = False
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_apscheduler",
    "core",
    "calendar_api",
    "ingestion",
    "scheduler",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# DATABASE
# ------------------------------------------------------------------------------
def database(url: str) -> dict:
    """One DATABASES entry from a URL, with the engine's treatment below."""
    config = dj_database_url.parse(
        url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE takes the write lock at BEGIN, so web, ingest and scheduler processes
        # queue behind each other (busy timeout) instead of failing with "database is locked".
        config["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
        # A closed file connection is cheap; persistent ones hold locks between requests.
        config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that needs no round trip.
        config["ENGINE"] = "core.postgresql"
        config.setdefault("OPTIONS", {})
        # Name the connection so pg_stat_activity tells web from scheduler from ingest.
        config["OPTIONS"].setdefault(
            "application_name",
            os.environ.get("DATABASE_APPLICATION_NAME", "dipping-calendar"),
        )
        # Parameters travel apart from the SQL (server-side binding), so psycopg can
        # prepare a statement a connection has run DATABASE_PREPARE_THRESHOLD times:
        # PostgreSQL then plans the API's few query shapes once per connection, not on
        # every request (docs/benchmarks.md). "off" behind a pooler that cannot keep
        # prepared statements (PgBouncer in transaction mode before 1.21).
        config["OPTIONS"].setdefault("server_side_binding", True)
        config["OPTIONS"].setdefault("prepare_threshold", prepare_threshold())
        # A dead database must fail a request fast (503), not hang a worker.
        config["OPTIONS"].setdefault(
            "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
        )
    return config


# SQLite under var/ is the zero-config default; DATABASE_URL=postgres://... for real use.
DATABASES = {
    "default": database(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
    )
}

# PostgreSQL streaming replicas of the primary (comma-separated URLs): each is an alias
# replica_1, replica_2... The API's reads go to one of them per request, round robin
# (calendar_api.middleware); everything else, and every write, stays on "default"
# (core.routers). Unset, there is no router and no extra alias.
DATABASE_REPLICAS = []
for number, url in enumerate(env_list("DATABASE_REPLICA_URLS", default=[]), start=1):
    alias = f"replica_{number}"
    DATABASES[alias] = database(url)
    if DATABASES[alias]["ENGINE"] != "core.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS: {alias} must be a postgres:// URL "
            "(a streaming replica of DATABASE_URL)"
        )
    DATABASE_REPLICAS.append(alias)
# A replica further behind the primary than this is skipped (the primary answers).
DATABASE_REPLICA_MAX_LAG_SECONDS = float(
    os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS") or 30
)
# Each process checks a replica's reachability and lag at most this often and reuses
# the answer meanwhile; a replica found down or lagging is tried again after it.
DATABASE_REPLICA_CHECK_SECONDS = 5
DATABASE_ROUTERS = []
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["core.routers.ReplicaRouter"]
    # Last, so that retrying a request on the primary re-runs only the view.
    MIDDLEWARE.append("calendar_api.middleware.ReplicaReadsMiddleware")

# CACHE
# ------------------------------------------------------------------------------
# CACHE_URL=redis://127.0.0.1:6379/0 shares throttle counters and cached responses
# between gunicorn workers; without it each process has its own local-memory cache.
# Redis is an accelerator, not a dependency: while it is unreachable the API answers
# uncached, throttling lets requests through, and /api/health/ says "degraded"
# (core.cache).
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"CACHE_URL must be a redis:// URL, got {CACHE_URL!r}"
        )
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": CACHE_URL,
            # Deployments (or test runs) sharing one Redis keep apart by prefix.
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX") or "dipcal",
            "TIMEOUT": 300,
            "OPTIONS": {
                # A healthy Redis answers in well under a millisecond: past a second
                # it counts as down (redis-py would otherwise wait 5 s per call).
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                # While down, calls skip Redis and retry it this often; the warning
                # is logged at most this often per process.
                "down_retry_seconds": 5,
                "down_warning_seconds": 60,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# STATIC FILES
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The compressed-manifest storage needs collectstatic; plain storage serves
        # straight from the apps (tests, runserver) when no manifest has been built.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("DJANGO_STATIC_MANIFEST", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without collectstatic (runserver, tests) whitenoise finds files in the apps.
WHITENOISE_USE_FINDERS = not env_bool("DJANGO_STATIC_MANIFEST", default=False)

# SECURITY (production values come from env; see README "Running in production")
# ------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env_bool("DJANGO_BEHIND_PROXY", True)
    else None
)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False
)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"


# `check --deploy` warns about HTTPS settings left at their defaults. Setting one
# of these variables to 0 explicitly records that the deployment handles it
# elsewhere (typically the TLS-terminating proxy redirects to HTTPS and sends
# HSTS), which silences that one warning; leaving it unset keeps the warning.
SILENCED_SYSTEM_CHECKS = [
    check
    for variable, checks in {
        "DJANGO_SECURE_SSL_REDIRECT": ["security.W008"],
        "DJANGO_SECURE_HSTS_SECONDS": ["security.W004"],
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": ["security.W005"],
        "DJANGO_SECURE_HSTS_PRELOAD": ["security.W021"],
        "DJANGO_SECURE_COOKIES": ["security.W012", "security.W016"],
    }.items()
    if env_set_off(variable)
    for check in checks
]

# LOGGING: one line per record on stdout, "key=value" friendly.
# ------------------------------------------------------------------------------
LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": dict(LINE_FORMATTER)},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "apscheduler": {
            "level": os.environ.get("APSCHEDULER_LOG_LEVEL", "INFO").upper()
        },
    },
}

# REST FRAMEWORK
# ------------------------------------------------------------------------------
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 100)
API_MAX_PAGE_SIZE = 1000
# CSV and iCalendar exports are not paginated; past this many rows they ask for a
# narrower date range instead of building a huge response.
API_EXPORT_MAX_ROWS = env_int("API_EXPORT_MAX_ROWS", 10_000)
# Rendered list/detail responses are cached under their ETag (which includes the data
# version, so any change to the data makes new keys); 0 turns the cache off.
API_RESPONSE_CACHE_SECONDS = env_int("API_RESPONSE_CACHE_SECONDS", 300)
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["calendar_api.renderers.FastJSONRenderer"],
    "EXCEPTION_HANDLER": "calendar_api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "calendar_api.schema.CalendarAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["calendar_api.throttling.AnonWindowThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("API_THROTTLE_ANON") or None},
    # How many proxies in front of the app append to X-Forwarded-For. 0 (the default)
    # identifies clients by the socket address; DRF's own default trusts the whole
    # header, which lets a client dodge the throttle by sending a new one each time.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "dipping-calendar API",
    "DESCRIPTION": (
        "Scheduled macroeconomic releases (what, where, when, how important, and the "
        "actual / forecast / previous figures), read-only."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Assets from drf-spectacular-sidecar: the docs work with no outside network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": ["scheduled", "released", "cancelled"],
        "HealthStatusEnum": ["ok", "error"],
        "ReplicaStatusEnum": ["ok", "lagging", "unreachable"],
    },
}

# INGESTION
# ------------------------------------------------------------------------------
# Enabled sources, by slug. TradingEconomics needs a real key for more than its demo.
# bls and ecb (the agencies' own figures) need no key and fetch only on release days.
INGESTION_SOURCES = env_list(
    "INGESTION_SOURCES", default=["forexfactory", "fred", "bls", "ecb"]
)
INGESTION_USER_AGENT = os.environ.get(
    "INGESTION_USER_AGENT",
    "dipping-calendar/0.1 (+https://github.com/dipping-calendar/dipping-calendar)",
)
INGESTION_CONNECT_TIMEOUT = float(os.environ.get("INGESTION_CONNECT_TIMEOUT", "5"))
INGESTION_READ_TIMEOUT = float(os.environ.get("INGESTION_READ_TIMEOUT", "30"))
INGESTION_RETRIES = env_int("INGESTION_RETRIES", 3)
# A server's Retry-After is honoured up to this many seconds.
INGESTION_MAX_RETRY_AFTER = env_int("INGESTION_MAX_RETRY_AFTER", 120)
TRADINGECONOMICS_API_KEY = os.environ.get("TRADINGECONOMICS_API_KEY", "guest:guest")
# Agency APIs (ingestion.official): BLS works without a key (API v1, small daily
# quota), a key switches to v2; FRED/ALFRED series data always needs one.
BLS_API_KEY = os.environ.get("BLS_API_KEY", "")
FRED_API_KEY = os.environ.get("FRED_API_KEY", "")
FOREXFACTORY_FEED_FORMAT = os.environ.get("FOREXFACTORY_FEED_FORMAT", "json")
# The calendar page has actuals but sits behind Cloudflare; off unless asked for.
FOREXFACTORY_PAGE_ENABLED = env_bool("FOREXFACTORY_PAGE_ENABLED", default=False)

# SCHEDULER
# ------------------------------------------------------------------------------
# Per-source cron overrides are read as SCHEDULER_CRON_<SLUG> (see scheduler.schedule).
SCHEDULER_DISPLAY_TZ = os.environ.get("SCHEDULER_DISPLAY_TZ", "UTC")
# APScheduler's default grace is 1 s: a crawl delayed by a busy pool would be skipped.
SCHEDULER_MISFIRE_GRACE_SECONDS = env_int("SCHEDULER_MISFIRE_GRACE_SECONDS", 3600)
# The leader writes Heartbeat("scheduler") this often; /api/health/ reads it.
SCHEDULER_HEARTBEAT_SECONDS = env_int("SCHEDULER_HEARTBEAT_SECONDS", 30)
# How often a standby retries the leader lock and the leader checks it still holds it.
SCHEDULER_LOCK_POLL_SECONDS = float(os.environ.get("SCHEDULER_LOCK_POLL_SECONDS", "5"))
# SQLite only: the flock file; empty means "<database file>.scheduler.lock".
SCHEDULER_LOCK_PATH = os.environ.get("SCHEDULER_LOCK_PATH", "")
# Follow-up crawls run this long after a high-importance release, to pick up actuals.
SCHEDULER_FOLLOWUP_DELAY_MINUTES = env_int("SCHEDULER_FOLLOWUP_DELAY_MINUTES", 2)
# Follow-ups are planned this far ahead (re-planned after every scheduled crawl).
SCHEDULER_FOLLOWUP_HORIZON_DAYS = env_int("SCHEDULER_FOLLOWUP_HORIZON_DAYS", 8)
# Minutes after a release at which an agency's source asks for its figure: its API
# lags the press release by minutes; an attempt finding the figure in cancels the rest.
SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES = env_list(
    "SCHEDULER_OFFICIAL_ATTEMPTS_MINUTES", default=["2", "5", "10", "20", "40"]
)
# Job execution history is pruned weekly beyond this age. Catch-up after downtime reads
# the last successful execution, so keep it longer than the monthly crawl's period.
SCHEDULER_EXECUTION_MAX_AGE_DAYS = env_int("SCHEDULER_EXECUTION_MAX_AGE_DAYS", 90)
APSCHEDULER_DATETIME_FORMAT = "Y-m-d H:i:s"
APSCHEDULER_RUN_NOW_TIMEOUT = 25


# PRODUCTION GUARD
# ------------------------------------------------------------------------------
# The Docker image and gunicorn.conf.py set DJANGO_REQUIRE_SECRET_KEY=1, so a
# production process refuses to start with the development key or a weak one
# (the same test as `check --deploy`'s W009). A bare checkout, `make run` and the
# test suite leave it unset and keep working with no configuration.
def is_weak_secret_key(key: str) -> bool:
    return (
        key == DEV_SECRET_KEY
        or key.startswith("django-insecure")
        or len(key) < 50
        or len(set(key)) < 5
    )


if (
    not DEBUG
    and env_bool("DJANGO_REQUIRE_SECRET_KEY", False)
    and is_weak_secret_key(SECRET_KEY)
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is unset or weak (needs 50+ random characters); "
        "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
