from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from audit.context import Actor
from credits import selectors, services
from credits.models import CreditLot, Wallet
from ledger.models import Account
from tenants.models import Merchant

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SYSTEM = Actor.system("test")


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
def make_wallet(db, merchant) -> Callable[..., Wallet]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Wallet:
        options: dict[str, Any] = {
            "unit": "USD", "owner_kind": "customer", "merchant": merchant,
            "customer_reference": f"cust-{next(counter)}", "actor": SYSTEM, "occurred_at": NOW,
        }  # fmt: skip
        options.update(overrides)
        return services.wallet_create(**options)

    return make


@pytest.fixture
def wallet(make_wallet) -> Wallet:
    return make_wallet()


@pytest.fixture
def grant(actor) -> Callable[..., CreditLot]:
    def do(wallet: Wallet, amount: int, **options: Any) -> CreditLot:
        options.setdefault("reason", "promo")
        options.setdefault("occurred_at", NOW)
        return services.credit_grant(wallet=wallet, amount=amount, actor=actor, **options)

    return do


def balances(wallet: Wallet) -> tuple[int, int, int]:
    b = selectors.wallet_balance(wallet=wallet)
    return b.total, b.reserved, b.available


def lot_state(wallet: Wallet) -> list[tuple[int, int, int]]:
    return [(lot.amount, lot.remaining, lot.reserved) for lot in CreditLot.objects.filter(wallet=wallet).order_by("pk")]


def assert_consistent(wallet: Wallet) -> None:
    """sum(lot.remaining) = ledger posted balance; sum(lot.reserved) = ledger pending debits."""
    account = Account.objects.get(pk=wallet.account_id)
    lots = list(CreditLot.objects.filter(wallet=wallet))
    assert sum(lot.remaining for lot in lots) == account.posted_credits - account.posted_debits
    assert sum(lot.reserved for lot in lots) == account.pending_debits
    assert account.posted_credits >= account.posted_debits + account.pending_debits


def event(action: str, **filters: Any) -> Any:
    """The one audit row of this action, with `data` parsed from its canonical JSON text."""
    import json

    from audit.models import AuditEvent

    found = AuditEvent.objects.get(action=action, **filters)
    found.data = json.loads(found.data)
    return found
