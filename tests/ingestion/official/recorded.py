"""Reading the recorded agency payloads out of the wrappers they were found in.

tests/fixtures/official/<agency>/PROVENANCE.md says what each file is:
* CASSETTE: a VCR recording (YAML); the body is the response's ``string``, text or
  ``!!binary`` gzip.
* ENVELOPE: the capturer re-serialised the agency's JSON under ``"response"``.
* EMBEDDED: the JSON text pasted into source code (a Ruby assignment, Rust raw
  strings), verbatim.
Nothing here edits a payload; it only takes it out of its wrapper.
"""

import json
import re
from decimal import Decimal
from functools import cache

import yaml

from ingestion.recordings import unwrap
from tests.conftest import fixture_bytes

OFFICIAL = "official/"
_RUST_RAW = re.compile(rb'r#"(\{"status".*?)"#', re.S)


@cache
def _cassette(relative: str) -> dict:
    # libyaml when present: the ALFRED cassette is 600 kB.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(fixture_bytes(OFFICIAL + relative), Loader=loader)


@cache
def cassette_bodies(relative: str) -> list[bytes]:
    """Every response body of a VCR cassette, in recording order (the reader
    ``ingest --file`` uses)."""
    return [r.body for r in unwrap(fixture_bytes(OFFICIAL + relative), relative)]


def cassette_uris(relative: str) -> list[str]:
    return [i["request"]["uri"] for i in _cassette(relative)["interactions"]]


def envelope(relative: str) -> dict:
    """The whole envelope, numbers as Decimal; the agency's JSON is ``["response"]``."""
    return json.loads(fixture_bytes(OFFICIAL + relative), parse_float=Decimal)


def envelope_body(relative: str) -> bytes:
    """The agency's JSON out of an envelope, serialised again, numbers as numbers
    (the reader ``ingest --file`` uses)."""
    [recorded] = unwrap(fixture_bytes(OFFICIAL + relative), relative)
    return recorded.body


def ruby_assigned_json(relative: str, variable: str) -> dict:
    """The JSON literal assigned on the line ``@variable = {...}``."""
    for line in fixture_bytes(OFFICIAL + relative).decode().splitlines():
        if line.strip().startswith(f"@{variable} = "):
            return json.loads(line.split(" = ", 1)[1], parse_float=Decimal)
    raise AssertionError(f"no @{variable} literal in {relative}")


def rust_raw_bodies(relative: str) -> list[bytes]:
    """The BLS bodies held in ``r#"{"status"..."#`` literals, verbatim bytes."""
    return _RUST_RAW.findall(fixture_bytes(OFFICIAL + relative))
