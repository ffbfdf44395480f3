"""The reserve engine: once per merchant and day, release matured tranches and hold what the policy
asks for, through the ledger's `reserve_release` / `reserve_hold` templates.

Idempotent per merchant and day: the run row (unique on merchant, day) commits with the postings;
a rerun finds it under the fund lock and does nothing. The ledger postings carry idempotency keys
too (`reserves` / `engine:<merchant>:<day>:hold|release`), a second backstop.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F, Q

from audit.context import Actor
from audit.services import audit_record
from common.errors import DomainError
from ledger.services import chart_accounts_ensure, template_post
from reserves import selectors
from reserves.choices import PolicyKind, TrancheKind
from reserves.locks import reserve_lock
from reserves.metrics import engine_run_seconds
from reserves.models import ReserveEngineRun, ReservePolicy, ReserveTranche

SOURCE = "reserves"
logger = logging.getLogger(__name__)


@dataclass
class EngineResult:
    run_date: date
    runs: list[ReserveEngineRun] = field(default_factory=list)
    skipped: int = 0  # merchants already run for the day
    failed: list[tuple[int, str]] = field(default_factory=list)  # (merchant id, error code); rerun picks them up

    @property
    def held(self) -> int:
        return sum(r.held_amount for r in self.runs)

    @property
    def released(self) -> int:
        return sum(r.released_amount for r in self.runs)


def _hold_amount(*, policy: ReservePolicy, merchant_id: int, volume: int, run_date: date) -> int:
    if policy.kind == PolicyKind.ROLLING:
        return volume * policy.percent_bp // 10_000  # floor: never hold more than the rate
    base = ReserveTranche.objects.filter(merchant_id=merchant_id, kind=TrancheKind.BASE)
    if policy.kind == PolicyKind.UPFRONT:
        return 0 if base.filter(policy=policy).exists() else policy.amount
    # Base tranches still held on run_date count, including those of an earlier version that mature on a
    # later version's effective date: a catch-up run of a day before a policy change must not hold twice.
    outstanding = selectors.outstanding_tranches(merchant_id=merchant_id).filter(
        Q(release_date__isnull=True) | Q(release_date__gt=run_date), kind=TrancheKind.BASE
    )
    held = sum(t.outstanding for t in outstanding)
    return max(0, policy.amount - held)


def _run_merchant(*, merchant_id: int, run_date: date, actor: Actor, now: datetime) -> ReserveEngineRun | None:
    with transaction.atomic():
        reserve_lock(merchant_id=merchant_id, operation="engine")
        if ReserveEngineRun.objects.filter(merchant_id=merchant_id, run_date=run_date).exists():
            return None
        policy = selectors.current_policy(merchant_id=merchant_id, as_of=run_date)
        if policy is None:
            return None
        currency = policy.currency_code
        chart_accounts_ensure(merchant=merchant_id, currency_code=currency, actor=actor, occurred_at=now)
        params = {"merchant": merchant_id, "currency": currency}
        key = f"engine:{merchant_id}:{run_date.isoformat()}"

        matured = list(
            selectors.outstanding_tranches(merchant_id=merchant_id)
            .filter(release_date__lte=run_date)
            .order_by("release_date", "pk")
        )
        released = sum(t.outstanding for t in matured)
        release_entry = None
        if released:
            release_entry = template_post(
                name="reserve_release", params={**params, "amount": released}, actor=actor, occurred_at=now,
                description=f"Reserve release: tranches matured by {run_date}", idempotency_source=SOURCE,
                idempotency_key=f"{key}:release", metadata={"reserves": "engine", "run_date": run_date.isoformat()},
            )  # fmt: skip
            ReserveTranche.objects.filter(pk__in=[t.pk for t in matured]).update(
                released_amount=F("amount"), released_at=now
            )

        volume = selectors.captured_volume(merchant_id=merchant_id, currency_code=currency, day=run_date)
        held = _hold_amount(policy=policy, merchant_id=merchant_id, volume=volume, run_date=run_date)
        hold_entry = None
        if held:
            hold_entry = template_post(
                name="reserve_hold", params={**params, "amount": held}, actor=actor, occurred_at=now,
                description=f"Reserve hold ({policy.kind}) for {run_date}", idempotency_source=SOURCE,
                idempotency_key=f"{key}:hold", metadata={"reserves": "engine", "run_date": run_date.isoformat()},
            )  # fmt: skip
            rolling = policy.kind == PolicyKind.ROLLING
            tranche = ReserveTranche(
                merchant_id=merchant_id, policy=policy, kind=TrancheKind.ROLLING if rolling else TrancheKind.BASE,
                currency_code=currency, amount=held, held_date=run_date, hold_entry=hold_entry,
                release_date=run_date + timedelta(days=policy.hold_days) if rolling else None,
            )  # fmt: skip
            tranche.full_clean()
            tranche.save()

        run = ReserveEngineRun(
            merchant_id=merchant_id, run_date=run_date, policy=policy, captured_volume=volume, held_amount=held,
            released_amount=released, hold_entry=hold_entry, release_entry=release_entry, ran_at=now,
            required_after=selectors.required_reserve(merchant_id=merchant_id, on=run_date),
            held_after=selectors.reserve_held(merchant_id=merchant_id, currency_code=currency),
        )  # fmt: skip
        run.full_clean()
        run.save()
        audit_record(
            action="reserves.engine.ran", actor=actor, target=run, tenant=f"merchant:{merchant_id}", occurred_at=now,
            data={"run_date": run_date.isoformat(), "policy_version": policy.version, "currency": currency,
                  "captured_volume": volume, "held": held, "released": released, "held_after": run.held_after,
                  "required_after": run.required_after,
                  "hold_entry": str(hold_entry.pk) if hold_entry else None,
                  "release_entry": str(release_entry.pk) if release_entry else None},
        )  # fmt: skip
    return run


def reserve_engine_run(
    *, run_date: date, actor: Actor, now: datetime, merchant_ids: Iterable[int] | None = None
) -> EngineResult:
    """Run the engine for `run_date` over every merchant with a policy in force (or the given ones).

    One transaction per merchant; a merchant already run for the day is skipped."""
    started = clock.perf_counter()
    result = EngineResult(run_date=run_date)
    try:
        candidates = ReservePolicy.objects.filter(effective_date__lte=run_date)
        if merchant_ids is not None:
            candidates = candidates.filter(merchant_id__in=list(merchant_ids))
        for merchant_id in sorted(set(candidates.values_list("merchant_id", flat=True))):
            try:
                run = _run_merchant(merchant_id=merchant_id, run_date=run_date, actor=actor, now=now)
            except DomainError as error:  # e.g. a frozen ledger account: this merchant only, nothing posted
                logger.warning("reserve engine: merchant %s refused for %s: %s", merchant_id, run_date, error.code)
                result.failed.append((merchant_id, error.code))
                continue
            if run is None:
                result.skipped += 1
            else:
                result.runs.append(run)
    finally:
        engine_run_seconds.observe(clock.perf_counter() - started)
    return result
