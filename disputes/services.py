"""Writes of the disputes domain. Every service is keyword-only, takes the acting `actor` and the effective
time `occurred_at`, runs in one transaction (joining the caller's), records its audit event(s) in it and,
where money moves, posts ledger entries through templates with idempotency keys
(source "disputes", key f"dispute:{pk}:open|fee|outcome"), so a rerun never moves money twice.

Transitions are planned by disputes/state_machine.py under the dispute's row lock and applied with a
guarded UPDATE (… WHERE status = <from>).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.choices import ActorKind
from audit.context import Actor
from audit.services import audit_record
from common.errors import DomainError
from common.money import to_decimal_string
from common.roles import COMPLIANCE_ANALYST, COMPLIANCE_LEAD
from disputes import conf, deadlines, evidence, pdf, selectors
from disputes.choices import ActionKind, EvidenceKind, Outcome, RequestStatus, Stage, Status
from disputes.locks import lock_action_request, lock_dispute
from disputes.models import Dispute, DisputeActionRequest, DisputeAlert, DisputeEvidence, ReasonCode
from disputes.state_machine import Action, InvalidTransition, Step, plan
from ledger.models import JournalEntry
from ledger.retry import run_atomic
from ledger.services import template_post
from tenants.models import Merchant

IDEMPOTENCY_SOURCE = "disputes"
MAX_TEXT_EVIDENCE_CHARS = 150_000  # all text fields of a dispute together (Stripe's limit)


class InvalidDispute(DomainError):
    code = "invalid_dispute"
    default_message = "The dispute is not valid."


class DisputeAlreadyExists(DomainError):
    code = "dispute_already_exists"
    status_code = 409
    default_message = "A dispute with this network dispute id exists, or the payment already has an open dispute."


class AmountExceedsOriginal(DomainError):
    code = "amount_exceeds_original"
    default_message = "The disputed amount exceeds what the original transaction moved in that currency."


class ApprovalRequired(DomainError):
    code = "approval_required"
    status_code = 403
    default_message = "People submit and accept through a request that a compliance lead approves."


class UnableToApproveRequest(DomainError):
    code = "action_request_not_approvable"
    status_code = 403
    default_message = "This person cannot decide this request."


class ActionRequestNotPending(DomainError):
    code = "action_request_not_pending"
    status_code = 409
    default_message = "The request was already decided."


class ActionRequestAlreadyPending(DomainError):
    code = "action_request_pending"
    status_code = 409
    default_message = "This dispute already has a request waiting for approval."


class EvidenceIncomplete(DomainError):
    code = "evidence_incomplete"
    status_code = 409
    default_message = "Evidence the reason code requires is missing."


class EvidenceFrozen(DomainError):
    code = "evidence_frozen"
    status_code = 409
    default_message = "Evidence can be added only while the dispute needs a response."


class InvalidAssignee(DomainError):
    code = "invalid_assignee"
    default_message = "Disputes are assigned to active compliance staff."


class ReasonCodeInUse(DomainError):
    code = "reason_code_in_use"
    status_code = 409
    default_message = "Disputes use this version; add a new version instead of changing it."


# --- helpers --------------------------------------------------------------------------------------


def _post(dispute: Dispute, *, template: str, key: str, actor: Actor, occurred_at: datetime, **amounts: int) -> Any:
    return template_post(
        name=template,
        params={"merchant": dispute.merchant_id, "currency": dispute.currency_code, **amounts},
        actor=actor,
        occurred_at=occurred_at,
        description=f"Dispute {dispute.pk} ({dispute.network} {dispute.network_dispute_id}): {key}",
        metadata={"dispute_id": dispute.pk},
        idempotency_source=IDEMPOTENCY_SOURCE,
        idempotency_key=f"dispute:{dispute.pk}:{key}",
    )


def _hold_funds(dispute: Dispute, *, actor: Actor, occurred_at: datetime) -> dict[str, Any]:
    """Chargeback filed: hold the disputed amount from the merchant's payable and charge the network fee."""
    hold = _post(
        dispute, template="dispute_open_hold", key="open", actor=actor, occurred_at=occurred_at, amount=dispute.amount
    )
    fee = conf.chargeback_fee(dispute.network, dispute.currency_code)
    fee_entry = None
    if fee > 0:
        fee_entry = _post(dispute, template="dispute_fee", key="fee", actor=actor, occurred_at=occurred_at, fee=fee)
    return {"hold_entry": hold, "fee_entry": fee_entry, "fee": fee}


