"""Readiness of the vault's key provider (registered as READINESS_CHECKS['vault_keys'])."""

from django.db import connections

from common.health import CheckSkipped
from vault.choices import KeyPurpose, KeyState
from vault.models import KeyVersion
from vault.providers import get_provider


def check_vault_keys() -> str:
    """Reach the provider and find the active KEK in it. Fails (never falls back) when the HSM/KMS is down."""
    try:
        active = KeyVersion.objects.filter(purpose=KeyPurpose.KEK, state=KeyState.ACTIVE).first()
        provider = get_provider()
        detail = provider.check(version=active.version if active else None, ref=active.provider_ref if active else "")
    finally:
        connections["default"].close()  # health checks run in throw-away threads
    if active is None and provider.name != "local":
        raise CheckSkipped(f"{detail}; no KEK yet (run manage.py vault_rotate_kek)")
    return detail if active is None else f"{detail}; active KEK v{active.version}"
