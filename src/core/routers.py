"""The database router, installed only when ``DATABASE_REPLICA_URLS`` names replicas.

Reads go to a replica only inside ``core.replicas.pinned_reads()`` with a replica
chosen (the API's GET requests); everything else reads from the primary: ingestion
decides what changed from what it reads, the admin edits what it shows, the scheduler
keeps its lock and heartbeat there, and a replica's few seconds of lag would show as
stale data right before a write. Writes and migrations are only ever on the primary.
"""

from django.db import DEFAULT_DB_ALIAS

from core import replicas


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        pin = replicas.current_pin()
        return pin.alias if pin is not None else None

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # A replica holds the primary's rows: the same objects, wherever they came from.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        # Replicas follow the primary's schema through replication.
        return db == DEFAULT_DB_ALIAS
