import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.context import Actor
from audit.models import AuditEvent
from common.roles import COMPLIANCE_ANALYST, COMPLIANCE_LEAD
from disputes import services
from disputes.models import Dispute, ReasonCode
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.models import JournalEntry
from tenants.models import Merchant

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SYSTEM = Actor.system("dispute intake")


@pytest.fixture
def catalog(db) -> None:
    """The 0002 data migration's catalog (a transactional test's flush removes it)."""
    import importlib

    from django.apps import apps

    if not ReasonCode.objects.exists():
        importlib.import_module("disputes.migrations.0002_seed_reason_code_catalog").seed(apps, None)


@pytest.fixture
def seeded_templates(db) -> None:
    import importlib

    from django.apps import apps

    from ledger.models import TransactionTemplate

    if not TransactionTemplate.objects.filter(version=1, created_by_label="migration 0004").exists():
        importlib.import_module("ledger.migrations.0004_seed_transaction_templates").seed(apps, None)


@pytest.fixture
def merchant(db) -> Merchant:
    return Merchant.objects.create(reference="acme", name="Acme GmbH")


@pytest.fixture
def capture(seeded_templates) -> Callable[..., JournalEntry]:
    """A card capture (the original transaction) of `amount` with a processing fee of `fee`."""

    def make(merchant: Merchant, amount: int = 10_000, fee: int = 300, currency: str = "USD") -> JournalEntry:
        return ledger_services.template_post(
            name="card_capture",
            params={"merchant": merchant.pk, "amount": amount, "fee": fee, "currency": currency},
            actor=SYSTEM,
            occurred_at=NOW,
        )

    return make


@pytest.fixture
def original(capture, merchant) -> JournalEntry:
    return capture(merchant)


@pytest.fixture
def open_dispute(catalog, original, merchant) -> Callable[..., Dispute]:
    counter = iter(range(1, 100_000))

    def make(**overrides: Any) -> Dispute:
        options: dict[str, Any] = {
            "network": "visa",
            "network_dispute_id": f"VD-{next(counter):05d}",
            "merchant": merchant,
            "original_entry": original,
            "amount": 2500,
            "currency_code": "USD",
            "reason_code": "13.1",
            "actor": SYSTEM,
            "occurred_at": NOW,
        }
        options.update(overrides)
        return services.dispute_open(**options)

    return make


@pytest.fixture
def dispute(open_dispute) -> Dispute:
    return open_dispute()


def make_staff(username: str, group: str | None) -> Any:
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.test", password="x", is_staff=True
    )
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def analyst(db) -> Any:
    return make_staff("ana", COMPLIANCE_ANALYST)


@pytest.fixture
def lead(db) -> Any:
    return make_staff("lea", COMPLIANCE_LEAD)


@pytest.fixture
def other_lead(db) -> Any:
    return make_staff("leo", COMPLIANCE_LEAD)


def balance(merchant_or_none: Merchant | None, role: str, currency: str = "USD") -> int:
    address = f"merchant:{merchant_or_none.pk}:{role}:{currency}" if merchant_or_none else f"platform:{role}:{currency}"
    account = ledger_selectors.account_get(address=address)
    return ledger_selectors.account_balance(account=account).posted


def events(action: str, **filters: Any) -> list[AuditEvent]:
    """Audit rows of this action, with `data` parsed from its canonical JSON text."""
    found = list(AuditEvent.objects.filter(action=action, **filters).order_by("pk"))
    for event in found:
        event.data = json.loads(event.data)
    return found


def refreshed(dispute: Dispute) -> Dispute:
    return Dispute.objects.get(pk=dispute.pk)


def add_required_evidence(dispute: Dispute, actor: Actor = SYSTEM) -> None:
    for kind in dispute.reason_code.required_evidence:
        services.dispute_evidence_add(dispute=dispute, kind=kind, text=f"{kind} details", actor=actor, occurred_at=NOW)
