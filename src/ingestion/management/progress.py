"""The progress bar of the long-running commands (``ingest``, ``backfill``): on stderr,
and only on a terminal, so logs and pipes stay clean."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WIDTH = 30


def show(done: int, total: int) -> None:
    filled = WIDTH * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}")
    sys.stderr.flush()


@contextmanager
def progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """``show`` on a terminal (ending its line afterwards), None otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    try:
        yield show
    finally:
        sys.stderr.write("\n")
