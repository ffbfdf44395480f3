"""Every refusal of the ledger, with its stable code and HTTP status (see docs/ledger.md)."""

from common.errors import DomainError


class InvalidEntry(DomainError):
    code = "invalid_entry"
    default_message = "The entry is not valid."


class UnbalancedEntry(DomainError):
    code = "unbalanced_entry"
    default_message = "Debits and credits of the entry differ."


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    default_message = "A line's currency is not its account's currency."


class AccountNotFound(DomainError):
    code = "account_not_found"
    status_code = 404
    default_message = "No such ledger account."


class EntryNotFound(DomainError):
    code = "entry_not_found"
    status_code = 404
    default_message = "No such journal entry."


class CurrencyNotEnabled(DomainError):
    code = "currency_not_enabled"
    default_message = "The currency is not enabled for the platform's chart of accounts."


class AccountNotActive(DomainError):
    code = "account_frozen"  # frozen or closed: `fields.status` says which
    status_code = 409
    default_message = "The account is frozen or closed and refuses postings."


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    status_code = 422
    default_message = "The account's balance rule refuses this posting."


class ConditionFailed(DomainError):
    code = "condition_failed"
    status_code = 409
    default_message = "A condition of the posting did not hold; nothing was posted."


class UnableToReverseEntry(DomainError):
    code = "entry_not_reversible"
    status_code = 409
    default_message = "Only posted entries that are not holds can be reversed."


class EntryAlreadyReversed(DomainError):
    code = "already_reversed"
    status_code = 409
    default_message = "The entry has already been reversed."


class TransferNotPending(DomainError):
    code = "transfer_not_pending"
    status_code = 409
    default_message = "The transfer is not pending (already posted, voided or expired)."


class InvalidPostAmount(DomainError):
    code = "invalid_post_amount"
    default_message = "The amount to post must be positive and at most the pending amount."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = 409
    default_message = "The idempotency key was already used for a different posting."


class TemplateNotFound(DomainError):
    code = "template_not_found"
    status_code = 404
    default_message = "No active transaction template with this name (and version)."


class InvalidTemplate(DomainError):
    code = "invalid_template"
    default_message = "The transaction template is not valid."


class InvalidTemplateParams(DomainError):
    code = "invalid_template_params"
    default_message = "The parameters do not fit the transaction template."


class AccountStatusConflict(DomainError):
    code = "account_status_conflict"
    status_code = 409
    default_message = "The account is not in a state that allows this change."


class InvalidAccount(DomainError):
    code = "invalid_account"
    default_message = "The account is not valid."
