import uuid
from datetime import timedelta

import pytest

from ledger import services
from ledger.choices import EntryStatus, LinePhase
from ledger.errors import InsufficientFunds, InvalidPostAmount, TransferNotPending
from ledger.models import JournalEntry, JournalLine
from ledger.selectors import account_balance
from ledger.tasks import expire_pending
from tests.ledger.conftest import NOW, events, refreshed

pytestmark = pytest.mark.django_db


def totals(account):
    a = refreshed(account)
    return a.posted_debits, a.posted_credits, a.pending_debits, a.pending_credits


@pytest.fixture
def funded_wallet(wallet, fund):
    fund(wallet, 1000)
    return wallet


@pytest.fixture
def hold(funded_wallet, cash, actor):
    return services.transfer_pend(
        debit_account=funded_wallet, credit_account=cash, amount=400, actor=actor, occurred_at=NOW,
        timeout_at=NOW + timedelta(hours=1),
    )  # fmt: skip


class TestTransferPend:
    def test_reserves_the_amount_and_lowers_available_only(self, hold, funded_wallet, cash) -> None:
        assert hold.status == EntryStatus.PENDING and hold.is_hold
        assert totals(funded_wallet) == (0, 1000, 400, 0)
        balance = account_balance(account=funded_wallet)
        assert (balance.posted, balance.available) == (1000, 600)
        assert account_balance(account=cash).available == -400  # a pending credit lowers an asset at once
        assert set(JournalLine.objects.filter(entry=hold).values_list("phase", flat=True)) == {LinePhase.PENDING}
        assert len(events("ledger.transfer.pending", object_id=str(hold.pk))) == 1

    def test_pending_debits_count_against_a_protected_account(self, hold, funded_wallet, cash, actor) -> None:
        with pytest.raises(InsufficientFunds) as refused:
            services.transfer_pend(
                debit_account=funded_wallet, credit_account=cash, amount=601, actor=actor, occurred_at=NOW
            )

        assert refused.value.fields == {"account": funded_wallet.pk, "available": 600, "requested": 601}


class TestTransferPost:
    def test_posts_in_full(self, hold, funded_wallet, cash, actor) -> None:
        posting = services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW)

        assert posting.pending_entry_id == hold.pk and posting.status == EntryStatus.POSTED
        assert JournalEntry.objects.get(pk=hold.pk).status == EntryStatus.POSTED
        assert totals(funded_wallet) == (400, 1000, 0, 0)
        assert totals(cash) == (0, 400, 0, 0)
        [event] = events("ledger.transfer.posted", object_id=str(hold.pk))
        assert '"posted_amount":400' in event.data and '"pending_amount":400' in event.data

    def test_posts_part_and_releases_the_rest(self, hold, funded_wallet, cash, actor) -> None:
        services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW, amount=150)

        assert totals(funded_wallet) == (150, 1000, 0, 0)
        assert totals(cash) == (0, 150, 0, 0)
        assert account_balance(account=funded_wallet).available == 850

    @pytest.mark.parametrize("amount", [0, 401, -1])
    def test_refuses_an_amount_outside_one_to_pending(self, amount, hold, funded_wallet, actor) -> None:
        with pytest.raises(InvalidPostAmount):
            services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW, amount=amount)

        assert totals(funded_wallet) == (0, 1000, 400, 0)

    def test_post_after_void_is_a_409_and_changes_nothing(self, hold, funded_wallet, actor) -> None:
        services.transfer_void(transfer=hold, actor=actor, occurred_at=NOW, reason="customer cancelled")

        with pytest.raises(TransferNotPending) as refused:
            services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW)

        assert refused.value.status_code == 409 and refused.value.code == "transfer_not_pending"
        assert totals(funded_wallet) == (0, 1000, 0, 0)

    def test_posting_twice_is_refused(self, hold, actor) -> None:
        services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW)

        with pytest.raises(TransferNotPending):
            services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW)

    def test_a_hold_past_its_timeout_cannot_be_posted(self, hold, actor) -> None:
        with pytest.raises(TransferNotPending):
            services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW + timedelta(hours=2))


