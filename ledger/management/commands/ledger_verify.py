"""`manage.py ledger_verify`: recompute every balance from lines; exit 1 on any drift."""

import sys

from django.core.management.base import BaseCommand

from audit.context import Actor
from ledger.services import ledger_verify


class Command(BaseCommand):
    help = "Recompute every account balance from its lines, check every entry balances; non-zero exit on drift."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--no-record", action="store_true", help="Do not store the result (nor audit it).")
        parser.add_argument("--actor", default="ledger_verify", help="Label of the acting operator for the audit row.")

    def handle(self, *args, no_record: bool, actor: str, **options) -> None:
        result = ledger_verify(record=not no_record, actor=Actor.system(actor))
        self.stdout.write(
            f"accounts {result.accounts_checked}, entries {result.entries_checked}, lines {result.lines_checked}"
        )
        self.stdout.write(f"drift: {result.drift_minor_units} minor units on {len(result.drifted)} account(s)")
        for row in result.drifted[:50]:
            self.stdout.write(f"  account {row['account']}: stored minus lines {row.get('stored_minus_lines', '…')}")
        self.stdout.write(f"unbalanced entries: {len(result.unbalanced)}")
        for row in result.unbalanced[:50]:
            self.stdout.write(f"  {row}")
        if result.currency_mismatches:
            self.stdout.write(f"lines whose currency is not their account's: {result.currency_mismatches}")
        for currency, net in sorted(result.trial_balance.items()):
            self.stdout.write(f"trial balance {currency}: debits - credits = {net}")
        if result.is_ok:
            self.stdout.write(self.style.SUCCESS("ledger ok: zero drift"))
            return
        self.stderr.write(self.style.ERROR("LEDGER DRIFT DETECTED"))
        sys.exit(1)
