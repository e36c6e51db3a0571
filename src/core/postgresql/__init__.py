"""Django's PostgreSQL backend with a health check that costs no round trip
(ENGINE "core.postgresql", set by core.settings for postgres:// URLs; see base.py)."""
