"""Reserves admin: read-only policies, tranches, engine runs and rules (they change only through
approvals), partner memberships, and the approval screens for partner approvers:

- `approvalrequest/pending/`: requests my partner may sign, and my own open requests;
- `approvalrequest/<pk>/review/`: the payload as a change against today's state, progress ("1 of 2",
  who signed when), time left; approve / reject need a fresh code from the user's authenticator
  (step-up), revoke and cancel too;
- `approvalrequest/history/`: decided requests I may see.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.context import Actor
from common.errors import DomainError
from reserves import selectors, services
from reserves.choices import ApprovalAction, ApprovalStatus
from reserves.models import (
    ApprovalRequest,
    ApprovalRule,
    PartnerMember,
    ReserveEngineRun,
    ReservePolicy,
    ReserveTranche,
)
from reserves.principals import principal_for_user
from reserves.rls import partner_context
from tenants.models import Merchant

SIGN_PERMISSION = "reserves.sign_approvalrequest"
REQUEST_PERMISSION = "reserves.add_approvalrequest"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReservePolicy)
class ReservePolicyAdmin(ReadOnlyAdmin):
    list_display = ("pk", "merchant", "version", "kind", "currency_code", "percent_bp", "hold_days", "amount",
                    "effective_date", "approval")  # fmt: skip
    list_filter = ("kind",)
    list_select_related = ("merchant",)
    search_fields = ("merchant__reference", "merchant__name")


@admin.register(ReserveTranche)
class ReserveTrancheAdmin(ReadOnlyAdmin):
    list_display = ("pk", "merchant", "kind", "amount", "released_amount", "currency_code", "held_date", "release_date")
    list_filter = ("kind",)
    list_select_related = ("merchant",)
    search_fields = ("merchant__reference",)


@admin.register(ReserveEngineRun)
class ReserveEngineRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "merchant", "run_date", "captured_volume", "held_amount", "released_amount", "held_after",
                    "required_after", "ran_at")  # fmt: skip
    list_select_related = ("merchant",)
    date_hierarchy = "run_date"
    search_fields = ("merchant__reference",)


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(ReadOnlyAdmin):
    """Rules change only through a `change_approval_rule` request."""

    list_display = ("action", "required_signatures", "ttl_hours", "version", "updated_at")


@admin.register(PartnerMember)
class PartnerMemberAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "partner", "created_at")
    list_select_related = ("user", "partner")
    raw_id_fields = ("user", "partner")


class RequestForm(forms.Form):
    action = forms.ChoiceField(choices=ApprovalAction.choices)
    merchant = forms.ModelChoiceField(
        queryset=Merchant.objects.filter(is_active=True).order_by("name", "pk"),
        required=False,
        help_text="Empty for approval rule changes.",
    )
    payload = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text='e.g. {"amount": "40.00", "currency": "USD", "reason": "…"}; see docs/reserves.md.',
    )
    # fmt: skip


class SignForm(forms.Form):
    payload_hash = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)
    otp_token = forms.CharField(
        label="Authenticator code",
        max_length=8,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)  # fmt: skip


def _fresh_otp(user: Any, token: str) -> bool:
    """Step-up: a code from one of the user's confirmed TOTP devices; a code already used is refused."""
    token = token.strip()
    return any(device.verify_token(token) for device in TOTPDevice.objects.devices_for_user(user, confirmed=True))


