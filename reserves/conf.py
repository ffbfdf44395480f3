"""Reserves settings with their defaults (config/settings/reserves.py sets them from the environment)."""

from django.conf import settings


def max_open_per_payload() -> int:
    return int(getattr(settings, "RESERVES_APPROVAL_MAX_OPEN_PER_PAYLOAD", 1))


def max_per_requester_hour() -> int:
    return int(getattr(settings, "RESERVES_APPROVAL_MAX_PER_REQUESTER_HOUR", 10))


def platform_partner_reference() -> str:
    return str(getattr(settings, "RESERVES_PLATFORM_PARTNER", ""))
