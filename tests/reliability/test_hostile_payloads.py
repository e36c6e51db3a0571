"""Hostile payloads for every source and entry point: each ends in a clear error or a
counted skip, and a run that fails leaves the stored events exactly as they were.

Every payload here starts from a real recording under tests/fixtures/ (TradingEconomics:
the payload constructed from its documented schema, see its parser tests) and is then
damaged on purpose: cut short, re-encoded, swapped for an error page, or given one
absurd row (a 10 MB title, a date in year 9999, a negative importance, a row listed
twice). These are deliberately broken copies, never presented as recordings.

The database holds every source's real sample data before each case, so "nothing
changed" is checked against a table that has something to lose.
"""

import copy
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import lxml.html
import pytest
import responses

from core.models import EconomicEvent, IngestionRun
from ingestion.errors import IngestionError, PayloadError, SourceBlocked
from ingestion.http import build_session
from ingestion.records import DateWindow
from ingestion.services import ingest_source
from ingestion.sources import get_source
from tests.conftest import fixture_bytes
from tests.ingestion.test_source_tradingeconomics import CONSTRUCTED
from tests.reliability.conftest import table_checksum

pytestmark = pytest.mark.django_db
AREA = "Hostile payloads"  # its own section of docs/reliability.md

# Where each page embeds its JSON (the same patterns the parsers look for).
FF_PAGE_STATE = rb"calendarComponentStates\[\d+\]\s*=\s*\{\s*days\s*:\s*"
NEXT_DATA = rb'<script id="__NEXT_DATA__" type="application/json"[^>]*>'
HUGE_TITLE = "Nonfarm Payrolls " + "X" * (10 * 1024 * 1024)
CHALLENGE = fixture_bytes(
    "investing_page/investing_cloudflare_challenge_giant-shoulder.html"
)
NGINX_502 = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


