"""Opening accounts, the chart of accounts, and guarded status transitions (freeze, unfreeze, close)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.context import Actor
from audit.services import audit_record
from common.money import exponent
from ledger import chart
from ledger.choices import AccountStatus, AccountType, BalanceRule, OwnerKind
from ledger.errors import AccountNotFound, AccountStatusConflict, CurrencyNotEnabled, InvalidAccount
from ledger.locks import lock_accounts
from ledger.models import Account
from ledger.retry import run_atomic
from ledger.services.posting import _open_chart_accounts, account_pk
from tenants.models import Merchant, Partner


def account_create(
    *,
    name: str,
    type: str,  # noqa: A002 - the domain's word
    currency_code: str,
    owner_kind: str,
    actor: Actor,
    occurred_at: datetime,
    merchant: Merchant | None = None,
    partner: Partner | None = None,
    customer_reference: str = "",
    balance_rule: str = BalanceRule.ANY,
    account_number: str = "",
    metadata: Mapping[str, Any] | None = None,
    role: str = "",
) -> Account:
    """Open an ad-hoc account (chart accounts open themselves by address). Audited as ledger.account.opened.

    `role` marks an account another app manages (e.g. `credits_wallet`): like a chart account, only the
    platform's flows post to it, never a merchant's or partner's own ledger client."""
    exponent(currency_code)  # UnknownCurrency (400) unless ISO 4217
    account = Account(
        account_number=account_number or f"{AccountType(type).value[:3].upper()}-{uuid.uuid4().hex[:20]}",
        name=name,
        type=type,
        currency_code=currency_code,
        owner_kind=owner_kind,
        merchant=merchant,
        partner=partner,
        customer_reference=customer_reference,
        balance_rule=balance_rule,
        metadata=dict(metadata or {}),
        role=role,
    )
    try:
        account.full_clean()
    except ValidationError as error:
        raise InvalidAccount("The account is not valid.", fields=error.message_dict) from None

    def work() -> Account:
        account.save(force_insert=True)
        audit_record(
            action="ledger.account.opened",
            actor=actor,
            occurred_at=occurred_at,
            target=account,
            tenant=f"merchant:{merchant.pk}" if merchant is not None else None,
            data={
                "account": account.pk,
                "account_number": account.account_number,
                "type": type,
                "currency": currency_code,
                "owner_kind": owner_kind,
                "balance_rule": balance_rule,
                "role": role,
            },
        )
        return account

    return run_atomic(work)


def account_for_address(*, address: str, actor: Actor | None = None, occurred_at: datetime | None = None) -> Account:
    """The account at a chart address (`merchant:12:payable:USD`), opening the owner's chart if needed."""
    found = Account.objects.filter(address=address).first()
    if found is not None:
        return found

    def work() -> Account:
        _open_chart_accounts(
            [address], actor=actor or Actor.system("ledger.chart"), occurred_at=occurred_at or timezone.now()
        )
        return Account.objects.get(address=address)

    return run_atomic(work)


def chart_accounts_ensure(
    *, merchant: Merchant | int | None, currency_code: str, actor: Actor, occurred_at: datetime
) -> dict[str, Account]:
    """Open (if missing) the standard accounts of a merchant, or of the platform when merchant is None,
    in one currency. Returns them by role."""
    if currency_code not in settings.LEDGER_CURRENCIES:
        raise CurrencyNotEnabled(
            f"{currency_code!r} is not an enabled ledger currency.", fields={"currency": currency_code}
        )
    if merchant is None:
        addresses = {role: chart.platform_address(role, currency_code) for role in chart.PLATFORM_ROLES}
    else:
        merchant_id = merchant if isinstance(merchant, int) else merchant.pk
        addresses = {role: chart.merchant_address(merchant_id, role, currency_code) for role in chart.MERCHANT_ROLES}

    def work() -> dict[str, Account]:
        _open_chart_accounts(addresses.values(), actor=actor, occurred_at=occurred_at)
        by_address = {a.address: a for a in Account.objects.filter(address__in=addresses.values())}
        return {role: by_address[address] for role, address in addresses.items()}

    return run_atomic(work)


_TRANSITIONS = {
    "freeze": (AccountStatus.ACTIVE, AccountStatus.FROZEN, "ledger.account.frozen"),
    "unfreeze": (AccountStatus.FROZEN, AccountStatus.ACTIVE, "ledger.account.unfrozen"),
    "close": (AccountStatus.ACTIVE, AccountStatus.CLOSED, "ledger.account.closed"),
}


def _transition(name: str, account: Account | int, actor: Actor, occurred_at: datetime, reason: str) -> Account:
    source, target, action = _TRANSITIONS[name]
    pk = account_pk(account)

    def work() -> Account:
        locked = lock_accounts(pks=[pk]).get(pk)
        if locked is None:
            raise AccountNotFound(fields={"account": pk})
        if locked.status != source:
            raise AccountStatusConflict(
                f"Account {locked.account_number} is {locked.status}; only {source} accounts can {name}.",
                fields={"account": pk, "status": locked.status},
            )
        if target == AccountStatus.CLOSED and (
            locked.pending_debits or locked.pending_credits or locked.posted_debits != locked.posted_credits
        ):
            raise AccountStatusConflict(
                f"Account {locked.account_number} still has a balance or pending transfers.",
                fields={"account": pk, "balance": locked.posted_balance},
            )
        Account.objects.filter(pk=pk, status=source).update(status=target, updated_at=timezone.now())
        locked.status = target
        audit_record(
            action=action,
            actor=actor,
            occurred_at=occurred_at,
            target=locked,
            tenant=f"merchant:{locked.merchant_id}" if locked.owner_kind == OwnerKind.MERCHANT else None,
            data={"account": pk, "from": source, "to": target, "reason": reason[:500]},
        )
        return locked

    return run_atomic(work)


def account_freeze(*, account: Account | int, actor: Actor, occurred_at: datetime, reason: str = "") -> Account:
    """active → frozen: the account refuses postings (voids of its holds still go through)."""
    return _transition("freeze", account, actor, occurred_at, reason)


def account_unfreeze(*, account: Account | int, actor: Actor, occurred_at: datetime, reason: str = "") -> Account:
    """frozen → active."""
    return _transition("unfreeze", account, actor, occurred_at, reason)


def account_close(*, account: Account | int, actor: Actor, occurred_at: datetime, reason: str = "") -> Account:
    """active → closed, only with a zero balance and nothing pending (a DB constraint backs this)."""
    return _transition("close", account, actor, occurred_at, reason)
