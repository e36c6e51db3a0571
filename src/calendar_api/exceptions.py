"""DRF's exception handler, plus: a database that is down is a 503, not a traceback."""

import logging

from django.db import InterfaceError, OperationalError, connection
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, OperationalError | InterfaceError):
        logger.error("database unavailable: %s", exc)
        # Drop the broken connection so the next request reconnects by itself.
        connection.close_if_unusable_or_obsolete()
        return Response(
            {"detail": "The database is unavailable; try again shortly."},
            status=503,
            headers={"Retry-After": "5"},
        )
    return response
