"""Reads of the reserves app: policies, figures (required, held, releasable), volume, approvals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Sum

from ledger import selectors as ledger_selectors
from ledger.chart import merchant_address
from ledger.choices import EntryStatus
from ledger.errors import AccountNotFound
from reserves.choices import ApprovalAction, ApprovalStatus, PolicyKind
from reserves.models import (
    ApprovalRequest,
    ApprovalRule,
    ApprovalSignature,
    MerchantReserve,
    ReservePolicy,
    ReserveTranche,
)
from reserves.principals import Principal
from tenants.scoping import Tenant


def current_policy(*, merchant_id: int, as_of: date | None = None) -> ReservePolicy | None:
    """The newest policy version (effective on `as_of`, when given)."""
    policies = ReservePolicy.objects.filter(merchant_id=merchant_id)
    if as_of is not None:
        policies = policies.filter(effective_date__lte=as_of)
    return policies.order_by("-version", "-pk").first()


def basis_of(*, merchant_id: int | None, rule_action: str | None = None) -> dict[str, int]:
    """The versions an approval is made against; a change to any of them supersedes it."""
    if merchant_id is None:
        rule = ApprovalRule.objects.filter(action=rule_action).only("version").first()
        return {"rule_version": rule.version if rule else 0}
    reserve = MerchantReserve.objects.filter(merchant_id=merchant_id).only("basis_version").first()
    policy = current_policy(merchant_id=merchant_id)
    return {
        "reserve_version": reserve.basis_version if reserve else 0,
        "policy_version": policy.version if policy else 0,
    }


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def reserve_held(*, merchant_id: int, currency_code: str) -> int:
    """Posted balance of the merchant's reserve chart account (0 before it is opened)."""
    try:
        account = ledger_selectors.account_get(address=merchant_address(merchant_id, "reserve", currency_code))
    except AccountNotFound:
        return 0
    return ledger_selectors.account_balance(account=account).posted


def captured_volume(*, merchant_id: int, currency_code: str, day: date) -> int:
    """Gross card captures of the merchant on `day` (UTC, by effective time), from the ledger's
    `card_capture` entries on its payable account."""
    try:
        payable = ledger_selectors.account_get(address=merchant_address(merchant_id, "payable", currency_code))
    except AccountNotFound:
        return 0
    start, end = day_bounds(day)
    entries = (
        ledger_selectors.entries_list(account=payable)
        .prefetch_related(None)
        .filter(template_name="card_capture", status=EntryStatus.POSTED, effective_at__gte=start, effective_at__lt=end)
    )
    total = 0
    for metadata in entries.values_list("metadata", flat=True):
        amount = (metadata or {}).get("template_params", {}).get("amount")
        if isinstance(amount, int) and not isinstance(amount, bool):
            total += amount
    return total


def outstanding_tranches(*, merchant_id: int) -> QuerySet[ReserveTranche]:
    return ReserveTranche.objects.filter(merchant_id=merchant_id, released_amount__lt=F("amount"))


def required_reserve(*, merchant_id: int, on: date) -> int:
    """What must stay held on `on`: outstanding tranches not yet mature (base tranches until released)."""
    unmatured = outstanding_tranches(merchant_id=merchant_id).filter(
        Q(release_date__isnull=True) | Q(release_date__gt=on)
    )
    return unmatured.aggregate(total=Sum(F("amount") - F("released_amount"), default=0))["total"]


@dataclass(frozen=True)
class ReserveFigures:
    merchant_id: int
    policy: ReservePolicy | None
    currency_code: str
    required: int
    held: int
    releasable: int


def reserve_figures(*, merchant_id: int, on: date) -> ReserveFigures:
    """Policy in force, required reserve, held (ledger), releasable = held beyond what is required."""
    policy = current_policy(merchant_id=merchant_id)
    if policy is None:
        return ReserveFigures(merchant_id, None, "", 0, 0, 0)
    held = reserve_held(merchant_id=merchant_id, currency_code=policy.currency_code)
    required = required_reserve(merchant_id=merchant_id, on=on)
    return ReserveFigures(merchant_id, policy, policy.currency_code, required, held, max(0, held - required))


# --- Approvals --------------------------------------------------------------------------------------


def _with_related(requests: QuerySet[ApprovalRequest]) -> QuerySet[ApprovalRequest]:
    signatures = Prefetch("signatures", queryset=ApprovalSignature.objects.select_related("partner").order_by("pk"))
    return requests.select_related("merchant", "requester_partner").prefetch_related(signatures, "eligible_partners")


def approvals_for_principal(*, principal: Principal) -> QuerySet[ApprovalRequest]:
    """Platform principals see every request; partner principals those they may sign or requested."""
    requests = ApprovalRequest.objects.all()
    if not principal.is_platform:
        if principal.partner_id is None:
            return _with_related(requests.none())
        requests = requests.for_partner(principal.partner_id)
    return _with_related(requests).order_by("-created_at", "-pk")


