"""The ledger's write API. Other apps (disputes, reserves, credits) and the REST layer call these.

All take keyword-only arguments including `actor` and `occurred_at`, run in one transaction (joining
the caller's if there is one, else their own, retried on deadlock/serialization failure), record
their audit events in it, and raise `ledger.errors.*` (DomainError) when they refuse.
"""

from ledger.services.accounts import (
    account_close,
    account_create,
    account_for_address,
    account_freeze,
    account_unfreeze,
    chart_accounts_ensure,
)
from ledger.services.entries import (
    account_credit,
    account_debit,
    entries_post_batch,
    entry_post,
    entry_reverse,
    transfer_create,
)
from ledger.services.posting import Condition, EntrySpec, LineSpec
from ledger.services.templates import post_template, template_create, template_get, template_post, template_set_active
from ledger.services.transfers import (
    transfer_group_post,
    transfer_group_void,
    transfer_pend,
    transfer_post,
    transfer_void,
    transfers_expire,
)
from ledger.services.verification import VerificationResult, ledger_verify

__all__ = [
    "Condition",
    "EntrySpec",
    "LineSpec",
    "VerificationResult",
    "account_close",
    "account_create",
    "account_credit",
    "account_debit",
    "account_for_address",
    "account_freeze",
    "account_unfreeze",
    "chart_accounts_ensure",
    "entries_post_batch",
    "entry_post",
    "entry_reverse",
    "ledger_verify",
    "post_template",
    "template_create",
    "template_get",
    "template_post",
    "template_set_active",
    "transfer_create",
    "transfer_group_post",
    "transfer_group_void",
    "transfer_pend",
    "transfer_post",
    "transfer_void",
    "transfers_expire",
]
