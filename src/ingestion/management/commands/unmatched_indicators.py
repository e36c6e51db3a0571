"""python manage.py unmatched_indicators [--country US] [--limit 50] [--min-importance 2]

Lists the source names the catalogue does not know, most frequent first: the list a
maintainer works through to extend ``ingestion/catalogue/*.yaml`` (docs/data-model.md).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Max

from core.countries import is_known_country
from core.models import EconomicEvent


class Command(BaseCommand):
    help = "List source rows whose indicator is not in the catalogue, by frequency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", help="Only this ISO code (EU, WW too).")
        parser.add_argument("--limit", type=int, default=50, help="Rows to show.")
        parser.add_argument(
            "--min-importance",
            type=int,
            choices=(1, 2, 3),
            help="Only names some source ranks at least this high.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = EconomicEvent.objects.filter(indicator__catalogued=False)
        country = (options["country"] or "").upper()
        if country:
            if not is_known_country(country):
                raise CommandError(f"unknown country code {country!r}")
            rows = rows.filter(country=country)
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        names = (
            rows.values("country", "source", "event_name", "source_event_id")
            .annotate(rows=Count("id"), importance=Max("importance"))
            .order_by("-rows", "-importance", "country", "event_name")
        )
        if options["min_importance"]:
            names = names.filter(importance__gte=options["min_importance"])
        names = list(names[: options["limit"]])
        if not names:
            self.stdout.write("every stored row matches a catalogued indicator")
            return
        self.stdout.write("rows  imp  country  source            id      name")
        for row in names:
            self.stdout.write(
                f"{row['rows']:>4}  {row['importance'] or '-':>3}  {row['country']:<7}  "
                f"{row['source']:<16}  {row['source_event_id'] or '-':<6}  {row['event_name']}"
            )
