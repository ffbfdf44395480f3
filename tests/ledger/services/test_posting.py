import pytest

from ledger import services
from ledger.choices import EntryStatus, LinePhase, Side
from ledger.errors import (
    AccountNotActive,
    ConditionFailed,
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidEntry,
    UnbalancedEntry,
)
from ledger.models import Account, JournalEntry, JournalLine
from ledger.services import Condition, EntrySpec, LineSpec
from tests.ledger.conftest import NOW, events, refreshed

pytestmark = pytest.mark.django_db


def debit(account: Account, amount: int) -> LineSpec:
    return LineSpec(side=Side.DEBIT, amount=amount, account_id=account.pk)


def credit(account: Account, amount: int) -> LineSpec:
    return LineSpec(side=Side.CREDIT, amount=amount, account_id=account.pk)


def totals(account: Account) -> tuple[int, int, int, int, int]:
    a = refreshed(account)
    return a.posted_debits, a.posted_credits, a.pending_debits, a.pending_credits, a.version


class TestEntryPost:
    def test_posts_lines_with_running_balance_and_version_and_updates_totals(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 1000)

        entry = services.entry_post(
            lines=[debit(wallet, 300), credit(cash, 300)], actor=actor, occurred_at=NOW, description="payout"
        )

        assert entry.status == EntryStatus.POSTED
        assert totals(wallet) == (300, 1000, 0, 0, 2)
        assert totals(cash) == (0, 300, 0, 0, 1)
        line = JournalLine.objects.get(entry=entry, account=wallet)
        assert (line.side, line.amount, line.balance_after, line.account_version, line.phase) == (
            "debit", 300, 700, 2, LinePhase.POSTED,
        )  # fmt: skip
        assert JournalLine.objects.get(entry=entry, account=cash).balance_after == -300  # asset credited: negative

    def test_records_the_audit_event_with_ids_and_amounts(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 1000)

        entry = services.entry_post(lines=[debit(wallet, 300), credit(cash, 300)], actor=actor, occurred_at=NOW)

        [event] = events("ledger.entry.posted", object_id=str(entry.pk))
        assert event.actor_label == "finance.ops"
        assert f'"lines":[[{wallet.pk},"debit",300,"USD"],[{cash.pk},"credit",300,"USD"]]' in event.data

    def test_refuses_an_unbalanced_entry_and_changes_nothing(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 1000)
        before = totals(wallet), totals(cash)

        with pytest.raises(UnbalancedEntry) as refused:
            services.entry_post(lines=[debit(wallet, 300), credit(cash, 299)], actor=actor, occurred_at=NOW)

        assert refused.value.fields == {"imbalance": {"USD": 1}}
        assert (refused.value.code, refused.value.status_code) == ("unbalanced_entry", 400)
        assert (totals(wallet), totals(cash)) == before
        assert not JournalEntry.objects.filter(lines__account=cash).exists()

    def test_refuses_a_single_line_and_a_non_positive_amount(self, wallet, cash, actor) -> None:
        with pytest.raises(InvalidEntry):
            services.entry_post(lines=[debit(wallet, 300)], actor=actor, occurred_at=NOW)
        with pytest.raises(InvalidEntry):
            services.entry_post(lines=[debit(wallet, 0), credit(cash, 0)], actor=actor, occurred_at=NOW)
        with pytest.raises(InvalidEntry):
            services.entry_post(lines=[debit(wallet, 1.5), credit(cash, 1.5)], actor=actor, occurred_at=NOW)  # type: ignore[arg-type]

    def test_balances_per_currency_and_refuses_a_line_in_another_currency(self, make_account, cash, actor) -> None:
        euro = make_account(currency_code="EUR")

        with pytest.raises(UnbalancedEntry) as refused:
            services.entry_post(lines=[debit(euro, 100), credit(cash, 100)], actor=actor, occurred_at=NOW)

        assert refused.value.fields == {"imbalance": {"EUR": 100, "USD": -100}}
        assert totals(euro) == (0, 0, 0, 0, 0)

    def test_refuses_an_address_whose_currency_is_not_the_accounts(self, cash, actor) -> None:
        services.chart_accounts_ensure(merchant=None, currency_code="USD", actor=actor, occurred_at=NOW)
        Account.objects.filter(address="platform:suspense:USD").update(address="platform:suspense:EUR")

        with pytest.raises(CurrencyMismatch):
            services.entry_post(
                lines=[debit(cash, 5), LineSpec(side=Side.CREDIT, amount=5, address="platform:suspense:EUR")],
                actor=actor,
                occurred_at=NOW,
            )

    @pytest.mark.parametrize("freeze", ["account_freeze", "account_close"])
    def test_frozen_and_closed_accounts_refuse_postings(self, freeze, make_account, cash, actor) -> None:
        other = make_account()
        getattr(services, freeze)(account=other, actor=actor, occurred_at=NOW, reason="kyc")

        with pytest.raises(AccountNotActive) as refused:
            services.entry_post(lines=[debit(cash, 5), credit(other, 5)], actor=actor, occurred_at=NOW)

        assert (refused.value.code, refused.value.status_code) == ("account_frozen", 409)
        assert totals(cash) == (0, 0, 0, 0, 0)

    def test_insufficient_funds_reports_the_exact_available_amount(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)

        with pytest.raises(InsufficientFunds) as refused:
            services.entry_post(lines=[debit(wallet, 501), credit(cash, 501)], actor=actor, occurred_at=NOW)

        assert refused.value.fields == {"account": wallet.pk, "available": 500, "requested": 501}
        assert refused.value.code == "insufficient_funds" and refused.value.status_code == 422
        assert totals(wallet) == (0, 500, 0, 0, 1)

    def test_takes_a_protected_account_exactly_to_zero(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)

        services.entry_post(lines=[debit(wallet, 500), credit(cash, 500)], actor=actor, occurred_at=NOW)

        assert refreshed(wallet).posted_balance == 0

    def test_two_lines_on_one_account_get_consecutive_versions(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)

        entry = services.entry_post(
            lines=[debit(wallet, 100), debit(wallet, 50), credit(cash, 150)], actor=actor, occurred_at=NOW
        )

        rows = list(JournalLine.objects.filter(entry=entry, account=wallet).order_by("account_version"))
        assert [(r.account_version, r.balance_after) for r in rows] == [(2, 400), (3, 350)]
        assert totals(wallet) == (150, 500, 0, 0, 3)


