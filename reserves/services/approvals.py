"""Multi-partner approvals: out-of-schedule reserve releases, policy changes and rule changes never act
directly; they become an `ApprovalRequest` that runs once m eligible partners approved its exact payload.

Locks: the request row (`FOR NO KEY UPDATE`) serialises every signature, revocation and the execution;
then the merchant's fund lock, then the ledger's accounts (always in that order). The m-th approval
executes the action in the same transaction as the signature, exactly once (the status is checked
under the lock). On PostgreSQL the partner's transaction runs with `strongroom.partner_id` set, so
row-level security hides every approval row the partner may not see.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from audit.context import Actor
from audit.services import audit_record
from common import ratelimit
from common.money import to_decimal_string, to_minor
from ledger.services import template_post
from reserves import conf, selectors
from reserves.choices import ApprovalAction, ApprovalStatus, Decision, PolicyKind
from reserves.locks import approval_lock, reserve_lock
from reserves.metrics import approvals_rate_limited
from reserves.models import (
    ApprovalEligibility,
    ApprovalRequest,
    ApprovalRule,
    ApprovalSignature,
    MerchantReserve,
    ReserveTranche,
)
from reserves.principals import Principal
from reserves.rls import partner_context
from reserves.services.errors import (
    AlreadySigned,
    ApprovalExpired,
    ApprovalNotFound,
    ApprovalNotPending,
    ApprovalRateLimited,
    ApprovalRequestNotAllowed,
    InvalidApprovalPayload,
    NotEligibleToSign,
    PayloadHashMismatch,
    SelfApprovalRefused,
    SignatureNotFound,
    UnableToCreateApproval,
)
from reserves.services.policies import policy_apply_change
from tenants.models import Merchant, Partner

DEFAULT_REQUIRED_SIGNATURES = 2
DEFAULT_TTL_HOURS = 72


def canonical_json(payload: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 as is: the same payload always gives the same text."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


# --- Payloads: validated and normalised per action (the stored, hashed form) ---------------------------


def _text(payload: dict[str, Any], name: str, *, max_length: int = 500, required: bool = True) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_length:
        raise InvalidApprovalPayload(f"'{name}' must be a text of 1 to {max_length} characters.", fields={name: value})
    return value.strip()


def _int(payload: dict[str, Any], name: str, low: int, high: int) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidApprovalPayload(f"'{name}' must be an integer from {low} to {high}.", fields={name: value})
    return value


MAX_MINOR = 2**63 - 1  # the ledger's and the policies' bigint columns


def _amount(payload: dict[str, Any], currency: str) -> tuple[str, int]:
    value = payload.get("amount")
    if not isinstance(value, str):
        raise InvalidApprovalPayload("'amount' is a decimal string such as '100.00'.", fields={"amount": value})
    minor = to_minor(value, currency)
    if minor <= 0:
        raise InvalidApprovalPayload("'amount' must be positive.", fields={"amount": value})
    if minor > MAX_MINOR:  # also: to_minor rounds beyond 28 significant digits, so the echo would differ
        raise InvalidApprovalPayload("'amount' is too large.", fields={"amount": value[:40]})
    return to_decimal_string(minor, currency), minor


def _currency(payload: dict[str, Any]) -> str:
    value = payload.get("currency")
    if value not in settings.LEDGER_CURRENCIES:
        raise InvalidApprovalPayload("'currency' must be an enabled ledger currency.", fields={"currency": value})
    return value


def _storable_text(value: Any) -> bool:
    """No NUL (PostgreSQL text and jsonb refuse it) and no lone surrogate (not UTF-8, so neither hashable
    nor renderable), in any string or key of the payload."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode()
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_storable_text(k) and _storable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable_text(v) for v in value)
    return True


