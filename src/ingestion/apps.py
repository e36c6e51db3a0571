from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        # Importing the package registers every source in core.sources.
        import ingestion.sources  # noqa: F401