def _settle_outcome(dispute: Dispute, *, to_status: str, actor: Actor, occurred_at: datetime) -> Any:
    """Won: release the hold. Lost, accepted, expired: the held amount goes to issuer settlement.
    Nothing was held for an inquiry, so nothing moves."""
    if dispute.hold_entry_id is None:
        return None
    template = "dispute_won_release" if to_status == Status.WON else "dispute_lost_to_issuer"
    return _post(dispute, template=template, key="outcome", actor=actor, occurred_at=occurred_at, amount=dispute.amount)


def _guarded_update(dispute: Dispute, step: Step, **changes: Any) -> None:
    """UPDATE … WHERE pk AND status = from; a lost race is an invalid transition (nothing changes)."""
    changes.setdefault("status", step.to_status)
    updated = Dispute.objects.filter(pk=dispute.pk, status=step.from_status).update(
        **changes, updated_at=timezone.now()
    )
    if updated != 1:
        raise InvalidTransition(fields={"action": step.action, "status": "changed concurrently"})
    for name, value in changes.items():
        setattr(dispute, name, value)


def _cancel_pending_requests(dispute: Dispute, *, occurred_at: datetime) -> None:
    DisputeActionRequest.objects.filter(dispute=dispute, status=RequestStatus.PENDING).update(
        status=RequestStatus.CANCELLED, decided_at=occurred_at
    )


def _entry_ids(**entries: Any) -> dict[str, str]:
    return {name: str(entry.pk) for name, entry in entries.items() if entry is not None}


def _locked(dispute: Dispute | int) -> Dispute:
    locked = lock_dispute(pk=dispute if isinstance(dispute, int) else dispute.pk)
    if locked is None:
        raise InvalidDispute("No such dispute.", fields={"dispute": getattr(dispute, "pk", dispute)})
    return locked


def is_compliance_lead(user: Any) -> bool:
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or user.groups.filter(name=COMPLIANCE_LEAD).exists())


def is_compliance_staff(user: Any) -> bool:
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or user.groups.filter(name__in=[COMPLIANCE_ANALYST, COMPLIANCE_LEAD]).exists())


def _refuse_people_acting_directly(action: str, *, actor: Actor, acting_directly: bool) -> None:
    if not acting_directly or actor.kind == ActorKind.STAFF:
        raise ApprovalRequired(fields={"action": action})


# --- open -----------------------------------------------------------------------------------------


