"""Reads of the ledger: balances now (one row), as of a time (one indexed lookup), statements,
pending transfers, entries and the trial balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet, Sum

from ledger.choices import EntryStatus, LinePhase
from ledger.errors import AccountNotFound
from ledger.models import Account, JournalEntry, JournalLine, LedgerVerification
from tenants.scoping import Tenant

_BALANCE_FIELDS = (
    "pk",
    "type",
    "currency_code",
    "posted_debits",
    "posted_credits",
    "pending_debits",
    "pending_credits",
    "version",
)


@dataclass(frozen=True)
class Balance:
    """An account's balances in minor units, in its normal orientation (positive = its usual side)."""

    account_id: int
    currency_code: str
    posted: int
    pending_debits: int
    pending_credits: int
    available: int
    version: int


def _pk(account: Account | int) -> int:
    return account if isinstance(account, int) else account.pk


def account_balance(*, account: Account | int) -> Balance:
    """Balance now: read from the account row (O(1), no sums)."""
    row = Account.objects.filter(pk=_pk(account)).values(*_BALANCE_FIELDS).first()
    if row is None:
        raise AccountNotFound(fields={"account": _pk(account)})
    shaped = Account(**{("id" if k == "pk" else k): v for k, v in row.items()})
    return Balance(
        account_id=row["pk"],
        currency_code=row["currency_code"],
        posted=shaped.posted_balance,
        pending_debits=row["pending_debits"],
        pending_credits=row["pending_credits"],
        available=shaped.available_balance,
        version=row["version"],
    )


def account_balance_at(*, account: Account | int, at: datetime) -> int:
    """Posted balance (normal orientation) as of `at`: the last line at or before it, one index lookup
    on (account, posted_at, account_version). Zero before the first line."""
    value = (
        JournalLine.objects.filter(account_id=_pk(account), posted_at__lte=at)
        .order_by("-posted_at", "-account_version")
        .values_list("balance_after", flat=True)
        .first()
    )
    return value or 0


def account_statement(
    *,
    account: Account | int,
    since: datetime | None = None,
    until: datetime | None = None,
    include_pending: bool = False,
) -> QuerySet[JournalLine]:
    """Lines of an account in order, each with `balance_after` (the running balance) and its entry.
    Ordered by `account_version`, unique per account, so it is cursor-paginatable."""
    lines = JournalLine.objects.filter(account_id=_pk(account)).select_related("entry")
    if not include_pending:
        lines = lines.filter(phase=LinePhase.POSTED)
    if since is not None:
        lines = lines.filter(posted_at__gte=since)
    if until is not None:
        lines = lines.filter(posted_at__lt=until)
    return lines.order_by("account_version", "pk")


def accounts_list(*, tenant: Tenant | None = None) -> QuerySet[Account]:
    accounts = Account.objects.select_related("merchant", "partner")
    if tenant is not None:
        accounts = accounts.for_tenant(tenant)
    return accounts.order_by("pk")


def account_get(*, tenant: Tenant | None = None, pk: int | None = None, address: str = "") -> Account:
    accounts = accounts_list(tenant=tenant)
    account = accounts.filter(pk=pk).first() if pk is not None else accounts.filter(address=address).first()
    if account is None:
        raise AccountNotFound(fields={"account": pk or address})
    return account


def entries_list(*, tenant: Tenant | None = None, account: Account | int | None = None) -> QuerySet[JournalEntry]:
    entries = JournalEntry.objects.prefetch_related("lines")
    if tenant is not None and not tenant.is_platform:
        visible = accounts_list(tenant=tenant).values("pk")
        entries = entries.filter(lines__account__in=visible).distinct()
    if account is not None:
        entries = entries.filter(lines__account_id=_pk(account)).distinct()
    return entries.order_by("-effective_at", "-pk")


def pending_transfers(*, now: datetime | None = None, expired_only: bool = False) -> QuerySet[JournalEntry]:
    holds = JournalEntry.objects.filter(is_hold=True, status=EntryStatus.PENDING).prefetch_related("lines")
    if expired_only and now is not None:
        holds = holds.filter(timeout_at__lte=now)
    return holds.order_by("timeout_at", "pk")


@dataclass(frozen=True)
class TrialBalanceRow:
    currency_code: str
    type: str
    debits: int
    credits: int

    @property
    def net(self) -> int:
        return self.debits - self.credits


def trial_balance() -> dict[str, list[TrialBalanceRow]]:
    """Posted debits and credits per currency and account type, from the account rows (one query).
    In each currency Σ(debits − credits) over all types is zero."""
    rows = (
        Account.objects.order_by("currency_code", "type")
        .values("currency_code", "type")
        .annotate(debits=Sum("posted_debits", default=0), credits=Sum("posted_credits", default=0))
    )
    result: dict[str, list[TrialBalanceRow]] = {}
    for row in rows:
        result.setdefault(row["currency_code"], []).append(TrialBalanceRow(**row))
    return result


def trial_balance_totals() -> dict[str, dict[str, Any]]:
    """Per currency: total debits, total credits and their difference (zero when the ledger is whole)."""
    totals = {}
    for currency, rows in trial_balance().items():
        debits, credits = sum(r.debits for r in rows), sum(r.credits for r in rows)
        totals[currency] = {"debits": debits, "credits": credits, "net": debits - credits}
    return totals


def last_verification() -> LedgerVerification | None:
    return LedgerVerification.objects.order_by("-finished_at", "-pk").first()
