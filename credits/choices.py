from django.db import models


class UnitKind(models.TextChoices):
    ISO = "iso", "ISO 4217 currency"
    CUSTOM = "custom", "Custom credit unit"


class AccountRole(models.TextChoices):
    """The platform-side ledger accounts of a unit (opened in shards, see CREDITS_ACCOUNT_SHARDS)."""

    ISSUED = "issued", "Credits issued (grants)"
    REDEEMED = "redeemed", "Credits redeemed (consumptions)"
    BREAKAGE = "breakage", "Breakage (expired credit)"


class WalletOwnerKind(models.TextChoices):
    MERCHANT = "merchant", "Merchant"
    CUSTOMER = "customer", "Customer"


class ReservationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMMITTED = "committed", "Committed"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired (released by timeout)"


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", "Validating"
    INVALID = "invalid", "Invalid (nothing imported)"
    VALIDATED = "validated", "Validated (ready to import)"
    APPLYING = "applying", "Importing"
    APPLIED = "applied", "Imported"
    FAILED = "failed", "Failed (nothing imported)"
