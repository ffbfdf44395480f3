from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """Double-entry ledger: accounts, balanced journal entries, transfers, holds."""

    name = "ledger"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        from common.demo import register_demo_step
        from common.sql_migrations import register_append_only
        from ledger import dashboard  # noqa: F401  (admin dashboard tile)
        from ledger.demo import seed_demo_ledger
        from ledger.metrics import LedgerCollector

        register_append_only("ledger", "0003_append_only")
        register_demo_step(seed_demo_ledger)
        if not any(isinstance(c, LedgerCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(LedgerCollector())