def _only(payload: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise InvalidApprovalPayload(f"Unknown payload fields: {', '.join(unknown)}.", fields={"unknown": unknown})


def _normalise_release(payload: dict[str, Any], merchant_id: int | None, now: datetime) -> dict[str, Any]:
    _only(payload, {"amount", "currency", "reason"})
    currency = _currency(payload)
    policy = selectors.current_policy(merchant_id=merchant_id)
    if policy is None or policy.currency_code != currency:
        raise InvalidApprovalPayload("The merchant has no reserve in this currency.", fields={"currency": currency})
    amount, minor = _amount(payload, currency)
    held = selectors.reserve_held(merchant_id=merchant_id, currency_code=currency)
    if minor > held:
        raise InvalidApprovalPayload(
            f"The reserve holds {to_decimal_string(held, currency)} {currency}; cannot release {amount}.",
            fields={"held": to_decimal_string(held, currency), "amount": amount},
        )
    return {"amount": amount, "currency": currency, "reason": _text(payload, "reason")}


def _normalise_policy(payload: dict[str, Any], merchant_id: int | None, now: datetime) -> dict[str, Any]:
    kind = payload.get("kind")
    if kind not in PolicyKind.values:
        raise InvalidApprovalPayload(f"'kind' is one of {', '.join(PolicyKind.values)}.", fields={"kind": kind})
    currency = _currency(payload)
    current = selectors.current_policy(merchant_id=merchant_id)
    if current is not None and current.currency_code != currency:
        raise InvalidApprovalPayload(f"The merchant's reserve is in {current.currency_code}.",
                                     fields={"currency": currency})  # fmt: skip
    if kind == PolicyKind.ROLLING:
        _only(payload, {"kind", "currency", "percent_bp", "hold_days"})
        return {"kind": kind, "currency": currency, "percent_bp": _int(payload, "percent_bp", 1, 10_000),
                "hold_days": _int(payload, "hold_days", 1, 3650)}  # fmt: skip
    _only(payload, {"kind", "currency", "amount"})
    return {"kind": kind, "currency": currency, "amount": _amount(payload, currency)[0]}


def _normalise_rule(payload: dict[str, Any], merchant_id: int | None, now: datetime) -> dict[str, Any]:
    _only(payload, {"action", "required_signatures", "ttl_hours", "eligible_partners"})
    action = payload.get("action")
    if action not in ApprovalAction.values:
        raise InvalidApprovalPayload(f"'action' is one of {', '.join(ApprovalAction.values)}.",
                                     fields={"action": action})  # fmt: skip
    references = payload.get("eligible_partners", [])
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise InvalidApprovalPayload("'eligible_partners' is a list of partner references.")
    references = sorted(set(references))
    known = set(Partner.objects.filter(reference__in=references, is_active=True).values_list("reference", flat=True))
    if known != set(references):
        raise InvalidApprovalPayload(
            "Unknown or inactive partners.", fields={"unknown": sorted(set(references) - known)}
        )
    required = _int(payload, "required_signatures", 1, 10)
    # A named set smaller than m could never execute (and for rule changes would lock the rules for good).
    if references and required > len(references):
        raise InvalidApprovalPayload(
            f"{required} signatures are required but only {len(references)} partners are eligible; "
            "the rule could never be satisfied.",
            fields={"required_signatures": required, "eligible_partners": references},
        )
    return {"action": action, "required_signatures": required,
            "ttl_hours": _int(payload, "ttl_hours", 1, 720), "eligible_partners": references}  # fmt: skip


NORMALISERS: dict[str, Callable[[dict[str, Any], int | None, datetime], dict[str, Any]]] = {
    ApprovalAction.RELEASE_RESERVE: _normalise_release,
    ApprovalAction.CHANGE_POLICY: _normalise_policy,
    ApprovalAction.CHANGE_APPROVAL_RULE: _normalise_rule,
}


def approval_rule_for(action: str) -> ApprovalRule:
    """The rule of an action (created with the defaults on first use)."""
    rule, _ = ApprovalRule.objects.get_or_create(
        action=action, defaults={"required_signatures": DEFAULT_REQUIRED_SIGNATURES, "ttl_hours": DEFAULT_TTL_HOURS}
    )
    return rule


def _eligible_partner_ids(*, rule: ApprovalRule, merchant_id: int | None) -> set[int]:
    candidates = Partner.objects.filter(is_active=True)
    listed = set(rule.eligible_partners.values_list("pk", flat=True))
    if listed:
        candidates = candidates.filter(pk__in=listed)
    if merchant_id is not None:
        candidates = candidates.filter(merchants__pk=merchant_id)
    return set(candidates.values_list("pk", flat=True))


# --- Rate limit -------------------------------------------------------------------------------------


def _refuse(limit: str, message: str) -> None:
    approvals_rate_limited.labels(limit).inc()
    raise ApprovalRateLimited(message, fields={"limit": limit})


def _check_requester_rate(*, principal: Principal, now: datetime) -> None:
    """At most N requests per requester per hour: Redis (GCRA, N per hour) when configured, else a count."""
    limit = conf.max_per_requester_hour()
    if settings.REDIS_URL:
        decision = ratelimit.check(key=f"rl:reserves_approvals:{principal.key}", rate=limit / 3600.0, burst=limit,
                                   endpoint_class="reserves_approvals")  # fmt: skip
        if decision is not None:
            if not decision.allowed:
                _refuse("per_requester_hour", f"At most {limit} approval requests per requester per hour.")
            return
    recent = ApprovalRequest.objects.filter(created_at__gt=now - timedelta(hours=1))
    if principal.user_id is not None:
        recent = recent.filter(requested_by_user_id=principal.user_id)
    else:
        recent = recent.filter(requested_by_client_id=principal.client_pk)
    if recent.count() >= limit:
        _refuse("per_requester_hour", f"At most {limit} approval requests per requester per hour.")


# --- Create -----------------------------------------------------------------------------------------


def approval_request_create(
    *, action: str, merchant: Merchant | int | None, payload: dict[str, Any], principal: Principal, actor: Actor,
    now: datetime,
) -> ApprovalRequest:  # fmt: skip
    """A pending request for `action` on `merchant` (None for rule changes) with this payload.

    Refuses (ApprovalRateLimited, 429) when N requests with the same (merchant, action, payload_hash)
    are open, or the requester made their hourly quota."""
    if not principal.is_platform:
        raise ApprovalRequestNotAllowed()
    if action not in NORMALISERS:
        raise InvalidApprovalPayload(f"Unknown action {action!r}.", fields={"action": action})
    if not isinstance(payload, dict):
        raise InvalidApprovalPayload("The payload is a JSON object.")
    if not _storable_text(payload):  # checked before any message could echo such a text
        raise InvalidApprovalPayload("The payload contains a NUL character or invalid Unicode text.")
    merchant_id = merchant if isinstance(merchant, int) or merchant is None else merchant.pk
    is_rule = action == ApprovalAction.CHANGE_APPROVAL_RULE
    if is_rule:
        merchant_id = None
    elif merchant_id is None or not Merchant.objects.filter(pk=merchant_id, is_active=True).exists():
        raise InvalidApprovalPayload("Reserve actions name an active merchant.", fields={"merchant_id": merchant_id})

    with transaction.atomic():
        rule = approval_rule_for(action)
        if is_rule:
            if payload.get("action") in ApprovalAction.values:  # serialise requests on the rule they change
                target = approval_rule_for(payload["action"])
                ApprovalRule.objects.select_for_update(of=("self",)).filter(pk=target.pk).get()
        else:
            reserve_lock(merchant_id=merchant_id, operation="approval_create")
        normalised = NORMALISERS[action](payload, merchant_id, now)
        digest = payload_hash(normalised)

        open_same = ApprovalRequest.objects.filter(
            status=ApprovalStatus.PENDING, expires_at__gt=now, merchant_id=merchant_id, action=action,
            payload_hash=digest,
        ).count()  # fmt: skip
        if open_same >= conf.max_open_per_payload():
            _refuse("open_per_payload", "An identical request is already open; sign or cancel that one.")
        eligible = _eligible_partner_ids(rule=rule, merchant_id=merchant_id) - {principal.partner_id}
        if len(eligible) < rule.required_signatures:
            raise UnableToCreateApproval(
                f"{rule.required_signatures} signatures are required but only {len(eligible)} partner(s) "
                "other than the requester's are eligible.",
                fields={"required": rule.required_signatures, "eligible": len(eligible)},
            )
        _check_requester_rate(principal=principal, now=now)  # last: a refused request spends no quota
        basis_action = normalised["action"] if is_rule else None
        approval = ApprovalRequest(
            action=action, merchant_id=merchant_id, payload=normalised, payload_hash=digest,
            required_signatures=rule.required_signatures, requested_by_user_id=principal.user_id,
            requested_by_client_id=principal.client_pk, requester_label=principal.label[:255],
            requester_partner_id=principal.partner_id,
            basis=selectors.basis_of(merchant_id=merchant_id, rule_action=basis_action),
            created_at=now, expires_at=now + timedelta(hours=rule.ttl_hours),
        )  # fmt: skip
        approval.full_clean()
        approval.save()
        ApprovalEligibility.objects.bulk_create(
            [ApprovalEligibility(approval=approval, partner_id=pk) for pk in sorted(eligible)]
        )
        audit_record(
            action="reserves.approval.requested", actor=actor, target=approval, occurred_at=now,
            tenant=f"merchant:{merchant_id}" if merchant_id else "platform",
            data={"action": action, "payload": normalised, "payload_hash": digest,
                  "required_signatures": approval.required_signatures, "eligible_partners": sorted(eligible),
                  "expires_at": approval.expires_at.isoformat(), "basis": approval.basis},
        )  # fmt: skip
    return approval


# --- Sign, revoke, cancel, expire ----------------------------------------------------------------------


def _locked_visible(*, approval_id: int, partner_id: int | None) -> ApprovalRequest:
    """The locked request, or 404 when it does not exist or the partner may not see it: row-level security
    hides it on PostgreSQL, the queryset filter everywhere (so nobody learns a foreign request's status)."""
    approval = approval_lock(approval_id=approval_id)
    if approval is None or (
        partner_id is not None and not ApprovalRequest.objects.for_partner(partner_id).filter(pk=approval.pk).exists()
    ):
        raise ApprovalNotFound(fields={"approval": approval_id})
    return approval


def _locked_pending(*, approval_id: int, partner_id: int | None, now: datetime) -> ApprovalRequest:
    approval = _locked_visible(approval_id=approval_id, partner_id=partner_id)
    if approval.status == ApprovalStatus.EXPIRED:
        raise ApprovalExpired(fields={"approval": approval_id})
    if approval.status != ApprovalStatus.PENDING:
        raise ApprovalNotPending(f"The request is {approval.status}.", fields={"status": approval.status})
    if approval.expires_at <= now:
        raise ApprovalExpired(fields={"approval": approval_id, "expires_at": approval.expires_at.isoformat()})
    return approval


def _signer_fields(principal: Principal) -> dict[str, Any]:
    return {"signed_by_user_id": principal.user_id, "signed_by_client_id": principal.client_pk,
            "signer_label": principal.label[:255]}  # fmt: skip


def approval_sign(
    *, approval_id: int, principal: Principal, payload_hash: str, decision: str, actor: Actor, now: datetime,
    comment: str = "",
) -> ApprovalRequest:  # fmt: skip
    """Record the principal's partner's decision on the exact payload it reviewed. An eligible partner's
    rejection ends the request; the m-th approval executes the action in this transaction."""
    if decision not in Decision.values:
        raise InvalidApprovalPayload(f"'decision' is one of {', '.join(Decision.values)}.",
                                     fields={"decision": decision})  # fmt: skip
    if principal.partner_id is None:
        raise NotEligibleToSign("You do not act for a partner.")
    with transaction.atomic(), partner_context(principal.partner_id):
        approval = _locked_pending(approval_id=approval_id, partner_id=principal.partner_id, now=now)
        if principal.partner_id == approval.requester_partner_id or principal.key == approval.requester_key:
            raise SelfApprovalRefused()
        if not ApprovalEligibility.objects.filter(approval=approval, partner_id=principal.partner_id).exists():
            raise NotEligibleToSign()
        if payload_hash != approval.payload_hash:
            raise PayloadHashMismatch(fields={"payload_hash": approval.payload_hash})
        live = ApprovalSignature.objects.filter(approval=approval, revoked_at__isnull=True)
        signer = {"signed_by_user_id": principal.user_id} if principal.user_id else {
            "signed_by_client_id": principal.client_pk}  # fmt: skip
        if live.filter(partner_id=principal.partner_id).exists() or live.filter(**signer).exists():
            raise AlreadySigned()  # one signature per partner, and one per person across partners
        try:
            with transaction.atomic():
                signature = ApprovalSignature.objects.create(
                    approval=approval, partner_id=principal.partner_id, decision=decision, payload_hash=payload_hash,
                    comment=comment[:2000], signed_at=now, **_signer_fields(principal),
                )  # fmt: skip
        except IntegrityError:  # the unique constraint, should a twin slip past the lock
            raise AlreadySigned() from None
        audit_record(action=f"reserves.approval.{'approved' if decision == Decision.APPROVE else 'rejected'}",
                     actor=actor, target=approval, occurred_at=now,
                     data={"signature": signature.pk, "partner": principal.partner_id, "payload_hash": payload_hash,
                           "comment": comment[:500]})  # fmt: skip
        if decision == Decision.REJECT:
            _finish(approval, ApprovalStatus.REJECTED, now, result={"rejected_by_partner": principal.partner_id})
        elif live.filter(decision=Decision.APPROVE).count() >= approval.required_signatures:
            _execute(approval=approval, actor=actor, now=now)
    return approval


def _finish(approval: ApprovalRequest, status: str, now: datetime, *, result: dict[str, Any]) -> None:
    approval.status, approval.decided_at, approval.result = status, now, result
    approval.save(update_fields=["status", "decided_at", "result"])


def approval_revoke(*, approval_id: int, principal: Principal, actor: Actor, now: datetime) -> ApprovalRequest:
    """The signer takes back their live signature, while the request is still pending."""
    with transaction.atomic(), partner_context(principal.partner_id):
        approval = _locked_visible(approval_id=approval_id, partner_id=principal.partner_id)
        if approval.status != ApprovalStatus.PENDING:
            raise ApprovalNotPending(f"The request is {approval.status}; signatures can no longer be revoked.")
        signer = {"signed_by_user_id": principal.user_id} if principal.user_id else {
            "signed_by_client_id": principal.client_pk}  # fmt: skip
        signature = ApprovalSignature.objects.filter(approval=approval, revoked_at__isnull=True, **signer).first()
        if signature is None:
            raise SignatureNotFound()
        signature.revoked_at = now
        signature.save(update_fields=["revoked_at"])
        audit_record(action="reserves.approval.signature_revoked", actor=actor, target=approval, occurred_at=now,
                     data={"signature": signature.pk, "partner": signature.partner_id})  # fmt: skip
    return approval


def approval_cancel(
    *, approval_id: int, principal: Principal, actor: Actor, now: datetime, reason: str = ""
) -> ApprovalRequest:
    """The requester withdraws a pending request."""
    with transaction.atomic():
        approval = approval_lock(approval_id=approval_id)
        if approval is None or approval.requester_key != principal.key:
            raise ApprovalNotFound(fields={"approval": approval_id})
        if approval.status != ApprovalStatus.PENDING:
            raise ApprovalNotPending(f"The request is {approval.status}.")
        _finish(approval, ApprovalStatus.CANCELLED, now, result={"reason": reason[:500]})
        audit_record(action="reserves.approval.cancelled", actor=actor, target=approval, occurred_at=now,
                     data={"reason": reason[:500]})  # fmt: skip
    return approval


def approvals_expire(*, now: datetime, actor: Actor | None = None, limit: int = 500) -> int:
    """Mark pending requests past `expires_at` expired (guarded update, one audit row each)."""
    actor = actor or Actor.system("reserves.expire_approvals")
    ids = list(
        ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at", "pk").values_list("pk", flat=True)[:limit]
    )  # fmt: skip
    expired = 0
    for pk in ids:
        with transaction.atomic():
            changed = ApprovalRequest.objects.filter(pk=pk, status=ApprovalStatus.PENDING, expires_at__lte=now).update(
                status=ApprovalStatus.EXPIRED, decided_at=now
            )
            if changed:
                expired += 1
                audit_record(action="reserves.approval.expired", actor=actor, object_type="reserves.approvalrequest",
                             object_id=str(pk), occurred_at=now)  # fmt: skip
    return expired


# --- Execution --------------------------------------------------------------------------------------


def _execute_release(approval: ApprovalRequest, actor: Actor, now: datetime) -> dict[str, Any]:
    payload, merchant_id = approval.payload, approval.merchant_id
    amount = to_minor(payload["amount"], payload["currency"])
    entry = template_post(
        name="reserve_release", params={"merchant": merchant_id, "currency": payload["currency"], "amount": amount},
        actor=actor, occurred_at=now, description=f"Approved out-of-schedule reserve release #{approval.pk}",
        idempotency_source="reserves", idempotency_key=f"approval:{approval.pk}:release",
        metadata={"reserves": "approval", "approval": approval.pk, "reason": payload["reason"][:200]},
    )  # fmt: skip
    # The release comes out of the tranches that would mature first (base tranches last).
    remaining = amount
    tranches = selectors.outstanding_tranches(merchant_id=merchant_id).order_by(
        F("release_date").asc(nulls_last=True), "pk"
    )
    for tranche in tranches:
        if remaining <= 0:
            break
        take = min(remaining, tranche.outstanding)
        fields: dict[str, Any] = {"released_amount": F("released_amount") + take}
        if take == tranche.outstanding:
            fields["released_at"] = now
        ReserveTranche.objects.filter(pk=tranche.pk).update(**fields)
        remaining -= take
    MerchantReserve.objects.filter(merchant_id=merchant_id).update(basis_version=F("basis_version") + 1)
    return {"entry": str(entry.pk), "amount": payload["amount"], "currency": payload["currency"],
            "untracked_amount": to_decimal_string(max(remaining, 0), payload["currency"])}  # fmt: skip


def _execute_policy(approval: ApprovalRequest, actor: Actor, now: datetime) -> dict[str, Any]:
    payload = approval.payload
    amount = to_minor(payload["amount"], payload["currency"]) if payload.get("amount") else None
    policy = policy_apply_change(
        merchant_id=approval.merchant_id, kind=payload["kind"], currency_code=payload["currency"],
        percent_bp=payload.get("percent_bp"), hold_days=payload.get("hold_days"), amount=amount,
        approval_id=approval.pk, actor=actor, occurred_at=now,
    )  # fmt: skip
    return {"policy": policy.pk, "version": policy.version}


def _execute_rule(approval: ApprovalRequest, actor: Actor, now: datetime) -> dict[str, Any]:
    payload = approval.payload
    rule = approval_rule_for(payload["action"])
    rule = ApprovalRule.objects.select_for_update(of=("self",)).get(pk=rule.pk)
    before = {"required_signatures": rule.required_signatures, "ttl_hours": rule.ttl_hours,
              "eligible_partners": sorted(rule.eligible_partners.values_list("reference", flat=True)),
              "version": rule.version}  # fmt: skip
    rule.required_signatures, rule.ttl_hours, rule.version = (
        payload["required_signatures"],
        payload["ttl_hours"],
        rule.version + 1,
    )
    rule.full_clean()
    rule.save(update_fields=["required_signatures", "ttl_hours", "version", "updated_at"])
    rule.eligible_partners.set(Partner.objects.filter(reference__in=payload["eligible_partners"]))
    after = {**payload, "version": rule.version}
    audit_record(action="reserves.rule.changed", actor=actor, target=rule, tenant="platform", occurred_at=now,
                 data={"before": before, "after": after, "approval": approval.pk})  # fmt: skip
    return {"rule": rule.pk, "version": rule.version}


EXECUTORS: dict[str, Callable[[ApprovalRequest, Actor, datetime], dict[str, Any]]] = {
    ApprovalAction.RELEASE_RESERVE: _execute_release,
    ApprovalAction.CHANGE_POLICY: _execute_policy,
    ApprovalAction.CHANGE_APPROVAL_RULE: _execute_rule,
}


def _execute(*, approval: ApprovalRequest, actor: Actor, now: datetime) -> None:
    """Under the request lock: run the action once, or mark the request superseded if its basis moved."""
    if approval.merchant_id is not None:
        reserve_lock(merchant_id=approval.merchant_id, operation="approval_execute")
    rule_action = approval.payload.get("action") if approval.action == ApprovalAction.CHANGE_APPROVAL_RULE else None
    basis_now = selectors.basis_of(merchant_id=approval.merchant_id, rule_action=rule_action)
    stale = {"basis_then": approval.basis, "basis_now": basis_now} if basis_now != approval.basis else None
    if stale is None and approval.action == ApprovalAction.RELEASE_RESERVE:
        # Scheduled releases do not move the basis, but may have left less held than the request asks for.
        currency = approval.payload["currency"]
        held = selectors.reserve_held(merchant_id=approval.merchant_id, currency_code=currency)
        if held < to_minor(approval.payload["amount"], currency):
            stale = {"reason": "reserve_below_amount", "held": to_decimal_string(held, currency)}
    if stale is not None:
        _finish(approval, ApprovalStatus.SUPERSEDED, now, result=stale)
        audit_record(action="reserves.approval.superseded", actor=actor, target=approval, occurred_at=now,
                     data=stale)  # fmt: skip
        return
    result = EXECUTORS[approval.action](approval, actor, now)
    _finish(approval, ApprovalStatus.EXECUTED, now, result=result)
    audit_record(action="reserves.approval.executed", actor=actor, target=approval, occurred_at=now,
                 tenant=f"merchant:{approval.merchant_id}" if approval.merchant_id else "platform",
                 data={"action": approval.action, "payload_hash": approval.payload_hash, "result": result})  # fmt: skip


__all__ = [
    "approval_cancel",
    "approval_request_create",
    "approval_revoke",
    "approval_rule_for",
    "approval_sign",
    "approvals_expire",
    "canonical_json",
    "payload_hash",
]