# ENTRY POINTS: how to open each payload's rows, damage one, and write it back
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One way a source publishes events, with the edits a hostile row needs."""

    name: str
    source: str
    body: bytes
    rows: Callable[[bytes], tuple[list, Callable[[], bytes]]]
    set_title: Callable[[object, str], None]
    set_year_9999: Callable[[object], None]
    set_importance: Callable[[object, str], None] | None

    def mutated(self, edit: Callable[[list], None]) -> bytes:
        rows, dump = self.rows(self.body)
        edit(rows)
        return dump()


def dump_json(data) -> bytes:
    """JSON as UTF-8 text, non-ASCII characters written as themselves (not \\u escapes)."""
    return json.dumps(data, ensure_ascii=False).encode()


def json_rows(body: bytes):
    data = json.loads(body)
    return data, lambda: dump_json(data)


def embedded_json_rows(pattern: bytes, path: Callable[[object], list]):
    """Rows of a JSON document embedded in an HTML page, and the page re-assembled."""

    def rows(body: bytes):
        match = re.search(pattern, body, re.S)
        data, end = json.JSONDecoder().raw_decode(body[match.end() :].decode())
        prefix, suffix = body[: match.end()], body[match.end() :]
        suffix = suffix[len(suffix.decode()[:end].encode()) :]
        return path(data), lambda: prefix + dump_json(data) + suffix

    return rows


def ff_xml_rows(body: bytes):
    root = lxml.etree.fromstring(body)
    return root.findall("event"), lambda: lxml.etree.tostring(
        root, xml_declaration=True, encoding="windows-1252"
    )


def ff_csv_rows(body: bytes):
    lines = body.decode().split("\n")
    rows = [line.split(",") for line in lines[1:]]  # no quoted commas in this file
    return rows, lambda: "\n".join(
        [lines[0], *(",".join(row) for row in rows)]
    ).encode()


def html_rows(fragment_of: Callable, xpath: str, rebuild: Callable):
    def rows(body: bytes):
        data = json.loads(body)
        table = lxml.html.fromstring(f"<table>{fragment_of(data)}</table>")
        found = table.xpath(xpath)

        def dump():
            html = "".join(
                lxml.html.tostring(child, encoding="unicode") for child in table
            )
            rebuild(data, html)
            return dump_json(data)

        return found, dump

    return rows


def set_xml(tag):
    def setter(row, value):
        row.find(tag).text = value

    return setter


def set_key(key, convert=str):
    def setter(row, value):
        row[key] = convert(value)

    return setter


def investing_days(data):
    store = data["props"]["pageProps"]["state"]["economicCalendarStore"]
    return [
        event
        for day, events in store["calendarEventsByDate"].items()
        for event in events
        if event.get("type") != "holiday"
    ]


def ff_page_events(days):
    return [event for day in days for event in day["events"]]


def investing_ajax_title(row, value):
    row.xpath("td[contains(@class, 'event')]/a")[0].text = value


def fred_set_title(row, value):
    row.xpath(".//a")[0].text = value


def fred_set_year_9999(row):
    # FRED dates a row by the day header above it: put the row under a header of its
    # own in year 9999, and the original header back after it for the rows below.
    header = row.getprevious()
    while not header.xpath(DAY_SPAN):
        header = header.getprevious()
    moved, restored = copy.deepcopy(header), copy.deepcopy(header)
    span = moved.xpath(DAY_SPAN)[0]
    span.text = re.sub(r"\d{4}$", "9999", span.text)
    row.addprevious(moved)
    row.addnext(restored)


DAY_SPAN = ".//span[contains(@style, 'bold')]"


def te_rows(body: bytes):
    items = json.loads(body)
    data = [items[0], items[2], items[3], items[1]]  # the holiday last: no importance
    return data, lambda: dump_json(data)


ENTRIES = [
    Entry(
        "forexfactory feed JSON",
        "forexfactory",
        fixture_bytes(
            "forexfactory_feed/ff_thisweek_2026-08-09_json_dkmarlin_14ef9fe_first.json"
        ),
        json_rows,
        set_key("title"),
        lambda row: row.update(date="9999-" + row["date"][5:]),
        set_key("impact"),
    ),
    Entry(
        "forexfactory feed XML",
        "forexfactory",
        fixture_bytes(
            "forexfactory_feed/ff_thisweek_2025-06-08_xml_tito1270_first.xml"
        ),
        ff_xml_rows,
        # lxml refuses text nodes over 10 MB unless huge_tree is on (it stays off).
        set_xml("title"),
        lambda row: setattr(
            row.find("date"), "text", row.find("date").text[:6] + "9999"
        ),
        set_xml("impact"),
    ),
    Entry(
        "forexfactory feed CSV",
        "forexfactory",
        fixture_bytes("forexfactory_feed/ff_thisweek_2026-02-08_csv_KundaNgambi.csv"),
        ff_csv_rows,
        lambda row, value: row.__setitem__(0, value),
        lambda row: row.__setitem__(2, row[2][:6] + "9999"),
        lambda row, value: row.__setitem__(4, value),
    ),
    Entry(
        "forexfactory calendar page",
        "forexfactory",
        fixture_bytes(
            "forexfactory_html/ff_calendar_page_2026-06-07_week_tobigom.html"
        ),
        embedded_json_rows(FF_PAGE_STATE, ff_page_events),
        set_key("name"),
        lambda row: row.update(dateline=253_402_200_000),  # 9999-12-31
        set_key("impactName"),
    ),
    Entry(
        "investing AJAX",
        "investing",
        fixture_bytes(
            "investing_ajax/getCalendarFilteredData_2022-07-07_to_2022-07-08_"
            "tz46_US-high-employment_limit0_after-release.json"
        ),
        html_rows(
            lambda data: data["data"],
            "//tr[starts-with(@id, 'eventRowId_')]",
            lambda data, html: data.update(data=html),
        ),
        investing_ajax_title,
        lambda row: row.set(
            "data-event-datetime", "9999/12/31" + row.get("data-event-datetime")[10:]
        ),
        lambda row, value: row.xpath("td[@data-img_key]")[0].set(
            "data-img_key", f"bull{value}"
        ),
    ),
    Entry(
        "investing Next.js page",
        "investing",
        fixture_bytes(
            "investing_page/investing_econcal_nextjs_2026-06-04_tobigom.html"
        ),
        embedded_json_rows(
            NEXT_DATA,
            investing_days,
        ),
        set_key("event"),
        lambda row: row.update(time="9999-12-31" + row["time"][10:]),
        set_key("importance"),
    ),
    Entry(
        "fred release calendar",
        "fred",
        fixture_bytes("fred/fred_releases_calendar_2025-07-02.json"),
        html_rows(
            lambda data: data["pager"],
            "//tr[.//a[contains(@href, 'rid=')]]",
            lambda data, html: data.update(pager=html),
        ),
        fred_set_title,
        fred_set_year_9999,
        None,  # FRED does not rank releases: there is no importance to corrupt
    ),
    Entry(
        "tradingeconomics API (constructed)",
        "tradingeconomics",
        json.dumps(CONSTRUCTED).encode(),
        te_rows,
        set_key("Event"),
        lambda row: row.update(Date="9999-12-31T23:00:00-05:00"),
        set_key("Importance", int),
    ),
]
BY_NAME = {entry.name: entry for entry in ENTRIES}
entries = pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)


@pytest.fixture
def stored():
    """Every source's real sample payloads ingested: a table with something to lose."""
    for entry in ENTRIES:
        run = ingest_from_bytes(entry.source, entry.body)
        assert run.status == "succeeded", run.error
    assert EconomicEvent.objects.count() > 300
    return table_checksum()


