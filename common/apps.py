from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Cross-cutting plumbing: errors, money, request ids, logging, health, checks."""

    name = "common"
    verbose_name = "Strongroom platform"

    def ready(self) -> None:
        from common import checks  # noqa: F401  (registers the system checks)
