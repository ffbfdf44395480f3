"""Credits admin: wallets (balances from the ledger, lots inline, transaction history), a grant action
asking for amount, reason and expiry, the CSV import (upload → validation with progress → preview with
row-level errors → import all or nothing), and an expiring-soon filter. Read-only otherwise: every
mutation calls a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.context import Actor
from common.errors import DomainError
from common.money import to_decimal_string
from credits import selectors, services
from credits.choices import ImportStatus
from credits.models import (
    Consumption,
    CreditExpiry,
    CreditImport,
    CreditLot,
    CreditUnit,
    Reservation,
    UnitAccount,
    Wallet,
)

HISTORY_LINES = 100
DONE = (ImportStatus.VALIDATED, ImportStatus.INVALID, ImportStatus.APPLIED, ImportStatus.FAILED)
PREVIEW_ROWS = 50


def _amount(minor: int, unit: CreditUnit) -> str:
    return f"{to_decimal_string(minor, unit.ledger_currency_code)} {unit.code}"


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ExpiringSoonFilter(admin.SimpleListFilter):
    """Unexpired credit with `expires_at` within CREDITS_EXPIRING_SOON_DAYS (wallets: any such lot)."""

    title = "expiring soon"
    parameter_name = "expiring"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("soon", f"Within {settings.CREDITS_EXPIRING_SOON_DAYS} days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() != "soon":
            return queryset
        lots = selectors.lots_expiring_soon(now=timezone.now(), days=settings.CREDITS_EXPIRING_SOON_DAYS)
        if queryset.model is CreditLot:
            return queryset.filter(pk__in=lots.values("pk"))
        return queryset.filter(pk__in=lots.values("wallet_id"))


class UnitAccountInline(ReadOnlyMixin, admin.TabularInline):
    model = UnitAccount
    fields = ("role", "shard", "account")
    readonly_fields = fields
    extra = 0


@admin.register(CreditUnit)
class CreditUnitAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "exponent", "ledger_currency_code", "created_at")
    inlines = (UnitAccountInline,)
    readonly_fields = ("code", "name", "kind", "exponent", "ledger_currency_code", "created_at")


class CreditLotInline(ReadOnlyMixin, admin.TabularInline):
    model = CreditLot
    fields = ("pk", "amount", "remaining", "reserved", "expires_at", "expired_at", "granted_at", "source", "reason")
    readonly_fields = fields
    extra = 0
    ordering = ("expires_at", "granted_at", "pk")
    show_change_link = True


class GrantForm(forms.Form):
    amount = forms.CharField(max_length=40, help_text='Decimal amount in the wallet\'s unit, e.g. "25.00".')
    reason = forms.CharField(max_length=255, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
    expires_at = forms.DateTimeField(required=False, help_text="Optional, e.g. 2026-12-31 23:59 (server time zone).")


@admin.register(Wallet)
class WalletAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "owner", "unit", "total", "reserved", "available", "created_at")
    list_filter = ("unit", "owner_kind", ExpiringSoonFilter)
    search_fields = ("=pk", "=customer_reference", "=merchant__reference")
    list_select_related = ("unit", "merchant", "account")
    show_full_result_count = False
    list_per_page = 100
    actions = ("grant_credits",)
    inlines = (CreditLotInline,)
    readonly_fields = (
        "pk", "owner", "unit", "merchant", "customer_reference", "total", "reserved", "available", "account",
        "created_at", "history",
    )  # fmt: skip
    fields = readonly_fields

    @admin.display(description="owner")
    def owner(self, wallet: Wallet) -> str:
        if wallet.owner_kind == "merchant":
            return f"merchant: {wallet.merchant.name}"
        suffix = f" of {wallet.merchant.name}" if wallet.merchant_id else ""
        return f"customer: {wallet.customer_reference}{suffix}"

    @admin.display(description="total")
    def total(self, wallet: Wallet) -> str:
        return _amount(wallet.account.posted_balance, wallet.unit)

    @admin.display(description="reserved")
    def reserved(self, wallet: Wallet) -> str:
        return _amount(wallet.account.pending_debits, wallet.unit)

    @admin.display(description="available")
    def available(self, wallet: Wallet) -> str:
        return _amount(wallet.account.available_balance, wallet.unit)

    @admin.display(description=f"transaction history (last {HISTORY_LINES}, newest first)")
    def history(self, wallet: Wallet) -> str:
        lines = list(
            selectors.wallet_transactions(wallet=wallet, include_pending=True).order_by("-account_version")[
                :HISTORY_LINES
            ]
        )
        if not lines:
            return "No transactions yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style='text-align:right'>{}</td>"
            "<td style='text-align:right'>{}</td></tr>",
            (
                (
                    f"{line.posted_at:%Y-%m-%d %H:%M:%S}",
                    (line.entry.metadata or {}).get("kind", ""),
                    line.entry.description[:60],
                    line.phase,
                    line.side,
                    to_decimal_string(line.amount, line.currency_code),
                    to_decimal_string(line.balance_after, line.currency_code),
                )
                for line in lines
            ),
        )
        return format_html(
            "<table><thead><tr><th>posted at</th><th>kind</th><th>description</th><th>phase</th><th>side</th>"
            "<th>amount</th><th>total after</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def has_grant_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("credits.grant_credits")

    @admin.action(description="Grant credits to the selected wallets", permissions=["grant"])
    def grant_credits(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = GrantForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            actor, now, done = Actor.for_user(request.user), timezone.now(), 0
            for wallet in queryset.select_related("unit"):
                try:
                    services.credit_grant(
                        wallet=wallet, amount=services.amount_to_minor(form.cleaned_data["amount"], wallet.unit),
                        reason=form.cleaned_data["reason"], expires_at=form.cleaned_data["expires_at"],
                        source="admin", actor=actor, occurred_at=now,
                    )  # fmt: skip
                except DomainError as error:
                    self.message_user(request, f"Wallet {wallet.pk}: {error.message} ({error.code})", messages.ERROR)
                    continue
                done += 1
            if done:
                self.message_user(request, f"Granted credits to {done} wallet(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Grant credits",
            "objects": list(queryset),
            "form": form,
            "action": "grant_credits",
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "credits/admin/grant.html", context)


@admin.register(CreditLot)
class CreditLotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "wallet", "amount", "remaining", "reserved", "expires_at", "expired_at", "source", "reason")
    list_filter = (ExpiringSoonFilter, "source")
    search_fields = ("=wallet__pk",)
    list_select_related = ("wallet", "wallet__unit")
    raw_id_fields = ("wallet",)
    show_full_result_count = False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "wallet", "amount", "committed_amount", "status", "reserved_at", "expires_at", "resolved_at")
    list_filter = ("status",)
    search_fields = ("=pk", "=wallet__pk", "reference")
    list_select_related = ("wallet",)
    show_full_result_count = False


@admin.register(Consumption)
class ConsumptionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "wallet", "amount", "reference", "reservation", "consumed_at")
    search_fields = ("=wallet__pk", "=reference")
    list_select_related = ("wallet", "reservation")
    show_full_result_count = False


@admin.register(CreditExpiry)
class CreditExpiryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "lot", "wallet", "amount", "expired_at")
    search_fields = ("=wallet__pk",)
    list_select_related = ("lot", "wallet")


# --- CSV import ---------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV with a header: wallet,amount,expires_at,reason (expires_at may be empty); an optional "
        "unit column must name each wallet's unit."
    )


@admin.register(CreditImport)
class CreditImportAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "filename",
        "status",
        "total_rows",
        "processed_rows",
        "lots_created",
        "created_by_label",
        "created_at",
    )
    list_filter = ("status",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("credits.import_credits")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="credits_creditimport_upload"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="credits_creditimport_progress"),
            path("<int:pk>/run/", wrap(self.run_view), name="credits_creditimport_run"),
            path("<int:pk>/apply/", wrap(self.apply_view), name="credits_creditimport_apply"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:credits_creditimport_upload"))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return self.run_view(request, int(object_id))

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.credit_import_create(
                    filename=upload.name, content=upload.read(), actor=Actor.for_user(request.user),
                    occurred_at=timezone.now(),
                )  # fmt: skip
            except DomainError as error:
                form.add_error("file", f"{error.message} ({error.code})")
            else:
                return HttpResponseRedirect(reverse("admin:credits_creditimport_run", args=[job.pk]))
        context = {**self.admin_site.each_context(request), "title": "Import credit grants (CSV)", "form": form,
                   "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "credits/admin/import_upload.html", context)

    def _progress(self, job: CreditImport) -> dict[str, Any]:
        return {
            "status": job.status, "status_label": job.get_status_display(), "total_rows": job.total_rows,
            "processed_rows": job.processed_rows, "errors": job.errors[:200], "error_count": len(job.errors),
            "lots_created": job.lots_created,
            "done": job.status in DONE,
        }  # fmt: skip

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(self._progress(get_object_or_404(CreditImport, pk=pk)))

    def run_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(CreditImport, pk=pk)
        wallets = {
            w.pk: w
            for w in Wallet.objects.filter(pk__in={r["wallet"] for r in job.rows[:PREVIEW_ROWS]}).select_related("unit")
        }
        preview = [
            {**row, "amount_display": _amount(row["amount"], wallets[row["wallet"]].unit)}
            for row in job.rows[:PREVIEW_ROWS]
            if row["wallet"] in wallets
        ]
        context = {
            **self.admin_site.each_context(request), "title": f"Credit import {job.pk}: {job.filename}", "job": job,
            "progress": self._progress(job), "preview": preview, "opts": self.model._meta,
            "can_apply": job.status == ImportStatus.VALIDATED and self.has_add_permission(request),
        }  # fmt: skip
        return TemplateResponse(request, "credits/admin/import_run.html", context)

    def apply_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        job = get_object_or_404(CreditImport, pk=pk)
        if job.status != ImportStatus.VALIDATED:
            self.message_user(request, "Only a validated import can be imported, once.", messages.ERROR)
        else:
            from credits.tasks import import_apply as import_apply_task

            kwargs = {"import_id": job.pk, "actor_id": str(request.user.pk), "actor_label": request.user.get_username()}
            transaction.on_commit(lambda: import_apply_task.apply_async(kwargs=kwargs))
            self.message_user(request, "Import queued: every row is granted, or none.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:credits_creditimport_run", args=[job.pk]))
