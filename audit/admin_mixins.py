"""Every add, change and delete made through the admin becomes an audit event with field diffs.

The Strongroom admin site mixes `AuditedAdminMixin` into every ModelAdmin registered on it, so no
app can forget it. Diffs come from the admin form (initial vs cleaned data); sensitive fields are
masked by `audit_record`.
"""

import datetime
import decimal
import uuid
from typing import Any

from django.db import models
from django.http import HttpRequest

from audit.context import Actor
from audit.services import audit_record


def _plain(value: Any) -> Any:
    """A JSON-safe, id-only rendering of a form value."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple | set):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, datetime.date | datetime.time | decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool | int | str | dict):
        return value
    return str(value)


def form_diff(form: Any) -> dict[str, dict[str, Any]]:
    diff = {}
    for name in getattr(form, "changed_data", []):
        before = form.initial.get(name)
        if hasattr(before, "all"):
            before = list(before.all())
        diff[name] = {"before": _plain(before), "after": _plain(form.cleaned_data.get(name))}
    return diff


_PENDING_DIFF = "_audit_form_diff"


class AuditedAdminMixin:
    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> Any:
        setattr(request, _PENDING_DIFF, form_diff(form))
        return super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]

    def _audit(self, request: HttpRequest, action: str, obj: models.Model, data: dict[str, Any]) -> None:
        actor = Actor.for_user(request.user) if request.user.is_authenticated else None
        audit_record(action=action, actor=actor, target=obj, data=data)

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        self._audit(request, "admin.object.added", obj, {"changes": getattr(request, _PENDING_DIFF, {})})
        return entry

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        diff = getattr(request, _PENDING_DIFF, None)
        # Admin actions log changes without a form; their message says what was done.
        self._audit(
            request, "admin.object.changed", obj, {"changes": diff} if diff is not None else {"message": str(message)}
        )
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        objects = list(queryset)
        entries = super().log_deletions(request, queryset)  # type: ignore[misc]
        for obj in objects:
            self._audit(request, "admin.object.deleted", obj, {"repr": str(obj)[:200]})
        return entries
