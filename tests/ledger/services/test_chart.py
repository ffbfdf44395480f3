import pytest

from ledger import services
from ledger.choices import AccountType, BalanceRule
from ledger.errors import AccountNotFound, CurrencyNotEnabled
from ledger.models import Account
from tests.ledger.conftest import NOW, events

pytestmark = pytest.mark.django_db


class TestChartOfAccounts:
    def test_a_merchant_gets_its_standard_accounts_per_currency_once(self, merchant, actor) -> None:
        first = services.chart_accounts_ensure(merchant=merchant, currency_code="EUR", actor=actor, occurred_at=NOW)
        again = services.chart_accounts_ensure(merchant=merchant, currency_code="EUR", actor=actor, occurred_at=NOW)

        assert set(first) == {"payable", "reserve", "dispute_hold", "fees_receivable"}
        assert {k: a.pk for k, a in first.items()} == {k: a.pk for k, a in again.items()}
        assert first["payable"].address == f"merchant:{merchant.pk}:payable:EUR"
        assert (first["reserve"].type, first["reserve"].balance_rule) == (
            AccountType.LIABILITY, BalanceRule.DEBITS_WITHIN_CREDITS,
        )  # fmt: skip
        assert first["payable"].merchant_id == merchant.pk
        assert len(events("ledger.chart.opened")) == 1

    def test_the_platform_gets_settlement_suspense_fee_revenue_and_issuer_settlement(self, actor) -> None:
        accounts = services.chart_accounts_ensure(merchant=None, currency_code="USD", actor=actor, occurred_at=NOW)

        assert {role: a.address for role, a in accounts.items()} == {
            "settlement": "platform:settlement:USD",
            "suspense": "platform:suspense:USD",
            "fee_revenue": "platform:fee_revenue:USD",
            "issuer_settlement": "platform:issuer_settlement:USD",
        }

    def test_accounts_open_on_first_use_by_address(self, merchant, actor) -> None:
        account = services.account_for_address(address=f"merchant:{merchant.pk}:payable:GBP")

        assert account.currency_code == "GBP"
        assert Account.objects.filter(merchant=merchant, currency_code="GBP").count() == 4

    def test_refuses_an_unknown_merchant_role_or_disabled_currency(self, merchant, actor) -> None:
        with pytest.raises(AccountNotFound):
            services.account_for_address(address="merchant:999999:payable:USD")
        with pytest.raises(AccountNotFound):
            services.account_for_address(address=f"merchant:{merchant.pk}:vault:USD")
        with pytest.raises(CurrencyNotEnabled):
            services.account_for_address(address="platform:suspense:JPY")
        assert not Account.objects.filter(currency_code="JPY").exists()


class TestAccountCreate:
    def test_refuses_an_unknown_currency(self, make_account) -> None:
        from common.money import UnknownCurrency

        with pytest.raises(UnknownCurrency):
            make_account(currency_code="XYZ")

    def test_refuses_inconsistent_owner_fields(self, make_account, merchant) -> None:
        from ledger.errors import InvalidAccount

        with pytest.raises(InvalidAccount):
            make_account(owner_kind="merchant")  # no merchant given

    def test_close_requires_a_zero_balance(self, wallet, fund, actor) -> None:
        from ledger.errors import AccountStatusConflict

        fund(wallet, 1)

        with pytest.raises(AccountStatusConflict):
            services.account_close(account=wallet, actor=actor, occurred_at=NOW)

    def test_freeze_then_unfreeze_is_audited(self, wallet, actor) -> None:
        services.account_freeze(account=wallet, actor=actor, occurred_at=NOW, reason="fraud review")
        account = services.account_unfreeze(account=wallet, actor=actor, occurred_at=NOW)

        assert account.status == "active"
        assert "fraud review" in events("ledger.account.frozen", object_id=str(wallet.pk))[0].data
