from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Append-only, hash-chained, verifiable audit trail of every security- or money-relevant act."""

    name = "audit"

    def ready(self) -> None:
        from prometheus_client import REGISTRY

        from audit import checks, dashboard, receivers  # noqa: F401  (system check, auth signals, dashboard tile)
        from audit.admin_mixins import AuditedAdminMixin
        from audit.metrics import AuditCollector
        from common import admin_site
        from common.sql_migrations import register_append_only

        register_append_only("audit", "0002_immutability")
        if AuditedAdminMixin not in admin_site.MODEL_ADMIN_MIXINS:
            admin_site.MODEL_ADMIN_MIXINS.append(AuditedAdminMixin)
        if not any(isinstance(c, AuditCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(AuditCollector())
