import itertools

import pytest

from disputes import services
from disputes.choices import Stage, Status
from disputes.models import Dispute
from disputes.state_machine import TRANSITIONS, Action, InvalidTransition, allowed_actions, plan
from tests.disputes.conftest import NOW, SYSTEM, balance, refreshed

VISA = {"inquiry": 30, "chargeback": 30, "pre_arbitration": 30, "arbitration": 10}

ALLOWED = {
    (Action.SUBMIT, Status.NEEDS_RESPONSE),
    (Action.ACCEPT, Status.NEEDS_RESPONSE),
    (Action.EXPIRE, Status.NEEDS_RESPONSE),
    (Action.RESOLVE_WON, Status.UNDER_REVIEW),
    (Action.RESOLVE_LOST, Status.UNDER_REVIEW),
    (Action.ESCALATE, Status.UNDER_REVIEW),
}
ILLEGAL = [(a, s) for a, s in itertools.product(Action.ALL, Status.values) if (a, s) not in ALLOWED]


class TestPlan:
    @pytest.mark.parametrize(("action", "status"), ILLEGAL)
    def test_every_illegal_transition_is_refused_with_409(self, action, status) -> None:
        with pytest.raises(InvalidTransition) as refused:
            plan(action, status=status, stage=Stage.CHARGEBACK, response_days=VISA)

        assert (refused.value.code, refused.value.status_code) == ("invalid_transition", 409)

    @pytest.mark.parametrize(("action", "status"), sorted(ALLOWED))
    def test_allowed_transitions_lead_where_the_table_says(self, action, status) -> None:
        step = plan(action, status=status, stage=Stage.CHARGEBACK, response_days=VISA)

        assert step.to_status == TRANSITIONS[action][1]

    def test_escalation_moves_to_the_next_stage_the_code_has(self) -> None:
        mastercard_4870 = {"chargeback": 45, "arbitration": 10}

        assert plan(Action.ESCALATE, status=Status.UNDER_REVIEW, stage="chargeback", response_days=VISA).to_stage == (
            "pre_arbitration"
        )
        assert plan(
            Action.ESCALATE, status=Status.UNDER_REVIEW, stage="chargeback", response_days=mastercard_4870
        ).to_stage == ("arbitration")

    def test_an_unanswered_inquiry_may_escalate_but_an_unanswered_chargeback_may_not(self) -> None:
        step = plan(Action.ESCALATE, status=Status.NEEDS_RESPONSE, stage="inquiry", response_days=VISA)
        assert (step.to_stage, step.to_status) == ("chargeback", Status.NEEDS_RESPONSE)

        with pytest.raises(InvalidTransition):
            plan(Action.ESCALATE, status=Status.NEEDS_RESPONSE, stage="chargeback", response_days=VISA)

    def test_arbitration_cannot_escalate(self) -> None:
        with pytest.raises(InvalidTransition):
            plan(Action.ESCALATE, status=Status.UNDER_REVIEW, stage="arbitration", response_days=VISA)

    def test_allowed_actions_for_the_buttons(self) -> None:
        assert allowed_actions(status=Status.NEEDS_RESPONSE, stage="chargeback", response_days=VISA) == [
            Action.SUBMIT,
            Action.ACCEPT,
            Action.EXPIRE,
        ]
        assert allowed_actions(status=Status.WON, stage="chargeback", response_days=VISA) == []


@pytest.mark.django_db
class TestServicesRefuseIllegalTransitions:
    def test_resolving_a_dispute_that_needs_a_response_changes_nothing(self, dispute, merchant) -> None:
        with pytest.raises(InvalidTransition):
            services.dispute_resolve(dispute=dispute, outcome="won", actor=SYSTEM, occurred_at=NOW)

        after = refreshed(dispute)
        assert (after.status, after.outcome_entry_id) == (Status.NEEDS_RESPONSE, None)
        assert balance(merchant, "dispute_hold") == 2500

    @pytest.mark.parametrize("call", ["accept", "expire", "submit", "escalate", "resolve_lost"])
    def test_a_closed_dispute_refuses_every_action(self, dispute, call) -> None:
        services.dispute_accept(dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True)
        calls = {
            "accept": lambda: services.dispute_accept(
                dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True
            ),
            "expire": lambda: services.dispute_expire(dispute=dispute, actor=SYSTEM, occurred_at=NOW),
            "submit": lambda: services.dispute_submit(
                dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True
            ),
            "escalate": lambda: services.dispute_escalate(dispute=dispute, actor=SYSTEM, occurred_at=NOW),
            "resolve_lost": lambda: services.dispute_resolve(
                dispute=dispute, outcome="lost", actor=SYSTEM, occurred_at=NOW
            ),
        }

        with pytest.raises(InvalidTransition):
            calls[call]()

        assert Dispute.objects.get(pk=dispute.pk).status == Status.ACCEPTED
