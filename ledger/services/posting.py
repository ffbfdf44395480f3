"""The posting engine: every movement of the ledger goes through `_execute`, in one transaction.

One pass: lock every account involved (ordered by pk, ledger/locks.py), check statuses, currencies,
balance and conditions on the locked rows, then write: the entries (one INSERT), each account's
totals (one SQL update per account, increments computed by the database), the lines (one INSERT)
and the audit rows. Nothing is written unless every check passes.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection
from django.db.models import F
from django.utils import timezone

from audit.context import Actor
from audit.services import audit_record
from ledger import chart
from ledger.choices import AccountStatus, BalanceRule, EntryStatus, LinePhase, OwnerKind, Side
from ledger.errors import (
    AccountNotActive,
    AccountNotFound,
    ConditionFailed,
    CurrencyMismatch,
    CurrencyNotEnabled,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidEntry,
    TransferNotPending,
    UnbalancedEntry,
)
from ledger.locks import lock_accounts
from ledger.models import Account, JournalEntry, JournalLine
from ledger.retry import run_atomic
from tenants.models import Merchant

T = TypeVar("T")


@dataclass(frozen=True)
class LineSpec:
    """One line to post: an account (pk or chart address), a side and a positive amount in minor units."""

    side: str
    amount: int
    account_id: int | None = None
    address: str = ""


@dataclass(frozen=True)
class Condition:
    """Checked under the lock before posting: available balance ≥ min_available and/or version == expected."""

    account_id: int | None = None
    address: str = ""
    min_available: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class EntrySpec:
    """One entry of a batch."""

    lines: Sequence[LineSpec]
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""


@dataclass
class _Plan:
    """One entry to write (or, for a void, none) and its effect on the accounts."""

    entry: JournalEntry | None
    lines: list[LineSpec]
    phase: str = LinePhase.POSTED
    releases: list[tuple[int, str, int]] = field(default_factory=list)  # (account, side, pending amount)
    conditions: Sequence[Condition] = ()
    audit_action: str = "ledger.entry.posted"
    audit_target: JournalEntry | None = None
    audit_extra: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""


class _State:
    """An account's totals as this transaction changes them (the row is locked)."""

    __slots__ = ("account", "pd", "pc", "nd", "nc", "version", "at", "lines", "before")

    def __init__(self, account: Account) -> None:
        self.account = account
        self.pd, self.pc = account.posted_debits, account.posted_credits
        self.nd, self.nc = account.pending_debits, account.pending_credits
        self.version, self.at, self.lines = account.version, account.last_line_at, 0
        self.before: int | None = None  # rule-available before the entry being checked

    def rule_available(self) -> int | None:
        """What the balance rule still allows to be taken; None when the account may go negative."""
        rule = self.account.balance_rule
        if rule == BalanceRule.DEBITS_WITHIN_CREDITS:
            return self.pc - self.pd - self.nd
        if rule == BalanceRule.CREDITS_WITHIN_DEBITS:
            return self.pd - self.pc - self.nc
        return None

    def available(self) -> int:
        net = self.pd - self.pc
        return net - self.nc if self.account.is_debit_normal else -net - self.nd

    def posted_balance(self) -> int:
        net = self.pd - self.pc
        return net if self.account.is_debit_normal else -net


def account_pk(account: Account | int) -> int:
    return account if isinstance(account, int) else account.pk


def entry_pk(entry: JournalEntry | Any) -> Any:
    return entry.pk if isinstance(entry, JournalEntry) else entry


