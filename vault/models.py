"""Vault models: tokenized cards (envelope-encrypted) and the key inventory (PCI DSS 3.6/3.7)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q

from tenants.models import Merchant, Partner
from tenants.scoping import TenantQuerySet
from vault.choices import CardBrand, KeyPurpose, KeyState

TOKEN_PREFIX = "tok_"  # noqa: S105 - a prefix, not a secret
TOKEN_REGEX = r"^tok_[0-9A-Za-z]{24,60}$"  # noqa: S105


class CardQuerySet(TenantQuerySet):
    def live(self) -> CardQuerySet:
        return self.filter(shredded_at__isnull=True)


class Card(models.Model):
    """A tokenized card. The PAN and cardholder name exist only inside `ciphertext`.

    Envelope: `ciphertext` = AES-256-GCM(data key, nonce, {pan, name}, AAD = token + KEK version);
    the data key exists only as `wrapped_key`, wrapped by KEK `kek_version` in the key provider.
    Shredding destroys `wrapped_key` (and the ciphertext), so the PAN is unrecoverable.
    BIN (6 or 8 digits), last 4 and expiry are kept in clear: the permitted truncated form.
    """

    TENANT_FIELDS = {"merchant": "merchant", "partner": "partner"}

    token = models.CharField(max_length=64, unique=True, editable=False)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tenant_key = models.CharField(max_length=64, help_text="'merchant:<pk>', 'partner:<pk>' or 'platform'.")

    ciphertext = models.BinaryField(editable=False)
    nonce = models.BinaryField(max_length=12, editable=False)
    wrapped_key = models.BinaryField(null=True, editable=False)
    kek_version = models.PositiveIntegerField()

    fingerprint = models.CharField(max_length=64, help_text="HMAC-SHA256 (hex) of tenant + PAN.")
    fingerprint_version = models.PositiveIntegerField()
    is_deduplicated = models.BooleanField(default=True, help_text="Created while dedupe was on.")

    brand = models.CharField(max_length=16, choices=CardBrand.choices)
    bin = models.CharField(max_length=8)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    shredded_at = models.DateTimeField(null=True, blank=True)

    objects = CardQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(token__regex=TOKEN_REGEX),
                name="vault_card_token_format",
                violation_error_message="A token is 'tok_' followed by at least 24 base62 characters.",
            ),
            models.CheckConstraint(
                condition=(Q(shredded_at__isnull=True) & Q(wrapped_key__isnull=False))
                | (Q(shredded_at__isnull=False) & Q(wrapped_key__isnull=True)),
                name="vault_card_shredded_has_no_key",
                violation_error_message="A live card has a wrapped data key; a shredded card has none.",
            ),
            models.CheckConstraint(
                condition=(Q(merchant__isnull=False) & Q(partner__isnull=True) & Q(tenant_key__startswith="merchant:"))
                | (Q(merchant__isnull=True) & Q(partner__isnull=False) & Q(tenant_key__startswith="partner:"))
                | (Q(merchant__isnull=True) & Q(partner__isnull=True) & Q(tenant_key="platform")),
                name="vault_card_one_tenant",
                violation_error_message="A card belongs to one merchant, one partner, or the platform.",
            ),
            models.CheckConstraint(
                condition=Q(brand__in=CardBrand.values),
                name="vault_card_brand_known",
                violation_error_message="Unknown card brand.",
            ),
            models.CheckConstraint(
                condition=Q(bin__regex=r"^([0-9]{6}|[0-9]{8})$") & Q(last4__regex=r"^[0-9]{4}$"),
                name="vault_card_truncation_format",
                violation_error_message="BIN is 6 or 8 digits and last4 is 4 digits.",
            ),
            models.CheckConstraint(
                condition=Q(exp_month__gte=1, exp_month__lte=12) & Q(exp_year__gte=2000, exp_year__lte=2199),
                name="vault_card_expiry_range",
                violation_error_message="Expiry month is 1-12 and the year four digits.",
            ),
            models.CheckConstraint(
                condition=Q(kek_version__gte=1) & Q(fingerprint_version__gte=1),
                name="vault_card_key_versions_positive",
                violation_error_message="Key versions start at 1.",
            ),
            models.UniqueConstraint(
                fields=["tenant_key", "fingerprint_version", "fingerprint"],
                condition=Q(shredded_at__isnull=True, is_deduplicated=True),
                name="vault_card_one_live_card_per_fingerprint",
                violation_error_message="This tenant already has a live card with this number.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant_key", "fingerprint"], name="vault_card_fingerprint_idx"),
            models.Index(fields=["kek_version"], name="vault_card_kek_version_idx"),
            models.Index(fields=["fingerprint_version"], name="vault_card_fp_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.token} ({self.get_brand_display()} {self.bin}…{self.last4}, pk={self.pk})"

    @property
    def is_shredded(self) -> bool:
        return self.shredded_at is not None

    @property
    def masked_number(self) -> str:
        """BIN + last 4 with the middle masked, the most PCI DSS 3.4.1 allows to display."""
        return f"{self.bin}{'•' * 4}{self.last4}"


class KeyVersion(models.Model):
    """Key inventory: one row per version of each key (PCI DSS 3.6.1.1, 3.7.4, 3.7.5).

    KEKs live in the provider (keyring file, HSM, KMS); `provider_ref` locates them there.
    Fingerprint and CVV keys are generated here and stored only wrapped by a KEK (`wrapped_material`).
    """

    purpose = models.CharField(max_length=16, choices=KeyPurpose.choices)
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=KeyState.choices, default=KeyState.ACTIVE)
    provider = models.CharField(max_length=16, help_text="local, pkcs11 or aws-kms.")
    provider_ref = models.CharField(max_length=255, blank=True, help_text="HSM label or KMS key ARN.")
    wrapped_material = models.BinaryField(null=True, editable=False)
    wrapped_under_version = models.PositiveIntegerField(null=True, blank=True)
    cryptoperiod_days = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("manage_keys", "Can rotate, rewrap and retire vault keys")]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"],
                name="vault_keyversion_unique_version",
                violation_error_message="This key version exists already.",
            ),
            models.UniqueConstraint(
                fields=["purpose"],
                condition=Q(state=KeyState.ACTIVE),
                name="vault_keyversion_one_active_per_purpose",
                violation_error_message="Only one version of a key is active.",
            ),
            models.CheckConstraint(
                condition=Q(state__in=KeyState.values) & Q(purpose__in=KeyPurpose.values),
                name="vault_keyversion_state_and_purpose_known",
                violation_error_message="Unknown key state or purpose.",
            ),
            models.CheckConstraint(
                condition=(Q(purpose=KeyPurpose.KEK) & Q(wrapped_material__isnull=True))
                | (
                    ~Q(purpose=KeyPurpose.KEK)
                    & Q(wrapped_material__isnull=False)
                    & Q(wrapped_under_version__isnull=False)
                ),
                name="vault_keyversion_only_subkeys_are_wrapped",
                violation_error_message="KEKs stay in the provider; other keys are stored wrapped by a KEK.",
            ),
            models.CheckConstraint(
                condition=Q(state=KeyState.RETIRED, retired_at__isnull=False) | (~Q(state=KeyState.RETIRED)),
                name="vault_keyversion_retired_has_time",
                violation_error_message="A retired key records when it was retired.",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1) & Q(cryptoperiod_days__gte=1),
                name="vault_keyversion_positive",
                violation_error_message="Versions start at 1; a cryptoperiod is at least one day.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display().split(' (')[0]} v{self.version} ({self.state}, pk={self.pk})"

    @property
    def cryptoperiod_ends_at(self) -> datetime:
        return self.created_at + timedelta(days=self.cryptoperiod_days)

    def is_past_cryptoperiod(self, now: datetime) -> bool:
        return self.state != KeyState.RETIRED and now >= self.cryptoperiod_ends_at
