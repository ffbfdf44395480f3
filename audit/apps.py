from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Append-only, hash-chained, verifiable audit trail of every security- or money-relevant act."""

    name = "audit"
