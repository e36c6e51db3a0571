from django.apps import AppConfig, apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models.signals import post_migrate


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        # Importing the package registers every source in core.sources.
        import ingestion.sources  # noqa: F401

        post_migrate.connect(
            prepare_calendar,
            sender=apps.get_app_config("core"),
            dispatch_uid="ingestion.prepare_calendar",
        )


def prepare_calendar(sender, using: str, apps=apps, **kwargs) -> None:
    """After ``migrate``: the indicator catalogue in the database, every stored row
    matched and consolidated (an upgraded install lists occurrences at once rather than
    after its first crawl), and stored documents in the current API shape. Quick when
    nothing changed; skipped when the schema is not (yet, or any more) current.
    ``apps`` is the migrated state (``flush`` sends none: the installed apps then)."""
    try:
        apps.get_model("core", "Occurrence")._meta.get_field("revised")
    except (LookupError, FieldDoesNotExist):
        return
    from django.db import transaction
    from django.utils import timezone

    from ingestion.consolidation import refresh_documents
    from ingestion.services import lock_writers, prepare_indicators

    with transaction.atomic(using=using):
        lock_writers()
        prepare_indicators(None, timezone.now())
        refresh_documents()
