"""`ledger_verify`: recompute every stored balance from the lines and re-sum every entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from audit.context import Actor
from audit.services import audit_record
from ledger.choices import EntryStatus, LinePhase, Side
from ledger.models import Account, JournalEntry, JournalLine, LedgerVerification

_TOTALS = ("posted_debits", "posted_credits", "pending_debits", "pending_credits")


@dataclass
class VerificationResult:
    accounts_checked: int = 0
    entries_checked: int = 0
    lines_checked: int = 0
    drift_minor_units: int = 0
    drifted: list[dict[str, Any]] = field(default_factory=list)  # per account: stored vs recomputed
    unbalanced: list[dict[str, Any]] = field(default_factory=list)  # per entry and currency
    currency_mismatches: int = 0
    trial_balance: dict[str, int] = field(default_factory=dict)  # currency → Σ(debits − credits), must be 0

    @property
    def is_ok(self) -> bool:
        return (
            not self.drifted
            and not self.unbalanced
            and not self.currency_mismatches
            and not any(self.trial_balance.values())
        )


def _recomputed() -> dict[int, dict[str, int]]:
    def total(phase: str, side: str, **extra: Any) -> Sum:
        return Sum("amount", filter=Q(phase=phase, side=side, **extra), default=0)

    rows = (
        JournalLine.objects.order_by()
        .values("account_id")
        .annotate(
            posted_debits=total(LinePhase.POSTED, Side.DEBIT),
            posted_credits=total(LinePhase.POSTED, Side.CREDIT),
            pending_debits=total(LinePhase.PENDING, Side.DEBIT, entry__status=EntryStatus.PENDING),
            pending_credits=total(LinePhase.PENDING, Side.CREDIT, entry__status=EntryStatus.PENDING),
            lines=Count("pk"),
        )
    )
    return {row.pop("account_id"): row for row in rows}


def ledger_verify(*, record: bool = True, actor: Actor | None = None, detail_limit: int = 50) -> VerificationResult:
    """Recompute balances from lines, check that every entry balances per currency and that the
    trial balance is zero. With `record`, store a LedgerVerification and an audit event."""
    started_at = timezone.now()
    result = VerificationResult()
    recomputed = _recomputed()
    for account in Account.objects.order_by("pk").values("pk", "account_number", *_TOTALS).iterator(chunk_size=5000):
        result.accounts_checked += 1
        expected = recomputed.get(account["pk"], {})
        result.lines_checked += expected.get("lines", 0)
        diff = {name: account[name] - expected.get(name, 0) for name in _TOTALS}
        if any(diff.values()):
            result.drift_minor_units += sum(abs(v) for v in diff.values())
            if len(result.drifted) < detail_limit:
                result.drifted.append(
                    {"account": account["pk"], "account_number": account["account_number"], "stored_minus_lines": diff}
                )
            else:
                result.drifted.append({"account": account["pk"]})
    signed = Case(When(side=Side.DEBIT, then=F("amount")), default=-F("amount"), output_field=IntegerField())
    unbalanced = (
        JournalLine.objects.order_by()
        .values("entry_id", "currency_code")
        .annotate(net=Sum(signed))
        .exclude(net=0)
        .order_by("entry_id", "currency_code")
    )
    result.unbalanced = [
        {"entry": str(row["entry_id"]), "currency": row["currency_code"], "debits_minus_credits": row["net"]}
        for row in unbalanced[: detail_limit + 1]
    ]
    short = JournalEntry.objects.annotate(n=Count("lines")).filter(n__lt=2)
    result.unbalanced += [{"entry": str(pk), "lines": n} for pk, n in short.values_list("pk", "n")[:detail_limit]]
    result.entries_checked = JournalEntry.objects.count()
    result.currency_mismatches = JournalLine.objects.exclude(currency_code=F("account__currency_code")).count()
    for row in (
        Account.objects.order_by()
        .values("currency_code")
        .annotate(net=Sum(F("posted_debits") - F("posted_credits"), default=Value(0)))
    ):
        result.trial_balance[row["currency_code"]] = row["net"]
    if record:
        _record(result, started_at, actor or Actor.system("ledger_verify"))
    return result


def _record(result: VerificationResult, started_at: Any, actor: Actor) -> None:
    with transaction.atomic():
        verification = LedgerVerification.objects.create(
            started_at=started_at,
            finished_at=timezone.now(),
            is_ok=result.is_ok,
            accounts_checked=result.accounts_checked,
            entries_checked=result.entries_checked,
            lines_checked=result.lines_checked,
            drifted_accounts=len(result.drifted),
            unbalanced_entries=len({row["entry"] for row in result.unbalanced}),
            drift_minor_units=result.drift_minor_units if not result.is_ok else 0,
            details={
                "drifted": result.drifted[:50],
                "unbalanced": result.unbalanced[:50],
                "currency_mismatches": result.currency_mismatches,
                "trial_balance": result.trial_balance,
            },
        )
        audit_record(
            action="ledger.verification.passed" if result.is_ok else "ledger.verification.failed",
            actor=actor,
            target=verification,
            data={
                "accounts": result.accounts_checked,
                "entries": result.entries_checked,
                "drifted_accounts": len(result.drifted),
                "unbalanced_entries": verification.unbalanced_entries,
                "drift_minor_units": result.drift_minor_units,
            },
        )
