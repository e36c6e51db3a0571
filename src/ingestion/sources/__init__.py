"""The registered sources. Adding one: a module here, and one import line below."""

from ingestion.sources.base import (
    Source,
    all_sources,
    enabled_sources,
    figure_precedence,
    get_source,
    register,
    source_precedence,
)

__all__ = [
    "Source",
    "all_sources",
    "enabled_sources",
    "figure_precedence",
    "get_source",
    "register",
    "source_precedence",
]

# One name per source module below: importing a module registers its source.
from ingestion.sources import (  # noqa: F401
    bls,
    ecb,
    forexfactory,
    fred,
    investing,
    tradingeconomics,
)
