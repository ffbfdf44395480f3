"""Reserve policies: a merchant's first policy (onboarding), and new versions (only through approvals)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from audit.context import Actor
from audit.services import audit_record
from reserves.choices import PolicyKind, TrancheKind
from reserves.locks import reserve_lock
from reserves.models import ReservePolicy, ReserveTranche
from reserves.services.errors import UnableToChangePolicy
from tenants.models import Merchant


def _policy_fields(policy: ReservePolicy) -> dict[str, Any]:
    return {"version": policy.version, "kind": policy.kind, "currency": policy.currency_code,
            "percent_bp": policy.percent_bp, "hold_days": policy.hold_days, "amount": policy.amount,
            "effective_date": policy.effective_date.isoformat()}  # fmt: skip


def _new_version(
    *, merchant_id: int, kind: str, currency_code: str, percent_bp: int | None, hold_days: int | None,
    amount: int | None, effective_date: date, approval_id: int | None,
) -> ReservePolicy:  # fmt: skip
    if currency_code not in settings.LEDGER_CURRENCIES:
        raise UnableToChangePolicy(f"{currency_code!r} is not an enabled ledger currency.",
                                   fields={"currency": currency_code})  # fmt: skip
    last = ReservePolicy.objects.filter(merchant_id=merchant_id).order_by("-version").first()
    if last is not None and last.currency_code != currency_code:
        raise UnableToChangePolicy(
            f"The merchant's reserve is in {last.currency_code}; a policy cannot switch its currency.",
            fields={"currency": currency_code},
        )
    policy = ReservePolicy(
        merchant_id=merchant_id, version=(last.version + 1) if last else 1, kind=kind, currency_code=currency_code,
        percent_bp=percent_bp if kind == PolicyKind.ROLLING else None,
        hold_days=hold_days if kind == PolicyKind.ROLLING else None,
        amount=amount if kind != PolicyKind.ROLLING else None, effective_date=effective_date, approval_id=approval_id,
    )  # fmt: skip
    policy.full_clean()
    policy.save()
    if last is not None:
        # Base tranches (fixed/upfront) of earlier versions mature when the new version takes effect;
        # rolling tranches keep the schedule they were held under.
        ReserveTranche.objects.filter(merchant_id=merchant_id, kind=TrancheKind.BASE, release_date__isnull=True).update(
            release_date=effective_date
        )
    return policy


def reserve_policy_create_initial(
    *, merchant: Merchant | int, kind: str, currency_code: str, actor: Actor, occurred_at: datetime,
    percent_bp: int | None = None, hold_days: int | None = None, amount: int | None = None,
    effective_date: date | None = None,
) -> ReservePolicy:  # fmt: skip
    """A merchant's first reserve policy, set at onboarding. Every later change is an approval request
    (`change_policy`); this refuses when the merchant already has a policy."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    with transaction.atomic():
        reserve_lock(merchant_id=merchant_id, operation="policy")
        if ReservePolicy.objects.filter(merchant_id=merchant_id).exists():
            raise UnableToChangePolicy("The merchant has a reserve policy; changes go through an approval request.")
        policy = _new_version(
            merchant_id=merchant_id, kind=kind, currency_code=currency_code, percent_bp=percent_bp,
            hold_days=hold_days, amount=amount, effective_date=effective_date or occurred_at.date(), approval_id=None,
        )  # fmt: skip
        audit_record(action="reserves.policy.created", actor=actor, target=policy, tenant=f"merchant:{merchant_id}",
                     data={"after": _policy_fields(policy)}, occurred_at=occurred_at)  # fmt: skip
    return policy


def policy_apply_change(
    *,
    merchant_id: int,
    kind: str,
    currency_code: str,
    percent_bp: int | None,
    hold_days: int | None,
    amount: int | None,
    approval_id: int,
    actor: Actor,
    occurred_at: datetime,
) -> ReservePolicy:
    """The new version an executed `change_policy` request installs (caller holds the fund lock)."""
    from reserves.models import MerchantReserve

    before = ReservePolicy.objects.filter(merchant_id=merchant_id).order_by("-version").first()
    policy = _new_version(
        merchant_id=merchant_id, kind=kind, currency_code=currency_code, percent_bp=percent_bp,
        hold_days=hold_days, amount=amount, effective_date=occurred_at.date(), approval_id=approval_id,
    )  # fmt: skip
    MerchantReserve.objects.filter(merchant_id=merchant_id).update(basis_version=F("basis_version") + 1)
    audit_record(action="reserves.policy.changed", actor=actor, target=policy, tenant=f"merchant:{merchant_id}",
                 data={"before": _policy_fields(before) if before else None, "after": _policy_fields(policy),
                       "approval": approval_id}, occurred_at=occurred_at)  # fmt: skip
    return policy
