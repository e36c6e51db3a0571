"""python manage.py rematch: apply the catalogue to every stored row now.

Ingest runs do this themselves when the catalogue files changed; this command does it
at once (after an upgrade, or while editing the catalogue), in one transaction.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.models import EconomicEvent
from ingestion.consolidation import consolidate
from ingestion.indicators import IndicatorResolver, sync_catalogue
from ingestion.services import lock_writers, rematch


class Command(BaseCommand):
    help = "Sync the indicator catalogue and re-match every stored row against it."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        with transaction.atomic():
            lock_writers()
            sync_catalogue()
            groups = rematch(EconomicEvent.objects.all(), IndicatorResolver())
            result = consolidate(groups, now=now)
        self.stdout.write(
            f"{len(groups)} (indicator, day) groups re-matched: {result.created} "
            f"occurrences created, {result.updated} updated, {result.deleted} removed"
        )
