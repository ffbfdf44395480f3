"""Posting entries: balanced entries, two-line transfers, one-sided postings against suspense, batches,
and reversals. Amounts are integers in minor units; the API layer parses decimal strings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError

from audit.context import Actor
from ledger import chart
from ledger.choices import EntryStatus, LinePhase, Side
from ledger.errors import EntryAlreadyReversed, IdempotencyKeyReused, InvalidEntry, UnableToReverseEntry
from ledger.models import Account, JournalEntry, JournalLine
from ledger.services.posting import (
    Condition,
    EntrySpec,
    LineSpec,
    _execute,
    _Plan,
    account_pk,
    entry_pk,
    fingerprint,
    lines_payload,
    new_entry,
    run_posting,
    validate_lines,
)


def entry_post(
    *,
    lines: Sequence[LineSpec],
    actor: Actor,
    occurred_at: datetime,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    conditions: Sequence[Condition] = (),
    idempotency_source: str = "",
    idempotency_key: str = "",
    pending: bool = False,
    timeout_at: datetime | None = None,
    group_id: Any = None,
    template_name: str = "",
    template_version: int | None = None,
) -> JournalEntry:
    """Post one balanced entry (or, with `pending=True`, create a hold that reserves its amounts).

    Refuses: fewer than two lines or a non-positive amount (invalid_entry), debits ≠ credits in a
    currency (unbalanced_entry), a frozen or closed account (account_frozen), a balance rule
    broken (insufficient_funds), a failed condition (condition_failed). With an idempotency key, a
    repeat of the same request returns the first entry; a different request is refused (409).
    """
    lines = validate_lines(lines)
    if not pending and (timeout_at is not None or group_id is not None):
        raise InvalidEntry("Only pending transfers have a timeout or a group.", fields={"pending": False})
    if timeout_at is not None and timeout_at <= occurred_at:
        raise InvalidEntry("The timeout must be after the transfer is created.", fields={"timeout_at": str(timeout_at)})
    digest = fingerprint("entry", [lines_payload(lines), pending, template_name]) if idempotency_key else ""
    entry = new_entry(
        actor=actor,
        occurred_at=occurred_at,
        description=description,
        metadata=metadata,
        status=EntryStatus.PENDING if pending else EntryStatus.POSTED,
        is_hold=pending,
        timeout_at=timeout_at,
        group_id=group_id,
        template_name=template_name,
        template_version=template_version,
        idempotency_source=idempotency_source if idempotency_key else "",
        idempotency_key=idempotency_key,
        idempotency_fingerprint=digest,
    )
    plan = _Plan(
        entry=entry,
        lines=lines,
        phase=LinePhase.PENDING if pending else LinePhase.POSTED,
        conditions=conditions,
        audit_action="ledger.transfer.pending" if pending else "ledger.entry.posted",
        fingerprint=digest,
    )

    def work() -> JournalEntry:
        return _execute([plan], actor=actor, occurred_at=occurred_at, idempotency_source=idempotency_source)[0]

    return run_posting(
        work, idempotency_source=idempotency_source, idempotency_key=idempotency_key, fingerprint_=digest
    )


def transfer_create(
    *,
    debit_account: Account | int,
    credit_account: Account | int,
    amount: int,
    actor: Actor,
    occurred_at: datetime,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    conditions: Sequence[Condition] = (),
    idempotency_source: str = "",
    idempotency_key: str = "",
) -> JournalEntry:
    """Post a two-line entry: debit one account, credit another, same amount (same currency)."""
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
    )


def _one_sided(
    side: str, account: Account | int, amount: int, currency_code: str | None, **kwargs: Any
) -> JournalEntry:
    if currency_code is None:
        currency_code = (
            account.currency_code
            if isinstance(account, Account)
            else Account.objects.values_list("currency_code", flat=True).filter(pk=account).first()
        )
    other = Side.CREDIT if side == Side.DEBIT else Side.DEBIT
    return entry_post(
        lines=[
            LineSpec(side=side, amount=amount, account_id=account_pk(account)),
            LineSpec(side=other, amount=amount, address=chart.platform_address("suspense", currency_code or "")),
        ],
        **kwargs,
    )


def account_credit(
    *, account: Account | int, amount: int, actor: Actor, occurred_at: datetime, **options: Any
) -> JournalEntry:
    """Credit one account; the platform suspense account of its currency takes the debit."""
    return _one_sided(Side.CREDIT, account, amount, None, actor=actor, occurred_at=occurred_at, **options)


def account_debit(
    *, account: Account | int, amount: int, actor: Actor, occurred_at: datetime, **options: Any
) -> JournalEntry:
    """Debit one account; the platform suspense account of its currency takes the credit."""
    return _one_sided(Side.DEBIT, account, amount, None, actor=actor, occurred_at=occurred_at, **options)


def entries_post_batch(
    *,
    entries: Sequence[EntrySpec],
    actor: Actor,
    occurred_at: datetime,
    idempotency_source: str = "",
    description: str = "",
) -> list[JournalEntry]:
    """Post many entries all-or-nothing: one lock pass, one INSERT for entries, one for lines,
    one update per account, one audit row (`ledger.batch.posted`) listing the entries."""
    if not entries:
        raise InvalidEntry("A batch has at least one entry.", fields={"entries": "Empty."})
    plans = []
    for index, spec in enumerate(entries):
        try:
            lines = validate_lines(spec.lines)
        except InvalidEntry as error:
            raise InvalidEntry(f"Entry {index + 1}: {error.message}", fields={"entry": index, **error.fields}) from None
        digest = fingerprint("entry", [lines_payload(lines), False, ""]) if spec.idempotency_key else ""
        entry = new_entry(
            actor=actor,
            occurred_at=occurred_at,
            description=spec.description or description,
            metadata=spec.metadata,
            idempotency_source=idempotency_source if spec.idempotency_key else "",
            idempotency_key=spec.idempotency_key,
            idempotency_fingerprint=digest,
        )
        plans.append(_Plan(entry=entry, lines=lines, fingerprint=digest))
    lines_total = sum(len(plan.lines) for plan in plans)

    def work() -> list[JournalEntry]:
        return _execute(
            plans,
            actor=actor,
            occurred_at=occurred_at,
            idempotency_source=idempotency_source,
            batch_audit={"count": len(plans), "lines": lines_total, "description": description[:255]},
        )

    try:
        return run_posting(work)
    except IntegrityError:
        keys = [spec.idempotency_key for spec in entries if spec.idempotency_key]
        used = JournalEntry.objects.filter(idempotency_source=idempotency_source, idempotency_key__in=keys)
        if keys and used.exists():
            raise IdempotencyKeyReused(
                "Idempotency keys of this batch were already used.",
                fields={"idempotency_key": sorted(used.values_list("idempotency_key", flat=True))},
            ) from None
        raise


def entry_reverse(*, entry: JournalEntry | Any, actor: Actor, occurred_at: datetime, reason: str) -> JournalEntry:
    """Post the mirror image of a posted entry, linked to it (`reversal_of`). Once per entry."""
    original = JournalEntry.objects.filter(pk=entry_pk(entry)).first()
    if original is None:
        raise UnableToReverseEntry("No such entry.", fields={"entry": str(entry_pk(entry))})
    if original.status != EntryStatus.POSTED or original.is_hold:
        raise UnableToReverseEntry(
            f"Entry {original.pk} is a {'hold' if original.is_hold else original.status} entry; only posted entries "
            "are reversed (void or post a pending transfer instead).",
            fields={"entry": str(original.pk), "status": original.status},
        )
    if not reason.strip():
        raise InvalidEntry("A reversal needs a reason.", fields={"reason": "Required."})
    rows = JournalLine.objects.filter(entry_id=original.pk).order_by("pk").values_list("account_id", "side", "amount")
    mirrored = [
        LineSpec(side=Side.CREDIT if side == Side.DEBIT else Side.DEBIT, amount=amount, account_id=account_id)
        for account_id, side, amount in rows
    ]
    reversal = new_entry(
        actor=actor,
        occurred_at=occurred_at,
        description=f"Reversal of {original.pk}: {reason}",
        metadata={"reason": reason[:500]},
        reversal_of=original,
    )
    plan = _Plan(
        entry=reversal,
        lines=mirrored,
        audit_action="ledger.entry.reversed",
        audit_extra={"reversal_of": str(original.pk), "reason": reason[:500]},
    )

    def refuse_if_reversed() -> None:  # under the account locks, which every reversal of it takes
        if JournalEntry.objects.filter(reversal_of_id=original.pk).exclude(pk=reversal.pk).exists():
            raise EntryAlreadyReversed(f"Entry {original.pk} is already reversed.", fields={"entry": str(original.pk)})

    try:
        return run_posting(
            lambda: _execute([plan], actor=actor, occurred_at=occurred_at, after_lock=refuse_if_reversed)[0]
        )
    except IntegrityError:  # the DB's unique reversal_of: a reversal committed in between
        refuse_if_reversed()
        raise
