"""Errors an ingestion run can end with. Each message names the source and the problem."""


class IngestionError(Exception):
    """Base class: the run failed and wrote nothing."""


class SourceBlocked(IngestionError):
    """The source refused us (Cloudflare challenge, 403/429/503): not "no events"."""


class PayloadError(IngestionError):
    """The payload is not what the source publishes (truncated, wrong format, empty)."""


class SeriesNotFound(IngestionError):
    """An agency does not have the series asked for (HTTP 404): try its next one."""


class InvalidRow(ValueError):
    """One row cannot be turned into an event; the run skips it and counts it."""
