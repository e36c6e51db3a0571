"""Strict query strings: every parameter is known, given once, or a list.

Generated clients send a list filter as repeated keys (``country=US&country=JP``),
people type it comma-separated (``country=US,JP``); both mean the same list. Anything
else a request carries is a mistake the client should hear about: a misspelt name
(``contry``) silently ignored answers the whole calendar, and a single-value
parameter given twice silently keeps one of them. Both are a 400 naming the parameter,
with the closest valid name when there is one (as Stripe's API does).

``QuerySpec`` knows nothing of events: a view declares its single-value and list
parameters (``QuerySpec.for_filterset`` reads them off a django-filter FilterSet) and
calls ``check`` on the request's query string; ``StrictQueryMixin`` does that for a
DRF view before its handler runs.
"""

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import QueryDict
from django_filters.filters import BaseCSVFilter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# DRF reads ``?format=`` on every view (URL_FORMAT_OVERRIDE).
FORMAT = "format"


@dataclass(frozen=True)
class QuerySpec:
    """The parameters one endpoint accepts: single-valued ones and lists."""

    single: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()

    @classmethod
    def of(cls, single: Iterable[str] = (), lists: Iterable[str] = ()) -> "QuerySpec":
        return cls(frozenset(single), frozenset(lists))

    @classmethod
    def for_filterset(cls, filterset_class: type, *, single: Iterable[str] = ()):
        """The filters of ``filterset_class`` (comma-separated ones are lists) plus
        ``single``, the parameters the view reads itself (format, cursor...)."""
        filters = filterset_class.base_filters
        lists = {name for name, f in filters.items() if isinstance(f, BaseCSVFilter)}
        return cls.of(single={*filters, *single} - lists, lists=lists)

    def without(self, *names: str) -> "QuerySpec":
        return QuerySpec(self.single - set(names), self.lists - set(names))

    @property
    def names(self) -> frozenset[str]:
        return self.single | self.lists

    def check(self, params: QueryDict) -> QueryDict:
        """``params`` with each list joined into one comma-separated value.

        Raises ValidationError (a 400) naming every unknown parameter and every
        single-value parameter given more than once.
        """
        errors: dict[str, list[str]] = {}
        for name in params:
            if name not in self.names:
                errors[name] = [self._unknown(name)]
            elif name in self.single and len(params.getlist(name)) > 1:
                errors[name] = [
                    f"Given {len(params.getlist(name))} times; {name} takes one value."
                ]
        if errors:
            raise ValidationError(errors)
        repeated = [
            name for name in self.lists & set(params) if len(params.getlist(name)) > 1
        ]
        if not repeated:  # the usual case: no copy of the query string
            return params
        joined = params.copy()
        for name in repeated:
            joined.setlist(name, [",".join(params.getlist(name))])
        return joined

    def _unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name.lower(), sorted(self.names), n=1)
        if close:
            return f"Unknown parameter; did you mean {close[0]!r}?"
        if not self.names:
            return "Unknown parameter; this endpoint takes none."
        return f"Unknown parameter; known ones are {', '.join(sorted(self.names))}."


class StrictQueryMixin:
    """A DRF view that refuses unknown and repeated parameters before its handler.

    Set ``query_spec``; the handler then reads the checked parameters (lists joined)
    from ``self.query``.
    """

    query_spec = QuerySpec.of(single=[FORMAT])
    query: QueryDict

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.query = self.query_spec.check(request.query_params)
