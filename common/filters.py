"""`ordering` restricted to each view's whitelist: anything else is a 400 and never reaches SQL."""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView


class WhitelistOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> list[str] | None:
        params = request.query_params.get(self.ordering_param)
        if not params:
            return self.get_default_ordering(view)
        allowed = getattr(view, "ordering_fields", None)
        if not isinstance(allowed, list | tuple):
            raise ImproperlyConfigured(f"{type(view).__name__} must list its ordering_fields explicitly.")
        terms = [term.strip() for term in params.split(",") if term.strip()]
        unknown = [term for term in terms if term.lstrip("-") not in allowed]
        if unknown or not terms:
            raise ValidationError({self.ordering_param: [f"Allowed: {', '.join(allowed)} (prefix - for descending)."]})
        return terms
