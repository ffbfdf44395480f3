from datetime import UTC, datetime, timedelta

import pytest

from audit.models import AuditEvent
from ledger.models import JournalEntry
from reserves import selectors, services
from reserves.choices import PolicyKind, TrancheKind
from reserves.metrics import engine_run_seconds
from reserves.models import ReserveEngineRun, ReserveTranche
from tests.reserves.conftest import DAY, NOW, SYSTEM

pytestmark = pytest.mark.django_db


def held(merchant) -> int:
    return selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD")


def payable(merchant) -> int:
    from ledger import selectors as ledger_selectors

    account = ledger_selectors.account_get(address=f"merchant:{merchant.pk}:payable:USD")
    return ledger_selectors.account_balance(account=account).posted


class TestRollingReserve:
    def test_the_engine_holds_the_rate_of_the_days_captured_volume(self, rolling_policy, capture, merchant) -> None:
        capture(merchant, amount=100_000, fee=3_000)
        capture(merchant, amount=55_555, fee=0)
        capture(merchant, amount=99_999, at=NOW - timedelta(days=1))  # another day: not counted

        result = services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)

        run = result.runs[0]
        assert (run.captured_volume, run.held_amount, run.released_amount) == (155_555, 15_555, 0)
        assert held(merchant) == 15_555
        tranche = ReserveTranche.objects.get(merchant=merchant)
        assert (tranche.kind, tranche.release_date, tranche.amount) == (
            TrancheKind.ROLLING,
            DAY + timedelta(days=30),
            15_555,
        )
        assert JournalEntry.objects.get(pk=run.hold_entry_id).template_name == "reserve_hold"
        assert AuditEvent.objects.filter(action="reserves.engine.ran", object_id=str(run.pk)).exists()

    def test_running_the_same_day_twice_changes_nothing(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)
        services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)
        entries, balance, runs = JournalEntry.objects.count(), held(merchant), ReserveEngineRun.objects.count()
        observed = engine_run_seconds._sum.get()

        again = services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW + timedelta(hours=1))

        assert (again.runs, again.skipped) == ([], 1)
        assert (JournalEntry.objects.count(), held(merchant), ReserveEngineRun.objects.count()) == (
            entries,
            balance,
            runs,
        )
        assert engine_run_seconds._sum.get() > observed  # the run was timed

    def test_a_tranche_is_released_on_its_maturity_day(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)
        services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)
        payable_before = payable(merchant)

        services.reserve_engine_run(run_date=DAY + timedelta(days=29), actor=SYSTEM, now=NOW + timedelta(days=29))
        assert held(merchant) == 10_000
        matured = services.reserve_engine_run(
            run_date=DAY + timedelta(days=30), actor=SYSTEM, now=NOW + timedelta(days=30)
        )

        assert matured.released == 10_000
        assert held(merchant) == 0
        assert payable(merchant) == payable_before + 10_000
        assert ReserveTranche.objects.get(merchant=merchant).released_amount == 10_000

    def test_figures_say_what_is_required_held_and_releasable(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)
        services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)

        today = selectors.reserve_figures(merchant_id=merchant.pk, on=DAY)
        at_maturity = selectors.reserve_figures(merchant_id=merchant.pk, on=DAY + timedelta(days=30))

        assert (today.required, today.held, today.releasable) == (10_000, 10_000, 0)
        assert (at_maturity.required, at_maturity.held, at_maturity.releasable) == (0, 10_000, 10_000)


class TestFixedAndUpfront:
    def test_a_fixed_minimum_is_topped_up_once_and_kept(self, seeded_templates, merchant) -> None:
        services.reserve_policy_create_initial(merchant=merchant, kind=PolicyKind.FIXED, currency_code="USD",
                                               amount=50_000, actor=SYSTEM, occurred_at=NOW,
                                               effective_date=DAY)  # fmt: skip

        first = services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)
        second = services.reserve_engine_run(
            run_date=DAY + timedelta(days=1), actor=SYSTEM, now=NOW + timedelta(days=1)
        )

        assert (first.held, second.held) == (50_000, 0)
        assert held(merchant) == 50_000

    def test_an_upfront_reserve_is_held_once(self, seeded_templates, merchant) -> None:
        services.reserve_policy_create_initial(merchant=merchant, kind=PolicyKind.UPFRONT, currency_code="USD",
                                               amount=20_000, actor=SYSTEM, occurred_at=NOW,
                                               effective_date=DAY)  # fmt: skip
        services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)
        services.reserve_engine_run(run_date=DAY + timedelta(days=1), actor=SYSTEM, now=NOW + timedelta(days=1))

        assert held(merchant) == 20_000
        assert ReserveTranche.objects.filter(merchant=merchant, kind=TrancheKind.BASE).count() == 1

    def test_a_policy_not_yet_in_force_is_not_run(self, seeded_templates, merchant) -> None:
        services.reserve_policy_create_initial(merchant=merchant, kind=PolicyKind.FIXED, currency_code="USD",
                                               amount=1, actor=SYSTEM, occurred_at=NOW, effective_date=DAY)  # fmt: skip

        result = services.reserve_engine_run(run_date=DAY - timedelta(days=1), actor=SYSTEM, now=NOW)

        assert (result.runs, result.skipped) == ([], 0)


def test_a_day_boundary_is_utc_midnight(rolling_policy, capture, merchant) -> None:
    capture(merchant, amount=10_000, fee=0, at=datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC))
    capture(merchant, amount=20_000, fee=0, at=datetime(2026, 3, 3, 0, 0, 0, tzinfo=UTC))

    assert selectors.captured_volume(merchant_id=merchant.pk, currency_code="USD", day=DAY) == 10_000


def test_a_merchant_the_ledger_refuses_is_reported_and_the_others_still_run(
    seeded_templates, capture, merchant
) -> None:
    from ledger.services import account_freeze
    from tenants.models import Merchant

    other = Merchant.objects.create(reference="globex", name="Globex")
    for each in (merchant, other):
        services.reserve_policy_create_initial(merchant=each, kind=PolicyKind.FIXED, currency_code="USD", amount=500,
                                               actor=SYSTEM, occurred_at=NOW, effective_date=DAY)  # fmt: skip
        capture(each)
    from ledger import selectors as ledger_selectors

    frozen = ledger_selectors.account_get(address=f"merchant:{merchant.pk}:reserve:USD")
    account_freeze(account=frozen, actor=SYSTEM, occurred_at=NOW, reason="test")

    result = services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)

    assert result.failed == [(merchant.pk, "account_frozen")]
    assert [run.merchant_id for run in result.runs] == [other.pk]
    assert not ReserveEngineRun.objects.filter(merchant=merchant).exists()  # a rerun will retry it
