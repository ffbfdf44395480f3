"""Demo ledger activity for `make run`: the demo merchant's accounts and a few card captures."""

from datetime import timedelta

from django.utils import timezone

from audit.context import Actor
from ledger.services import chart_accounts_ensure, template_post
from tenants.models import Merchant

DEMO_CAPTURES = [(12500, 375), (4999, 150), (230000, 6900), (1850, 56)]  # (amount, fee) in cents


def seed_demo_ledger() -> list[str]:
    merchant = Merchant.objects.filter(reference="demo-merchant").first()
    if merchant is None:
        return []
    actor = Actor.system("seed_demo")
    # Yesterday's trading: the reserve engine's demo run (for the day that ended) sees these captures.
    now = (timezone.now() - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    chart_accounts_ensure(merchant=None, currency_code="USD", actor=actor, occurred_at=now)
    chart_accounts_ensure(merchant=merchant, currency_code="USD", actor=actor, occurred_at=now)
    for number, (amount, fee) in enumerate(DEMO_CAPTURES, 1):
        template_post(
            name="card_capture",
            params={"merchant": merchant.pk, "currency": "USD", "amount": amount, "fee": fee},
            actor=actor,
            occurred_at=now,
            description=f"Demo card capture #{number}",
            idempotency_source="demo",
            idempotency_key=f"demo-capture-{number}",
        )
    return [f"Ledger:   demo merchant accounts in USD, {len(DEMO_CAPTURES)} card captures posted"]
