"""Which PostgreSQL streaming replica a request reads from, and whether it may.

``settings.DATABASE_REPLICAS`` names the replicas' aliases (from
``DATABASE_REPLICA_URLS``). A caller that wants its reads on a replica (the API, per
request: ``calendar_api.middleware``) opens ``pinned_reads()`` and sets the pin's
alias to ``choose()``; ``core.routers.ReplicaRouter`` sends every ORM read made
inside it there, and raw SQL asks ``read_alias()``. One alias for the whole request,
so the data version in its ETag and its page come from the same server.

A replica is usable when it answers and its replay lag is at most
``DATABASE_REPLICA_MAX_LAG_SECONDS``. Each process checks a replica at most once per
``DATABASE_REPLICA_CHECK_SECONDS`` (5 s) and reuses the answer meanwhile, so a request
usually costs no check at all; a replica found down or lagging is skipped (the
next one, or the primary, answers) and checked again when that interval has passed.
A warning names the replica and why, when it turns bad and then at most once a
minute per process while it stays bad.
"""

import contextlib
import contextvars
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DatabaseError

logger = logging.getLogger(__name__)

WARNING_SECONDS = 60


@dataclass(frozen=True)
class ReplicaState:
    status: str  # "ok", "lagging" or "unreachable"
    lag_seconds: float | None
    reason: str
    checked_at: float  # time.monotonic()


@dataclass
class Pin:
    """The replica one unit of work reads from; None reads from the primary."""

    alias: str | None = None
    failed: bool = False  # the replica broke during the work


_pin: contextvars.ContextVar[Pin | None] = contextvars.ContextVar(
    "replica_pin", default=None
)
_states: dict[str, ReplicaState] = {}
_warned: dict[str, tuple[str, float]] = {}  # alias: (status, when)
_checking: set[str] = set()
_lock = threading.Lock()
_turn = itertools.count()
clock = time.monotonic  # tests move it instead of sleeping


@contextlib.contextmanager
def pinned_reads() -> Iterator[Pin]:
    """Reads inside go where the yielded pin's ``alias`` says (default: the primary)."""
    pin = Pin()
    token = _pin.set(pin)
    try:
        yield pin
    finally:
        _pin.reset(token)


def current_pin() -> Pin | None:
    return _pin.get()


def read_alias() -> str:
    """The alias this unit of work reads from: its replica, or the primary."""
    pin = _pin.get()
    return (pin.alias if pin is not None else None) or DEFAULT_DB_ALIAS


def choose() -> str | None:
    """The next usable replica in round-robin order, or None for the primary."""
    aliases = settings.DATABASE_REPLICAS
    if not aliases:
        return None
    start = next(_turn)
    for offset in range(len(aliases)):
        alias = aliases[(start + offset) % len(aliases)]
        if state(alias).status == "ok":
            return alias
    return None


def state(alias: str) -> ReplicaState:
    """``alias``'s state, checked now when the last check is older than the interval.

    While one thread checks a replica, the others use its previous state (or, for
    the very first check, count it unreachable) rather than queue behind it: a
    replica that does not answer holds a check for the connect timeout."""
    now = clock()
    with _lock:
        known = _states.get(alias)
        fresh = (
            known is not None
            and now - known.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS
        )
        if fresh or alias in _checking:
            return known or ReplicaState("unreachable", None, "being checked", now)
        _checking.add(alias)
    try:
        found = check(alias)
    finally:
        with _lock:
            _checking.discard(alias)
    record(alias, found)
    return found


def states() -> dict[str, ReplicaState]:
    """Every configured replica's state (checking the stale ones), for /api/health/."""
    return {alias: state(alias) for alias in settings.DATABASE_REPLICAS}


def check(alias: str) -> ReplicaState:
    """Ask the replica for its replay lag; never raises."""
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    try:
        with connections[alias].cursor() as cursor:
            # now() - pg_last_xact_replay_timestamp() alone grows without bound on
            # an idle primary (nothing new to replay, so the last replayed commit
            # only gets older) although nothing is missing: when everything
            # received has been replayed the lag is 0.
            cursor.execute(
                "SELECT CASE"
                " WHEN NOT pg_is_in_recovery() THEN NULL"
                " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                " END, pg_is_in_recovery()"
            )
            lag, in_recovery = cursor.fetchone()
    except DatabaseError as exc:
        # Drop the broken connection: the next check connects afresh.
        with contextlib.suppress(DatabaseError):
            connections[alias].close()
        return ReplicaState("unreachable", None, describe(exc), clock())
    if not in_recovery:
        # Promoted (or misconfigured): it has the data, but it is not following
        # the primary any more, so what it serves can diverge.
        return ReplicaState("lagging", None, "not in recovery (not a replica)", clock())
    if lag is None:
        return ReplicaState("lagging", None, "nothing replayed yet", clock())
    lag = max(float(lag), 0.0)
    if lag > limit:
        return ReplicaState(
            "lagging", lag, f"replay lag {lag:.1f}s > {limit:g}s", clock()
        )
    return ReplicaState("ok", lag, "", clock())


def failed(alias: str, exc: Exception) -> None:
    """``alias`` broke in the middle of a request: skip it until the next check."""
    record(alias, ReplicaState("unreachable", None, describe(exc), clock()))
    pin = _pin.get()
    if pin is not None and pin.alias == alias:
        pin.failed = True


def describe(exc: Exception) -> str:
    """The error's class and first line: one log line (libpq adds a hint line)."""
    lines = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {lines[0] if lines else ''}"


def record(alias: str, found: ReplicaState) -> None:
    with _lock:
        previous = _states.get(alias)
        _states[alias] = found
        warned = _warned.get(alias)
        due = found.status != "ok" and (
            warned is None
            or warned[0] != found.status
            or found.checked_at - warned[1] >= WARNING_SECONDS
        )
        if due:
            _warned[alias] = (found.status, found.checked_at)
        elif found.status == "ok":
            _warned.pop(alias, None)
    if due:
        logger.warning(
            "database replica skipped: alias=%s status=%s reason=%s; "
            "reading from another replica or the primary, checking again in %gs",
            alias,
            found.status,
            found.reason,
            settings.DATABASE_REPLICA_CHECK_SECONDS,
        )
    elif found.status == "ok" and previous is not None and previous.status != "ok":
        logger.info("database replica back: alias=%s lag_seconds=%s", alias, found.lag_seconds)  # fmt: skip


def reset() -> None:
    """Forget every replica's state (tests)."""
    with _lock:
        _states.clear()
        _warned.clear()
        _checking.clear()
