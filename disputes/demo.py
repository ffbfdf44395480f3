"""Demo disputes for `make run`: three chargebacks against demo card captures (posted for them, a week
before each dispute), due soon, in a few days and in two weeks, so the queue shows its urgency colours."""

from datetime import timedelta

from django.utils import timezone

from audit.context import Actor
from disputes import deadlines, selectors, services
from disputes.choices import Stage
from disputes.models import Dispute
from ledger.services import template_post
from tenants.models import Merchant

# (number, reason code, captured cents, disputed cents, due in)
DEMO_DISPUTES = [
    (1, "13.1", 12500, 12500, timedelta(hours=20)),
    (2, "10.4", 4999, 4999, timedelta(days=2, hours=6)),
    (3, "13.3", 230000, 50000, timedelta(days=14)),
]


def seed_demo_disputes() -> list[str]:
    merchant = Merchant.objects.filter(reference="demo-merchant").first()
    if merchant is None:
        return []
    actor, now = Actor.system("seed_demo"), timezone.now()
    for number, code, captured, amount, due_in in DEMO_DISPUTES:
        network_id = f"DEMO-VISA-{number}"
        if Dispute.objects.filter(network="visa", network_dispute_id=network_id).exists():
            continue
        reason = selectors.reason_code_in_force(network="visa", code=code, on=now.date())
        # Opened so that the working deadline (due_by) is `due_in` from now.
        lead = deadlines.due_dates(network="visa", stage=Stage.CHARGEBACK, response_days=reason.response_days,
                                   start=now).due_by - now  # fmt: skip
        opened_at = now - lead + due_in
        original = template_post(
            name="card_capture", params={"merchant": merchant.pk, "currency": "USD", "amount": captured,
            "fee": captured * 3 // 100}, actor=actor, occurred_at=opened_at - timedelta(days=7),
            description=f"Demo card capture (disputed) #{number}", idempotency_source="demo",
            idempotency_key=f"demo-disputed-capture-{number}",
        )  # fmt: skip
        services.dispute_open(
            network="visa", network_dispute_id=network_id, merchant=merchant, original_entry=original,
            amount=amount, currency_code="USD", reason_code=reason, actor=actor, occurred_at=opened_at,
        )  # fmt: skip
    present = Dispute.objects.filter(network_dispute_id__startswith="DEMO-VISA-").count()
    return [f"Disputes: {present} demo chargebacks in the queue at /admin/disputes/dispute/"]
