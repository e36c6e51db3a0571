"""Ingestion: the sources, their parsers, and the only code that writes calendar rows."""

from pathlib import Path

# Real recorded payloads that ship with the package: `loadsample` loads them, and the
# tests read them here rather than keep a second copy (see samples/README.md).
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
