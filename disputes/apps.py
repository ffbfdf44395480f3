from django.apps import AppConfig


class DisputesConfig(AppConfig):
    """Card chargebacks: reason codes, deadlines, evidence, fees, ledger effects."""

    name = "disputes"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        from disputes import dashboard  # noqa: F401  (admin dashboard tile)
        from disputes.metrics import DisputesCollector

        if not any(isinstance(c, DisputesCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(DisputesCollector())
