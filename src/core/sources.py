"""What the rest of the project may know about ingestion sources, without importing them.

``ingestion`` registers a ``SourceInfo`` for each source it implements; the API reads
them to list sources and their freshness. Keeping the registry here lets the
dependency run one way (``calendar_api -> core <- ingestion``).
"""

import os
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class SourceInfo:
    slug: str
    label: str
    homepage: str
    description: str
    supports_range: bool
    default_schedule: str

    @property
    def enabled(self) -> bool:
        return self.slug in settings.INGESTION_SOURCES

    @property
    def schedule_setting(self) -> str:
        return f"SCHEDULER_CRON_{self.slug.upper()}"

    @property
    def schedule(self) -> str:
        """The refresh cron: ``SCHEDULER_CRON_<SLUG>`` (setting or env) or the default."""
        name = self.schedule_setting
        return (
            getattr(settings, name, None)
            or os.environ.get(name)
            or self.default_schedule
        )


_registry: dict[str, SourceInfo] = {}


def register_source_info(info: SourceInfo) -> None:
    existing = _registry.get(info.slug)
    if existing is not None and existing != info:
        raise ValueError(
            f"source {info.slug!r} is registered twice with different metadata"
        )
    _registry[info.slug] = info


def all_source_infos() -> list[SourceInfo]:
    """Every known source, sorted by slug (empty until the ingestion app is loaded)."""
    return [_registry[slug] for slug in sorted(_registry)]


def get_source_info(slug: str) -> SourceInfo | None:
    return _registry.get(slug)
