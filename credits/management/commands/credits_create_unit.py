"""Open a credit unit: an ISO 4217 currency, or a custom unit carried by an unused ISO code."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.context import Actor
from common.errors import DomainError
from credits import services


class Command(BaseCommand):
    help = "Open a credit unit (e.g. POINTS --exponent 0 --carrier KRW) and its ledger accounts."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("code")
        parser.add_argument("--name", default="")
        parser.add_argument("--exponent", type=int, default=None)
        parser.add_argument("--carrier", default="", help="ISO 4217 code carrying a custom unit on the ledger.")
        parser.add_argument("--actor", default="credits_create_unit")

    def handle(self, *args, **options) -> None:
        try:
            unit = services.credit_unit_create(
                code=options["code"], name=options["name"], exponent=options["exponent"],
                ledger_currency_code=options["carrier"], actor=Actor.system(options["actor"]),
                occurred_at=timezone.now(),
            )  # fmt: skip
        except DomainError as error:
            raise CommandError(f"{error.message} ({error.code})") from None
        self.stdout.write(
            f"unit {unit.code} ({unit.kind}, exponent {unit.exponent}, ledger {unit.ledger_currency_code})"
        )
