"""Demo reserves for `make run`: a rolling policy on the demo merchant, yesterday's engine run, and
two approver partners (the demo bank and a demo acquirer) serving it."""

from datetime import timedelta

from django.utils import timezone

from audit.context import Actor
from common.money import to_decimal_string
from reserves.choices import PolicyKind
from reserves.models import ReservePolicy
from reserves.selectors import reserve_figures
from reserves.services import reserve_engine_run, reserve_policy_create_initial
from tenants.models import Merchant, Partner, PartnerKind


def seed_demo_reserves() -> list[str]:
    merchant = Merchant.objects.filter(reference="demo-merchant").first()
    if merchant is None:
        return []
    actor, now = Actor.system("seed_demo"), timezone.now()
    acquirer, _ = Partner.objects.get_or_create(
        reference="demo-acquirer", defaults={"name": "Demo Acquirer", "kind": PartnerKind.ACQUIRER}
    )
    acquirer.merchants.add(merchant)
    if not ReservePolicy.objects.filter(merchant=merchant).exists():
        reserve_policy_create_initial(merchant=merchant, kind=PolicyKind.ROLLING, currency_code="USD",
                                      percent_bp=1000, hold_days=90, actor=actor, occurred_at=now,
                                      effective_date=now.date() - timedelta(days=1))  # fmt: skip
    reserve_engine_run(run_date=now.date(), actor=actor, now=now, merchant_ids=[merchant.pk])
    figures = reserve_figures(merchant_id=merchant.pk, on=now.date())
    held = to_decimal_string(figures.held, figures.currency_code)
    return [f"Reserves: demo merchant on a 10% / 90-day rolling reserve, {held} {figures.currency_code} held; "
            "approvals at /admin/reserves/approvalrequest/pending/"]  # fmt: skip
