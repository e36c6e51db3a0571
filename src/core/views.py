"""Project-wide pages: the home redirect, and error pages (JSON under /api/, Django's
HTML pages elsewhere: the admin)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.generic import RedirectView


class HomeRedirectView(RedirectView):
    """``/``: to the Swagger UI, for GET and HEAD only (the site is read-only)."""

    http_method_names = ["get", "head"]


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
