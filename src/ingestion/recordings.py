"""Recorded payloads in the wrappers tools save them in, for ``ingest --file``.

A file is one of:

* a body as served (most recordings): replayed as it is;
* a VCR cassette (YAML, ``interactions:``): every response body it holds, in order, a
  gzip body decompressed; a FRED request's ``series_id`` names the series of its body;
* a capturer's JSON envelope, ``{"request": {...}, "response": <the body>, ...}``:
  the response, serialised again.

Only the wrapper is taken off; a body is never edited.
"""

import gzip
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import yaml

from ingestion.errors import PayloadError


@dataclass(frozen=True)
class Recorded:
    body: bytes
    series: str = ""  # the series the request named, when the body does not say


def unwrap(data: bytes, name: str = "file") -> list[Recorded]:
    """The payloads a recorded file holds; PayloadError for a cassette without any."""
    if data.lstrip()[:13] == b"interactions:":
        return _cassette(data, name)
    envelope = _envelope(data)
    return [envelope] if envelope is not None else [Recorded(data)]


def _cassette(data: bytes, name: str) -> list[Recorded]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # cassettes reach MBs
    try:
        interactions = yaml.load(data, Loader=loader)["interactions"]
        found = [_interaction(item) for item in interactions]
    except (yaml.YAMLError, KeyError, TypeError, OSError) as exc:
        raise PayloadError(f"{name}: not a readable VCR cassette: {exc}") from None
    if not found:
        raise PayloadError(f"{name}: the cassette holds no response")
    return found


def _interaction(item: dict) -> Recorded:
    response = item["response"]
    body = response["body"]["string"]
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif "gzip" in (response.get("headers") or {}).get("Content-Encoding", []):
        body = gzip.decompress(body)
    query = parse_qs(urlsplit(item["request"]["uri"]).query)
    return Recorded(body, query.get("series_id", [""])[0])


def _envelope(data: bytes) -> Recorded | None:
    head = data.lstrip()[:1]
    if head != b"{" or b'"response"' not in data or b'"request"' not in data:
        return None
    try:
        wrapper = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None
    response = wrapper.get("response") if isinstance(wrapper, dict) else None
    if not isinstance(response, dict) or "request" not in wrapper:
        return None
    return Recorded(json.dumps(response).encode())
