"""Security: anonymous users can only read, the admin needs staff, SQL is never built
from input, and production refuses to start without a real secret."""

import ast
import os
import re
import secrets
from datetime import date, time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from core.models import EconomicEvent, IngestionRun, Occurrence
from ingestion.records import EventRecord
from ingestion.services import ingest_source, upsert_records
from tests.conftest import FIXTURES
from tests.processes import manage
from tests.reliability.conftest import table_checksum

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE", "TRACE")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
INJECTIONS = (
    "' OR '1'='1",
    "1; DROP TABLE core_economicevent; --",
    "US') UNION SELECT password FROM auth_user --",
    "%' AND 1=1 --",
    "\x00",
    "\\",
    '"',
)


def api_urls(event_id: int, indicator_id: str) -> list[str]:
    """Every URL the API serves, detail routes filled with a real release and indicator."""
    resolver = get_resolver()
    urls = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                urls.append(prefix + route)

    walk(resolver.url_patterns, "")
    concrete = []
    for route in urls:
        if not route.startswith("api/"):
            continue
        # Router routes are regexes (^events/(?P<pk>[^/.]+)/$); paths are plain.
        route = route.replace("^", "").replace("$", "")
        pk = indicator_id if route.startswith("api/indicators") else str(event_id)
        route = re.sub(r"\(\?P<pk>[^)]*\)", pk, route)
        if "(" in route or "<" in route:  # format-suffix variants and the like
            continue
        concrete.append("/" + route)
    return sorted(set(concrete))


@pytest.fixture
def stored_event(db):
    ingest_source(
        "forexfactory",
        files=[FIXTURES / "forexfactory_feed/ff_thisweek_2025-05-04_xml_Rommans.xml"],
        trigger="test",
    )
    return Occurrence.objects.order_by("pk").first()


@pytest.mark.django_db
def test_anonymous_users_can_only_read(client, stored_event, report):
    urls = api_urls(stored_event.pk, stored_event.indicator_id)
    indicator = f"/api/indicators/{stored_event.indicator_id}/"
    assert {
        "/api/events/", f"/api/events/{stored_event.pk}/", "/api/health/",
        "/api/indicators/", indicator, f"{indicator}history/",
    } <= set(urls)  # fmt: skip
    before = table_checksum()
    runs = IngestionRun.objects.count()
    sent = 0
    for url in urls:
        for method in WRITE_METHODS:
            response = client.generic(
                method, url, b'{"event_name": "x"}', "application/json"
            )
            sent += 1
            assert response.status_code == 405, (method, url, response.status_code)
        for method in SAFE_METHODS:
            response = client.generic(method, url)
            sent += 1
            # The documentation pages are GET/HEAD only; OPTIONS on them is a 405.
            assert response.status_code in (200, 405), (method, url)
            assert response.status_code == 200 or method == "OPTIONS", (method, url)
    assert table_checksum() == before
    assert IngestionRun.objects.count() == runs, "a request started a crawl"
    report(
        "Security",
        "the API is read-only",
        tried=f"{', '.join(WRITE_METHODS)} and {', '.join(SAFE_METHODS)} on all {len(urls)} API URLs",
        showed="every write method answers 405; safe methods 200 (OPTIONS on the HTML docs 405); no row changed, no crawl started",
        requests=sent,
        failures=0,
        rows_lost=0,
    )


def test_no_api_view_accepts_a_write_or_reaches_ingestion(report):
    """What the routes could do, not only what a probe saw: declared methods and code."""
    resolver = get_resolver()
    checked = 0

    def walk(patterns) -> None:
        nonlocal checked
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("admin/"):
                    continue
                walk(pattern.url_patterns)
                continue
            view = pattern.callback
            cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
            assert cls is not None, pattern
            module = cls.__module__
            assert not module.startswith(("ingestion", "scheduler")), module
            actions = getattr(view, "actions", None)
            if actions:  # a ViewSet route: the methods it maps
                assert set(actions) <= {"get", "head", "options"}, (pattern, actions)
            else:
                allowed = set(view.view_initkwargs.get("http_method_names", ()))
                allowed |= {
                    m for m in cls.http_method_names if callable(getattr(cls, m, None))
                }
                allowed.discard("options")
                assert allowed <= {"get", "head"}, (pattern, allowed)
            checked += 1

    walk(resolver.url_patterns)
    assert checked >= 7
    report(
        "Security",
        "no endpoint triggers a crawl",
        tried=f"every one of {checked} API routes: its view's module and the HTTP methods it implements",
        showed="all views live in calendar_api/drf_spectacular and implement only GET/HEAD; "
        "import-linter forbids calendar_api from importing ingestion or scheduler",
        failures=0,
    )