class TestTransferVoid:
    def test_releases_the_reservation_and_audits_the_reason(self, hold, funded_wallet, cash, actor) -> None:
        voided = services.transfer_void(transfer=hold, actor=actor, occurred_at=NOW, reason="customer cancelled")

        assert voided.status == EntryStatus.VOIDED and voided.resolved_at == NOW
        assert totals(funded_wallet) == (0, 1000, 0, 0)
        assert totals(cash) == (0, 0, 0, 0)
        [event] = events("ledger.transfer.voided", object_id=str(hold.pk))
        assert "customer cancelled" in event.data

    def test_void_after_post_is_refused(self, hold, actor) -> None:
        services.transfer_post(transfer=hold, actor=actor, occurred_at=NOW)

        with pytest.raises(TransferNotPending):
            services.transfer_void(transfer=hold, actor=actor, occurred_at=NOW)


class TestTransferGroups:
    def _group(self, wallet, cash, actor, n=3):
        group = uuid.uuid4()
        holds = [
            services.transfer_pend(
                debit_account=wallet,
                credit_account=cash,
                amount=100 * (i + 1),
                actor=actor,
                occurred_at=NOW,
                group_id=group,
            )  # fmt: skip
            for i in range(n)
        ]
        return group, holds

    def test_posts_the_whole_group(self, funded_wallet, cash, actor) -> None:
        group, holds = self._group(funded_wallet, cash, actor)

        postings = services.transfer_group_post(group_id=group, actor=actor, occurred_at=NOW)

        assert len(postings) == 3
        assert totals(funded_wallet) == (600, 1000, 0, 0)
        assert set(JournalEntry.objects.filter(group_id=group).values_list("status", flat=True)) == {"posted"}

    def test_group_post_is_atomic_when_one_member_is_no_longer_pending(self, funded_wallet, cash, actor) -> None:
        group, holds = self._group(funded_wallet, cash, actor)
        services.transfer_void(transfer=holds[1], actor=actor, occurred_at=NOW)

        with pytest.raises(TransferNotPending):
            services.transfer_group_post(group_id=group, actor=actor, occurred_at=NOW)

        assert totals(funded_wallet) == (0, 1000, 400, 0)
        assert (
            list(JournalEntry.objects.filter(group_id=group).order_by("pk").values_list("status", flat=True)).count(
                "pending"
            )
            == 2
        )

    def test_voids_the_whole_group(self, funded_wallet, cash, actor) -> None:
        group, _ = self._group(funded_wallet, cash, actor)

        voided = services.transfer_group_void(group_id=group, actor=actor, occurred_at=NOW, reason="batch cancelled")

        assert {hold.status for hold in voided} == {EntryStatus.VOIDED}
        assert totals(funded_wallet) == (0, 1000, 0, 0)


class TestExpiry:
    def test_the_beat_task_voids_holds_past_their_timeout(self, hold, funded_wallet, actor, freezer_now) -> None:
        freezer_now(NOW + timedelta(hours=1, seconds=1))

        assert expire_pending.apply_async(kwargs={}).get() == 1

        assert JournalEntry.objects.get(pk=hold.pk).status == EntryStatus.VOIDED
        assert totals(funded_wallet) == (0, 1000, 0, 0)
        assert len(events("ledger.transfer.expired", object_id=str(hold.pk))) == 1

    def test_holds_not_yet_due_are_left_alone(self, hold, actor) -> None:
        assert services.transfers_expire(now=NOW + timedelta(minutes=59), actor=actor) == 0
        assert JournalEntry.objects.get(pk=hold.pk).status == EntryStatus.PENDING


@pytest.fixture
def freezer_now(monkeypatch):
    def freeze(moment):
        monkeypatch.setattr("ledger.tasks.timezone.now", lambda: moment)

    return freeze
