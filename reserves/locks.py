"""Row locks of the reserves app. Order: approval request → merchant reserve (fund lock) → ledger accounts."""

from __future__ import annotations

from django.db import DatabaseError, connection, transaction

from reserves.metrics import fund_lock_conflicts
from reserves.models import ApprovalRequest, MerchantReserve


def reserve_lock(*, merchant_id: int, operation: str) -> MerchantReserve:
    """The merchant's fund lock (its `MerchantReserve` row, created on first use), held to commit.

    On PostgreSQL a NOWAIT attempt first: a conflict is counted in reserves_fund_lock_conflicts_total,
    then the lock is awaited normally."""
    MerchantReserve.objects.get_or_create(merchant_id=merchant_id)
    rows = MerchantReserve.objects.filter(merchant_id=merchant_id)
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():  # a savepoint: a refused NOWAIT must not abort the caller's transaction
                return rows.select_for_update(of=("self",), no_key=True, nowait=True).get()
        except DatabaseError:
            fund_lock_conflicts.labels(operation).inc()
    return rows.select_for_update(of=("self",), no_key=True).get()


def approval_lock(*, approval_id: int) -> ApprovalRequest | None:
    """The request row, locked (None when it does not exist or row-level security hides it)."""
    return ApprovalRequest.objects.select_for_update(of=("self",), no_key=True).filter(pk=approval_id).first()
