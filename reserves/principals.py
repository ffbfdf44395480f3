"""Who acts on an approval: a staff user or an API client, and the partner they act for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit.context import Actor
from common.models import ApiClient
from reserves import conf
from reserves.models import PartnerMember
from tenants.models import Partner, PartnerKind


@dataclass(frozen=True)
class Principal:
    """A person (staff user) or a system (API client); `partner_id` is who they act for (None: nobody).

    `is_platform` marks platform staff and platform API clients, who may create requests."""

    user_id: int | None
    client_pk: int | None
    partner_id: int | None
    label: str
    is_platform: bool

    @property
    def key(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"client:{self.client_pk}"

    @property
    def actor(self) -> Actor:
        from audit.choices import ActorKind

        if self.user_id is not None:
            return Actor(kind=ActorKind.STAFF, id=str(self.user_id), label=self.label)
        return Actor(kind=ActorKind.API_CLIENT, id=self.label, label=self.label)


def platform_partner_id() -> int | None:
    """The partner the platform acts as: RESERVES_PLATFORM_PARTNER, else the one active platform-kind partner."""
    reference = conf.platform_partner_reference()
    partners = Partner.objects.filter(is_active=True)
    if reference:
        return partners.filter(reference=reference).values_list("pk", flat=True).first()
    ids = list(partners.filter(kind=PartnerKind.PLATFORM).values_list("pk", flat=True)[:2])
    return ids[0] if len(ids) == 1 else None


def principal_for_user(user: Any) -> Principal:
    """A staff user acts for their partner membership; staff without one are platform staff."""
    member = PartnerMember.objects.filter(user_id=user.pk).select_related("partner").first()
    if member is not None:
        is_platform = member.partner.kind == PartnerKind.PLATFORM
        return Principal(user.pk, None, member.partner_id, user.get_username(), is_platform)
    return Principal(user.pk, None, platform_partner_id(), user.get_username(), True)


def principal_for_client(client: ApiClient) -> Principal:
    if client.is_platform:
        return Principal(None, client.pk, platform_partner_id(), client.client_id, True)
    if client.partner_id is not None:
        return Principal(None, client.pk, client.partner_id, client.client_id, False)
    return Principal(None, client.pk, None, client.client_id, False)