def approvals_for_tenant(*, tenant: Tenant) -> QuerySet[ApprovalRequest]:
    """API: platform clients see all, partner clients their eligible (or own) requests, merchants theirs."""
    requests = ApprovalRequest.objects.all()
    if tenant.kind == "partner":
        requests = requests.for_partner(tenant.partner_id)
    elif tenant.kind == "merchant":
        requests = requests.filter(merchant_id=tenant.merchant_id)
    return _with_related(requests).order_by("-created_at", "-pk")


def approvals_pending_for_signer(*, principal: Principal, now: datetime) -> QuerySet[ApprovalRequest]:
    """Pending, unexpired requests this principal's partner may still sign (not its own)."""
    if principal.partner_id is None:
        return ApprovalRequest.objects.none()
    requests = ApprovalRequest.objects.filter(
        status=ApprovalStatus.PENDING, expires_at__gt=now, eligibility__partner_id=principal.partner_id
    ).exclude(requester_partner_id=principal.partner_id)
    return _with_related(requests).order_by("expires_at", "pk")


def approvals_requested_by(*, principal: Principal) -> QuerySet[ApprovalRequest]:
    requests = ApprovalRequest.objects.all()
    if principal.user_id is not None:
        requests = requests.filter(requested_by_user_id=principal.user_id)
    else:
        requests = requests.filter(requested_by_client_id=principal.client_pk)
    return _with_related(requests).order_by("-created_at", "-pk")


def approval_progress(approval: ApprovalRequest) -> dict[str, Any]:
    """'1 of 2', who signed when (live signatures; uses the prefetched signatures)."""
    live = [s for s in approval.signatures.all() if s.revoked_at is None]
    approvals = [s for s in live if s.decision == "approve"]
    return {
        "approvals": len(approvals),
        "required": approval.required_signatures,
        "label": f"{len(approvals)} of {approval.required_signatures}",
        "signatures": live,
    }


def _money(minor: int | None, currency: str) -> str:
    from common.money import to_decimal_string

    return "—" if minor is None else f"{to_decimal_string(minor, currency)} {currency}"


def _policy_text(policy: ReservePolicy | None) -> dict[str, str]:
    if policy is None:
        return {"Kind": "none", "Rate": "—", "Hold days": "—", "Amount": "—"}
    return {
        "Kind": policy.get_kind_display(),
        "Rate": f"{policy.percent_bp / 100:g}%" if policy.percent_bp is not None else "—",
        "Hold days": str(policy.hold_days) if policy.hold_days is not None else "—",
        "Amount": _money(policy.amount, policy.currency_code) if policy.amount is not None else "—",
    }


def approval_diff(*, approval: ApprovalRequest, today: date) -> list[tuple[str, str, str]]:
    """The request as (what, today, after execution) rows, e.g. ('Rate', '5%', '10%')."""
    payload = approval.payload
    if approval.action == ApprovalAction.CHANGE_POLICY:
        from common.money import to_minor

        before = _policy_text(current_policy(merchant_id=approval.merchant_id))
        after_policy = ReservePolicy(
            kind=payload["kind"], currency_code=payload["currency"], percent_bp=payload.get("percent_bp"),
            hold_days=payload.get("hold_days"),
            amount=to_minor(payload["amount"], payload["currency"]) if payload.get("amount") else None,
        )  # fmt: skip
        after = _policy_text(after_policy)
        return [(key, before[key], after[key]) for key in before]
    if approval.action == ApprovalAction.RELEASE_RESERVE:
        figures = reserve_figures(merchant_id=approval.merchant_id, on=today)
        from common.money import to_minor

        amount = to_minor(payload["amount"], payload["currency"])
        currency = payload["currency"]
        return [
            ("Reserve held", _money(figures.held, currency), _money(figures.held - amount, currency)),
            ("Required by schedule", _money(figures.required, currency), _money(figures.required, currency)),
            ("Released to payable", "—", _money(amount, currency)),
            ("Reason", "", payload.get("reason", "")),
        ]
    rule = ApprovalRule.objects.filter(action=payload["action"]).prefetch_related("eligible_partners").first()
    partners_now = ", ".join(sorted(p.reference for p in rule.eligible_partners.all())) if rule else ""
    return [
        ("Rule for", payload["action"], payload["action"]),
        ("Signatures required", str(rule.required_signatures if rule else "—"), str(payload["required_signatures"])),
        ("Time to live (hours)", str(rule.ttl_hours if rule else "—"), str(payload["ttl_hours"])),
        ("Eligible partners", partners_now or "all serving partners",
         ", ".join(payload["eligible_partners"]) or "all serving partners"),
    ]  # fmt: skip


def policy_kind_label(kind: str) -> str:
    return PolicyKind(kind).label