def dispute_open(
    *,
    network: str,
    network_dispute_id: str,
    merchant: Merchant | int,
    original_entry: JournalEntry | Any,
    amount: int,
    currency_code: str,
    reason_code: ReasonCode | str,
    actor: Actor,
    occurred_at: datetime,
    stage: str = Stage.CHARGEBACK,
    assignee: Any = None,
) -> Dispute:
    """Record a dispute the network sent. From the chargeback stage on, the disputed amount is held out of the
    merchant's payable (`dispute_open_hold`) and the network's chargeback fee charged (`dispute_fee`)."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    entry_id = original_entry.pk if isinstance(original_entry, JournalEntry) else original_entry
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidDispute("The disputed amount is a positive integer of minor units.", fields={"amount": amount})
    if isinstance(reason_code, str):
        reason_code = selectors.reason_code_in_force(network=network, code=reason_code, on=occurred_at.date())
    if reason_code.network != network:
        raise InvalidDispute("The reason code belongs to another network.", fields={"reason_code": reason_code.code})
    if stage not in Stage.values:
        raise InvalidDispute(fields={"stage": stage})
    dates = deadlines.due_dates(
        network=network, stage=stage, response_days=reason_code.response_days, start=occurred_at
    )

    def work() -> Dispute:
        if not selectors.entry_involves_merchant(entry=entry_id, merchant_id=merchant_id):
            raise InvalidDispute(
                "The original transaction did not involve this merchant.", fields={"original_entry": str(entry_id)}
            )
        happened = JournalEntry.objects.filter(pk=entry_id).values_list("effective_at", flat=True).first()
        if happened is not None and occurred_at < happened:
            raise InvalidDispute(
                "A dispute cannot be opened before the transaction it disputes.",
                fields={"opened_at": occurred_at.isoformat(), "original_effective_at": happened.isoformat()},
            )
        original = selectors.original_amount(entry=entry_id, currency_code=currency_code)
        if amount > original:
            raise AmountExceedsOriginal(
                f"The disputed amount ({to_decimal_string(amount, currency_code)} {currency_code}) exceeds what the "
                f"original transaction moved in {currency_code} ({to_decimal_string(original, currency_code)}).",
                fields={"amount": amount, "original_amount": original},
            )
        dispute = Dispute(
            network=network,
            network_dispute_id=network_dispute_id,
            merchant_id=merchant_id,
            original_entry_id=entry_id,
            amount=amount,
            currency_code=currency_code,
            reason_code=reason_code,
            stage=stage,
            status=Status.NEEDS_RESPONSE,
            opened_at=occurred_at,
            stage_started_at=occurred_at,
            network_due_by=dates.network_due_by,
            due_by=dates.due_by,
            assignee=assignee,
        )
        dispute.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                dispute.save(force_insert=True)
        except IntegrityError:
            raise DisputeAlreadyExists(
                fields={"network_dispute_id": network_dispute_id, "original_entry": str(entry_id)}
            ) from None
        money: dict[str, Any] = {"hold_entry": None, "fee_entry": None, "fee": 0}
        if stage != Stage.INQUIRY:
            money = _hold_funds(dispute, actor=actor, occurred_at=occurred_at)
            Dispute.objects.filter(pk=dispute.pk).update(
                hold_entry=money["hold_entry"], fee_entry=money["fee_entry"], fee=money["fee"]
            )
            dispute.hold_entry, dispute.fee_entry, dispute.fee = money["hold_entry"], money["fee_entry"], money["fee"]
        audit_record(
            action="disputes.dispute.opened",
            actor=actor,
            occurred_at=occurred_at,
            target=dispute,
            tenant=f"merchant:{merchant_id}",
            data={
                "network": network,
                "network_dispute_id": network_dispute_id,
                "merchant_id": merchant_id,
                "original_entry": str(entry_id),
                "amount": amount,
                "currency": currency_code,
                "reason_code_id": reason_code.pk,
                "stage": stage,
                "network_due_by": dates.network_due_by.isoformat(),
                "due_by": dates.due_by.isoformat(),
                "fee": money["fee"],
                "entries": _entry_ids(hold=money["hold_entry"], fee=money["fee_entry"]),
            },
        )
        return dispute

    return run_atomic(work)


# --- transitions ----------------------------------------------------------------------------------


def _audit_transition(
    dispute: Dispute, step: Step, *, event: str, actor: Actor, occurred_at: datetime, **data: Any
) -> None:
    audit_record(
        action=f"disputes.dispute.{event}",
        actor=actor,
        occurred_at=occurred_at,
        target=dispute,
        tenant=f"merchant:{dispute.merchant_id}",
        data={
            "before": {"status": step.from_status, "stage": step.from_stage},
            "after": {"status": step.to_status, "stage": step.to_stage},
            **data,
        },
    )


def _close(
    dispute: Dispute, step: Step, *, event: str, actor: Actor, occurred_at: datetime, **audit_data: Any
) -> Dispute:
    outcome_entry = _settle_outcome(dispute, to_status=step.to_status, actor=actor, occurred_at=occurred_at)
    _guarded_update(dispute, step, outcome_at=occurred_at, outcome_entry=outcome_entry)
    _cancel_pending_requests(dispute, occurred_at=occurred_at)
    _audit_transition(
        dispute,
        step,
        event=event,
        actor=actor,
        occurred_at=occurred_at,
        amount=dispute.amount,
        currency=dispute.currency_code,
        funds="released" if step.to_status == Status.WON else ("to_issuer" if outcome_entry else "none_held"),
        entries=_entry_ids(outcome=outcome_entry),
        **audit_data,
    )
    return dispute


def _rebuttal_lines(dispute: Dispute, items: list[DisputeEvidence], *, occurred_at: datetime) -> list[str]:
    reason = dispute.reason_code
    labels = dict(EvidenceKind.choices)
    lines = [
        "Response to dispute (representment)",
        "",
        f"Network: {dispute.get_network_display()}    Network dispute id: {dispute.network_dispute_id}",
        f"Reason code: {reason.code} {reason.name} ({reason.get_category_display()}), catalog version {reason.version}",
        f"Stage: {dispute.get_stage_display()}    Network deadline: {dispute.network_due_by:%Y-%m-%d %H:%M} UTC",
        f"Merchant: {dispute.merchant.name} ({dispute.merchant.reference})",
        f"Original transaction: {dispute.original_entry_id}",
        f"Disputed amount: {to_decimal_string(dispute.amount, dispute.currency_code)} {dispute.currency_code}",
        f"Prepared: {occurred_at:%Y-%m-%d %H:%M} UTC",
        "",
        "The merchant contests this dispute. The enclosed evidence shows that the transaction was valid:",
        "",
    ]
    for item in items:
        label = labels.get(item.kind, item.kind)
        if item.file:
            lines.append(
                f"- {label}: enclosed file {item.filename} ({item.content_type}, {item.size} bytes, "
                f"SHA-256 {item.sha256})"
            )
        else:
            lines.append(f"- {label}: {item.text}")
    if not items:
        lines.append("- (no evidence enclosed)")
    lines += ["", "We ask that the dispute be reversed in the merchant's favour.", "", "Strongroom disputes desk"]
    return lines


def _submit(dispute: Dispute, *, actor: Actor, occurred_at: datetime, audit_data: dict[str, Any]) -> Dispute:
    step = plan(
        Action.SUBMIT, status=dispute.status, stage=dispute.stage, response_days=dispute.reason_code.response_days
    )
    missing = selectors.evidence_missing(dispute=dispute)
    if missing:
        raise EvidenceIncomplete(fields={"missing": missing})
    items = list(selectors.evidence_for(dispute=dispute))
    letter = pdf.render_text_pdf(
        title=f"Dispute {dispute.network_dispute_id} response",
        lines=_rebuttal_lines(dispute, items, occurred_at=occurred_at),
    )
    digest = hashlib.sha256(letter).hexdigest()
    dispute.rebuttal_letter.save(f"dispute-{dispute.pk}-{dispute.stage}.pdf", ContentFile(letter), save=False)
    _guarded_update(
        dispute,
        step,
        submitted_at=occurred_at,
        rebuttal_letter=dispute.rebuttal_letter.name,
        rebuttal_letter_sha256=digest,
    )
    _audit_transition(
        dispute,
        step,
        event="submitted",
        actor=actor,
        occurred_at=occurred_at,
        evidence_ids=[item.pk for item in items],
        letter_sha256=digest,
        **audit_data,
    )
    return dispute


def _accept(dispute: Dispute, *, actor: Actor, occurred_at: datetime, audit_data: dict[str, Any]) -> Dispute:
    step = plan(
        Action.ACCEPT, status=dispute.status, stage=dispute.stage, response_days=dispute.reason_code.response_days
    )
    return _close(dispute, step, event="accepted", actor=actor, occurred_at=occurred_at, **audit_data)


def dispute_submit(
    *, dispute: Dispute | int, actor: Actor, occurred_at: datetime, acting_directly: bool = False
) -> Dispute:
    """Platform automation submits the response directly (acting_directly=True, recorded in the audit row):
    freezes the evidence, moves to under_review and stores the PDF rebuttal letter. People go through
    `dispute_action_request_create` + `dispute_action_request_approve`."""
    _refuse_people_acting_directly(ActionKind.SUBMIT, actor=actor, acting_directly=acting_directly)
    return run_atomic(
        lambda: _submit(_locked(dispute), actor=actor, occurred_at=occurred_at, audit_data={"acting_directly": True})
    )


def dispute_accept(
    *, dispute: Dispute | int, actor: Actor, occurred_at: datetime, acting_directly: bool = False
) -> Dispute:
    """Platform automation accepts the loss directly (acting_directly=True): held funds go to the issuer."""
    _refuse_people_acting_directly(ActionKind.ACCEPT, actor=actor, acting_directly=acting_directly)
    return run_atomic(
        lambda: _accept(_locked(dispute), actor=actor, occurred_at=occurred_at, audit_data={"acting_directly": True})
    )


def dispute_resolve(
    *, dispute: Dispute | int, outcome: str, actor: Actor, occurred_at: datetime, reason: str = ""
) -> Dispute:
    """The network's decision: won releases the hold to the merchant, lost sends it to issuer settlement."""
    if outcome not in Outcome.values:
        raise InvalidDispute("The outcome is 'won' or 'lost'.", fields={"outcome": outcome})

    def work() -> Dispute:
        locked = _locked(dispute)
        action = Action.RESOLVE_WON if outcome == Outcome.WON else Action.RESOLVE_LOST
        step = plan(action, status=locked.status, stage=locked.stage, response_days=locked.reason_code.response_days)
        return _close(locked, step, event=outcome, actor=actor, occurred_at=occurred_at, reason=reason[:500])

    return run_atomic(work)


