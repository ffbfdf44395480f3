"""Access plumbing shared by every app: API clients, idempotency records, password history."""

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.scoping import Tenant, TenantKind, TenantQuerySet

_BASE62 = string.ascii_letters + string.digits


def new_client_id() -> str:
    return "cli_" + "".join(secrets.choice(_BASE62) for _ in range(20))


class ApiClient(models.Model):
    """A partner or merchant system (or the platform's own) calling the API with client credentials.

    The secret is stored hashed (the project's password hasher) and shown once, at creation or
    rotation. The tenant is a merchant, a partner, or the platform (both empty, `is_platform`).
    """

    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=40, unique=True, default=new_client_id, editable=False)
    secret_hash = models.CharField(max_length=256, editable=False)
    scopes = models.JSONField(default=list, help_text="e.g. ['ledger:read', 'ledger:write']")
    merchant = models.ForeignKey("tenants.Merchant", null=True, blank=True, on_delete=models.PROTECT)
    partner = models.ForeignKey("tenants.Partner", null=True, blank=True, on_delete=models.PROTECT)
    is_platform = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    rate_per_second = models.FloatField(null=True, blank=True, help_text="Empty: the platform default.")
    burst = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the platform default.")
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    TENANT_FIELDS = {"merchant": "merchant", "partner": "partner"}
    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(is_platform=True) & Q(merchant__isnull=True) & Q(partner__isnull=True))
                | (Q(is_platform=False) & Q(merchant__isnull=False) & Q(partner__isnull=True))
                | (Q(is_platform=False) & Q(merchant__isnull=True) & Q(partner__isnull=False)),
                name="common_apiclient_exactly_one_tenant",
                violation_error_message="An API client belongs to exactly one merchant, partner, or the platform.",
            ),
            models.CheckConstraint(
                condition=Q(rate_per_second__isnull=True) | Q(rate_per_second__gt=0),
                name="common_apiclient_rate_positive",
                violation_error_message="The rate must be positive.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id}, pk={self.pk})"

    @property
    def tenant(self) -> Tenant:
        if self.merchant_id:
            return Tenant(kind=TenantKind.MERCHANT, merchant_id=self.merchant_id)
        if self.partner_id:
            return Tenant(kind=TenantKind.PARTNER, partner_id=self.partner_id)
        return Tenant.platform()


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one client: the request's fingerprint and the response to replay."""

    client_id = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="HMAC-SHA256 of method, path and body.")
    state = models.CharField(max_length=16, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "key"], name="common_idempotencyrecord_one_per_client_key"),
            models.CheckConstraint(
                condition=Q(state="in_progress") | Q(response_status__isnull=False),
                name="common_idempotencyrecord_completed_has_response",
                violation_error_message="A completed record keeps its response.",
            ),
        ]
        indexes = [models.Index(fields=["expires_at"], name="common_idem_expires_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key} {self.state} (pk={self.pk})"


class PasswordHistory(models.Model):
    """Hashes of a user's previous passwords, so the last few cannot be reused (PCI DSS 8.3.7)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-changed_at"], name="common_pwhist_user_idx")]

    def __str__(self) -> str:
        return f"password of user {self.user_id} at {self.changed_at:%Y-%m-%d} (pk={self.pk})"
