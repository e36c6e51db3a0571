"""The request path (validate + apply, no FilterSet or form class per request) builds
the same query as django-filter's own ``FilterSet(data).qs`` does."""

import pytest
from django.http import QueryDict

from calendar_api.filters import (
    HistoryFilterSet,
    IndicatorFilterSet,
    OccurrenceFilterSet,
)
from core.models import Indicator, Occurrence

QUERIES = [
    "",
    "country=US,jp&date=2026-06-04",
    "date=2026-06-04&tz=America/New_York",
    "country=US&country=GB&date_from=2026-06-01&date_to=2026-06-07&min_importance=2",
    "importance=3,2&category=employment,inflation&kind=release",
    "indicator=us-nonfarm-payrolls&source=forexfactory,investing&status=released",
    "has_actual=true&q=claims&currency=usd&updated_since=2026-06-01T00:00:00Z",
    "has_actual=false&ordering=-importance&date_from=2026-06-01&tz=Asia/Tokyo",
]


def sql(queryset) -> str:
    query, params = queryset.query.sql_with_params()
    return query % tuple(repr(p) for p in params)


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES)
def test_the_request_path_filters_as_django_filter_does(query):
    data = QueryDict(query)
    stock = OccurrenceFilterSet(data, queryset=Occurrence.objects.all())
    assert stock.is_valid(), stock.errors
    form = OccurrenceFilterSet.validate(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data == stock.form.cleaned_data
    fast = OccurrenceFilterSet.apply(Occurrence.objects.all(), form.cleaned_data)
    assert sql(fast) == sql(stock.qs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filterset", "model", "query"),
    [
        (IndicatorFilterSet, Indicator, "country=US,EU&category=employment&q=pay"),
        (IndicatorFilterSet, Indicator, "importance=3"),
        (HistoryFilterSet, Occurrence, "date_from=2026-01-01&date_to=2026-06-30"),
    ],
)
def test_other_lists_filter_as_django_filter_does(filterset, model, query):
    data = QueryDict(query)
    stock = filterset(data, queryset=model.objects.all())
    assert stock.is_valid(), stock.errors
    form = filterset.validate(data)
    assert form.is_valid()
    assert sql(filterset.apply(model.objects.all(), form.cleaned_data)) == sql(stock.qs)


def test_forms_share_their_fields_and_never_their_data():
    first = OccurrenceFilterSet.validate(QueryDict("country=US"))
    second = OccurrenceFilterSet.validate(QueryDict("country=JP&date=nope"))
    assert first.fields["country"] is second.fields["country"]
    assert first.cleaned_data["country"] == ["US"]
    assert second.errors == {"date": ["Enter a valid date."]}
    assert first.is_valid()