def dispute_expire(*, dispute: Dispute | int, actor: Actor, occurred_at: datetime) -> Dispute:
    """No response by due_by: the dispute is lost by default (held funds to the issuer)."""

    def work() -> Dispute:
        locked = _locked(dispute)
        step = plan(
            Action.EXPIRE, status=locked.status, stage=locked.stage, response_days=locked.reason_code.response_days
        )
        return _close(
            locked, step, event="expired", actor=actor, occurred_at=occurred_at, due_by=locked.due_by.isoformat()
        )

    return run_atomic(work)


def dispute_escalate(*, dispute: Dispute | int, actor: Actor, occurred_at: datetime, reason: str = "") -> Dispute:
    """The issuer escalates: the next stage (per the reason code) with new deadlines from `occurred_at`;
    the dispute needs a response again. Inquiry → chargeback holds the amount and charges the fee."""

    def work() -> Dispute:
        locked = _locked(dispute)
        code = locked.reason_code
        step = plan(Action.ESCALATE, status=locked.status, stage=locked.stage, response_days=code.response_days)
        dates = deadlines.due_dates(
            network=locked.network, stage=step.to_stage, response_days=code.response_days, start=occurred_at
        )
        changes: dict[str, Any] = {
            "stage": step.to_stage,
            "stage_started_at": occurred_at,
            "network_due_by": dates.network_due_by,
            "due_by": dates.due_by,
            "submitted_at": None,
        }
        money: dict[str, Any] = {}
        if locked.hold_entry_id is None:
            money = _hold_funds(locked, actor=actor, occurred_at=occurred_at)
            changes.update(money)
        _guarded_update(locked, step, **changes)
        _cancel_pending_requests(locked, occurred_at=occurred_at)
        _audit_transition(
            locked,
            step,
            event="escalated",
            actor=actor,
            occurred_at=occurred_at,
            network_due_by=dates.network_due_by.isoformat(),
            due_by=dates.due_by.isoformat(),
            entries=_entry_ids(hold=money.get("hold_entry"), fee=money.get("fee_entry")),
            reason=reason[:500],
        )
        return locked

    return run_atomic(work)


