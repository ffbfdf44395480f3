"""Key providers: where the KEKs live. One interface, chosen by STRONGROOM_VAULT_KEY_PROVIDER."""

from __future__ import annotations

import threading

from django.conf import settings

from vault.providers.base import KeyProvider, ProviderError, ProviderIntegrityFailure, ProviderNotConfigured

__all__ = ["KeyProvider", "ProviderError", "ProviderIntegrityFailure", "ProviderNotConfigured", "get_provider"]

PROVIDERS = ("local", "pkcs11", "aws-kms")

_lock = threading.Lock()
_instance: KeyProvider | None = None


def build_provider(name: str) -> KeyProvider:
    if name == "local":
        from vault.providers.local import LocalKeyringProvider

        return LocalKeyringProvider.from_settings()
    if name == "pkcs11":
        from vault.providers.pkcs11 import Pkcs11Provider

        return Pkcs11Provider.from_settings()
    if name == "aws-kms":
        from vault.providers.aws_kms import AwsKmsProvider

        return AwsKmsProvider.from_settings()
    raise ProviderNotConfigured(f"Unknown STRONGROOM_VAULT_KEY_PROVIDER {name!r}; use one of {', '.join(PROVIDERS)}.")


def get_provider() -> KeyProvider:
    """The configured provider (one per process). Never substitutes another one on failure."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = build_provider(settings.VAULT_KEY_PROVIDER)
        return _instance


def reset_provider() -> None:
    global _instance
    with _lock:
        if _instance is not None:
            _instance.close()
        _instance = None
