from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import SimpleRouter

from calendar_api.views import CountryListView, EventViewSet, HealthView, SourceListView

app_name = "api"

# The documentation pages are HTML for browsers: OPTIONS would ask their template
# renderer for a metadata page it has no template for (a 500), so only GET and HEAD.
PAGE = {"http_method_names": ["get", "head"]}

router = SimpleRouter()
router.register("events", EventViewSet, basename="event")

urlpatterns = [
    *router.urls,
    path("countries/", CountryListView.as_view(), name="country-list"),
    path("sources/", SourceListView.as_view(), name="source-list"),
    path("health/", HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", **PAGE),
        name="docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(
            url_name="api:schema", template_name="calendar_api/redoc.html", **PAGE
        ),
        name="redoc",
    ),
]
