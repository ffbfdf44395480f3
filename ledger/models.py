"""Ledger models: accounts with stored balances, journal entries, their lines, templates, verifications.

Amounts are integers in the currency's minor units (see common/money.py). Stored balances change
only in the same transaction as the lines that explain them, by one SQL update per account under an
ordered row lock (ledger/services/posting.py). PostgreSQL triggers (migrations/sql/) refuse
unbalanced entries at commit and any change to posted history.
"""

import uuid

from django.db import models
from django.db.models import F, Q

from ledger.choices import (
    NORMAL_BALANCE,
    AccountStatus,
    AccountType,
    BalanceRule,
    EntryStatus,
    LinePhase,
    OwnerKind,
    Side,
)
from tenants.models import Merchant, Partner
from tenants.scoping import TenantQuerySet


class AccountQuerySet(TenantQuerySet):
    def active(self) -> "AccountQuerySet":
        return self.filter(status=AccountStatus.ACTIVE)


class Account(models.Model):
    """A ledger account in one currency, with its posted and pending totals stored on the row.

    `version` counts every change of the row's totals; each line records the version and the posted
    balance right after it, so the balance at any time is one indexed lookup.
    """

    TENANT_FIELDS = {"merchant": "merchant_id", "partner": "partner_id"}

    account_number = models.CharField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=AccountType.choices)
    currency_code = models.CharField(max_length=3, help_text="ISO 4217, e.g. USD.")
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    balance_rule = models.CharField(max_length=32, choices=BalanceRule.choices, default=BalanceRule.ANY)
    owner_kind = models.CharField(max_length=16, choices=OwnerKind.choices)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    customer_reference = models.CharField(max_length=64, blank=True)
    # Chart-of-accounts role ('payable', 'suspense' …) and address ('merchant:12:payable:USD').
    role = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=120, unique=True, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    posted_debits = models.BigIntegerField(default=0)
    posted_credits = models.BigIntegerField(default=0)
    pending_debits = models.BigIntegerField(default=0)
    pending_credits = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)
    last_line_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        permissions = [("freeze_account", "Can freeze, unfreeze and close ledger accounts")]
        indexes = [models.Index(fields=["currency_code", "type"], name="ledger_account_currency_type")]
        constraints = [
            models.CheckConstraint(
                condition=Q(posted_debits__gte=0)
                & Q(posted_credits__gte=0)
                & Q(pending_debits__gte=0)
                & Q(pending_credits__gte=0)
                & Q(version__gte=0),
                name="ledger_account_totals_non_negative",
                violation_error_message="Account totals and version are never negative.",
            ),
            models.CheckConstraint(
                condition=~Q(balance_rule=BalanceRule.DEBITS_WITHIN_CREDITS)
                | Q(posted_credits__gte=F("posted_debits") + F("pending_debits")),
                name="ledger_account_debits_within_credits",
                violation_error_message="Posted and pending debits exceed posted credits.",
            ),
            models.CheckConstraint(
                condition=~Q(balance_rule=BalanceRule.CREDITS_WITHIN_DEBITS)
                | Q(posted_debits__gte=F("posted_credits") + F("pending_credits")),
                name="ledger_account_credits_within_debits",
                violation_error_message="Posted and pending credits exceed posted debits.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        owner_kind=OwnerKind.MERCHANT,
                        merchant__isnull=False,
                        partner__isnull=True,
                        customer_reference="",
                    )
                    | Q(
                        owner_kind=OwnerKind.PARTNER,
                        merchant__isnull=True,
                        partner__isnull=False,
                        customer_reference="",
                    )
                    | (Q(owner_kind=OwnerKind.CUSTOMER, partner__isnull=True) & ~Q(customer_reference=""))
                    | Q(
                        owner_kind=OwnerKind.PLATFORM,
                        merchant__isnull=True,
                        partner__isnull=True,
                        customer_reference="",
                    )
                ),
                name="ledger_account_owner_consistent",
                violation_error_message="The owner fields do not match the owner kind.",
            ),
            models.CheckConstraint(
                condition=Q(type__in=AccountType.values)
                & Q(status__in=AccountStatus.values)
                & Q(balance_rule__in=BalanceRule.values)
                & Q(owner_kind__in=OwnerKind.values),
                name="ledger_account_choices_valid",
                violation_error_message="Type, status, balance rule or owner kind is not a known value.",
            ),
            models.CheckConstraint(
                condition=~Q(status=AccountStatus.CLOSED)
                | Q(pending_debits=0, pending_credits=0, posted_debits=F("posted_credits")),
                name="ledger_account_closed_is_empty",
                violation_error_message="A closed account has a zero balance and nothing pending.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_number} {self.name} [{self.currency_code}] (pk={self.pk})"

    @property
    def normal_balance(self) -> str:
        return NORMAL_BALANCE[self.type]

    @property
    def is_debit_normal(self) -> bool:
        return self.normal_balance == Side.DEBIT

    @property
    def posted_balance(self) -> int:
        """Posted balance in the account's normal orientation (positive = its usual side)."""
        net = self.posted_debits - self.posted_credits
        return net if self.is_debit_normal else -net

    @property
    def available_balance(self) -> int:
        """Posted balance less what pending transfers may still take out of it."""
        if self.is_debit_normal:
            return self.posted_debits - self.posted_credits - self.pending_credits
        return self.posted_credits - self.posted_debits - self.pending_debits


class JournalEntry(models.Model):
    """A balanced set of lines. Posted entries never change; corrections are reversing entries.

    A *hold* (`is_hold`) is a pending two-phase transfer: its lines reserve amounts and it ends
    posted (a separate posting entry with `pending_entry` set moves the posted balances) or voided.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    description = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=EntryStatus.choices)
    is_hold = models.BooleanField(default=False)
    effective_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    timeout_at = models.DateTimeField(null=True, blank=True)
    group_id = models.UUIDField(null=True, blank=True)
    pending_entry = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="posting"
    )
    reversal_of = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal")
    template_name = models.CharField(max_length=100, blank=True)
    template_version = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by_kind = models.CharField(max_length=16)
    created_by_id = models.CharField(max_length=64, blank=True)
    created_by_label = models.CharField(max_length=255, blank=True)
    idempotency_source = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    idempotency_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "journal entries"
        permissions = [
            ("reverse_journalentry", "Can reverse posted journal entries"),
            ("post_pending_transfer", "Can post pending transfers"),
            ("void_pending_transfer", "Can void pending transfers"),
        ]
        indexes = [
            models.Index(fields=["effective_at", "id"], name="ledger_entry_effective"),
            models.Index(fields=["group_id"], name="ledger_entry_group", condition=Q(group_id__isnull=False)),
            models.Index(
                fields=["timeout_at"], name="ledger_entry_pending_timeout", condition=Q(status=EntryStatus.PENDING)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_source", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ledger_journalentry_unique_idempotency_key",
                violation_error_message="An entry with this idempotency key already exists.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EntryStatus.values),
                name="ledger_journalentry_status_valid",
                violation_error_message="Unknown entry status.",
            ),
            models.CheckConstraint(
                condition=Q(is_hold=True)
                | Q(status=EntryStatus.POSTED, timeout_at__isnull=True, group_id__isnull=True),
                name="ledger_journalentry_only_holds_pend",
                violation_error_message="Only holds are pending or voided, or have a timeout or group.",
            ),
            models.CheckConstraint(
                condition=Q(is_hold=False) | Q(reversal_of__isnull=True, pending_entry__isnull=True),
                name="ledger_journalentry_hold_is_original",
                violation_error_message="A hold is neither a reversal nor the posting of another hold.",
            ),
            models.CheckConstraint(
                condition=Q(status=EntryStatus.PENDING, resolved_at__isnull=True)
                | (~Q(status=EntryStatus.PENDING) & (Q(is_hold=False) | Q(resolved_at__isnull=False))),
                name="ledger_journalentry_resolved_at_set",
                violation_error_message="A resolved hold records when it was resolved; a pending one does not.",
            ),
        ]

    def __str__(self) -> str:
        return f"Entry {self.pk} ({self.status}) {self.description}".strip()


class JournalLine(models.Model):
    """One debit or credit of an entry. Append-only (a trigger refuses UPDATE and DELETE).

    `balance_after` is the account's *posted* balance (normal orientation) right after this line and
    `account_version` the account's version then; `posted_at` never goes backwards per account.
    """

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    # No single-column index: (account, account_version) and (account, posted_at, …) lead with it.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines", db_index=False)
    side = models.CharField(max_length=6, choices=Side.choices)
    phase = models.CharField(max_length=8, choices=LinePhase.choices, default=LinePhase.POSTED)
    amount = models.BigIntegerField()
    currency_code = models.CharField(max_length=3)
    balance_after = models.BigIntegerField()
    account_version = models.BigIntegerField()
    posted_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["account", "posted_at", "account_version"], name="ledger_line_account_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="ledger_journalline_amount_positive",
                violation_error_message="A line amount is a positive number of minor units.",
            ),
            models.CheckConstraint(
                condition=Q(side__in=Side.values) & Q(phase__in=LinePhase.values),
                name="ledger_journalline_choices_valid",
                violation_error_message="Unknown side or phase.",
            ),
            models.UniqueConstraint(
                fields=["account", "account_version"],
                name="ledger_journalline_unique_account_version",
                violation_error_message="Two lines claim the same account version (a lost update).",
            ),
        ]

    def __str__(self) -> str:
        return f"Line {self.pk}: {self.side} {self.amount} {self.currency_code} on account {self.account_id}"


class PendingTransfer(JournalEntry):
    """Admin view of holds (pending two-phase transfers)."""

    class Meta:
        proxy = True
        verbose_name = "pending transfer"


class TransactionTemplate(models.Model):
    """A named, versioned posting recipe: parameters and lines naming account roles and amounts.

    `params`: [{"name": "merchant", "type": "merchant"}, {"name": "amount", "type": "amount"}, …]
    `lines`: [{"side": "debit", "account": "merchant:{merchant}:payable:{currency}", "amount": "amount - fee"}]
    Amounts are sums and differences of parameter names and integer literals, parsed (never evaluated).
    """

    name = models.SlugField(max_length=100)
    version = models.PositiveIntegerField()
    description = models.CharField(max_length=255, blank=True)
    params = models.JSONField(default=list)
    lines = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                name="ledger_transactiontemplate_unique_version",
                violation_error_message="This template version already exists.",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="ledger_transactiontemplate_version_positive",
                violation_error_message="Versions start at 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} (pk={self.pk})"


class LedgerVerification(models.Model):
    """The result of one `ledger_verify` run (balances recomputed from lines; entries re-summed)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    is_ok = models.BooleanField()
    accounts_checked = models.PositiveIntegerField(default=0)
    entries_checked = models.PositiveIntegerField(default=0)
    lines_checked = models.PositiveBigIntegerField(default=0)
    drifted_accounts = models.PositiveIntegerField(default=0)
    unbalanced_entries = models.PositiveIntegerField(default=0)
    drift_minor_units = models.BigIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_ok=False) | Q(drifted_accounts=0, unbalanced_entries=0, drift_minor_units=0),
                name="ledger_ledgerverification_ok_means_no_drift",
                violation_error_message="A passing verification has no drift.",
            ),
        ]

    def __str__(self) -> str:
        return f"Verification {self.pk} {'ok' if self.is_ok else 'FAILED'} at {self.finished_at}"
