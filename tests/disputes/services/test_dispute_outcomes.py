from datetime import timedelta

import pytest

from disputes import services
from disputes.choices import Stage, Status
from ledger.models import JournalEntry
from tests.disputes.conftest import NOW, SYSTEM, add_required_evidence, balance, events, refreshed

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(days=40)


def submitted(dispute):
    add_required_evidence(dispute)
    return services.dispute_submit(dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True)


class TestResolve:
    def test_won_releases_the_hold_and_keeps_the_fee(self, dispute, merchant) -> None:
        submitted(dispute)

        result = services.dispute_resolve(dispute=dispute, outcome="won", actor=SYSTEM, occurred_at=LATER)

        assert (result.status, result.outcome_at) == (Status.WON, LATER)
        assert balance(merchant, "payable") == 9700
        assert balance(merchant, "dispute_hold") == 0
        assert balance(merchant, "fees_receivable") == 1500
        assert JournalEntry.objects.get(pk=result.outcome_entry_id).template_name == "dispute_won_release"
        (event,) = events("disputes.dispute.won", object_id=str(dispute.pk))
        assert event.data["before"] == {"status": "under_review", "stage": "chargeback"}
        assert event.data["after"] == {"status": "won", "stage": "chargeback"}
        assert event.data["funds"] == "released"

    def test_lost_moves_the_held_amount_to_issuer_settlement(self, dispute, merchant) -> None:
        issuer_before = balance(None, "issuer_settlement")
        submitted(dispute)

        result = services.dispute_resolve(dispute=dispute, outcome="lost", actor=SYSTEM, occurred_at=LATER)

        assert result.status == Status.LOST
        assert balance(merchant, "payable") == 7200
        assert balance(merchant, "dispute_hold") == 0
        assert balance(merchant, "fees_receivable") == 1500
        assert balance(None, "issuer_settlement") - issuer_before == 2500
        assert JournalEntry.objects.get(pk=result.outcome_entry_id).template_name == "dispute_lost_to_issuer"

    def test_an_unknown_outcome_is_refused(self, dispute) -> None:
        with pytest.raises(services.InvalidDispute):
            services.dispute_resolve(dispute=dispute, outcome="draw", actor=SYSTEM, occurred_at=LATER)


class TestAcceptAndExpire:
    def test_accepting_moves_the_held_amount_to_the_issuer(self, dispute, merchant) -> None:
        result = services.dispute_accept(dispute=dispute, actor=SYSTEM, occurred_at=LATER, acting_directly=True)

        assert result.status == Status.ACCEPTED
        assert (balance(merchant, "payable"), balance(merchant, "dispute_hold")) == (7200, 0)
        (event,) = events("disputes.dispute.accepted", object_id=str(dispute.pk))
        assert event.data["acting_directly"] is True

    def test_expiry_moves_the_held_amount_to_the_issuer(self, dispute, merchant) -> None:
        result = services.dispute_expire(dispute=dispute, actor=SYSTEM, occurred_at=dispute.due_by)

        assert (result.status, result.outcome_at) == (Status.EXPIRED, dispute.due_by)
        outcome = JournalEntry.objects.get(pk=result.outcome_entry_id)
        assert (outcome.template_name, outcome.idempotency_key) == (
            "dispute_lost_to_issuer",
            f"dispute:{dispute.pk}:outcome",
        )
        assert (balance(merchant, "payable"), balance(merchant, "dispute_hold")) == (7200, 0)
        assert len(events("disputes.dispute.expired", object_id=str(dispute.pk))) == 1

    def test_closing_an_inquiry_moves_no_money(self, open_dispute, merchant) -> None:
        inquiry = open_dispute(stage=Stage.INQUIRY, network="amex", reason_code="C08")

        result = services.dispute_expire(dispute=inquiry, actor=SYSTEM, occurred_at=LATER)

        assert (result.status, result.outcome_entry_id) == (Status.EXPIRED, None)
        assert balance(merchant, "payable") == 9700


class TestEscalate:
    def test_escalation_moves_to_the_next_stage_with_new_deadlines(self, dispute, merchant) -> None:
        submitted(dispute)

        result = services.dispute_escalate(dispute=dispute, actor=SYSTEM, occurred_at=LATER, reason="issuer pre-arb")

        assert (result.stage, result.status, result.submitted_at) == (
            Stage.PRE_ARBITRATION,
            Status.NEEDS_RESPONSE,
            None,
        )
        assert (result.network_due_by, result.due_by) == (LATER + timedelta(days=30), LATER + timedelta(days=23))
        assert balance(merchant, "dispute_hold") == 2500  # still held, not held twice
        assert refreshed(dispute).stage_started_at == LATER
        (event,) = events("disputes.dispute.escalated", object_id=str(dispute.pk))
        assert event.data["reason"] == "issuer pre-arb"

    def test_an_inquiry_escalating_to_a_chargeback_holds_the_amount_and_charges_the_fee(
        self, open_dispute, merchant
    ) -> None:
        inquiry = open_dispute(stage=Stage.INQUIRY, network="amex", reason_code="C08")

        result = services.dispute_escalate(dispute=inquiry, actor=SYSTEM, occurred_at=LATER)

        assert result.stage == Stage.CHARGEBACK
        assert (
            balance(merchant, "payable"),
            balance(merchant, "dispute_hold"),
            balance(merchant, "fees_receivable"),
        ) == (
            7200,
            2500,
            1500,
        )


class TestIdempotency:
    def test_replaying_the_ledger_postings_returns_the_same_entries(self, dispute, merchant) -> None:
        again = services._hold_funds(dispute, actor=SYSTEM, occurred_at=NOW)

        assert again["hold_entry"].pk == dispute.hold_entry_id
        assert again["fee_entry"].pk == dispute.fee_entry_id
        assert balance(merchant, "dispute_hold") == 2500
        assert balance(merchant, "fees_receivable") == 1500
