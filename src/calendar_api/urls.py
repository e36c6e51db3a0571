from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from calendar_api.views import (
    APIIndexView,
    APINotFoundView,
    CountryListView,
    EventCSVViewSet,
    EventICSViewSet,
    EventViewSet,
    HealthView,
    IndicatorViewSet,
    RedocView,
    SchemaView,
    SourceListView,
    SwaggerView,
)

app_name = "api"

# The documentation pages are HTML for browsers: OPTIONS would ask their template
# renderer for a metadata page it has no template for (a 500), so only GET and HEAD.
PAGE = {"http_method_names": ["get", "head"]}
LIST = {"get": "list"}

router = SimpleRouter()
router.register("events", EventViewSet, basename="event")
router.register("indicators", IndicatorViewSet, basename="indicator")

urlpatterns = [
    path("", APIIndexView.as_view(), name="index"),
    *router.urls,
    # Each export format as an operation of its own, for generated clients.
    path("events.csv", EventCSVViewSet.as_view(LIST), name="event-list-csv"),
    path("events.ics", EventICSViewSet.as_view(LIST), name="event-list-ics"),
    path("countries/", CountryListView.as_view(), name="country-list"),
    path("sources/", SourceListView.as_view(), name="source-list"),
    path("health/", HealthView.as_view(), name="health"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path(
        "docs/",
        SwaggerView.as_view(url_name="api:schema", **PAGE),
        name="docs",
    ),
    path(
        "redoc/",
        RedocView.as_view(
            url_name="api:schema", template_name="calendar_api/redoc.html", **PAGE
        ),
        name="redoc",
    ),
    # Last: every other path under /api/ is a JSON 404, whatever DEBUG is.
    re_path(r"^(?P<path>.*)$", APINotFoundView.as_view(), name="not-found"),
]
