from django.apps import AppConfig


class CreditsConfig(AppConfig):
    """Prepaid credit wallets on top of the ledger."""

    name = "credits"