def fingerprint(kind: str, payload: Any) -> str:
    text = json.dumps([kind, payload], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def lines_payload(lines: Iterable[LineSpec]) -> list[list[Any]]:
    return sorted([line.account_id or 0, line.address, line.side, line.amount] for line in lines)


def validate_lines(lines: Sequence[LineSpec]) -> list[LineSpec]:
    """Shape checks that need no database: ≥ 2 lines, known sides, positive integer amounts."""
    lines = list(lines)
    if len(lines) < 2:
        raise InvalidEntry("An entry has at least two lines.", fields={"lines": "At least two lines."})
    for index, line in enumerate(lines):
        if line.side not in Side.values:
            raise InvalidEntry(f"Line {index + 1}: side must be debit or credit.", fields={"lines": index})
        if isinstance(line.amount, bool) or not isinstance(line.amount, int) or line.amount <= 0:
            raise InvalidEntry(
                f"Line {index + 1}: the amount must be a positive integer of minor units.", fields={"lines": index}
            )
        if (line.account_id is None) == (not line.address):
            raise InvalidEntry(f"Line {index + 1}: name the account by pk or by address.", fields={"lines": index})
    return lines


def new_entry(
    *,
    actor: Actor,
    occurred_at: datetime,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    status: str = EntryStatus.POSTED,
    **fields: Any,
) -> JournalEntry:
    return JournalEntry(
        description=description[:255],
        status=status,
        effective_at=occurred_at,
        metadata=dict(metadata or {}),
        created_by_kind=actor.kind,
        created_by_id=actor.id[:64],
        created_by_label=actor.label[:255],
        **fields,
    )


# --- Accounts by address (chart of accounts) ---------------------------------------------------------


def _open_chart_accounts(addresses: Iterable[str], *, actor: Actor, occurred_at: datetime) -> None:
    """Open the standard accounts behind these chart addresses (all roles of that owner and currency)."""
    wanted: set[tuple[str, int | None, str]] = set()
    for address in addresses:
        parsed = chart.parse_address(address)
        if parsed is None:
            raise AccountNotFound(f"No account has the address {address!r}.", fields={"address": address})
        if parsed.currency_code not in settings.LEDGER_CURRENCIES:
            raise CurrencyNotEnabled(
                f"{parsed.currency_code!r} is not an enabled ledger currency.",
                fields={"currency": parsed.currency_code},
            )
        wanted.add((parsed.owner_kind, parsed.merchant_id, parsed.currency_code))
    merchant_ids = {merchant_id for _, merchant_id, _ in wanted if merchant_id is not None}
    known = set(Merchant.objects.filter(pk__in=merchant_ids).values_list("pk", flat=True))
    if merchant_ids - known:
        raise AccountNotFound(
            f"No merchant {sorted(merchant_ids - known)}.", fields={"merchant": sorted(merchant_ids - known)}
        )
    rows = []
    for owner_kind, merchant_id, currency in sorted(wanted, key=str):
        for role, spec in chart.CHART[owner_kind].items():
            address = str(chart.Address(owner_kind, merchant_id, role, currency))
            rows.append(
                Account(
                    account_number=address,
                    address=address,
                    role=role,
                    name=spec.name if merchant_id is None else f"{spec.name} #{merchant_id}",
                    type=spec.type,
                    balance_rule=spec.balance_rule,
                    currency_code=currency,
                    owner_kind=owner_kind,
                    merchant_id=merchant_id,
                )
            )
    existing = set(Account.objects.filter(address__in=[r.address for r in rows]).values_list("address", flat=True))
    created = [row for row in rows if row.address not in existing]
    Account.objects.bulk_create(created, ignore_conflicts=True)
    if created:
        audit_record(
            action="ledger.chart.opened",
            actor=actor,
            occurred_at=occurred_at,
            object_type="ledger.account",
            data={"addresses": sorted(row.address for row in created)},
        )


# --- The engine ------------------------------------------------------------------------------------


def _execute(
    plans: list[_Plan],
    *,
    actor: Actor,
    occurred_at: datetime,
    resolve: Mapping[Any, str] | None = None,
    idempotency_source: str = "",
    batch_audit: dict[str, Any] | None = None,
    after_lock: Callable[[], None] | None = None,
) -> list[JournalEntry]:
    """Lock, check and write `plans` in the caller's transaction. Returns the written entries.

    The entries are inserted first, before any lock is taken, so the account locks are held only
    for the checks, the balance updates, the lines and the audit rows (then the commit). A refusal
    rolls the entries back with everything else. An idempotency key already used fails that INSERT
    at once (unique constraint); `run_posting` then replays the first entry or refuses.
    """
    entries = [plan.entry for plan in plans if plan.entry is not None]
    JournalEntry.objects.bulk_create(entries)
    pks: set[int] = set()
    addresses: set[str] = set()
    for plan in plans:
        for item in (*plan.lines, *plan.conditions):
            if item.account_id is not None:
                pks.add(item.account_id)
            else:
                addresses.add(item.address)
        pks.update(account for account, _, _ in plan.releases)

    locked = lock_accounts(pks=pks, addresses=addresses)
    by_address = {account.address: account for account in locked.values() if account.address}
    missing_addresses = addresses - set(by_address)
    if missing_addresses:
        _open_chart_accounts(missing_addresses, actor=actor, occurred_at=occurred_at)
        more = lock_accounts(addresses=missing_addresses)
        locked.update(more)
        by_address.update({account.address: account for account in more.values()})
    missing = pks - set(locked)
    if missing:
        raise AccountNotFound(f"No ledger account {sorted(missing)}.", fields={"accounts": sorted(missing)})

    if after_lock is not None:
        after_lock()
    if resolve:
        _resolve_holds(resolve, occurred_at)

    states: dict[int, _State] = {}

    def state_of(account_id: int | None, address: str) -> _State:
        account = locked[account_id] if account_id is not None else by_address[address]
        if account.pk not in states:
            states[account.pk] = _State(account)
        return states[account.pk]

    line_rows: list[JournalLine] = []
    plan_lines: list[list[JournalLine]] = []
    for plan in plans:
        for condition in plan.conditions:
            _check_condition(condition, state_of(condition.account_id, condition.address))
        touched: dict[int, _State] = {}
        totals: dict[str, int] = defaultdict(int)
        rows: list[JournalLine] = []
        for line in plan.lines:
            state = state_of(line.account_id, line.address)
            account = state.account
            if account.status != AccountStatus.ACTIVE:
                raise AccountNotActive(
                    f"Account {account.account_number} is {account.status} and refuses postings.",
                    fields={"account": account.pk, "status": account.status},
                )
            if line.address and chart.parse_address(line.address).currency_code != account.currency_code:  # type: ignore[union-attr]
                raise CurrencyMismatch(fields={"account": account.pk})
            totals[account.currency_code] += line.amount if line.side == Side.DEBIT else -line.amount
            if account.pk not in touched:
                touched[account.pk] = state
                state.before = state.rule_available()
            debit = line.side == Side.DEBIT
            if plan.phase == LinePhase.POSTED:
                state.pd, state.pc = (state.pd + line.amount, state.pc) if debit else (state.pd, state.pc + line.amount)
            else:
                state.nd, state.nc = (state.nd + line.amount, state.nc) if debit else (state.nd, state.nc + line.amount)
            state.version += 1
            state.lines += 1
            if state.at is None or state.at < occurred_at:
                state.at = occurred_at
            rows.append(
                JournalLine(
                    entry=plan.entry,
                    account_id=account.pk,
                    side=line.side,
                    phase=plan.phase,
                    amount=line.amount,
                    currency_code=account.currency_code,
                    balance_after=state.posted_balance(),
                    account_version=state.version,
                    posted_at=state.at,
                )
            )
        unbalanced = {currency: net for currency, net in totals.items() if net}
        if unbalanced:
            raise UnbalancedEntry(
                f"Debits minus credits per currency: {unbalanced}; every currency must come to zero.",
                fields={"imbalance": unbalanced},
            )
        for account_id, side, amount in plan.releases:
            state = state_of(account_id, "")
            if side == Side.DEBIT:
                state.nd -= amount
            else:
                state.nc -= amount
            if account_id not in touched:
                state.version += 1
                touched[account_id] = state
                state.before = state.rule_available()
        for state in touched.values():
            _check_rule(state)
        line_rows.extend(rows)
        plan_lines.append(rows)

    _write_totals(states)
    JournalLine.objects.bulk_create(line_rows)
    _audit(plans, plan_lines, states, actor=actor, occurred_at=occurred_at, batch_audit=batch_audit)
    return entries


def _resolve_holds(resolve: Mapping[Any, str], occurred_at: datetime) -> None:
    """Guarded transitions pending → posted/voided: a hold resolved meanwhile makes the whole call fail."""
    by_status: dict[str, list[Any]] = defaultdict(list)
    for pk, status in resolve.items():
        by_status[status].append(pk)
    for status, ids in by_status.items():
        changed = JournalEntry.objects.filter(pk__in=ids, status=EntryStatus.PENDING, is_hold=True).update(
            status=status, resolved_at=occurred_at
        )
        if changed != len(ids):
            raise TransferNotPending(
                "The transfer is not pending (already posted, voided or expired).",
                fields={"transfers": [str(pk) for pk in ids]},
            )


def _check_condition(condition: Condition, state: _State) -> None:
    account = state.account
    if condition.expected_version is not None and state.version != condition.expected_version:
        raise ConditionFailed(
            f"Account {account.account_number} is at version {state.version}, not {condition.expected_version}.",
            fields={"account": account.pk, "version": state.version, "expected_version": condition.expected_version},
        )
    if condition.min_available is not None and state.available() < condition.min_available:
        raise ConditionFailed(
            f"Account {account.account_number} has {state.available()} available, less than {condition.min_available}.",
            fields={"account": account.pk, "available": state.available(), "min_available": condition.min_available},
        )


def _check_rule(state: _State) -> None:
    available = state.rule_available()
    if min(state.nd, state.nc) < 0:  # pragma: no cover - a release larger than its hold is a bug
        raise AssertionError(f"pending totals of account {state.account.pk} would go negative")
    if available is None or available >= 0:
        return
    before = state.before or 0
    requested = before - available
    raise InsufficientFunds(
        f"Account {state.account.account_number} has {before} available; the posting needs {requested}.",
        fields={"account": state.account.pk, "available": before, "requested": requested},
    )


def _write_totals(states: Mapping[int, _State]) -> None:
    """One SQL update per account (one statement for all on PostgreSQL), increments done by the database."""
    changed = []
    for state in states.values():
        account = state.account
        deltas = (
            state.pd - account.posted_debits,
            state.pc - account.posted_credits,
            state.nd - account.pending_debits,
            state.nc - account.pending_credits,
            state.version - account.version,
        )
        if any(deltas):
            changed.append((account.pk, *deltas, state.at if state.lines else None))
    if not changed:
        return
    now = timezone.now()
    if connection.vendor == "postgresql" and len(changed) > 1:
        columns = [list(column) for column in zip(*changed, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_account AS a SET posted_debits = a.posted_debits + v.pd, "
                "posted_credits = a.posted_credits + v.pc, pending_debits = a.pending_debits + v.nd, "
                "pending_credits = a.pending_credits + v.nc, version = a.version + v.n, "
                "last_line_at = COALESCE(v.at, a.last_line_at), updated_at = %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
                "%s::timestamptz[]) AS v(id, pd, pc, nd, nc, n, at) WHERE a.id = v.id",
                [now, *columns],
            )
            if cursor.rowcount != len(changed):  # pragma: no cover - rows are locked, they cannot vanish
                raise AssertionError("an account row vanished under its lock")
        return
    names = ("posted_debits", "posted_credits", "pending_debits", "pending_credits", "version")
    for pk, *deltas, at in changed:
        values: dict[str, Any] = {name: F(name) + delta for name, delta in zip(names, deltas, strict=True) if delta}
        if at is not None:
            values["last_line_at"] = at
        Account.objects.filter(pk=pk).update(updated_at=now, **values)


def _tenant(states: Iterable[_State]) -> str | None:
    merchants = {s.account.merchant_id for s in states if s.account.owner_kind == OwnerKind.MERCHANT}
    return f"merchant:{merchants.pop()}" if len(merchants) == 1 else None


def _audit(
    plans: list[_Plan],
    plan_lines: list[list[JournalLine]],
    states: Mapping[int, _State],
    *,
    actor: Actor,
    occurred_at: datetime,
    batch_audit: dict[str, Any] | None,
) -> None:
    if batch_audit is not None:
        audit_record(
            action="ledger.batch.posted",
            actor=actor,
            occurred_at=occurred_at,
            object_type="ledger.journalentry",
            object_id=str(plans[0].entry.pk) if plans and plans[0].entry else "",
            tenant=_tenant(states.values()),
            data={**batch_audit, "entries": [str(p.entry.pk) for p in plans if p.entry is not None]},
        )
        return
    for plan, rows in zip(plans, plan_lines, strict=True):
        involved = [states[row.account_id] for row in rows] or [states[a] for a, _, _ in plan.releases]
        data: dict[str, Any] = dict(plan.audit_extra)
        if plan.entry is not None:
            data["entry"] = str(plan.entry.pk)
            data["status"] = plan.entry.status
            data["lines"] = [[row.account_id, row.side, row.amount, row.currency_code] for row in rows]
            if plan.entry.template_name:
                data["template"] = f"{plan.entry.template_name}@{plan.entry.template_version}"
            if plan.entry.idempotency_key:
                data["idempotency"] = [plan.entry.idempotency_source, plan.entry.idempotency_key]
        audit_record(
            action=plan.audit_action,
            actor=actor,
            occurred_at=occurred_at,
            target=plan.audit_target or plan.entry,
            tenant=_tenant(involved),
            data=data,
        )


def run_posting(
    work: Callable[[], T], *, idempotency_source: str = "", idempotency_key: str = "", fingerprint_: str = ""
) -> T:
    """`run_atomic`, plus: a lost race on an idempotency key replays the winner (or refuses a different request)."""
    try:
        return run_atomic(work)
    except IntegrityError:
        if not idempotency_key:
            raise
        winner = JournalEntry.objects.filter(
            idempotency_source=idempotency_source, idempotency_key=idempotency_key
        ).first()
        if winner is None:
            raise
        if winner.idempotency_fingerprint != fingerprint_:
            raise IdempotencyKeyReused(fields={"idempotency_key": idempotency_key}) from None
        return winner  # type: ignore[return-value]
