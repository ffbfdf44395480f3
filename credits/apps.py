from django.apps import AppConfig


class CreditsConfig(AppConfig):
    """Prepaid credit wallets on top of the ledger."""

    name = "credits"

    def ready(self) -> None:
        from common.demo import register_demo_step
        from credits.demo import seed_demo_credits

        register_demo_step(seed_demo_credits)
