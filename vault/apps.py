from django.apps import AppConfig


class VaultConfig(AppConfig):
    """Card tokenization with envelope encryption and key rotation."""

    name = "vault"
