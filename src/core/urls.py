from django.contrib import admin
from django.urls import include, path

from core.views import HomeRedirectView

# The API is mounted by dotted string so core does not import calendar_api.
urlpatterns = [
    # `make run` prints this address: send a person to the interactive docs.
    path("", HomeRedirectView.as_view(pattern_name="api:docs"), name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("calendar_api.urls")),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
