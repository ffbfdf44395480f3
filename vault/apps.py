from django.apps import AppConfig


class VaultConfig(AppConfig):
    """Card tokenization with envelope encryption and key rotation."""

    name = "vault"

    def ready(self) -> None:
        from common import health
        from vault import checks, dashboard  # noqa: F401  (system checks, dashboard tile)
        from vault.health import check_vault_keys

        health.READINESS_CHECKS["vault_keys"] = check_vault_keys
