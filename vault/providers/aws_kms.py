"""`aws-kms`: KEKs are AWS KMS symmetric keys; each KEK version is its own KMS key (ARN in the inventory).

Data keys are wrapped with kms:Encrypt under an encryption context naming the record, so KMS refuses
to unwrap a key for any other record (and CloudTrail shows which record each decrypt was for).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from vault.providers.base import KeyProvider, ProviderError, ProviderIntegrityFailure, ProviderNotConfigured

_INTEGRITY_CODES = {"InvalidCiphertextException", "IncorrectKeyException"}
_CONFIG_CODES = {"AccessDeniedException", "NotFoundException", "DisabledException", "KMSInvalidStateException"}


class AwsKmsProvider(KeyProvider):
    name = "aws-kms"

    def __init__(self, *, region: str, initial_key_id: str = "", endpoint_url: str = "", timeout: float = 2.0) -> None:
        self.region, self.initial_key_id, self.endpoint_url, self.timeout = (
            region,
            initial_key_id,
            endpoint_url,
            timeout,
        )
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> AwsKmsProvider:
        return cls(
            region=settings.VAULT_KMS_REGION,
            initial_key_id=settings.VAULT_KMS_KEY_ID,
            endpoint_url=settings.VAULT_KMS_ENDPOINT_URL,
            timeout=settings.VAULT_PROVIDER_TIMEOUT_SECONDS,
        )

    def missing_configuration(self) -> str | None:
        if not self.region:
            return "STRONGROOM_VAULT_KMS_REGION is not set"
        return None

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                problem = self.missing_configuration()
                if problem:
                    raise ProviderNotConfigured(problem)
                import boto3
                from botocore.config import Config

                config = Config(
                    connect_timeout=self.timeout,
                    read_timeout=self.timeout,
                    retries={"max_attempts": 1, "mode": "standard"},  # retries are ours, bounded, in vault.keys
                )
                self._client = boto3.client(
                    "kms", region_name=self.region, endpoint_url=self.endpoint_url or None, config=config
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            self._client = None

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client(), method)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _INTEGRITY_CODES:
                raise ProviderIntegrityFailure(code) from error
            if code in _CONFIG_CODES:
                raise ProviderNotConfigured(f"KMS {method}: {code}") from error
            raise ProviderError(f"KMS {method}: {code or 'error'}") from error
        except BotoCoreError as error:
            raise ProviderError(f"KMS {method}: {type(error).__name__}") from error

    @staticmethod
    def _context(context: bytes) -> dict[str, str]:
        return {"strongroom:vault": context.decode("ascii")}

    def create_version(self, version: int) -> str:
        if version == 1 and self.initial_key_id:
            return self._call("describe_key", KeyId=self.initial_key_id)["KeyMetadata"]["Arn"]
        metadata = self._call(
            "create_key",
            Description=f"Strongroom vault KEK v{version}",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=[
                {"TagKey": "strongroom:purpose", "TagValue": "vault-kek"},
                {"TagKey": "strongroom:version", "TagValue": str(version)},
            ],
        )["KeyMetadata"]
        return metadata["Arn"]

    def wrap(self, *, version: int, ref: str, plaintext: bytes, context: bytes) -> bytes:
        return self._call("encrypt", KeyId=ref, Plaintext=plaintext, EncryptionContext=self._context(context))[
            "CiphertextBlob"
        ]

    def unwrap(self, *, version: int, ref: str, wrapped: bytes, context: bytes) -> bytes:
        return self._call(
            "decrypt", KeyId=ref, CiphertextBlob=bytes(wrapped), EncryptionContext=self._context(context)
        )["Plaintext"]

    def check(self, *, version: int | None, ref: str) -> str:
        if not ref:
            self._call("list_keys", Limit=1)
            return f"KMS reachable in {self.region}"
        state = self._call("describe_key", KeyId=ref)["KeyMetadata"]["KeyState"]
        if state != "Enabled":
            raise ProviderNotConfigured(f"KMS key of KEK v{version} is {state}")
        return f"KMS {self.region}, KEK v{version} enabled"
