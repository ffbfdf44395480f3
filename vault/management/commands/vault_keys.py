"""Print the key inventory: versions, states, cryptoperiods and live cards per version."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from vault import selectors


class Command(BaseCommand):
    help = "List the vault key inventory (PCI DSS 3.6.1.1 / 3.7.4)."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        per_kek = selectors.live_cards_per_kek_version()
        per_fp = selectors.live_cards_per_fingerprint_version()
        for row in selectors.key_inventory():
            cards = per_kek.get(row.version, 0) if row.purpose == "kek" else per_fp.get(row.version, 0)
            overdue = " PAST CRYPTOPERIOD" if row.is_past_cryptoperiod(now) else ""
            self.stdout.write(
                f"{row.purpose:<12} v{row.version:<3} {row.state:<13} {row.provider:<8} "
                f"created {row.created_at:%Y-%m-%d} cryptoperiod ends {row.cryptoperiod_ends_at:%Y-%m-%d}{overdue}"
                + (f", {cards} live card(s)" if row.purpose != "cvv" else "")
            )
