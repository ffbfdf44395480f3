from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from audit.context import Actor
from audit.models import AuditEvent
from ledger import services
from ledger.choices import AccountType, BalanceRule, OwnerKind
from ledger.models import Account, TransactionTemplate
from tenants.models import Merchant

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def actor() -> Actor:
    return Actor(kind="staff", id="7", label="finance.ops")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def merchant(db) -> Merchant:
    return Merchant.objects.create(reference="acme", name="Acme GmbH")


@pytest.fixture
def make_account(db, actor) -> Callable[..., Account]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Account:
        n = next(counter)
        options = {
            "name": f"Account {n}",
            "type": AccountType.ASSET,
            "currency_code": "USD",
            "owner_kind": OwnerKind.PLATFORM,
            "balance_rule": BalanceRule.ANY,
            "account_number": f"T-{n:05d}",
            "actor": actor,
            "occurred_at": NOW,
        }
        options.update(overrides)
        return services.account_create(**options)

    return make


@pytest.fixture
def wallet(make_account) -> Account:
    """A protected customer wallet: liability, debits must not exceed credits."""
    return make_account(
        name="Wallet",
        type=AccountType.LIABILITY,
        balance_rule=BalanceRule.DEBITS_WITHIN_CREDITS,
        owner_kind=OwnerKind.CUSTOMER,
        customer_reference="cus_1",
    )


@pytest.fixture
def cash(make_account) -> Account:
    return make_account(name="Cash", type=AccountType.ASSET)


@pytest.fixture
def fund(actor) -> Callable[[Account, int], None]:
    def fund(account: Account, amount: int) -> None:
        services.account_credit(account=account, amount=amount, actor=actor, occurred_at=NOW)

    return fund


@pytest.fixture
def seeded_templates(db) -> None:
    """The 0004 data migration's templates (a transactional test's flush removes them)."""
    import importlib

    seed = importlib.import_module("ledger.migrations.0004_seed_transaction_templates")
    if not TransactionTemplate.objects.filter(version=1, created_by_label="migration 0004").exists():
        from django.apps import apps

        seed.seed(apps, None)


def refreshed(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


def events(action: str, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("pk"))
