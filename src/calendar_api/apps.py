from django.apps import AppConfig


class CalendarApiConfig(AppConfig):
    name = "calendar_api"
    verbose_name = "Calendar API"
