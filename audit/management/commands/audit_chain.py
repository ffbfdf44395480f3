from django.core.management.base import BaseCommand

from audit.services import audit_chain_pending


class Command(BaseCommand):
    help = "Chain every committed, unchained audit event now (beat does this every second)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"chained {audit_chain_pending()} events")
