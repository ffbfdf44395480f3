from datetime import timedelta

import pytest

from disputes import services
from disputes.choices import Stage, Status
from disputes.models import Dispute
from ledger.models import JournalEntry
from tests.disputes.conftest import NOW, balance, events

pytestmark = pytest.mark.django_db


class TestDisputeOpen:
    def test_opening_a_chargeback_holds_the_amount_and_charges_the_fee(self, open_dispute, merchant) -> None:
        assert balance(merchant, "payable") == 9700  # capture 100.00 less 3.00 processing fee

        dispute = open_dispute(amount=2500)

        assert (dispute.status, dispute.stage, dispute.fee) == (Status.NEEDS_RESPONSE, Stage.CHARGEBACK, 1500)
        assert (dispute.network_due_by, dispute.due_by) == (NOW + timedelta(days=30), NOW + timedelta(days=23))
        assert balance(merchant, "payable") == 7200
        assert balance(merchant, "dispute_hold") == 2500
        assert balance(merchant, "fees_receivable") == 1500
        hold = JournalEntry.objects.get(pk=dispute.hold_entry_id)
        fee = JournalEntry.objects.get(pk=dispute.fee_entry_id)
        assert (hold.template_name, hold.idempotency_source, hold.idempotency_key) == (
            "dispute_open_hold",
            "disputes",
            f"dispute:{dispute.pk}:open",
        )
        assert (fee.template_name, fee.idempotency_key) == ("dispute_fee", f"dispute:{dispute.pk}:fee")
        (opened,) = events("disputes.dispute.opened", object_id=str(dispute.pk))
        assert opened.data["amount"] == 2500
        assert opened.data["fee"] == 1500
        assert opened.data["entries"] == {"hold": str(hold.pk), "fee": str(fee.pk)}
        assert opened.actor_label == "dispute intake"

    def test_the_fee_schedule_comes_from_settings(self, open_dispute, merchant, settings) -> None:
        settings.DISPUTES_FEES = {"visa": {"USD": 2000}}

        dispute = open_dispute()

        assert dispute.fee == 2000
        assert balance(merchant, "fees_receivable") == 2000

    def test_an_inquiry_moves_no_money(self, open_dispute, merchant) -> None:
        dispute = open_dispute(stage=Stage.INQUIRY, network="amex", reason_code="C08")

        assert (dispute.hold_entry_id, dispute.fee_entry_id, dispute.fee) == (None, None, 0)
        assert balance(merchant, "payable") == 9700
        assert dispute.due_by == NOW + timedelta(days=15)

    def test_the_amount_may_equal_but_not_exceed_the_original(self, open_dispute, merchant) -> None:
        with pytest.raises(services.AmountExceedsOriginal) as refused:
            open_dispute(amount=10_001)

        assert refused.value.fields == {"amount": 10_001, "original_amount": 10_000}
        assert not Dispute.objects.exists()
        assert balance(merchant, "payable") == 9700
        assert open_dispute(amount=10_000).amount == 10_000

    def test_the_amount_is_compared_in_the_disputed_currency(self, open_dispute) -> None:
        with pytest.raises(services.AmountExceedsOriginal):
            open_dispute(amount=1, currency_code="EUR")

    def test_one_dispute_per_network_id(self, open_dispute, capture, merchant) -> None:
        open_dispute(network_dispute_id="VD-1")

        with pytest.raises(services.DisputeAlreadyExists) as refused:
            open_dispute(network_dispute_id="VD-1", original_entry=capture(merchant))

        assert refused.value.status_code == 409
        assert Dispute.objects.filter(network_dispute_id="VD-1").count() == 1

    def test_one_open_dispute_per_payment(self, open_dispute) -> None:
        open_dispute()

        with pytest.raises(services.DisputeAlreadyExists):
            open_dispute()

    def test_the_original_must_be_the_merchants(self, open_dispute, capture) -> None:
        from tenants.models import Merchant

        other = Merchant.objects.create(reference="other", name="Other Ltd")

        with pytest.raises(services.InvalidDispute):
            open_dispute(original_entry=capture(other))

    def test_a_dispute_cannot_predate_the_transaction_it_disputes(self, open_dispute) -> None:
        with pytest.raises(services.InvalidDispute, match="before the transaction"):
            open_dispute(occurred_at=NOW - timedelta(seconds=1))

        assert not Dispute.objects.exists()

    def test_non_positive_amounts_are_refused(self, open_dispute) -> None:
        with pytest.raises(services.InvalidDispute):
            open_dispute(amount=0)

    def test_the_reason_code_version_in_force_is_used(self, open_dispute, catalog) -> None:
        from disputes.models import ReasonCode

        first = ReasonCode.objects.get(network="visa", code="13.1", version=1)
        second = ReasonCode.objects.create(
            network="visa", code="13.1", version=2, name=first.name, category=first.category,
            response_days={"chargeback": 25}, required_evidence=first.required_evidence,
            effective_from=NOW.date(),
        )  # fmt: skip

        dispute = open_dispute()

        assert dispute.reason_code_id == second.pk
        assert dispute.network_due_by == NOW + timedelta(days=25)


class TestDatabaseConstraints:
    def test_due_by_after_network_due_by_is_refused_by_the_database(self, dispute) -> None:
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            Dispute.objects.filter(pk=dispute.pk).update(due_by=dispute.network_due_by + timedelta(seconds=1))

    def test_a_zero_amount_is_refused_by_the_database(self, dispute) -> None:
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            Dispute.objects.filter(pk=dispute.pk).update(amount=0)
