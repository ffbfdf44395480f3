"""AES-256-GCM with a random 96-bit nonce per message, and the vault's keyed fingerprint."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
_BASE62 = string.digits + string.ascii_letters
TOKEN_RANDOM_CHARS = 24  # 24 × log2(62) ≈ 143 bits from `secrets`


class IntegrityFailure(Exception):
    """The GCM tag did not verify: wrong key, wrong associated data, or tampered bytes."""


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def new_token() -> str:
    """'tok_' + 24 random base62 characters. Random, never derived from the PAN."""
    return "tok_" + "".join(secrets.choice(_BASE62) for _ in range(TOKEN_RANDOM_CHARS))


def seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext-with-tag)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(bytes(nonce), bytes(ciphertext), aad)
    except (InvalidTag, ValueError) as error:
        raise IntegrityFailure("authentication failed") from error


def fingerprint(key: bytes, *, tenant_key: str, pan: str) -> str:
    """HMAC-SHA256 of the PAN, bound to the tenant: the same PAN in two tenants does not correlate."""
    message = b"strongroom.vault/fingerprint|" + tenant_key.encode() + b"|" + pan.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
