"""The key hierarchy at run time: versioned KEKs in the provider, sub-keys wrapped by them, data keys per record.

- `wrap_data_key` / `unwrap_data_key`: a record's data key under the active (or its recorded) KEK version,
  with bounded retries of transient provider errors and a bounded, short-TTL cache of unwrapped keys.
- `active_subkey` / `subkey`: fingerprint and CVV keys, generated here, stored only wrapped by a KEK.
- The key inventory (`KeyVersion`) is read through a cache trusted for VAULT_KEY_METADATA_TTL_SECONDS.

Internal to the vault: services call these; nothing outside the vault should.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.utils import timezone

from vault.choices import KeyPurpose, KeyState
from vault.crypto.aead import new_data_key
from vault.crypto.cache import TTLCache
from vault.errors import CardUndecryptable, VaultUnavailable
from vault.models import KeyVersion
from vault.providers import (
    ProviderError,
    ProviderIntegrityFailure,
    ProviderNotConfigured,
    get_provider,
    reset_provider,
)

T = TypeVar("T")

_lock = threading.Lock()
_data_keys: TTLCache | None = None
_metadata: dict[tuple[str, int | None], tuple[float, KeyVersion | None]] = {}


def _dek_cache() -> TTLCache:
    global _data_keys
    with _lock:
        if _data_keys is None:
            _data_keys = TTLCache(
                maxsize=settings.VAULT_DATA_KEY_CACHE_SIZE, ttl=settings.VAULT_DATA_KEY_CACHE_TTL_SECONDS
            )
        return _data_keys


def reset_caches(*, provider: bool = True) -> None:
    """Forget cached key metadata and unwrapped keys (and, by default, the provider session)."""
    global _data_keys
    with _lock:
        _data_keys = None
        _metadata.clear()
    if provider:
        reset_provider()


def forget_metadata() -> None:
    with _lock:
        _metadata.clear()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("VAULT_"):
        reset_caches()


setting_changed.connect(_on_setting_changed, dispatch_uid="vault.keys.reset_on_setting_changed")


# --- provider calls -----------------------------------------------------------------------------------


def with_retries(call: Callable[[], T], *, what: str) -> T:
    """Run a provider call; retry transient errors a bounded number of times; then VaultUnavailable (503)."""
    attempts = 1 + max(0, settings.VAULT_PROVIDER_RETRIES)
    for attempt in range(attempts):
        try:
            return call()
        except ProviderNotConfigured as error:
            raise VaultUnavailable(f"The vault key provider cannot {what}: {error}") from error
        except ProviderError as error:
            if attempt == attempts - 1:
                raise VaultUnavailable(f"The vault key provider failed to {what}: {error}") from error
            time.sleep(settings.VAULT_PROVIDER_RETRY_BACKOFF_SECONDS * (2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


# --- the inventory -------------------------------------------------------------------------------------


def _cached(purpose: str, version: int | None, load: Callable[[], KeyVersion | None]) -> KeyVersion | None:
    key = (purpose, version)
    now = time.monotonic()
    with _lock:
        hit = _metadata.get(key)
    if hit is not None and hit[0] > now and hit[1] is not None:
        return hit[1]
    row = load()
    with _lock:
        _metadata[key] = (now + settings.VAULT_KEY_METADATA_TTL_SECONDS, row)
    return row


def cryptoperiod_days(purpose: str) -> int:
    return int(settings.VAULT_CRYPTOPERIOD_DAYS.get(purpose, 365))


def active_version(purpose: str) -> KeyVersion:
    """The active version of a key, creating version 1 on first use where that is safe."""
    row = _cached(purpose, None, lambda: KeyVersion.objects.filter(purpose=purpose, state=KeyState.ACTIVE).first())
    if row is not None:
        return row
    return _bootstrap(purpose)


def version(purpose: str, number: int) -> KeyVersion:
    row = _cached(purpose, number, lambda: KeyVersion.objects.filter(purpose=purpose, version=number).first())
    if row is None:
        raise CardUndecryptable(f"Key version {number} ({purpose}) is not in the key inventory.")
    return row


def live_versions(purpose: str) -> list[int]:
    """Versions that may still decrypt (not retired), newest first."""
    return list(
        KeyVersion.objects.filter(purpose=purpose)
        .exclude(state=KeyState.RETIRED)
        .order_by("-version")
        .values_list("version", flat=True)
    )


def _bootstrap(purpose: str) -> KeyVersion:
    if purpose == KeyPurpose.KEK:
        provider = get_provider()
        if provider.name != "local":
            # An HSM or KMS key is created deliberately (and once), never as a side effect of a request.
            raise VaultUnavailable(
                "No KEK exists yet: run `manage.py vault_rotate_kek` once to create version 1 in the "
                f"{provider.name} provider."
            )
        versions = getattr(provider, "versions", [])
        if not versions:
            raise VaultUnavailable("The local vault keyring is empty (STRONGROOM_VAULT_LOCAL_KEYRING).")
        number = max(versions)
    else:
        number = 1
    try:
        with transaction.atomic():
            row = create_version(purpose, number)
    except (IntegrityError, ValidationError):  # another process bootstrapped concurrently
        forget_metadata()
        row = KeyVersion.objects.get(purpose=purpose, state=KeyState.ACTIVE)
    with _lock:
        _metadata[(purpose, None)] = (time.monotonic() + settings.VAULT_KEY_METADATA_TTL_SECONDS, row)
    return row


def create_version(purpose: str, number: int) -> KeyVersion:
    """Insert version `number` as the active one (the caller demotes the previous one first).

    KEKs are created in the provider; sub-keys are generated here and stored wrapped by the active KEK.
    """
    provider = get_provider()
    now = timezone.now()
    row = KeyVersion(
        purpose=purpose,
        version=number,
        state=KeyState.ACTIVE,
        provider=provider.name,
        cryptoperiod_days=cryptoperiod_days(purpose),
        created_at=now,
    )
    if purpose == KeyPurpose.KEK:
        row.provider_ref = with_retries(lambda: provider.create_version(number), what="create a KEK version")
    else:
        material = new_data_key()
        kek_version, wrapped = wrap_data_key(material, subkey_context(purpose, number))
        row.wrapped_material, row.wrapped_under_version = wrapped, kek_version
    row.full_clean()
    row.save(force_insert=True)
    if purpose != KeyPurpose.KEK:
        _dek_cache().set(("subkey", purpose, number), material)
    return row


# --- data keys -----------------------------------------------------------------------------------------


def wrap_data_key(data_key: bytes, context: bytes) -> tuple[int, bytes]:
    """(KEK version, wrapped key) under the active KEK."""
    kek = active_version(KeyPurpose.KEK)
    provider = get_provider()
    wrapped = with_retries(
        lambda: provider.wrap(version=kek.version, ref=kek.provider_ref, plaintext=data_key, context=context),
        what="wrap a data key",
    )
    _dek_cache().set(("dek", kek.version, bytes(wrapped), context), data_key)
    return kek.version, bytes(wrapped)


def unwrap_data_key(kek_version: int, wrapped: bytes, context: bytes) -> bytes:
    wrapped = bytes(wrapped)
    cache_key = ("dek", kek_version, wrapped, context)
    cached = _dek_cache().get(cache_key)
    if cached is not None:
        return cached
    kek = version(KeyPurpose.KEK, kek_version)
    if kek.state == KeyState.RETIRED:
        raise CardUndecryptable(f"KEK version {kek_version} is retired and no longer decrypts.")
    provider = get_provider()
    try:
        data_key = with_retries(
            lambda: provider.unwrap(version=kek.version, ref=kek.provider_ref, wrapped=wrapped, context=context),
            what="unwrap a data key",
        )
    except ProviderIntegrityFailure as error:
        raise CardUndecryptable() from error
    _dek_cache().set(cache_key, data_key)
    return data_key


# --- sub-keys (fingerprint, CVV) -------------------------------------------------------------------------


def subkey_context(purpose: str, number: int) -> bytes:
    return f"strongroom.vault/subkey|{purpose}|v{number}".encode()


def subkey(purpose: str, number: int) -> bytes:
    cached = _dek_cache().get(("subkey", purpose, number))
    if cached is not None:
        return cached
    row = version(purpose, number)
    if row.state == KeyState.RETIRED:
        raise CardUndecryptable(f"The {purpose} key version {number} is retired.")
    material = unwrap_data_key(row.wrapped_under_version, row.wrapped_material, subkey_context(purpose, number))
    _dek_cache().set(("subkey", purpose, number), material)
    return material


def active_subkey(purpose: str) -> tuple[int, bytes]:
    row = active_version(purpose)
    return row.version, subkey(purpose, row.version)
