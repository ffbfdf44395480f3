from django.apps import AppConfig


class ReservesConfig(AppConfig):
    """Merchant reserves and multi-partner approvals."""

    name = "reserves"