def _time_left(approval: ApprovalRequest) -> str:
    seconds = int((approval.expires_at - timezone.now()).total_seconds())
    if approval.status != ApprovalStatus.PENDING:
        return "—"
    if seconds <= 0:
        return "expired"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min"


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("pk", "action", "merchant", "status", "progress", "requester_label", "expires_at")
    list_filter = ("status", "action")
    list_select_related = ("merchant",)
    search_fields = ("payload_hash", "merchant__reference")
    change_list_template = "admin/reserves/approvalrequest/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.approvals_for_principal(principal=principal_for_user(request.user))

    @admin.display(description="progress")
    def progress(self, approval: ApprovalRequest) -> str:
        return selectors.approval_progress(approval)["label"]

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("pending/", view(self.pending_view), name="reserves_approvalrequest_pending"),
            path("history/", view(self.decided_view), name="reserves_approvalrequest_history"),
            path("new/", view(self.request_view), name="reserves_approvalrequest_new"),
            path("<int:pk>/review/", view(self.review_view), name="reserves_approvalrequest_review"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **extra}

    def _rows(self, approvals: Any) -> list[dict[str, Any]]:
        return [{"approval": a, "progress": selectors.approval_progress(a), "time_left": _time_left(a)}
                for a in approvals]  # fmt: skip

    def pending_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        principal = principal_for_user(request.user)
        now = timezone.now()
        with partner_context(principal.partner_id):
            to_sign = self._rows(selectors.approvals_pending_for_signer(principal=principal, now=now))
            mine = self._rows(
                selectors.approvals_requested_by(principal=principal).filter(status=ApprovalStatus.PENDING)
            )
        context = self._context(request, "My pending approvals", to_sign=to_sign, mine=mine,
                                can_sign=request.user.has_perm(SIGN_PERMISSION))  # fmt: skip
        return TemplateResponse(request, "admin/reserves/approvalrequest/pending.html", context)

    def decided_view(self, request: HttpRequest) -> HttpResponse:
        """Decided requests (not ModelAdmin.history_view, which serves an object's `<pk>/history/`)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        principal = principal_for_user(request.user)
        with partner_context(principal.partner_id):
            decided = selectors.approvals_for_principal(principal=principal).exclude(status=ApprovalStatus.PENDING)
            rows = self._rows(decided[:200])
        return TemplateResponse(request, "admin/reserves/approvalrequest/history.html",
                                self._context(request, "Approval history", rows=rows))  # fmt: skip

    def request_view(self, request: HttpRequest) -> HttpResponse:
        """Platform staff ask for a release, a policy change or a rule change (it waits for partners)."""
        if not request.user.has_perm(REQUEST_PERMISSION):
            raise PermissionDenied
        form = RequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                approval = services.approval_request_create(
                    action=form.cleaned_data["action"], merchant=form.cleaned_data["merchant"],
                    payload=form.cleaned_data["payload"], principal=principal_for_user(request.user),
                    actor=Actor.for_user(request.user), now=timezone.now(),
                )  # fmt: skip
            except DomainError as error:
                self.message_user(request, f"{error.message} ({error.code})", messages.ERROR)
            else:
                self.message_user(request, f"Request #{approval.pk} created; it waits for partner signatures.",
                                  messages.SUCCESS)  # fmt: skip
                return HttpResponseRedirect(reverse("admin:reserves_approvalrequest_review", args=[approval.pk]))
        return TemplateResponse(request, "admin/reserves/approvalrequest/new.html",
                                self._context(request, "New approval request", form=form))  # fmt: skip

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        principal = principal_for_user(request.user)
        if request.method == "POST":
            return self._act(request, pk, principal)
        with partner_context(principal.partner_id):
            approval = selectors.approvals_for_principal(principal=principal).filter(pk=pk).first()
            if approval is None:
                raise PermissionDenied
            progress = selectors.approval_progress(approval)
            diff = selectors.approval_diff(approval=approval, today=timezone.now().date())
        own_signature = next((s for s in progress["signatures"] if s.signed_by_user_id == request.user.pk), None)
        partner_signed = any(s.partner_id == principal.partner_id for s in progress["signatures"])
        pending = approval.status == ApprovalStatus.PENDING and approval.expires_at > timezone.now()
        eligible = any(p.pk == principal.partner_id for p in approval.eligible_partners.all())
        own_request = (
            approval.requester_partner_id == principal.partner_id or approval.requested_by_user_id == request.user.pk
        )
        context = self._context(
            request, f"Review approval request #{approval.pk}", approval=approval, progress=progress, diff=diff,
            time_left=_time_left(approval), form=SignForm(initial={"payload_hash": approval.payload_hash}),
            can_sign=pending and eligible and not partner_signed and not own_request
            and request.user.has_perm(SIGN_PERMISSION),
            can_revoke=pending and own_signature is not None,
            can_cancel=approval.status == ApprovalStatus.PENDING and approval.requested_by_user_id == request.user.pk,
        )  # fmt: skip
        return TemplateResponse(request, "admin/reserves/approvalrequest/review.html", context)

    def _act(self, request: HttpRequest, pk: int, principal: Any) -> HttpResponse:
        back = HttpResponseRedirect(reverse("admin:reserves_approvalrequest_review", args=[pk]))
        decision = request.POST.get("decision", "")
        form = SignForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Enter the code from your authenticator app.", messages.ERROR)
            return back
        if decision in ("approve", "reject") and not request.user.has_perm(SIGN_PERMISSION):
            raise PermissionDenied
        if not _fresh_otp(request.user, form.cleaned_data["otp_token"]):
            self.message_user(request, "The authenticator code is wrong or was already used; nothing was done.",
                              messages.ERROR)  # fmt: skip
            return back
        actor, now = Actor.for_user(request.user), timezone.now()
        try:
            if decision in ("approve", "reject"):
                approval = services.approval_sign(
                    approval_id=pk, principal=principal, payload_hash=form.cleaned_data["payload_hash"],
                    decision=decision, comment=form.cleaned_data["comment"], actor=actor, now=now,
                )  # fmt: skip
                done = f"You {decision}d request #{pk}; it is now {approval.status}."
            elif decision == "revoke":
                services.approval_revoke(approval_id=pk, principal=principal, actor=actor, now=now)
                done = f"Your signature on request #{pk} was revoked."
            elif decision == "cancel":
                services.approval_cancel(approval_id=pk, principal=principal, actor=actor, now=now,
                                         reason=form.cleaned_data["comment"])  # fmt: skip
                done = f"Request #{pk} was cancelled."
            else:
                self.message_user(request, "Unknown action.", messages.ERROR)
                return back
        except DomainError as error:
            self.message_user(request, f"{error.message} ({error.code})", messages.ERROR)
            return back
        self.message_user(request, done, messages.SUCCESS)
        return back
