"""The one tenancy mechanism every app reuses.

A `Tenant` is who a request acts for: a merchant, a partner, or the platform (which sees all).
Models that belong to a tenant use `TenantQuerySet` and name their tenant foreign keys in
`TENANT_FIELDS`; `Model.objects.for_tenant(tenant)` then returns only that tenant's rows, so an id
from another tenant is simply not found (404, exactly like an unknown id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models


class TenantKind(models.TextChoices):
    MERCHANT = "merchant", "Merchant"
    PARTNER = "partner", "Partner"
    PLATFORM = "platform", "Platform"


@dataclass(frozen=True)
class Tenant:
    kind: str
    merchant_id: int | None = None
    partner_id: int | None = None

    @classmethod
    def platform(cls) -> Tenant:
        return cls(kind=TenantKind.PLATFORM)

    @classmethod
    def for_merchant(cls, merchant: Any) -> Tenant:
        return cls(kind=TenantKind.MERCHANT, merchant_id=merchant.pk if hasattr(merchant, "pk") else int(merchant))

    @classmethod
    def for_partner(cls, partner: Any) -> Tenant:
        return cls(kind=TenantKind.PARTNER, partner_id=partner.pk if hasattr(partner, "pk") else int(partner))

    @property
    def is_platform(self) -> bool:
        return self.kind == TenantKind.PLATFORM

    @property
    def key(self) -> str:
        """Stable text form for audit rows and cache keys: 'merchant:12', 'partner:3', 'platform'."""
        if self.kind == TenantKind.MERCHANT:
            return f"merchant:{self.merchant_id}"
        if self.kind == TenantKind.PARTNER:
            return f"partner:{self.partner_id}"
        return "platform"


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        if tenant.is_platform:
            return self
        fields: dict[str, str] = getattr(self.model, "TENANT_FIELDS", {})
        if tenant.kind == TenantKind.MERCHANT and "merchant" in fields:
            return self.filter(**{fields["merchant"]: tenant.merchant_id})
        if tenant.kind == TenantKind.PARTNER and "partner" in fields:
            return self.filter(**{fields["partner"]: tenant.partner_id})
        return self.none()  # a tenant kind this model does not belong to sees nothing
