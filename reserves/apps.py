from django.apps import AppConfig


class ReservesConfig(AppConfig):
    """Merchant reserves and multi-partner approvals."""

    name = "reserves"

    def ready(self) -> None:
        from common.demo import register_demo_step
        from reserves import metrics  # noqa: F401  (registers the Prometheus metrics)
        from reserves.demo import seed_demo_reserves

        register_demo_step(seed_demo_reserves)
