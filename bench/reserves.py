"""Reserves benchmark: `python -m bench reserves` (PostgreSQL with durable commits, see bench/_django.py).

Prints: the reserve engine over many merchants (first run, and the idempotent rerun of the same day),
and p50/p99 of the approval path through the services: create a release request, first signature,
the executing second signature (row lock, fund lock, ledger posting, audit, row-level security context).
"""

import os
from datetime import UTC, datetime, timedelta

from bench._django import row, setup_django, summary_ms, time_each

MERCHANTS = int(os.environ.get("BENCH_RESERVES_MERCHANTS", "200"))
CAPTURES = int(os.environ.get("BENCH_RESERVES_CAPTURES", "10"))
APPROVALS = int(os.environ.get("BENCH_RESERVES_APPROVALS", "200"))
DAY = datetime(2026, 3, 2, tzinfo=UTC).date()
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _setup() -> tuple:
    from django.contrib.auth import get_user_model

    from audit.context import Actor
    from ledger.services import chart_accounts_ensure, template_post
    from reserves.models import PartnerMember
    from reserves.services import reserve_policy_create_initial
    from tenants.models import Merchant, Partner, PartnerKind

    actor = Actor.system("bench")
    chart_accounts_ensure(merchant=None, currency_code="USD", actor=actor, occurred_at=NOW)
    platform = Partner.objects.create(reference="platform", name="Platform", kind=PartnerKind.PLATFORM)
    bank = Partner.objects.create(reference="bank", name="Bank", kind=PartnerKind.SPONSOR_BANK)
    acquirer = Partner.objects.create(reference="acquirer", name="Acquirer", kind=PartnerKind.ACQUIRER)
    merchants = []
    for index in range(MERCHANTS):
        merchant = Merchant.objects.create(reference=f"m{index}", name=f"Merchant {index}")
        for partner in (platform, bank, acquirer):
            partner.merchants.add(merchant)
        reserve_policy_create_initial(merchant=merchant, kind="rolling", currency_code="USD", percent_bp=1000,
                                      hold_days=30, actor=actor, occurred_at=NOW, effective_date=DAY)  # fmt: skip
        for capture in range(CAPTURES):
            template_post(name="card_capture", actor=actor, occurred_at=NOW + timedelta(seconds=capture),
                          params={"merchant": merchant.pk, "currency": "USD", "amount": 100_000,
                                  "fee": 3_000})  # fmt: skip
        merchants.append(merchant)
    users = {}
    for name, partner in (("ops", platform), ("bank", bank), ("acquirer", acquirer)):
        users[name] = get_user_model().objects.create_user(name, password=None, is_staff=True)
        PartnerMember.objects.create(user=users[name], partner=partner)
    return merchants, users


def bench_engine() -> None:
    import time

    from audit.context import Actor
    from reserves.services import reserve_engine_run

    started = time.perf_counter()
    result = reserve_engine_run(run_date=DAY, actor=Actor.system("bench"), now=NOW)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = reserve_engine_run(run_date=DAY, actor=Actor.system("bench"), now=NOW)
    rerun = time.perf_counter() - started
    row(f"engine, {MERCHANTS} merchants x {CAPTURES} captures (first run)",
        f"{first:.2f} s, {1000 * first / MERCHANTS:.1f} ms/merchant, {len(result.runs)} run")  # fmt: skip
    row("engine rerun of the same day (no-op)", f"{rerun:.2f} s, {len(again.runs)} run, {again.skipped} skipped")


def bench_approvals(merchants: list, users: dict) -> None:
    from django.utils import timezone

    from audit.context import Actor
    from reserves.principals import principal_for_user
    from reserves.services import approval_request_create, approval_sign

    requester, bank, acquirer = (principal_for_user(users[n]) for n in ("ops", "bank", "acquirer"))
    created, cursor = [], iter(range(10**9))

    def create() -> None:
        index = next(cursor)
        created.append(approval_request_create(
            action="release_reserve", merchant=merchants[index % len(merchants)],
            payload={"amount": f"0.{index % 90 + 10:02d}", "currency": "USD", "reason": f"bench {index}"},
            principal=requester, actor=Actor.system("bench"), now=timezone.now(),
        ))  # fmt: skip

    from django.test import override_settings

    with override_settings(RESERVES_APPROVAL_MAX_PER_REQUESTER_HOUR=10**6):
        create_samples = time_each(create, APPROVALS)
    signing = iter(list(created))
    executing = iter(list(created))

    def first_signature() -> None:
        approval = next(signing)
        approval_sign(approval_id=approval.pk, principal=bank, payload_hash=approval.payload_hash, decision="approve",
                      actor=Actor.system("bench"), now=timezone.now())  # fmt: skip

    def executing_signature() -> None:
        approval = next(executing)
        approval_sign(approval_id=approval.pk, principal=acquirer, payload_hash=approval.payload_hash,
                      decision="approve", actor=Actor.system("bench"), now=timezone.now())  # fmt: skip

    row("approval_request_create (release_reserve)", summary_ms(create_samples))
    row("approval_sign, first of 2", summary_ms(time_each(first_signature, len(created))))
    row(
        "approval_sign, second of 2 (executes the ledger release)",
        summary_ms(time_each(executing_signature, len(created))),
    )


def main() -> None:
    import base64
    import secrets

    os.environ.setdefault("STRONGROOM_AUDIT_SIGNING_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    setup_django(durable=True)
    print("reserves benchmark: PostgreSQL, durable commits (fsync, synchronous_commit on)", flush=True)
    merchants, users = _setup()
    bench_engine()
    bench_approvals(merchants, users)


if __name__ == "__main__":
    main()
