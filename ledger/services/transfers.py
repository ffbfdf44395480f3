"""Two-phase (pending) transfers: a hold reserves amounts; it is then posted (fully or partly) or
voided, exactly once, by a guarded status transition taken under the account locks. Holds sharing a
`group_id` are posted or voided together, atomically. Holds past their timeout are voided by the
`ledger.expire_pending` beat task."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings

from audit.context import Actor
from ledger.choices import EntryStatus, LinePhase, Side
from ledger.errors import InvalidPostAmount, TransferNotPending
from ledger.models import Account, JournalEntry, JournalLine
from ledger.services.entries import entry_post
from ledger.services.posting import (
    Condition,
    LineSpec,
    _execute,
    _Plan,
    account_pk,
    entry_pk,
    new_entry,
    run_posting,
)

logger = logging.getLogger(__name__)


def transfer_pend(
    *,
    debit_account: Account | int,
    credit_account: Account | int,
    amount: int,
    actor: Actor,
    occurred_at: datetime,
    timeout_at: datetime | None = None,
    group_id: Any = None,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    conditions: Sequence[Condition] = (),
    idempotency_source: str = "",
    idempotency_key: str = "",
) -> JournalEntry:
    """Reserve `amount` (pending debit and pending credit). Returns the hold (status pending)."""
    return entry_post(
        lines=[
            LineSpec(side=Side.DEBIT, amount=amount, account_id=account_pk(debit_account)),
            LineSpec(side=Side.CREDIT, amount=amount, account_id=account_pk(credit_account)),
        ],
        actor=actor,
        occurred_at=occurred_at,
        description=description,
        metadata=metadata,
        conditions=conditions,
        idempotency_source=idempotency_source,
        idempotency_key=idempotency_key,
        pending=True,
        timeout_at=timeout_at,
        group_id=group_id,
    )


def _holds_with_lines(ids: list[Any]) -> tuple[list[JournalEntry], dict[Any, list[tuple[int, str, int]]]]:
    holds = list(JournalEntry.objects.filter(pk__in=ids).order_by("pk"))
    lines: dict[Any, list[tuple[int, str, int]]] = defaultdict(list)
    for entry_id, account_id, side, amount in (
        JournalLine.objects.filter(entry_id__in=[h.pk for h in holds], phase=LinePhase.PENDING)
        .order_by("pk")
        .values_list("entry_id", "account_id", "side", "amount")
    ):
        lines[entry_id].append((account_id, side, amount))
    return holds, lines


def _refuse_unless_pending(holds: list[JournalEntry], wanted: int, occurred_at: datetime | None) -> None:
    not_pending = [h for h in holds if not h.is_hold or h.status != EntryStatus.PENDING]
    expired = [h for h in holds if occurred_at is not None and h.timeout_at is not None and h.timeout_at <= occurred_at]
    if len(holds) != wanted or not_pending or expired:
        detail = ", ".join(f"{h.pk} is {h.status if h.is_hold else 'not a hold'}" for h in not_pending)
        detail += ", ".join(f"{h.pk} timed out at {h.timeout_at}" for h in expired)
        raise TransferNotPending(
            f"Not pending: {detail or 'no such transfer'}.",
            fields={"transfers": [str(h.pk) for h in (not_pending + expired)] or "unknown"},
        )


def _posting_plan(
    hold: JournalEntry,
    lines: list[tuple[int, str, int]],
    amount: int | None,
    actor: Actor,
    occurred_at: datetime,
    reason: str = "",
) -> _Plan:
    pending_amount = lines[0][2] if lines else 0
    if amount is not None:
        if len(lines) != 2 or lines[0][2] != lines[1][2]:
            raise InvalidPostAmount("Only a two-line transfer can be posted partially.", fields={"amount": amount})
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= pending_amount:
            raise InvalidPostAmount(
                f"The amount to post must be between 1 and the pending {pending_amount}.",
                fields={"amount": amount, "pending": pending_amount},
            )
    posting = new_entry(
        actor=actor,
        occurred_at=occurred_at,
        description=hold.description,
        metadata=hold.metadata,
        pending_entry=hold,
        template_name=hold.template_name,
        template_version=hold.template_version,
    )
    posted = [
        LineSpec(side=side, amount=amount or line_amount, account_id=account) for account, side, line_amount in lines
    ]
    return _Plan(
        entry=posting,
        lines=posted,
        releases=list(lines),
        audit_action="ledger.transfer.posted",
        audit_target=hold,
        audit_extra={
            "transfer": str(hold.pk),
            "posting": str(posting.pk),
            "pending_amount": sum(a for _, s, a in lines if s == Side.DEBIT),
            "posted_amount": sum(line.amount for line in posted if line.side == Side.DEBIT),
            "reason": reason[:500],
        },
    )


def _void_plan(hold: JournalEntry, lines: list[tuple[int, str, int]], action: str, reason: str) -> _Plan:
    return _Plan(
        entry=None,
        lines=[],
        releases=list(lines),
        audit_action=action,
        audit_target=hold,
        audit_extra={
            "transfer": str(hold.pk),
            "released": [[account, side, amount] for account, side, amount in lines],
            "reason": reason[:500],
        },
    )


def transfer_post(
    *, transfer: JournalEntry | Any, actor: Actor, occurred_at: datetime, amount: int | None = None, reason: str = ""
) -> JournalEntry:
    """Post a hold: fully, or `amount` of a two-line hold (the rest is released). Returns the posting
    entry. A hold already posted, voided or past its timeout is refused: transfer_not_pending (409)."""
    holds, lines = _holds_with_lines([entry_pk(transfer)])
    _refuse_unless_pending(holds, 1, occurred_at)
    hold = holds[0]
    plan = _posting_plan(hold, lines[hold.pk], amount, actor, occurred_at, reason)
    return run_posting(
        lambda: _execute([plan], actor=actor, occurred_at=occurred_at, resolve={hold.pk: EntryStatus.POSTED})[0]
    )


def transfer_void(
    *,
    transfer: JournalEntry | Any,
    actor: Actor,
    occurred_at: datetime,
    reason: str = "",
    _action: str = "ledger.transfer.voided",
) -> JournalEntry:
    """Release a hold. Returns the hold, now voided. Refused once it is posted or voided (409)."""
    holds, lines = _holds_with_lines([entry_pk(transfer)])
    _refuse_unless_pending(holds, 1, None)
    hold = holds[0]
    plan = _void_plan(hold, lines[hold.pk], _action, reason)
    run_posting(lambda: _execute([plan], actor=actor, occurred_at=occurred_at, resolve={hold.pk: EntryStatus.VOIDED}))
    hold.refresh_from_db()
    return hold


def _group(group_id: Any) -> list[Any]:
    ids = list(JournalEntry.objects.filter(group_id=group_id).order_by("pk").values_list("pk", flat=True))
    if not ids:
        raise TransferNotPending("No pending transfers in this group.", fields={"group_id": str(group_id)})
    return ids


def transfer_group_post(*, group_id: Any, actor: Actor, occurred_at: datetime) -> list[JournalEntry]:
    """Post every hold of the group in full, atomically: all of them or, if any is not pending, none."""
    ids = _group(group_id)
    holds, lines = _holds_with_lines(ids)
    _refuse_unless_pending(holds, len(ids), occurred_at)
    plans = [_posting_plan(hold, lines[hold.pk], None, actor, occurred_at) for hold in holds]
    resolve = {hold.pk: EntryStatus.POSTED for hold in holds}
    return run_posting(lambda: _execute(plans, actor=actor, occurred_at=occurred_at, resolve=resolve))


def transfer_group_void(*, group_id: Any, actor: Actor, occurred_at: datetime, reason: str = "") -> list[JournalEntry]:
    """Void every hold of the group, atomically. Returns the voided holds."""
    ids = _group(group_id)
    holds, lines = _holds_with_lines(ids)
    _refuse_unless_pending(holds, len(ids), None)
    plans = [_void_plan(hold, lines[hold.pk], "ledger.transfer.voided", reason) for hold in holds]
    resolve = {hold.pk: EntryStatus.VOIDED for hold in holds}
    run_posting(lambda: _execute(plans, actor=actor, occurred_at=occurred_at, resolve=resolve))
    return list(JournalEntry.objects.filter(pk__in=ids).order_by("pk"))


def transfers_expire(*, now: datetime, actor: Actor | None = None, limit: int | None = None) -> int:
    """Void holds whose timeout has passed (each in its own transaction). Returns how many were voided."""
    actor = actor or Actor.system("ledger.expire_pending")
    limit = limit or settings.LEDGER_EXPIRE_BATCH_SIZE
    due = list(
        JournalEntry.objects.filter(status=EntryStatus.PENDING, is_hold=True, timeout_at__lte=now)
        .order_by("timeout_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    voided = 0
    for pk in due:
        try:
            transfer_void(
                transfer=pk, actor=actor, occurred_at=now, reason="timeout", _action="ledger.transfer.expired"
            )
        except TransferNotPending:
            logger.info("hold %s was resolved before it could expire", pk)
            continue
        voided += 1
    return voided
