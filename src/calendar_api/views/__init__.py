"""Read-only views. Query vocabulary lives on core.querysets, shapes on
core.representation; these validate, call and render."""

from calendar_api.views.events import EventCSVViewSet, EventICSViewSet, EventViewSet
from calendar_api.views.indicators import IndicatorViewSet
from calendar_api.views.meta import (
    APIIndexView,
    APINotFoundView,
    CountryListView,
    HealthView,
    RedocView,
    SchemaView,
    SourceListView,
    SwaggerView,
)

__all__ = [
    "APIIndexView",
    "APINotFoundView",
    "CountryListView",
    "EventCSVViewSet",
    "EventICSViewSet",
    "EventViewSet",
    "HealthView",
    "IndicatorViewSet",
    "RedocView",
    "SchemaView",
    "SourceListView",
    "SwaggerView",
]
