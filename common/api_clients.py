"""API client lifecycle: create, rotate the secret, disable. The secret is returned once, never stored."""

import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from audit.context import Actor
from audit.services import audit_record
from common.errors import DomainError
from common.models import ApiClient
from tenants.models import Merchant, Partner

KNOWN_SCOPES = frozenset(
    {
        "vault:tokenize", "vault:detokenize", "ledger:read", "ledger:write", "disputes:read", "disputes:write",
        "disputes:submit", "reserves:approve", "reserves:read", "reserves:write", "credits:read", "credits:write",
        "audit:read",
    }
)  # fmt: skip


class UnableToCreateApiClient(DomainError):
    code = "invalid_api_client"


@dataclass(frozen=True)
class IssuedCredentials:
    client: ApiClient
    client_secret: str  # shown once

    def as_dict(self) -> dict[str, str]:
        return {
            "client_id": self.client.client_id,
            "client_secret": self.client_secret,
            "tenant": self.client.tenant.key,
        }


def _new_secret() -> str:
    return "sec_" + secrets.token_urlsafe(32)


def api_client_create(
    *,
    name: str,
    scopes: list[str],
    actor: Actor,
    merchant: Merchant | None = None,
    partner: Partner | None = None,
    platform: bool = False,
    rate_per_second: float | None = None,
    burst: int | None = None,
) -> IssuedCredentials:
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise UnableToCreateApiClient(f"Unknown scopes: {', '.join(unknown)}.", fields={"scopes": unknown})
    if [merchant is not None, partner is not None, platform].count(True) != 1:
        raise UnableToCreateApiClient("Give exactly one tenant: a merchant, a partner, or the platform.")
    secret = _new_secret()
    with transaction.atomic():
        client = ApiClient(
            name=name, scopes=sorted(set(scopes)), merchant=merchant, partner=partner, is_platform=platform,
            rate_per_second=rate_per_second, burst=burst, secret_hash=make_password(secret),
        )  # fmt: skip
        client.full_clean()
        client.save()
        audit_record(action="security.api_client.created", actor=actor, target=client, tenant=client.tenant.key,
                     data={"client_id": client.client_id, "scopes": client.scopes})  # fmt: skip
    return IssuedCredentials(client, secret)


def api_client_rotate_secret(*, client: ApiClient, actor: Actor) -> IssuedCredentials:
    secret = _new_secret()
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(
            secret_hash=make_password(secret), secret_rotated_at=timezone.now()
        )
        client.refresh_from_db()
        audit_record(action="security.api_client.secret_rotated", actor=actor, target=client,
                     data={"client_id": client.client_id})  # fmt: skip
    return IssuedCredentials(client, secret)


def api_client_set_active(*, client: ApiClient, active: bool, actor: Actor) -> ApiClient:
    with transaction.atomic():
        ApiClient.objects.filter(pk=client.pk).update(is_active=active)
        client.refresh_from_db()
        audit_record(action="security.api_client.enabled" if active else "security.api_client.disabled",
                     actor=actor, target=client, data={"client_id": client.client_id})  # fmt: skip
    return client
