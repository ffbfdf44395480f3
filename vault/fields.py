"""Field encryption for other apps' personal data (customer e-mail, phone, address …).

    from vault.fields import EncryptedTextField

    class Customer(models.Model):
        email = EncryptedTextField()

Each value is stored as a versioned envelope `srv1.<kek version>.<wrapped data key>.<nonce>.<ciphertext>`
(base64url parts): a fresh data key per value, AES-256-GCM with associated data naming the model field
and KEK version, the data key wrapped by the same provider and KEK versions as cards. `vault_rewrap`
re-encrypts values under older KEKs; retiring a KEK is refused while a value still needs it.

Encrypted columns cannot be searched or ordered by their plaintext. `field_encrypt` / `field_decrypt`
do the same for code that stores envelopes itself.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.apps import apps
from django.db import models

from vault import keys
from vault.crypto.aead import IntegrityFailure, new_data_key, open_sealed, seal
from vault.errors import CardUndecryptable

ENVELOPE_PREFIX = "srv1."


class DataUndecryptable(CardUndecryptable):
    code = "data_undecryptable"
    default_message = "Stored encrypted data failed its integrity check."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aad(context: str, kek_version: int) -> bytes:
    return f"strongroom.vault/field|{context}|kek:{kek_version}".encode()


def _dek_context(context: str) -> bytes:
    return f"strongroom.vault/field-dek|{context}".encode()


def field_encrypt(*, plaintext: str, context: str) -> str:
    """Encrypt `plaintext` for `context` (e.g. 'customers.customer.email') into a text envelope."""
    data_key = new_data_key()
    kek_version, wrapped = keys.wrap_data_key(data_key, _dek_context(context))
    nonce, sealed = seal(data_key, plaintext.encode(), _aad(context, kek_version))
    return f"{ENVELOPE_PREFIX}{kek_version}.{_b64(wrapped)}.{_b64(nonce)}.{_b64(sealed)}"


def envelope_version(envelope: str) -> int:
    try:
        prefix, version, _ = envelope.split(".", 2)
        if prefix + "." != ENVELOPE_PREFIX:
            raise ValueError(prefix)
        return int(version)
    except ValueError as error:
        raise DataUndecryptable("The stored value is not a vault envelope.") from error


def field_decrypt(*, envelope: str, context: str) -> str:
    """The plaintext of an envelope made by `field_encrypt` for the same context."""
    kek_version = envelope_version(envelope)
    try:
        _, _, wrapped, nonce, sealed = envelope.split(".")
        wrapped_key, nonce_bytes, sealed_bytes = _unb64(wrapped), _unb64(nonce), _unb64(sealed)
    except (ValueError, binascii.Error) as error:
        raise DataUndecryptable("The stored value is not a vault envelope.") from error
    try:
        data_key = keys.unwrap_data_key(kek_version, wrapped_key, _dek_context(context))
        return open_sealed(data_key, nonce_bytes, sealed_bytes, _aad(context, kek_version)).decode()
    except (IntegrityFailure, CardUndecryptable) as error:
        raise DataUndecryptable() from error


class EncryptedTextField(models.TextField):
    """A TextField whose value is stored encrypted (see module docstring). Not searchable."""

    description = "Text encrypted by the vault (envelope encryption)"

    def __init__(self, *args: Any, context: str = "", **kwargs: Any) -> None:
        self.context = context
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls: type[models.Model], name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not self.context:
            self.context = f"{cls._meta.label_lower}.{name}"

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.context and self.model is not None and self.context != f"{self.model._meta.label_lower}.{self.name}":
            kwargs["context"] = self.context
        return name, path, args, kwargs

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return field_encrypt(plaintext=str(value), context=self.context)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return field_decrypt(envelope=value, context=self.context)


def encrypted_fields(models_: list[type[models.Model]] | None = None) -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every EncryptedTextField in the project (or in `models_`)."""
    found = []
    for model in models_ if models_ is not None else apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field.name))
    return found
