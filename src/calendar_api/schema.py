"""The OpenAPI schema as client generators read it.

Corrections to drf-spectacular's defaults, all about what a generated client does:

- No ``security`` on operations while no authentication is configured. drf-spectacular
  writes ``security: [{}]`` ("no credentials needed") on every operation, which
  openapi-python-client reads as "needs an AuthenticatedClient".
- One content type per operation: no ``format`` parameter switching a JSON operation
  to CSV (a generated client then fails decoding it as JSON).
- List filters are ``style: form, explode: true``: the form generated clients send
  (``country=US&country=JP``; openapi-python-client ignores ``explode``, so anything
  else would misdescribe its requests). The server also takes ``country=US,JP``.
"""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema

LIST_NOTE = "A list: repeat the parameter (`{name}=a&{name}=b`) or separate values with commas (`{name}=a,b`)."


class CalendarAutoSchema(AutoSchema):
    def get_auth(self) -> list[dict]:
        """Security requirements, without the anonymous ``{}`` when it is the only one."""
        requirements = super().get_auth()
        return requirements if any(requirements) else []

    def _get_format_parameters(self) -> list[dict]:
        """No ``format`` parameter: an operation answers one content type, which is
        what a generated client can decode. ``?format=`` still works; each format
        has its own path for generators (/api/events.csv)."""
        return []

    def get_filter_backends(self) -> list:
        """Filters on every list action, including the exports, whose text response
        drf-spectacular would otherwise take for a single object."""
        if getattr(self.view, "action", None) == "list":
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()


class ListFilterExtension(DjangoFilterExtension):
    """django-filter parameters, with list filters declared as exploded arrays."""

    priority = 1  # over drf-spectacular's own DjangoFilterExtension

    def resolve_filter_field(
        self, auto_schema, model, filterset_class, field_name, filter_field
    ):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        for parameter in parameters:
            schema = parameter["schema"]
            if schema.get("type") != "array":
                continue
            parameter["explode"] = True
            max_items = getattr(filter_field, "max_items", None)
            if max_items:
                schema["maxItems"] = max_items
            choices = getattr(filter_field, "schema_choices", None)
            if choices is not None:
                schema["items"]["enum"] = choices()
            note = LIST_NOTE.format(name=parameter["name"])
            parameter["description"] = (
                f"{parameter.get('description', '')} {note}".strip()
            )
        return parameters
