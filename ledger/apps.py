from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """Double-entry ledger: accounts, balanced journal entries, transfers, holds."""

    name = "ledger"
