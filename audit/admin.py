"""Read-only audit admin: no add, change or delete, for anyone."""

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from audit.models import AuditCheckpoint, AuditEvent, AuditVerification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActionFilter(admin.SimpleListFilter):
    """Filter by action family (`ledger`, `auth.login` …) or exact action."""

    title = "action"
    parameter_name = "action_prefix"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        actions = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()[:200]
        families = sorted({a.split(".")[0] for a in actions} | {".".join(a.split(".")[:2]) for a in actions})
        return [(f, f) for f in families]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(action__startswith=value) if value else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "occurred_at", "action", "actor", "object_link", "tenant", "ip", "request_id")
    list_filter = (ActionFilter, "actor_kind", "tenant", "object_type", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("=action", "actor_label", "=actor_id", "=object_id", "=request_id", "=tenant", "=ip")
    date_hierarchy = "occurred_at"
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page
    list_per_page = 100
    fields = (
        "sequence", "occurred_at", "action", "actor_kind", "actor_id", "actor_label", "object_type", "object_id",
        "tenant", "request_id", "ip", "user_agent", "pretty_data", "prev_hash", "hash",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-pk")

    @admin.display(description="actor", ordering="actor_label")
    def actor(self, event: AuditEvent) -> str:
        return f"{event.get_actor_kind_display()}: {event.actor_label or event.actor_id or '-'}"

    @admin.display(description="object")
    def object_link(self, event: AuditEvent) -> str:
        return f"{event.object_type} {event.object_id}".strip() or "-"

    @admin.display(description="data")
    def pretty_data(self, event: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(json.loads(event.data), indent=2, sort_keys=True))


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "signed_at", "key_id", "hash")
    readonly_fields = ("sequence", "hash", "signed_at", "key_id", "public_key", "signature")


@admin.register(AuditVerification)
class AuditVerificationAdmin(ReadOnlyAdmin):
    list_display = ("finished_at", "is_ok", "events_checked", "first_broken_sequence", "reason")
    list_filter = ("is_ok",)
    readonly_fields = ("started_at", "finished_at", "is_ok", "events_checked", "first_broken_sequence", "reason")
