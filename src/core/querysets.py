"""Read vocabulary for calendar rows. Views and filters call these; they hold no SQL."""

from collections.abc import Iterable
from contextlib import suppress
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Max, Q


class EventQuerySet(models.QuerySet):
    def for_countries(self, codes: Iterable[str]) -> "EventQuerySet":
        return self.filter(country__in=[code.upper() for code in codes])

    def for_currencies(self, codes: Iterable[str]) -> "EventQuerySet":
        return self.filter(currency__in=[code.upper() for code in codes])

    def released(self) -> "EventQuerySet":
        return self.exclude(actual="")

    def in_days(
        self, start: date | None, end: date | None, tz: ZoneInfo | None = None
    ) -> "EventQuerySet":
        """Occurrences on the calendar days ``start``..``end`` (inclusive) as seen in ``tz``
        (None: UTC).

        Events with a clock time belong to the local day their instant falls on; events
        without one (all-day, tentative, date-only) stay on their calendar ``date`` in
        every zone. Either bound may be None (open range).
        """
        if tz is None or tz.key == "UTC":
            if start is not None and start == end:
                return self.filter(date=start)
            bounds = {}
            if start is not None:
                bounds["date__gte"] = start
            if end is not None:
                bounds["date__lte"] = end
            return self.filter(**bounds)

        timed = Q(time__isnull=False)
        untimed = Q(time__isnull=True)
        # At the ends of the calendar (year 1, year 9999) the local day's bound falls
        # outside what datetime can hold: there is then no bound on that side.
        if start is not None:
            with suppress(OverflowError):
                timed &= Q(scheduled_at__gte=local_midnight(start, tz))
            untimed &= Q(date__gte=start)
        if end is not None:
            with suppress(OverflowError):
                timed &= Q(scheduled_at__lt=local_midnight(end + timedelta(days=1), tz))
            untimed &= Q(date__lte=end)
        return self.filter(timed | untimed)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` starts in ``tz`` (DST-correct)."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


class IngestionRunQuerySet(models.QuerySet):
    def last_success_by_source(self) -> dict[str, datetime]:
        """When each source's last successful run finished: one aggregate query (the
        run_source_status index), sources that never succeeded left out."""
        rows = (
            self.filter(status=self.model.Status.SUCCEEDED)
            .order_by()
            .values("source")
            .annotate(last=Max("finished_at"))
            .values_list("source", "last")
        )
        return dict(rows)


class OccurrenceQuerySet(EventQuerySet):
    """Occurrences share the calendar vocabulary of source rows (days, countries...)."""

    def for_indicators(self, slugs: Iterable[str]) -> "OccurrenceQuerySet":
        return self.filter(indicator_id__in=list(slugs))

    def listed_by(self, sources: Iterable[str]) -> "OccurrenceQuerySet":
        """Occurrences at least one of ``sources`` lists."""
        from core.models import OccurrenceMember  # the models import this module

        listed = OccurrenceMember.objects.filter(event__source__in=list(sources))
        return self.filter(pk__in=listed.values("occurrence_id"))
