"""`local`: a versioned keyring of 256-bit KEKs from a secret (env var, *_FILE) and/or a keyring file.

Format: entries `<version>:<base64 of 32 bytes>` separated by commas or new lines. Rotation either
activates a version already provisioned in the keyring, or appends a new one to the keyring file
(STRONGROOM_VAULT_LOCAL_KEYRING_PATH) when that file is writable. Software keys: for development and
small installations; production card data belongs in an HSM (pkcs11) or KMS.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from pathlib import Path

from django.conf import settings

from vault.crypto.aead import KEY_BYTES, IntegrityFailure, new_data_key, open_sealed, seal
from vault.providers.base import KeyProvider, ProviderError, ProviderIntegrityFailure, ProviderNotConfigured


def parse_keyring(text: str) -> dict[int, bytes]:
    keys: dict[int, bytes] = {}
    for raw in text.replace(",", "\n").splitlines():
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        version_text, _, encoded = entry.partition(":")
        try:
            version = int(version_text)
            key = base64.b64decode(encoded.strip(), validate=True)
        except (ValueError, binascii.Error) as error:
            raise ProviderNotConfigured(
                "The vault keyring has a malformed entry (expected '<version>:<base64>')."
            ) from error
        if version < 1 or len(key) != KEY_BYTES:
            raise ProviderNotConfigured(f"Keyring version {version} must be >= 1 and hold exactly {KEY_BYTES} bytes.")
        keys[version] = key
    return keys


def format_entry(version: int, key: bytes) -> str:
    return f"{version}:{base64.b64encode(key).decode()}"


class LocalKeyringProvider(KeyProvider):
    name = "local"

    def __init__(self, *, keyring: str = "", path: str = "") -> None:
        self._inline = keyring
        self._path = Path(path) if path else None
        self._lock = threading.Lock()
        self._keys: dict[int, bytes] = {}
        self._mtime: float | None = None
        self._load()

    @classmethod
    def from_settings(cls) -> LocalKeyringProvider:
        return cls(keyring=settings.VAULT_LOCAL_KEYRING, path=str(settings.VAULT_LOCAL_KEYRING_PATH or ""))

    def _load(self) -> None:
        keys = parse_keyring(self._inline)
        if self._path is not None and self._path.exists():
            self._mtime = self._path.stat().st_mtime
            for version, key in parse_keyring(self._path.read_text()).items():
                if version in keys and keys[version] != key:
                    raise ProviderNotConfigured(f"Keyring version {version} differs between the variable and file.")
                keys[version] = key
        self._keys = keys

    def _key(self, version: int) -> bytes:
        with self._lock:
            key = self._keys.get(version)
            if key is None and self._path is not None and self._path.exists():
                if self._path.stat().st_mtime != self._mtime:  # another process rotated: re-read
                    self._load()
                    key = self._keys.get(version)
            if key is None:
                raise ProviderNotConfigured(f"KEK version {version} is not in the local keyring.")
            return key

    @property
    def versions(self) -> list[int]:
        with self._lock:
            return sorted(self._keys)

    def create_version(self, version: int) -> str:
        with self._lock:
            self._load()
            if version in self._keys:
                return f"keyring:v{version}"
            if self._path is None or not (
                os.access(self._path, os.W_OK) if self._path.exists() else os.access(self._path.parent, os.W_OK)
            ):
                raise ProviderNotConfigured(
                    f"KEK version {version} is not in the keyring and no writable keyring file is configured: add "
                    f"'{version}:<base64 of 32 random bytes>' to STRONGROOM_VAULT_LOCAL_KEYRING and rotate again."
                )
            existing = self._path.read_text() if self._path.exists() else ""
            separator = "" if not existing or existing.endswith("\n") else "\n"
            temporary = self._path.with_name(self._path.name + ".tmp")
            temporary.write_text(existing + separator + format_entry(version, new_data_key()) + "\n")
            temporary.chmod(0o600)
            temporary.replace(self._path)  # atomic: readers see the old or the new keyring
            self._load()
            return f"keyring:v{version}"

    def wrap(self, *, version: int, ref: str, plaintext: bytes, context: bytes) -> bytes:
        nonce, sealed = seal(self._key(version), plaintext, context)
        return nonce + sealed

    def unwrap(self, *, version: int, ref: str, wrapped: bytes, context: bytes) -> bytes:
        wrapped = bytes(wrapped)
        try:
            return open_sealed(self._key(version), wrapped[:12], wrapped[12:], context)
        except IntegrityFailure as error:
            raise ProviderIntegrityFailure(str(error)) from error

    def check(self, *, version: int | None, ref: str) -> str:
        if not self.versions:
            raise ProviderNotConfigured("the local keyring is empty")
        if version is not None:
            self._key(version)
        return f"local keyring, versions {', '.join(map(str, self.versions))}"

    def missing_configuration(self) -> str | None:
        try:
            self._load()
        except ProviderError as error:
            return str(error)
        if not self._keys:
            return "no KEK material: STRONGROOM_VAULT_LOCAL_KEYRING(_FILE) and …_KEYRING_PATH are both empty"
        return None
