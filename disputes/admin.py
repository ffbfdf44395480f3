"""Compliance queue in the admin: thin — every mutation is a POST that calls one service.

Dispute list: open disputes, most urgent first, time left coloured by urgency; filters and search; bulk
"assign to me" / "assign to …". Detail: evidence with upload and checklist, the allowed transitions as
buttons (submit and accept go through maker-checker requests), the audit history and the ledger entries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from audit.context import Actor
from audit.selectors import events_for
from common.errors import DomainError
from common.money import to_decimal_string
from common.roles import COMPLIANCE_ANALYST, COMPLIANCE_LEAD
from disputes import deadlines, evidence, selectors, services
from disputes.choices import OPEN_STATUSES, ActionKind, DueWindow, EvidenceKind, RequestStatus, Status
from disputes.models import Dispute, DisputeActionRequest, ReasonCode
from disputes.state_machine import Action, allowed_actions
from tenants.models import Merchant

HISTORY_ROWS = 50

# Buttons offered for the state machine's allowed actions (expiry is the sweep's, not a button).
BUTTONS = {
    Action.SUBMIT: ("request_submit", "Request submission (needs a lead's approval)"),
    Action.ACCEPT: ("request_accept", "Request acceptance of the loss (needs a lead's approval)"),
    Action.RESOLVE_WON: ("resolve_won", "Record network decision: won"),
    Action.RESOLVE_LOST: ("resolve_lost", "Record network decision: lost"),
    Action.ESCALATE: ("escalate", "Record escalation to the next stage"),
}


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


def _compliance_staff() -> QuerySet:
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name__in=[COMPLIANCE_ANALYST, COMPLIANCE_LEAD])
        .distinct()
        .order_by("username", "pk")
    )


class QueueFilter(admin.SimpleListFilter):
    """Open disputes by default (unless a status is chosen)."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open"), ("closed", "Closed"), ("all", "All")]

    def _effective(self, request: HttpRequest) -> str:
        if self.value():
            return self.value()
        return "all" if "status__exact" in request.GET else "open"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self._effective(request)
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == "closed":
            return queryset.exclude(status__in=OPEN_STATUSES)
        return queryset

    def choices(self, changelist: Any) -> Any:
        current = self.value() or "open"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class AssigneeFilter(admin.SimpleListFilter):
    """Compliance staff (a small table), not a scan of every dispute for distinct assignees."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("none", "Unassigned"), *((str(u.pk), u.get_username()) for u in _compliance_staff())]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class DueWindowFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(DueWindow.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        value = self.value()
        if value == DueWindow.OVERDUE:
            return queryset.filter(status=Status.NEEDS_RESPONSE, due_by__lte=now)
        windows = {
            DueWindow.DAY: timedelta(days=1),
            DueWindow.THREE_DAYS: timedelta(days=3),
            DueWindow.WEEK: timedelta(days=7),
        }
        if value in windows:
            return queryset.filter(status=Status.NEEDS_RESPONSE, due_by__gt=now, due_by__lte=now + windows[value])
        return queryset


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _compliance_staff()


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=EvidenceKind.choices)
    file = forms.FileField(required=False, help_text="PDF, PNG or JPEG.")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = (
        "network_dispute_id", "network", "merchant", "reason", "stage", "status", "amount_display", "time_left",
        "assignee",
    )  # fmt: skip
    list_filter = (
        QueueFilter, "status", "network", "reason_code__category", AssigneeFilter,
        ("merchant", admin.RelatedOnlyFieldListFilter), DueWindowFilter,
    )  # fmt: skip
    search_fields = ("=network_dispute_id", "merchant__name", "=merchant__reference")
    search_help_text = "A network dispute id, or a merchant's name (part of it) or reference."
    list_select_related = ("merchant", "reason_code", "assignee")
    ordering = ("due_by", "pk")
    show_full_result_count = False
    list_per_page = 100
    actions = ("assign_to_me", "assign_to")
    change_form_template = "admin/disputes/dispute/change_form.html"
    readonly_fields = (
        "network", "network_dispute_id", "merchant", "original_entry", "amount_display", "reason_code", "stage",
        "status", "opened_at", "stage_started_at", "network_due_by", "due_by", "time_left", "assignee", "fee_display",
        "submitted_at", "outcome_at", "rebuttal_letter", "rebuttal_letter_sha256",
    )  # fmt: skip
    fields = readonly_fields

    # --- permissions: disputes are opened by intake services, never added or deleted here ---------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """One term: a network dispute id, or merchants found first in their own table (no join and
        substring scan over every dispute; the queue index then serves the page)."""
        term = search_term.strip().strip("\"'")
        if not term:
            return queryset, False
        merchant_ids = list(
            Merchant.objects.filter(Q(name__icontains=term) | Q(reference=term)).values_list("pk", flat=True)[:1000]
        )
        return queryset.filter(Q(network_dispute_id=term) | Q(merchant_id__in=merchant_ids)), False

    # --- columns ----------------------------------------------------------------------------------

    @admin.display(description="reason", ordering="reason_code__code")
    def reason(self, dispute: Dispute) -> str:
        return f"{dispute.reason_code.code} ({dispute.reason_code.get_category_display()})"

    @admin.display(description="amount")
    def amount_display(self, dispute: Dispute) -> str:
        return f"{to_decimal_string(dispute.amount, dispute.currency_code)} {dispute.currency_code}"

    @admin.display(description="fee")
    def fee_display(self, dispute: Dispute) -> str:
        return f"{to_decimal_string(dispute.fee, dispute.currency_code)} {dispute.currency_code}"

    @admin.display(description="time left", ordering="due_by")
    def time_left(self, dispute: Dispute) -> str:
        if dispute.status != Status.NEEDS_RESPONSE:
            return "—"
        now = timezone.now()
        css = deadlines.urgency_class(due_by=dispute.due_by, now=now)
        return format_html(
            '<span class="{}">{}</span>', css, deadlines.format_time_left(due_by=dispute.due_by, now=now)
        )

    # --- bulk actions -----------------------------------------------------------------------------

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._assign(request, list(queryset.values_list("pk", flat=True)), request.user)

    @admin.action(description="Assign to …", permissions=["change"])
    def assign_to(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = AssignForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            self._assign(request, list(queryset.values_list("pk", flat=True)), form.cleaned_data["assignee"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Assign disputes",
            "objects": list(queryset.select_related("merchant")),
            "form": form,
            "action": "assign_to",
            "opts": self.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/disputes/dispute/assign.html", context)

    def _assign(self, request: HttpRequest, pks: list[int], assignee: Any) -> None:
        try:
            changed = services.disputes_assign(
                disputes=pks, assignee=assignee, actor=_actor(request), occurred_at=timezone.now()
            )
        except DomainError as error:
            self.message_user(request, f"{error.message} ({error.code})", messages.ERROR)
            return
        self.message_user(request, f"{changed} dispute(s) assigned to {assignee.get_username()}.", messages.SUCCESS)

    # --- detail page ------------------------------------------------------------------------------

    def get_urls(self) -> list:
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/transition/", view(self.transition_view), name=f"{prefix}_transition"),
            path("<int:pk>/evidence/", view(self.evidence_view), name=f"{prefix}_evidence"),
            path("<int:pk>/requests/<int:request_pk>/", view(self.decide_view), name=f"{prefix}_decide"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        dispute = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        extra.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False, show_delete=False)
        if dispute is not None:
            extra.update(self._detail_context(request, dispute))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _detail_context(self, request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
        items = list(selectors.evidence_for(dispute=dispute))
        actions = allowed_actions(
            status=dispute.status, stage=dispute.stage, response_days=dispute.reason_code.response_days
        )
        pending = (
            DisputeActionRequest.objects.select_related("requested_by", "requested_by_client")
            .filter(dispute=dispute, status=RequestStatus.PENDING)
            .first()
        )
        buttons = [BUTTONS[a] for a in actions if a in BUTTONS and not (pending and a in ActionKind.values)]
        entries = selectors.dispute_entries(dispute=dispute)
        return {
            "dispute": dispute,
            "evidence_items": items,
            "checklist": evidence.checklist(
                required=dispute.reason_code.required_evidence or [], provided=[i.kind for i in items]
            ),
            "evidence_form": EvidenceForm() if dispute.status == Status.NEEDS_RESPONSE else None,
            "buttons": buttons,
            "pending_request": pending,
            "history": list(events_for(object_type="disputes.dispute", object_id=str(dispute.pk))[:HISTORY_ROWS]),
            "ledger_entries": [
                {
                    "entry": entry,
                    "lines": [
                        (
                            line.account.address or line.account.account_number,
                            line.side,
                            to_decimal_string(line.amount, line.currency_code),
                            line.currency_code,
                        )
                        for line in entry.lines.all()
                    ],
                }
                for entry in entries
            ],  # fmt: skip
            "transition_url": reverse("admin:disputes_dispute_transition", args=[dispute.pk]),
            "evidence_url": reverse("admin:disputes_dispute_evidence", args=[dispute.pk]),
        }

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:disputes_dispute_change", args=[pk]))

    def _run(self, request: HttpRequest, pk: int, call: Any, done: str) -> HttpResponseRedirect:
        try:
            call()
        except DomainError as error:
            self.message_user(request, f"{error.message} ({error.code})", messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return self._back(pk)

    def transition_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dispute = get_object_or_404(Dispute, pk=pk)
        if not self.has_change_permission(request, dispute):
            return HttpResponseRedirect(reverse("admin:index"))
        action, reason = request.POST.get("action", ""), request.POST.get("reason", "").strip()
        actor, now = _actor(request), timezone.now()
        calls = {
            "request_submit": lambda: services.dispute_action_request_create(
                dispute=pk,
                action=ActionKind.SUBMIT,
                requested_by=request.user,
                actor=actor,
                occurred_at=now,
                note=reason,
            ),
            "request_accept": lambda: services.dispute_action_request_create(
                dispute=pk,
                action=ActionKind.ACCEPT,
                requested_by=request.user,
                actor=actor,
                occurred_at=now,
                note=reason,
            ),
            "resolve_won": lambda: services.dispute_resolve(
                dispute=pk, outcome="won", actor=actor, occurred_at=now, reason=reason
            ),
            "resolve_lost": lambda: services.dispute_resolve(
                dispute=pk, outcome="lost", actor=actor, occurred_at=now, reason=reason
            ),
            "escalate": lambda: services.dispute_escalate(dispute=pk, actor=actor, occurred_at=now, reason=reason),
        }
        if action not in calls:
            self.message_user(request, "Unknown action.", messages.ERROR)
            return self._back(pk)
        if action in {"resolve_won", "resolve_lost", "escalate"} and not reason:
            self.message_user(request, "Give a reason (it goes into the audit trail).", messages.ERROR)
            return self._back(pk)
        return self._run(request, pk, calls[action], f"Done: {action.replace('_', ' ')}.")

    def evidence_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dispute = get_object_or_404(Dispute, pk=pk)
        if not self.has_change_permission(request, dispute):
            return HttpResponseRedirect(reverse("admin:index"))
        form = EvidenceForm(request.POST, request.FILES)
        if not form.is_valid():
            self.message_user(request, f"Evidence refused: {form.errors.as_text()}", messages.ERROR)
            return self._back(pk)
        data = form.cleaned_data
        return self._run(
            request,
            pk,
            lambda: services.dispute_evidence_add(
                dispute=pk,
                kind=data["kind"],
                upload=data["file"],
                text="" if data["file"] else data["text"],
                actor=_actor(request),
                occurred_at=timezone.now(),
            ),
            "Evidence added.",
        )

    def decide_view(self, request: HttpRequest, pk: int, request_pk: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        action_request = get_object_or_404(DisputeActionRequest, pk=request_pk, dispute_id=pk)
        if not request.user.has_perm("disputes.approve_disputeactionrequest"):
            return HttpResponseRedirect(reverse("admin:index"))
        actor, now, note = _actor(request), timezone.now(), request.POST.get("note", "").strip()
        if request.POST.get("decision") == "approve":
            call = lambda: services.dispute_action_request_approve(  # noqa: E731
                request=action_request, approved_by=request.user, actor=actor, occurred_at=now, note=note
            )
            done = f"Approved: the dispute is {action_request.get_action_display().lower()}ed."
        else:
            call = lambda: services.dispute_action_request_reject(  # noqa: E731
                request=action_request, rejected_by=request.user, actor=actor, occurred_at=now, note=note
            )
            done = "Request rejected."
        return self._run(request, pk, call, done)


class ReasonCodeForm(forms.ModelForm):
    class Meta:
        model = ReasonCode
        fields = (
            "network", "code", "version", "name", "category", "response_days", "required_evidence",
            "effective_from", "effective_to", "notes",
        )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and Dispute.objects.filter(reason_code_id=self.instance.pk).exists():
            raise forms.ValidationError(services.ReasonCodeInUse.default_message)
        return cleaned


@admin.register(ReasonCode)
class ReasonCodeAdmin(admin.ModelAdmin):
    form = ReasonCodeForm
    list_display = ("code", "network", "name", "category", "version", "effective_from", "effective_to", "windows")
    list_filter = ("network", "category", "effective_from")
    search_fields = ("=code", "name")
    ordering = ("network", "code", "-version", "pk")
    save_as = True  # "Save as new": the way to add the next version

    @admin.display(description="response days")
    def windows(self, reason_code: ReasonCode) -> str:
        return ", ".join(f"{stage} {days}" for stage, days in (reason_code.response_days or {}).items())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ReasonCode, form: Any, change: bool) -> None:
        try:
            services.reason_code_save(reason_code=obj, actor=_actor(request), occurred_at=timezone.now())
        except DomainError as error:
            self.message_user(request, f"{error.message} ({error.code})", messages.ERROR)


@admin.register(DisputeActionRequest)
class DisputeActionRequestAdmin(admin.ModelAdmin):
    """Read-only list of maker-checker requests (decisions are made on the dispute's page)."""

    list_display = ("pk", "dispute", "action", "status", "maker_label", "requested_at", "decided_by", "decided_at")
    list_filter = ("status", "action")
    list_select_related = ("dispute", "requested_by", "requested_by_client", "decided_by")
    ordering = ("-requested_at", "-pk")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
