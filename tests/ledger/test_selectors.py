from datetime import timedelta

import pytest

from ledger import selectors, services
from tests.ledger.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(wallet, cash, actor):
    """wallet: +1000 at NOW, −300 at NOW+1h, −200 at NOW+2h."""
    services.account_credit(account=wallet, amount=1000, actor=actor, occurred_at=NOW)
    for hours, amount in ((1, 300), (2, 200)):
        services.transfer_create(
            debit_account=wallet,
            credit_account=cash,
            amount=amount,
            actor=actor,
            occurred_at=NOW + timedelta(hours=hours),
        )
    return wallet


class TestBalances:
    def test_balance_now_comes_from_the_account_row(self, history, django_assert_num_queries) -> None:
        with django_assert_num_queries(1):
            balance = selectors.account_balance(account=history.pk)

        assert (balance.posted, balance.available, balance.version) == (500, 500, 3)

    @pytest.mark.parametrize(
        ("offset", "expected"),
        [(timedelta(seconds=-1), 0), (timedelta(0), 1000), (timedelta(minutes=90), 700), (timedelta(days=1), 500)],
    )
    def test_balance_as_of_is_one_lookup(self, history, offset, expected, django_assert_num_queries) -> None:
        with django_assert_num_queries(1):
            assert selectors.account_balance_at(account=history, at=NOW + offset) == expected

    def test_a_backdated_posting_never_moves_history_backwards(self, history, cash, actor) -> None:
        services.transfer_create(debit_account=history, credit_account=cash, amount=1, actor=actor, occurred_at=NOW)

        assert selectors.account_balance_at(account=history, at=NOW + timedelta(minutes=90)) == 700
        assert selectors.account_balance_at(account=history, at=NOW + timedelta(hours=2)) == 499


class TestStatement:
    def test_lines_in_order_with_running_balance(self, history) -> None:
        lines = selectors.account_statement(account=history)

        assert [(line.side, line.amount, line.balance_after) for line in lines] == [
            ("credit", 1000, 1000), ("debit", 300, 700), ("debit", 200, 500),
        ]  # fmt: skip
        assert lines.query.order_by == ("account_version", "pk")

    def test_a_time_window(self, history) -> None:
        lines = selectors.account_statement(account=history, since=NOW + timedelta(hours=1))

        assert [line.balance_after for line in lines] == [700, 500]


class TestTrialBalance:
    def test_every_currency_sums_to_zero(self, history, make_account, actor) -> None:
        euro = make_account(currency_code="EUR")
        services.account_credit(account=euro, amount=42, actor=actor, occurred_at=NOW)

        totals = selectors.trial_balance_totals()

        assert totals["USD"] == {"debits": 1500, "credits": 1500, "net": 0}
        assert totals["EUR"] == {"debits": 42, "credits": 42, "net": 0}
