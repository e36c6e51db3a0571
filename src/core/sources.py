"""The one registry of ingestion sources, and every fact the project derives from one.

``ingestion`` registers each source class it implements (``@register``); the API and
the scheduler read them here. Keeping the registry in ``core`` lets the dependency run
one way (``calendar_api -> core <- ingestion``): the API lists sources without
importing the code that crawls them.
"""

import os
from typing import ClassVar, Protocol, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SourceInfo(Protocol):
    """What a source declares about itself (``ingestion.sources.base.Source`` does)."""

    name: ClassVar[str]  # stable slug: stored on rows, names the refresh job
    label: ClassVar[str]
    homepage: ClassVar[str]
    description: ClassVar[str]
    supports_range: ClassVar[bool]
    schedule: ClassVar[str]  # default refresh cron (UTC)
    precedence: ClassVar[int]  # whose view an occurrence takes: lower wins
    # Whose figures an occurrence takes (actual, previous...): lower wins; None means
    # ``precedence``. The agencies come first for figures, the calendars for times.
    figure_precedence: ClassVar[int | None]
    # True for the agencies: a stored first print (``actual``) is never overwritten; a
    # later different figure is the row's ``revised`` value.
    keeps_first_print: ClassVar[bool]


S = TypeVar("S", bound=SourceInfo)

_registry: dict[str, type[SourceInfo]] = {}


def register_source(source: type[S]) -> type[S]:
    """Add ``source`` to the registry; a second, different source of that name is an error."""
    existing = _registry.get(source.name)
    if existing is not None and existing is not source:
        raise ValueError(f"two sources are named {source.name!r}")
    _registry[source.name] = source
    return source


def all_sources() -> list[type[SourceInfo]]:
    """Every registered source, sorted by slug (empty until the ingestion app is loaded)."""
    return [_registry[name] for name in sorted(_registry)]


def source_class(name: str) -> type[SourceInfo]:
    """The source registered as ``name``; KeyError lists the known names."""
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r} (known: {_known()})") from None


def precedence(name: str) -> int:
    """The source's ``precedence`` (docs/data-model.md); unregistered sources come last."""
    source = _registry.get(name)
    return source.precedence if source is not None else 1000


def figure_precedence(name: str) -> int:
    """The source's ``figure_precedence``, else its ``precedence`` (docs/data-model.md)."""
    source = _registry.get(name)
    if source is None:
        return 1000
    chosen = getattr(source, "figure_precedence", None)
    return source.precedence if chosen is None else chosen


def keeps_first_print(name: str) -> bool:
    """True when the source's stored first prints are kept (the agencies)."""
    source = _registry.get(name)
    return bool(getattr(source, "keeps_first_print", False))


def is_enabled(name: str) -> bool:
    """True when settings.INGESTION_SOURCES lists the source."""
    return name in settings.INGESTION_SOURCES


def enabled_sources() -> list[type[SourceInfo]]:
    """The sources settings.INGESTION_SOURCES lists, in its order.

    Raises ImproperlyConfigured naming the slugs no source is registered as.
    """
    unknown = [name for name in settings.INGESTION_SOURCES if name not in _registry]
    if unknown:
        raise ImproperlyConfigured(
            f"INGESTION_SOURCES names unknown source(s) {', '.join(unknown)} "
            f"(known: {_known()})"
        )
    return [_registry[name] for name in settings.INGESTION_SOURCES]


def _known() -> str:
    return ", ".join(sorted(_registry)) or "none"


def cron_variable(name: str) -> str:
    """The setting (or environment variable) that overrides a source's refresh cron:
    ``SCHEDULER_CRON_<SLUG>``, upper-cased, ``-`` as ``_`` (a valid variable name)."""
    return f"SCHEDULER_CRON_{name.upper().replace('-', '_')}"


def refresh_cron(source: type[SourceInfo]) -> tuple[str, str | None]:
    """The cron of ``source``'s refresh job, and the variable that set it (None when
    it is the source's own default)."""
    variable = cron_variable(source.name)
    override = getattr(settings, variable, None) or os.environ.get(variable)
    if override:
        return override, variable
    return source.schedule, None
