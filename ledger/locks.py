"""Ordered row locks. Every ledger write locks its accounts here, in ascending pk order, at once.

Two transfers in opposite directions lock the same rows in the same order, so they queue instead
of deadlocking. `FOR NO KEY UPDATE` (no_key=True) does not block inserts of lines referencing the
account (foreign-key checks take KEY SHARE), and `of=("self",)` locks only the account rows.
Lock order across the ledger: accounts (by pk) → journal entries (guarded status updates).
"""

from collections.abc import Iterable

from django.db.models import Q

from ledger.models import Account

# What the posting engine reads under the lock (metadata and timestamps are not loaded).
LOCKED_FIELDS = (
    "pk", "account_number", "name", "type", "currency_code", "status", "balance_rule", "owner_kind", "merchant_id",
    "address", "posted_debits", "posted_credits", "pending_debits", "pending_credits", "version", "last_line_at",
)  # fmt: skip


def lock_accounts(*, pks: Iterable[int] = (), addresses: Iterable[str] = ()) -> dict[int, Account]:
    """Lock the accounts with these pks and/or addresses, ordered by pk; returns them by pk."""
    pk_list, address_list = sorted(set(pks)), sorted(set(addresses))
    if not pk_list and not address_list:
        return {}
    condition = Q(pk__in=pk_list) if pk_list else Q()
    if address_list:
        condition = (condition | Q(address__in=address_list)) if pk_list else Q(address__in=address_list)
    rows = (
        Account.objects.select_for_update(of=("self",), no_key=True)
        .filter(condition)
        .only(*LOCKED_FIELDS)
        .order_by("pk")
    )
    return {account.pk: account for account in rows}
