"""Random sequences of postings, holds, posts, voids and reversals keep the ledger whole."""

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from audit.context import Actor
from common.errors import DomainError
from ledger import services
from ledger.choices import AccountType, BalanceRule, OwnerKind, Side
from ledger.models import Account, JournalLine
from ledger.services import LineSpec
from tests.ledger.conftest import NOW

ACTOR = Actor.system("hypothesis")
ACCOUNT_SPECS = [
    (AccountType.ASSET, BalanceRule.ANY, "USD"),
    (AccountType.LIABILITY, BalanceRule.DEBITS_WITHIN_CREDITS, "USD"),
    (AccountType.ASSET, BalanceRule.CREDITS_WITHIN_DEBITS, "USD"),
    (AccountType.REVENUE, BalanceRule.ANY, "USD"),
    (AccountType.LIABILITY, BalanceRule.DEBITS_WITHIN_CREDITS, "EUR"),
    (AccountType.ASSET, BalanceRule.ANY, "EUR"),
]


class LedgerMachine(RuleBasedStateMachine):
    accounts = Bundle("accounts")
    posted = Bundle("posted")
    holds = Bundle("holds")

    @initialize(target=accounts)
    def open_accounts(self):
        return multiple(
            *[
                services.account_create(
                    name=f"hyp {n}",
                    type=kind,
                    balance_rule=rule,
                    currency_code=currency,
                    owner_kind=OwnerKind.PLATFORM,
                    actor=ACTOR,
                    occurred_at=NOW,
                )  # fmt: skip
                for n, (kind, rule, currency) in enumerate(ACCOUNT_SPECS)
            ]
        )

    def _pair(self, a: Account, b: Account) -> bool:
        return a.pk != b.pk and a.currency_code == b.currency_code

    @rule(target=posted, a=accounts, b=accounts, amount=st.integers(1, 500))
    def transfer(self, a, b, amount):
        if not self._pair(a, b):
            return multiple()
        try:
            return services.transfer_create(
                debit_account=a, credit_account=b, amount=amount, actor=ACTOR, occurred_at=NOW
            )
        except DomainError:
            return multiple()

    @rule(target=posted, a=accounts, amount=st.integers(1, 500), side=st.sampled_from(["credit", "debit"]))
    def one_sided(self, a, amount, side):
        post = services.account_credit if side == "credit" else services.account_debit
        try:
            return post(account=a, amount=amount, actor=ACTOR, occurred_at=NOW)
        except DomainError:
            return multiple()

    @rule(target=posted, a=accounts, b=accounts, c=accounts, x=st.integers(1, 300), y=st.integers(1, 300))
    def split(self, a, b, c, x, y):
        if not (self._pair(a, b) and self._pair(a, c)):
            return multiple()
        lines = [
            LineSpec(side=Side.DEBIT, amount=x + y, account_id=a.pk),
            LineSpec(side=Side.CREDIT, amount=x, account_id=b.pk),
            LineSpec(side=Side.CREDIT, amount=y, account_id=c.pk),
        ]
        try:
            return services.entry_post(lines=lines, actor=ACTOR, occurred_at=NOW)
        except DomainError:
            return multiple()

    @rule(target=holds, a=accounts, b=accounts, amount=st.integers(1, 500))
    def pend(self, a, b, amount):
        if not self._pair(a, b):
            return multiple()
        try:
            return services.transfer_pend(
                debit_account=a, credit_account=b, amount=amount, actor=ACTOR, occurred_at=NOW
            )
        except DomainError:
            return multiple()

    @rule(hold=holds, fraction=st.sampled_from([None, 1, 2]))
    def post(self, hold, fraction):
        try:
            amount = None
            if fraction:
                pending = JournalLine.objects.filter(entry=hold).values_list("amount", flat=True).first()
                amount = max(1, pending // fraction)
            services.transfer_post(transfer=hold, actor=ACTOR, occurred_at=NOW, amount=amount)
        except DomainError:
            pass

    @rule(hold=holds)
    def void(self, hold):
        try:
            services.transfer_void(transfer=hold, actor=ACTOR, occurred_at=NOW)
        except DomainError:
            pass

    @rule(entry=posted)
    def reverse(self, entry):
        try:
            services.entry_reverse(entry=entry, actor=ACTOR, occurred_at=NOW, reason="hypothesis")
        except DomainError:
            pass

    @invariant()
    def ledger_is_whole(self):
        result = services.ledger_verify(record=False)
        assert result.is_ok, (result.drifted, result.unbalanced, result.trial_balance)

    @invariant()
    def balance_rules_hold_and_last_line_matches_the_row(self):
        last = {}
        for account_id, version, balance in JournalLine.objects.order_by("account_id", "account_version").values_list(
            "account_id", "account_version", "balance_after"
        ):
            last[account_id] = (version, balance)
        per_currency = defaultdict(int)
        for account in Account.objects.all():
            per_currency[account.currency_code] += account.posted_debits - account.posted_credits
            if account.balance_rule == BalanceRule.DEBITS_WITHIN_CREDITS:
                assert account.posted_debits + account.pending_debits <= account.posted_credits
            if account.balance_rule == BalanceRule.CREDITS_WITHIN_DEBITS:
                assert account.posted_credits + account.pending_credits <= account.posted_debits
            if account.pk in last and last[account.pk][0] == account.version:
                assert last[account.pk][1] == account.posted_balance
        assert all(net == 0 for net in per_currency.values())


@pytest.mark.django_db
def test_random_ledger_histories_stay_whole() -> None:
    """Each example runs in a savepoint rolled back at teardown, inside the test's transaction."""
    from django.db import transaction

    class Machine(LedgerMachine):
        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        def __init__(self):
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            super().__init__()

    run = settings(
        max_examples=15, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(Machine).TestCase  # fmt: skip
    run().runTest()
