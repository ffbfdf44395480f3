from django.apps import AppConfig


class DisputesConfig(AppConfig):
    """Card chargebacks: reason codes, deadlines, evidence, fees, ledger effects."""

    name = "disputes"
