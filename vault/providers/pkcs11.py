"""`pkcs11`: KEKs are non-extractable AES-256 keys inside a PKCS#11 HSM (tested with SoftHSM2).

Data keys are wrapped with CKM_AES_GCM inside the HSM (random 96-bit nonce, the record's context as
AAD). Keys are found by label `<prefix>-v<version>`. One session per process, used under a lock;
a broken session is reopened by the caller's bounded retry. Nothing ever falls back to software keys.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.conf import settings

from vault.providers.base import KeyProvider, ProviderError, ProviderIntegrityFailure, ProviderNotConfigured


class Pkcs11Provider(KeyProvider):
    name = "pkcs11"

    def __init__(self, *, module: str, token_label: str, pin: str, label_prefix: str) -> None:
        self.module, self.token_label, self.pin, self.label_prefix = module, token_label, pin, label_prefix
        self._lock = threading.RLock()
        self._session: Any = None
        self._keys: dict[str, Any] = {}

    @classmethod
    def from_settings(cls) -> Pkcs11Provider:
        return cls(
            module=settings.VAULT_PKCS11_MODULE,
            token_label=settings.VAULT_PKCS11_TOKEN_LABEL,
            pin=settings.VAULT_PKCS11_PIN,
            label_prefix=settings.VAULT_PKCS11_KEY_LABEL_PREFIX,
        )

    def missing_configuration(self) -> str | None:
        if not self.module:
            return "STRONGROOM_VAULT_PKCS11_MODULE (path of the HSM's PKCS#11 library) is not set"
        if not os.path.exists(self.module):
            return f"the PKCS#11 library {self.module} does not exist"
        if not self.pin:
            return "STRONGROOM_VAULT_PKCS11_PIN (or _FILE) is not set"
        return None

    # --- sessions -------------------------------------------------------------------------------

    def _open(self) -> Any:
        import pkcs11

        problem = self.missing_configuration()
        if problem:
            raise ProviderNotConfigured(problem)
        try:
            token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
            return token.open(user_pin=self.pin, rw=True)
        except pkcs11.exceptions.NoSuchToken as error:
            raise ProviderNotConfigured(f"no PKCS#11 token labelled {self.token_label!r}") from error
        except (pkcs11.exceptions.PKCS11Error, RuntimeError) as error:
            raise ProviderError(f"cannot open a PKCS#11 session: {type(error).__name__}") from error

    def _reset(self) -> None:
        session, self._session, self._keys = self._session, None, {}
        if session is not None:
            try:
                session.close()
            except Exception:  # noqa: BLE001, S110 - the session is being thrown away anyway
                pass

    def close(self) -> None:
        with self._lock:
            self._reset()

    def label(self, version: int) -> str:
        return f"{self.label_prefix}-v{version}"

    def _key(self, ref: str) -> Any:
        import pkcs11
        from pkcs11 import KeyType, ObjectClass

        if self._session is None:
            self._session = self._open()
        key = self._keys.get(ref)
        if key is None:
            try:
                key = self._session.get_key(object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=ref)
            except pkcs11.exceptions.NoSuchKey as error:
                raise ProviderNotConfigured(f"no AES key labelled {ref!r} on the HSM token") from error
            except pkcs11.exceptions.MultipleObjectsReturned as error:
                raise ProviderNotConfigured(f"several keys are labelled {ref!r} on the HSM token") from error
            self._keys[ref] = key
        return key

    def _call(self, operation: str, ref: str, function: Any) -> Any:
        import pkcs11

        with self._lock:
            try:
                return function(self._key(ref))
            except ProviderError:
                raise
            except pkcs11.exceptions.PKCS11Error as error:
                if operation == "decrypt" and self._device_healthy():
                    # SoftHSM reports a bad GCM tag as CKR_GENERAL_ERROR: the device works, the data does not.
                    raise ProviderIntegrityFailure(f"{type(error).__name__} on decrypt") from error
                self._reset()
                raise ProviderError(f"HSM {operation} failed: {type(error).__name__}") from error

    def _device_healthy(self) -> bool:
        try:
            self._session.generate_random(64)
        except Exception:  # noqa: BLE001 - any failure means the device is the problem
            return False
        return True

    # --- interface ------------------------------------------------------------------------------

    def create_version(self, version: int) -> str:
        import pkcs11
        from pkcs11 import Attribute, KeyType

        ref = self.label(version)
        with self._lock:
            try:
                self._key(ref)
                return ref  # made by an earlier, interrupted rotation
            except ProviderNotConfigured as missing:
                if "no AES key" not in str(missing):
                    raise
            try:
                key = self._session.generate_key(
                    KeyType.AES,
                    256,
                    label=ref,
                    store=True,
                    template={
                        Attribute.SENSITIVE: True,
                        Attribute.EXTRACTABLE: False,
                        Attribute.ENCRYPT: True,
                        Attribute.DECRYPT: True,
                        Attribute.WRAP: True,
                        Attribute.UNWRAP: True,
                        Attribute.TOKEN: True,
                        Attribute.PRIVATE: True,
                    },
                )
            except pkcs11.exceptions.PKCS11Error as error:
                self._reset()
                raise ProviderError(f"HSM key generation failed: {type(error).__name__}") from error
            self._keys[ref] = key
            return ref

    def wrap(self, *, version: int, ref: str, plaintext: bytes, context: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        nonce = os.urandom(12)
        sealed = self._call(
            "encrypt",
            ref,
            lambda key: key.encrypt(
                plaintext, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, context, 128)
            ),
        )
        return nonce + bytes(sealed)

    def unwrap(self, *, version: int, ref: str, wrapped: bytes, context: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        wrapped = bytes(wrapped)
        nonce, sealed = wrapped[:12], wrapped[12:]
        return bytes(
            self._call(
                "decrypt",
                ref,
                lambda key: key.decrypt(
                    sealed, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, context, 128)
                ),
            )
        )

    def check(self, *, version: int | None, ref: str) -> str:
        with self._lock:
            if self._session is None:
                self._session = self._open()
            if not self._device_healthy():
                self._reset()
                raise ProviderError("the HSM session does not answer")
            if ref:
                self._key(ref)
        return f"PKCS#11 token {self.token_label!r}" + (f", key {ref!r} present" if ref else "")
