from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    """Cross-cutting plumbing: errors, money, request ids, logging, health, checks, access control."""

    name = "common"
    verbose_name = "Strongroom platform"

    def ready(self) -> None:
        from common import checks, receivers  # noqa: F401  (system checks, lockout notifications)
        from common.api import schema  # noqa: F401  (OpenAPI description of the token authentication)
        from common.roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="strongroom_sync_role_permissions")
