"""Demo credits for `make run`: a USD credit wallet of a demo-merchant customer with a few lots,
a consumption and a pending reservation (idempotent: skipped once the wallet exists)."""

from datetime import timedelta

from django.utils import timezone

from audit.context import Actor
from credits import services
from credits.models import Wallet
from tenants.models import Merchant


def seed_demo_credits() -> list[str]:
    merchant = Merchant.objects.filter(reference="demo-merchant").first()
    if merchant is None:
        return []
    existing = Wallet.objects.filter(merchant=merchant, customer_reference="demo-customer-1").first()
    if existing is not None:
        return [_line(existing)]
    actor, now = Actor.system("seed_demo"), timezone.now()
    wallet = services.wallet_create(
        unit="USD", owner_kind="customer", merchant=merchant, customer_reference="demo-customer-1",
        customer_email="demo.customer@example.com", actor=actor, occurred_at=now,
    )  # fmt: skip
    services.credit_grant(wallet=wallet, amount=2500, reason="Welcome credit", actor=actor, occurred_at=now)
    services.credit_grant(
        wallet=wallet, amount=1000, reason="Spring promotion", expires_at=now + timedelta(days=5), actor=actor,
        occurred_at=now,
    )  # fmt: skip
    services.credit_grant(
        wallet=wallet, amount=500, reason="Apology credit", expires_at=now + timedelta(days=30), actor=actor,
        occurred_at=now,
    )  # fmt: skip
    services.credit_consume(wallet=wallet, amount=1200, reference="demo-order-1", actor=actor, occurred_at=now)
    services.reservation_create(wallet=wallet, amount=300, ttl_seconds=3600, actor=actor, occurred_at=now)
    return [_line(wallet)]


def _line(wallet: Wallet) -> str:
    return f"Credits:  demo wallet {wallet.pk} (USD, customer demo-customer-1 of the demo merchant) with lots"