# --- maker-checker --------------------------------------------------------------------------------


def dispute_action_request_create(
    *,
    dispute: Dispute | int,
    action: str,
    actor: Actor,
    occurred_at: datetime,
    requested_by: Any = None,
    requested_by_client: Any = None,
    note: str = "",
) -> DisputeActionRequest:
    """An analyst (`requested_by`) or an API client without the automation scope (`requested_by_client`)
    prepares a submit or accept; nothing moves until a compliance lead, another person, approves."""
    if action not in ActionKind.values:
        raise InvalidDispute("Requests are for 'submit' or 'accept'.", fields={"action": action})
    if (requested_by is None) == (requested_by_client is None):
        raise InvalidDispute("A request has one maker: a person or an API client.")

    def work() -> DisputeActionRequest:
        locked = _locked(dispute)
        plan(action, status=locked.status, stage=locked.stage, response_days=locked.reason_code.response_days)
        if action == ActionKind.SUBMIT and (missing := selectors.evidence_missing(dispute=locked)):
            raise EvidenceIncomplete(fields={"missing": missing})
        request = DisputeActionRequest(
            dispute=locked,
            action=action,
            requested_by=requested_by,
            requested_by_client=requested_by_client,
            requested_at=occurred_at,
            note=note[:500],
        )
        try:
            with transaction.atomic():
                request.save(force_insert=True)
        except IntegrityError:
            raise ActionRequestAlreadyPending(fields={"dispute": locked.pk}) from None
        audit_record(
            action="disputes.action_request.created",
            actor=actor,
            occurred_at=occurred_at,
            target=request,
            tenant=f"merchant:{locked.merchant_id}",
            data={
                "dispute_id": locked.pk,
                "action": action,
                "requested_by": getattr(requested_by, "pk", None),
                "requested_by_client": getattr(requested_by_client, "client_id", None),
                "note": note[:500],
            },
        )
        return request

    return run_atomic(work)


def _decide(
    request: DisputeActionRequest | int, *, decided_by: Any, occurred_at: datetime
) -> tuple[Dispute, DisputeActionRequest]:
    pk = request if isinstance(request, int) else request.pk
    dispute_id = DisputeActionRequest.objects.filter(pk=pk).values_list("dispute_id", flat=True).first()
    if dispute_id is None:
        raise ActionRequestNotPending("No such request.", fields={"request": pk})
    dispute = _locked(dispute_id)  # lock order: dispute, then its request
    locked = lock_action_request(pk=pk)
    if locked is None or locked.status != RequestStatus.PENDING:
        raise ActionRequestNotPending(fields={"request": pk, "status": getattr(locked, "status", None)})
    if locked.requested_by_id is not None and locked.requested_by_id == decided_by.pk:
        raise UnableToApproveRequest("Nobody decides their own request (four eyes).", fields={"request": pk})
    if not is_compliance_lead(decided_by):
        raise UnableToApproveRequest("Only a compliance lead decides requests.", fields={"request": pk})
    return dispute, locked