def ingest_from_bytes(source: str, body: bytes) -> IngestionRun:
    with tempfile.NamedTemporaryFile(suffix=".payload") as handle:
        handle.write(body)
        handle.flush()
        return ingest_source(source, files=[handle.name], trigger="test")


def failed_cleanly(source: str, body: bytes, before: str) -> IngestionError:
    """Ingest ``body``: assert it fails, names the source, and changes nothing."""
    with pytest.raises(IngestionError) as caught:
        ingest_from_bytes(source, body)
    run = IngestionRun.objects.latest("pk")
    assert run.status == "failed"
    assert run.error.startswith(f"{source}: ")
    assert len(run.error) < 400, "an error message is one readable line"
    assert "\n" not in run.error
    assert table_checksum() == before
    return caught.value


# DAMAGED PAYLOADS: each must fail the run with a clear error and change nothing
# ------------------------------------------------------------------------------


def truncations(body: bytes) -> list[bytes]:
    return [body[: len(body) * share // 100] for share in (10, 50, 90)]


def reencoded_utf16(body: bytes) -> bytes:
    return body.decode("utf-8", "replace").encode("utf-16")


DAMAGE = {
    "empty body": lambda body: [b""],
    "whitespace only": lambda body: [b" \r\n\t"],
    "a proxy's HTML error page": lambda body: [NGINX_502],
    "a Cloudflare challenge page": lambda body: [CHALLENGE],
    "NUL bytes": lambda body: [b"\x00" * 512],
    "JSON null": lambda body: [b"null"],
    "re-encoded as UTF-16": lambda body: [reencoded_utf16(body)],
}
# Cut where the format would otherwise still parse. The pages are exempt: their
# calendar state sits near the top, so a page cut past it still holds every event
# (checked below), and that is the right outcome.
TRUNCATABLE = [e for e in ENTRIES if "page" not in e.name]


@entries
@pytest.mark.parametrize("damage", DAMAGE, ids=str)
def test_a_damaged_payload_fails_cleanly(entry, damage, stored, report):
    bodies = DAMAGE[damage](entry.body)
    if damage == "re-encoded as UTF-16" and entry.source in {
        "fred",
        "tradingeconomics",
    }:
        # JSON may legally be UTF-16 (RFC 8259 readers detect it): these still parse.
        run = ingest_from_bytes(entry.source, bodies[0])
        assert run.status == "succeeded"
        assert run.created == 0
        assert table_checksum() == stored
        outcome = "read as JSON (RFC 8259 allows UTF-16); nothing changed"
        verdict = "read, no change"
    else:
        errors = [failed_cleanly(entry.source, body, stored) for body in bodies]
        if damage == "a Cloudflare challenge page":
            assert all(isinstance(error, SourceBlocked) for error in errors)
            assert "blocked by the source" in str(errors[0])
        outcome = f"failed: {errors[0]}"
        verdict = "blocked" if isinstance(errors[0], SourceBlocked) else "error"
    report(
        AREA,
        f"{entry.name}: {damage}",
        tried=f"ingest the payload ({damage}) over stored sample data",
        showed=outcome[:160],
        verdict=verdict,
        requests=len(bodies),
        failures=0,
        rows_lost=0,
    )


@pytest.mark.parametrize("entry", TRUNCATABLE, ids=lambda entry: entry.name)
def test_a_truncated_payload_fails_cleanly(entry, stored, report):
    errors = [
        failed_cleanly(entry.source, body, stored) for body in truncations(entry.body)
    ]
    assert all(isinstance(error, PayloadError) for error in errors)
    report(
        AREA,
        f"{entry.name}: truncated at 10/50/90 %",
        tried="ingest the payload cut short at three points over stored sample data",
        showed=f"3 failed runs, e.g. {errors[1]}"[:160],
        verdict="error",
        requests=3,
        failures=0,
        rows_lost=0,
    )


@pytest.mark.parametrize(
    "name", ["forexfactory calendar page", "investing Next.js page"]
)
def test_a_truncated_page_either_fails_or_holds_every_event(name, stored, report):
    entry = BY_NAME[name]
    complete = get_source(entry.source).parse(entry.body)
    outcomes = []
    for body in truncations(entry.body):
        try:
            parsed = get_source(entry.source).parse(body)
        except PayloadError:
            failed_cleanly(entry.source, body, stored)  # checks the message too
            outcomes.append("error")
        else:
            assert parsed.records == complete.records  # the state was whole
            outcomes.append("whole")
    report(
        AREA,
        f"{name}: truncated at 10/50/90 %",
        tried="parse the page cut short at three points",
        showed=(
            "failed at every cut"
            if set(outcomes) == {"error"}
            else f"{', '.join(outcomes)}: a cut page either fails or its state was whole"
        ),
        verdict="error" if set(outcomes) == {"error"} else "error or whole",
        requests=3,
        failures=0,
        rows_lost=0,
    )


def test_a_csv_file_cut_between_two_rows_is_the_one_undetectable_truncation():
    # Documented limit: the CSV feed has no end marker, so a *file* cut exactly at a
    # line break is a shorter but well-formed week. A cut inside a row fails.
    entry = BY_NAME["forexfactory feed CSV"]
    lines = entry.body.split(b"\n")
    inside_a_row = b"\n".join(lines[:20]) + b"\n" + lines[20][:12]
    with pytest.raises(PayloadError, match="truncated"):
        get_source("forexfactory").parse(inside_a_row)
    parsed = get_source("forexfactory").parse(b"\n".join(lines[:20]))
    assert len(parsed.records) == 19


def test_a_download_cut_between_two_rows_fails_on_its_content_length(
    scripted_server, monkeypatch, settings, stored, report
):
    # Over HTTP the same cut is caught: the body is shorter than its Content-Length.
    settings.INGESTION_RETRIES = 0
    settings.FOREXFACTORY_PAGE_ENABLED = False
    settings.FOREXFACTORY_FEED_FORMAT = "csv"
    body = BY_NAME["forexfactory feed CSV"].body
    cut = body[: body.index(b"\n", len(body) // 2)]
    url, seen = scripted_server(
        [(200, {"Content-Type": "text/csv", "Content-Length": str(len(body))}, cut)]
    )
    monkeypatch.setattr(
        "ingestion.sources.forexfactory.FEED_URL", url + "thisweek.{format}"
    )
    with pytest.raises(IngestionError, match=r"fetching .* failed") as caught:
        ingest_source("forexfactory", http=build_session(), trigger="test")
    assert "IncompleteRead" in str(caught.value)
    assert IngestionRun.objects.latest("pk").status == "failed"
    assert table_checksum() == stored
    report(
        AREA,
        "forexfactory feed CSV: download cut at a line break",
        tried="a loopback server sends half the CSV under the full Content-Length",
        showed=f"failed run: {caught.value}"[:160],
        verdict="error",
        requests=len(seen),
        failures=0,
        rows_lost=0,
    )


# Text that is not UTF-8 where UTF-8 is expected. The feed XML is left out: it
# declares windows-1252 and lxml decodes what it declares.
LATIN1_TITLE = "Índice de Precios al Consumidor"
# What a lenient decoder makes of it, where one is right: the CSV feed has no declared
# encoding and falls back to cp1252; the FF page is HTML, decoded with replacement.
LENIENT = {
    "forexfactory feed CSV": LATIN1_TITLE,
    "forexfactory calendar page": "\ufffdndice de Precios al Consumidor",
}


@pytest.mark.parametrize(
    "entry",
    [entry for entry in ENTRIES if entry.name != "forexfactory feed XML"],
    ids=lambda entry: entry.name,
)
def test_latin1_bytes_in_utf8_text_fail_cleanly_or_read_as_declared(
    entry, stored, report
):
    body = entry.mutated(lambda rows: entry.set_title(rows[1], LATIN1_TITLE))
    assert body.count(LATIN1_TITLE.encode()) == 1
    body = body.replace(LATIN1_TITLE.encode(), LATIN1_TITLE.encode("latin-1"))
    if entry.name in LENIENT:
        run = ingest_from_bytes(entry.source, body)
        assert run.status == "succeeded", run.error
        assert run.skipped == 0
        stored_name = EconomicEvent.objects.filter(
            source=entry.source, event_name__contains="ndice de Precios"
        ).values_list("event_name", flat=True)
        assert list(stored_name) == [LENIENT[entry.name]]
        showed = f"read: the title was stored as {LENIENT[entry.name]!r}"
        verdict = "read as declared"
    else:
        error = failed_cleanly(entry.source, body, stored)
        assert "utf-8" in str(error).lower()
        showed = f"failed: {error}"
        verdict = "error"
    report(
        AREA,
        f"{entry.name}: a Latin-1 byte in UTF-8 text",
        tried="ingest a real payload whose one title is encoded in Latin-1",
        showed=showed[:160],
        verdict=verdict,
        requests=1,
        failures=0,
        rows_lost=0,
    )


# ABSURD ROWS: each is one counted skip, the rest of the payload lands
# ------------------------------------------------------------------------------


def absurd_cases():
    for entry in ENTRIES:
        yield pytest.param(entry, "a 10 MB title", id=f"{entry.name}-10MB title")
        yield pytest.param(entry, "a date in year 9999", id=f"{entry.name}-year 9999")
        if entry.set_importance is not None:
            yield pytest.param(
                entry, "a negative importance", id=f"{entry.name}-importance -1"
            )
        yield pytest.param(entry, "a row listed twice", id=f"{entry.name}-duplicate")


# The feed XML keeps libxml2's 10 MB text-node limit (a guard against hostile XML)
# and csv its 128 KiB field limit: a payload carrying such a field is refused whole.
REFUSE_HUGE_FIELDS = {"forexfactory feed XML", "forexfactory feed CSV"}


def damage_one_row(entry: Entry, absurdity: str) -> bytes:
    def edit(rows):
        target = rows[1]
        if absurdity == "a 10 MB title":
            entry.set_title(target, HUGE_TITLE)
        elif absurdity == "a date in year 9999":
            entry.set_year_9999(target)
        elif absurdity == "a negative importance":
            entry.set_importance(target, "-1")
        else:
            twin = copy.deepcopy(target)
            if hasattr(target, "addnext"):  # an XML or HTML element
                target.addnext(twin)
            else:
                rows.insert(2, twin)

    if absurdity == "a row listed twice" and "page" in entry.name:
        return duplicate_in_container(entry)
    return entry.mutated(edit)


@pytest.mark.parametrize(("entry", "absurdity"), list(absurd_cases()))
def test_an_absurd_row_is_one_counted_skip(entry, absurdity, stored, report):
    clean = get_source(entry.source).parse(entry.mutated(lambda rows: None))
    body = damage_one_row(entry, absurdity)
    if absurdity == "a 10 MB title" and entry.name in REFUSE_HUGE_FIELDS:
        error = failed_cleanly(entry.source, body, stored)
        assert "malformed" in str(error)
        showed = f"payload refused: {error}"
        verdict = "refused"
    else:
        run = ingest_from_bytes(entry.source, body)
        assert run.status == "succeeded", run.error
        assert run.skipped == 1, f"{run.skipped} skipped for {absurdity}"
        assert run.fetched - run.skipped == len(
            {r.external_id for r in clean.records}
        ) - (0 if absurdity == "a row listed twice" else 1)
        assert not EconomicEvent.objects.filter(date__year__gt=2200).exists()
        assert not EconomicEvent.objects.filter(
            event_name__contains="XXXXXXXX"
        ).exists()
        showed = (
            f"run succeeded: {run.skipped} row skipped and counted, "
            f"{run.fetched - run.skipped} rows kept"
        )
        verdict = "1 skip"
    report(
        AREA,
        f"{entry.name}: {absurdity}",
        tried=f"ingest a real payload with one row given {absurdity}",
        showed=showed,
        verdict=verdict,
        requests=1,
        failures=0,
        rows_lost=0,
    )


def duplicate_in_container(entry: Entry) -> bytes:
    """Duplicate one event inside the page's own day list (rows there are nested)."""
    match entry.name:
        case "forexfactory calendar page":
            path = lambda days: days[1]["events"]  # noqa: E731
            pattern = FF_PAGE_STATE
        case _:
            path = lambda data: next(  # noqa: E731
                events
                for events in data["props"]["pageProps"]["state"][
                    "economicCalendarStore"
                ]["calendarEventsByDate"].values()
                if len(events) > 2
            )
            pattern = NEXT_DATA
    rows, dump = embedded_json_rows(pattern, path)(entry.body)
    rows.insert(2, copy.deepcopy(rows[1]))
    return dump()


# OVER HTTP: the fetch path of every source meets a block, an error page, nothing
# ------------------------------------------------------------------------------

FETCH_URLS = {
    "forexfactory": ("GET", re.compile(r"https://nfs\.faireconomy\.media/.*")),
    "investing": ("POST", re.compile(r"https://www\.investing\.com/.*")),
    "fred": ("GET", re.compile(r"https://fred\.stlouisfed\.org/.*")),
    "tradingeconomics": ("GET", re.compile(r"https://api\.tradingeconomics\.com/.*")),
}
ANSWERS = {
    "a 200 Cloudflare challenge": (200, "text/html", CHALLENGE, SourceBlocked),
    "a 403 challenge": (403, "text/html", CHALLENGE, SourceBlocked),
    "a 200 HTML error page": (200, "text/html", NGINX_502, PayloadError),
    "a 200 empty body": (200, "application/json", b"", PayloadError),
}


@pytest.mark.parametrize("source", FETCH_URLS)
@pytest.mark.parametrize("answer", ANSWERS)
@responses.activate
def test_a_hostile_answer_over_http_fails_the_run_cleanly(
    source, answer, stored, settings, report
):
    settings.INGESTION_RETRIES = 0
    settings.FOREXFACTORY_PAGE_ENABLED = False
    status, content_type, body, expected = ANSWERS[answer]
    method, url = FETCH_URLS[source]
    responses.add(method, url, status=status, content_type=content_type, body=body)
    with pytest.raises(expected) as caught:
        ingest_source(
            source,
            window=DateWindow(date(2026, 6, 1), date(2026, 6, 7)),
            http=build_session(),
            trigger="test",
        )
    run = IngestionRun.objects.latest("pk")
    assert run.status == "failed"
    assert run.error == str(caught.value)
    assert run.error.startswith(f"{source}: ")
    assert table_checksum() == stored
    report(
        AREA,
        f"{source} over HTTP: {answer}",
        tried="a crawl whose source answers this instead of data",
        showed=f"failed run: {run.error}"[:160],
        verdict="blocked" if expected is SourceBlocked else "error",
        requests=len(responses.calls),
        failures=0,
        rows_lost=0,
    )
