"""Demo disputes for `make run`: three chargebacks against the demo merchant's captures, due soon, in
a few days and in two weeks, so the queue shows its urgency colours on a first run."""

from datetime import timedelta

from django.utils import timezone

from audit.context import Actor
from disputes import deadlines, selectors, services
from disputes.choices import Stage
from disputes.models import Dispute
from ledger.models import JournalEntry
from tenants.models import Merchant

# (capture number from ledger/demo.py, reason code, disputed cents, due in)
DEMO_DISPUTES = [
    (1, "13.1", 12500, timedelta(hours=20)),
    (2, "10.4", 4999, timedelta(days=2, hours=6)),
    (3, "13.3", 50000, timedelta(days=14)),
]


def seed_demo_disputes() -> list[str]:
    merchant = Merchant.objects.filter(reference="demo-merchant").first()
    if merchant is None:
        return []
    actor, now = Actor.system("seed_demo"), timezone.now()
    for number, code, amount, due_in in DEMO_DISPUTES:
        network_id = f"DEMO-VISA-{number}"
        original = JournalEntry.objects.filter(idempotency_source="demo", idempotency_key=f"demo-capture-{number}")
        if Dispute.objects.filter(network="visa", network_dispute_id=network_id).exists() or not original.exists():
            continue
        reason = selectors.reason_code_in_force(network="visa", code=code, on=now.date())
        # Opened so that the working deadline (due_by) is `due_in` from now.
        lead = deadlines.due_dates(network="visa", stage=Stage.CHARGEBACK, response_days=reason.response_days,
                                   start=now).due_by - now  # fmt: skip
        services.dispute_open(
            network="visa", network_dispute_id=network_id, merchant=merchant, original_entry=original.get(),
            amount=amount, currency_code="USD", reason_code=reason, actor=actor, occurred_at=now - lead + due_in,
        )  # fmt: skip
    present = Dispute.objects.filter(network_dispute_id__startswith="DEMO-VISA-").count()
    return [f"Disputes: {present} demo chargebacks in the queue at /admin/disputes/dispute/"]