def dispute_action_request_approve(
    *, request: DisputeActionRequest | int, approved_by: Any, actor: Actor, occurred_at: datetime, note: str = ""
) -> Dispute:
    """A compliance lead other than the maker approves: the dispute is submitted or accepted now."""

    def work() -> Dispute:
        dispute, locked = _decide(request, decided_by=approved_by, occurred_at=occurred_at)
        audit_data = {
            "acting_directly": False,
            "action_request_id": locked.pk,
            "maker": locked.requested_by_id,
            "checker": approved_by.pk,
        }
        updated = DisputeActionRequest.objects.filter(pk=locked.pk, status=RequestStatus.PENDING).update(
            status=RequestStatus.APPROVED, decided_by=approved_by, decided_at=occurred_at, decision_note=note[:500]
        )
        if updated != 1:
            raise ActionRequestNotPending(fields={"request": locked.pk})
        audit_record(
            action="disputes.action_request.approved",
            actor=actor,
            occurred_at=occurred_at,
            target=locked,
            tenant=f"merchant:{dispute.merchant_id}",
            data={
                "dispute_id": dispute.pk,
                "action": locked.action,
                "maker": locked.requested_by_id,
                "checker": approved_by.pk,
            },
        )
        if locked.action == ActionKind.SUBMIT:
            return _submit(dispute, actor=actor, occurred_at=occurred_at, audit_data=audit_data)
        return _accept(dispute, actor=actor, occurred_at=occurred_at, audit_data=audit_data)

    return run_atomic(work)


def dispute_action_request_reject(
    *, request: DisputeActionRequest | int, rejected_by: Any, actor: Actor, occurred_at: datetime, note: str = ""
) -> DisputeActionRequest:
    """A compliance lead other than the maker turns the request down; the dispute does not move."""

    def work() -> DisputeActionRequest:
        dispute, locked = _decide(request, decided_by=rejected_by, occurred_at=occurred_at)
        DisputeActionRequest.objects.filter(pk=locked.pk).update(
            status=RequestStatus.REJECTED, decided_by=rejected_by, decided_at=occurred_at, decision_note=note[:500]
        )
        locked.refresh_from_db()
        audit_record(
            action="disputes.action_request.rejected",
            actor=actor,
            occurred_at=occurred_at,
            target=locked,
            tenant=f"merchant:{dispute.merchant_id}",
            data={
                "dispute_id": dispute.pk,
                "action": locked.action,
                "maker": locked.requested_by_id,
                "checker": rejected_by.pk,
            },
        )
        return locked

    return run_atomic(work)


# --- evidence -------------------------------------------------------------------------------------


def dispute_evidence_add(
    *,
    dispute: Dispute | int,
    kind: str,
    actor: Actor,
    occurred_at: datetime,
    upload: UploadedFile | None = None,
    text: str = "",
) -> DisputeEvidence:
    """Add one piece of evidence, text or a file. Files: PDF, PNG or JPEG judged by content (magic bytes),
    at most DISPUTES_EVIDENCE_MAX_BYTES, stored under a sanitised name with their SHA-256. Text must not
    contain a card number. Only while the dispute needs a response (submitting freezes the evidence)."""
    if kind not in EvidenceKind.values:
        raise evidence.EvidenceRejected("Unknown evidence kind.", fields={"kind": kind})
    if (upload is None) == (not text.strip()):
        raise evidence.EvidenceRejected("Give either a file or text.", fields={"kind": kind})
    sniffed = None
    if upload is not None:
        upload.seek(0)
        sniffed = evidence.read_upload(upload, declared_size=upload.size)
    elif evidence.contains_card_number(text):
        raise evidence.EvidenceRejected("Text evidence must not contain a card number.", fields={"kind": kind})

    def work() -> DisputeEvidence:
        locked = _locked(dispute)
        if locked.status != Status.NEEDS_RESPONSE:
            raise EvidenceFrozen(fields={"status": locked.status})
        item = DisputeEvidence(
            dispute=locked, kind=kind, stage=locked.stage, added_at=occurred_at, added_by_label=actor.label[:255]
        )
        if sniffed is not None:
            item.filename = evidence.sanitise_filename(upload.name or "", extension=sniffed.extension)
            item.content_type, item.size, item.sha256 = sniffed.content_type, sniffed.size, sniffed.sha256
            item.file.save(item.filename, ContentFile(sniffed.content), save=False)
        else:
            used = sum(len(t) for t in DisputeEvidence.objects.filter(dispute=locked).values_list("text", flat=True))
            if used + len(text) > MAX_TEXT_EVIDENCE_CHARS:
                raise evidence.EvidenceRejected(
                    f"Text evidence of a dispute is limited to {MAX_TEXT_EVIDENCE_CHARS} characters in all."
                )
            item.text = text.strip()
        item.full_clean(validate_constraints=False)
        item.save(force_insert=True)
        audit_record(
            action="disputes.evidence.added",
            actor=actor,
            occurred_at=occurred_at,
            target=locked,
            tenant=f"merchant:{locked.merchant_id}",
            data={
                "evidence_id": item.pk,
                "kind": kind,
                "stage": item.stage,
                "file": bool(sniffed),
                "content_type": item.content_type,
                "size": item.size,
                "sha256": item.sha256,
                "text_chars": len(item.text),
            },
        )
        return item

    return run_atomic(work)


