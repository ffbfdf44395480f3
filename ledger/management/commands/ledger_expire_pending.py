"""`manage.py ledger_expire_pending`: void holds past their timeout now (the beat task does it every 30 s)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.context import Actor
from ledger.services import transfers_expire


class Command(BaseCommand):
    help = "Void pending transfers whose timeout has passed."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--actor", default="ledger_expire_pending", help="Label of the operator for the audit rows."
        )

    def handle(self, *args, actor: str, **options) -> None:
        voided = transfers_expire(now=timezone.now(), actor=Actor.system(actor))
        self.stdout.write(f"voided {voided} expired pending transfer(s)")
