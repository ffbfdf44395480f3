from collections.abc import Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from audit.context import Actor
from common.roles import PARTNER_APPROVER
from ledger import services as ledger_services
from ledger.models import JournalEntry
from reserves import services
from reserves.choices import PolicyKind
from reserves.models import PartnerMember, ReservePolicy
from reserves.principals import Principal, principal_for_user
from tenants.models import Merchant, Partner, PartnerKind

DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SYSTEM = Actor.system("reserves tests")


@pytest.fixture
def seeded_templates(db) -> None:
    """The ledger's 0004 templates (a transactional test's flush removes them)."""
    import importlib

    from django.apps import apps

    from ledger.models import TransactionTemplate

    if not TransactionTemplate.objects.filter(name="reserve_hold").exists():
        importlib.import_module("ledger.migrations.0004_seed_transaction_templates").seed(apps, None)


@pytest.fixture
def merchant(db) -> Merchant:
    return Merchant.objects.create(reference="acme", name="Acme GmbH")


@pytest.fixture
def partners(merchant) -> SimpleNamespace:
    """The platform, a sponsor bank and an acquirer, all serving the merchant; plus an outsider."""
    platform = Partner.objects.create(reference="platform", name="The Platform", kind=PartnerKind.PLATFORM)
    bank = Partner.objects.create(reference="bank", name="Sponsor Bank", kind=PartnerKind.SPONSOR_BANK)
    acquirer = Partner.objects.create(reference="acquirer", name="Acquirer", kind=PartnerKind.ACQUIRER)
    other = Partner.objects.create(reference="other", name="Other Bank", kind=PartnerKind.OTHER)
    for partner in (platform, bank, acquirer):
        partner.merchants.add(merchant)
    return SimpleNamespace(platform=platform, bank=bank, acquirer=acquirer, other=other)


def make_user(username: str, partner: Partner | None = None, *, approver: bool = True):  # noqa: ANN201
    user = get_user_model().objects.create_user(username, password="x-unused-passw0rd", is_staff=True)
    if partner is not None:
        PartnerMember.objects.create(user=user, partner=partner)
    if approver:
        from common.roles import sync_role_permissions

        sync_role_permissions()
        user.groups.add(Group.objects.get(name=PARTNER_APPROVER))
    return user


@pytest.fixture
def people(partners) -> SimpleNamespace:
    """A platform requester (platform partner), two bank approvers, an acquirer approver, an outsider."""
    return SimpleNamespace(
        requester=make_user("ops", partners.platform, approver=False),
        bank1=make_user("bank-alice", partners.bank),
        bank2=make_user("bank-bob", partners.bank),
        acquirer=make_user("acq-carol", partners.acquirer),
        platform_approver=make_user("plat-dan", partners.platform),
        outsider=make_user("other-erin", partners.other),
    )


@pytest.fixture
def as_principal() -> Callable[[object], Principal]:
    return principal_for_user


@pytest.fixture
def capture(seeded_templates) -> Callable[..., JournalEntry]:
    def make(merchant: Merchant, amount: int = 100_000, fee: int = 3_000, at: datetime = NOW) -> JournalEntry:
        return ledger_services.template_post(
            name="card_capture", params={"merchant": merchant.pk, "currency": "USD", "amount": amount, "fee": fee},
            actor=SYSTEM, occurred_at=at,
        )  # fmt: skip

    return make


@pytest.fixture
def rolling_policy(merchant, seeded_templates) -> ReservePolicy:
    """10% of each day's captures held 30 days, in force from DAY."""
    return services.reserve_policy_create_initial(
        merchant=merchant, kind=PolicyKind.ROLLING, currency_code="USD", percent_bp=1000, hold_days=30,
        actor=SYSTEM, occurred_at=NOW, effective_date=DAY,
    )  # fmt: skip


@pytest.fixture
def funded_reserve(rolling_policy, capture, merchant) -> int:
    """The engine has held 10% of 100,000 captured on DAY: 10,000 in the reserve."""
    capture(merchant)
    services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)
    return 10_000


@pytest.fixture
def release_request(funded_reserve, people, merchant):  # noqa: ANN201
    """A pending request to release 40.00 USD out of schedule, made by the platform's ops user."""

    def make(amount: str = "40.00", reason: str = "merchant offboarding review", now: datetime = NOW):  # noqa: ANN202
        return services.approval_request_create(
            action="release_reserve", merchant=merchant,
            payload={"amount": amount, "currency": "USD", "reason": reason},
            principal=principal_for_user(people.requester), actor=Actor.for_user(people.requester), now=now,
        )  # fmt: skip

    return make


def sign(approval, user, decision: str = "approve", *, now: datetime = NOW, digest: str | None = None):  # noqa: ANN001, ANN201
    return services.approval_sign(
        approval_id=approval.pk, principal=principal_for_user(user), payload_hash=digest or approval.payload_hash,
        decision=decision, actor=Actor.for_user(user), now=now,
    )  # fmt: skip
