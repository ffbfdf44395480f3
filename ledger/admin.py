"""Finance operators' admin: read-only ledger history; every mutation is an action that calls a service.

Accounts (balances, filters, statement, freeze/unfreeze), journal entries (read-only lines; reverse
behind a confirmation page asking for a reason), pending transfers (post/void, with a reason), the
trial balance, and the template editor (each change of lines or params stores a new version).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.context import Actor
from common.errors import DomainError
from common.money import to_decimal_string
from ledger import selectors, services, template_engine
from ledger.errors import InvalidTemplate
from ledger.models import (
    Account,
    JournalEntry,
    JournalLine,
    LedgerVerification,
    PendingTransfer,
    TransactionTemplate,
)

STATEMENT_LINES = 100


def _money(minor: int, currency: str) -> str:
    return f"{to_decimal_string(minor, currency)} {currency}"


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


def _confirm_with_reason(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    title: str,
    action: str,
    perform: Any,
) -> HttpResponse | None:
    """Intermediate page asking for a reason; on confirmation run `perform(obj, reason)` per object."""
    form = ReasonForm(request.POST if "confirm" in request.POST else None)
    if "confirm" in request.POST and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                perform(obj, form.cleaned_data["reason"])
            except DomainError as error:
                model_admin.message_user(request, f"{obj.pk}: {error.message} ({error.code})", messages.ERROR)
                continue
            done += 1
        if done:
            model_admin.message_user(request, f"{title}: {done} done.", messages.SUCCESS)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "objects": list(queryset),
        "form": form,
        "action": action,
        "opts": model_admin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "ledger/admin/confirm_with_reason.html", context)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "account_number", "name", "type", "currency_code", "status", "owner", "posted", "pending", "available",
    )  # fmt: skip
    list_filter = ("type", "currency_code", "status", "owner_kind", "balance_rule", "role")
    search_fields = ("=account_number", "name", "=address", "=customer_reference", "=merchant__reference")
    list_select_related = ("merchant", "partner")
    show_full_result_count = False
    list_per_page = 100
    actions = ("freeze_accounts", "unfreeze_accounts")
    readonly_fields = (
        "account_number", "name", "type", "currency_code", "status", "balance_rule", "owner_kind", "merchant",
        "partner", "customer_reference", "role", "address", "metadata", "posted", "pending", "available",
        "posted_debits", "posted_credits", "pending_debits", "pending_credits", "version", "last_line_at",
        "created_at", "statement",
    )  # fmt: skip
    fields = readonly_fields

    @admin.display(description="owner")
    def owner(self, account: Account) -> str:
        if account.merchant_id:
            return f"merchant: {account.merchant.name}"
        if account.partner_id:
            return f"partner: {account.partner.name}"
        if account.customer_reference:
            return f"customer: {account.customer_reference}"
        return "platform"

    @admin.display(description="posted balance")
    def posted(self, account: Account) -> str:
        return _money(account.posted_balance, account.currency_code)

    @admin.display(description="pending dr / cr")
    def pending(self, account: Account) -> str:
        return f"{to_decimal_string(account.pending_debits, account.currency_code)} / " + _money(
            account.pending_credits, account.currency_code
        )

    @admin.display(description="available")
    def available(self, account: Account) -> str:
        return _money(account.available_balance, account.currency_code)

    @admin.display(description=f"statement (last {STATEMENT_LINES} lines, newest first)")
    def statement(self, account: Account) -> str:
        lines = list(
            selectors.account_statement(account=account, include_pending=True).order_by("-account_version")[
                :STATEMENT_LINES
            ]
        )
        if not lines:
            return "No lines yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td>"
            "<td style='text-align:right'>{}</td><td style='text-align:right'>{}</td></tr>",
            (
                (
                    line.account_version,
                    f"{line.posted_at:%Y-%m-%d %H:%M:%S}",
                    reverse("admin:ledger_journalentry_change", args=[line.entry_id]),
                    str(line.entry_id)[:8],
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
            "<table><thead><tr><th>version</th><th>posted at</th><th>entry</th><th>description</th><th>phase</th>"
            "<th>side</th><th>amount</th><th>balance after</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def has_freeze_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.freeze_account")

    @admin.action(description="Freeze selected accounts (refuse postings)", permissions=["freeze"])
    def freeze_accounts(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _confirm_with_reason(
            self, request, queryset, title="Freeze accounts", action="freeze_accounts",
            perform=lambda account, reason: services.account_freeze(
                account=account, actor=_actor(request), occurred_at=timezone.now(), reason=reason
            ),
        )  # fmt: skip

    @admin.action(description="Unfreeze selected accounts", permissions=["freeze"])
    def unfreeze_accounts(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _confirm_with_reason(
            self, request, queryset, title="Unfreeze accounts", action="unfreeze_accounts",
            perform=lambda account, reason: services.account_unfreeze(
                account=account, actor=_actor(request), occurred_at=timezone.now(), reason=reason
            ),
        )  # fmt: skip

    def get_urls(self) -> list:
        extra = [
            path(
                "trial-balance/",
                self.admin_site.admin_view(self.trial_balance_view),
                name="ledger_account_trial_balance",
            )
        ]
        return extra + super().get_urls()

    def trial_balance_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        rows = selectors.trial_balance()
        currencies = []
        for currency, by_type in rows.items():
            debits, credits = sum(r.debits for r in by_type), sum(r.credits for r in by_type)
            currencies.append(
                {
                    "currency": currency,
                    "rows": [
                        {
                            "type": r.type,
                            "debits": to_decimal_string(r.debits, currency),
                            "credits": to_decimal_string(r.credits, currency),
                            "net": to_decimal_string(r.net, currency),
                        }
                        for r in by_type
                    ],
                    "debits": to_decimal_string(debits, currency),
                    "credits": to_decimal_string(credits, currency),
                    "net": to_decimal_string(debits - credits, currency),
                    "balanced": debits == credits,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial balance",
            "currencies": currencies,
            "verification": selectors.last_verification(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "ledger/admin/trial_balance.html", context)


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    fields = ("account", "side", "phase", "amount_display", "balance_after_display", "account_version", "posted_at")
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("account").order_by("pk")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="amount")
    def amount_display(self, line: JournalLine) -> str:
        return _money(line.amount, line.currency_code)

    @admin.display(description="balance after")
    def balance_after_display(self, line: JournalLine) -> str:
        return _money(line.balance_after, line.currency_code)


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "effective_at",
        "status",
        "is_hold",
        "description",
        "template",
        "reversal_of_id",
        "created_by_label",
    )
    list_filter = ("status", "is_hold", "template_name")
    search_fields = ("=id", "description", "=idempotency_key", "=group_id")
    show_full_result_count = False
    list_per_page = 100
    inlines = (JournalLineInline,)
    actions = ("reverse_entries",)
    fields = (
        "id", "status", "is_hold", "description", "effective_at", "created_at", "resolved_at", "timeout_at",
        "group_id", "pending_entry", "reversal_of", "template_name", "template_version", "metadata",
        "created_by_kind", "created_by_id", "created_by_label", "idempotency_source", "idempotency_key",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-effective_at", "-pk")

    @admin.display(description="template")
    def template(self, entry: JournalEntry) -> str:
        return f"{entry.template_name} v{entry.template_version}" if entry.template_name else "-"

    def has_reverse_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.reverse_journalentry")

    @admin.action(description="Reverse selected entries (asks for a reason)", permissions=["reverse"])
    def reverse_entries(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _confirm_with_reason(
            self, request, queryset, title="Reverse journal entries", action="reverse_entries",
            perform=lambda entry, reason: services.entry_reverse(
                entry=entry, actor=_actor(request), occurred_at=timezone.now(), reason=reason
            ),
        )  # fmt: skip


@admin.register(PendingTransfer)
class PendingTransferAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "effective_at", "timeout_at", "group_id", "amounts", "description")
    search_fields = ("=id", "description", "=group_id")
    show_full_result_count = False
    list_per_page = 100
    actions = ("post_transfers", "void_transfers")
    inlines = (JournalLineInline,)
    fields = JournalEntryAdmin.fields
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            selectors.pending_transfers()
            .prefetch_related(None)
            .prefetch_related("lines__account")
            .order_by("timeout_at", "pk")
        )

    @admin.display(description="reserved")
    def amounts(self, entry: JournalEntry) -> str:
        return ", ".join(
            f"{line.side} {line.account.account_number} {_money(line.amount, line.currency_code)}"
            for line in entry.lines.all()
        )

    def has_post_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.post_pending_transfer")

    def has_void_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ledger.void_pending_transfer")

    @admin.action(description="Post selected transfers in full", permissions=["post"])
    def post_transfers(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _confirm_with_reason(
            self, request, queryset, title="Post pending transfers", action="post_transfers",
            perform=lambda hold, reason: services.transfer_post(
                transfer=hold, actor=_actor(request), occurred_at=timezone.now(), reason=reason
            ),
        )  # fmt: skip

    @admin.action(description="Void selected transfers", permissions=["void"])
    def void_transfers(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _confirm_with_reason(
            self, request, queryset, title="Void pending transfers", action="void_transfers",
            perform=lambda hold, reason: services.transfer_void(
                transfer=hold, actor=_actor(request), occurred_at=timezone.now(), reason=reason
            ),
        )  # fmt: skip


class TransactionTemplateForm(forms.ModelForm):
    class Meta:
        model = TransactionTemplate
        fields = ("name", "description", "params", "lines", "is_active")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "params" in cleaned and "lines" in cleaned:
            try:
                template_engine.validate_template(params=cleaned["params"], lines=cleaned["lines"])
            except InvalidTemplate as error:
                for field in ("params", "lines"):
                    for message in error.fields.get(field, []):
                        self.add_error(field, message)
        return cleaned


@admin.register(TransactionTemplate)
class TransactionTemplateAdmin(admin.ModelAdmin):
    """Saving a change to lines, params or description stores a NEW version; only `is_active` changes in place."""

    form = TransactionTemplateForm
    list_display = ("name", "version", "is_active", "description", "created_at", "created_by_label")
    list_filter = ("is_active", "name")
    search_fields = ("name",)
    readonly_fields = ("version", "created_at", "created_by_label")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("name", "-version")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*self.readonly_fields, "name") if obj is not None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: TransactionTemplate, form: Any, change: bool) -> None:
        actor, now = _actor(request), timezone.now()
        if not change or {"params", "lines", "description"} & set(form.changed_data):
            created = services.template_create(
                name=obj.name,
                params=obj.params,
                lines=obj.lines,
                description=obj.description,
                actor=actor,
                occurred_at=now,
            )
            if not obj.is_active:
                services.template_set_active(template=created, is_active=False, actor=actor, occurred_at=now)
            obj.pk, obj.version, obj.created_at = created.pk, created.version, created.created_at
            obj._state.adding = False
            if change:
                self.message_user(request, f"Saved as new version {created.version}; earlier versions are kept.")
            return
        if "is_active" in form.changed_data:
            current = TransactionTemplate.objects.get(pk=obj.pk)
            services.template_set_active(template=current, is_active=obj.is_active, actor=actor, occurred_at=now)


@admin.register(LedgerVerification)
class LedgerVerificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "finished_at",
        "is_ok",
        "accounts_checked",
        "entries_checked",
        "drifted_accounts",
        "unbalanced_entries",
        "drift_minor_units",
    )
    list_filter = ("is_ok",)
    readonly_fields = (
        "started_at", "finished_at", "is_ok", "accounts_checked", "entries_checked", "lines_checked",
        "drifted_accounts", "unbalanced_entries", "drift_minor_units", "details",
    )  # fmt: skip
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-finished_at", "-pk")