@pytest.mark.django_db
def test_the_admin_needs_a_staff_login(client, stored_event, report):
    row = EconomicEvent.objects.order_by("pk").first()
    event_url = f"/admin/core/economicevent/{row.pk}/change/"
    pages = ("/admin/", "/admin/core/economicevent/", event_url)
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    User = get_user_model()
    User.objects.create_user("reader", password="not-staff-pass-1")
    response = client.post(
        "/admin/login/", {"username": "reader", "password": "not-staff-pass-1"}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "staff account" in response.content.decode()
    assert client.get("/admin/").status_code == 302

    User.objects.create_user("staff", password="staff-pass-1", is_staff=True)
    User.objects.get(username="staff").user_permissions.set(
        Permission.objects.filter(codename__startswith="view_")
    )
    assert client.login(username="staff", password="staff-pass-1")
    assert client.get("/admin/core/economicevent/").status_code == 200
    assert client.get(event_url).status_code == 200
    # Even staff cannot edit: edits would bypass the revision log.
    before = table_checksum()
    assert client.get("/admin/core/economicevent/add/").status_code == 403
    response = client.post(event_url, {"event_name": "edited"})
    assert response.status_code == 403
    assert table_checksum() == before
    report(
        "Security",
        "the admin needs a staff login",
        tried="anonymous GETs of admin pages; a non-staff user logging in; a staff user adding and editing an event",
        showed="anonymous -> redirect to login; non-staff refused; staff can view but add/edit answer 403, no row changed",
        requests=len(pages) + 7,
        failures=0,
        rows_lost=0,
    )


@pytest.mark.django_db
def test_injection_strings_in_every_query_parameter(client, stored_event, report):
    from calendar_api.filters import (
        HistoryFilterSet,
        IndicatorFilterSet,
        OccurrenceFilterSet,
    )

    params = sorted(
        {
            *OccurrenceFilterSet.base_filters,
            *IndicatorFilterSet.base_filters,
            *HistoryFilterSet.base_filters,
            "tz",
            "format",
            "page_size",
            "cursor",
            "ordering",
        }
    )
    before = table_checksum()
    statuses: dict[int, int] = {}
    for name in params:
        for value in INJECTIONS:
            for url in (
                "/api/events/",
                f"/api/events/{stored_event.pk}/",
                "/api/indicators/",
                f"/api/indicators/{stored_event.indicator_id}/history/",
            ):
                response = client.get(url, {name: value})
                statuses[response.status_code] = (
                    statuses.get(response.status_code, 0) + 1
                )
                assert response.status_code in (200, 400, 404), (name, value, response)
                if response.status_code == 400 and response["Content-Type"].startswith(
                    "application/json"
                ):
                    assert name in response.json() or "detail" in response.json()
    # A quote in a text filter is just text: it matches nothing, it is not SQL.
    response = client.get("/api/events/", {"q": "' OR '1'='1"})
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert table_checksum() == before
    report(
        "Security",
        "SQL injection through query parameters",
        tried=f"{len(INJECTIONS)} injection strings in each of {len(params)} parameters on list and detail",
        showed=f"statuses {dict(sorted(statuses.items()))}; never 500; q=\"' OR '1'='1\" matches nothing; table unchanged",
        requests=sum(statuses.values()),
        failures=0,
        rows_lost=0,
    )


@pytest.mark.django_db
def test_hostile_text_from_a_source_is_stored_as_text(report):
    """Payload text reaches the database as bound values (COPY rows on PostgreSQL)."""
    names = [f"Robert{quote}); DROP TABLE core_economicevent; --" for quote in "'\""]
    records = [
        EventRecord(
            external_id=f"evil-{index}",
            event_name=name,
            country="US",
            currency="USD",
            date=date(2026, 6, 3),
            time=time(12, 30),
            importance=3,
            forecast="1'; DELETE FROM core_ingestionrun; --",
        )
        for index, name in enumerate(names)
    ]
    with transaction.atomic():
        result = upsert_records(source="forexfactory", records=records)
    assert result.created == 2
    stored = dict(
        EconomicEvent.objects.filter(external_id__startswith="evil-").values_list(
            "external_id", "event_name"
        )
    )
    assert stored == {"evil-0": names[0], "evil-1": names[1]}
    report(
        "Security",
        "SQL in payload text",
        tried="events whose name and forecast are SQL statements, written by the bulk upsert",
        showed="stored verbatim as text; no statement ran",
        failures=0,
        rows_lost=0,
    )


# ---- static: no SQL is built from values -------------------------------------------

SQL_CALLS = {"execute", "executemany", "copy"}
# Names the SQL f-strings may interpolate: identifiers quoted with quote_name() from
# model metadata, or fragments built only from them (``order``: quoted columns with
# ASC/DESC; ``aggregates``: aggregate calls over quoted columns, filtered by a bound
# parameter). Never a value. ``compiled`` is SQL the ORM compiled, whose values are
# its bound parameters (a page's query wrapped in one statement).
IDENTIFIER_NAMES = {
    "columns", "column", "table", "target", "conflict", "on_conflict", "updates",
    "values", "order", "compiled", "aggregates",
}  # fmt: skip
FORBIDDEN_ATTRIBUTES = {"raw", "extra"}
FORBIDDEN_NAMES = {"RawSQL"}


def sql_problems(path: Path) -> list[str]:
    problems = []
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attribute = node.func.attr
            if attribute in FORBIDDEN_ATTRIBUTES:
                problems.append(f"{path}:{node.lineno}: .{attribute}()")
            if attribute in SQL_CALLS and node.args:
                sql = node.args[0]
                if isinstance(sql, ast.Constant):
                    continue
                if not isinstance(sql, ast.JoinedStr):
                    problems.append(f"{path}:{node.lineno}: SQL that is not a literal")
                    continue
                for part in sql.values:
                    if not isinstance(part, ast.FormattedValue):
                        continue
                    value = part.value
                    ok = (
                        isinstance(value, ast.Name) and value.id in IDENTIFIER_NAMES
                    ) or (
                        isinstance(value, ast.Call)
                        and isinstance(value.func, ast.Name)
                        and value.func.id == "quote"
                    )
                    if not ok:
                        problems.append(
                            f"{path}:{node.lineno}: interpolates {ast.unparse(value)}"
                        )
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            problems.append(f"{path}:{node.lineno}: {node.id}")
    return problems


def test_no_sql_is_built_from_values(report):
    files = [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]
    problems = [problem for path in files for problem in sql_problems(path)]
    assert problems == []
    # The checker itself catches what it is for.
    bad = SRC.parent / "var" / "sql_check_probe.py"
    bad.write_text(
        "def f(cursor, q, qs):\n"
        "    cursor.execute(f\"SELECT * FROM t WHERE name = '{q}'\")\n"
        "    cursor.execute('SELECT %s' % q)\n"
        "    qs.extra(where=[q])\n"
    )
    try:
        assert len(sql_problems(bad)) == 3
    finally:
        bad.unlink()
    report(
        "Security",
        "no SQL built from strings",
        tried=f"an AST scan of {len(files)} source files for raw()/extra()/RawSQL and SQL that interpolates anything but quoted identifiers",
        showed="none; every value is a bound parameter or a COPY row (the scan flags all 3 planted mistakes)",
        failures=0,
    )


# ---- production configuration -------------------------------------------------------


def production(**env: str) -> dict[str, str]:
    """This shell's environment without its Django settings, in production mode
    (DEBUG off, a strong secret key required), plus ``env``."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL"))
    }
    return {**environ, "DJANGO_DEBUG": "0", "DJANGO_REQUIRE_SECRET_KEY": "1", **env}


@pytest.mark.slow
def test_production_settings_take_secrets_only_from_env(report):
    refused = manage("check", env=production())
    assert refused.returncode != 0
    last = refused.stderr.strip().splitlines()[-1]
    assert "DJANGO_SECRET_KEY is unset or weak" in last

    ok = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="calendar.example.com",
            DJANGO_SECURE_SSL_REDIRECT="1",
            DJANGO_SECURE_HSTS_SECONDS="31536000",
            DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
            DJANGO_SECURE_HSTS_PRELOAD="1",
        ),
    )
    assert ok.returncode == 0, ok.stderr
    report(
        "Security",
        "secrets only from env; check --deploy",
        tried="manage.py check in production mode without DJANGO_SECRET_KEY, then check --deploy --fail-level WARNING with one from env",
        showed=f"refused with one line ({last[:80]}...); with the env key, check --deploy passes",
        failures=0,
    )
