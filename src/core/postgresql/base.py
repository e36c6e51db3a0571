"""Django's PostgreSQL backend, with a health check that costs no round trip.

``CONN_HEALTH_CHECKS`` (on, core.settings) has Django check a persistent connection
before a request or a job first uses it, so that one which died meanwhile (the server
restarted, the backend was terminated) is replaced instead of failing the request.
Django checks with ``SELECT 1``: a round trip to the server on every request, as many
as the API's own statement, and on a busy machine a fifth of a web worker's time
(docs/benchmarks.md).

A server that ends a connection says so on its socket (a termination message, then
end of file). So an idle connection whose socket has nothing to read is as alive as
``SELECT 1`` could tell, and is used as it is; only when something is waiting there
(or the connection is not idle) does Django's ``SELECT 1`` run, read it and decide. A
server that vanishes without a word (its host gone, a silent firewall) fails both
checks alike: the request's own query fails, the API answers 503 and drops the
connection (calendar_api.exceptions), and the next request connects afresh.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def quiet(connection) -> bool:
    """Whether ``connection`` is open, idle (no transaction, no result pending) and
    nothing from the server waits on its socket."""
    if (
        connection.closed
        or connection.info.transaction_status != pq.TransactionStatus.IDLE
    ):
        return False
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return not poller.poll(0)
    readable, _, _ = select.select([connection.fileno()], [], [], 0)  # Windows
    return not readable
