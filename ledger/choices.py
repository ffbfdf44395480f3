"""Choices of the ledger: account types and their normal balance, statuses, balance rules, sides."""

from django.db import models


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


class Side(models.TextChoices):
    DEBIT = "debit", "Debit"
    CREDIT = "credit", "Credit"


# Assets and expenses grow with debits; liabilities, equity and revenue grow with credits.
NORMAL_BALANCE: dict[str, str] = {
    AccountType.ASSET: Side.DEBIT,
    AccountType.EXPENSE: Side.DEBIT,
    AccountType.LIABILITY: Side.CREDIT,
    AccountType.EQUITY: Side.CREDIT,
    AccountType.REVENUE: Side.CREDIT,
}


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class BalanceRule(models.TextChoices):
    ANY = "any", "May go negative"
    DEBITS_WITHIN_CREDITS = "debits_within_credits", "Debits must not exceed credits"
    CREDITS_WITHIN_DEBITS = "credits_within_debits", "Credits must not exceed debits"


class OwnerKind(models.TextChoices):
    MERCHANT = "merchant", "Merchant"
    PARTNER = "partner", "Partner"
    CUSTOMER = "customer", "Customer"
    PLATFORM = "platform", "Platform"


class EntryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    POSTED = "posted", "Posted"
    VOIDED = "voided", "Voided"


class LinePhase(models.TextChoices):
    """A posted line moves the posted balance; a pending line reserves (pending debits/credits)."""

    POSTED = "posted", "Posted"
    PENDING = "pending", "Pending"
