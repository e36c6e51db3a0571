from django.apps import AppConfig


class CalendarApiConfig(AppConfig):
    name = "calendar_api"
    verbose_name = "Calendar API"

    def ready(self) -> None:
        # Registers the schema extension that documents list filters as generated
        # clients send them (drf-spectacular finds extensions by import).
        import calendar_api.schema  # noqa: F401
