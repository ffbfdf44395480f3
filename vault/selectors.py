"""Vault reads: masked card metadata, key inventory and usage. Nothing here can reveal a PAN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from tenants.scoping import Tenant
from vault.choices import KeyPurpose, KeyState
from vault.errors import CardNotFound
from vault.models import Card, KeyVersion

# Columns safe to read anywhere: everything but the envelope.
METADATA_FIELDS = (
    "pk", "token", "tenant_key", "merchant_id", "partner_id", "brand", "bin", "last4", "exp_month", "exp_year",
    "kek_version", "fingerprint_version", "created_at", "updated_at", "shredded_at",
)  # fmt: skip


@dataclass(frozen=True)
class CardMetadata:
    """What may be shown about a card (PCI DSS 3.4.1: at most BIN + last 4)."""

    token: str
    tenant_key: str
    brand: str
    bin: str
    last4: str
    masked_number: str
    exp_month: int
    exp_year: int
    created_at: datetime
    shredded_at: datetime | None

    @property
    def is_shredded(self) -> bool:
        return self.shredded_at is not None


def card_list(*, tenant: Tenant) -> QuerySet[Card]:
    """The tenant's cards, newest first, without the envelope columns."""
    return (
        Card.objects.for_tenant(tenant).only(*[f for f in METADATA_FIELDS if f != "pk"]).order_by("-created_at", "-pk")
    )


def card_metadata_get(*, tenant: Tenant, token: str) -> CardMetadata:
    """Masked metadata of one card; another tenant's token is `not_found`, exactly like an unknown one."""
    card = card_list(tenant=tenant).filter(token=token).first() if isinstance(token, str) else None
    if card is None:
        raise CardNotFound()
    return CardMetadata(
        token=card.token,
        tenant_key=card.tenant_key,
        brand=card.brand,
        bin=card.bin,
        last4=card.last4,
        masked_number=card.masked_number,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        created_at=card.created_at,
        shredded_at=card.shredded_at,
    )


def key_inventory() -> QuerySet[KeyVersion]:
    return KeyVersion.objects.order_by("purpose", "-version", "pk")


def min_decryption_version(*, purpose: str = KeyPurpose.KEK) -> int | None:
    """The lowest version of a key that may still decrypt (None before the first key exists)."""
    return (
        KeyVersion.objects.filter(purpose=purpose)
        .exclude(state=KeyState.RETIRED)
        .order_by("version")
        .values_list("version", flat=True)
        .first()
    )


def live_cards_per_kek_version() -> dict[int, int]:
    rows = Card.objects.filter(shredded_at__isnull=True).values("kek_version").annotate(n=Count("pk")).order_by()
    return {row["kek_version"]: row["n"] for row in rows}


def live_cards_per_fingerprint_version() -> dict[int, int]:
    rows = (
        Card.objects.filter(shredded_at__isnull=True).values("fingerprint_version").annotate(n=Count("pk")).order_by()
    )
    return {row["fingerprint_version"]: row["n"] for row in rows}


def keys_past_cryptoperiod(*, now: datetime) -> list[KeyVersion]:
    return [
        row
        for row in KeyVersion.objects.filter(state=KeyState.ACTIVE).order_by("purpose", "pk")
        if row.is_past_cryptoperiod(now)
    ]
