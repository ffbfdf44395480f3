"""API identity: OAuth2 client-credentials tokens (signed JWTs), their verification, scopes, tenancy.

Identity comes only from a verified token: `request.auth` is an `ApiAuth` (client, scopes, tenant).
Tokens are EdDSA (Ed25519) JWTs with a `kid`; only EdDSA is accepted, so `alg: none` and HS/RS
confusion are refused by construction. Keys rotate: the first configured key signs, every
configured key verifies, so tokens signed with the previous key stay valid until they expire.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from audit import context
from audit.choices import ActorKind
from audit.context import Actor
from common.models import ApiClient
from tenants.scoping import Tenant

ALGORITHM = "EdDSA"


class InvalidClientCredentials(exceptions.AuthenticationFailed):
    default_detail = "Invalid client credentials."


@dataclass(frozen=True)
class ApiAuth:
    client: ApiClient
    scopes: frozenset[str]
    tenant: Tenant
    token_id: str

    @property
    def actor(self) -> Actor:
        return Actor(kind=ActorKind.API_CLIENT, id=self.client.client_id, label=self.client.name)


class ApiPrincipal:
    """What `request.user` is for an API client: authenticated, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.pk = None

    def __str__(self) -> str:
        return self.client.client_id

    def has_perm(self, *args: Any) -> bool:
        return False

    def is_verified(self) -> bool:  # django-otp's middleware asks
        return False


# --- Keys -----------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _parse_keys(spec: str) -> tuple[tuple[str, Ed25519PrivateKey], ...]:
    keys = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, _, encoded = item.partition(":")
        keys.append((kid, Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded))))
    return tuple(keys)


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    keys = _parse_keys(settings.JWT_SIGNING_KEYS)
    if not keys:
        raise exceptions.APIException("Token signing is not configured.")
    return keys[0]


def verification_keys() -> dict[str, Ed25519PublicKey]:
    return _public_keys(settings.JWT_SIGNING_KEYS)


@lru_cache(maxsize=8)
def _public_keys(spec: str) -> dict[str, Ed25519PublicKey]:
    """Derived once per key configuration, not on every request."""
    return {kid: key.public_key() for kid, key in _parse_keys(spec)}


# --- Issuing --------------------------------------------------------------------------------------


def client_authenticate(*, client_id: str, client_secret: str) -> ApiClient:
    """The active client with these credentials, or InvalidClientCredentials (same error either way)."""
    client = ApiClient.objects.select_related("merchant", "partner").filter(client_id=client_id).first()
    # Check a hash even for an unknown id, so response time does not reveal which ids exist.
    valid = check_password(client_secret, client.secret_hash if client else _dummy_hash())
    if client is None or not valid or not client.is_active:
        raise InvalidClientCredentials()
    return client


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(secrets.token_urlsafe(16))


def token_issue(*, client: ApiClient, requested_scopes: set[str] | None = None, now: datetime | None = None) -> dict:
    """A signed access token for `client`, limited to the scopes it holds (and asked for)."""
    granted = set(client.scopes)
    if requested_scopes:
        if not requested_scopes <= granted:
            raise exceptions.PermissionDenied(
                f"Scopes not granted to this client: {sorted(requested_scopes - granted)}"
            )
        granted = requested_scopes
    now = now or timezone.now()
    lifetime = settings.JWT_LIFETIME_SECONDS
    kid, key = signing_key()
    claims = {
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "sub": client.client_id,
        "scope": " ".join(sorted(granted)),
        "tenant": client.tenant.key,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
        "jti": secrets.token_urlsafe(16),
    }
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
    return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": claims["scope"]}


# --- Verifying ------------------------------------------------------------------------------------


def token_verify(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise exceptions.AuthenticationFailed("Malformed token.") from None
    if header.get("alg") != ALGORITHM:
        raise exceptions.AuthenticationFailed("Token algorithm not accepted.")
    key = verification_keys().get(str(header.get("kid")))
    if key is None:
        raise exceptions.AuthenticationFailed("Token signed with an unknown key.")
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "scope", "tenant"]},
        )
    except jwt.ExpiredSignatureError:
        raise exceptions.AuthenticationFailed("Token expired.") from None
    except jwt.PyJWTError:
        raise exceptions.AuthenticationFailed("Invalid token.") from None


class ApiTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[ApiPrincipal, ApiAuth] | None:
        parts = get_authorization_header(request).split()
        if not parts:
            return None
        if parts[0].lower() != self.keyword or len(parts) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <access token>'.")
        claims = token_verify(parts[1].decode("ascii", errors="replace"))
        client = ApiClient.objects.filter(client_id=claims["sub"]).first()
        if client is None or not client.is_active:
            raise exceptions.AuthenticationFailed("Client disabled.")
        if client.tenant.key != claims["tenant"]:
            raise exceptions.AuthenticationFailed("Token tenant no longer matches the client.")
        auth = ApiAuth(
            client=client, scopes=frozenset(claims["scope"].split()), tenant=client.tenant, token_id=claims["jti"]
        )
        context.set_for_request(actor=auth.actor, tenant=auth.tenant.key)
        return ApiPrincipal(client), auth

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="strongroom"'


class HasRequiredScope(BasePermission):
    """Views declare `required_scopes = {"GET": "ledger:read", "POST": "ledger:write"}` (or "*": scope).

    A view without `required_scopes` is refused for API clients: nothing is open by accident.
    """

    message = "This token lacks the scope this endpoint requires."

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "public", False):
            return True
        auth = request.auth
        if not isinstance(auth, ApiAuth):
            return False
        scopes: dict[str, str] = getattr(view, "required_scopes", {})
        needed = scopes.get(request.method or "", scopes.get("*"))
        if needed is None:
            return False
        self.message = f"This token lacks the scope {needed!r}."
        return needed in auth.scopes


class IsPlatformClient(BasePermission):
    """Only the platform's own clients (the acquirer integration, automation), never a merchant's or partner's."""

    message = "This endpoint is for platform clients only."

    def has_permission(self, request: Request, view: Any) -> bool:
        return tenant_of(request).is_platform


def tenant_of(request: Request) -> Tenant:
    auth = request.auth
    if not isinstance(auth, ApiAuth):
        raise exceptions.NotAuthenticated()
    return auth.tenant


class TenantScopedMixin:
    """For viewsets: the queryset holds only the token tenant's rows (others answer 404, like unknowns)."""

    request: Request

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().for_tenant(tenant_of(self.request))  # type: ignore[misc]