# --- assignment -----------------------------------------------------------------------------------


def disputes_assign(*, disputes: Iterable[int], assignee: Any, actor: Actor, occurred_at: datetime) -> int:
    """Assign disputes to a compliance staff member (one audit event per dispute). Returns how many changed."""
    if assignee is not None and not is_compliance_staff(assignee):
        raise InvalidAssignee(fields={"assignee": getattr(assignee, "pk", None)})
    pks = sorted(set(disputes))
    new_id = getattr(assignee, "pk", None)

    def work() -> int:
        rows = list(
            Dispute.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk__in=pks)
            .exclude(assignee_id=new_id)
            .order_by("pk")
            .values_list("pk", "assignee_id", "merchant_id")
        )
        Dispute.objects.filter(pk__in=[r[0] for r in rows]).update(assignee_id=new_id, updated_at=timezone.now())
        for pk, before, merchant_id in rows:
            audit_record(
                action="disputes.dispute.assigned",
                actor=actor,
                occurred_at=occurred_at,
                object_type=Dispute._meta.label_lower,
                object_id=str(pk),
                tenant=f"merchant:{merchant_id}",
                data={"before": {"assignee": before}, "after": {"assignee": new_id}},
            )
        return len(rows)

    return run_atomic(work)


# --- catalog --------------------------------------------------------------------------------------


def reason_code_save(*, reason_code: ReasonCode, actor: Actor, occurred_at: datetime) -> ReasonCode:
    """Add a catalog version, or change one no dispute uses yet (a used version is history: add a new one)."""

    def work() -> ReasonCode:
        is_new = reason_code.pk is None
        if not is_new and Dispute.objects.filter(reason_code_id=reason_code.pk).exists():
            raise ReasonCodeInUse(fields={"reason_code": reason_code.pk})
        unknown = [k for k in reason_code.required_evidence or [] if k not in EvidenceKind.values]
        if unknown or any(s not in Stage.values for s in (reason_code.response_days or {})):
            raise InvalidDispute("Unknown evidence kind or stage in the reason code.", fields={"unknown": unknown})
        reason_code.full_clean()
        reason_code.save()
        audit_record(
            action="disputes.reason_code.created" if is_new else "disputes.reason_code.changed",
            actor=actor,
            occurred_at=occurred_at,
            target=reason_code,
            data={
                "network": reason_code.network,
                "code": reason_code.code,
                "version": reason_code.version,
                "category": reason_code.category,
                "response_days": reason_code.response_days,
                "required_evidence": reason_code.required_evidence,
                "effective_from": reason_code.effective_from.isoformat(),
                "effective_to": reason_code.effective_to.isoformat() if reason_code.effective_to else None,
            },
        )
        return reason_code

    return run_atomic(work)


# --- deadline sweep -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    expired: int
    alerts_recorded: int
    notifications: int


def alert_recipients(dispute: Dispute) -> list[int]:
    """The assignee if there is one, else every active compliance analyst and lead."""
    if dispute.assignee_id is not None:
        return [dispute.assignee_id]
    users = get_user_model().objects.filter(is_active=True, groups__name__in=[COMPLIANCE_ANALYST, COMPLIANCE_LEAD])
    return sorted(set(users.values_list("pk", flat=True)))


