"""API reads from a PostgreSQL replica (installed only when replicas are configured).

Each GET or HEAD request to an API view reads from one replica, chosen round robin
among those that answer and keep up (``core.replicas``), for the whole request: the
data version behind its ETag and the page it describes come from the same server.
Views that must see the primary say ``reads_from_replica = False`` (/api/health/
reports the primary's freshness and each replica's lag). Other requests (the admin,
anything that writes) are not pinned and read from the primary.

A replica that breaks in the middle of a request (the API's exception handler sees
the database error and marks it) is skipped and the request is answered again from
the primary: a GET changes nothing, so running it twice is safe, and the client gets
its 200 instead of a 503.
"""

import logging

from core import replicas

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD")


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        with replicas.pinned_reads() as pin:
            request._replica_pin = pin
            response = self.get_response(request)
            if pin.alias is not None and pin.failed:
                logger.warning(
                    "replica failed mid-request, answering from the primary: "
                    "alias=%s path=%s",
                    pin.alias,
                    request.path,
                )
                pin.alias, pin.failed = None, False
                request._replica_pin = None  # process_view leaves it on the primary
                response = self.get_response(request)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        pin = getattr(request, "_replica_pin", None)
        match = request.resolver_match
        if pin is None or match is None or match.namespace != "api":
            return None
        view_class = getattr(view_func, "cls", None) or getattr(
            view_func, "view_class", None
        )
        if getattr(view_class, "reads_from_replica", True):
            pin.alias = replicas.choose()
        return None