class TestConditions:
    def test_posts_when_the_conditions_hold(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)

        services.entry_post(
            lines=[debit(wallet, 100), credit(cash, 100)],
            conditions=[Condition(account_id=wallet.pk, min_available=500, expected_version=1)],
            actor=actor,
            occurred_at=NOW,
        )

        assert totals(wallet) == (100, 500, 0, 0, 2)

    def test_failed_available_condition_posts_nothing(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)

        with pytest.raises(ConditionFailed) as refused:
            services.entry_post(
                lines=[debit(wallet, 100), credit(cash, 100)],
                conditions=[Condition(account_id=wallet.pk, min_available=501)],
                actor=actor,
                occurred_at=NOW,
            )

        assert refused.value.fields == {"account": wallet.pk, "available": 500, "min_available": 501}
        assert refused.value.status_code == 409
        assert totals(wallet) == (0, 500, 0, 0, 1)

    def test_failed_version_condition_posts_nothing(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)

        with pytest.raises(ConditionFailed) as refused:
            services.entry_post(
                lines=[debit(wallet, 100), credit(cash, 100)],
                conditions=[Condition(account_id=wallet.pk, expected_version=0)],
                actor=actor,
                occurred_at=NOW,
            )

        assert refused.value.fields["version"] == 1
        assert totals(cash) == (0, 0, 0, 0, 0)


class TestIdempotency:
    def test_a_repeat_returns_the_first_entry_and_posts_once(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)
        request = {"lines": [debit(wallet, 100), credit(cash, 100)], "actor": actor, "occurred_at": NOW}

        first = services.entry_post(**request, idempotency_source="disputes", idempotency_key="d1:open")
        again = services.entry_post(**request, idempotency_source="disputes", idempotency_key="d1:open")

        assert again.pk == first.pk
        assert totals(wallet) == (100, 500, 0, 0, 2)
        assert len(events("ledger.entry.posted", object_id=str(first.pk))) == 1

    def test_the_same_key_with_a_different_request_is_refused(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 500)
        services.entry_post(
            lines=[debit(wallet, 100), credit(cash, 100)], actor=actor, occurred_at=NOW,
            idempotency_source="disputes", idempotency_key="d1:open",
        )  # fmt: skip

        with pytest.raises(IdempotencyKeyReused):
            services.entry_post(
                lines=[debit(wallet, 200), credit(cash, 200)], actor=actor, occurred_at=NOW,
                idempotency_source="disputes", idempotency_key="d1:open",
            )  # fmt: skip

        assert totals(wallet) == (100, 500, 0, 0, 2)


class TestOneSidedPostings:
    def test_credit_and_debit_post_against_the_suspense_account_of_the_currency(self, wallet, actor) -> None:
        services.account_credit(account=wallet, amount=700, actor=actor, occurred_at=NOW)
        services.account_debit(account=wallet, amount=200, actor=actor, occurred_at=NOW)

        suspense = Account.objects.get(address="platform:suspense:USD")
        assert (suspense.posted_debits, suspense.posted_credits) == (700, 200)
        assert refreshed(wallet).posted_balance == 500


class TestBatch:
    def test_posts_every_entry_with_one_audit_row(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 1000)

        entries = services.entries_post_batch(
            entries=[EntrySpec(lines=[debit(wallet, 100 + i), credit(cash, 100 + i)]) for i in range(5)],
            actor=actor,
            occurred_at=NOW,
            description="nightly",
        )

        assert len(entries) == 5
        assert totals(wallet) == (510, 1000, 0, 0, 6)
        assert list(
            JournalLine.objects.filter(account=wallet, entry__in=entries)
            .order_by("account_version")
            .values_list("balance_after", flat=True)
        ) == [900, 799, 697, 594, 490]
        [event] = events("ledger.batch.posted")
        assert '"count":5' in event.data and '"lines":10' in event.data

    def test_is_all_or_nothing(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 250)

        with pytest.raises(InsufficientFunds) as refused:
            services.entries_post_batch(
                entries=[EntrySpec(lines=[debit(wallet, 100), credit(cash, 100)]) for _ in range(3)],
                actor=actor,
                occurred_at=NOW,
            )

        assert refused.value.fields == {"account": wallet.pk, "available": 50, "requested": 100}
        assert totals(wallet) == (0, 250, 0, 0, 1)
        assert totals(cash) == (0, 0, 0, 0, 0)
        assert events("ledger.batch.posted") == []

    def test_refuses_a_malformed_entry_naming_it(self, wallet, cash, actor) -> None:
        with pytest.raises(InvalidEntry) as refused:
            services.entries_post_batch(
                entries=[EntrySpec(lines=[debit(wallet, 1), credit(cash, 1)]), EntrySpec(lines=[debit(wallet, 1)])],
                actor=actor,
                occurred_at=NOW,
            )

        assert refused.value.fields["entry"] == 1
