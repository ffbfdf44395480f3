"""Vault settings (card tokenization, key providers, rotation). Imported by base.py. See docs/vault.md."""

import base64
import secrets

from celery.schedules import crontab

from config.env import VAR_DIR, env

_DEV_MODE = env.bool("STRONGROOM_DEV", default=False)

# local | pkcs11 | aws-kms. No fallback from one to another.
VAULT_KEY_PROVIDER = env("STRONGROOM_VAULT_KEY_PROVIDER", default="local")


def _dev_keyring_path() -> str:
    """Dev only: a keyring file in var/ (git-ignored) with one generated KEK; rotation appends to it."""
    path = VAR_DIR / "vault_keyring"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}\n")
        path.chmod(0o600)
    return str(path)


# local: '<version>:<base64 32 bytes>' entries (comma or newline separated), e.g. from a mounted secret (…_FILE).
VAULT_LOCAL_KEYRING = env("STRONGROOM_VAULT_LOCAL_KEYRING", default="")
# local: a keyring file the vault reads and, on rotation, appends new versions to (dev: var/vault_keyring).
VAULT_LOCAL_KEYRING_PATH = env(
    "STRONGROOM_VAULT_LOCAL_KEYRING_PATH",
    default=_dev_keyring_path() if _DEV_MODE and not VAULT_LOCAL_KEYRING else "",
)

# pkcs11: the HSM's PKCS#11 library, token label, user PIN and the label prefix of KEK objects.
VAULT_PKCS11_MODULE = env("STRONGROOM_VAULT_PKCS11_MODULE", default="")
VAULT_PKCS11_TOKEN_LABEL = env("STRONGROOM_VAULT_PKCS11_TOKEN_LABEL", default="strongroom")
VAULT_PKCS11_PIN = env("STRONGROOM_VAULT_PKCS11_PIN", default="")
VAULT_PKCS11_KEY_LABEL_PREFIX = env("STRONGROOM_VAULT_PKCS11_KEY_LABEL_PREFIX", default="strongroom-vault-kek")

# aws-kms: region, optional existing key for KEK v1 (id/ARN/alias), optional endpoint (VPC endpoint, tests).
VAULT_KMS_REGION = env("STRONGROOM_VAULT_KMS_REGION", default="")
VAULT_KMS_KEY_ID = env("STRONGROOM_VAULT_KMS_KEY_ID", default="")
VAULT_KMS_ENDPOINT_URL = env("STRONGROOM_VAULT_KMS_ENDPOINT_URL", default="")

# Availability: bounded retries of transient provider errors, and a short-lived cache of unwrapped data keys.
VAULT_PROVIDER_RETRIES = env.int("STRONGROOM_VAULT_PROVIDER_RETRIES", default=2)
VAULT_PROVIDER_RETRY_BACKOFF_SECONDS = env.float("STRONGROOM_VAULT_PROVIDER_RETRY_BACKOFF", default=0.05)
VAULT_PROVIDER_TIMEOUT_SECONDS = env.float("STRONGROOM_VAULT_PROVIDER_TIMEOUT", default=2.0)
VAULT_DATA_KEY_CACHE_TTL_SECONDS = env.int("STRONGROOM_VAULT_DATA_KEY_CACHE_TTL", default=300)
VAULT_DATA_KEY_CACHE_SIZE = env.int("STRONGROOM_VAULT_DATA_KEY_CACHE_SIZE", default=10_000)
# How long a process trusts its view of the key inventory (active versions) before re-reading it.
VAULT_KEY_METADATA_TTL_SECONDS = env.int("STRONGROOM_VAULT_KEY_METADATA_TTL", default=10)

# CVV (PCI DSS 3.3): Django cache only, encrypted, deleted on first read; TTL capped at 1 hour.
VAULT_CVV_TTL_SECONDS = min(env.int("STRONGROOM_VAULT_CVV_TTL", default=900), 3600)
VAULT_CVV_CACHE_ALIAS = env("STRONGROOM_VAULT_CVV_CACHE", default="default")

# Same PAN + same tenant ⇒ same token.
VAULT_DEDUPE = env.bool("STRONGROOM_VAULT_DEDUPE", default=True)
VAULT_BATCH_MAX = env.int("STRONGROOM_VAULT_BATCH_MAX", default=1000)
VAULT_REWRAP_BATCH_SIZE = env.int("STRONGROOM_VAULT_REWRAP_BATCH_SIZE", default=500)

# `POST /api/v1/vault/detokenize`: its own per-client GCRA bucket (requests per second, burst), stricter than
# the default API limit, failing closed (503) when the limiter's store is unreachable.
VAULT_DETOKENIZE_RATE = env.float("STRONGROOM_VAULT_DETOKENIZE_RATE", default=5.0)
VAULT_DETOKENIZE_BURST = env.int("STRONGROOM_VAULT_DETOKENIZE_BURST", default=20)

# Cryptoperiods (PCI DSS 3.7.4, NIST SP 800-57): days until a key version should be replaced.
VAULT_CRYPTOPERIOD_DAYS = {
    "kek": env.int("STRONGROOM_VAULT_KEK_CRYPTOPERIOD_DAYS", default=365),
    "fingerprint": env.int("STRONGROOM_VAULT_FINGERPRINT_CRYPTOPERIOD_DAYS", default=730),
    "cvv": env.int("STRONGROOM_VAULT_CVV_KEY_CRYPTOPERIOD_DAYS", default=90),
}
VAULT_CRYPTOPERIOD_WARNING_DAYS = env.int("STRONGROOM_VAULT_CRYPTOPERIOD_WARNING_DAYS", default=30)

VAULT_BEAT_SCHEDULE: dict = {
    "vault-key-cryptoperiod-reminder": {
        "task": "vault.key_cryptoperiod_remind",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 3600},
    },
}
