from django.apps import AppConfig


class DisputesConfig(AppConfig):
    """Card chargebacks: reason codes, deadlines, evidence, fees, ledger effects."""

    name = "disputes"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        from common.demo import register_demo_step
        from disputes import dashboard  # noqa: F401  (admin dashboard tile)
        from disputes.demo import seed_demo_disputes
        from disputes.metrics import DisputesCollector

        if not any(isinstance(c, DisputesCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(DisputesCollector())
        register_demo_step(seed_demo_disputes)
