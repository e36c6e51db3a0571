"""DRF's exception handler, plus: a database that is down is a 503, not a traceback."""

import logging

from django.db import InterfaceError, OperationalError, connection, connections
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import replicas

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, OperationalError | InterfaceError):
        pin = replicas.current_pin()
        if pin is not None and pin.alias is not None:
            # The request read from a replica: skip it for a while, and the
            # middleware answers again from the primary (this 503 is discarded).
            replicas.failed(pin.alias, exc)
            connections[pin.alias].close_if_unusable_or_obsolete()
        else:
            logger.error("database unavailable: %s", exc)
            # Drop the broken connection so the next request reconnects by itself.
            connection.close_if_unusable_or_obsolete()
        return Response(
            {"detail": "The database is unavailable; try again shortly."},
            status=503,
            headers={"Retry-After": "5"},
        )
    return response
