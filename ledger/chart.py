"""The chart of accounts, as data: the standard accounts of each merchant and of the platform.

Accounts are addressed by role:

    merchant:{merchant_id}:{role}:{CUR}     e.g. merchant:12:payable:USD
    platform:{role}:{CUR}                   e.g. platform:suspense:USD

A merchant's accounts in a currency are opened together the first time any of them is needed;
the platform's, for each enabled currency (settings.LEDGER_CURRENCIES), likewise.
"""

from dataclasses import dataclass

from ledger.choices import AccountType, BalanceRule, OwnerKind


@dataclass(frozen=True)
class Role:
    name: str
    type: str
    balance_rule: str
    description: str


MERCHANT_ROLES: dict[str, Role] = {
    "payable": Role(
        "Merchant payable",
        AccountType.LIABILITY,
        BalanceRule.ANY,
        "What the platform owes the merchant: captures less fees, holds and payouts. May go negative when "
        "disputes exceed it (the merchant then owes the platform).",
    ),
    "reserve": Role(
        "Merchant reserve",
        AccountType.LIABILITY,
        BalanceRule.DEBITS_WITHIN_CREDITS,
        "Merchant funds held back as a reserve; never releases more than was held.",
    ),
    "dispute_hold": Role(
        "Merchant dispute hold",
        AccountType.LIABILITY,
        BalanceRule.DEBITS_WITHIN_CREDITS,
        "Merchant funds held while disputes are open; never releases more than was held.",
    ),
    "fees_receivable": Role(
        "Merchant fees receivable",
        AccountType.ASSET,
        BalanceRule.CREDITS_WITHIN_DEBITS,
        "Fees charged to the merchant and not yet collected; never collects more than was charged.",
    ),
}

PLATFORM_ROLES: dict[str, Role] = {
    "settlement": Role(
        "Platform settlement",
        AccountType.ASSET,
        BalanceRule.ANY,
        "Cash at the settlement bank: scheme settlements come in, payouts and issuer payments go out.",
    ),
    "suspense": Role(
        "Platform suspense",
        AccountType.ASSET,
        BalanceRule.ANY,
        "Other side of one-sided credit/debit postings until they are explained; should trend to zero.",
    ),
    "fee_revenue": Role(
        "Platform fee revenue",
        AccountType.REVENUE,
        BalanceRule.ANY,
        "Processing and dispute fees earned (credits and rebates reduce it).",
    ),
    "issuer_settlement": Role(
        "Issuer settlement",
        AccountType.LIABILITY,
        BalanceRule.ANY,
        "Owed to card issuers / networks for lost disputes until paid out of settlement.",
    ),
}

CHART: dict[str, dict[str, Role]] = {OwnerKind.MERCHANT: MERCHANT_ROLES, OwnerKind.PLATFORM: PLATFORM_ROLES}


@dataclass(frozen=True)
class Address:
    owner_kind: str
    merchant_id: int | None
    role: str
    currency_code: str

    def __str__(self) -> str:
        if self.owner_kind == OwnerKind.MERCHANT:
            return f"merchant:{self.merchant_id}:{self.role}:{self.currency_code}"
        return f"platform:{self.role}:{self.currency_code}"

    @property
    def spec(self) -> Role:
        return CHART[self.owner_kind][self.role]


def merchant_address(merchant_id: int, role: str, currency_code: str) -> str:
    return f"merchant:{merchant_id}:{role}:{currency_code}"


def platform_address(role: str, currency_code: str) -> str:
    return f"platform:{role}:{currency_code}"


def parse_address(address: str) -> Address | None:
    """'merchant:12:payable:USD' → Address; None when it is not a chart address."""
    parts = address.split(":")
    if len(parts) == 4 and parts[0] == OwnerKind.MERCHANT and parts[1].isdigit() and parts[2] in MERCHANT_ROLES:
        return Address(OwnerKind.MERCHANT, int(parts[1]), parts[2], parts[3])
    if len(parts) == 3 and parts[0] == OwnerKind.PLATFORM and parts[1] in PLATFORM_ROLES:
        return Address(OwnerKind.PLATFORM, None, parts[1], parts[2])
    return None
