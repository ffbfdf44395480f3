"""Vault admin for key custodians: masked card metadata and the key inventory, read-only.

Key operations (rotate, rewrap, retire) are buttons on the key inventory leading to a confirmation page;
they need the `vault.manage_keys` permission and each is one service call (rewrap runs as a Celery task).
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from audit.context import Actor
from common.errors import DomainError
from vault import selectors, services
from vault.choices import KeyPurpose
from vault.models import Card, KeyVersion

MANAGE_KEYS = "vault.manage_keys"


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Card)
class CardAdmin(_ReadOnly):
    """Tokens and their masked metadata only: the envelope columns are never loaded, the PAN never shown."""

    list_display = (
        "token", "tenant_key", "brand", "bin", "last4", "expiry", "created_at", "kek_version", "fingerprint_version",
        "shredded_at",
    )  # fmt: skip
    list_filter = ("brand", "kek_version", "fingerprint_version", ("shredded_at", admin.EmptyFieldListFilter))
    search_fields = ("=token", "=tenant_key", "=last4", "=bin")
    fields = (
        "token", "tenant_key", "merchant", "partner", "brand", "bin", "last4", "masked", "expiry", "kek_version",
        "fingerprint_version", "created_at", "updated_at", "shredded_at",
    )  # fmt: skip
    readonly_fields = fields
    show_full_result_count = False
    list_select_related = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .only(*[f for f in selectors.METADATA_FIELDS if f != "pk"])
            .select_related("merchant", "partner")
            .order_by("-pk")
        )

    @admin.display(description="expiry")
    def expiry(self, card: Card) -> str:
        return f"{card.exp_month:02d}/{card.exp_year % 100:02d}"

    @admin.display(description="card number")
    def masked(self, card: Card) -> str:
        return card.masked_number


class RotateForm(forms.Form):
    purpose = forms.ChoiceField(choices=KeyPurpose.choices, initial=KeyPurpose.KEK)


class RetireForm(forms.Form):
    purpose = forms.ChoiceField(choices=KeyPurpose.choices, initial=KeyPurpose.KEK)
    min_version = forms.IntegerField(min_value=1, label="New minimum decryption version")


@admin.register(KeyVersion)
class KeyVersionAdmin(_ReadOnly):
    """Key inventory (PCI DSS 3.6.1.1 / 3.7.4): versions, states, cryptoperiods and how many cards use each."""

    change_list_template = "vault/admin/keyversion_change_list.html"
    list_display = (
        "purpose", "version", "state", "provider", "provider_ref", "created_at", "cryptoperiod_ends", "live_cards",
        "wrapped_under_version", "retired_at",
    )  # fmt: skip
    list_filter = ("purpose", "state", "provider")
    fields = (
        "purpose", "version", "state", "provider", "provider_ref", "wrapped_under_version", "cryptoperiod_days",
        "created_at", "superseded_at", "retired_at",
    )  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        live = Card.objects.filter(shredded_at__isnull=True).order_by()
        by_kek = live.filter(kek_version=OuterRef("version")).values("kek_version").annotate(n=Count("pk")).values("n")
        by_fp = (
            live.filter(fingerprint_version=OuterRef("version"))
            .values("fingerprint_version")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(cards_kek=Coalesce(Subquery(by_kek), 0), cards_fp=Coalesce(Subquery(by_fp), 0))
            .order_by("purpose", "-version", "pk")
        )

    @admin.display(description="live cards")
    def live_cards(self, row: KeyVersion) -> str:
        if row.purpose == KeyPurpose.KEK:
            return str(row.cards_kek)
        if row.purpose == KeyPurpose.FINGERPRINT:
            return str(row.cards_fp)
        return "-"

    @admin.display(description="cryptoperiod ends")
    def cryptoperiod_ends(self, row: KeyVersion) -> str:
        return f"{row.cryptoperiod_ends_at:%Y-%m-%d}"

    # --- key operations -------------------------------------------------------------------------

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("rotate/", wrap(self.rotate_view), name="vault_keyversion_rotate"),
            path("rewrap/", wrap(self.rewrap_view), name="vault_keyversion_rewrap"),
            path("retire/", wrap(self.retire_view), name="vault_keyversion_retire"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {"can_manage_keys": request.user.has_perm(MANAGE_KEYS), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def _require_manage_keys(self, request: HttpRequest) -> None:
        if not request.user.has_perm(MANAGE_KEYS):
            raise PermissionDenied

    def _changelist(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:vault_keyversion_changelist"))

    def _confirm(
        self, request: HttpRequest, *, title: str, form: forms.Form | None, details: list[str]
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "details": details,
        }
        return TemplateResponse(request, "vault/admin/key_confirm.html", context)

    def rotate_view(self, request: HttpRequest) -> HttpResponse:
        self._require_manage_keys(request)
        form = RotateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                row = services.key_rotate(purpose=form.cleaned_data["purpose"], actor=Actor.for_user(request.user))
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Created {row}. Run the rewrap next, then retire the old version.")
            return self._changelist()
        details = [
            "A new version becomes active for all new data; the current one stays usable for decryption only.",
            "KEKs are created in the configured provider (keyring file, HSM or KMS).",
        ]
        return self._confirm(request, title="Rotate a vault key", form=form, details=details)

    def rewrap_view(self, request: HttpRequest) -> HttpResponse:
        self._require_manage_keys(request)
        if request.method == "POST":
            from vault.tasks import rewrap as rewrap_task

            user_id = request.user.pk
            transaction.on_commit(lambda: rewrap_task.apply_async(kwargs={"actor_user_id": user_id}))
            self.message_user(request, "The rewrap job has been started; progress shows in the card counts below.")
            return self._changelist()
        waiting = services.cards_needing_rewrap().count()
        details = [
            f"{waiting} live card(s) are under an older KEK or fingerprint key and will be re-encrypted.",
            "Runs in the background in short batches; tokenization and detokenization keep working.",
        ]
        return self._confirm(request, title="Rewrap every card to the newest keys", form=None, details=details)

    def retire_view(self, request: HttpRequest) -> HttpResponse:
        self._require_manage_keys(request)
        form = RetireForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                rows = services.key_versions_retire(
                    purpose=form.cleaned_data["purpose"],
                    min_version=form.cleaned_data["min_version"],
                    actor=Actor.for_user(request.user),
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Retired {len(rows)} version(s); they will never decrypt again.")
            return self._changelist()
        details = [
            "Every version below the new minimum is retired for good: it never encrypts or decrypts again.",
            "Refused while any card, sub-key or encrypted value still needs an older version.",
        ]
        return self._confirm(request, title="Raise the minimum decryption version", form=form, details=details)
