"""Disputes benchmark: `python -m bench disputes` (PostgreSQL with durable commits, see bench/_django.py).

With BENCH_DISPUTES_OPEN (default 100,000) open disputes, prints:
- one deadline sweep when few are due (a few dozen to expire with their ledger postings, a few dozen
  crossing an alert threshold), then a sweep with nothing to do (issue 7 target: < 2 s);
- the server time of the admin queue page (default list, a due-window filter, a search, a detail page),
  rendered in-process by Django's test client as a logged-in, OTP-verified compliance lead
  (target: < 300 ms).

The original transactions are real ledger postings (`entries_post_batch`); the bulk of the disputes are
inserted directly (seeding, not the code under test), the due ones through `dispute_open`.
"""

import os
import time
from datetime import timedelta

from bench._django import row, setup_django, summary_ms, time_each

OPEN = int(os.environ.get("BENCH_DISPUTES_OPEN", "100000"))
DUE = int(os.environ.get("BENCH_DISPUTES_DUE", "50"))
ALERTING = int(os.environ.get("BENCH_DISPUTES_ALERTING", "50"))
MERCHANTS = 200
BATCH = 500


def seed(now):  # noqa: ANN001, ANN201
    from django.db import connection

    from audit.context import Actor
    from disputes.choices import Stage, Status
    from disputes.deadlines import due_dates
    from disputes.models import Dispute, ReasonCode
    from disputes.services import dispute_open
    from ledger.services import EntrySpec, LineSpec, chart_accounts_ensure, entries_post_batch
    from tenants.models import Merchant

    actor = Actor.system("bench")
    merchants = Merchant.objects.bulk_create(
        [Merchant(reference=f"bench-{i}", name=f"Bench merchant {i}") for i in range(MERCHANTS)]
    )
    for merchant in merchants:
        chart_accounts_ensure(merchant=merchant, currency_code="USD", actor=actor, occurred_at=now)
    chart_accounts_ensure(merchant=None, currency_code="USD", actor=actor, occurred_at=now)

    total = OPEN + DUE + ALERTING
    started = time.perf_counter()
    entries = []
    for start in range(0, total, BATCH):
        specs = []
        for i in range(start, min(total, start + BATCH)):
            merchant = merchants[i % MERCHANTS]
            specs.append(EntrySpec(lines=[
                LineSpec(side="debit", amount=10_000, address="platform:settlement:USD"),
                LineSpec(side="credit", amount=10_000, address=f"merchant:{merchant.pk}:payable:USD"),
            ], description=f"capture {i}"))  # fmt: skip
        entries += entries_post_batch(entries=specs, actor=actor, occurred_at=now - timedelta(days=30))
    row(f"seed: {total:,} captures through entries_post_batch", f"{time.perf_counter() - started:.1f} s")

    codes = list(ReasonCode.objects.filter(network="visa", code__in=["13.1", "10.4", "12.6.1"]))

    def opened_for(code, due_in):  # noqa: ANN001, ANN202
        """When to have opened a dispute under `code` so that its due_by is `due_in` from now."""
        probe = due_dates(network="visa", stage=Stage.CHARGEBACK, response_days=code.response_days, start=now)
        return now - (probe.due_by - now) + due_in

    started = time.perf_counter()
    rows = []
    for i in range(OPEN):
        code = codes[i % len(codes)]
        # Due 8 to 18 days from now: nothing due, no threshold crossed (a steady-state queue).
        opened = opened_for(code, timedelta(days=8, minutes=(i * 7) % (10 * 24 * 60)))
        dates = due_dates(network="visa", stage=Stage.CHARGEBACK, response_days=code.response_days, start=opened)
        rows.append(Dispute(
            network="visa", network_dispute_id=f"BENCH-{i:07d}", merchant_id=merchants[i % MERCHANTS].pk,
            original_entry_id=entries[i].pk, amount=1_000 + i % 9_000, currency_code="USD", reason_code=code,
            stage=Stage.CHARGEBACK, status=Status.NEEDS_RESPONSE, opened_at=opened, stage_started_at=opened,
            network_due_by=dates.network_due_by, due_by=dates.due_by,
        ))  # fmt: skip
    Dispute.objects.bulk_create(rows, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE disputes_dispute")
    row(f"seed: {OPEN:,} open disputes inserted", f"{time.perf_counter() - started:.1f} s")

    for n in range(DUE + ALERTING):
        i = OPEN + n
        # Through the service (holds and fees posted): due_by just passed, or 2 days away.
        code = codes[0]
        due_in = -timedelta(minutes=5) if n < DUE else timedelta(days=2)
        dispute_open(
            network="visa", network_dispute_id=f"BENCH-DUE-{n:05d}", merchant=merchants[i % MERCHANTS].pk,
            original_entry=entries[i], amount=2_500, currency_code="USD", reason_code=code, actor=actor,
            occurred_at=opened_for(code, due_in),
        )  # fmt: skip
    return merchants


def bench_sweep(now) -> None:  # noqa: ANN001
    from audit.context import Actor
    from disputes.services import disputes_sweep

    actor = Actor.system("bench sweep")
    started = time.perf_counter()
    result = disputes_sweep(now=now, actor=actor)
    first = time.perf_counter() - started
    row(
        f"sweep with {result.expired} to expire, {result.alerts_recorded} alerts (target < 2 s)",
        f"{first * 1000:.0f} ms",
    )
    samples = time_each(lambda: disputes_sweep(now=now, actor=actor), 10)
    row("sweep with nothing due (10 runs)", summary_ms(samples))


def bench_queue(merchants) -> None:  # noqa: ANN001
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from common.roles import COMPLIANCE_LEAD, sync_role_permissions
    from disputes.models import Dispute

    sync_role_permissions()
    user = get_user_model().objects.create_user("bench-lead", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name=COMPLIANCE_LEAD))
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # past the second factor, as after a TOTP login
    session.save()
    some = Dispute.objects.order_by("-pk").values_list("pk", flat=True)[500]
    pages = {
        "queue, default (open, most urgent first)": "/admin/disputes/dispute/",
        "queue, due within 3 days": "/admin/disputes/dispute/?due=3d",
        "queue, search by merchant": f"/admin/disputes/dispute/?q={merchants[7].name.replace(' ', '+')}",
        f"queue, page {OPEN // 200} (the middle)": f"/admin/disputes/dispute/?p={OPEN // 200}",
        "detail page of one dispute": f"/admin/disputes/dispute/{some}/change/",
    }
    for label, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        samples = time_each(lambda url=url: client.get(url), 20)
        row(f"{label} (target < 300 ms)", summary_ms(samples))


def main() -> None:
    setup_django(durable=True)
    from django.utils import timezone

    now = timezone.now()
    print(f"Disputes: {OPEN:,} open disputes on PostgreSQL (durable commits)")
    merchants = seed(now)
    bench_sweep(now)
    bench_queue(merchants)


if __name__ == "__main__":
    main()
