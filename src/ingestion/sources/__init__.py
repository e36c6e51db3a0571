"""The registered sources. Adding one: a module here, and one import line below."""

from ingestion.sources.base import Source, all_sources, get_source, register

__all__ = ["Source", "all_sources", "get_source", "register"]

# One line per source module: importing it registers the source.
import ingestion.sources.forexfactory  # noqa: F401
