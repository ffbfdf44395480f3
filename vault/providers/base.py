"""The provider interface. A provider wraps and unwraps 32-byte data keys under a versioned KEK.

Every wrap binds a `context` (associated data for AES-GCM, the encryption context for KMS), so a
wrapped key only unwraps for the record it was made for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class ProviderError(Exception):
    """Transient or configuration failure talking to the provider (retried, then 503)."""


class ProviderNotConfigured(ProviderError):
    """The provider lacks its settings or key material (not retried)."""


class ProviderIntegrityFailure(Exception):
    """The provider answered, and the wrapped key does not authenticate under that KEK and context."""


class KeyProvider(ABC):
    name: str = ""

    @abstractmethod
    def create_version(self, version: int) -> str:
        """Make KEK `version` exist in the provider; return its reference (label, ARN …)."""

    @abstractmethod
    def wrap(self, *, version: int, ref: str, plaintext: bytes, context: bytes) -> bytes: ...

    @abstractmethod
    def unwrap(self, *, version: int, ref: str, wrapped: bytes, context: bytes) -> bytes: ...

    @abstractmethod
    def check(self, *, version: int | None, ref: str) -> str:
        """Readiness: reach the provider and, if given, find KEK `version`. Returns a short detail."""

    def missing_configuration(self) -> str | None:
        """Why this provider cannot work here (for the deployment check), or None."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions/connections."""
