import pytest

from ledger import services
from ledger.errors import EntryAlreadyReversed, InvalidEntry, UnableToReverseEntry
from ledger.models import JournalEntry, JournalLine
from tests.ledger.conftest import NOW, events, refreshed

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(wallet, cash, fund, actor):
    fund(wallet, 1000)
    return services.transfer_create(debit_account=wallet, credit_account=cash, amount=300, actor=actor, occurred_at=NOW)


class TestEntryReverse:
    def test_posts_the_mirror_image_linked_to_the_original(self, payment, wallet, cash, actor) -> None:
        reversal = services.entry_reverse(entry=payment, actor=actor, occurred_at=NOW, reason="duplicate payout")

        assert reversal.reversal_of_id == payment.pk
        assert sorted(JournalLine.objects.filter(entry=reversal).values_list("account_id", "side", "amount")) == sorted(
            [(wallet.pk, "credit", 300), (cash.pk, "debit", 300)]
        )
        assert refreshed(wallet).posted_balance == 1000
        assert refreshed(cash).posted_balance == 0
        [event] = events("ledger.entry.reversed", object_id=str(reversal.pk))
        assert "duplicate payout" in event.data and str(payment.pk) in event.data

    def test_reversing_twice_is_refused_and_changes_nothing(self, payment, wallet, actor) -> None:
        services.entry_reverse(entry=payment, actor=actor, occurred_at=NOW, reason="duplicate")

        with pytest.raises(EntryAlreadyReversed) as refused:
            services.entry_reverse(entry=payment, actor=actor, occurred_at=NOW, reason="again")

        assert (refused.value.code, refused.value.status_code) == ("already_reversed", 409)
        assert refreshed(wallet).posted_balance == 1000
        assert JournalEntry.objects.filter(reversal_of=payment).count() == 1

    def test_a_hold_cannot_be_reversed(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 100)
        hold = services.transfer_pend(
            debit_account=wallet, credit_account=cash, amount=50, actor=actor, occurred_at=NOW
        )

        with pytest.raises(UnableToReverseEntry):
            services.entry_reverse(entry=hold, actor=actor, occurred_at=NOW, reason="no")

    def test_a_reason_is_required(self, payment, actor) -> None:
        with pytest.raises(InvalidEntry):
            services.entry_reverse(entry=payment, actor=actor, occurred_at=NOW, reason="  ")

    def test_a_reversal_that_breaks_a_balance_rule_is_refused(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 100)
        credit = services.transfer_create(
            debit_account=cash, credit_account=wallet, amount=50, actor=actor, occurred_at=NOW
        )
        services.transfer_create(debit_account=wallet, credit_account=cash, amount=150, actor=actor, occurred_at=NOW)

        from ledger.errors import InsufficientFunds

        with pytest.raises(InsufficientFunds):
            services.entry_reverse(entry=credit, actor=actor, occurred_at=NOW, reason="chargeback")