def _alert_one(pk: int, *, now: datetime, thresholds: list[timedelta], actor: Actor) -> int:
    """Record the thresholds this dispute crossed and has no alert for (at its current stage); one
    notification for the tightest. Locked with SKIP LOCKED: a second sweep passes over it."""
    from disputes.tasks import send_alert_email as send_alert_email_task

    def work() -> int:
        dispute = lock_dispute(pk=pk, skip_locked=True, status=Status.NEEDS_RESPONSE, due_by__gt=now)
        if dispute is None:
            return 0
        left = dispute.due_by - now
        crossed = [int(t.total_seconds()) for t in thresholds if left <= t]
        done = set(
            DisputeAlert.objects.filter(dispute=dispute, stage=dispute.stage).values_list(
                "threshold_seconds", flat=True
            )
        )
        new = [seconds for seconds in crossed if seconds not in done]
        if not new:
            return 0
        recipients = alert_recipients(dispute)
        DisputeAlert.objects.bulk_create(
            [
                DisputeAlert(
                    dispute=dispute,
                    stage=dispute.stage,
                    threshold_seconds=seconds,
                    due_by=dispute.due_by,
                    sent_at=now,
                    recipients=recipients,
                )
                for seconds in new
            ]
        )
        tightest = min(new)
        audit_record(
            action="disputes.dispute.deadline_alerted",
            actor=actor,
            occurred_at=now,
            target=dispute,
            tenant=f"merchant:{dispute.merchant_id}",
            data={"thresholds": new, "due_by": dispute.due_by.isoformat(), "recipients": recipients},
        )
        transaction.on_commit(
            lambda: send_alert_email_task.apply_async(
                kwargs={"dispute_id": dispute.pk, "stage": dispute.stage, "threshold_seconds": tightest}
            )
        )
        return len(new)

    return run_atomic(work)


def _expire_one(pk: int, *, now: datetime, actor: Actor) -> bool:
    def work() -> bool:
        dispute = lock_dispute(pk=pk, skip_locked=True, status=Status.NEEDS_RESPONSE, due_by__lte=now)
        if dispute is None:
            return False
        step = plan(
            Action.EXPIRE, status=dispute.status, stage=dispute.stage, response_days=dispute.reason_code.response_days
        )
        _close(dispute, step, event="expired", actor=actor, occurred_at=now, due_by=dispute.due_by.isoformat())
        return True

    return run_atomic(work)


def disputes_sweep(*, now: datetime, actor: Actor, limit: int | None = None) -> SweepResult:
    """The deadline sweep (beat, every 15 minutes): expire unanswered disputes past due_by, then alert at
    each threshold (default 7 d, 3 d, 1 d, 4 h) once per dispute and stage. Each dispute is handled in its
    own short transaction under SKIP LOCKED, with unique constraints and ledger idempotency keys as
    backstops, so rerunning it or running two at once alerts nobody twice and moves money once."""
    batch = limit or int(conf.get("DISPUTES_SWEEP_BATCH_SIZE"))
    thresholds = conf.alert_thresholds()
    expired = sum(
        _expire_one(pk, now=now, actor=actor) for pk in selectors.disputes_due_for_expiry(now=now, limit=batch)
    )
    recorded = notifications = 0
    for pk in selectors.disputes_due_for_alert(now=now, thresholds=thresholds, limit=batch):
        try:
            count = _alert_one(pk, now=now, thresholds=thresholds, actor=actor)
        except IntegrityError:  # another sweep recorded it first (backstop; the row lock normally prevents it)
            count = 0
        recorded += count
        notifications += 1 if count else 0
    return SweepResult(expired=expired, alerts_recorded=recorded, notifications=notifications)


def alert_email_send(*, dispute_id: int, stage: str, threshold_seconds: int) -> int:
    """Email the recipients recorded on the alert. Returns the number of addresses mailed."""
    from django.core.mail import send_mail

    alert = (
        DisputeAlert.objects.select_related("dispute__merchant", "dispute__reason_code")
        .filter(dispute_id=dispute_id, stage=stage, threshold_seconds=threshold_seconds)
        .first()
    )
    if alert is None:
        return 0
    emails = sorted(
        set(
            get_user_model()
            .objects.filter(pk__in=alert.recipients, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if not emails:
        return 0
    dispute = alert.dispute
    left = deadlines.format_time_left(due_by=dispute.due_by, now=alert.sent_at)
    send_mail(
        subject=f"[Strongroom] Dispute {dispute.network_dispute_id} due in {left}",
        message=(
            f"Dispute {dispute.pk} ({dispute.get_network_display()} {dispute.network_dispute_id}, reason "
            f"{dispute.reason_code.code}) for {dispute.merchant.name} needs a response by "
            f"{dispute.due_by:%Y-%m-%d %H:%M} UTC (network deadline {dispute.network_due_by:%Y-%m-%d %H:%M} UTC).\n"
            f"Disputed: {to_decimal_string(dispute.amount, dispute.currency_code)} {dispute.currency_code}.\n"
        ),
        from_email=None,
        recipient_list=emails,
    )
    return len(emails)


__all__ = [
    "SweepResult",
    "alert_email_send",
    "dispute_accept",
    "dispute_action_request_approve",
    "dispute_action_request_create",
    "dispute_action_request_reject",
    "dispute_escalate",
    "dispute_evidence_add",
    "dispute_expire",
    "dispute_open",
    "dispute_resolve",
    "dispute_submit",
    "disputes_assign",
    "disputes_sweep",
    "reason_code_save",
]
