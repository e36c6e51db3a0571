from django.contrib import admin
from django.urls import include, path

# The API is mounted by dotted string so core does not import calendar_api.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("calendar_api.urls")),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
