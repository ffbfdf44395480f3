from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Merchants and partners: the parties whose data every other app scopes by."""

    name = "tenants"
